"""Composing: templates filled, attachment names short and carrying RFC 2231 and RFC 2047."""

from __future__ import annotations

import email
import email.policy

import pytest

from nianbao.errors import NianbaoError
from nianbao.mail.compose import (Attachment, attachment_filename, compose, render, report_filename, safe_filename,
                                  write_eml)

FIELDS = {"单位名称": "张巷镇人民政府", "截止日期": "2026年1月15日", "联系人": "李明"}


def test_render_fills_chinese_placeholders_and_keeps_literal_braces():
    text = render("{联系人}同志：请{单位名称}于{截止日期}前回复。{{原样}}", FIELDS)
    assert text == "李明同志：请张巷镇人民政府于2026年1月15日前回复。{原样}"


def test_render_names_the_unknown_placeholder_and_lists_the_known_ones():
    with pytest.raises(NianbaoError) as err:
        render("请{单位}回复", FIELDS, where="campaign.toml 的 [mail] body")
    message = str(err.value)
    assert "campaign.toml 的 [mail] body" in message and "{单位}" in message and "{单位名称}" in message
    with pytest.raises(NianbaoError, match="不成对"):
        render("请回复}", FIELDS)


def test_attachment_names_are_short_and_safe():
    assert attachment_filename("A0101", 2025) == "A0101_2025_政务公开年报.xlsx"
    assert safe_filename("../../etc/pass wd.xlsx") == "etc_pass_wd.xlsx"
    long = safe_filename("某" * 200 + ".xlsx")
    assert len(long) <= 80 and long.endswith(".xlsx")


def test_the_unit_sees_its_name_and_the_official_title_on_the_attachment():
    assert report_filename("拖船镇人民政府", 2025) == "拖船镇人民政府2025年政府信息公开工作年度报告（填报模板）.xlsx"
    assert report_filename("../县 教育局", 2025, "标注问题") == "县_教育局2025年政府信息公开工作年度报告（标注问题）.xlsx"
    out = compose(sender="c@x.cn", sender_name="办公室", to="a@x.cn", to_name="甲镇", subject="年报", body="请填写",
                  attachments=[Attachment(report_filename("甲镇", 2025), b"PK")])
    parsed = email.message_from_bytes(out.data, policy=email.policy.default)
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["甲镇2025年政府信息公开工作年度报告（填报模板）.xlsx"]


def test_several_addresses_all_receive_and_no_address_is_refused():
    out = compose(sender="c@x.cn", sender_name="", to=["a@x.cn", "b@y.cn"], to_name="甲镇", subject="s", body="b")
    assert out.recipients == ("a@x.cn", "b@y.cn")
    parsed = email.message_from_bytes(out.data, policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@x.cn", "b@y.cn"]
    with pytest.raises(NianbaoError, match="没有邮箱地址"):
        compose(sender="c@x.cn", sender_name="", to="", to_name="杜市镇人民政府", subject="s", body="b")


def _headers_of_attachment(raw: bytes) -> str:
    head = raw.split(b"Content-Transfer-Encoding: base64", 2)[2] if raw.count(b"base64") > 1 else raw
    return head.split(b"\r\n\r\n", 1)[0].decode("ascii")


def test_message_carries_both_name_encodings_and_reads_back():
    data = b"PK\x03\x04" + bytes(range(256)) * 4
    name = attachment_filename("A0101", 2025)
    out = compose(sender="coord@example.cn", sender_name="测试县政务公开办", to="zx@example.cn",
                  to_name="张巷镇人民政府", subject="【请填报】2025年度政府信息公开工作年度报告——张巷镇人民政府",
                  body="李明同志：\n请填写附件。", attachments=[Attachment(name, data)])
    raw = out.data
    assert raw.isascii(), "7-bit clean: no server needs 8BITMIME"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"filename*0*=utf-8''A0101_2025_%E6%94%BF" in raw  # RFC 2231 on Content-Disposition
    assert b'name="=?utf-8?b?' in raw  # RFC 2047 on Content-Type
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == out.subject and msg["Message-ID"] == out.message_id
    assert out.message_id.endswith("@example.cn>")
    assert msg.get_body().get_content().replace("\r\n", "\n") == "李明同志：\n请填写附件。"
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == name
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert part.get_content() == data
    # The legacy parser (what old clients do) sees the RFC 2047 name on Content-Type.
    legacy = email.message_from_bytes(raw)
    (old,) = [p for p in legacy.walk() if p.get_content_maintype() == "application"]
    words = email.header.decode_header(old.get_param("name"))
    assert b"".join(w for w, _ in words).decode("utf-8") == name


def test_message_without_attachment_is_a_plain_text_message():
    out = compose(sender="coord@example.cn", sender_name="", to="zx@example.cn", to_name="",
                  subject="提醒", body="请尽快回复")
    msg = email.message_from_bytes(out.data, policy=email.policy.default)
    assert msg.get_content_type() == "text/plain" and msg.get_content().strip() == "请尽快回复"
    assert msg["From"] == "coord@example.cn"


def test_eml_draft_holds_exactly_the_bytes_that_would_be_sent(tmp_path):
    out = compose(sender="coord@example.cn", sender_name="办", to="zx@example.cn", to_name="镇",
                  subject="主题", body="正文", attachments=[Attachment("A_2025_年报.xlsx", b"PK\x03\x04x")])
    path = write_eml(out, tmp_path / "outbox" / "A.eml")
    assert path.read_bytes() == out.data
    assert not list(path.parent.glob("*.part"))

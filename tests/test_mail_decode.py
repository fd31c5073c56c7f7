"""Decoding what Chinese mailers send: every non-standard name encoding seen in practice."""

from __future__ import annotations

import base64

import pytest

from nianbao.mail.decode import bytes_text, parse_message

NAME = "喆镕镇_2025_年报.xlsx"  # 喆 and 镕 are in GBK but not in GB2312
WORKBOOK = b"PK\x03\x04 a workbook"


def message(disposition: bytes, content_type: bytes = b"application/octet-stream", subject: bytes = b"x") -> bytes:
    return (b"From: a@example.cn\r\nSubject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--XX\r\nContent-Type: " + content_type + b"\r\nContent-Disposition: " + disposition + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(WORKBOOK) + b"\r\n--XX--\r\n")


def b64(text: str, codec: str) -> bytes:
    return base64.b64encode(text.encode(codec))


def pct(text: str, codec: str) -> bytes:
    return "".join(f"%{b:02X}" for b in text.encode(codec)).encode()


CASES = {
    "RFC 2231 UTF-8": b"attachment; filename*=utf-8''" + pct(NAME, "utf-8"),
    "RFC 2231 labelled gb2312, really GBK": b"attachment; filename*=gb2312''" + pct(NAME, "gbk"),
    "RFC 2047 UTF-8 inside quotes": b'attachment; filename="=?UTF-8?B?' + b64(NAME, "utf-8") + b'?="',
    "RFC 2047 gb2312 label inside quotes": b'attachment; filename="=?gb2312?B?' + b64(NAME, "gbk") + b'?="',
    "raw 8-bit GBK": b'attachment; filename="' + NAME.encode("gbk") + b'"',
    "raw 8-bit UTF-8": b'attachment; filename="' + NAME.encode("utf-8") + b'"',
}


@pytest.mark.parametrize("disposition", CASES.values(), ids=CASES.keys())
def test_attachment_names_decode(disposition):
    (att,) = parse_message(message(disposition)).attachments
    assert (att.filename, att.data) == (NAME, WORKBOOK)
    assert att.looks_like_workbook()


def test_name_only_on_content_type_as_rfc2047_words():
    content_type = b'application/vnd.ms-excel; name="=?GBK?B?' + b64(NAME, "gbk") + b'?="'
    (att,) = parse_message(message(b"attachment", content_type)).attachments
    assert att.filename == NAME


def test_gbk_subject_labelled_gb2312_and_raw_8bit_subject():
    subject = "回复：喆镕镇2025年度报告"
    assert parse_message(message(b"attachment", subject=b"=?gb2312?B?" + b64(subject, "gbk") + b"?=")).subject == subject
    assert parse_message(message(b"attachment", subject=subject.encode("gbk"))).subject == subject


def test_a_name_is_for_display_only_never_a_path():
    (att,) = parse_message(message(b'attachment; filename="..\\\\..\\\\evil/../x\x01y.xlsx"')).attachments
    assert "/" not in att.filename and "\\" not in att.filename and "\x01" not in att.filename


def test_unknown_label_falls_back_to_utf8_then_gb18030():
    assert bytes_text("年报".encode("gbk"), "x-unheard-of") == "年报"
    assert bytes_text("年报".encode("utf-8"), None) == "年报"


def test_message_without_attachment_has_none():
    raw = b"From: a@example.cn\r\nSubject: =?utf-8?b?" + b64("已收到", "utf-8") + b"?=\r\n\r\nok\r\n"
    parsed = parse_message(raw)
    assert parsed.subject == "已收到" and parsed.attachments == [] and parsed.sender_address == "a@example.cn"


def test_a_signature_picture_in_the_body_is_not_an_attachment():
    logo = (b"--XX\r\nContent-Type: image/png; name=\"image001.png\"\r\nContent-ID: <image001.png@01DA>\r\n"
            b"Content-Disposition: inline; filename=\"image001.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"\x89PNG logo") + b"\r\n")
    raw = message(b'attachment; filename="a.xlsx"').replace(b"--XX--", logo + b"--XX--")
    assert [a.filename for a in parse_message(raw).attachments] == ["a.xlsx"]
    sent_as_file = raw.replace(b"inline; filename=\"image001.png\"", b"attachment; filename=\"image001.png\"")
    assert [a.filename for a in parse_message(sent_as_file).attachments] == ["a.xlsx", "image001.png"]

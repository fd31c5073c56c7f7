"""Sending over a real SMTP server (aiosmtpd on 127.0.0.1) and reading back what it captured."""

from __future__ import annotations

import os

import pytest
from mailservers import CapturingHandler, free_port, smtp_server

from nianbao.errors import NianbaoError
from nianbao.mail.compose import Attachment, attachment_filename, compose
from nianbao.mail.decode import parse_message
from nianbao.mail.smtp import SmtpSender, SmtpSettings, resolve_password


@pytest.fixture(scope="module")
def templates(tmp_path_factory, fmt2021):
    """Two real locked templates, as the campaign's outbox holds them."""
    from nianbao.template import make_template

    out = tmp_path_factory.mktemp("outbox")
    paths = {}
    for code, name in (("A01", "张巷镇人民政府"), ("B02", "丰城市教育局")):
        path = out / f"{code}.xlsx"
        make_template(fmt2021, {"name": name, "code": code}, 2025, path)
        paths[code] = path
    return paths


def outgoing(code: str, path, to: str):
    return compose(sender="coord@example.cn", sender_name="测试县政务公开办", to=to, to_name="张巷镇人民政府",
                   subject=f"【请填报】2025年度政府信息公开工作年度报告——{code}", body="请填写附件。",
                   attachments=[Attachment(attachment_filename(code, 2025), path.read_bytes())])


def test_sent_attachments_arrive_byte_identical(smtp, templates):
    settings = SmtpSettings.from_mapping(smtp.settings())
    sent = {}
    with SmtpSender(settings, smtp.password) as sender:
        for code, path in templates.items():
            out = outgoing(code, path, f"{code.lower()}@example.cn")
            result = sender.send(out.data, out.recipients)
            assert result.ok and result.attempts == 1
            sent[out.message_id] = (code, path)
    assert len(smtp.messages) == 2
    for captured in smtp.messages:
        parsed = parse_message(captured.data)
        code, path = sent[parsed.message_id]
        assert captured.rcpt_tos == [f"{code.lower()}@example.cn"] and captured.mail_from == "coord@example.cn"
        assert parsed.subject.endswith(code)
        (att,) = parsed.attachments
        assert att.filename == f"{code}_2025_政务公开年报.xlsx"
        assert att.data == path.read_bytes()


def test_wrong_password_is_one_chinese_line_naming_the_server(smtp):
    settings = SmtpSettings.from_mapping(smtp.settings())
    with pytest.raises(NianbaoError) as err:
        SmtpSender(settings, "wrong-password-xyz").open()
    message = str(err.value)
    assert "\n" not in message and f"127.0.0.1:{smtp.port}" in message and "登录" in message
    assert "wrong-password-xyz" not in message


def test_connection_refused_is_one_chinese_line_naming_the_server():
    port = free_port()  # nothing listens there
    settings = SmtpSettings.from_mapping({"host": "127.0.0.1", "port": port, "security": "plain", "timeout": 5})
    with pytest.raises(NianbaoError) as err:
        SmtpSender(settings, None).open()
    assert str(err.value) == f"无法连接发信服务器 127.0.0.1:{port}：服务器拒绝连接，请检查地址和端口"


def test_starttls_against_a_server_without_it_says_so(smtp):
    settings = SmtpSettings.from_mapping(smtp.settings(security="starttls"))
    with pytest.raises(NianbaoError, match=f"127.0.0.1:{smtp.port}.*STARTTLS"):
        SmtpSender(settings, smtp.password).open()


def test_temporary_failure_is_retried_with_backoff_then_succeeds(templates):
    replies = {1: "451 4.3.0 try again later", 2: "421 4.3.0 busy"}
    handler = CapturingHandler(on_data=lambda n: replies.get(n))
    waits: list[float] = []
    with smtp_server(handler=handler) as server:
        settings = SmtpSettings.from_mapping(server.settings())
        out = outgoing("A01", templates["A01"], "a01@example.cn")
        with SmtpSender(settings, server.password, retries=3, backoff=0.5, sleep=waits.append) as sender:
            result = sender.send(out.data, out.recipients)
    assert result.ok and result.attempts == 3
    assert waits == [0.5, 1.0]
    assert len(server.messages) == 1


def test_permanent_refusal_is_reported_for_that_message_and_the_next_still_goes(templates):
    handler = CapturingHandler(on_data=lambda n: "550 5.1.1 mailbox unavailable" if n == 1 else None)
    with smtp_server(handler=handler) as server:
        settings = SmtpSettings.from_mapping(server.settings())
        with SmtpSender(settings, server.password, retries=3, backoff=0, sleep=lambda s: None) as sender:
            first = sender.send(outgoing("A01", templates["A01"], "a@example.cn").data, ["a@example.cn"])
            second = sender.send(outgoing("B02", templates["B02"], "b@example.cn").data, ["b@example.cn"])
    assert not first.ok and first.attempts == 1 and "550" in first.detail
    assert second.ok and len(server.messages) == 1


def test_settings_problems_name_the_key():
    with pytest.raises(NianbaoError, match="host"):
        SmtpSettings.from_mapping({"port": 25})
    with pytest.raises(NianbaoError, match="security"):
        SmtpSettings.from_mapping({"host": "mail.example.cn", "security": "tls1.3"})
    with pytest.raises(NianbaoError, match="password"):
        SmtpSettings.from_mapping({"host": "mail.example.cn", "password": "never in a file"})
    assert SmtpSettings.from_mapping({"host": "mail.example.cn", "port": 465}).security == "ssl"
    assert SmtpSettings.from_mapping({"host": "mail.example.cn"}).port == 587


def test_password_comes_from_the_environment_or_a_prompt():
    assert resolve_password("NB_PW", server="s:25", user="u", environ={"NB_PW": "from-env"}) == "from-env"
    asked = []
    got = resolve_password("NB_PW", server="s:25", user="u", environ={}, ask=lambda p: asked.append(p) or "typed")
    assert got == "typed" and "s:25" in asked[0]
    with pytest.raises(NianbaoError, match="NB_PW"):
        resolve_password("NB_PW", server="s:25", user="u", environ={}, interactive=False)
    assert "NB_PW" not in os.environ

"""SMTP and IMAP over real TLS: STARTTLS and implicit TLS against servers on 127.0.0.1 with a
certificate from a test CA. A coordinator's 政务邮箱 often has its own CA (``ca_file``); without
it the certificate must be refused with one clear line, never sent over in the clear."""

from __future__ import annotations

import pytest
from mailservers import dovecot_server, smtp_server

from nianbao.errors import NianbaoError
from nianbao.mail.compose import Attachment, compose
from nianbao.mail.decode import parse_message
from nianbao.mail.imap import ImapSettings, MemoryUidStore, fetch_new
from nianbao.mail.smtp import SmtpSender, SmtpSettings

WORKBOOK = b"PK\x03\x04" + bytes(range(256)) * 8


def message(subject: str):
    return compose(sender="coord@example.cn", sender_name="测试县政务公开办", to="zx@example.cn", to_name="张巷镇",
                   subject=subject, body="请填写附件。", attachments=[Attachment("A01_2025_政务公开年报.xlsx", WORKBOOK)])


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_over_tls_with_the_servers_ca_delivers(tls_certs, security):
    with smtp_server(tls=security, certs=tls_certs) as server:
        settings = SmtpSettings.from_mapping(server.settings(security=security, ca_file=str(tls_certs.ca)))
        out = message(f"【请填报】{security}")
        with SmtpSender(settings, server.password) as sender:
            assert sender.send(out.data, out.recipients).ok
        (captured,) = server.messages
        parsed = parse_message(captured.data)
        assert parsed.subject == f"【请填报】{security}" and parsed.attachments[0].data == WORKBOOK


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_certificate_from_an_unknown_ca_is_refused_in_one_line(tls_certs, security):
    with smtp_server(tls=security, certs=tls_certs) as server:
        settings = SmtpSettings.from_mapping(server.settings(security=security, timeout=5))
        with pytest.raises(NianbaoError) as err:
            SmtpSender(settings, server.password, retries=0).open()
        text = str(err.value)
        assert server.settings()["host"] in text and str(server.port) in text and "证书无法验证" in text
        assert "\n" not in text and server.password not in text and server.messages == []


def test_smtp_plain_login_to_a_server_that_demands_starttls_is_refused(tls_certs):
    with smtp_server(tls="starttls", certs=tls_certs) as server:
        settings = SmtpSettings.from_mapping(server.settings(security="plain", timeout=5))
        with pytest.raises(NianbaoError, match="security") as err:
            SmtpSender(settings, server.password, retries=0).open()
        assert server.password not in str(err.value)


@pytest.fixture(scope="module")
def dovecot_tls(tls_certs):
    with dovecot_server(certs=tls_certs) as server:
        yield server


def _imap(server, **overrides) -> ImapSettings:
    return ImapSettings.from_mapping(server.settings(**overrides))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_imap_over_tls_with_the_servers_ca_fetches(dovecot_tls, security):
    folder = dovecot_tls.new_folder()
    uid = dovecot_tls.append(folder, message(f"回复：{security}").data)
    port = dovecot_tls.ssl_port if security == "ssl" else dovecot_tls.port
    settings = _imap(dovecot_tls, folder=folder, security=security, port=port, ca_file=dovecot_tls.ca_file)
    got = []
    report = fetch_new(settings, dovecot_tls.password, MemoryUidStore(), got.append)
    assert report.fetched == 1 and [m.uid for m in got] == [uid]
    assert parse_message(got[0].raw).attachments[0].data == WORKBOOK


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_imap_certificate_from_an_unknown_ca_is_refused_in_one_line(dovecot_tls, security):
    port = dovecot_tls.ssl_port if security == "ssl" else dovecot_tls.port
    settings = _imap(dovecot_tls, security=security, port=port, timeout=5)
    with pytest.raises(NianbaoError) as err:
        fetch_new(settings, dovecot_tls.password, MemoryUidStore(), lambda m: None)
    text = str(err.value)
    assert f"127.0.0.1:{port}" in text and "证书无法验证" in text and "\n" not in text

"""Fetching replies from a real Dovecot IMAP server, only what is new, and decoding them."""

from __future__ import annotations

import base64

import pytest
from mailservers import dovecot_server, free_port

from nianbao.errors import NianbaoError
from nianbao.mail.compose import Attachment, compose
from nianbao.mail.decode import parse_message
from nianbao.mail.imap import ImapSettings, MemoryUidStore, SqliteUidStore, fetch_new

WORKBOOK = b"PK\x03\x04" + bytes(range(256)) * 20  # stands for a filled .xlsx (content, not name, matters)
SECOND = b"PK\x03\x04 second workbook" * 10
PDF = b"%PDF-1.4 scanned letter"


def b64(text: str, codec: str = "utf-8") -> bytes:
    return base64.b64encode(text.encode(codec))


def reply(subject: str, *attachments: Attachment, sender: str = "zx@example.cn") -> bytes:
    return compose(sender=sender, sender_name="张巷镇", to="coord@example.cn", to_name="", subject=subject,
                   body="已填好，请查收。", attachments=attachments).data


def raw_reply(subject_header: bytes, disposition: bytes, data: bytes) -> bytes:
    """A reply written the way some Chinese mailers do it, header bytes exactly as given."""
    return (b"From: zx@example.cn\r\nTo: coord@example.cn\r\nSubject: " + subject_header + b"\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64("见附件", "gbk") + b"\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: " + disposition + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(data).replace(b"\n", b"\r\n") + b"--b1--\r\n")


#: (raw message, expected subject, expected [(name, bytes)])
REPLIES = [
    (reply("回复：年报", Attachment("A01_2025_政务公开年报.xlsx", WORKBOOK)), "回复：年报",
     [("A01_2025_政务公开年报.xlsx", WORKBOOK)]),
    (reply("两个附件", Attachment("表一.xlsx", WORKBOOK), Attachment("表二.xlsx", SECOND)), "两个附件",
     [("表一.xlsx", WORKBOOK), ("表二.xlsx", SECOND)]),
    (raw_reply(b"=?GBK?B?" + b64("回复：喆镕镇年报", "gbk") + b"?=",
               b"attachment; filename*=utf-8''" + "喆镕.xlsx".encode().hex("%").upper().join(["%", ""]).encode(),
               WORKBOOK), "回复：喆镕镇年报", [("喆镕.xlsx", WORKBOOK)]),
    (raw_reply(b"rfc2047 in quotes", b'attachment; filename="=?gb2312?B?' + b64("喆镕镇年报.xlsx", "gbk") + b'?="',
               WORKBOOK), "rfc2047 in quotes", [("喆镕镇年报.xlsx", WORKBOOK)]),
    (reply("扫描件", Attachment("盖章页.pdf", PDF, "application", "pdf")), "扫描件", [("盖章页.pdf", PDF)]),
    (reply("没有附件"), "没有附件", []),
]


def settings(server, folder: str) -> ImapSettings:
    return ImapSettings.from_mapping(server.settings(folder))


def collect(server, folder, store):
    got = []
    report = fetch_new(settings(server, folder), server.password, store, got.append)
    return report, got


def test_every_kind_of_reply_decodes(dovecot):
    folder = dovecot.new_folder()
    for raw, _, _ in REPLIES:
        dovecot.append(folder, raw)
    report, got = collect(dovecot, folder, MemoryUidStore())
    assert report.fetched == len(REPLIES) and not report.reset
    assert [m.raw for m in got] == [raw for raw, _, _ in REPLIES]  # byte for byte as stored
    for message, (_, subject, attachments) in zip(got, REPLIES):
        parsed = parse_message(message.raw)
        assert parsed.subject == subject
        assert [(a.filename, a.data) for a in parsed.attachments] == attachments
    kinds = [[a.looks_like_workbook() for a in parse_message(m.raw).attachments] for m in got]
    assert kinds == [[True], [True, True], [True], [True], [False], []]


def test_a_second_fetch_gets_only_new_mail(dovecot, tmp_path):
    folder = dovecot.new_folder()
    first_uid = dovecot.append(folder, REPLIES[0][0])
    store = SqliteUidStore(tmp_path / "positions.sqlite")
    report, got = collect(dovecot, folder, store)
    assert [m.uid for m in got] == [first_uid] and report.last_uid == first_uid
    assert collect(dovecot, folder, store)[1] == []  # nothing new
    new_uid = dovecot.append(folder, REPLIES[1][0])
    store.close()
    store = SqliteUidStore(tmp_path / "positions.sqlite")  # survives a restart
    report, got = collect(dovecot, folder, store)
    assert [m.uid for m in got] == [new_uid] and not report.reset


def test_a_changed_uidvalidity_fetches_the_folder_again(dovecot):
    folder = dovecot.new_folder()
    dovecot.append(folder, REPLIES[0][0])
    store = MemoryUidStore()
    before, _ = collect(dovecot, folder, store)
    # The folder is recreated (as after a server migration): old UIDs mean nothing now.
    dovecot.delete(folder)
    dovecot.create(folder)
    dovecot.append(folder, REPLIES[0][0])
    dovecot.append(folder, REPLIES[1][0])
    assert dovecot.uidvalidity(folder) != before.uidvalidity
    report, got = collect(dovecot, folder, store)
    assert report.reset and len(got) == 2


def test_a_failing_handler_leaves_the_message_for_the_next_run(dovecot):
    folder = dovecot.new_folder()
    for raw, _, _ in REPLIES[:3]:
        dovecot.append(folder, raw)
    store = MemoryUidStore()
    seen = []

    def crash_on_second(message):
        if len(seen) == 1:
            raise RuntimeError("killed")
        seen.append(message.uid)

    with pytest.raises(RuntimeError):
        fetch_new(settings(dovecot, folder), dovecot.password, store, crash_on_second)
    _, got = collect(dovecot, folder, store)
    assert [m.uid for m in got] == [seen[0] + 1, seen[0] + 2]


def test_a_chinese_folder_name(dovecot):
    folder = "年报回复"
    dovecot.create(folder)
    dovecot.append(folder, REPLIES[0][0])
    _, got = collect(dovecot, folder, MemoryUidStore())
    assert len(got) == 1


def test_messages_over_the_limit_are_reported_not_downloaded(dovecot):
    folder = dovecot.new_folder()
    dovecot.append(folder, REPLIES[0][0])
    got = []
    report = fetch_new(settings(dovecot, folder), dovecot.password, MemoryUidStore(), got.append, max_bytes=1000)
    assert report.too_large == 1 and got[0].raw is None and got[0].size > 1000


def test_fetch_leaves_messages_unread(dovecot):
    folder = dovecot.new_folder()
    dovecot.append(folder, REPLIES[0][0])
    collect(dovecot, folder, MemoryUidStore())
    with dovecot.client() as conn:
        conn.select(f'"{folder}"', readonly=True)
        typ, data = conn.search(None, "UNSEEN")
    assert data[0].split() == [b"1"]


def test_wrong_password_is_one_chinese_line_naming_the_server(dovecot):
    bad = ImapSettings.from_mapping(dovecot.settings())
    with pytest.raises(NianbaoError) as err:
        fetch_new(bad, "not-the-password", MemoryUidStore(), lambda m: None)
    message = str(err.value)
    assert message == f"收信服务器 127.0.0.1:{dovecot.port} 拒绝了用户 {dovecot.user} 的登录：用户名或密码（授权码）不对"
    assert "not-the-password" not in message


def test_a_non_ascii_password_is_sent_as_utf8_not_a_crash(dovecot):
    with pytest.raises(NianbaoError, match="拒绝了用户"):
        fetch_new(settings(dovecot, "INBOX"), "错误的口令", MemoryUidStore(), lambda m: None)
    with dovecot_server(password="授权码ａｂｃ") as server:  # a server of its own with such a password
        report = fetch_new(settings(server, "INBOX"), "授权码ａｂｃ", MemoryUidStore(), lambda m: None)
    assert report.fetched == 0 and report.uidvalidity > 0


def test_a_missing_folder_is_named(dovecot):
    with pytest.raises(NianbaoError, match="没有邮件夹“不存在的文件夹”"):
        fetch_new(settings(dovecot, "不存在的文件夹"), dovecot.password, MemoryUidStore(), lambda m: None)


def test_connection_refused_is_one_chinese_line_naming_the_server():
    port = free_port()
    s = ImapSettings.from_mapping({"host": "127.0.0.1", "port": port, "security": "plain", "user": "u"})
    with pytest.raises(NianbaoError) as err:
        fetch_new(s, "x", MemoryUidStore(), lambda m: None)
    assert str(err.value) == f"无法连接收信服务器 127.0.0.1:{port}：服务器拒绝连接，请检查地址和端口"


def test_ssl_against_a_plain_server_says_so(dovecot):
    s = ImapSettings.from_mapping(dovecot.settings(security="ssl", timeout=5))
    with pytest.raises(NianbaoError, match=f"无法连接收信服务器 127.0.0.1:{dovecot.port}：加密连接失败"):
        fetch_new(s, dovecot.password, MemoryUidStore(), lambda m: None)


"""Fetch new messages from one IMAP folder, remembering where the last run stopped.

IMAP gives every message in a folder a UID that only grows, valid as long as the folder's
UIDVALIDITY stays the same. We keep ``(UIDVALIDITY, highest UID handled)`` per account and
folder in a :class:`UidStore` and, on the next run, ask only for UIDs above it. When the
server reports a different UIDVALIDITY (the folder was recreated or the server migrated),
old UIDs mean nothing any more and the whole folder is fetched again; the campaign's collect
recognises what it already has by content hash, so nothing is counted twice.

The position is saved after each message has been handled, so a run killed halfway fetches
the rest next time. The folder is opened read-only and bodies are fetched with BODY.PEEK, so
the coordinator's mail client still shows the replies as unread.
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from nianbao.errors import NianbaoError
from nianbao.mail.settings import settings_fields
from nianbao.mail.smtp import describe_connect_error, tls_context

DEFAULT_PORTS = {"starttls": 143, "ssl": 993, "plain": 143}
#: Messages larger than this are not downloaded; the handler is told their size instead.
DEFAULT_MAX_BYTES = 150 * 1024 * 1024


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str = "ssl"
    user: str = ""
    folder: str = "INBOX"
    password_env: str = "NIANBAO_IMAP_PASSWORD"
    timeout: float = 60.0
    ca_file: str = ""

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def state_key(self) -> str:
        """Which UID sequence a stored position belongs to: account, server and folder."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str = "[imap]") -> ImapSettings:
        return cls(**settings_fields(cls, data, where, DEFAULT_PORTS))


class UidStore(Protocol):
    """Where the last handled UID is kept (the campaign ledger implements this too)."""

    def load(self, key: str) -> tuple[int, int] | None:
        """``(uidvalidity, last_uid)`` saved for ``key``, or None before the first fetch."""

    def save(self, key: str, uidvalidity: int, last_uid: int) -> None:
        """Remember the position durably before returning."""


@dataclass
class MemoryUidStore:
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def load(self, key: str) -> tuple[int, int] | None:
        return self.positions.get(key)

    def save(self, key: str, uidvalidity: int, last_uid: int) -> None:
        self.positions[key] = (uidvalidity, last_uid)


class SqliteUidStore:
    """Positions in a small SQLite file of their own (for use outside a campaign)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS imap_positions (key TEXT PRIMARY KEY, "
                        "uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, updated_at TEXT NOT NULL)")

    def load(self, key: str) -> tuple[int, int] | None:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM imap_positions WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def save(self, key: str, uidvalidity: int, last_uid: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO imap_positions VALUES (?, ?, ?, ?)",
                        (key, uidvalidity, last_uid, dt.datetime.now().astimezone().isoformat(timespec="seconds")))

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    uidvalidity: int
    size: int
    raw: bytes | None  # None: larger than the limit, not downloaded


@dataclass
class FetchReport:
    server: str
    folder: str
    uidvalidity: int
    reset: bool  # UIDVALIDITY changed since last time: the whole folder was fetched again
    fetched: int = 0
    too_large: int = 0
    last_uid: int = 0


def mailbox_name(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 §5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + raw.decode("ascii") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapClient:
    """One logged-in IMAP session; use as a context manager."""

    def __init__(self, settings: ImapSettings, password: str | None) -> None:
        self.settings = settings
        self._password = password
        self.conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapClient:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        s = self.settings
        try:
            if s.security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=tls_context(s.ca_file),
                                                        timeout=s.timeout)
            else:
                conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(ssl_context=tls_context(s.ca_file))
        except (OSError, imaplib.IMAP4.error) as err:
            raise NianbaoError(f"无法连接收信服务器 {s.server}：{_connect_reason(err)}") from None
        try:
            _login(conn, s.user, self._password or "")
        except imaplib.IMAP4.error:
            _logout(conn)
            raise NianbaoError(f"收信服务器 {s.server} 拒绝了用户 {s.user} 的登录：用户名或密码（授权码）不对") from None
        except OSError as err:
            _logout(conn)
            raise NianbaoError(f"登录收信服务器 {s.server} 失败：{_connect_reason(err)}") from None
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            _logout(self.conn)
            self.conn = None

    def fetch_new(self, store: UidStore, handle: Callable[[FetchedMessage], None],
                  max_bytes: int = DEFAULT_MAX_BYTES) -> FetchReport:
        """Hand every message newer than the saved position to ``handle``, oldest first.

        The position is saved after each ``handle`` returns; if ``handle`` raises, the message
        is fetched again next time.
        """
        conn = self._require()
        s = self.settings
        try:
            typ, _ = conn.select(mailbox_name(s.folder), readonly=True)
            if typ != "OK":
                raise NianbaoError(f"收信服务器 {s.server} 上没有邮件夹“{s.folder}”，请检查 [imap] 的 folder 设置")
            validity = int(conn.response("UIDVALIDITY")[1][0])
            saved = store.load(s.state_key)
            reset = saved is not None and saved[0] != validity
            last = saved[1] if saved is not None and not reset else 0
            report = FetchReport(s.server, s.folder, validity, reset, last_uid=last)
            sizes = self._sizes_after(last)
            for uid in sorted(sizes):
                size = sizes[uid]
                raw = None if size > max_bytes else self._body(uid)
                if raw is None:
                    report.too_large += 1
                else:
                    report.fetched += 1
                handle(FetchedMessage(uid, validity, size, raw))
                store.save(s.state_key, validity, uid)
                report.last_uid = uid
            if saved is None or reset:
                store.save(s.state_key, validity, report.last_uid)
            return report
        except imaplib.IMAP4.abort as err:
            raise NianbaoError(f"收信服务器 {s.server} 中断了连接：{err}；再次运行会从中断处继续") from None
        except (OSError, imaplib.IMAP4.error) as err:
            raise NianbaoError(f"从收信服务器 {s.server} 取信失败：{_connect_reason(err)}；再次运行会从中断处继续") from None

    def _sizes_after(self, last: int) -> dict[int, int]:
        conn = self._require()
        typ, data = conn.uid("SEARCH", None, f"UID {last + 1}:*")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"SEARCH {typ}")
        # "n:*" always matches the highest UID even when it is below n, hence the filter.
        uids = [int(u) for chunk in data if chunk for u in chunk.split() if int(u) > last]
        if not uids:
            return {}
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), 500):  # keep command lines short on big folders
            batch = ",".join(str(u) for u in uids[start:start + 500])
            typ, data = conn.uid("FETCH", batch, "(RFC822.SIZE)")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"FETCH {typ}")
            for item in data:
                line = item[0] if isinstance(item, tuple) else item
                if not line:
                    continue
                m_uid = re.search(rb"UID (\d+)", line)
                m_size = re.search(rb"RFC822\.SIZE (\d+)", line)
                if m_uid and m_size:
                    sizes[int(m_uid.group(1))] = int(m_size.group(1))
        return sizes

    def _body(self, uid: int) -> bytes:
        conn = self._require()
        typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"FETCH {typ}")
        for item in data:
            if isinstance(item, tuple) and re.search(rb"UID %d\b" % uid, item[0]):
                return item[1]
        for item in data:  # some servers put UID after the literal
            if isinstance(item, tuple):
                return item[1]
        raise imaplib.IMAP4.error(f"message UID {uid} vanished")

    def _require(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise RuntimeError("ImapClient is not open")
        return self.conn


def fetch_new(settings: ImapSettings, password: str | None, store: UidStore,
              handle: Callable[[FetchedMessage], None], max_bytes: int = DEFAULT_MAX_BYTES) -> FetchReport:
    """Connect, log in, hand every new message to ``handle``, log out."""
    with ImapClient(settings, password) as client:
        return client.fetch_new(store, handle, max_bytes)


def _login(conn: imaplib.IMAP4, user: str, password: str) -> None:
    """imaplib sends LOGIN arguments as ASCII and crashes on anything else; a password or 授权码
    with a Chinese or full-width character goes as AUTHENTICATE PLAIN in UTF-8 (RFC 4616)."""
    if user.isascii() and password.isascii():
        conn.login(user, password)
        return
    token = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
    conn.authenticate("PLAIN", lambda _challenge: token)


def _connect_reason(err: BaseException) -> str:
    if isinstance(err, imaplib.IMAP4.error) and not isinstance(err, imaplib.IMAP4.abort):
        return f"服务器回复错误（{err}）"
    if isinstance(err, imaplib.IMAP4.abort):
        return "服务器断开了连接，请检查 security（starttls/ssl/plain）与端口是否匹配"
    return describe_connect_error(err)


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        try:
            conn.shutdown()
        except OSError:
            pass


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_PORTS", "FetchReport", "FetchedMessage", "ImapClient", "ImapSettings",
           "MemoryUidStore", "SqliteUidStore", "UidStore", "fetch_new", "mailbox_name"]

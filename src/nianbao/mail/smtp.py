"""Send composed messages over SMTP (STARTTLS, SSL or plain), with retries per message.

The password never comes from a file: it is read from an environment variable named in the
settings, or asked for at the terminal. It is never logged and never part of an error text.

Failures are split in two kinds. Opening the connection or logging in fails for every
message alike, so it raises :class:`NianbaoError` with one Chinese line naming the server.
A failure while sending one message is retried with exponential backoff (reconnecting when
the server hung up) and then reported for that message only, so the caller goes on with the
rest.
"""

from __future__ import annotations

import base64
import getpass
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nianbao.errors import NianbaoError
from nianbao.mail.settings import SECURITY, settings_fields

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "plain": 25}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"  # one of SECURITY
    user: str = ""
    sender: str = ""  # the From address; defaults to user
    sender_name: str = ""
    password_env: str = "NIANBAO_SMTP_PASSWORD"
    timeout: float = 30.0
    ca_file: str = ""  # an extra CA certificate (a 政务 mail server with its own CA)

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def from_address(self) -> str:
        return self.sender or self.user

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str = "[smtp]") -> SmtpSettings:
        """Settings from a TOML table; every problem is one Chinese line naming the key."""
        return cls(**settings_fields(cls, data, where, DEFAULT_PORTS))


def resolve_password(env_name: str, *, server: str, user: str, interactive: bool = True,
                     environ: Mapping[str, str] | None = None,
                     ask: Callable[[str], str] = getpass.getpass) -> str:
    """The password from ``$env_name``, else asked at the terminal (never echoed, never stored)."""
    environ = os.environ if environ is None else environ
    value = environ.get(env_name)
    if value:
        return value
    if not interactive:
        raise NianbaoError(f"缺少 {server} 的密码：请设置环境变量 {env_name}（密码不写入任何文件）")
    return ask(f"请输入 {user}@{server} 的密码（或授权码）：")


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def describe_connect_error(err: BaseException) -> str:
    """A short Chinese reason for a failed connection (never includes credentials)."""
    if isinstance(err, ConnectionRefusedError):
        return "服务器拒绝连接，请检查地址和端口"
    if isinstance(err, socket.gaierror):
        return "找不到该服务器，请检查服务器地址"
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "连接超时，请检查网络和端口"
    if isinstance(err, ssl.SSLCertVerificationError):
        return "服务器证书无法验证，请检查服务器地址或在设置中指定 ca_file"
    if isinstance(err, ssl.SSLError):
        return "加密连接失败，请检查 security（starttls/ssl/plain）与端口是否匹配"
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return "服务器不支持 STARTTLS，请改用 ssl 或确认端口"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return "服务器断开了连接，请检查 security（starttls/ssl/plain）与端口是否匹配"
    if isinstance(err, OSError):
        return f"网络错误（{err.strerror or type(err).__name__}）"
    return type(err).__name__


@dataclass
class SendResult:
    ok: bool
    attempts: int
    detail: str = ""  # Chinese, for the per-unit report


class SmtpSender:
    """One SMTP session for many messages; reconnects when the server drops the line."""

    def __init__(self, settings: SmtpSettings, password: str | None, *, retries: int = 3,
                 backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._password = password
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect and log in; failures raise NianbaoError naming the server."""
        s = self.settings
        try:
            if s.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                      context=tls_context(s.ca_file))
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.ehlo()
                    conn.starttls(context=tls_context(s.ca_file))
                    conn.ehlo()
        except (OSError, smtplib.SMTPException) as err:
            raise NianbaoError(f"无法连接发信服务器 {s.server}：{describe_connect_error(err)}") from None
        if s.user:
            try:
                _login(conn, s.user, self._password or "")
            except smtplib.SMTPAuthenticationError:
                _quit(conn)
                raise NianbaoError(f"发信服务器 {s.server} 拒绝了用户 {s.user} 的登录：用户名或密码（授权码）不对") from None
            except smtplib.SMTPNotSupportedError:
                _quit(conn)
                raise NianbaoError(f"发信服务器 {s.server} 不接受登录：请检查 security 设置，"
                                   "多数服务器只在加密连接上允许登录") from None
            except (OSError, smtplib.SMTPException) as err:
                _quit(conn)
                raise NianbaoError(f"登录发信服务器 {s.server} 失败：{describe_connect_error(err)}") from None
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            _quit(self._conn)
            self._conn = None

    def send(self, data: bytes, recipients: tuple[str, ...] | list[str], sender: str | None = None) -> SendResult:
        """Send one message's bytes; retried with backoff 1×, 2×, 4×…; never raises for it."""
        sender = sender or self.settings.from_address
        last = ""
        for attempt in range(1, self.retries + 2):
            try:
                if self._conn is None:
                    self.open()
                assert self._conn is not None
                refused = self._conn.sendmail(sender, list(recipients), data)
                if refused:  # some recipients refused, others accepted: report, do not resend
                    return SendResult(False, attempt, "收件人被拒：" + "、".join(refused))
                return SendResult(True, attempt)
            except smtplib.SMTPRecipientsRefused as err:
                codes = {code for code, _ in err.recipients.values()}
                last = "收件人地址被服务器拒收：" + "、".join(err.recipients)
                if all(code >= 500 for code in codes):
                    return SendResult(False, attempt, last)  # permanent: retrying cannot help
            except smtplib.SMTPResponseException as err:
                last = f"服务器回复 {err.smtp_code}：{_text(err.smtp_error)}"
                if 500 <= err.smtp_code < 600:  # permanent by definition (RFC 5321 §4.2.1)
                    return SendResult(False, attempt, last)
                self.close()
            except NianbaoError as err:  # reconnecting failed
                last = str(err)
            except (OSError, smtplib.SMTPException) as err:
                last = describe_connect_error(err)
                self.close()  # the session is in an unknown state: start a new one
            if attempt <= self.retries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        return SendResult(False, self.retries + 1, last)


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII and crashes on anything else; a 授权码 or
    password with a Chinese or full-width character goes as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if user.isascii() and password.isascii():
        conn.login(user, password)
        return
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, reply = conn.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


__all__ = ["DEFAULT_PORTS", "SECURITY", "SendResult", "SmtpSender", "SmtpSettings", "describe_connect_error",
           "resolve_password", "tls_context"]

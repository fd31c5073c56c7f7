"""Real mail servers on 127.0.0.1 for the mail tests.

- :func:`smtp_server` starts an aiosmtpd SMTP server that captures every message it accepts.
  It can demand a login, and it can be told to refuse messages after the N-th or to call a
  hook (e.g. kill the sending process) when a given message arrives.
- :func:`dovecot_server` starts a real Dovecot IMAP server (Debian's dovecot-imapd) from a
  configuration written into a temporary folder: its own base_dir/state_dir, a passwd-file
  with one user, Maildir storage, plain IMAP on a free port, started with ``dovecot -F`` and
  stopped at teardown. Tests put messages in with IMAP APPEND, the way a mail server would.
- Both can run over TLS with a test CA's certificate (``tls_certs``, see tlscerts.py): SMTP
  with required STARTTLS or implicit TLS, Dovecot with STARTTLS and an IMAPS port.

Both skip with the reason when the tool is missing, except on CI (``CI=true``), where a
missing tool is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SMTP_USER = "coord@example.cn"
SMTP_PASSWORD = "smtp-secret-口令"
IMAP_USER = "coord@example.cn"
IMAP_PASSWORD = "imap-secret"


def missing_tool(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- SMTP


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # as received, without the SMTP dot-stuffing


@dataclass
class SmtpServer:
    host: str
    port: int
    user: str
    password: str
    handler: CapturingHandler

    @property
    def messages(self) -> list[Captured]:
        return self.handler.messages

    def settings(self, **overrides: object) -> dict[str, object]:
        """An ``[smtp]`` table for this server."""
        out: dict[str, object] = {"host": self.host, "port": self.port, "security": "plain", "user": self.user,
                                  "sender": self.user, "sender_name": "测试县政务公开办", "timeout": 10}
        out.update(overrides)
        return out


@dataclass
class CapturingHandler:
    messages: list[Captured] = field(default_factory=list)
    #: accept this many messages, then refuse every further one with ``refuse_reply``
    accept_limit: int | None = None
    refuse_reply: str = "554 5.3.0 测试：服务器拒收"
    #: called with the number of the message being received (1-based) before it is accepted;
    #: returning a reply string refuses that message with it
    on_data: Callable[[int], str | None] | None = None
    seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.seen += 1
            number = self.seen
        if self.on_data is not None:
            reply = self.on_data(number)
            if reply:
                return reply
        if self.accept_limit is not None and len(self.messages) >= self.accept_limit:
            return self.refuse_reply
        self.messages.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                                           or envelope.content)))
        return "250 2.0.0 OK"


def _server_context(certs) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    return context


@contextlib.contextmanager
def smtp_server(*, user: str = SMTP_USER, password: str = SMTP_PASSWORD,
                handler: CapturingHandler | None = None, tls: str = "plain", certs=None) -> Iterator[SmtpServer]:
    """An SMTP server on a free port that demands ``user``/``password`` (AUTH PLAIN/LOGIN).

    ``tls="starttls"`` requires STARTTLS before anything else, ``tls="ssl"`` speaks implicit TLS;
    both use ``certs`` (:class:`tlscerts.TlsFiles`) and then allow AUTH only over TLS."""
    try:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
    except ImportError:
        missing_tool("aiosmtpd is not installed: pip install aiosmtpd")
    handler = handler or CapturingHandler()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode("utf-8"))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself

    # AUTH without TLS on purpose (127.0.0.1 only); aiosmtpd warns on every connection. Set
    # here, at run time, because pytest resets warning filters around each test.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)
    port = free_port()
    secure: dict[str, object] = {"auth_require_tls": False}
    if tls == "starttls":
        secure = {"tls_context": _server_context(certs), "require_starttls": True, "auth_require_tls": True}
    elif tls == "ssl":
        secure = {"ssl_context": _server_context(certs), "auth_require_tls": False}  # the socket is TLS already
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, **secure)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, user, password, handler)
    finally:
        controller.stop()


# --------------------------------------------------------------------------- IMAP (Dovecot)


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None)


@dataclass
class DovecotServer:
    host: str
    port: int  # IMAP (with STARTTLS when the server has certificates)
    user: str
    password: str
    root: Path
    ssl_port: int | None = None  # IMAPS (implicit TLS), when the server has certificates
    ca_file: str = ""  # the CA a client must trust, when the server has certificates

    def settings(self, folder: str = "INBOX", **overrides: object) -> dict[str, object]:
        """An ``[imap]`` table for this server."""
        out: dict[str, object] = {"host": self.host, "port": self.port, "security": "plain", "user": self.user,
                                  "folder": folder, "timeout": 10}
        out.update(overrides)
        return out

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        if self.ca_file:
            conn.starttls(ssl_context=ssl.create_default_context(cafile=self.ca_file))
        conn.login(self.user, self.password)
        try:
            yield conn
        finally:
            conn.logout()

    def new_folder(self, prefix: str = "replies") -> str:
        """A fresh, empty folder for one test (tests share one server)."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.create(name)
        return name

    def create(self, folder: str) -> None:
        from nianbao.mail.imap import mailbox_name

        with self.client() as conn:
            typ, data = conn.create(mailbox_name(folder))
            assert typ == "OK", data

    def delete(self, folder: str) -> None:
        from nianbao.mail.imap import mailbox_name

        with self.client() as conn:
            typ, data = conn.delete(mailbox_name(folder))
            assert typ == "OK", data

    def append(self, folder: str, raw: bytes) -> int:
        """Put one message into ``folder`` with IMAP APPEND; returns its UID."""
        from nianbao.mail.imap import mailbox_name

        with self.client() as conn:
            typ, data = conn.append(mailbox_name(folder), None, None, raw)
            assert typ == "OK", data
            # "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(data[0].split(b"]")[0].split()[-1])

    def uidvalidity(self, folder: str) -> int:
        from nianbao.mail.imap import mailbox_name

        with self.client() as conn:
            typ, data = conn.status(mailbox_name(folder), "(UIDVALIDITY)")
            assert typ == "OK", data
            return int(data[0].rsplit(b"UIDVALIDITY", 1)[1].strip(b" )"))


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user, mail uid, mail gid) Dovecot may run with here."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    # As root Dovecot refuses to run login processes as root and mail as uid 0: use the
    # accounts Debian's package creates.
    try:
        login = pwd.getpwnam("dovenull")
        internal = pwd.getpwnam("dovecot")
    except KeyError:
        missing_tool("the dovenull/dovecot accounts are missing: apt-get install dovecot-imapd")
    return login.pw_name, internal.pw_name, internal.pw_uid, internal.pw_gid


CONFIG = """\
# Written by tests/mailservers.py: a throwaway Dovecot in {root}
instance_name = nianbao-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service anvil {{
  chroot =
  # No growing delay after the deliberate wrong-password tests (Dovecot's auth penalty).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
"""


@contextlib.contextmanager
def dovecot_server(user: str = IMAP_USER, password: str = IMAP_PASSWORD, certs=None) -> Iterator[DovecotServer]:
    """Dovecot on a free port; with ``certs`` (:class:`tlscerts.TlsFiles`) TLS is required:
    STARTTLS on the IMAP port, implicit TLS on a second (IMAPS) port."""
    binary = dovecot_binary()
    if binary is None:
        missing_tool("Dovecot is not installed: apt-get install dovecot-imapd")
    login_user, internal_user, uid, gid = _accounts()
    # Under /tmp, not pytest's private tmp dir: Dovecot's unprivileged processes must reach it.
    root = Path(tempfile.mkdtemp(prefix="nianbao-dovecot-"))
    os.chmod(root, 0o755)
    port = free_port()
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{root}/home\n", encoding="utf-8")
    conf = root / "dovecot.conf"
    ssl_port = free_port() if certs else 0
    if certs:
        # Dovecot's unprivileged login processes get the key from the master, which reads it as root.
        tls = (f"ssl = required\nssl_cert = <{certs.cert}\nssl_key = <{certs.key}\n"
               "disable_plaintext_auth = yes")
    else:
        tls = "ssl = no\ndisable_plaintext_auth = no"
    conf.write_text(CONFIG.format(root=root, port=port, login_user=login_user, internal_user=internal_user, uid=uid,
                                  ssl=tls, ssl_port=ssl_port), encoding="utf-8")
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_greeting(port, proc, root)
        yield DovecotServer("127.0.0.1", port, user, password, root, ssl_port or None,
                            str(certs.ca) if certs else "")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_greeting(port: int, proc: subprocess.Popen, root: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
            log = (root / "dovecot.log").read_text("utf-8", "replace") if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot exited with {proc.returncode}:\n{output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"dovecot did not greet on port {port} within {timeout} s")


# --------------------------------------------------------------------------- pytest fixtures


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot():
    with dovecot_server() as server:
        yield server


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    from tlscerts import make_certs

    return make_certs(tmp_path_factory.mktemp("tls"))


__all__ = ["Captured", "CapturingHandler", "DovecotServer", "SmtpServer", "dovecot", "dovecot_server",
           "free_port", "missing_tool", "smtp", "smtp_server", "tls_certs"]

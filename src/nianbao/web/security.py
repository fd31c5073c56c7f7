"""The desk's defences: password hashes, who may bind where, CSRF tokens, headers, body limits.

* The desk binds 127.0.0.1 unless told otherwise; any other address needs a password, kept in
  ``campaign.toml`` only as a salted scrypt hash (``[desk] password_hash``).
* A session is a signed cookie (Starlette's SessionMiddleware); it carries the CSRF token that
  every form posts back and, off localhost, whether the password was given.
* Every response carries a Content-Security-Policy that allows only the desk's own scripts and
  styles (no inline script, no eval, nothing from another host).
* A request body is counted as it arrives and cut off past the limit, whatever Content-Length says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from pathlib import Path

from nianbao.errors import NianbaoError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    # same-origin (not no-referrer): with no-referrer a browser posts forms with "Origin: null"
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), for ``[desk] password_hash`` in campaign.toml."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, password_hash: str) -> None:
    """Refuse to listen beyond this machine without a password set in campaign.toml."""
    if is_local(host):
        return
    if not password_hash:
        raise NianbaoError(f"要在 {host} 上开放（其他电脑可以访问），必须先设置登录密码：运行 nianbao serve 任务目录 "
                           f"--set-password，然后再用 --host {host} 启动")
    if not password_hash.startswith("scrypt$") or password_hash.count("$") != 5:
        raise NianbaoError("campaign.toml 中 [desk] password_hash 的格式不对：请用 nianbao serve 任务目录 "
                           "--set-password 重新设置")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


_DESK_SECTION = re.compile(r"(?ms)^\[desk\][^\[]*")


def store_password_hash(settings_path: Path, hashed: str) -> None:
    """Write ``[desk] password_hash`` into campaign.toml, keeping the rest of the file (and its comments)."""
    text = settings_path.read_text(encoding="utf-8")
    section = ("[desk]\n# 协调人网页（nianbao serve）的登录密码，只保存加盐的散列值；"
               "用 nianbao serve 任务目录 --set-password 修改\n" f'password_hash = "{hashed}"\n')
    if _DESK_SECTION.search(text):
        text = _DESK_SECTION.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = settings_path.with_name(settings_path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(settings_path)


class BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes gets 413 and is never read on."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = f"上传的内容过大（上限 {limit // (1024 * 1024)} MB）：请分几次拖入".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["BodyLimit", "CSP", "CSRF_FIELD", "CSRF_HEADER", "SECURITY_HEADERS", "check_bind", "hash_password",
           "is_local", "new_token", "same_token", "store_password_hash", "verify_password"]

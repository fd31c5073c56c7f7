"""The desk's Starlette application: middleware (hosts, sessions, login, headers, body limit) and
the Jinja2 environment. The pages and actions are in :mod:`nianbao.web.routes`."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import RedirectResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from nianbao.campaign.folder import local_time, open_campaign
from nianbao.web import security

HERE = Path(__file__).resolve().parent
#: One drop may carry many files; each is held to the campaign's per-file limit by collect.
UPLOAD_TOTAL_MB = 512


@dataclass
class DeskState:
    """What every request needs: the campaign folder, whether a password is asked, the jobs."""

    directory: Path
    password_hash: str
    login_required: bool
    max_file_bytes: int
    jobs: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def environment(tz=None) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = lambda iso: local_time(iso, tz)  # ledger times in the campaign's time zone
    return env


def create_app(directory: Path, host: str = "127.0.0.1", allowed_hosts: list[str] | None = None,
               secret: str | None = None) -> Starlette:
    """The desk over the campaign at ``directory``, to be served on ``host``.

    Raises NianbaoError when ``directory`` is not a campaign, or when ``host`` is not this
    machine and campaign.toml sets no password.
    """
    from nianbao.web.routes import STATE_CLASS, exception_handlers, routes

    directory = Path(directory).resolve()
    with open_campaign(directory) as campaign:
        password_hash = str(campaign.settings.get("desk", {}).get("password_hash", ""))
        max_file = campaign.max_file_bytes
        tz = campaign.tz
    security.check_bind(host, password_hash)
    local = security.is_local(host)
    if allowed_hosts is None:
        # A page on localhost answers only to localhost names (no DNS rebinding from a web page).
        allowed_hosts = ["127.0.0.1", "localhost", "[::1]"] if local else ["*"]
    state = DeskState(directory, password_hash, login_required=not local, max_file_bytes=max_file)
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts),
        Middleware(SessionMiddleware, secret_key=secret or secrets.token_hex(32), session_cookie="nianbao_desk",
                   same_site="strict", https_only=False, max_age=12 * 3600),
        Middleware(_Guard),
    ]
    app = Starlette(routes=[*routes, Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
                    middleware=middleware, exception_handlers=exception_handlers)
    app.state.desk = state
    app.state.env = environment(tz)
    app.state.env.globals["state_class"] = STATE_CLASS
    return security.BodyLimit(app, UPLOAD_TOTAL_MB * 1024 * 1024)


class _Guard(BaseHTTPMiddleware):
    """Login off localhost; the same-origin rule for posts; security headers on every answer."""

    async def dispatch(self, request, call_next):
        desk: DeskState = request.app.state.desk
        path = request.url.path
        if desk.login_required and not request.session.get("auth") and path != "/login" \
                and not path.startswith("/static/"):
            if request.method == "GET":
                return _headers(RedirectResponse("/login", status_code=303))
            from starlette.responses import PlainTextResponse

            return _headers(PlainTextResponse("请先登录", status_code=401))
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
                from starlette.responses import PlainTextResponse

                return _headers(PlainTextResponse("拒绝来自其他网站的请求", status_code=403))
        return _headers(await call_next(request), static=path.startswith("/static/"))


def _headers(response, static: bool = False):
    response.headers.update(security.SECURITY_HEADERS)
    if static:  # the desk's own script and style: the same for as long as this version runs
        response.headers["cache-control"] = "private, max-age=3600"
    return response


__all__ = ["DeskState", "create_app", "environment"]

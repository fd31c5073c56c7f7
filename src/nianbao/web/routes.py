"""The desk's pages and actions. Each handler reads its input, calls one function of
:mod:`nianbao.web.desk` or of the campaign library, and renders a template.

Every POST carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``,
which htmx sends from the page's ``hx-headers``); without it nothing happens.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.background import BackgroundTask

from nianbao.campaign.review import HELD, STATES
from nianbao.errors import NianbaoError
from nianbao.web import charts, desk, security

#: CSS class of each review state word (the words themselves come from campaign.review).
STATE_CLASS = {"未提交": "missing", "有错误": "errors", "仅有警告": "warnings", "无问题": "passed", "已确认": "accepted",
               "已退回": "rejected", "已重新报送": "resubmitted", "已收到": "received", "待核实": "held",
               "已收到·无法使用": "unusable"}
MAX_REASON = 500


# ----------------------------------------------------------------------------- helpers


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = security.new_token()
    return token


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    desk_state = request.app.state.desk
    template = request.app.state.env.get_template(name)
    html = template.render(request=request, csrf=csrf_token(request),
                           login_required=desk_state.login_required, nav=context.pop("nav", ""), **context)
    return HTMLResponse(html, status_code=status_code)


async def checked_form(request: Request, **limits):
    """The posted form, once its CSRF token matches the session's (403 otherwise)."""
    expected = request.session.get("csrf")
    header = request.headers.get(security.CSRF_HEADER)
    form = await request.form(**limits)
    if not (security.same_token(header, expected) or security.same_token(_text(form, security.CSRF_FIELD), expected)):
        await form.close()
        raise HTTPException(403, "页面已过期或请求不是从本页面发出的（缺少有效的校验码）：请刷新页面后重试")
    return form


def _text(form, key: str, limit: int = 1000) -> str:
    value = form.get(key)
    return value[:limit] if isinstance(value, str) else ""


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _attachment(path: Path, name: str, media_type: str | None = None, remove: Path | None = None) -> FileResponse:
    """``path`` as a download called ``name``; ``remove``: a scratch folder deleted once sent."""
    # RFC 6266 / 5987: an ASCII fallback and the real (Chinese) name percent-encoded.
    disposition = f"attachment; filename=\"download{path.suffix}\"; filename*=UTF-8''{quote(name)}"
    task = BackgroundTask(shutil.rmtree, remove, ignore_errors=True) if remove else None
    return FileResponse(path, media_type=media_type, headers={"content-disposition": disposition}, background=task)


# ----------------------------------------------------------------------------- overview


async def overview_page(request: Request) -> Response:
    directory = request.app.state.desk.directory
    ov = await run_in_threadpool(desk.overview, directory)
    q = request.query_params
    state, parent, overdue, search = q.get("state", ""), q.get("parent", ""), q.get("overdue") == "1", q.get("q", "")
    units = desk.filter_units(ov.units, state if state in STATES else "", parent, overdue, search)
    context = dict(ov=ov, units=units, states=STATES, f_state=state, f_parent=parent, f_overdue=overdue, f_q=search)
    if _is_htmx(request) and request.headers.get("hx-target") == "units":
        return render(request, "_units.html", **context)
    return render(request, "overview.html", nav="overview",
                  time_chart=charts.time_chart(ov.received_days, ov.deadline, len(ov.units)),
                  findings_chart=charts.findings_chart(ov.top_findings), **context)


# ----------------------------------------------------------------------------- unit page


async def unit_view(request: Request) -> Response:
    code = request.path_params["code"]
    try:
        page = await run_in_threadpool(desk.unit_page, request.app.state.desk.directory, code)
    except KeyError:
        raise HTTPException(404, f"名单中没有编码为“{code}”的单位") from None
    message = request.session.pop("flash", "")
    return render(request, "unit.html", nav="overview", page=page, flash=message)


async def decision(request: Request) -> Response:
    code = request.path_params["code"]
    form = await checked_form(request, max_files=0, max_fields=10)
    choice = _text(form, "decision")
    reason = _text(form, "reason", MAX_REASON).strip()
    force = _text(form, "force") == "1"
    if choice not in ("accept", "reject"):
        raise HTTPException(400, "请选择“确认”或“退回”")
    try:
        result = await run_in_threadpool(desk.decide, request.app.state.desk.directory, code, choice, reason, force)
    except NianbaoError as err:
        request.session["flash"] = f"未能{'确认' if choice == 'accept' else '退回'}：{err}"
    else:
        done = "已确认" if choice == "accept" else f"已退回（理由：{reason}）"
        request.session["flash"] = f"{result.name}{done}，现在的状态：{result.state}"
    return RedirectResponse(f"/unit/{quote(code)}", status_code=303)


async def assign(request: Request) -> Response:
    """Count a held or unknown-sender file for the unit chosen on the page."""
    form = await checked_form(request, max_files=0, max_fields=10)
    code, reason, back = _text(form, "unit"), _text(form, "reason", MAX_REASON), _text(form, "back")
    try:
        file_id = int(_text(form, "file"))
    except ValueError:
        raise HTTPException(400, "请选择要指定的文件") from None
    if not code:
        raise HTTPException(400, "请选择这份文件计入哪个单位")
    try:
        record = await run_in_threadpool(desk.assign, request.app.state.desk.directory, file_id, code, reason)
    except NianbaoError as err:
        request.session["flash"] = f"未能指定：{err}"
    else:
        request.session["flash"] = f"文件 {record.id}（{record.name}）已计入该单位，状态：{record.state}"
    target = f"/unit/{quote(code)}" if back == "unit" else "/receive"
    return RedirectResponse(target, status_code=303)


# ----------------------------------------------------------------------------- downloads


async def original(request: Request) -> Response:
    found = await run_in_threadpool(desk.original_path, request.app.state.desk.directory, request.path_params["sha"])
    if found is None:
        raise HTTPException(404, "没有这个文件")
    path, name = found
    return _attachment(path, name)


async def annotated(request: Request) -> Response:
    from nianbao.annotate import annotate

    directory = request.app.state.desk.directory
    found = await run_in_threadpool(desk.original_path, directory, request.path_params["sha"])
    if found is None:
        raise HTTPException(404, "没有这个文件")
    path, name = found
    out_dir = Path(tempfile.mkdtemp(prefix="nianbao-desk-"))
    out = out_dir / "annotated.xlsx"
    try:
        await run_in_threadpool(annotate, path, out)
    except NianbaoError as err:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise HTTPException(409, f"这个文件无法生成标注副本：{err}") from None
    return _attachment(out, name.rsplit(".", 1)[0] + "_标注.xlsx", remove=out_dir)


async def preview(request: Request) -> Response:
    """The report built from a version (marked 草稿 when it has errors), as one HTML file."""
    from nianbao.check import check_file
    from nianbao.report.html import render_html
    from nianbao.report.model import build_document

    found = await run_in_threadpool(desk.original_path, request.app.state.desk.directory, request.path_params["sha"])
    if found is None:
        raise HTTPException(404, "没有这个文件")
    path, name = found

    def build() -> str:
        report = check_file(path)
        if report.submission is None:
            raise NianbaoError(report.unreadable or "无法读取")
        return render_html(build_document(report.submission, draft=not report.valid))

    try:
        html = await run_in_threadpool(build)
    except NianbaoError as err:
        raise HTTPException(409, f"这个文件无法生成年报预览：{err}") from None
    out_dir = Path(tempfile.mkdtemp(prefix="nianbao-desk-"))
    out = out_dir / "preview.html"
    out.write_text(html, encoding="utf-8")
    return _attachment(out, name.rsplit(".", 1)[0] + "_年报预览.html", "text/html; charset=utf-8", remove=out_dir)


async def output_file(request: Request) -> Response:
    name = request.path_params["name"]
    directory = request.app.state.desk.directory
    if name == "status.xlsx":
        from nianbao.campaign.status import status

        await run_in_threadpool(status, directory, True)
    files = await run_in_threadpool(desk.output_files, directory)
    if name not in files:  # only names the campaign wrote itself; never a path from the request
        raise HTTPException(404, "没有这个文件")
    return _attachment(files[name], name)


# ----------------------------------------------------------------------------- receive


async def receive_page(request: Request) -> Response:
    ov = await run_in_threadpool(desk.overview, request.app.state.desk.directory)
    return render(request, "receive.html", nav="receive", ov=ov, job=None, held=HELD,
                  max_mb=request.app.state.desk.max_file_bytes // (1024 * 1024), flash=request.session.pop("flash", ""))


async def receive_upload(request: Request) -> Response:
    state = request.app.state.desk
    form = await checked_form(request, max_files=desk.MAX_UPLOAD_FILES, max_fields=5)
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise HTTPException(400, "没有收到文件：请把文件拖到框内，或点“选择文件”")
        uploads = [desk.Upload(f.filename or "", f.size or 0, _reader(f)) for f in files]
        items = await run_in_threadpool(desk.upload_items, uploads, state.max_file_bytes)
    finally:
        await form.close()
    directory = state.directory
    job = Job("_job.html", len(items), lambda progress: desk.receive(directory, items, progress),
              lambda report: desk.outcomes(directory, report), "未能处理上传的文件").start(state)
    await asyncio.sleep(0.05)
    return render(request, "_job.html", job=job)


def _reader(upload: UploadFile):
    upload.file.seek(0)
    data = upload.file.read()
    return lambda: data


class Job:
    """Work running in the background (a drop being collected, letters being sent); the page
    polls it for its progress bar. ``work(progress)`` calls the library function with a progress
    callback; ``finish(result)`` turns its result into the rows the page shows."""

    def __init__(self, template: str, total: int, work: Callable, finish: Callable, failed: str) -> None:
        self.id = secrets.token_urlsafe(8)
        self.template = template
        self.total = total
        self.items: list = []
        self.finished = False
        self.error = ""
        self.results: list = []
        self._work, self._finish, self._failed = work, finish, failed

    @property
    def done(self) -> int:
        return len(self.items)

    def start(self, state) -> Job:
        with state.lock:
            state.jobs[self.id] = self
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self.results = self._finish(self._work(self.items.append))
        except NianbaoError as err:
            self.error = f"{self._failed}：{err}"
        except Exception as err:  # the page must say something; the server keeps running
            self.error = f"{self._failed}（内部错误：{err}）"
        finally:
            self.finished = True


async def job_view(request: Request) -> Response:
    job = request.app.state.desk.jobs.get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "没有这项工作的记录（网页服务重启过）：请刷新页面")
    return render(request, job.template, job=job)


# ----------------------------------------------------------------------------- answer


async def answer_page(request: Request) -> Response:
    directory = request.app.state.desk.directory
    letters = await run_in_threadpool(desk.letters, directory)
    return render(request, "answer.html", nav="answer", letters=letters, result=None,
                  flash=request.session.pop("flash", ""))


async def answer_build(request: Request) -> Response:
    from nianbao.campaign.feedback import feedback

    await checked_form(request, max_files=0, max_fields=5)
    try:
        result = await run_in_threadpool(feedback, request.app.state.desk.directory, 1)
        request.session["flash"] = f"已生成 {len(result.units)} 个单位的反馈（问题清单和标注副本），请逐一预览"
    except NianbaoError as err:
        request.session["flash"] = f"未能生成反馈：{err}"
    return RedirectResponse("/answer", status_code=303)


async def answer_send(request: Request) -> Response:
    from nianbao.campaign.mailing import remind

    form = await checked_form(request, max_files=0, max_fields=200)
    drafts = _text(form, "mode") != "send"
    password = _text(form, "password", 500) or None
    codes = [c for c in form.getlist("unit") if isinstance(c, str)][:1000] or None
    directory = request.app.state.desk.directory
    if _is_htmx(request):  # in the background, with a progress bar and each unit's result as it comes
        total = len(codes) if codes else len(await run_in_threadpool(desk.letters, directory) or [])
        job = Job("_send_job.html", total,
                  lambda progress: remind(directory, codes, drafts=drafts, password=password, progress=progress),
                  lambda report: report.units, "未能写出草稿" if drafts else "未能发送")
        job.drafts = drafts
        job.start(request.app.state.desk)
        await asyncio.sleep(0.05)
        return render(request, "_send_job.html", job=job)
    try:
        report = await run_in_threadpool(lambda: remind(directory, codes, drafts=drafts, password=password))
    except NianbaoError as err:
        return render(request, "answer.html", nav="answer", letters=await run_in_threadpool(desk.letters, directory),
                      result=None, flash=f"未能{'写出草稿' if drafts else '发送'}：{err}", status_code=409)
    letters = await run_in_threadpool(desk.letters, directory)
    return render(request, "answer.html", nav="answer", letters=letters, result=report, drafts=drafts, flash="")


# ----------------------------------------------------------------------------- totals


async def totals_page(request: Request) -> Response:
    files = await run_in_threadpool(desk.output_files, request.app.state.desk.directory)
    return render(request, "totals.html", nav="totals", result=None, files=files,
                  flash=request.session.pop("flash", ""))


async def totals_merge(request: Request) -> Response:
    from nianbao.campaign.merge import merge

    form = await checked_form(request, max_files=0, max_fields=5)
    include = _text(form, "include_unaccepted") == "1"
    directory = request.app.state.desk.directory
    try:
        result = await run_in_threadpool(merge, directory, include)
    except NianbaoError as err:
        files = await run_in_threadpool(desk.output_files, directory)
        return render(request, "totals.html", nav="totals", result=None, files=files, flash=f"未能汇总：{err}",
                      status_code=409)
    files = await run_in_threadpool(desk.output_files, directory)
    return render(request, "totals.html", nav="totals", result=result, files=files, flash="")


# ----------------------------------------------------------------------------- login


async def login_page(request: Request) -> Response:
    return render(request, "login.html", error="")


async def login(request: Request) -> Response:
    state = request.app.state.desk
    form = await checked_form(request, max_files=0, max_fields=5)
    ok = state.password_hash and await run_in_threadpool(security.verify_password, _text(form, "password", 500),
                                                          state.password_hash)
    if not ok:
        await asyncio.sleep(0.5)  # slows guessing; scrypt already costs
        return render(request, "login.html", error="密码不对，请重新输入", status_code=401)
    request.session.clear()
    request.session["auth"] = True
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request, max_files=0, max_fields=5)
    request.session.clear()
    return RedirectResponse("/login" if request.app.state.desk.login_required else "/", status_code=303)


# ----------------------------------------------------------------------------- errors


#: Starlette's own English reasons, said in Chinese.
_REASONS = {404: "没有这个页面", 405: "不支持这种请求方式", 400: "请求有误", 413: "上传的内容过大"}


async def http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else \
        _REASONS.get(exc.status_code, "请求未能完成")
    if _is_htmx(request):
        return HTMLResponse(f'<p class="flash bad" role="alert">{_escape(detail)}</p>', status_code=exc.status_code)
    return render(request, "error.html", status_code=exc.status_code, message=detail)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


routes = [
    Route("/", overview_page),
    Route("/unit/{code}", unit_view),
    Route("/unit/{code}/decision", decision, methods=["POST"]),
    Route("/original/{sha}", original),
    Route("/annotated/{sha}", annotated),
    Route("/preview/{sha}", preview),
    Route("/files/{name}", output_file),
    Route("/receive", receive_page),
    Route("/receive", receive_upload, methods=["POST"]),
    Route("/job/{job}", job_view),
    Route("/assign", assign, methods=["POST"]),
    Route("/answer", answer_page),
    Route("/answer/build", answer_build, methods=["POST"]),
    Route("/answer/send", answer_send, methods=["POST"]),
    Route("/totals", totals_page),
    Route("/totals/merge", totals_merge, methods=["POST"]),
    Route("/login", login_page),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]

exception_handlers = {HTTPException: http_error}

__all__ = ["routes", "exception_handlers"]

"""``campaign feedback``: for every unit that must act, a plain Chinese message and its files.

Written to ``feedback/<unit code>/``: 问题清单.txt (what to fix, cell by cell), the annotated
workbook (the unit's numbers in a fresh template, failing cells red with a comment; made by
:func:`nianbao.annotate.annotate`, never by re-saving the unit's file) or, for a unit that has
not answered, a copy of its template. ``feedback/feedback.json`` lists every unit with its
e-mail, message and attachments, for the mail issue's ``campaign remind``. The folder is
rebuilt beside the old one and swapped in, so it always matches the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.campaign.folder import Campaign, open_campaign
from nianbao.campaign.ledger import finding_of
from nianbao.campaign.review import (ACCEPTED, HELD, MISSING, NEEDS_ACTION, RETURNED, UNUSABLE, FileRecord,
                                     unit_states)
from nianbao.campaign.review import UnitState as UnitStatus
from nianbao.errors import NianbaoError
from nianbao.findings import grouped

FEEDBACK_DIR = "feedback"
MESSAGE_NAME = "问题清单.txt"
MANIFEST = "feedback.json"


@dataclass
class UnitFeedback:
    code: str
    name: str
    email: str
    state: str
    message: str
    attachments: list[Path] = field(default_factory=list)
    annotated: bool = False


@dataclass
class FeedbackResult:
    dir: Path
    units: list[UnitFeedback]


def feedback(directory: Path, workers: int | None = None) -> FeedbackResult:
    with open_campaign(directory) as campaign:
        statuses = [s for s in unit_states(campaign)
                    if s.state in NEEDS_ACTION or (s.copies and s.state != ACCEPTED)]
        staging = Path(tempfile.mkdtemp(prefix=".feedback-", dir=campaign.dir))
        try:
            items = [_prepare(campaign, s, staging) for s in statuses]
            jobs = [(str(campaign.dir / v["path"]), str(out)) for _, v, out in items if v is not None]
            _annotate_all(jobs, workers)
            result = []
            for (fb, version, out), status_ in zip(items, statuses):
                target = campaign.dir / FEEDBACK_DIR / status_.code
                if version is not None:
                    fb.annotated = True
                    fb.attachments.append(target / out.name)
                result.append(fb)
            manifest = [{"code": f.code, "name": f.name, "email": f.email, "state": f.state,
                         "message": f"{f.code}/{MESSAGE_NAME}",
                         "attachments": [f"{f.code}/{p.name}" for p in f.attachments]} for f in result]
            (staging / MANIFEST).write_text(json.dumps({"year": campaign.year, "units": manifest}, ensure_ascii=False,
                                                       indent=2), encoding="utf-8")
            _swap(staging, campaign.dir / FEEDBACK_DIR)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return FeedbackResult(campaign.dir / FEEDBACK_DIR, result)


def _prepare(campaign: Campaign, status_: UnitStatus, staging: Path):
    """Write the unit's message (and template copy) into staging; return what still needs annotating."""
    ledger = campaign.ledger
    unit = ledger.unit(status_.code)
    folder = staging / status_.code
    folder.mkdir()
    target = campaign.dir / FEEDBACK_DIR / status_.code
    fb = UnitFeedback(status_.code, status_.name, status_.email, status_.state, "")
    version = None
    annotated_out = None
    if status_.state in (MISSING, UNUSABLE, HELD):
        template = campaign.dir / unit["template"]
        shutil.copyfile(template, folder / template.name)
        fb.attachments.append(target / template.name)
        if status_.state == MISSING:
            fb.message = missing_message(campaign, status_, _impostors(campaign, status_.code))
        elif status_.state == UNUSABLE:
            fb.message = unusable_message(campaign, status_, template.name)
        else:
            fb.message = held_message(campaign, status_, template.name)
    else:
        version = ledger.version_by_sha(status_.latest_sha256)
        findings = ledger.findings(version["id"])
        file_row = ledger.db.execute("SELECT path FROM files WHERE sha256 = ?", (version["sha256"],)).fetchone()
        version = {"path": file_row["path"], "id": version["id"], "received_at": version["received_at"]}
        annotated_out = folder / f"{status_.code}_{campaign.year}_标注.xlsx"
        fb.message = errors_message(campaign, status_, findings, version["received_at"], annotated_out.name)
    (folder / MESSAGE_NAME).write_text(fb.message, encoding="utf-8")
    return fb, version, annotated_out


def _impostors(campaign: Campaign, code: str) -> list:
    """Files naming the unit inside that were not counted for it (another batch's token)."""
    return campaign.ledger.db.execute(
        "SELECT * FROM versions WHERE unit_code IS NULL AND claimed_code = ? ORDER BY received_at", (code,)).fetchall()


def _when(campaign: Campaign) -> str:
    if _ahead(campaign):
        return f"请于 {campaign.deadline.isoformat()} 前"
    return "请尽快"


def _received(campaign: Campaign, f: FileRecord) -> str:
    name = f"附件“{f.name}”" if f.name else "这封邮件"
    return f"贵单位 {campaign.local(f.received_at)} 发来的邮件已收到，但{name}"


def unusable_message(campaign: Campaign, s: UnitStatus, template_name: str) -> str:
    """Her mail arrived; say so, say what was wrong with each file and exactly what to do."""
    lines = [f"{s.name}：", ""]
    for f in s.unusable:
        lines.append(f"{_received(campaign, f)}无法使用：{f.problem}。")
    lines += ["", f"{_when(campaign)}在附件的模板“{template_name}”中填写（如已填好，请直接把填好的 .xlsx 文件作为附件"
                  f"发送，不要压缩、不要改存为其他格式），回复本邮件即可。"]
    return "\n".join(lines) + "\n"


def held_message(campaign: Campaign, s: UnitStatus, template_name: str) -> str:
    """She sent another unit's template: tell her what arrived and that it was not counted."""
    names = {u["code"]: u["name"] for u in campaign.ledger.units()}
    lines = [f"{s.name}：", ""]
    for f in s.held:
        if s.code not in f.sender_units:
            continue
        name = f"附件“{f.name}”" if f.name else "附件"
        lines.append(f"贵单位 {campaign.local(f.received_at)} 发来的邮件已收到，但{name}是"
                     f"{names.get(f.file_unit or '', '其他单位')}的填报模板，不是贵单位的，暂未计入，正在核实。")
    lines += ["", f"如果这是贵单位的报告，请把数字填到附件中贵单位的模板“{template_name}”里，{_when(campaign)}重新报送；"
                  f"如果是替其他单位转发，请回复说明。"]
    return "\n".join(lines) + "\n"


def _ahead(campaign: Campaign) -> bool:
    """Whether the deadline is still to come (a letter never asks for a date already past)."""
    return campaign.deadline is not None and campaign.deadline >= dt.date.today()


def missing_message(campaign: Campaign, s: UnitStatus, impostors: list) -> str:
    if _ahead(campaign):
        deadline = f"请于 {campaign.deadline.isoformat()} 前"
    else:
        deadline = f"报送期限 {campaign.deadline.isoformat()} 已过，请尽快" if campaign.deadline else "请尽快"
    lines = [f"{s.name}：", "",
             f"截至目前，尚未收到贵单位{campaign.year}年度政府信息公开工作年度报告的填报模板。{deadline}"
             f"在附件的模板中填写，保存为 Excel 工作簿（.xlsx）后报送。"]
    for v in impostors:
        lines += ["", f"另：{campaign.local(v['received_at'])} 收到一份自称贵单位的文件，但它不是本次下发给贵单位的模板"
                      f"（{v['problem']}），没有计入。请使用附件中的模板填写。"]
    return "\n".join(lines) + "\n"


def errors_message(campaign: Campaign, s: UnitStatus, findings: list, received_at: str, annotated_name: str) -> str:
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] == "warning"]
    deadline = f"，并于 {campaign.deadline.isoformat()} 前重新报送" if _ahead(campaign) else "，并尽快重新报送"
    lines = [f"{s.name}：", ""]
    if s.state == RETURNED:
        lines.append(f"贵单位 {campaign.local(received_at)} 报送的{campaign.year}年度政府信息公开工作年度报告已退回，"
                     f"理由：{s.reason}。请修改后{_when(campaign).removeprefix('请')}重新报送。")
    if errors:
        lines.append(f"贵单位 {campaign.local(received_at)} 报送的{campaign.year}年度政府信息公开工作年度报告经核对有 "
                     f"{len(errors)} 处错误" + (f"、{len(warnings)} 处需要核实的地方" if warnings else "") +
                     f"，请逐项修改{deadline}。")
    for c in s.copies:  # the other unit is named for the coordinator only, never here
        lines.append(f"贵单位报告正文“{c.title}”与本次收集中另一单位的同一部分几乎相同（正文雷同是考核扣分项），"
                     f"请按本单位本年度的实际情况重写{deadline}。")
    lines += ["", f"附件“{annotated_name}”是贵单位所填内容的标注副本：有问题的单元格已标红，鼠标移到单元格上可看到说明，"
                  "第一个工作表列出了全部问题。可以直接在这份副本中修改后报送。"]
    for title, group in (("必须修改的错误", errors), ("请核实的地方（确认无误可不修改）", warnings)):
        if not group:
            continue
        lines += ["", f"{title}："]
        for i, (_, place, message) in enumerate(grouped([finding_of(f) for f in group]), start=1):
            lines.append(f"{i}. {place}：{message}" if place else f"{i}. {message}")
    return "\n".join(lines) + "\n"


def _annotate_one(job: tuple[str, str]) -> str:
    from nianbao.annotate import annotate

    src, out = job
    annotate(Path(src), Path(out))
    return out


def _annotate_all(jobs: list[tuple[str, str]], workers: int | None) -> None:
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(jobs) < 4:
        for job in jobs:
            _annotate_one(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_annotate_one, jobs))


def _swap(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError as err:
        if old is not None:
            os.rename(old, target)
        raise NianbaoError(f"无法写入 {target}：{err.strerror or err}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["FeedbackResult", "UnitFeedback", "errors_message", "feedback", "held_message", "missing_message",
           "unusable_message"]

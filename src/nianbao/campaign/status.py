"""``campaign status``: where every unit stands, as a table and as a ``status.xlsx`` board.

States (for the latest version a unit sent):
未提交 nothing identified as the unit's · 有错误 errors (or the coordinator rejected it) ·
仅有警告 warnings only · 已通过 no findings · 已确认 the coordinator accepted it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path


from nianbao.atomic import atomic_write
from nianbao.campaign.init import Campaign, open_campaign
from nianbao.campaign.ledger import Ledger
from nianbao.errors import NianbaoError
from nianbao.sheetwrite import new_workbook, write_value

MISSING, ERRORS, WARNINGS, PASSED, ACCEPTED = "未提交", "有错误", "仅有警告", "已通过", "已确认"
STATES = (MISSING, ERRORS, WARNINGS, PASSED, ACCEPTED)
STATUS_FILE = "status.xlsx"
_BY_STATUS = {"errors": ERRORS, "warnings": WARNINGS, "passed": PASSED}


@dataclass
class UnitStatus:
    code: str
    name: str
    parent: str
    email: str
    state: str
    versions: int
    latest_at: str | None  # ISO, UTC
    timeliness: str  # 按时 | 逾期 | 逾期未交 | 未到期 | "" (no deadline)
    errors: int
    warnings: int
    latest_sha256: str | None
    decision: str | None  # accept | reject | None (for the latest version)
    reason: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class StatusReport:
    units: list[UnitStatus]
    unidentified: list[sqlite3.Row]
    refused: list[sqlite3.Row]
    deadline: dt.date | None
    board: Path | None = None

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    def to_json(self) -> dict:
        return {"deadline": self.deadline.isoformat() if self.deadline else None,
                "counts": {s: self.count(s) for s in STATES},
                "units": [u.to_json() for u in self.units],
                "unidentified": [{"sha256": r["sha256"], "problem_code": r["problem_code"], "problem": r["problem"],
                                  "received_at": r["received_at"]} for r in self.unidentified],
                "refused": [{"source": r["source"], "name": r["name"], "problem_code": r["problem_code"],
                             "problem": r["problem"]} for r in self.refused],
                "board": str(self.board) if self.board else None}


def latest_version(ledger: Ledger, code: str) -> sqlite3.Row | None:
    versions = ledger.versions(code)
    return versions[-1] if versions else None


def latest_accepted(ledger: Ledger, code: str) -> sqlite3.Row | None:
    """The most recent version whose latest decision is accept."""
    for version in reversed(ledger.versions(code)):
        decision = ledger.last_decision(version["id"])
        if decision is not None and decision["decision"] == "accept":
            return version
    return None


def latest_valid(ledger: Ledger, code: str) -> sqlite3.Row | None:
    """The most recent version without errors that the coordinator has not rejected."""
    for version in reversed(ledger.versions(code)):
        decision = ledger.last_decision(version["id"])
        if version["errors"] == 0 and not (decision is not None and decision["decision"] == "reject"):
            return version
    return None


def unit_statuses(campaign: Campaign, today: dt.date | None = None) -> list[UnitStatus]:
    ledger = campaign.ledger
    today = today or dt.date.today()
    out = []
    for unit in ledger.units():
        versions = ledger.versions(unit["code"])
        latest = versions[-1] if versions else None
        decision = ledger.last_decision(latest["id"]) if latest is not None else None
        if latest is None:
            state = MISSING
        elif decision is not None and decision["decision"] == "accept":
            state = ACCEPTED
        elif decision is not None and decision["decision"] == "reject":
            state = ERRORS
        else:
            state = _BY_STATUS[latest["status"]]
        out.append(UnitStatus(
            code=unit["code"], name=unit["name"], parent=unit["parent"] or "", email=unit["email"], state=state,
            versions=len(versions), latest_at=latest["received_at"] if latest else None,
            timeliness=_timeliness(campaign.deadline, latest["received_at"] if latest else None, today),
            errors=latest["errors"] if latest else 0, warnings=latest["warnings"] if latest else 0,
            latest_sha256=latest["sha256"] if latest else None,
            decision=decision["decision"] if decision else None, reason=decision["reason"] if decision else ""))
    return out


def _timeliness(deadline: dt.date | None, received: str | None, today: dt.date) -> str:
    if deadline is None:
        return ""
    if received is None:
        return "逾期未交" if today > deadline else "未到期"
    local = dt.datetime.fromisoformat(received).astimezone().date()
    return "按时" if local <= deadline else "逾期"


def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def status(directory: Path, write_board: bool = True, today: dt.date | None = None) -> StatusReport:
    with open_campaign(directory) as campaign:
        report = StatusReport(unit_statuses(campaign, today), campaign.ledger.unidentified(),
                              campaign.ledger.refused_receipts(), campaign.deadline)
        if write_board:
            report.board = write_status_board(campaign, report)
        return report


def write_status_board(campaign: Campaign, report: StatusReport) -> Path:
    """status.xlsx, written fresh (temporary file, then rename) each time."""
    out = campaign.dir / STATUS_FILE
    names = {u.code: u.name for u in report.units}

    def write(tmp: Path) -> None:
        wb = new_workbook(tmp)
        title = wb.add_format({"bold": True, "font_size": 14, "font_name": "宋体"})
        head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9D9D9", "font_name": "宋体", "text_wrap": True})
        cell = wb.add_format({"border": 1, "font_name": "宋体", "text_wrap": True, "valign": "top"})
        colours = {MISSING: "#F2F2F2", ERRORS: "#FFC7CE", WARNINGS: "#FFEB9C", PASSED: "#C6EFCE",
                   ACCEPTED: "#9BD3AE"}
        state_fmt = {s: wb.add_format({"border": 1, "font_name": "宋体", "bg_color": c, "bold": True})
                     for s, c in colours.items()}
        ws = wb.add_worksheet("报送情况")
        counts = "，".join(f"{s} {report.count(s)}" for s in STATES)
        deadline = f"截止日期 {report.deadline.isoformat()}；" if report.deadline else ""
        heading = campaign.title if str(campaign.year) in campaign.title else f"{campaign.title}（{campaign.year} 年度）"
        write_value(ws, 0, 0, f"{heading}报送情况", title)
        write_value(ws, 1, 0, f"{deadline}共 {len(report.units)} 个单位：{counts}。生成于 "
                       f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}")
        headers = ("序号", "单位编码", "单位名称", "上级单位", "状态", "收到版本数", "最近报送时间", "是否按时",
                   "错误", "警告", "备注")
        widths = (6, 12, 30, 22, 10, 10, 18, 10, 6, 6, 40)
        for col, (text, width) in enumerate(zip(headers, widths)):
            write_value(ws, 3, col, text, head)
            ws.set_column(col, col, width)
        for i, u in enumerate(report.units):
            row = 4 + i
            note = f"已退回：{u.reason}" if u.decision == "reject" else (u.reason if u.decision == "accept" else "")
            values = (i + 1, u.code, u.name, names.get(u.parent, u.parent), u.state, u.versions,
                      local_time(u.latest_at), u.timeliness, u.errors, u.warnings, note)
            for col, value in enumerate(values):
                write_value(ws, row, col, value, state_fmt[u.state] if col == 4 else cell)
        ws.freeze_panes(4, 0)
        ws.autofilter(3, 0, 3 + len(report.units), len(headers) - 1)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(3)
        if report.unidentified or report.refused:
            other = wb.add_worksheet("无法识别的文件")
            for col, (text, width) in enumerate(zip(("收到时间", "来源", "问题", "说明"), (18, 50, 24, 70))):
                write_value(other, 0, col, text, head)
                other.set_column(col, col, width)
            row = 1
            for v in report.unidentified:
                sources = "；".join(r["source"] for r in campaign.ledger.receipts_for(v["sha256"]))
                for col, value in enumerate((local_time(v["received_at"]), sources, v["problem_code"] or "",
                                             v["problem"] or "")):
                    write_value(other, row, col, value, cell)
                row += 1
            for r in report.refused:
                for col, value in enumerate((local_time(r["received_at"]), f"{r['source']} {r['name']}".strip(),
                                             r["problem_code"] or "", r["problem"] or "")):
                    write_value(other, row, col, value, cell)
                row += 1
        wb.close()

    return atomic_write(out, write)


def decide(directory: Path, code: str, decision: str, reason: str = "", force: bool = False) -> UnitStatus:
    """Accept or reject a unit's latest version; returns the unit's status afterwards."""
    if decision not in ("accept", "reject"):
        raise ValueError(decision)
    if decision == "reject" and not reason.strip():
        raise NianbaoError("退回时必须写明理由（--reason）")
    with open_campaign(directory) as campaign:
        unit = campaign.ledger.unit(code)
        if unit is None:
            raise NianbaoError(f"名单中没有编码为“{code}”的单位")
        latest = latest_version(campaign.ledger, code)
        if latest is None:
            raise NianbaoError(f"{unit['name']}（{code}）还没有报送，无法{'确认' if decision == 'accept' else '退回'}")
        if decision == "accept" and latest["errors"] and not force:
            raise NianbaoError(f"{unit['name']}（{code}）最新报送的版本有 {latest['errors']} 处错误，不能确认；"
                               f"确需确认请加 --force")
        campaign.ledger.decide(latest["id"], decision, reason.strip())
        return next(u for u in unit_statuses(campaign) if u.code == code)


__all__ = ["ACCEPTED", "ERRORS", "MISSING", "PASSED", "STATES", "StatusReport", "UnitStatus", "WARNINGS", "decide",
           "latest_accepted", "latest_valid", "latest_version", "local_time", "status", "unit_statuses",
           "write_status_board"]

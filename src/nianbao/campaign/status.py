"""``campaign status``: where every unit stands, as a table and as a ``status.xlsx`` board.

The states and their words come from :mod:`nianbao.campaign.review`; this module only renders
them. The board has two sheets, both printable on A4 landscape with the header row repeated:
报送情况 (one row per unit, its state coloured, what to do in 备注) and 未计入的文件 (every file
that counts for no unit: held as 待核实, or from an unknown address — with its 文件编号 for
``campaign assign``, sender, subject, attachment name and time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


from nianbao.atomic import atomic_write
from nianbao.sheetwrite import merge_value, new_workbook, write_value
from nianbao.campaign.folder import Campaign, local_time, open_campaign
from nianbao.campaign.review import (ACCEPTED, ERRORS, HELD, MISSING, PASSED, RESUBMITTED, RETURNED, STATES, UNUSABLE,
                                     WARNINGS, FileRecord, UnitState, accept, latest_accepted, latest_valid,
                                     reject, unassigned_files, unit_states)
from nianbao.layout import text_lines

STATUS_FILE = "status.xlsx"
#: The board's colour for each state (the terminal uses the matching rich colours).
COLOURS = {MISSING: "#F2F2F2", UNUSABLE: "#F8CBAD", HELD: "#FFD966", ERRORS: "#FFC7CE", WARNINGS: "#FFEB9C",
           PASSED: "#C6EFCE", RESUBMITTED: "#BDD7EE", RETURNED: "#FF9B9B", ACCEPTED: "#9BD3AE"}
TERMINAL_COLOURS = {MISSING: "dim", UNUSABLE: "magenta", HELD: "bold yellow", ERRORS: "red", WARNINGS: "yellow",
                    PASSED: "green", RESUBMITTED: "cyan", RETURNED: "bold red", ACCEPTED: "bold green"}
UnitStatus = UnitState  # the name older callers use


@dataclass
class StatusReport:
    units: list[UnitState]
    unassigned: list[FileRecord]
    deadline: dt.date | None
    board: Path | None = None

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    def to_json(self) -> dict:
        return {"deadline": self.deadline.isoformat() if self.deadline else None,
                "counts": {s: self.count(s) for s in STATES},
                "units": [u.to_json() for u in self.units],
                "unassigned": [f.to_json() for f in self.unassigned],
                "board": str(self.board) if self.board else None}


def unit_statuses(campaign: Campaign, today: dt.date | None = None) -> list[UnitState]:
    return unit_states(campaign, today)


def status(directory: Path, write_board: bool = True, today: dt.date | None = None) -> StatusReport:
    with open_campaign(directory) as campaign:
        report = StatusReport(unit_states(campaign, today), unassigned_files(campaign), campaign.deadline)
        if write_board:
            report.board = write_status_board(campaign, report)
        return report


def note_for(campaign: Campaign, u: UnitState) -> str:
    """备注 for a unit: why it stands where it stands, in one or two sentences."""
    if u.state == RETURNED:
        return f"已退回：{u.reason}"
    if u.state == HELD:
        return u.reason
    if u.state == UNUSABLE:
        f = u.unusable[-1]
        return f"收到的文件 {f.id} 无法使用：{f.problem}"
    extra = [f"正文“{c.title}”与{c.other_name}的几乎相同（{c.ratio:.0%}）" for c in u.copies]
    if u.state == ACCEPTED:
        return "；".join(([u.reason] if u.reason else []) + extra)
    for f in u.held:
        if f.file_unit == u.code and u.code not in f.sender_units:
            extra.append(f"另有文件 {f.id} 是本单位的模板但由其他单位邮箱发来，待核实")
    for f in u.unusable:
        if u.latest_at and f.received_at >= u.latest_at and u.versions:
            extra.append(f"最近收到的文件 {f.id} 无法使用")
    return "；".join(extra)


def write_status_board(campaign: Campaign, report: StatusReport) -> Path:
    """status.xlsx, written fresh (temporary file, then rename) each time."""
    out = campaign.dir / STATUS_FILE
    names = {u.code: u.name for u in report.units}

    def write(tmp: Path) -> None:
        wb = new_workbook(tmp)
        base = {"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "top"}
        title = wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": False, "valign": "vcenter"})
        sub = wb.add_format(base)
        head = wb.add_format({**base, "bold": True, "border": 1, "bg_color": "#D9D9D9", "valign": "vcenter",
                              "align": "center"})
        cell = wb.add_format({**base, "border": 1})
        state_fmt = {s: wb.add_format({**base, "border": 1, "bg_color": c, "bold": True}) for s, c in COLOURS.items()}
        ws = wb.add_worksheet("报送情况")
        counts = "，".join(f"{s} {report.count(s)}" for s in STATES if report.count(s))
        deadline = f"截止日期 {report.deadline.isoformat()}；" if report.deadline else ""
        heading = campaign.title if str(campaign.year) in campaign.title else f"{campaign.title}（{campaign.year} 年度）"
        made = dt.datetime.now(campaign.tz).strftime("%Y-%m-%d %H:%M")
        headers = ("序号", "编码", "单位名称", "上级单位", "状态", "版本", "最近收到", "是否按时", "错误", "警告", "备注")
        widths = (5, 10, 28, 18, 14, 5, 18, 8, 5, 5, 36)
        write_value(ws, 0, 0, f"{heading}报送情况", title)
        summary = f"{deadline}共 {len(report.units)} 个单位：{counts}。生成于 {made}"
        merge_value(ws, 1, 0, 1, len(headers) - 1, summary, sub)
        ws.set_row(1, text_lines(summary, sum(widths)) * 15.0 + 4)
        for col, (text, width) in enumerate(zip(headers, widths)):
            write_value(ws, 3, col, text, head)
            ws.set_column(col, col, width)
        for i, u in enumerate(report.units):
            row = 4 + i
            values = (i + 1, u.code, u.name, names.get(u.parent, u.parent), u.state, u.versions or "",
                      campaign.local(u.latest_at), u.timeliness, u.errors if u.versions else "",
                      u.warnings if u.versions else "", note_for(campaign, u))
            for col, value in enumerate(values):
                write_value(ws, row, col, value, state_fmt[u.state] if col == 4 else cell)
            ws.set_row(row, max(text_lines(str(v), w) for v, w in zip(values, widths)) * 15.0 + 3)
        ws.freeze_panes(4, 0)
        ws.autofilter(3, 0, 3 + len(report.units), len(headers) - 1)
        _print_setup(ws, 3)
        other = wb.add_worksheet("未计入的文件")
        o_headers = ("文件编号", "收到时间", "发件人", "邮件主题", "附件名", "文件中的单位", "状态", "说明")
        o_widths = (6, 18, 22, 20, 18, 14, 14, 38)
        write_value(other, 0, 0, f"{heading}：未计入任何单位的文件", title)
        hint = ("这些文件没有计入任何单位。确认是哪个单位的后，运行 nianbao campaign assign 任务目录 文件编号 单位编码 "
                "指定给该单位（会记入登记簿）。" if report.unassigned else "所有收到的文件都已计入单位。")
        merge_value(other, 1, 0, 1, len(o_headers) - 1, hint, sub)
        other.set_row(1, text_lines(hint, sum(o_widths)) * 15.0 + 4)
        for col, (text, width) in enumerate(zip(o_headers, o_widths)):
            write_value(other, 3, col, text, head)
            other.set_column(col, col, width)
        for i, f in enumerate(report.unassigned):
            explain = f.problem
            values = (f.id, campaign.local(f.received_at), f.sender, f.subject, f.name,
                      names.get(f.file_unit or "", ""), f.state, explain)
            for col, value in enumerate(values):
                write_value(other, 4 + i, col, value, state_fmt[f.state] if col == 6 else cell)
            other.set_row(4 + i, max(text_lines(str(v), w) for v, w in zip(values, o_widths)) * 15.0 + 3)
        _print_setup(other, 3)
        wb.close()

    return atomic_write(out, write)


def _print_setup(ws, header_row: int) -> None:
    """A4 landscape, one page wide, header row repeated, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.set_footer("&C第 &P 页，共 &N 页")


def decide(directory: Path, code: str, decision: str, reason: str = "", force: bool = False,
           actor: str = "") -> UnitState:
    """Accept or reject a unit's latest version; returns the unit's state afterwards."""
    if decision not in ("accept", "reject"):
        raise ValueError(decision)
    with open_campaign(directory) as campaign:
        if decision == "accept":
            return accept(campaign, code, actor, reason, force)
        return reject(campaign, code, reason, actor)


__all__ = ["COLOURS", "STATUS_FILE", "StatusReport", "TERMINAL_COLOURS", "UnitStatus", "decide", "latest_accepted",
           "latest_valid", "local_time", "note_for", "status", "unit_statuses", "write_status_board"]

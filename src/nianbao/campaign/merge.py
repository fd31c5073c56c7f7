"""``campaign merge``: the area total (汇总) of every unit's latest accepted numbers.

:func:`merge_values` is the arithmetic (a pure function: sums of the input cells, then every
total recomputed from its formula); :func:`merge` picks each unit's version, validates the total
again with :func:`nianbao.check.validate`, and writes ``汇总/汇总.xlsx`` (the total in the
official table layout, every unit side by side, the units left out) and the total's tables as
.docx and HTML through the report build step. Every output names the units missing from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


from nianbao.atomic import atomic_write
from nianbao.campaign.init import Campaign, open_campaign
from nianbao.campaign.status import latest_accepted, latest_valid, unit_statuses
from nianbao.check import validate
from nianbao.findings import Finding
from nianbao.format.model import Format
from nianbao.layout import table_layout, text_lines
from nianbao.sheetwrite import merge_value, new_workbook, write_value
from nianbao.submission import Submission
from nianbao.template import compute_derived

MERGE_DIR = "汇总"
WORKBOOK_NAME = "汇总.xlsx"


def merge_values(fmt: Format, units: Iterable[Mapping[str, Decimal | None]]) -> dict[str, Decimal | None]:
    """Sum every input cell over the units (a blank counts as nothing; all blank stays blank),
    then compute every derived cell from the summed inputs, as its formula would."""
    totals: dict[str, Decimal | None] = {c.id: None for c in fmt.input_cells}
    for values in units:
        for cell_id in totals:
            value = values.get(cell_id)
            if value is not None:
                totals[cell_id] = (totals[cell_id] or Decimal(0)) + value
    return compute_derived(fmt, totals)


@dataclass
class Included:
    code: str
    name: str
    sha256: str
    accepted: bool
    values: dict[str, Decimal | None]


@dataclass
class Missing:
    code: str
    name: str
    state: str
    reason: str


@dataclass
class MergeResult:
    total: dict[str, Decimal | None]
    included: list[Included]
    missing: list[Missing]
    findings: list[Finding]
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def missing_note(self) -> str:
        return missing_note(self.missing)

    def to_json(self) -> dict:
        return {"included": [{"code": i.code, "name": i.name, "sha256": i.sha256, "accepted": i.accepted}
                             for i in self.included],
                "missing": [m.__dict__ for m in self.missing],
                "total": {k: (None if v is None else str(v)) for k, v in self.total.items()},
                "findings": [f.to_json() for f in self.findings],
                "outputs": {k: str(v) for k, v in self.outputs.items()}}


def missing_note(missing: list[Missing]) -> str:
    if not missing:
        return "全部单位均已纳入汇总。"
    names = "、".join(f"{m.name}（{m.state}）" for m in missing)
    return f"以下 {len(missing)} 个单位未纳入汇总：{names}。"


def merge(directory: Path, include_unaccepted: bool = False, targets: Iterable[str] = ("docx", "html")) -> MergeResult:
    with open_campaign(directory) as campaign:
        result = merge_campaign(campaign, include_unaccepted)
        outdir = campaign.dir / MERGE_DIR
        outdir.mkdir(exist_ok=True)
        result.outputs["xlsx"] = write_workbook(campaign, result, outdir / WORKBOOK_NAME)
        result.outputs.update(write_report(campaign, result, outdir, targets))
        return result


def merge_campaign(campaign: Campaign, include_unaccepted: bool = False) -> MergeResult:
    ledger, fmt = campaign.ledger, campaign.format
    states = {s.code: s for s in unit_statuses(campaign)}
    included, missing = [], []
    for unit in ledger.units():
        version = latest_accepted(ledger, unit["code"])
        accepted = version is not None
        if version is None and include_unaccepted:
            version = latest_valid(ledger, unit["code"])
        state = states[unit["code"]].state
        if version is None:
            reason = "未提交" if state == "未提交" else ("没有无错误的版本" if include_unaccepted else "尚未确认")
            missing.append(Missing(unit["code"], unit["name"], state, reason))
            continue
        values = {k: (None if v is None else Decimal(v)) for k, v in json.loads(version["values_json"]).items()}
        included.append(Included(unit["code"], unit["name"], version["sha256"], accepted, values))
    total = merge_values(fmt, [i.values for i in included])
    sub = Submission(format=fmt, year=campaign.year, unit={"name": area_name(campaign)},
                     values=dict(total))  # totals included: without formulas the validator takes them as given
    rule_ids = {r.rule_id for r in fmt.rules}
    # Only the numbers are summed: narrative and unit-detail checks do not apply to a total.
    findings = [f for f in validate(sub) if f.code in rule_ids] if included else []
    return MergeResult(total, included, missing, findings)


def area_name(campaign: Campaign) -> str:
    return campaign.settings["campaign"].get("area") or "本地区"


def write_workbook(campaign: Campaign, result: MergeResult, out: Path) -> Path:
    fmt = campaign.format
    note = result.missing_note

    def write(tmp: Path) -> None:
        wb = new_workbook(tmp)
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "text_wrap": True}
        st = {
            "heading": wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"}),
            "note": wb.add_format({**base, "font_color": "#9C0006" if result.missing else "#555555"}),
            "title": wb.add_format({**base, "border": 1, "bold": True, "align": "center", "bg_color": "#DDEBF7"}),
            "header": wb.add_format({**base, "border": 1, "bold": True, "align": "center", "bg_color": "#D9D9D9"}),
            "corner": wb.add_format({**base, "border": 1, "align": "center", "font_size": 10}),
            "label": wb.add_format({**base, "border": 1}),
            "cell": wb.add_format({**base, "border": 1, "align": "center", "num_format": "0.####"}),
        }
        title = f"{fmt.report_title(area_name(campaign), campaign.year)} · 汇总"
        for table in fmt.tables.values():
            ws = wb.add_worksheet(table.sheet)
            layout = table_layout(table)
            for i, width in enumerate(layout.column_widths()):
                ws.set_column(i, i, width)
            by_box = {id(b): cid for cid, b in layout.cells.items()}
            for box in layout.boxes:
                if box.role == "note":
                    continue  # "how to fill" does not apply to a total; the missing-units note goes there
                if box.role == "cell":
                    value = result.total.get(by_box[id(box)])
                    text = None if value is None else float(value)
                    style = st["cell"]
                else:
                    text, style = box.text, st[box.role]
                if box.merged:
                    merge_value(ws, box.row, box.col, box.last_row, box.last_col, text, style)
                elif text is None:
                    ws.write_blank(box.row, box.col, None, style)
                else:
                    ws.write(box.row, box.col, text, style)
            for row, height in layout.row_heights().items():  # long labels wrap, as on the template
                ws.set_row(row, height)
            merge_value(ws, 1, 0, 1, layout.ncols - 1, f"{title}。{note}", st["note"])
            ws.set_row(1, 36)
            _print_across(ws)
        side = wb.add_worksheet("各单位数据")
        heads = ["表", "行", "列", "单元格"] + [f"{i.name}（{i.code}）" for i in result.included] + ["合计"]
        widths = [6, 40, 16, 30] + [12] * (len(heads) - 4)
        _banner(side, f"{title}：各单位数据。{note}", sum(widths[:8]), len(heads) - 1, st["note"])
        for col, (text, width) in enumerate(zip(heads, widths)):
            write_value(side, 2, col, text, st["header"])
            side.set_column(col, col, width)
        side.set_row(2, max(text_lines(h, w) for h, w in zip(heads, widths)) * 15.0 + 3)
        unit_values = [compute_derived(fmt, dict(i.values)) for i in result.included]
        for row, cell in enumerate(fmt.cells.values(), start=3):
            labels = (fmt.tables[cell.table].short, cell.row.display, cell.column.label, cell.id)
            for col, text in enumerate(labels):
                write_value(side, row, col, text, st["label"])
            side.set_row(row, max(text_lines(t, w) for t, w in zip(labels, widths)) * 15.0 + 3)
            for col, values in enumerate(unit_values, start=4):
                _number(side, row, col, values.get(cell.id), st["cell"])
            _number(side, row, 4 + len(unit_values), result.total.get(cell.id), st["cell"])
        side.freeze_panes(3, 4)
        side.repeat_rows(2)
        side.repeat_columns(0, 3)
        # A few units fit across one page; with many, pages follow across and the labels repeat.
        _print_across(side, one_page_wide=len(heads) <= 12)
        left = wb.add_worksheet("未纳入的单位")
        _print_across(left)
        _banner(left, note, 14 + 32 + 12 + 30, 3, st["note"])
        for col, (text, width) in enumerate(zip(("单位编码", "单位名称", "状态", "原因"), (14, 32, 12, 30))):
            write_value(left, 2, col, text, st["header"])
            left.set_column(col, col, width)
        for row, m in enumerate(result.missing, start=3):
            for col, text in enumerate((m.code, m.name, m.state, m.reason)):
                write_value(left, row, col, text, st["label"])
        checks = wb.add_worksheet("汇总校验")
        _print_across(checks)
        _banner(checks, f"汇总数据重新校验：{'全部通过' if not result.findings else f'{len(result.findings)} 项未通过'}。"
                        f"{note}", 8 + 18 + 24 + 90, 3, st["note"])
        for col, (text, width) in enumerate(zip(("级别", "规则", "位置", "说明"), (8, 18, 24, 90))):
            checks.write(2, col, text, st["header"])
            checks.set_column(col, col, width)
        for row, f in enumerate(result.findings, start=3):
            for col, text in enumerate((f.severity_text, f.code, f"{f.table or ''} {f.row or ''}·{f.column or ''}",
                                        f.message)):
                checks.write(row, col, text, st["label"])
        wb.close()

    return atomic_write(out, write)


def _print_across(ws, one_page_wide: bool = True) -> None:
    """A4 landscape, as wide as one page unless that would make the print unreadable."""
    ws.set_landscape()
    ws.set_paper(9)
    if one_page_wide:
        ws.fit_to_pages(1, 0)


def _banner(ws, text: str, width: float, last_col: int, style) -> None:
    """A note across the top of a sheet, tall enough for its lines."""
    merge_value(ws, 0, 0, 0, max(last_col, 1), text, style)
    ws.set_row(0, text_lines(text, width) * 15.0 + 6)


def _number(ws, row: int, col: int, value: Decimal | None, style) -> None:
    write_value(ws, row, col, value, style)


def write_report(campaign: Campaign, result: MergeResult, outdir: Path, targets: Iterable[str]) -> dict[str, Path]:
    """The total's tables as .docx/HTML through the build step's writers."""
    from nianbao.report.build import write_outputs
    from nianbao.report.model import Heading, Paragraph, ReportDocument, table_grid

    fmt = campaign.format
    title = fmt.report_title(area_name(campaign), campaign.year) + "（汇总表）"
    included = "、".join(i.name for i in result.included) or "无"
    intro = f"本汇总表由 {len(result.included)} 个单位报送的数据相加得出：{included}。"
    doc = ReportDocument(title=title, intro=intro, unit=area_name(campaign), year=campaign.year, format_key=fmt.key)
    doc.blocks.append(Paragraph(result.missing_note))
    if result.findings:
        doc.blocks.append(Paragraph(f"汇总数据重新校验有 {len(result.findings)} 项未通过：" +
                                    "；".join(f.message for f in result.findings[:10])))
    for part in fmt.parts:
        if part.table:
            doc.blocks.append(Heading(part.heading, 1, part.id))
            doc.blocks.append(table_grid(fmt.tables[part.table], result.total))
    return write_outputs(doc, outdir, tuple(t for t in targets if t in ("docx", "html", "md", "pdf")))


__all__ = ["Included", "MergeResult", "Missing", "merge", "merge_campaign", "merge_values", "missing_note"]

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
from nianbao.sheetwrite import merge_value, new_workbook, write_value
from nianbao.campaign.folder import Campaign, open_campaign
from nianbao.campaign.review import (HELD, MISSING, RETURNED, STATES, UNUSABLE, latest_accepted, latest_valid,
                                     unit_states)
from nianbao.errors import NianbaoError
from nianbao.check import validate
from nianbao.findings import Finding
from nianbao.format.model import Format
from nianbao.layout import table_layout, text_lines
from nianbao.sheetwrite import merge_value, new_workbook, write_value
from nianbao.submission import Submission
from nianbao.rules import compute_derived

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
    state: str  # a review state word (未提交, 有错误, 已退回…)
    reason: str


@dataclass
class Group:
    """One 上级单位 with everything below it: its own total, re-validated."""

    code: str
    name: str
    members: list[str]  # codes included in this total (the parent itself and its descendants)
    missing: list[Missing]  # 下级缺报: units below it (or itself) left out
    total: dict[str, Decimal | None]
    findings: list[Finding]


class NothingAccepted(NianbaoError):
    """No unit can be summed: an all-zero 汇总表 would be mistaken for a real one."""


@dataclass
class MergeResult:
    total: dict[str, Decimal | None]
    included: list[Included]
    missing: list[Missing]
    findings: list[Finding]
    groups: list[Group] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def missing_note(self) -> str:
        return missing_note(self.missing)

    def to_json(self) -> dict:
        return {"included": [{"code": i.code, "name": i.name, "sha256": i.sha256, "accepted": i.accepted}
                             for i in self.included],
                "missing": [m.__dict__ for m in self.missing],
                "groups": [{"code": g.code, "name": g.name, "members": g.members,
                            "missing": [m.__dict__ for m in g.missing],
                            "total": {k: (None if v is None else str(v)) for k, v in g.total.items()},
                            "findings": [f.to_json() for f in g.findings]} for g in self.groups],
                "total": {k: (None if v is None else str(v)) for k, v in self.total.items()},
                "findings": [f.to_json() for f in self.findings],
                "outputs": {k: str(v) for k, v in self.outputs.items()}}


def by_state(missing: list[Missing]) -> dict[str, list[Missing]]:
    """The units left out, grouped by their state, in the order states are listed."""
    out: dict[str, list[Missing]] = {}
    for state in STATES:
        group = [m for m in missing if m.state == state]
        if group:
            out[state] = group
    return out


def missing_note(missing: list[Missing]) -> str:
    if not missing:
        return "全部单位均已纳入汇总。"
    parts = [f"{state} {len(group)} 个：{'、'.join(m.name for m in group)}" for state, group in by_state(missing).items()]
    return f"以下 {len(missing)} 个单位未纳入汇总——" + "；".join(parts) + "。"


def merge(directory: Path, include_unaccepted: bool = False, targets: Iterable[str] = ("docx", "html"),
          allow_empty: bool = False) -> MergeResult:
    """Sum the accepted units (or, with ``include_unaccepted``, the latest valid ones) and write
    汇总/. With no unit to sum it refuses (:class:`NothingAccepted`) unless ``allow_empty``."""
    with open_campaign(directory) as campaign:
        result = merge_campaign(campaign, include_unaccepted)
        if not result.included and not allow_empty:
            counts = "，".join(f"{state} {len(group)}" for state, group in by_state(result.missing).items())
            hint = "先用 nianbao campaign accept 确认，或加 --include-unaccepted 使用未确认但无错误的版本"
            raise NothingAccepted(f"没有可汇总的单位（{counts}），未生成汇总表：{hint}")
        outdir = campaign.dir / MERGE_DIR
        outdir.mkdir(exist_ok=True)
        result.outputs["xlsx"] = write_workbook(campaign, result, outdir / WORKBOOK_NAME)
        result.outputs.update(write_report(campaign, result, outdir, targets))
        return result


def merge_campaign(campaign: Campaign, include_unaccepted: bool = False) -> MergeResult:
    ledger, fmt = campaign.ledger, campaign.format
    states = {s.code: s for s in unit_states(campaign)}
    included, missing = [], []
    for unit in ledger.units():
        version = latest_accepted(campaign, unit["code"])
        accepted = version is not None
        if version is None and include_unaccepted:
            version = latest_valid(campaign, unit["code"])
        state = states[unit["code"]]
        if version is None:
            missing.append(Missing(unit["code"], unit["name"], state.state, _left_out_reason(state, include_unaccepted)))
            continue
        values = {k: (None if v is None else Decimal(v)) for k, v in json.loads(version.values_json).items()}
        included.append(Included(unit["code"], unit["name"], version.sha256, accepted, values))
    total = merge_values(fmt, [i.values for i in included])
    findings = _revalidate(campaign, total, area_name(campaign)) if included else []
    groups = _groups(campaign, included, missing)
    return MergeResult(total, included, missing, findings, groups)


def _left_out_reason(state, include_unaccepted: bool) -> str:
    if state.state == MISSING:
        return "尚未报送"
    if state.state == RETURNED:
        return f"已退回：{state.reason}" if state.reason else "已退回"
    if state.reason and state.state in (UNUSABLE, HELD):
        return state.reason
    if state.errors:
        return f"最新版本有 {state.errors} 处错误"
    return "没有无错误的版本" if include_unaccepted else "尚未确认"


def _revalidate(campaign: Campaign, total: dict[str, Decimal | None], name: str) -> list[Finding]:
    fmt = campaign.format
    sub = Submission(format=fmt, year=campaign.year, unit={"name": name},
                     values=dict(total))  # totals included: without formulas the validator takes them as given
    rule_ids = {r.rule_id for r in fmt.rules}
    # Only the numbers are summed: narrative and unit-detail checks do not apply to a total.
    return [f for f in validate(sub) if f.code in rule_ids]


def _tree(units: list) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The unit list as parent code -> child codes (in list order), and code -> name."""
    children: dict[str, list[str]] = {}
    for u in units:
        if u["parent"]:
            children.setdefault(u["parent"], []).append(u["code"])
    return children, {u["code"]: u["name"] for u in units}


def _groups(campaign: Campaign, included: list[Included], missing: list[Missing]) -> list[Group]:
    """One total per unit that has units below it (itself and every descendant)."""
    units = campaign.ledger.units()
    children, names = _tree(units)
    by_code = {i.code: i for i in included}
    left = {m.code: m for m in missing}
    groups = []
    for u in units:
        if u["code"] not in children:
            continue
        subtree, stack = [], [u["code"]]
        while stack:
            code = stack.pop(0)
            subtree.append(code)
            stack[0:0] = children.get(code, [])
        members = [c for c in subtree if c in by_code]
        total = merge_values(campaign.format, [by_code[c].values for c in members])
        findings = _revalidate(campaign, total, names[u["code"]]) if members else []
        groups.append(Group(u["code"], names[u["code"]], members, [left[c] for c in subtree if c in left], total,
                            findings))
    return groups


def area_name(campaign: Campaign) -> str:
    return campaign.settings["campaign"].get("area") or "本地区"


def write_workbook(campaign: Campaign, result: MergeResult, out: Path) -> Path:
    """汇总.xlsx: the total in the official layout, the units as rows (one sheet per table, with
    a 小计 per 上级单位 and the 合计), the units left out by state, and the re-validation."""
    fmt = campaign.format
    note = result.missing_note

    def write(tmp: Path) -> None:
        wb = new_workbook(tmp)
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "text_wrap": True}
        st = {
            "heading": wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"}),
            "note": wb.add_format({**base, "font_color": "#9C0006" if result.missing else "#555555", "valign": "top"}),
            "title": wb.add_format({**base, "border": 1, "bold": True, "align": "center", "bg_color": "#DDEBF7"}),
            "header": wb.add_format({**base, "border": 1, "bold": True, "align": "center", "bg_color": "#D9D9D9"}),
            "corner": wb.add_format({**base, "border": 1, "align": "center", "font_size": 10}),
            "label": wb.add_format({**base, "border": 1}),
            "cell": wb.add_format({**base, "border": 1, "align": "center", "num_format": "0.####"}),
            "sub": wb.add_format({**base, "border": 1, "bold": True, "bg_color": "#F2F2F2"}),
            "subcell": wb.add_format({**base, "border": 1, "bold": True, "bg_color": "#F2F2F2", "align": "center",
                                      "num_format": "0.####"}),
        }
        title = f"{fmt.report_title(area_name(campaign), campaign.year)} · 汇总"
        for table in fmt.tables.values():
            _official_sheet(wb, st, fmt, table, result.total, f"{title}。{note}")
        for table in fmt.tables.values():
            _units_sheet(wb, st, campaign, table, result, f"{title}。{note}")
        _missing_sheet(wb, st, campaign, result, note)
        _checks_sheet(wb, st, campaign, result, note)
        wb.close()

    return atomic_write(out, write)


def _official_sheet(wb, st, fmt: Format, table, total: Mapping[str, Decimal | None], note: str) -> None:
    ws = wb.add_worksheet(table.sheet)
    layout = table_layout(table)
    widths = layout.column_widths()
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    by_box = {id(b): cid for cid, b in layout.cells.items()}
    for box in layout.boxes:
        if box.role == "note":
            continue  # "how to fill" does not apply to a total; the missing-units note goes there
        if box.role == "cell":
            value = total.get(by_box[id(box)])
            text = None if value is None else float(value)
            style = st["cell"]
        else:
            text, style = box.text, st[box.role]
        if box.merged:
            merge_value(ws, box.row, box.col, box.last_row, box.last_col, text, style)
        elif text is None:
            ws.write_blank(box.row, box.col, None, style)
        else:
            write_value(ws, box.row, box.col, text, style)
    for row, height in layout.row_heights().items():  # long labels wrap, as on the template
        ws.set_row(row, height)
    merge_value(ws, 1, 0, 1, layout.ncols - 1, note, st["note"])
    ws.set_row(1, text_lines(note, sum(widths)) * 15.0 + 6)  # the whole note shows, never one clipped line
    first_cell = min(b.row for b in layout.boxes if b.role == "cell")
    heads = [b.row for b in layout.boxes if b.role == "header" and b.row < first_cell]
    if heads:  # a table over two pages (表三) shows its column headers on each
        ws.repeat_rows(min(heads), first_cell - 1)
    _print_setup(ws)


#: Table columns that a per-unit sheet shows: 表三's applicant types are in the official sheet;
#: per unit, its 总计 column keeps the sheet a few pages wide.
_UNIT_COLUMNS = {"t3": ("total",)}


def unit_columns(fmt: Format, table) -> list[tuple[str, str]]:
    """(cell id, header label) of a per-unit sheet, labels from the official table."""
    keep = _UNIT_COLUMNS.get(table.id)
    out = []
    for cell in fmt.cells.values():
        if cell.table != table.id or (keep and cell.column.id not in keep):
            continue
        if keep:
            label = cell.row.display
        elif cell.row.display:
            label = f"{cell.row.display}·{cell.column.label}"
        else:
            label = "·".join(cell.column.path)
        out.append((cell.id, label))
    return out


def _unit_rows(campaign: Campaign, result: MergeResult) -> list[tuple[str, str, dict[str, Decimal | None]]]:
    """(kind, label, values) in unit-list hierarchy: each unit, then a 小计 after each 上级单位's
    subtree; kind is unit | sub."""
    fmt = campaign.format
    units = campaign.ledger.units()
    children, names = _tree(units)
    included = {i.code: compute_derived(fmt, dict(i.values)) for i in result.included}
    groups = {g.code: g for g in result.groups}
    rows: list[tuple[str, str, dict[str, Decimal | None]]] = []

    def walk(code: str, depth: int) -> None:
        if code in included:
            rows.append(("unit", "　" * depth + names[code], included[code]))
        for child in children.get(code, []):
            walk(child, depth + 1)
        group = groups.get(code)
        if group is not None and group.members:
            rows.append(("sub", "　" * depth + f"小计：{names[code]}及下级（{len(group.members)} 个单位）", group.total))

    for u in units:
        if not u["parent"]:
            walk(u["code"], 0)
    return rows


def _units_sheet(wb, st, campaign: Campaign, table, result: MergeResult, note: str) -> None:
    fmt = campaign.format
    ws = wb.add_worksheet(f"各单位·{table.short}")
    columns = unit_columns(fmt, table)
    heads = ["单位名称"] + [label for _, label in columns]
    widths = [30.0] + [9.0] * len(columns)
    # Column A repeats on every page across, so it holds only the sheet's name; the note spans
    # from B what fits on the first page (a merged cell starting in A would print cut on page 2).
    span = next((i for i in range(1, len(widths)) if sum(widths[1:i + 1]) > 100), len(widths)) - 1
    write_value(ws, 0, 0, f"{table.short}：各单位数据", st["heading"])
    merge_value(ws, 0, 1, 0, max(span, 2), note, st["note"])
    ws.set_row(0, min(409, text_lines(note, sum(widths[1:span + 1])) * 15.0 + 6))
    for col, (text, width) in enumerate(zip(heads, widths)):
        write_value(ws, 2, col, text, st["header"])
        ws.set_column(col, col, width)
    ws.set_row(2, max(text_lines(h, w) for h, w in zip(heads, widths)) * 14.0 + 4)
    rows = _unit_rows(campaign, result) + [("sub", f"合计（{len(result.included)} 个单位）", result.total)]
    for r, (kind, label, values) in enumerate(rows, start=3):
        write_value(ws, r, 0, label, st["sub" if kind == "sub" else "label"])
        for c, (cell_id, _) in enumerate(columns, start=1):
            _number(ws, r, c, values.get(cell_id), st["subcell" if kind == "sub" else "cell"])
        ws.set_row(r, text_lines(label, widths[0]) * 15.0 + 3)
    ws.freeze_panes(3, 1)
    ws.repeat_rows(2)
    ws.repeat_columns(0)
    _print_setup(ws, wide=max(1, round(sum(widths) / 150)))  # 表三: two pages across, still legible


def _missing_sheet(wb, st, campaign: Campaign, result: MergeResult, note: str) -> None:
    ws = wb.add_worksheet("未纳入的单位")
    heads, widths = ("状态", "单位名称", "上级单位", "原因"), (14, 30, 24, 60)
    _banner(ws, note, sum(widths), len(heads) - 1, st["note"])
    for col, (text, width) in enumerate(zip(heads, widths)):
        write_value(ws, 2, col, text, st["header"])
        ws.set_column(col, col, width)
    names = {u["code"]: u["name"] for u in campaign.ledger.units()}
    parents = {u["code"]: u["parent"] or "" for u in campaign.ledger.units()}
    row = 3
    for state, group in by_state(result.missing).items():
        for m in group:
            values = (state, m.name, names.get(parents.get(m.code, ""), ""), m.reason)
            for col, text in enumerate(values):
                write_value(ws, row, col, text, st["label"])
            ws.set_row(row, max(text_lines(str(t), w) for t, w in zip(values, widths)) * 15.0 + 3)
            row += 1
    ws.repeat_rows(2)
    _print_setup(ws)


def _checks_sheet(wb, st, campaign: Campaign, result: MergeResult, note: str) -> None:
    ws = wb.add_worksheet("汇总校验")
    scopes = [(f"{area_name(campaign)}合计", result.findings, result.missing)]
    scopes += [(f"{g.name}及下级", g.findings, g.missing) for g in result.groups if g.members]
    failed = sum(len(f) for _, f, _ in scopes)
    head = f"汇总数据重新校验：{'全部通过' if not failed else f'{failed} 项未通过'}。{note}"
    heads, widths = ("汇总范围", "校验结果", "下级缺报", "说明"), (26, 12, 60, 42)
    _banner(ws, head, sum(widths), len(heads) - 1, st["note"])
    for col, (text, width) in enumerate(zip(heads, widths)):
        write_value(ws, 2, col, text, st["header"])
        ws.set_column(col, col, width)
    row = 3
    for i, (scope, findings, left) in enumerate(scopes):
        absent = "、".join(f"{m.name}（{m.state}）" for m in left) or "无"
        if i == 0 and left:  # the grand total: the full list is a sheet of its own
            absent = f"{len(left)} 个单位，见“未纳入的单位”工作表"
        lines = [f"{f.severity_text}：{f.table or ''}{f.row or ''}{'·' + f.column if f.column else ''} {f.message}".strip()
                 for f in findings]
        values = (scope, "通过" if not findings else f"{len(findings)} 项未通过", absent, "\n".join(lines) or "—")
        for col, text in enumerate(values):
            write_value(ws, row, col, text, st["label"])
        ws.set_row(row, min(409, max(text_lines(str(t), w) for t, w in zip(values, widths)) * 15.0 + 3))
        row += 1
    ws.repeat_rows(2)
    _print_setup(ws)


def _print_setup(ws, wide: int = 1) -> None:
    """A4 landscape, ``wide`` pages across, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.fit_to_pages(wide, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _banner(ws, text: str, width: float, last_col: int, style) -> None:
    """A note across the top of a sheet, tall enough for its lines."""
    merge_value(ws, 0, 0, 0, max(last_col, 1), text, style)
    ws.set_row(0, min(409, text_lines(text, width) * 15.0 + 6))


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


__all__ = ["Group", "Included", "MergeResult", "Missing", "NothingAccepted", "by_state", "merge", "merge_campaign",
           "merge_values", "missing_note"]

"""Format + unit (+ last year) → the locked .xlsx template a unit fills in.

Sheets: 填报说明 (instructions, unit details, live status), 正文 (one cell per narrative part),
one sheet per table laid out like the official table, 检查 (every rule with its live result),
and a very-hidden _meta sheet that carries identity and the cell map. Check formulas are stored
with the values Python computes for the template's own numbers, so they read sensibly before
any recalculation (XlsxWriter would otherwise store 0).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_range_abs, xl_rowcol_to_cell

from nianbao import __version__
from nianbao.atomic import atomic_write
from nianbao.errors import NianbaoError
from nianbao.format.model import Cell, Format, RuleInstance, defined_name
from nianbao.layout import Box, SheetLayout, table_layout, text_lines
from nianbao.findings import after_sending_sentence
from nianbao.livechecks import (
    BLANK,
    PENDING_TEXT,
    STATE_COL,
    STATE_ROW,
    TEXT,
    WRONG,
    RuleState,
    blank_errors,
    blank_errors_formula,
    difference_formula,
    inputs_of_table,
    result_formula,
    rule_state,
    sheet_state,
    state_formula,
    text_state,
    text_state_formula,
    wrong_format_formula,
)
from nianbao.rules import FAIL_TEXT, PASS_TEXT, Ref, active_rules, check, compute_derived, to_excel
from nianbao.sheets import (CELL_MAP, CELL_MAP_LEGEND, CHECK_SHEET, INSTRUCTIONS_SHEET, META_SHEET, NARRATIVE_SHEET,
                            cell_map_texts, ref_name)
from nianbao.submission import Submission
from nianbao.xlsxpost import lock_structure

MAX_CELL_TEXT = 32767
FAILED_NAME = "nb_check_failed"  # the 检查 sheet's column of errors (1 per error finding it stands for)
WARNED_NAME = "nb_check_warned"
UNIT_GROUP = "单位信息"
#: Visible columns of the 检查 sheet (序号, 检查内容, 位置, 结果, 差额/个数, 级别, 规则编号): one A4 page wide.
CHECK_WIDTHS = (5, 46, 28, 8, 9, 6, 15)
CHECK_NOTE = ("本表随填写自动计算。“不通过”和“待填写”的行需要处理：点击“位置”可跳到该单元格；“待填写”表示相关单元格"
              "还没有填完，填完后才会检查。最右一列的规则编号供汇总单位核对时使用。")
STATUS_NAME = "nb_status"
YEAR_MIN = 2019

INSTRUCTIONS = (
    "如果 Excel 或 WPS 顶部提示“受保护的视图”，请先点击“启用编辑”，否则公式不计算，检查结果不会更新。",
    "只能在黄色单元格中填写；其他单元格已锁定。请不要取消工作表保护，不要插入、删除行列或重命名工作表。",
    "数字一律填写阿拉伯数字，不带单位；没有发生的填 0，不要留空，也不要填“/”“—”“无”。",
    "空白单元格视为未填写，报送时会被退回；只有填 0 才表示“没有”。",
    "表二中的金额以“万元”为单位，最多保留 4 位小数。",
    "灰色单元格（合计、总计）由公式自动计算，不需要填写。",
    "正文各部分在“正文”工作表中填写，每个黄色单元格一段，可直接粘贴文字。",
    "填写完毕请查看本页“检查结果”：显示“全部通过”后再报送。“检查”工作表逐项列出还没有填完或不一致的地方，点击“位置”可跳到要改的单元格。",
    "请保存为 Excel 工作簿（.xlsx）后报送，不要另存为 .xls、.et 或其他格式，不要改文件结构。",
)


@dataclass
class TemplateResult:
    path: Path
    format_key: str
    unit: str
    year: int
    token: str
    input_cells: int
    checks: int
    prefilled: dict[str, Decimal] = field(default_factory=dict)


def make_template(
    fmt: Format,
    unit: Mapping[str, str],
    year: int,
    out: Path,
    previous: Submission | None = None,
    token: str | None = None,
) -> TemplateResult:
    """Write the locked template for one unit and year to ``out`` (atomically)."""
    details = {k: (v or "").strip() for k, v in unit.items()}
    _check_request(fmt, details, year, out)
    token = token or secrets.token_hex(8)
    prev = _previous_values(fmt, previous)
    writer = TemplateWriter(fmt, details, year, token, prev)
    def write(tmp: Path) -> None:
        writer.write(tmp)
        lock_structure(tmp)

    atomic_write(out, write)
    return TemplateResult(out, fmt.key, details["name"], year, token, len(fmt.input_cells),
                          len(writer.rules), writer.prefilled)


def _check_request(fmt: Format, details: dict[str, str], year: int, out: Path) -> None:
    if not details.get("name"):
        raise NianbaoError("单位名称不能为空（--unit）")
    this_year = dt.date.today().year
    if not YEAR_MIN <= year <= this_year + 1:
        raise NianbaoError(f"报告年度 {year} 不在 {YEAR_MIN}–{this_year + 1} 之间")
    if not fmt.covers(year):
        raise NianbaoError(f"格式 {fmt.key} 不适用于 {year} 年度")
    if out.suffix.lower() != ".xlsx":
        raise NianbaoError(f"输出文件应以 .xlsx 结尾：{out}")
    if not out.parent.is_dir():
        raise NianbaoError(f"输出目录不存在：{out.parent}")
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise NianbaoError(f"没有写入权限：{out}")


def _previous_values(fmt: Format, previous: Submission | None) -> dict[str, Decimal | None]:
    """Last year's numbers that this edition's rules refer to (``prev.<cell>``)."""
    if previous is None:
        return {}
    wanted = {ref.cell for rule in fmt.rules for ref in rule.compare.refs() if ref.previous}
    return {cell: previous.values.get(cell) for cell in sorted(wanted) if cell in previous.values}


def prefill_from_previous(fmt: Format, prev: Mapping[str, Decimal | None]) -> dict[str, Decimal]:
    """Inputs a rule equates to last year's value (this R2 = last R25) start with that value."""
    filled: dict[str, Decimal] = {}
    for rule in fmt.rules:
        left, right = rule.compare.left, rule.compare.right
        if (rule.compare.op == "==" and isinstance(left, Ref) and isinstance(right, Ref)
                and not left.previous and right.previous and prev.get(right.cell) is not None
                and left.cell not in fmt.derived):
            filled[left.cell] = prev[right.cell]  # type: ignore[assignment]
    return filled


class TemplateWriter:
    """Writes one template workbook from the format. ``annotate`` subclasses it to write the
    same workbook holding a unit's values and its findings, so the two never drift apart."""

    def __init__(self, fmt: Format, details: dict[str, str], year: int, token: str,
                 prev: dict[str, Decimal | None]) -> None:
        self.fmt, self.details, self.year, self.token, self.prev = fmt, details, year, token, prev
        self.prefilled = prefill_from_previous(fmt, prev)
        inputs: dict[str, Decimal | None] = {c.id: self.prefilled.get(c.id) for c in fmt.input_cells}
        inputs.update({f"prev.{k}": v for k, v in prev.items()})
        self.values = compute_derived(fmt, inputs)
        self.rules = active_rules(fmt, bool(prev))
        self.outcomes = [check(rule, self.values) for rule in self.rules]
        self.cell_map: list[tuple[str, str, str, str, str]] = []  # kind, id, sheet, A1, name
        self.locations: dict[str, tuple[str, int, int]] = {}

    # ------------------------------------------------------------------ workbook
    def write(self, path: Path) -> None:
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                             "strings_to_numbers": False})
        self.wb = wb
        self.styles = _Styles(wb)
        first = wb.add_worksheet(INSTRUCTIONS_SHEET)
        narrative = wb.add_worksheet(NARRATIVE_SHEET)
        tables = [(t, wb.add_worksheet(t.sheet)) for t in self.fmt.tables.values()]
        checks = wb.add_worksheet(CHECK_SHEET)
        meta = wb.add_worksheet(META_SHEET)
        for table, ws in tables:
            self._table_sheet(ws, table_layout(table))
        self._narrative_sheet(narrative)
        self._check_sheet(checks)
        self._instructions_sheet(first)
        self._meta_sheet(meta)
        self._properties()
        first.activate()
        wb.close()

    def _define(self, kind: str, ident: str, sheet: str, row: int, col: int) -> str:
        name = defined_name(ident)
        a1 = xl_rowcol_to_cell(row, col)
        self.wb.define_name(name, f"={_quote(sheet)}!{xl_rowcol_to_cell(row, col, True, True)}")
        self.cell_map.append((kind, ident, sheet, a1, name))
        self.locations[ident] = (sheet, row, col)
        return name

    def _protect(self, ws) -> None:
        ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                        "format_columns": True, "format_rows": True})

    # ------------------------------------------------------------------ table sheets
    def _table_sheet(self, ws, layout: SheetLayout) -> None:
        table, st = layout.table, self.styles
        for i, width in enumerate(layout.column_widths()):
            ws.set_column(i, i, width)
        for row, height in layout.row_heights().items():
            ws.set_row(row, height)
        by_box = {id(box): cell_id for cell_id, box in layout.cells.items()}
        for box in layout.boxes:
            if box.role == "cell":
                self._number_cell(ws, table.sheet, box, self.fmt.cells[by_box[id(box)]])
            else:
                _put(ws, box, box.text, st.for_role(box.role))
        self._wrong_input_formats(ws, layout)
        landscape = layout.ncols > 5
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.set_paper(9)
        # A whole table on one A4 page when it stays legible; else whole-width pages that repeat
        # the header rows and the row labels, so no page holds rows without their labels.
        ws.fit_to_pages(1, 1 if one_page_scale(layout, landscape) >= MIN_PRINT_SCALE else 0)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.print_area(0, 0, layout.nrows - 1, layout.ncols - 1)
        if table.label_levels:
            ws.repeat_columns(0, table.label_levels - 1)
        if layout.header_rows:
            ws.repeat_rows(*layout.header_rows)
            ws.freeze_panes(layout.header_rows[1] + 1, table.label_levels)
        self._protect(ws)

    def _wrong_input_formats(self, ws, layout: SheetLayout) -> None:
        """Input cells holding text or a number of the wrong kind turn red as soon as they are typed."""
        by_kind: dict[str, list[str]] = {}
        for cell_id, box in layout.cells.items():
            if cell_id not in self.fmt.derived:
                by_kind.setdefault(self.fmt.cells[cell_id].kind, []).append(xl_rowcol_to_cell(box.row, box.col))
        for kind, refs in by_kind.items():
            ws.conditional_format(refs[0], {"type": "formula", "criteria": wrong_format_formula(refs[0], kind),
                                            "format": self.styles.bad, "multi_range": " ".join(refs)})

    def _number_cell(self, ws, sheet: str, box: Box, cell: Cell) -> None:
        st = self.styles
        derived = self.fmt.derived.get(cell.id)
        style = st.derived if derived else st.input_for(cell.kind)
        if box.merged:
            ws.merge_range(box.row, box.col, box.last_row, box.last_col, "", style)
        if derived:
            formula = "=" + to_excel(derived.compare.right, ref_name)
            ws.write_formula(box.row, box.col, formula, style, _cached(self.values[cell.id]))
        else:
            value = self.prefilled.get(cell.id)
            if value is None:
                ws.write_blank(box.row, box.col, None, style)
            else:
                ws.write_number(box.row, box.col, float(value), style)
            ws.data_validation(box.row, box.col, box.row, box.col, _validation(cell, box))
        self._define("derived" if derived else "number", cell.id, sheet, box.row, box.col)

    # ------------------------------------------------------------------ narrative sheet
    def _narrative_sheet(self, ws) -> None:
        st = self.styles
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 22)
        ws.set_column(2, 2, 80)
        ws.set_column(3, 3, 40)
        ws.merge_range(0, 0, 0, 3, f"{self.fmt.report_title(self.details['name'], self.year)} · 正文", st.heading)
        ws.set_row(0, 28)
        ws.merge_range(1, 0, 1, 3, "每个黄色单元格填写一段正文，可直接粘贴（每格最多 32767 字）；表二至表四的数字在各表中填写。", st.note)
        for col, text in enumerate(("部分", "标题", "内容", "填写说明")):
            ws.write(2, col, text, st.header)
        row = 3
        for part in self.fmt.parts:
            if len(part.narratives) > 1:  # one part, one merged label beside its paragraphs
                ws.merge_range(row, 0, row + len(part.narratives) - 1, 0, part.heading, st.label)
            elif part.narratives:
                ws.write(row, 0, part.heading, st.label)
            for narrative in part.narratives:
                ws.write(row, 1, narrative.title, st.label)
                ws.write_blank(row, 2, None, st.text_input)
                ws.write(row, 3, narrative.guidance, st.guidance)
                ws.set_row(row, 150)
                ws.data_validation(row, 2, row, 2, {
                    "validate": "length", "criteria": "<=", "value": MAX_CELL_TEXT,
                    "input_title": narrative.title[:32], "input_message": narrative.guidance[:255],
                    "error_title": "内容过长", "error_message": f"每个单元格最多 {MAX_CELL_TEXT} 个字，请分段精简。"})
                self._define("narrative", f"narrative.{narrative.id}", NARRATIVE_SHEET, row, 2)
                row += 1
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        self._protect(ws)

    # ------------------------------------------------------------------ check sheet
    def _check_sheet(self, ws) -> None:
        """Every live check, in words first: what is left to fill per sheet, then every rule.
        Per-cell states sit in hidden columns to the right; the visible columns print on one page."""
        st = self.styles
        for col, width in enumerate(CHECK_WIDTHS):
            ws.set_column(col, col, width)
        ws.set_column(7, 9, None, None, {"hidden": True})
        ws.set_column(STATE_COL, STATE_COL + len(self.fmt.tables) + 1, None, None, {"hidden": True})
        ws.merge_range(0, 0, 0, 6, "检查（填写时自动计算，无需修改）", st.heading)
        ws.set_row(0, 28)
        ws.merge_range(1, 0, 1, 6, CHECK_NOTE, st.note)
        ws.set_row(1, text_lines(CHECK_NOTE, sum(CHECK_WIDTHS)) * 15.0 + 6)
        for col, text in enumerate(("序号", "检查内容", "位置（点击可跳转）", "结果", "差额/个数", "级别", "规则编号",
                                    "计入错误", "计入提示", "所在表")):
            ws.write(2, col, text, st.header)
        live = self._live = self._live_state()
        self.check_rows: dict[str, int] = {}
        row = 3
        ws.merge_range(row, 0, row, 6, "一、是否填写完整、正确", st.title)
        row += 1
        number = 0
        for group in live.groups:
            for item in group.items:
                number += 1
                self._count_row(ws, row, number, group, item)
                row += 1
        ws.merge_range(row, 0, row, 6, "二、勾稽关系", st.title)
        row += 1
        first_rule = row
        for rule, state in zip(self.rules, live.rules):
            number += 1
            self._rule_row(ws, row, number, rule, state)
            row += 1
        last = max(row - 1, first_rule)
        self.rule_rows = (first_rule, last)
        self.wb.define_name(FAILED_NAME, f"={_quote(CHECK_SHEET)}!{xl_range_abs(3, 7, last, 7)}")
        self.wb.define_name(WARNED_NAME, f"={_quote(CHECK_SHEET)}!{xl_range_abs(3, 8, last, 8)}")
        result_range = xl_range_abs(3, 3, last, 3).replace("$", "")
        ws.conditional_format(result_range, {"type": "cell", "criteria": "==", "value": f'"{FAIL_TEXT}"',
                                             "format": st.bad})
        ws.conditional_format(result_range, {"type": "cell", "criteria": "==", "value": f'"{PASS_TEXT}"',
                                             "format": st.good})
        ws.conditional_format(result_range, {"type": "cell", "criteria": "==", "value": f'"{PENDING_TEXT}"',
                                             "format": st.pending})
        self.checks_total = number
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        ws.print_area(0, 0, last, 6)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        self._protect(ws)

    def _link(self, ws, row: int, col: int, target: tuple[str, int, int] | None, text: str) -> None:
        if target is None:
            ws.write_string(row, col, text, self.styles.label)
            return
        sheet, r, c = target
        ws.write_url(row, col, f"internal:{_quote(sheet)}!{xl_rowcol_to_cell(r, c)}", self.styles.link,
                     string=text)

    def _count_row(self, ws, row: int, number: int, group: "_LiveGroup", item: "_LiveItem") -> None:
        """One 'what is left' row: the count of cells in one state, from the hidden state column."""
        st = self.styles
        ws.write_number(row, 0, number, st.center)
        ws.write(row, 1, item.description, st.label)
        ws.set_row(row, max(20.0, text_lines(item.description, CHECK_WIDTHS[1]) * 15.0 + 4))
        self._link(ws, row, 2, group.target, group.where)
        state_range = xl_range_abs(STATE_ROW, group.column, STATE_ROW + max(len(group.cells), 1) - 1, group.column)
        count = f"COUNTIF({state_range},{item.state})"
        e = xl_rowcol_to_cell(row, 4)
        failing = PENDING_TEXT if item.state == BLANK else FAIL_TEXT
        ws.write_formula(row, 3, f'=IF({e}=0,"{PASS_TEXT}","{failing}")', st.result,
                         PASS_TEXT if item.count == 0 else failing)
        ws.write_formula(row, 4, "=" + count, st.center, item.count)
        ws.write(row, 5, "错误", st.center)
        ws.write(row, 6, item.code, st.code)
        errors = blank_errors_formula(e, len(group.cells)) if item.state == BLANK and group.table else e
        ws.write_formula(row, 7, "=" + errors, st.center, item.errors)
        ws.write_number(row, 8, 0, st.center)
        ws.write_string(row, 9, group.short, st.center)
        group.count_cells[item.state] = f"{_quote(CHECK_SHEET)}!{xl_rowcol_to_cell(row, 4, True, True)}"
        if item.state == BLANK:
            for i, (cell_id, formula, state) in enumerate(group.cells):
                ws.write_formula(STATE_ROW + i, group.column, formula, None, state)

    def _rule_row(self, ws, row: int, number: int, rule: RuleInstance, state: RuleState) -> None:
        st = self.styles
        ws.write_number(row, 0, number, st.center)
        ws.write(row, 1, rule.description, st.label)
        ws.set_row(row, max(20.0, text_lines(rule.description, CHECK_WIDTHS[1]) * 15.0 + 4))
        first = rule.cells[0] if rule.cells else None
        target = self.locations.get(first) if first else None
        where = ""
        if first:
            cell = self.fmt.cells[first]
            sheet, r, c = target
            # The description names the row and column; the link names the sheet and cell, short
            # enough for one line (office suites do not wrap a hyperlink cell).
            where = f"{self.fmt.tables[cell.table].sheet} {xl_rowcol_to_cell(r, c)}"
        self._link(ws, row, 2, target, where)
        ws.write_formula(row, 3, result_formula(self.fmt, rule, ref_name), st.result, state.text)
        ws.write_formula(row, 4, difference_formula(xl_rowcol_to_cell(row, 3), rule, ref_name), st.center,
                         "" if state.diff is None else float(state.diff))
        ws.write(row, 5, "错误" if rule.severity == "error" else "警告", st.center)
        ws.write(row, 6, rule.rule_id, st.code)
        d = xl_rowcol_to_cell(row, 3)
        flag = f'=IF({d}="{FAIL_TEXT}",1,0)'
        error_col, warn_col = (7, 8) if rule.severity == "error" else (8, 7)
        ws.write_formula(row, error_col, flag, st.center, 1 if state.failed else 0)
        ws.write_number(row, warn_col, 0, st.center)
        ws.write_string(row, 9, self.fmt.tables[self.fmt.cells[first].table].short if first else "", st.center)
        self._define("check", f"check.{rule.key}", CHECK_SHEET, row, 3)
        self._highlight(rule)

    def _highlight(self, rule: RuleInstance) -> None:
        """Turn the rule's cells red while it fails (per sheet, one conditional format that reads
        the rule's own check cell by name, so it never disagrees with the 检查 sheet)."""
        failing = f'={defined_name("check." + rule.key)}="{FAIL_TEXT}"'
        by_sheet: dict[str, list[str]] = {}
        for cell_id in rule.cells:
            sheet, row, col = self.locations[cell_id]
            by_sheet.setdefault(sheet, []).append(xl_rowcol_to_cell(row, col))
        for sheet, refs in by_sheet.items():
            ws = self.wb.get_worksheet_by_name(sheet)
            ws.conditional_format(refs[0], {"type": "formula", "criteria": failing,
                                            "format": self.styles.bad, "multi_range": " ".join(refs)})

    def _live_state(self) -> "_Live":
        """The live checks with their values for this workbook's own contents (cached results)."""
        fmt = self.fmt
        raw = self.stored_numbers()
        states = {c.id: sheet_state(raw.get(c.id), c.kind) for c in fmt.input_cells}
        groups: list[_LiveGroup] = []
        col = STATE_COL
        for table in fmt.tables.values():
            cells = inputs_of_table(fmt, table.id)
            kinds = {c.kind for c in cells}
            group = _LiveGroup(table.short, table.sheet, col, True,
                               [(c.id, state_formula(ref_name(Ref(c.id)), c.kind), states[c.id]) for c in cells],
                               self.locations.get(cells[0].id) if cells else None)
            n_blank = sum(1 for c in cells if states[c.id] == BLANK)
            n_text = sum(1 for c in cells if states[c.id] == TEXT)
            n_wrong = sum(1 for c in cells if states[c.id] == WRONG)
            group.items = [
                _LiveItem(BLANK, f"{table.short}：空白单元格（没有发生的请填 0）", "BLANK", n_blank,
                          blank_errors(n_blank, len(cells))),
                _LiveItem(TEXT, f"{table.short}：数字单元格中填了文字（如“无”“/”、全角数字、文本格式的数字）",
                          "NUMBER-AS-TEXT", n_text, n_text),
                _LiveItem(WRONG, f"{table.short}：{_wrong_words(kinds)}", "TYPES", n_wrong, n_wrong),
            ]
            groups.append(group)
            col += 1
        texts = self.stored_texts()
        narratives = [n for n in fmt.narratives if n.required]
        group = _LiveGroup(NARRATIVE_SHEET, NARRATIVE_SHEET, col, False,
                           [(f"narrative.{n.id}", text_state_formula(n.name), text_state(texts.get(n.id)))
                            for n in narratives],
                           self.locations.get(f"narrative.{narratives[0].id}") if narratives else None)
        n_blank = sum(1 for _, _, s in group.cells if s == BLANK)
        group.items = [_LiveItem(BLANK, "正文：必填的部分还没有写（确实没有的写“无”）", "REQUIRED", n_blank, n_blank)]
        groups.append(group)
        col += 1
        fields = [f for f in fmt.unit_fields if f.input and f.required]
        group = _LiveGroup(UNIT_GROUP, "填报说明 单位信息", col, False,
                           [(f"unit.{f.id}", text_state_formula(f.name), text_state(self.details.get(f.id)))
                            for f in fields],
                           (INSTRUCTIONS_SHEET, self._unit_row(fields[0]), 1) if fields else None)
        n_blank = sum(1 for _, _, s in group.cells if s == BLANK)
        group.items = [_LiveItem(BLANK, "单位信息：必填项还没有填（" + "、".join(f.label for f in fields) + "）",
                                 "REQUIRED", n_blank, n_blank)]
        groups.append(group)
        values = dict(self.values)
        for cell in fmt.input_cells:  # what the sheet computes with: text counts as nothing
            if states[cell.id] == TEXT:
                values[cell.id] = None
        values = compute_derived(fmt, values)
        rules = [rule_state(fmt, rule, states, values) for rule in self.rules]
        return _Live(groups, rules)

    def stored_numbers(self) -> dict[str, object]:
        """The input cells' contents as this workbook stores them (the template: last year's carry-over)."""
        return dict(self.prefilled)

    def stored_texts(self) -> dict[str, str]:
        return {}

    # ------------------------------------------------------------------ first sheet
    def _instructions_sheet(self, ws) -> None:
        st = self.styles
        ws.set_column(0, 0, 18)
        ws.set_column(1, 1, 46)
        ws.set_column(2, 2, 56)
        title = f"{self.fmt.report_title(self.details['name'], self.year)} · 填报模板"
        ws.merge_range(0, 0, 0, 2, title, st.heading)
        ws.set_row(0, 30)
        ws.write(2, 0, "检查结果", st.big_label)
        formula, cached, _ = self._status()
        ws.merge_range(2, 1, 2, 2, "", st.status)
        ws.write_formula(2, 1, formula, st.status, cached)
        ws.set_row(2, 66)
        total = f"SUM({FAILED_NAME})"
        ws.conditional_format("B3", {"type": "formula", "criteria": f"={total}>0", "format": st.bad})
        ws.conditional_format("B3", {"type": "formula", "criteria": f"={total}=0", "format": st.good})
        self.cell_map.append(("status", "status", INSTRUCTIONS_SHEET, "B3", STATUS_NAME))
        self.wb.define_name(STATUS_NAME, f"={_quote(INSTRUCTIONS_SHEET)}!$B$3")
        row = 4
        ws.write(row, 0, "填报说明", st.header)
        ws.merge_range(row, 1, row, 2, "", st.header)
        for i, text in enumerate((*INSTRUCTIONS, after_sending_sentence()), start=1):
            row += 1
            ws.write_number(row, 0, i, st.center)
            ws.merge_range(row, 1, row, 2, text, st.label)
            ws.set_row(row, text_lines(text, 46 + 56) * 15.0 + 6)
        row += 2
        assert row + 1 == self._unit_row(self.fmt.unit_fields[0])
        for col, text in enumerate(("单位信息", "填写内容", "说明")):
            ws.write(row, col, text, st.header)
        for fld in self.fmt.unit_fields:
            row += 1
            ws.write(row, 0, fld.label, st.label)  # the reader checks this label: keep it exact
            value = str(self.year) if fld.id == "year" else self.details.get(fld.id, "")
            style = st.text_input if fld.input else st.fixed
            ws.write_string(row, 1, value, style)
            note = fld.guidance or ("由报送系统生成，不能修改" if not fld.input else "")
            if fld.input and fld.required:
                note = "必填。" + note
            ws.write(row, 2, note, st.guidance)
            ws.set_row(row, max(22.0, text_lines(note, 56) * 15.0 + 6))
            self._define("unit", f"unit.{fld.id}", INSTRUCTIONS_SHEET, row, 1)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        self._protect(ws)

    def _unit_row(self, fld) -> int:
        """The row of a unit field on 填报说明 (below the status, the instructions and a header)."""
        return 4 + len(INSTRUCTIONS) + 1 + 3 + self.fmt.unit_fields.index(fld)

    def _status(self) -> tuple[str, str, bool]:
        """The status cell: its formula, its value for this workbook's contents, and whether it
        passes. Built from one list of (count, words) segments, rendered as Excel and as Python."""
        live = self._live
        first, last = self.rule_rows
        flags = xl_range_abs(first, 7, last, 7)
        tables = xl_range_abs(first, 9, last, 9)
        check = _quote(CHECK_SHEET)
        segments: list[tuple[str, int, str, str]] = []  # excel count, python count, before, after
        rule_fails: dict[str, int] = {}
        for rule, state in zip(self.rules, live.rules):
            if state.failed and rule.severity == "error" and rule.cells:
                short = self.fmt.tables[self.fmt.cells[rule.cells[0]].table].short
                rule_fails[short] = rule_fails.get(short, 0) + 1
        for group in live.groups:
            items = {item.state: item for item in group.items}
            unit = " 个空白单元格" if group.table else (" 部分未写" if group.short == NARRATIVE_SHEET else " 项未填")
            segments.append((group.count_cells[BLANK], items[BLANK].count, f"{group.short} 还有 ", unit))
            if group.table:
                segments.append((f"{group.count_cells[TEXT]}+{group.count_cells[WRONG]}",
                                 items[TEXT].count + items[WRONG].count, f"{group.short} 有 ", " 个单元格填写有误"))
                segments.append((f'SUMIF({check}!{tables},"{group.short}",{check}!{flags})',
                                 rule_fails.get(group.short, 0), f"{group.short} 有 ", " 项勾稽关系未通过"))
        errors = sum(item.errors for g in live.groups for item in g.items) + sum(
            1 for r, st in zip(self.rules, live.rules) if st.failed and r.severity == "error")
        warnings = sum(1 for r, st in zip(self.rules, live.rules) if st.failed and r.severity != "error")
        # A template nobody has typed into yet: tables and 正文 all blank (unit details may be given).
        content = [g for g in live.groups if g.short != UNIT_GROUP]
        inputs = sum(len(g.cells) for g in content)
        blanks = sum(item.count for g in content for item in g.items if item.state == BLANK)
        passed = (f"全部通过（共 {self.checks_total} 项检查），可以报送。正文与表格是否一致、与上年是否衔接、"
                  f"文件是否完整，报送后还会核对（见填报说明第 {len(INSTRUCTIONS) + 1} 条）。")
        fresh = "尚未填写：请填写单位信息、“正文”和各表（没有发生的填 0），本页显示“全部通过”后再报送。"
        carried = len(self.prefilled)  # last year's carry-over typed in for the clerk is not her filling
        if errors == 0:
            cached = passed + (f"另有 {warnings} 项提示，请在“检查”工作表核对。" if warnings else "")
        elif blanks + carried >= inputs:
            cached = fresh
        else:
            parts = [f"{before}{count}{after}；" for _, count, before, after in segments if count]
            cached = "尚未通过：" + "".join(parts) + "请查看“检查”工作表。"
        total, warned = f"SUM({FAILED_NAME})", f"SUM({WARNED_NAME})"
        blank_sum = "+".join(group.count_cells[BLANK] for group in content)
        detail = "&".join(f'IF(({excel})>0,"{before}"&({excel})&"{after}；","")'
                          for excel, _, before, after in segments)
        formula = (f'=IF({total}=0,"{passed}"&IF({warned}>0,"另有 "&{warned}&" 项提示，请在“检查”工作表核对。",""),'
                   f'IF({blank_sum}>={inputs - carried},"{fresh}","尚未通过："&{detail}&"请查看“检查”工作表。"))')
        return formula, cached, errors == 0

    # ------------------------------------------------------------------ metadata
    def metadata(self) -> dict[str, str]:
        return {
            "format_id": self.fmt.id,
            "edition": self.fmt.edition,
            "format_key": self.fmt.key,
            "template_version": self.fmt.template_version,
            "nianbao_version": __version__,
            "unit_name": self.details["name"],
            "unit_code": self.details.get("code", ""),
            "year": str(self.year),
            "token": self.token,
            "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "has_previous": "1" if self.prev else "0",
        }

    def _meta_sheet(self, ws) -> None:
        ws.write_row(0, 0, ("key", "value"))
        row = 1
        for key, value in self.metadata().items():
            ws.write_string(row, 0, key)
            ws.write_string(row, 1, value)
            row += 1
        row += 1
        ws.write_row(row, 0, ("previous", "value"))
        for cell_id, value in self.prev.items():
            row += 1
            ws.write_string(row, 0, cell_id)
            if value is not None:
                ws.write_number(row, 1, float(value))
            self._define("previous", f"prev.{cell_id}", META_SHEET, row, 1)
        row += 2
        ws.write_row(row, 0, (CELL_MAP, CELL_MAP_LEGEND))
        for text in cell_map_texts(self.cell_map):
            row += 1
            ws.write_string(row, 0, text)
        ws.very_hidden()
        self._protect(ws)

    def _properties(self) -> None:
        meta = self.metadata()
        self.wb.set_properties({"title": self.fmt.report_title(self.details["name"], self.year),
                                "subject": f"{self.fmt.title}（{self.fmt.basis}）",
                                "author": "nianbao", "comments": f"nianbao {__version__}"})
        for key in ("format_key", "template_version", "unit_name", "unit_code", "year", "token"):
            self.wb.set_custom_property(f"nianbao_{key}", meta[key])


@dataclass
class _LiveItem:
    """One 'what is left' row of the 检查 sheet: the cells of a group in one state."""

    state: int
    description: str
    code: str  # the finding code ``nianbao check`` reports for such a cell
    count: int  # for this workbook's own contents
    errors: int  # how many error findings that count stands for


@dataclass
class _LiveGroup:
    """The live input checks of one sheet (a table, 正文, the unit details)."""

    short: str
    where: str
    column: int  # hidden state column on the 检查 sheet
    table: bool
    cells: list[tuple[str, str, int]]  # (id, state formula, state for this workbook's contents)
    target: tuple[str, int, int] | None
    items: list[_LiveItem] = field(default_factory=list)
    count_cells: dict[int, str] = field(default_factory=dict)  # state -> absolute ref of its count


@dataclass
class _Live:
    groups: list[_LiveGroup]
    rules: list[RuleState]


#: Below this print scale a table is split over pages instead of shrunk onto one.
MIN_PRINT_SCALE = 0.65
_A4_POINTS = (595.0, 842.0)  # portrait width, height
_MARGIN_POINTS = (0.8 * 72, 1.2 * 72 + 30)  # left+right, top+bottom with header and footer
_POINTS_PER_WIDTH_UNIT = 5.6  # one Excel column-width unit of 宋体 11 pt, with padding
_DEFAULT_ROW_POINTS = 15.0


def one_page_scale(layout: SheetLayout, landscape: bool) -> float:
    """The print scale at which the whole table fits on one A4 page (1.0: it fits as it is)."""
    width, height = _A4_POINTS[::-1] if landscape else _A4_POINTS
    heights = layout.row_heights()
    table_height = sum(heights.get(r, _DEFAULT_ROW_POINTS) for r in range(layout.nrows))
    table_width = sum(layout.column_widths()) * _POINTS_PER_WIDTH_UNIT
    return min(1.0, (width - _MARGIN_POINTS[0]) / table_width, (height - _MARGIN_POINTS[1]) / table_height)


def _wrong_words(kinds: set[str]) -> str:
    words = []
    if "count" in kinds:
        words.append("件数为负数或带小数")
    if "signed_count" in kinds:
        words.append("增减数带小数")
    if "amount" in kinds:
        words.append("金额为负数或超过 4 位小数")
    return "、".join(words)


def _validation(cell: Cell, box: Box) -> dict:
    what = "·".join(p for p in (*cell.row.path, *cell.column.path) if p)
    prompt = f"{what}\n没有发生的请填 0，不要留空。"[:255]
    if cell.kind == "amount":
        a1 = xl_rowcol_to_cell(box.row, box.col)
        return {"validate": "custom", "value": f"=AND({a1}>=0,ROUND({a1},4)={a1})",
                "input_title": "请输入金额（万元）", "input_message": prompt,
                "error_title": "输入有误", "error_message": "只能填写大于或等于 0 的数字，最多 4 位小数，不带单位。"}
    if cell.kind == "signed_count":
        return {"validate": "integer", "criteria": "between", "minimum": -1_000_000_000,
                "maximum": 1_000_000_000, "input_title": "请输入整数（减少填负数）", "input_message": prompt,
                "error_title": "输入有误", "error_message": "只能填写整数（阿拉伯数字），减少的填负数。"}
    return {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "请输入非负整数",
            "input_message": prompt, "error_title": "输入有误",
            "error_message": "只能填写大于或等于 0 的整数（阿拉伯数字，不带单位）。"}


def _cached(value: Decimal | None) -> float:
    return 0.0 if value is None else float(value)


def _put(ws, box: Box, text: str, style) -> None:
    if box.merged:
        ws.merge_range(box.row, box.col, box.last_row, box.last_col, text, style)
    else:
        ws.write_string(box.row, box.col, text, style)


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


class _Styles:
    """The few cell formats a template uses."""

    def __init__(self, wb) -> None:
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "text_wrap": True}
        border = {**base, "border": 1}

        def add(style: dict, **props):
            return wb.add_format({**style, **props})

        self.heading = add(base, bold=True, font_size=15, align="center")
        self.note = add(base, font_color="#555555", align="left")
        self.title = add(border, bold=True, align="center", bg_color="#DDEBF7")
        self.header = add(border, bold=True, align="center", bg_color="#D9D9D9")
        self.corner = add(border, align="center", font_size=10)
        self.label = add(border, align="left")
        self.center = add(border, align="center")
        self.guidance = add(border, align="left", font_color="#555555", font_size=10)
        self.fixed = add(border, align="left", bg_color="#F2F2F2", num_format="@")
        self.text_input = add(border, align="left", valign="top", bg_color="#FFF2CC", locked=False,
                              num_format="@")
        self.count_input = add(border, align="center", bg_color="#FFF2CC", locked=False, num_format="0")
        self.amount_input = add(border, align="center", bg_color="#FFF2CC", locked=False,
                                num_format="0.####")
        self.derived = add(border, align="center", bg_color="#E7E6E6", num_format="General")
        self.result = add(border, align="center", bold=True)
        self.big_label = add(border, bold=True, font_size=14, align="center")
        self.status = add(border, bold=True, font_size=14, align="center")
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.good = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.pending = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.link = add(border, align="left", font_color="#0563C1", underline=1)
        self.code = add(border, align="center", font_size=8, font_color="#777777")

    def for_role(self, role: str):
        return {"heading": self.heading, "note": self.note, "title": self.title, "corner": self.corner,
                "header": self.header, "label": self.label}[role]

    def input_for(self, kind: str):
        return self.amount_input if kind == "amount" else self.count_input


__all__ = ["TemplateResult", "TemplateWriter", "active_rules", "compute_derived", "make_template", "prefill_from_previous"]

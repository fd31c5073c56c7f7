"""Filled copies of a template, written fresh with XlsxWriter (never by re-saving a unit's file).

* :func:`annotate` — the copy sent back to a unit: a fresh template (same unit, year, token and
  format) holding the unit's values, each failing cell filled red with a comment saying what is
  wrong, and a first sheet listing every finding.
* :func:`write_filled` — a template with given cell contents written in, as a user's office suite
  would have saved them (numbers, text, typed-over totals); tests and benchmarks use it to make
  workbooks fast, without LibreOffice.

Both reuse the template writer itself (a subclass of ``template.TemplateWriter``), so the copy
has exactly the template's layout, names, formulas, validation and protection.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from nianbao import template as _template
from nianbao.check import FileReport, check_file
from nianbao.drift import ANNOTATION_SHEET
from nianbao.errors import NianbaoError
from nianbao.findings import Finding, sort_key
from nianbao.format.model import Format
from nianbao.numbers import parse_number
from nianbao.rules import check, evaluate
from nianbao.sheetwrite import merge_value, new_workbook, write_value
from nianbao.xlsxpost import lock_structure

COMMENT_OPTIONS = {"x_scale": 3.0, "y_scale": 2.2, "font_name": "宋体", "font_size": 10}


class _FilledWriter(_template.TemplateWriter):
    """The template writer, with cell contents (and optionally findings) written in."""

    def __init__(self, fmt: Format, details: dict[str, str], year: int, token: str,
                 prev: dict[str, Decimal | None], contents: Mapping[str, object],
                 narratives: Mapping[str, str], findings: list[Finding] | None, keep_formulas: bool) -> None:
        super().__init__(fmt, details, year, token, prev)
        self.contents = dict(contents)
        self.texts = dict(narratives)
        self.findings = findings
        self.keep_formulas = keep_formulas
        values: dict[str, Decimal | None] = {f"prev.{k}": v for k, v in prev.items()}
        for cell in fmt.input_cells:  # as a spreadsheet computes: text in a number cell counts as nothing
            content = self.contents.get(cell.id)
            values[cell.id] = None if isinstance(content, str) else parse_number(content).value
        for cell_id, rule in fmt.derived.items():
            typed = cell_id in self.contents and not keep_formulas
            values[cell_id] = parse_number(self.contents[cell_id]).value if typed else evaluate(rule.compare.right,
                                                                                                  values)
        self.values = values
        self.outcomes = [check(rule, values) for rule in self.rules]
        # Findings are matched to cells by defined name: the unit's file may have moved cells.
        self.marks: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings or ():
            if finding.name:
                self.marks[finding.name].append(finding)

    def stored_numbers(self) -> dict[str, object]:
        return {c.id: self.contents.get(c.id) for c in self.fmt.input_cells}

    def stored_texts(self) -> dict[str, str]:
        return dict(self.texts)

    # The base class writes the sheets in order; the findings sheet goes first.
    def write(self, path: Path) -> None:
        wb = new_workbook(path)
        self.wb = wb
        self.styles = _template._Styles(wb)
        self.red = {kind: wb.add_format({"font_name": "宋体", "font_size": 11, "valign": "vcenter", "border": 1,
                                         "align": "center", "bg_color": "#FF7C80", "locked": kind != "derived",
                                         "num_format": {"amount": "0.####", "derived": "General"}.get(kind, "0"),
                                         "text_wrap": True})
                    for kind in ("count", "amount", "signed_count", "derived")}
        self.red["text"] = wb.add_format({"font_name": "宋体", "font_size": 11, "valign": "top", "align": "left",
                                          "border": 1, "bg_color": "#FF7C80", "locked": False, "num_format": "@",
                                          "text_wrap": True})
        report = wb.add_worksheet(ANNOTATION_SHEET) if self.findings is not None else None
        first = wb.add_worksheet(_template.INSTRUCTIONS_SHEET)
        narrative = wb.add_worksheet(_template.NARRATIVE_SHEET)
        tables = [(t, wb.add_worksheet(t.sheet)) for t in self.fmt.tables.values()]
        checks = wb.add_worksheet(_template.CHECK_SHEET)
        meta = wb.add_worksheet(_template.META_SHEET)
        for table, ws in tables:
            self._table_sheet(ws, _template.table_layout(table))
        self._narrative_sheet(narrative)
        self._check_sheet(checks)
        self._instructions_sheet(first)
        self._meta_sheet(meta)
        self._properties()
        if report is not None:
            self._findings_sheet(report)
            report.activate()
        else:
            first.activate()
        wb.close()

    def _number_cell(self, ws, sheet: str, box, cell) -> None:
        super()._number_cell(ws, sheet, box, cell)
        derived = cell.id in self.fmt.derived
        marks = self.marks.get(cell.name, [])
        if derived and (self.keep_formulas or cell.id not in self.contents):
            if marks:  # keep the formula; only colour and explain
                formula = "=" + _template.to_excel(self.fmt.derived[cell.id].compare.right, _template.ref_name)
                ws.write_formula(box.row, box.col, formula, self.red["derived"],
                                 _template._cached(self.values[cell.id]))
                ws.write_comment(box.row, box.col, _comment(marks), COMMENT_OPTIONS)
            return
        style = self.red["derived" if derived else cell.kind] if marks else (
            self.styles.derived if derived else self.styles.input_for(cell.kind))
        write_value(ws, box.row, box.col, self.contents.get(cell.id), style)
        if marks:
            ws.write_comment(box.row, box.col, _comment(marks), COMMENT_OPTIONS)

    def _narrative_sheet(self, ws) -> None:
        super()._narrative_sheet(ws)
        for narrative in self.fmt.narratives:
            sheet, row, col = self.locations[f"narrative.{narrative.id}"]
            marks = self.marks.get(narrative.name, [])
            text = self.texts.get(narrative.id) or ""
            style = self.red["text"] if marks else self.styles.text_input
            write_value(ws, row, col, text, style)
            if marks:
                ws.write_comment(row, col, _comment(marks), COMMENT_OPTIONS)

    def _instructions_sheet(self, ws) -> None:
        super()._instructions_sheet(ws)
        for fld in self.fmt.unit_fields:
            sheet, row, col = self.locations[f"unit.{fld.id}"]
            marks = self.marks.get(fld.name, [])
            if marks and fld.input:
                write_value(ws, row, col, self.details.get(fld.id, ""), self.red["text"])
                ws.write_comment(row, col, _comment(marks), COMMENT_OPTIONS)

    def _findings_sheet(self, ws) -> None:
        st = self.styles
        findings = sorted(self.findings or [], key=sort_key)
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 8)
        ws.set_column(2, 2, 26)
        ws.set_column(3, 3, 90)
        title = f"{self.fmt.report_title(self.details['name'], self.year)} · 核对意见"
        merge_value(ws, 0, 0, 0, 3, title, st.heading)
        ws.set_row(0, 30)
        errors = sum(1 for f in findings if f.severity == "error")
        summary = (f"共 {len(findings)} 条意见：{errors} 个错误（必须改正），{len(findings) - errors} 个警告（请核对）。"
                   f"标红的单元格有批注说明问题。请在本文件中改正后保存为 .xlsx 重新报送。"
                   if findings else "未发现问题。")
        merge_value(ws, 1, 0, 1, 3, summary, st.note)
        ws.set_row(1, 36)
        for col, text in enumerate(("序号", "级别", "位置", "问题和改正方法")):
            write_value(ws, 2, col, text, st.header)
        for i, finding in enumerate(findings, start=1):
            row = 2 + i
            write_value(ws, row, 0, i, st.center)
            write_value(ws, row, 1, finding.severity_text, st.center)
            write_value(ws, row, 2, finding.place or "全文", st.label)
            write_value(ws, row, 3, finding.message, st.label)
            ws.set_row(row, max(20.0, _template.text_lines(finding.message, 90) * 15.0 + 4))
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)


def _comment(findings: list[Finding]) -> str:
    text = "\n".join(f"【{f.severity_text}】{f.message}" for f in findings)
    return text[:32000]


def _write(writer: _FilledWriter, out: Path) -> None:
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".nianbao-", suffix=".xlsx", dir=out.parent)
    except OSError as err:
        raise NianbaoError(f"无法写入文件 {out}：{err.strerror or err}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer.write(tmp)
        lock_structure(tmp)
        tmp.replace(out)
    except OSError as err:
        raise NianbaoError(f"无法写入文件 {out}：{err.strerror or err}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _check_out(out: Path, source: Path | None = None) -> None:
    if out.suffix.lower() != ".xlsx":
        raise NianbaoError(f"输出文件应以 .xlsx 结尾：{out}")
    if not out.parent.is_dir():
        raise NianbaoError(f"输出目录不存在：{out.parent}")
    if source is not None and out.exists() and out.resolve() == source.resolve():
        raise NianbaoError(f"输出文件不能覆盖单位报送的原文件：{out}")


def write_filled(fmt: Format, unit: Mapping[str, str], year: int, out: Path, contents: Mapping[str, object],
                 narratives: Mapping[str, str] | None = None, token: str = "filled",
                 previous: Mapping[str, Decimal | None] | None = None) -> Path:
    """A template with ``contents`` (cell id -> number, text or None) written in, recalculated.

    A derived cell id in ``contents`` is typed over its formula, as a user overwriting a total.
    """
    out = Path(out)
    _check_out(out)
    details = {k: (v or "").strip() for k, v in unit.items()}
    writer = _FilledWriter(fmt, details, year, token, dict(previous or {}), contents, narratives or {}, None,
                           keep_formulas=False)
    _write(writer, out)
    return out


def annotate(path: Path, out: Path, previous: Path | None = None) -> FileReport:
    """Check ``path`` and write its annotated copy to ``out``; the unit's file is never touched.

    Raises NianbaoError when ``path`` cannot be read (there is nothing to annotate).
    """
    path, out = Path(path), Path(out)
    _check_out(out, path)
    report = check_file(path, previous)
    if report.submission is None:
        raise NianbaoError(report.unreadable or f"无法读取 {path}")
    sub = report.submission
    contents: dict[str, object] = {}
    for cid in sub.format.cells:
        if cid in sub.locations:  # a number read after correction is written as the number
            raw = sub.raw.get(cid)
            parsed = parse_number(raw)
            contents[cid] = parsed.value if parsed.ok else raw
    details = {k: v for k, v in sub.unit.items()}
    writer = _FilledWriter(sub.format, details, sub.year, sub.token or "annotated",
                           {k: v for k, v in sub.previous.items()}, contents, sub.narratives, report.findings,
                           keep_formulas=True)
    _write(writer, out)
    return report


__all__ = ["ANNOTATION_SHEET", "annotate", "write_filled"]

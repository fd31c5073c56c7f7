"""Drift: how a returned workbook differs from the template nianbao wrote.

Sheets removed, renamed or added; protection removed; formulas replaced by typed numbers or
changed; input cells moved or their defined names lost; an older template version; data
validation gone; identity in the document properties contradicting the meta sheet; and a
workbook that was never recalculated (its stored totals and check results contradict its
inputs). Each is a finding; none stops the check, because the numbers are still read by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from nianbao.findings import Finding, register
from nianbao.format.load import format_for_year
from nianbao.format.model import Format
from nianbao.livechecks import TEXT, result_formula, sheet_state
from nianbao.numbers import parse_number
from nianbao.read.model import coordinate_to_tuple
from nianbao.read.reader import BY_COORDS, MOVED, Reading, normalise_label
from nianbao.rules import FAIL_TEXT, PASS_TEXT, check, evaluate, excel_result, fmt as fmt_number, to_excel
from nianbao.safetext import quote
from nianbao.submission import Submission
from nianbao.sheets import CHECK_SHEET, INSTRUCTIONS_SHEET, META_SHEET, NARRATIVE_SHEET, ref_name

SHEET_MISSING = register("DRIFT-SHEET-MISSING", "error", "模板中的工作表被删除", after="file")
SHEET_RENAMED = register("DRIFT-SHEET-RENAMED", "warning", "模板中的工作表被改名", after="file")
SHEET_ADDED = register("DRIFT-SHEET-ADDED", "warning", "工作簿中多了模板没有的工作表", after="file")
UNPROTECTED = register("DRIFT-UNPROTECTED", "warning", "工作表保护被取消", after="file")
STRUCTURE_UNLOCKED = register("DRIFT-STRUCTURE-UNLOCKED", "warning", "工作簿结构保护被取消", after="file")
FORMULA_REPLACED = register("DRIFT-FORMULA-REPLACED", "warning", "自动计算的单元格（合计、检查）被直接填了数字或文字", per_cell=True, after="file")
FORMULA_CHANGED = register("DRIFT-FORMULA-CHANGED", "warning", "自动计算的公式被改动", per_cell=True, after="file")
CELL_MOVED = register("DRIFT-CELL-MOVED", "warning", "填报单元格的位置与模板不同（插入或删除了行列）", per_cell=True, after="file")
NAME_MISSING = register("DRIFT-NAME-MISSING", "warning", "单元格的定义名称丢失，已按原位置和标签读取", per_cell=True, after="file")
CELL_NOT_FOUND = register("CELL-NOT-FOUND", "error", "找不到填报单元格（定义名称丢失且原位置的标签不符）", per_cell=True, after="file")
OLD_TEMPLATE = register("DRIFT-OLD-TEMPLATE", "warning", "使用了旧版本的模板", after="file")
VALIDATION_MISSING = register("DRIFT-VALIDATION-MISSING", "warning", "填报单元格的数据有效性被粘贴覆盖或删除", per_cell=True, after="file")
META_MISMATCH = register("DRIFT-META-MISMATCH", "warning", "文档属性中的单位、年度或标识与模板元数据不一致", after="file")
NOT_RECALCULATED = register("NOT-RECALCULATED", "warning", "文件保存前没有重新计算，表中合计和检查结果与填写的数字不符", after="file")

#: The first sheet of an annotated copy (annotate.py): ours, so not an added sheet.
ANNOTATION_SHEET = "核对意见"

_RECALC_ADVICE = ("文件保存前没有重新计算（例如在“受保护的视图”中打开，或用不计算公式的软件编辑），"
                  "表中的合计和“检查”工作表显示的结果与填写的数字不符")


def expected_sheets(fmt: Format) -> list[str]:
    return [INSTRUCTIONS_SHEET, NARRATIVE_SHEET, *(t.sheet for t in fmt.tables.values()), CHECK_SHEET, META_SHEET]


def detect(reading: Reading) -> list[Finding]:
    """Every drift finding of one read workbook."""
    findings: list[Finding] = []
    renamed = _sheets(reading, findings)
    _protection(reading, findings, renamed)
    _locations(reading, findings, renamed)
    _formulas(reading, findings)
    _validations(reading, findings)
    _versions(reading, findings)
    _recalculation(reading, findings)
    return findings


# ----------------------------------------------------------------------------- rule inputs


def formula_intact(sub: Submission, cell_id: str) -> bool:
    """The derived cell still holds the template's formula (so its value follows the inputs)."""
    raw = sub.raw.get(cell_id)
    expected = expected_formulas(sub.format).derived.get(cell_id)
    return expected is not None and isinstance(raw, str) and _norm_formula(raw) == expected


@dataclass(frozen=True)
class ExpectedFormulas:
    """The template's formulas of one format, normalised for comparison: derived cell id -> the
    formula of its cell, rule key -> the formulas its check cell may hold (see check_formulas)."""

    derived: dict[str, str]
    checks: dict[str, frozenset[str]]


_EXPECTED: dict[int, tuple[Format, ExpectedFormulas]] = {}


def expected_formulas(fmt: Format) -> ExpectedFormulas:
    """Rendered once per loaded format (a worker renders each format once, not once per file)."""
    cached = _EXPECTED.get(id(fmt))
    if cached is None or cached[0] is not fmt:
        expected = ExpectedFormulas(
            {cell_id: _norm_formula("=" + to_excel(rule.compare.right, ref_name)) for cell_id, rule in fmt.derived.items()},
            {rule.key: frozenset(_norm_formula(f) for f in check_formulas(fmt, rule)) for rule in fmt.rules})
        cached = _EXPECTED[id(fmt)] = (fmt, expected)
    return cached[1]


def rule_inputs(sub: Submission) -> dict[str, Decimal | None]:
    """The numbers rules are evaluated on: derived cells whose formula is intact are recomputed
    from the inputs (never trusting a cached result); a typed-over total is taken as typed."""
    values = sub.rule_values()
    for cell_id, rule in sub.format.derived.items():  # dependency order
        if formula_intact(sub, cell_id):
            values[cell_id] = evaluate(rule.compare.right, values)
    return values


def check_formulas(fmt: Format, rule) -> tuple[str, ...]:
    """The check cell formulas a template may hold for a rule: this version's (pending while an
    input is blank) and the one of templates before 2021.2 / 2019.2."""
    return (result_formula(fmt, rule, ref_name), "=" + excel_result(rule.compare, ref_name))


def _norm_formula(text: str) -> str:
    return _normal_formula(text) if len(text) <= 8192 else _normal_formula.__wrapped__(text)


@lru_cache(maxsize=8192)  # the template's formulas (at most 8,192 characters in Excel), in every file of a round
def _normal_formula(text: str) -> str:
    return "".join(text.split()).replace("$", "").upper().lstrip("=").replace("_XLFN.", "")


# ----------------------------------------------------------------------------- sheets and protection


def _sheets(reading: Reading, findings: list[Finding]) -> dict[str, str]:
    """Missing/renamed/added sheets; returns template sheet name -> its new name."""
    fmt = reading.format
    expected = expected_sheets(fmt)
    actual = reading.book.sheetnames
    missing = [s for s in expected if s not in actual]
    added = [s for s in actual if s not in expected and s != ANNOTATION_SHEET]
    renamed: dict[str, str] = {}
    for sheet in missing:
        moved_to = {p.sheet for ident, p in reading.places.items()
                    if _meta_sheet(reading, ident) == sheet and p.sheet in added}
        if len(moved_to) == 1:
            new = moved_to.pop()
            renamed[sheet] = new
            findings.append(Finding(SHEET_RENAMED, "warning",
                                    f"工作表“{quote(sheet)}”被改名为“{quote(new)}”。已按单元格名称读取数据；请使用下发的模板，"
                                    f"不要重命名工作表。", sheet=new, value=new, expected=sheet))
        else:
            findings.append(Finding(SHEET_MISSING, "error",
                                    f"工作表“{quote(sheet)}”不见了（被删除），其中的内容无法核对。请在下发的模板中完整填写后"
                                    f"重新报送。", sheet=sheet, expected=sheet))
    for sheet in added:
        if sheet not in renamed.values():
            findings.append(Finding(SHEET_ADDED, "warning",
                                    f"工作簿中多了工作表“{quote(sheet)}”，其中的内容不会被读取。如有需要说明的内容，请写在"
                                    f"“{NARRATIVE_SHEET}”工作表中。", sheet=sheet, value=sheet))
    return renamed


def _meta_sheet(reading: Reading, ident: str) -> str | None:
    entry = next((e for e in reading.meta.cells if e.ident == ident), None)
    return entry.sheet if entry else None


def _protection(reading: Reading, findings: list[Finding], renamed: dict[str, str]) -> None:
    book = reading.book
    for sheet in expected_sheets(reading.format):
        name = renamed.get(sheet, sheet)
        if name == META_SHEET or name not in book.sheets:
            continue
        if not book.sheets[name].protected:
            findings.append(Finding(UNPROTECTED, "warning",
                                    f"工作表“{quote(name)}”的保护被取消了。请不要取消保护、插入或删除行列；数据已按单元格名称"
                                    f"读取，请重点核对本表。", sheet=name))
    if not book.structure_locked:
        findings.append(Finding(STRUCTURE_UNLOCKED, "warning",
                                "工作簿结构保护被取消了（可以增删、改名工作表）。请使用下发的模板填写。"))


def _locations(reading: Reading, findings: list[Finding], renamed: dict[str, str]) -> None:
    moved: dict[str, list[str]] = defaultdict(list)
    by_coords: dict[str, list[str]] = defaultdict(list)
    entries = {e.ident: e for e in reading.meta.cells}
    for ident, place in reading.places.items():
        entry = entries[ident]
        if entry.kind not in ("number", "derived", "narrative", "unit"):
            continue
        if place.how == MOVED and (place.cell != entry.cell or (
                place.sheet != entry.sheet and renamed.get(entry.sheet) != place.sheet)):
            moved[place.sheet].append(place.cell)
        elif place.how == BY_COORDS:
            by_coords[place.sheet].append(place.cell)
    for sheet, cells in moved.items():
        findings.append(Finding(CELL_MOVED, "warning",
                                f"工作表“{quote(sheet)}”中有 {len(cells)} 个单元格的位置与模板不同（插入或删除了行列），"
                                f"例如 {'、'.join(cells[:3])}。数据已按单元格名称读取；请不要插入或删除行列。",
                                sheet=sheet, cell=cells[0], cells=tuple(cells)))
    for sheet, cells in by_coords.items():
        findings.append(Finding(NAME_MISSING, "warning",
                                f"工作表“{quote(sheet)}”中有 {len(cells)} 个单元格的名称丢失（例如 {'、'.join(cells[:3])}），"
                                f"已按模板中的位置读取并核对了标签。", sheet=sheet, cell=cells[0], cells=tuple(cells)))
    gone_sheets = {s for s in expected_sheets(reading.format) if s not in reading.book.sheets
                   and s not in renamed}
    lost: dict[str, list[str]] = defaultdict(list)
    for entry in reading.unlocated:
        if entry.kind in ("number", "derived", "narrative", "unit") and entry.sheet not in gone_sheets:
            lost[entry.sheet].append(entry.cell)
    for sheet, cells in lost.items():
        findings.append(Finding(CELL_NOT_FOUND, "error",
                                f"工作表“{quote(sheet)}”中有 {len(cells)} 个填报单元格找不到了（名称丢失，原位置 "
                                f"{'、'.join(cells[:3])} 旁的标签也对不上），这些内容无法读取。请在下发的模板中"
                                f"重新填写。", sheet=sheet, cell=cells[0], cells=tuple(cells)))


# ----------------------------------------------------------------------------- formulas


def _formulas(reading: Reading, findings: list[Finding]) -> None:
    sub, fmt = reading.submission, reading.format
    for cell_id, rule in fmt.derived.items():
        if cell_id not in sub.locations:
            continue
        loc, cell = sub.locations[cell_id], fmt.cells[cell_id]
        raw = sub.raw.get(cell_id)
        where = dict(sheet=loc.sheet, cell=loc.cell, name=loc.name, table=fmt.tables[cell.table].heading,
                     row=cell.row.display, column=cell.column.label)
        label = f"{fmt.tables[cell.table].short}“{cell.row.display}”行“{cell.column.label}”"
        if not isinstance(raw, str) or not raw.startswith("="):
            shown = "空白" if raw is None else f"“{quote(raw)}”"
            findings.append(Finding(FORMULA_REPLACED, "warning",
                                    f"{label}（{loc.sheet}!{loc.cell}）应由公式自动计算，但被直接填成了 {shown}。"
                                    f"核对时按填写的值计算；请使用下发的模板，不要覆盖灰色的合计单元格。",
                                    value=None if raw is None else str(raw), **where))
        elif not formula_intact(sub, cell_id):
            findings.append(Finding(FORMULA_CHANGED, "warning",
                                    f"{label}（{loc.sheet}!{loc.cell}）的公式被改成了“{quote(raw)}”。核对时按其保存的结果"
                                    f"计算；请使用下发的模板，不要修改公式。", value=str(raw), **where))
    for rule in fmt.rules:
        ident = f"check.{rule.key}"
        loc = sub.locations.get(ident)
        if loc is None:
            continue
        raw = reading.book.value(loc.sheet, loc.cell)
        if not (isinstance(raw, str) and raw.startswith("=")):
            findings.append(Finding(FORMULA_REPLACED, "warning",
                                    f"“{CHECK_SHEET}”工作表 {loc.cell} 的检查公式被覆盖成了“{quote(raw if raw is not None else '')}”，"
                                    f"它不再反映填写的数字。核对时已按填写的数字重新计算全部规则。", sheet=loc.sheet, cell=loc.cell,
                                    name=loc.name, value=None if raw is None else str(raw)))
        elif _norm_formula(raw) not in expected_formulas(fmt).checks[rule.key]:
            findings.append(Finding(FORMULA_CHANGED, "warning",
                                    f"“{CHECK_SHEET}”工作表 {loc.cell} 的检查公式被改动了。核对时已按填写的数字重新计算全部规则。",
                                    sheet=loc.sheet, cell=loc.cell, name=loc.name, value=str(raw)))


# ----------------------------------------------------------------------------- validation, versions


def _validations(reading: Reading, findings: list[Finding]) -> None:
    """Input cells whose in-sheet validation is gone (pasting over a cell removes it)."""
    sub, book, fmt = reading.submission, reading.book, reading.format
    by_sheet: dict[str, list[str]] = defaultdict(list)
    for cell in fmt.input_cells:
        loc = sub.locations.get(cell.id)
        if loc is not None:
            by_sheet[loc.sheet].append(loc.cell)
    for sheet, cells in by_sheet.items():
        missing = [c for c in cells if not _validated(book.sheets[sheet], c)]
        if missing:
            findings.append(Finding(VALIDATION_MISSING, "warning",
                                    f"工作表“{quote(sheet)}”中有 {len(missing)} 个填报单元格的数据有效性不见了（通常是从别处粘贴"
                                    f"覆盖造成的），例如 {'、'.join(missing[:3])}。填写时不再提示错误输入，请重点核对这些"
                                    f"单元格；粘贴时请使用“选择性粘贴 › 数值”。", sheet=sheet, cell=missing[0],
                                    cells=tuple(missing)))


def _validated(sheet, a1: str) -> bool:
    try:
        return sheet.validated(*coordinate_to_tuple(a1))
    except (ValueError, TypeError):  # not a cell reference (a damaged meta map): not covered
        return False


def _versions(reading: Reading, findings: list[Finding]) -> None:
    sub, fmt, info = reading.submission, reading.format, reading.meta.info
    version = info.get("template_version", "")
    if version and version != fmt.template_version:
        findings.append(Finding(OLD_TEMPLATE, "warning",
                                f"这份文件用的是 {version} 版模板，当前为 {fmt.template_version} 版。核对按当前格式进行；"
                                f"如表格有变化，请改用新模板。", value=version, expected=fmt.template_version))
    try:
        wanted = format_for_year(sub.year, fmt.id)
    except Exception:  # no edition covers the year: say so through the edition check below
        wanted = None
    if wanted is not None and wanted.key != fmt.key:
        findings.append(Finding(OLD_TEMPLATE, "warning",
                                f"{sub.year} 年度应使用 {wanted.edition} 版格式（{wanted.basis}），这份文件用的是 "
                                f"{fmt.edition} 版格式。请改用 {sub.year} 年度的模板。", value=fmt.key,
                                expected=wanted.key))
    props = reading.book.properties
    pairs = (("nianbao_unit_name", "unit_name", "单位"), ("nianbao_year", "year", "年度"),
             ("nianbao_token", "token", "模板标识"), ("nianbao_format_key", "format_key", "格式"))
    for prop, key, what in pairs:
        if prop in props and key in info and normalise_label(props[prop]) != normalise_label(info[key]):
            findings.append(Finding(META_MISMATCH, "warning",
                                    f"文件属性中的{what}“{quote(props[prop])}”与模板内记录的“{quote(info[key])}”不一致，可能是拿别的"
                                    f"单位或别的年度的文件改的。核对按模板内记录进行，请确认报送单位和年度。",
                                    value=props[prop], expected=info[key]))


# ----------------------------------------------------------------------------- recalculation


def _recalculation(reading: Reading, findings: list[Finding]) -> None:
    """Stored totals or check results that contradict the inputs: the file was not recalculated.

    The stored results are compared with what the spreadsheet itself computes, where a number
    stored as text counts as nothing (its SUM skips it): a "６" typed as text leaves the totals
    short, which is a text problem (NUMBER-AS-TEXT), not a missed recalculation."""
    sub, fmt = reading.submission, reading.format
    values = _as_the_sheet_computes(sub)
    stale: list[str] = []
    for cell_id in fmt.derived:
        loc = sub.locations.get(cell_id)
        if loc is None or not formula_intact(sub, cell_id):
            continue
        cached = parse_number(reading.cached(loc.sheet, loc.cell)).value
        computed = values.get(cell_id) or Decimal(0)
        if (cached if cached is not None else Decimal(0)) != computed:
            saved = f"保存的是 {fmt_number(cached)}" if cached is not None else "保存时为空白"
            stale.append(f"{loc.sheet}!{loc.cell}（{saved}，应为 {fmt_number(computed)}）")
    for rule in fmt.rules:
        loc = sub.locations.get(f"check.{rule.key}")
        if loc is None:
            continue
        cached = reading.cached(loc.sheet, loc.cell)
        if cached not in (PASS_TEXT, FAIL_TEXT):
            if cached is None or isinstance(cached, (int, float)):
                if any(values.get(c) for c in rule.cells):
                    stale.append(f"{loc.sheet}!{loc.cell}（没有计算结果）")
            continue
        ours = check(rule, values).text
        if cached != ours:
            stale.append(f"{loc.sheet}!{loc.cell}（显示“{quote(cached)}”，实际应为“{ours}”）")
    if stale:
        findings.append(Finding(NOT_RECALCULATED, "warning",
                                f"{_RECALC_ADVICE}，共 {len(stale)} 处，例如 {'；'.join(stale[:3])}。核对时已按填写的"
                                f"数字重新计算，以下结果以重新计算为准。请在 Excel 或 WPS 中打开文件，点击“启用编辑”，"
                                f"保存一次后再报送。", value=str(len(stale))))


def _as_the_sheet_computes(sub: Submission) -> dict[str, Decimal | None]:
    """The rule inputs with every number stored as text left out, as the sheet's own SUM does."""
    values = sub.rule_values()
    for cell in sub.format.input_cells:
        if sheet_state(sub.raw.get(cell.id), cell.kind) == TEXT and not str(sub.raw.get(cell.id)).startswith("="):
            values[cell.id] = None
    for cell_id, rule in sub.format.derived.items():  # dependency order
        if formula_intact(sub, cell_id):
            values[cell_id] = evaluate(rule.compare.right, values)
    return values


__all__ = ["ExpectedFormulas", "detect", "expected_formulas", "expected_sheets", "formula_intact", "rule_inputs"]

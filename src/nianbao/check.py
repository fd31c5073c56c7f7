"""Check filled workbooks: read, detect drift, validate every rule in Python, collect findings.

``validate(sub, previous)`` needs only a Submission (so an imported report can be validated the
same way); ``check_file`` adds what only the workbook shows (drift). A bad file becomes a
report with ``unreadable`` set, never an exception, so one file never stops a batch.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao import drift
from nianbao.errors import InputFileError, NianbaoError, log_unexpected
from nianbao.findings import Finding, from_outcome, register, register_format, sort_key
from nianbao.livechecks import BLANK as BLANK_STATE
from nianbao.livechecks import TEXT as TEXT_STATE
from nianbao.livechecks import rule_inputs, sheet_state
from nianbao.narrative_checks import check_narratives
from nianbao.numbers import check_kind, parse_number
from nianbao.read.reader import read_workbook
from nianbao.rules import active_rules, check as check_rule
from nianbao.rules import fmt as fmt_number
from nianbao.read.package import CODES as FILE_CODES
from nianbao.safetext import quote
from nianbao.submission import Submission

BLANK = register("BLANK", "error", "填报单元格空白（空白视为未填写，没有发生的应填 0）", per_cell=True, live=True)
TABLE_BLANK = register("TABLE-BLANK", "error", "整张表没有填写", live=True)
TYPES = register("TYPES", "error", "填写的不是所要求的数字（非负整数、金额）", per_cell=True, live=True)
NUMBER_AS_TEXT = register("NUMBER-AS-TEXT", "error", "数字单元格中是文本（如全角数字、文本格式的数字），表格的合计和检查不会计入它", per_cell=True, live=True)
NUMBER_CORRECTED = register("NUMBER-CORRECTED", "warning", "数字的写法不规范，已自动更正后读取（全角、空格、千位分隔符、文本格式）", per_cell=True)
TOWN_REGULATIONS = register("TOWN-REGULATIONS", "warning", "乡镇、街道填报了规章（乡镇、街道无权制定规章）", after="plausibility")
PREVIOUS_MISMATCH = register("PREVIOUS-MISMATCH", "warning", "--previous 指定的上年文件不是同一单位的上一年度报告", after="last_year")
for _code, _text in FILE_CODES.items():
    register(_code, "error", f"文件无法读取：{_text}", after="file")
NOT_TEMPLATE = register("NOT-TEMPLATE", "error", "文件不是下发的年报模板", after="file")
TOO_MANY_CELLS = register("FILE-TOO-MANY-CELLS", "error", "文件中的单元格数据过多，不像年报模板", after="file")

#: Units at town level (乡镇、街道) by their name; "城乡建设局" does not end like this.
TOWN_NAME = re.compile(r"(镇|乡|街道)(人民政府|政府|办事处|党政办公室|党政办)?$")
#: The table row whose cells towns cannot fill (规章), by (table id, row id) of the format.
REGULATIONS_ROW = ("t2", "regulations")


@dataclass
class FileReport:
    path: Path
    submission: Submission | None
    findings: list[Finding] = field(default_factory=list)
    unreadable: str | None = None  # why the file could not be read at all
    unreadable_code: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def valid(self) -> bool:
        return self.unreadable is None and self.errors == 0

    def to_json(self) -> dict[str, object]:
        """One file of ``check --json``."""
        sub = self.submission
        return {
            "path": str(self.path),
            "format": sub.format.key if sub else None,
            "edition": sub.format.edition if sub else None,
            "unit": sub.unit_name if sub else None,
            "year": sub.year if sub else None,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_json() for f in self.findings],
        }


def validate(sub: Submission, previous: Submission | None = None, *, workbook: bool = False) -> list[Finding]:
    """Every check that needs only the submission: numbers, rules, narrative, cross-year.

    ``workbook``: the submission was read from one of our templates, so a number stored as text
    is an error (the sheet's totals and checks leave it out) and a rule is judged, as the
    workbook judges it, only once every input it reads is a number (see ``livechecks``)."""
    register_format(sub.format)
    findings: list[Finding] = []
    usable_previous = None
    if previous is not None:
        problem = _previous_problem(sub, previous)
        if problem:
            findings.append(problem)
        else:
            usable_previous = previous
            sub.previous = {k: v for k, v in previous.values.items()}
    findings += _numbers(sub, workbook)
    values = drift.rule_inputs(sub)
    findings += _rules(sub, values, _sheet_states(sub) if workbook else None)
    findings += _town_regulations(sub, values)
    findings += check_narratives(sub, values, usable_previous)
    return sorted(findings, key=sort_key)


def check_file(path: Path, previous: Path | None = None) -> FileReport:
    """Read and validate one workbook; a bad file becomes a report, never an exception.

    A failure nobody foresaw (a bug met by this one file) is that file's FILE-UNREADABLE
    finding, so a batch, a collect round or a feedback run goes on with the other files.
    """
    path = Path(path)
    try:
        return _check_file(path, previous)
    except Exception as err:  # noqa: BLE001 - isolation is the point; the details go to the log
        return _failed(path, err)


def _check_file(path: Path, previous: Path | None) -> FileReport:
    try:
        reading = read_workbook(path)
    except NianbaoError as err:
        return _unreadable(path, err)
    prev_sub = None
    if previous is not None:
        try:
            prev_sub = read_workbook(Path(previous)).submission
        except NianbaoError as err:
            return _unreadable(path, err, about_previous=True)
    findings = drift.detect(reading) + validate(reading.submission, prev_sub, workbook=True)
    order = {s: i for i, s in enumerate(drift.expected_sheets(reading.format))}
    return FileReport(path, reading.submission, sorted(findings, key=lambda f: sort_key(f, order)))


#: From this many files ``check_files`` uses several processes (starting them costs ~0.2 s).
PARALLEL_FROM = 8


def check_files(paths: list[Path], previous: Path | None = None, workers: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[FileReport]:
    """``check_file`` for every path, reports in the same order; with many files, on several
    cores. ``progress(done, total)`` is called as files finish. A file whose check fails in an
    unforeseen way becomes an unreadable report, so one file never stops the batch."""
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    total, reports = len(paths), {}
    if workers > 1 and total >= PARALLEL_FROM:
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(_check_one, p, previous): i for i, p in enumerate(paths)}
                for future in as_completed(futures):
                    reports[futures[future]] = _outcome(paths[futures[future]], future)
                    if progress:
                        progress(len(reports), total)
        except BrokenProcessPool:
            pass  # a worker died: the files not yet reported are checked here, one by one
    for i, path in enumerate(paths):
        if i not in reports:
            reports[i] = _guarded(path, previous)
            if progress:
                progress(len(reports), total)
    return [reports[i] for i in range(total)]


def _check_one(path: Path, previous: Path | None) -> FileReport:
    return check_file(path, previous)  # looked up in the worker, so a worker runs this module's check_file


def _outcome(path: Path, future) -> FileReport:
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except Exception as err:  # a bug met by this file: report it, go on with the others
        return _failed(path, err)


def _guarded(path: Path, previous: Path | None) -> FileReport:
    try:
        return check_file(path, previous)
    except Exception as err:
        return _failed(path, err)


def _failed(path: Path, err: BaseException) -> FileReport:
    log_unexpected(err, f"check {path}")
    report = _unreadable_report(path, "FILE-UNREADABLE",
                                f"{path}：核对这个文件时遇到意外问题，已跳过这个文件（其他文件照常核对）；"
                                "请把这个文件发给维护人员")
    report.findings[0] = dataclasses.replace(report.findings[0], value=quote(str(err), 80))  # for maintainers
    return report


def _unreadable(path: Path, err: NianbaoError, about_previous: bool = False) -> FileReport:
    code = getattr(err, "code", "FILE-UNREADABLE")
    if code not in FILE_CODES and code not in ("NOT-TEMPLATE", "FILE-TOO-MANY-CELLS"):
        code = "FILE-UNREADABLE"
    return _unreadable_report(path, code, f"上年文件无法读取：{err}" if about_previous else str(err))


def _unreadable_report(path: Path, code: str, message: str) -> FileReport:
    return FileReport(path, None, [Finding(code, "error", message)], unreadable=message, unreadable_code=code)


# ----------------------------------------------------------------------------- numbers


def _numbers(sub: Submission, workbook: bool = False) -> list[Finding]:
    """Blank, non-numeric, wrong-kind and corrected number cells (each named by its cell); in a
    workbook, at most one error per cell, as the workbook's own check counts it."""
    fmt = sub.format
    findings: list[Finding] = []
    blanks: dict[str, list[Finding]] = {}
    for cell in fmt.cells.values():
        if cell.id not in sub.values or cell.id not in sub.locations:
            continue  # not located: CELL-NOT-FOUND says so
        raw = sub.raw.get(cell.id, sub.values.get(cell.id))
        derived = cell.id in fmt.derived
        if derived and isinstance(raw, str) and raw.startswith("="):
            continue
        parsed = parse_number(raw)
        problem = None if parsed.blank or parsed.error else check_kind(parsed.value, cell.kind)
        text_number = workbook and isinstance(raw, str) and not derived
        if not (parsed.blank or parsed.error or text_number or problem or parsed.corrected):
            continue  # a plain good number: nothing to say (most cells; the place is not worked out)
        where = _where(sub, cell.id)
        label = f"{where['sheet']}!{where['cell']}（{where['row']}·{where['column']}）"
        if parsed.blank:
            if not derived:
                blanks.setdefault(cell.table, []).append(Finding(
                    BLANK, "error", f"{label}是空白。空白视为未填写；没有发生的请填 0。", **where))
            continue
        if parsed.error:
            findings.append(Finding(TYPES, "error", f"{label}：{parsed.error}。", value=parsed.original,
                                    **where))
            continue
        if text_number:
            findings.append(Finding(NUMBER_AS_TEXT, "error", _as_text_message(label, raw, parsed.value, cell.kind),
                                    value=parsed.original, expected=fmt_number(parsed.value), **where))
            continue
        if problem:
            findings.append(Finding(TYPES, "error", f"{label}{problem}。", value=fmt_number(parsed.value), **where))
        if parsed.corrected:
            findings.append(Finding(NUMBER_CORRECTED, "warning", f"{label}：{parsed.describe_correction()}。请直接"
                                    f"填写阿拉伯数字。", value=parsed.original, expected=fmt_number(parsed.value),
                                    **where))
    for table_id, cells in blanks.items():
        table = fmt.tables[table_id]
        inputs = [c for c in fmt.input_cells if c.table == table_id and c.id in sub.locations]
        if len(cells) == len(inputs) and len(inputs) > 1:
            findings.append(Finding(TABLE_BLANK, "error", f"{table.short}（工作表“{table.sheet}”）整张表都没有填写。"
                                    f"请逐格填写；没有发生的填 0。", sheet=table.sheet, table=table.heading,
                                    cell=cells[0].cell, cells=tuple(f.cell for f in cells)))
        else:
            findings += cells
    return findings


def _as_text_message(label: str, raw: str, value: Decimal, kind: str) -> str:
    shown = raw.strip() if len(raw.strip()) <= 20 else raw.strip()[:20] + "…"
    problem = check_kind(value, kind)
    if problem:  # no use suggesting to type a number that would be wrong as a number too
        return f"{label}中的“{shown}”是文本，不是数字，表格里的合计和检查不会计入它；而且{problem}。"
    return (f"{label}中的“{shown}”是文本，不是数字，表格里的合计和检查不会计入它。请删除后直接输入阿拉伯数字 "
            f"{fmt_number(value)}（不要先设成文本格式，不要用全角数字）。")


def _sheet_states(sub: Submission) -> dict[str, int]:
    """Every input cell as the spreadsheet sees it (blank, text, number; see ``livechecks``)."""
    states = {}
    for cell in sub.format.input_cells:
        raw = sub.raw.get(cell.id)
        if isinstance(raw, str) and raw.startswith("="):  # a formula typed in: its result counts
            raw = sub.values.get(cell.id)
        states[cell.id] = sheet_state(raw, cell.kind)
    return states


def _where(sub: Submission, cell_id: str) -> dict[str, str | None]:
    fmt = sub.format
    cell = fmt.cells[cell_id]
    loc = sub.locations.get(cell_id)
    return dict(sheet=loc.sheet if loc else fmt.tables[cell.table].sheet, cell=loc.cell if loc else None,
                name=loc.name if loc else cell.name, table=fmt.tables[cell.table].heading,
                row=cell.row.display, column=cell.column.label)


# ----------------------------------------------------------------------------- rules


def _rules(sub: Submission, values: dict[str, Decimal | None], states: dict[str, int] | None = None) -> list[Finding]:
    """Every active rule on the rule inputs; a failure is placed at the one cell it shares with
    another failing rule (one wrong number breaks its row and its column), else at its first cell.
    With ``states`` (a workbook), a rule reading a blank or text input is still pending, as in the
    workbook: the blank or the text is the finding."""
    rules = active_rules(sub.format, bool(sub.previous))
    if states is not None:
        rules = [r for r in rules
                 if all(states.get(c) not in (BLANK_STATE, TEXT_STATE) for c in rule_inputs(sub.format, r))]
    failed = [o for o in (check_rule(r, values) for r in rules) if not o.ok]
    shared = Counter(c for o in failed for c in set(o.rule.cells))
    findings = []
    for outcome in failed:
        suspects = [c for c in outcome.rule.cells if shared[c] >= 2 and c in sub.locations]
        findings.append(from_outcome(outcome, sub, suspects[0] if len(suspects) == 1 else None))
    return findings


def _town_regulations(sub: Submission, values: dict[str, Decimal | None]) -> list[Finding]:
    """Review rule A8: towns and sub-districts cannot issue 规章."""
    if not TOWN_NAME.search(sub.unit_name or ""):
        return []
    table_id, row_id = REGULATIONS_ROW
    findings = []
    for cell in sub.format.cells.values():
        if cell.table == table_id and cell.row.id == row_id and (values.get(cell.id) or 0) > 0:
            where = _where(sub, cell.id)
            findings.append(Finding(TOWN_REGULATIONS, "warning",
                                    f"{sub.unit_name}是乡镇（街道）一级，无权制定规章，但{where['sheet']}!{where['cell']}"
                                    f"“规章·{cell.column.label}”填了 {fmt_number(values[cell.id])}。内部制度、规范性文件"
                                    f"不计入规章，请核对。", value=fmt_number(values[cell.id]), expected="0", **where))
    return findings


def _previous_problem(sub: Submission, previous: Submission) -> Finding | None:
    same_unit = (previous.unit_code == sub.unit_code if previous.unit_code and sub.unit_code
                 else previous.unit_name == sub.unit_name)
    if not same_unit:
        return Finding(PREVIOUS_MISMATCH, "warning",
                       f"--previous 指定的文件是“{previous.unit_name}”的，不是“{sub.unit_name}”的，跨年度核对未进行。",
                       value=previous.unit_name, expected=sub.unit_name)
    if previous.year != sub.year - 1:
        return Finding(PREVIOUS_MISMATCH, "warning",
                       f"--previous 指定的是 {previous.year} 年度的文件，不是上一年度（{sub.year - 1} 年），"
                       f"跨年度核对未进行。", value=str(previous.year), expected=str(sub.year - 1))
    return None


__all__ = ["FileReport", "InputFileError", "check_file", "validate"]

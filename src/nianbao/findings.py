"""Findings: one problem each, with a stable code, a Chinese message and its place.

The catalogue of codes lives in ``CODES`` and is documented in docs/findings.md (a test fails
when a code lacks documentation). Every module that emits a finding registers its codes here,
so this module is the one list; the rule ids of a format (T3-BALANCE, …) are codes too and are
registered when a format's rules are checked.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

from nianbao.rules import Outcome, fmt

Severity = Literal["error", "warning"]

#: The keys of one finding in ``nianbao check --json`` (issue 3), in this order.
JSON_KEYS = ("code", "severity", "message", "sheet", "cell", "name", "table", "row", "column", "value",
             "expected")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1 reference
    name: str | None = None  # defined name
    table: str | None = None
    row: str | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    cells: tuple[str, ...] = ()  # every cell (A1, same sheet) a failed rule reads, for annotations

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self) -> dict[str, object]:
        """The finding as ``check --json`` prints it."""
        return {key: getattr(self, key) for key in JSON_KEYS}

    @property
    def place(self) -> str:
        """“表三 依申请公开!D7” — how a person finds the cell."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    @property
    def severity_text(self) -> str:
        return SEVERITY_TEXT[self.severity]


SEVERITY_TEXT = {"error": "错误", "warning": "警告"}

# code -> (severity, one-line description); the rule ids of the format are codes too.
CODES: dict[str, tuple[Severity, str]] = {}
#: Codes registered ``per_cell``.
PER_CELL_CODES: set[str] = set()
#: Codes the template's own formulas compute while the clerk types (see ``livechecks``): the
#: workbook's status cell counts exactly these. Every other code is checked only after sending.
LIVE_CODES: set[str] = set()
#: What is checked only after sending, in words a clerk reads on 填报说明, by topic. Every code
#: about a workbook's contents that is not live names one of these topics (a test holds this).
AFTER_SENDING: dict[str, str] = {
    "narrative": "正文写的数字、年份和案件表述是否与表格一致",
    "content": "正文是否留有模板占位符、是否写成了报送函、是否照抄上年",
    "last_year": "与上年报告是否衔接",
    "plausibility": "数字是否合理（如乡镇、街道填报了规章）",
    "file": "文件是否完整、有没有被改动（工作表、公式、保护、数据有效性）",
}
#: code -> its AFTER_SENDING topic (None: not about a workbook's contents, e.g. mail, audits).
AFTER_SENDING_CODES: dict[str, str | None] = {}


def register(code: str, severity: Severity, description: str, *, per_cell: bool = False,
             live: bool = False, after: str | None = None) -> str:
    """Add a code to the catalogue. ``per_cell``: its findings say the same thing cell after
    cell (a blank, a typed-over total), so what people read groups them (see ``grouped``).
    ``live``: the workbook computes it too; otherwise ``after`` names the AFTER_SENDING topic."""
    if live and after:
        raise ValueError(f"{code}: a live check is not also an after-sending one")
    if after is not None and after not in AFTER_SENDING:
        raise ValueError(f"{code}: unknown after-sending topic {after!r}")
    CODES[code] = (severity, description)
    if per_cell:
        PER_CELL_CODES.add(code)
    if live:
        LIVE_CODES.add(code)
        AFTER_SENDING_CODES.pop(code, None)
    else:
        LIVE_CODES.discard(code)
        AFTER_SENDING_CODES[code] = after
    return code


def register_format(fmt_) -> None:
    """Make a format's rule ids part of the catalogue (T3-BALANCE, CARRY-OVER, …); every rule is
    rendered into the template's 检查 sheet, so every rule id is live."""
    for rule in fmt_.rules:
        if rule.rule_id not in CODES:
            register(rule.rule_id, rule.severity, rule.description.split("：", 1)[-1], live=True)


def is_live(code: str) -> bool:
    """Whether the workbook itself shows this finding while it is filled in."""
    return code in LIVE_CODES


def after_sending_sentence() -> str:
    """填报说明's one plain sentence naming what is checked only after sending."""
    return "以下内容表格无法自动检查，报送后由汇总单位核对：" + "；".join(AFTER_SENDING.values()) + "。"


def from_outcome(outcome: Outcome, sub, first_cell: str | None = None) -> Finding:
    """A failed rule as a finding placed at the rule's first (or given) cell."""
    rule = outcome.rule
    cell_id = first_cell or (rule.cells[0] if rule.cells else None)
    loc = sub.locations.get(cell_id) if cell_id else None
    cell = sub.format.cells.get(cell_id) if cell_id else None
    table = sub.format.tables[cell.table] if cell else None
    others = tuple(sub.locations[c].cell for c in sub.format.involved(rule.cells)
                   if c in sub.locations and loc is not None and sub.locations[c].sheet == loc.sheet)
    return Finding(
        code=rule.rule_id,
        severity=rule.severity,
        message=outcome.message(),
        sheet=loc.sheet if loc else (table.sheet if table else None),
        cell=loc.cell if loc else None,
        name=loc.name if loc else None,
        table=table.heading if table else None,
        row=cell.row.display if cell else None,
        column=cell.column.label if cell else None,
        value=fmt(outcome.lhs),
        expected=fmt(outcome.rhs),
        cells=others,
    )


# --------------------------------------------------------------------------- rendering


#: From this many findings of one code on one sheet, what people read (the terminal, the
#: feedback letter) shows them as one item: a half-filled table gives a BLANK per cell.
#: --json and the annotated workbook keep every one.
GROUP_AT = 6
GROUP_LISTED = 10


def grouped(findings: list[Finding]) -> list[tuple[Finding, str, str]]:
    """(first finding, place, message) items: findings of one code on one sheet become one item
    once there are ``GROUP_AT`` of them, naming the first cells and how many there are."""
    counts = Counter((f.code, f.sheet) for f in findings if f.cell and f.code in PER_CELL_CODES)
    rows, done = [], set()
    for f in findings:
        key = (f.code, f.sheet)
        if counts[key] < GROUP_AT:
            rows.append((f, f.place or "", f.message))
        elif key not in done:
            done.add(key)
            cells = [g.cell for g in findings if (g.code, g.sheet) == key and g.cell]
            shown = "、".join(cells[:GROUP_LISTED]) + ("等" if len(cells) > GROUP_LISTED else "")
            rows.append((f, f"{f.place} 等 {len(cells)} 处",
                         f"{f.message}（同类问题在本工作表共 {len(cells)} 处：{shown}）"))
    return rows


def to_json(files: list[dict[str, object]]) -> str:
    """``{"files": [...]}`` as ``check --json`` prints it (Chinese kept readable)."""
    return json.dumps({"files": files}, ensure_ascii=False, indent=2)


def as_text(finding: Finding) -> str:
    """One line: “错误 T3-BALANCE 表三 依申请公开!D30：message”."""
    place = f" {finding.place}" if finding.place else ""
    return f"{finding.severity_text} {finding.code}{place}：{finding.message}"


def sort_key(finding: Finding, sheets: dict[str, int] | None = None) -> tuple:
    """Errors first, then by sheet (in workbook order when ``sheets`` is given) and cell."""
    sheet = finding.sheet or ""
    place = (sheets.get(sheet, len(sheets)) if sheets is not None else 0, sheet)
    return (finding.severity != "error", place, _cell_order(finding.cell), finding.code)


def _cell_order(a1: str | None) -> tuple[int, str]:
    if not a1:
        return (0, "")
    letters = a1.rstrip("0123456789")
    digits = a1[len(letters):]
    return (int(digits) if digits else 0, letters.rjust(3))

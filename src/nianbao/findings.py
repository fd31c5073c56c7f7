"""Findings: one problem each, with a stable code, a Chinese message and its place.

The catalogue of codes lives in ``CODES`` and is documented in docs/findings.md (a test fails
when a code lacks documentation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from nianbao.rules import Outcome, fmt

Severity = Literal["error", "warning"]


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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def place(self) -> str:
        """“表三 依申请公开!D7” — how a person finds the cell."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""


# code -> (severity, one-line description); the rule ids of the format are codes too.
CODES: dict[str, tuple[Severity, str]] = {}


def register(code: str, severity: Severity, description: str) -> str:
    CODES[code] = (severity, description)
    return code


def from_outcome(outcome: Outcome, sub, first_cell: str | None = None) -> Finding:
    """A failed rule as a finding placed at the rule's first (or given) cell."""
    rule = outcome.rule
    cell_id = first_cell or (rule.cells[0] if rule.cells else None)
    loc = sub.locations.get(cell_id) if cell_id else None
    cell = sub.format.cells.get(cell_id) if cell_id else None
    table = sub.format.tables[cell.table] if cell else None
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
    )

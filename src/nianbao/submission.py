"""What was read back from one filled workbook or imported from a published report."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from nianbao.format.model import Format


@dataclass(frozen=True)
class Location:
    """Where a value sits in a workbook."""

    sheet: str
    cell: str  # A1 reference
    name: str | None = None  # defined name


@dataclass
class Submission:
    format: Format
    year: int
    unit: dict[str, str]  # unit field id -> text (name, code, contact, ...)
    values: dict[str, Decimal | None]  # number cell id -> value (None: blank)
    narratives: dict[str, str] = field(default_factory=dict)  # narrative id -> text
    previous: dict[str, Decimal | None] = field(default_factory=dict)  # cell id -> last year's value
    token: str = ""
    template_version: str = ""
    source: str = ""
    locations: dict[str, Location] = field(default_factory=dict)  # cell/narrative/unit id -> place
    raw: dict[str, object] = field(default_factory=dict)  # cell id -> value exactly as stored

    @property
    def unit_name(self) -> str:
        return self.unit.get("name", "")

    @property
    def unit_code(self) -> str:
        return self.unit.get("code", "")

    def rule_values(self) -> dict[str, Decimal | None]:
        """Numbers keyed as the rules see them: cell ids, and ``prev.<id>`` for last year."""
        values: dict[str, Decimal | None] = dict(self.values)
        values.update({f"prev.{k}": v for k, v in self.previous.items()})
        return values

    @property
    def title(self) -> str:
        return self.format.report_title(self.unit_name, self.year)

"""The format model: one report kind's parts, tables, cells and rules, as loaded from TOML.

Everything downstream (template, reader, rules, report, importer) reads this model; nothing
else spells a label or a cell id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from nianbao.expr import Compare, refs_of

CellKind = Literal["count", "amount", "signed_count"]
CELL_KINDS: tuple[str, ...] = ("count", "amount", "signed_count")
KIND_NAMES = {"count": "非负整数", "amount": "金额（最多 4 位小数）", "signed_count": "整数（可为负数）"}


@dataclass(frozen=True)
class HeaderNode:
    """A node of a column or row header tree; leaves are data columns / rows."""

    id: str | None
    label: str
    children: tuple[HeaderNode, ...] = ()
    span: int = 1
    kind: str | None = None

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> list[HeaderNode]:
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def depth(self) -> int:
        return 1 + max((c.depth() for c in self.children), default=0)


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    kind: str
    span: int
    path: tuple[str, ...]  # labels from the top header down to this column


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    path: tuple[str, ...]

    @property
    def display(self) -> str:
        """A row's name in messages: its own label, with the sub-heading it belongs to."""
        return "·".join(self.path[-2:]) if len(self.path) > 2 else self.path[-1]


@dataclass(frozen=True)
class Block:
    id: str
    title: str | None
    corner: str | None
    column_tree: tuple[HeaderNode, ...]
    row_tree: tuple[HeaderNode, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    @property
    def header_depth(self) -> int:
        return max(n.depth() for n in self.column_tree)


@dataclass(frozen=True)
class Cell:
    """One number cell of a table, e.g. ``t3.new.natural``."""

    id: str
    table: str
    block: str
    row: Row
    column: Column
    kind: str

    @property
    def name(self) -> str:
        """The Excel defined name of this cell."""
        return defined_name(self.id)


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    sheet: str
    label_levels: int
    data_width: int
    blocks: tuple[Block, ...]
    number: str = ""  # the part number it belongs to (二, 三, 四)

    @property
    def rows(self) -> list[Row]:
        return [r for b in self.blocks for r in b.rows]

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}" if self.number else self.title

    @property
    def short(self) -> str:
        """How messages name the table: 表二, 表三, 表四."""
        return f"表{self.number}" if self.number else self.title


@dataclass(frozen=True)
class Narrative:
    id: str
    part: str
    title: str
    guidance: str
    required: bool = True

    @property
    def name(self) -> str:
        return defined_name(f"narrative.{self.id}")


@dataclass(frozen=True)
class Part:
    id: str
    number: str
    title: str
    table: str | None
    narratives: tuple[Narrative, ...]

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}"


@dataclass(frozen=True)
class UnitField:
    id: str
    label: str
    input: bool = True
    required: bool = False
    guidance: str = ""

    @property
    def name(self) -> str:
        return defined_name(f"unit.{self.id}")


@dataclass(frozen=True)
class RuleInstance:
    """One expanded rule: e.g. T3-BALANCE for the column 自然人."""

    rule_id: str
    key: str  # unique within the format, e.g. "T3-BALANCE[natural]"
    severity: Literal["error", "warning"]
    expr_text: str
    compare: Compare
    description: str
    message: str
    derive: bool
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def uses_previous(self) -> bool:
        return any(ref.previous for ref in self.compare.refs())

    @cached_property  # read for every rule of every file checked; the rule never changes
    def cells(self) -> list[str]:
        """Cell ids of this year's data the rule reads, in order of appearance."""
        seen: dict[str, None] = {}
        for ref in self.compare.refs():
            if not ref.previous:
                seen.setdefault(ref.cell, None)
        return list(seen)


@dataclass(frozen=True)
class Format:
    id: str
    edition: str
    title: str
    basis: str
    first_year: int
    last_year: int | None
    template_version: str
    unit_fields: tuple[UnitField, ...]
    parts: tuple[Part, ...]
    tables: dict[str, Table]
    cells: dict[str, Cell]
    rules: tuple[RuleInstance, ...]
    derived: dict[str, RuleInstance]  # derived cell id -> the rule whose right side computes it
    source: Path | None = None

    @property
    def key(self) -> str:
        return f"{self.id}-{self.edition}"

    def covers(self, year: int) -> bool:
        return year >= self.first_year and (self.last_year is None or year <= self.last_year)

    # Cached: read for every file checked (a format never changes once loaded).
    @cached_property
    def narratives(self) -> tuple[Narrative, ...]:
        return tuple(n for p in self.parts for n in p.narratives)

    @cached_property
    def input_cells(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells.values() if c.id not in self.derived)

    def involved(self, cells: list[str] | tuple[str, ...]) -> list[str]:
        """The cells, and (through the formulas of derived cells) every input they are computed from."""
        seen: dict[str, None] = {}
        todo = list(cells)
        while todo:
            cell = todo.pop(0)
            if cell in seen:
                continue
            seen[cell] = None
            derived = self.derived.get(cell)
            if derived is not None:
                todo.extend(r.cell for r in refs_of(derived.compare.right) if not r.previous)
        return list(seen)

    @cached_property
    def rule_inputs(self) -> dict[str, tuple[str, ...]]:
        """Rule key -> the input cells the rule reads, directly or through the formulas of totals."""
        return {rule.key: tuple(c for c in self.involved(rule.cells) if c not in self.derived) for rule in self.rules}

    def report_title(self, unit: str, year: int) -> str:
        return f"{unit}{year}年{self.title}"


def defined_name(ident: str) -> str:
    """Excel defined name for a dotted id: ``t3.new.natural`` -> ``nb_t3_new_natural``.

    The prefix keeps names from ever looking like a cell reference (T3, R1C1) in Excel or
    LibreOffice; the loader rejects ids whose names would collide.
    """
    return "nb_" + re.sub(r"[^A-Za-z0-9_]", "_", ident)

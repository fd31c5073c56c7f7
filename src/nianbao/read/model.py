"""The reading model: what checking a returned workbook needs, and nothing else.

Built by :func:`nianbao.read.parts.read_book` from one pass over the package; drift and the
reader read only this, never a spreadsheet library's objects.

Value semantics (``Sheet.value``) are those of the stored XML, read the way openpyxl reads a
workbook in formula mode, which is *not* always what Excel displays:

- a number is ``int`` when its stored text has no ``.``/``E`` ("13" → 13) and ``float``
  otherwise ("13.0" → 13.0, "1E2" → 100.0); the cell's number format is ignored, except that
  a number in a date or time format becomes a ``datetime``/``time``/``timedelta`` as in Excel;
- a number stored as text (Excel's green triangle) stays the ``str`` "12"; an empty string is
  "" (a cell that is present but holds nothing is ``None``, like a missing cell);
- a boolean is ``True``/``False``; an error is its text ("#DIV/0!", "#REF!");
- a formula cell's value is its formula text with "=" ("=SUM(nb_t3_new_natural)"), array
  formulas included; what the file stored as its result is :meth:`Sheet.cached`, typed like
  a value but never converted to a date (a cached result is a check text or a total).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from nianbao.read.names import first_cell, sheets_of


@dataclass
class Sheet:
    """One sheet: its name, state, protection, validated ranges and cells (lazily decoded)."""

    name: str
    state: str = "visible"  # visible, hidden or veryHidden
    chart: bool = False  # a chart sheet: no cells
    protected: bool = False  # <sheetProtection sheet="1"> (the lock a user removes)
    validations: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_col, min_row, max_col, max_row)
    #: Indexes the sheet's cells on first use: () -> (A1 -> raw cell, raw cell -> (value, cached)).
    #: A raw cell is an lxml element, or the groups of a cell read from the bytes (read.cells).
    _loader: Callable[[], tuple[dict[str, object], Callable[[object], tuple[object, object]]]] | None = \
        field(default=None, repr=False)
    _index: dict[str, object] | None = field(default=None, repr=False)
    _decode: Callable[[object], tuple[object, object]] | None = field(default=None, repr=False)
    _done: dict[str, tuple[object, object]] = field(default_factory=dict, repr=False)
    _covered: set[tuple[int, int]] | None = field(default=None, repr=False)
    _areas: list[tuple[int, int, int, int]] = field(default_factory=list, repr=False)

    @property
    def _cells(self) -> dict[str, object]:
        if self._index is None:
            self._index, self._decode = self._loader() if self._loader is not None else ({}, None)
        return self._index

    def _cell(self, a1: str) -> tuple[object, object]:
        done = self._done.get(a1)
        if done is None:
            raw = self._cells.get(a1)
            done = (None, None) if raw is None or self._decode is None else self._decode(raw)
            self._done[a1] = done
        return done

    def value(self, a1: str) -> object:
        """The cell's value (a formula cell's formula text); None for an empty or missing cell."""
        return self._cell(a1)[0]

    def cached(self, a1: str) -> object:
        """The result a formula cell had when the file was saved (None: not a formula, or none stored)."""
        return self._cell(a1)[1]

    def validated(self, row: int, col: int) -> bool:
        """Some data validation of the sheet covers the cell (1-based row and column)."""
        if self._covered is None:  # small areas as a set of cells; whole columns stay areas
            self._covered, self._areas = set(), []
            for c0, r0, c1, r1 in self.validations:
                if (c1 - c0 + 1) * (r1 - r0 + 1) <= 4096:
                    self._covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
                else:
                    self._areas.append((c0, r0, c1, r1))
        return (row, col) in self._covered or any(
            c0 <= col <= c1 and r0 <= row <= r1 for c0, r0, c1, r1 in self._areas)

    def rows(self, max_row: int, max_col: int) -> list[list[object]]:
        """Values of the top-left ``max_row`` × ``max_col`` block, row by row (missing cells None)."""
        grid = [[None] * max_col for _ in range(max_row)]
        for a1 in self._cells:
            row, col = _row_col(a1)
            if 0 < row <= max_row and 0 < col <= max_col:
                grid[row - 1][col - 1] = self.value(a1)
        return grid

    def used_rows(self, max_col: int) -> list[list[object]]:
        """Every row that has a cell in the first ``max_col`` columns, in order, padded with None."""
        rows: dict[int, list[object]] = {}
        cells = self._cells
        decode = self._decode
        for a1, raw in cells.items():
            first, digits = a1[:1], a1[1:]
            if "A" <= first <= "Z" and digits.isdigit() and digits.isascii():  # one-letter column: no lookup
                row, col = int(digits), ord(first) - 64
            else:
                row, col = _row_col(a1)
            if 0 < col <= max_col and row > 0:
                rows.setdefault(row, [None] * max_col)[col - 1] = decode(raw)[0]
        return [rows[r] for r in sorted(rows)]


def column_index(letters: str) -> int:
    """1-based index of a column name, "A" → 1, "XFD" → 16384; as openpyxl's
    ``column_index_from_string`` (case-insensitive, A to ZZZ), ValueError for anything else.
    Written out because importing openpyxl for it costs 0.2 s of every command's start."""
    if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        raise ValueError(f"{letters!r} is not a valid column name")
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


@lru_cache(maxsize=16384)  # the same few thousand references in every file of a round
def _row_col(a1: str) -> tuple[int, int]:
    """(row, column) of an A1 reference, both 1-based; (0, 0) for anything else."""
    letters = a1.rstrip("0123456789")
    try:
        col = column_index(letters)
    except ValueError:  # not a cell reference (a hostile r="…"): no position
        return 0, 0
    digits = a1[len(letters):]
    return (int(digits), col) if digits.isascii() and digits.isdigit() else (0, 0)


@lru_cache(maxsize=16384)
def coordinate_to_tuple(a1: str) -> tuple[int, int]:
    """(row, column) of "D6", as openpyxl's function of that name; ValueError when not a cell."""
    letters = a1.rstrip("0123456789")
    digits = a1[len(letters):]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{a1!r} is not a cell reference")
    return int(digits), column_index(letters)


def column_letter(col: int) -> str:
    """"A" for 1, "XFD" for 16384 (openpyxl's ``get_column_letter``)."""
    if not 1 <= col <= 18278:
        raise ValueError(f"invalid column index {col}")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Book:
    """One workbook: its sheets in order, global defined names, structure lock, custom properties."""

    sheets: dict[str, Sheet]
    names: dict[str, str] = field(default_factory=dict)  # global defined name -> its reference text
    #: The structure (sheets) is locked: <workbookProtection> is there and does not say lockStructure="0".
    structure_locked: bool = False
    properties: dict[str, str] = field(default_factory=dict)  # custom document properties, as text

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    @property
    def worksheets(self) -> list[Sheet]:
        return [s for s in self.sheets.values() if not s.chart]

    def value(self, sheet: str, a1: str) -> object:
        found = self.sheets.get(sheet)
        return None if found is None else found.value(a1)

    def destination(self, name: str) -> tuple[str, str] | None:
        """(sheet, A1) of the first single cell a global defined name points to, or None."""
        text = self.names.get(name)
        return None if text is None else first_cell(text, self.sheets)

    def destination_sheets(self, name: str) -> set[str]:
        """Every sheet a global defined name's reference mentions."""
        text = self.names.get(name)
        return set() if text is None else sheets_of(text)

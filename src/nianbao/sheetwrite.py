"""The one way nianbao writes user or file content into a spreadsheet cell: as a value.

Text from a unit's workbook, a published report, a unit list or a mail may start with ``=``,
``+``, ``-`` or ``@`` (``=WEBSERVICE("http://…")``, ``=HYPERLINK(…)``); written as a formula it
would run in the reader's Excel. Everything from outside is written here as a string or a number,
never a formula; formulas come only from the format definition (the template writer).
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import xlsxwriter

#: Excel's limit on the characters in one cell.
MAX_CELL_TEXT = 32767

#: XlsxWriter must not guess: a string stays a string, whatever it starts with.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook that writes every string as text."""
    return xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)


def cell_value(value: object) -> str | float | bool | None:
    """What a cell may hold for ``value``: None (blank), a bool, a finite float or a string.

    A number Excel cannot hold (NaN, infinite, beyond a double) is written as its text.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = math.inf
        if math.isfinite(number):
            return number
        text = format(value, ".6E") if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else str(value)
        return text[:MAX_CELL_TEXT]
    return str(value)[:MAX_CELL_TEXT]


def write_value(ws, row: int, col: int, value: object, style=None) -> None:
    """Write ``value`` into an XlsxWriter worksheet cell as a value, never as a formula."""
    content = cell_value(value)
    if content is None:
        ws.write_blank(row, col, None, style)
    elif isinstance(content, bool):
        ws.write_boolean(row, col, content, style)
    elif isinstance(content, float):
        ws.write_number(row, col, content, style)
    else:
        ws.write_string(row, col, content, style)


def merge_value(ws, first_row: int, first_col: int, last_row: int, last_col: int, value: object, style) -> None:
    """A merged range holding ``value`` as a value."""
    ws.merge_range(first_row, first_col, last_row, last_col, None, style)
    write_value(ws, first_row, first_col, value, style)


def put_value(cell, value: object) -> None:
    """Set an openpyxl cell (our own freshly made file only) to ``value`` as a value."""
    content = cell_value(value)
    if isinstance(value, (int, Decimal)) and isinstance(content, float) and content == int(content):
        content = int(content)  # keep whole numbers whole (12, not 12.0)
    cell.value = content
    if isinstance(content, str):
        cell.data_type = "s"  # openpyxl would otherwise take "=…" for a formula


__all__ = ["MAX_CELL_TEXT", "WORKBOOK_OPTIONS", "cell_value", "merge_value", "new_workbook", "put_value",
           "write_value"]

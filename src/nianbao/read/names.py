"""Where a defined name points: ``'表三 依申请公开'!$D$6`` → (sheet, A1).

Almost every name in a returned workbook is one cell on one sheet; those are read with one
regular expression. Anything else (several areas, a formula, ``#REF!``) goes through
openpyxl's formula tokenizer exactly as ``DefinedName.destinations`` does, so both paths give
what openpyxl gives — including its quirk of keeping a doubled quote ('') in a quoted sheet name.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A quoted sheet name may hold anything ('' for a quote); an unquoted one only what the tokenizer
# keeps in one operand (letters, digits, _ and .), else the tokenizer path decides.
_ONE_CELL = re.compile(r"(?:'(?P<quoted>(?:[^']|'')*)'|(?P<plain>[\w.]+))!(?P<cell>\$?[A-Za-z]{1,3}\$?\d+)")


def destinations(text: str) -> list[tuple[str, str]]:
    """(sheet, reference) of every area the name's text refers to; [] when it is not a reference."""
    return list(_destinations(text) if len(text) <= 512 else _destinations.__wrapped__(text))


@lru_cache(maxsize=4096)  # the same few hundred name texts come back in every file of a round
def _destinations(text: str) -> tuple[tuple[str, str], ...]:
    m = _ONE_CELL.fullmatch(text)
    if m is not None:
        return ((m.group("quoted") if m.group("quoted") is not None else m.group("plain"), m.group("cell")),)
    from openpyxl.workbook.defined_name import DefinedName

    try:
        return tuple(DefinedName("x", attr_text=text).destinations)
    except Exception:  # not a reference at all: openpyxl's tokenizer or its pattern gave up
        return ()


def first_cell(text: str, sheets) -> tuple[str, str] | None:
    """(sheet, A1 without $) of the first single-cell destination on one of ``sheets``."""
    for found in _single_cells(text) if len(text) <= 512 else _single_cells.__wrapped__(text):
        if found[0] in sheets:
            return found
    return None


@lru_cache(maxsize=4096)
def _single_cells(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((sheet, ref.replace("$", "")) for sheet, ref in destinations(text) if ":" not in ref)


def sheets_of(text: str) -> set[str]:
    return {sheet for sheet, _ in destinations(text)}

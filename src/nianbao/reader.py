"""A filled nianbao workbook (.xlsx) → Submission.

Identity comes from the very-hidden _meta sheet written by template.py; cells are located by
their defined names, falling back to the coordinates recorded in the meta cell map.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl

from nianbao.errors import InputFileError
from nianbao.format.load import load_format
from nianbao.submission import Location, Submission
from nianbao.template import META_SHEET


@dataclass(frozen=True)
class MetaEntry:
    kind: str
    ident: str
    sheet: str
    cell: str
    name: str


@dataclass
class Meta:
    info: dict[str, str]
    previous: dict[str, object]
    cells: list[MetaEntry]


def read_meta(wb) -> Meta:
    """Parse the _meta sheet: key/value pairs, last year's values, the cell map."""
    ws = wb[META_SHEET]
    info: dict[str, str] = {}
    previous: dict[str, object] = {}
    cells: list[MetaEntry] = []
    section = "info"
    for row in ws.iter_rows(values_only=True):
        first = row[0] if row else None
        if first is None:
            continue
        if first in ("key", "previous", "kind"):
            section = {"key": "info", "previous": "previous", "kind": "cells"}[first]
            continue
        if section == "info":
            info[str(first)] = "" if row[1] is None else str(row[1])
        elif section == "previous":
            previous[str(first)] = row[1]
        else:
            cells.append(MetaEntry(*(str(v) if v is not None else "" for v in row[:5])))
    return Meta(info, previous, cells)


def load_workbook(path: Path):
    """Open an .xlsx for reading values; openpyxl parses XML through defusedxml when installed."""
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise InputFileError(path, f"无法作为 Excel 工作簿读取（{err}）") from None


def read_submission(path: Path) -> Submission:
    """Read values as stored, without normalising or validating them."""
    wb = load_workbook(path)
    if META_SHEET not in wb.sheetnames:
        raise InputFileError(path, "不是 nianbao 生成的报送模板（缺少元数据工作表）", code="NOT-TEMPLATE")
    meta = read_meta(wb)
    fmt = load_format(meta.info["format_key"])
    sub = Submission(format=fmt, year=int(meta.info["year"]), unit={}, values={},
                     token=meta.info.get("token", ""), template_version=meta.info.get("template_version", ""),
                     source=str(path))
    sub.unit.update({"name": meta.info.get("unit_name", ""), "code": meta.info.get("unit_code", "")})
    sub.previous = {k: _as_decimal(v) for k, v in meta.previous.items()}
    for entry in meta.cells:
        value = _value_at(wb, entry)
        sub.locations[entry.ident] = Location(entry.sheet, entry.cell, entry.name)
        if entry.kind in ("number", "derived"):
            sub.raw[entry.ident] = value
            sub.values[entry.ident] = _as_decimal(value)
        elif entry.kind == "narrative":
            sub.narratives[entry.ident.removeprefix("narrative.")] = "" if value is None else str(value)
        elif entry.kind == "unit":
            field_id = entry.ident.removeprefix("unit.")
            if value not in (None, ""):
                sub.unit[field_id] = str(value)
    return sub


def _value_at(wb, entry: MetaEntry) -> object:
    defined = wb.defined_names.get(entry.name)
    if defined is not None:
        for sheet, ref in defined.destinations:
            if sheet in wb.sheetnames:
                return wb[sheet][ref.replace("$", "")].value
    if entry.sheet in wb.sheetnames:
        return wb[entry.sheet][entry.cell].value
    return None


def _as_decimal(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None

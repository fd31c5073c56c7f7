"""A filled nianbao workbook (.xlsx) → Submission, treating the file as hostile.

One pass (design decision 11, pitfalls §1, §7, §9):

1. :func:`nianbao.read.package.open_package` decides by content what the file is and refuses .xls/.et/
   .ods/.csv, encrypted and macro files, zip bombs and XML with DOCTYPEs; here the declared size
   of the cell XML is bounded too (a workbook with millions of cells would exhaust memory). The
   same open archive yields the inflated XML parts, each inflated once.
2. :func:`nianbao.read.parts.read_book` parses each part once into the reading model
   (:class:`~nianbao.read.model.Book`): cells with value, formula and cached result, names,
   protection, validations, custom properties. Drift reads the same model.
3. Identity comes from the very-hidden _meta sheet; cells are located by their defined names,
   falling back to the coordinates of the meta cell map when the label beside them still matches
   (labels come from the format's layout, computed once per format).
4. Numbers go through :func:`nianbao.numbers.parse_number`; ``Submission.raw`` keeps the cell's
   content exactly as stored (the formula text for an intact formula cell), so the validator can
   report each correction and tell a typed-over total from a formula.
"""

from __future__ import annotations

import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from nianbao.errors import InputFileError, NianbaoError
from nianbao.format.load import load_format
from nianbao.format.model import Format
from nianbao.layout import table_layout
from nianbao.numbers import parse_number
from nianbao.read.model import Book, column_letter
from nianbao.read.parts import cast_number, read_book
from nianbao.read.package import open_package, require_hardened_openpyxl, sniff
from nianbao.submission import Location, Submission
from nianbao.sheets import CELL_MAP, CELL_MAP_FIELDS, META_SHEET, cell_map_entries

#: Most bytes of worksheet + shared-string XML (as declared) accepted: a filled template holds
#: about 0.5 MB; 16 MB is some 300,000 cells, the most openpyxl can hold in bounded memory.
MAX_CELL_XML_BYTES = 16 * 1024 * 1024
#: What the meta map calls a located cell's ways of being found.
BY_NAME, MOVED, BY_COORDS = "name", "moved", "coords"

_RESAVE = "请在下发的模板中填写，保存为 Excel 工作簿(*.xlsx) 后重新报送"


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


@dataclass(frozen=True)
class Place:
    """Where a meta-map entry was found, and how (by its name, moved, or by coordinates)."""

    sheet: str
    cell: str
    how: str


@dataclass
class Reading:
    """Everything read from one workbook: the submission and what drift detection needs."""

    path: Path
    submission: Submission
    book: Book
    meta: Meta
    places: dict[str, Place] = field(default_factory=dict)  # meta ident -> where it was found
    unlocated: list[MetaEntry] = field(default_factory=list)  # entries found nowhere

    @property
    def format(self) -> Format:
        return self.submission.format

    def cached(self, sheet: str, a1: str) -> object:
        """The result a formula cell stored when the file was last saved (None: none)."""
        found = self.book.sheets.get(sheet)
        return None if found is None else found.cached(a1)


def read_meta(book: Book) -> Meta:
    """Parse the _meta sheet: key/value pairs, last year's values, the cell map."""
    info: dict[str, str] = {}
    previous: dict[str, object] = {}
    cells: list[MetaEntry] = []
    section = "info"
    for row in book.sheets[META_SHEET].used_rows(5):
        first = row[0]
        if first is None:
            continue
        if isinstance(first, str) and first in _SECTIONS:  # (a hostile Decimal("sNaN") cannot be hashed)
            section = _SECTIONS[first]
            continue
        if section == "info":
            info[str(first)] = "" if row[1] is None else str(row[1])
        elif section == "previous":
            previous[str(first)] = row[1]
        elif section == "cells":  # templates before 2026-12: one row an entry
            cells.append(MetaEntry(*(str(v) if v is not None else "" for v in row)))
        else:
            cells += _map_entries(str(first))
    return Meta(info, previous, cells)


#: The first cell of a row that starts a section of the _meta sheet, and the section.
_SECTIONS = {"key": "info", "previous": "previous", CELL_MAP_FIELDS[0]: "cells", CELL_MAP: "map"}


def _map_entries(text: str) -> tuple[MetaEntry, ...]:
    """The entries of one text of the compact cell map; the same text (every file of a template
    version) is parsed once per process."""
    return _parsed_map(text) if len(text) <= 32767 else _parsed_map.__wrapped__(text)


@lru_cache(maxsize=64)
def _parsed_map(text: str) -> tuple[MetaEntry, ...]:
    return tuple(MetaEntry(*fields) for fields in cell_map_entries(text))


def load_workbook(path: Path, data_only: bool = True):
    """Sniff, bound and open an .xlsx with openpyxl (for plain lists such as a unit list, not for
    returned templates); every failure is an InputFileError."""
    import openpyxl
    import openpyxl.worksheet._reader as sheet_reader

    # openpyxl then parses numbers the way the reading model does, made total the same way
    # (cast_number): NaN, INF or 4,300 digits in one cell are that cell's finding, not an
    # unreadable file. Set here, not at import, so commands that never open a list skip openpyxl.
    sheet_reader._cast_number = cast_number  # module global looked up by its cell parser

    path = Path(path)
    sniff(path)
    _check_cell_budget(path, zipfile.ZipFile(path).infolist())
    require_hardened_openpyxl()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops; we only read
            return openpyxl.load_workbook(path, data_only=data_only, keep_vba=False, keep_links=False)
    except NianbaoError:
        raise
    except Exception as err:  # openpyxl raises many types on damaged XML; all mean the same here
        raise InputFileError(path, f"文件已损坏或内容不规范，无法读取：{_RESAVE}",
                             code="FILE-CORRUPT") from None


def read_book_of(path: Path) -> Book:
    """Open a returned workbook once (all package checks, the cell budget) and read its model."""
    return read_book(open_package(Path(path), budget=_check_cell_budget))


def read_workbook(path: Path) -> Reading:
    """Read one returned workbook; raise InputFileError when it is not a readable nianbao template."""
    path = Path(path)
    book = read_book_of(path)
    if META_SHEET not in book.sheets or book.sheets[META_SHEET].chart:
        raise InputFileError(path, _not_a_template(book), code="NOT-TEMPLATE")
    try:
        meta = read_meta(book)
        fmt = load_format(meta.info.get("format_key", ""))
        year = int(meta.info.get("year", ""))
    except NianbaoError as err:
        if isinstance(err, InputFileError):
            raise
        raise InputFileError(path, f"模板格式“{meta.info.get('format_key', '')}”无法识别（可能由更新版本的 "
                                   f"nianbao 生成）：{_RESAVE}", code="NOT-TEMPLATE") from None
    except (ValueError, KeyError):
        raise InputFileError(path, f"模板的元数据已损坏（缺少格式或年度）：{_RESAVE}", code="NOT-TEMPLATE") from None
    sub = Submission(format=fmt, year=year, unit={}, values={}, token=meta.info.get("token", ""),
                     template_version=meta.info.get("template_version", ""), source=str(path))
    sub.unit.update({"name": meta.info.get("unit_name", ""), "code": meta.info.get("unit_code", "")})
    sub.previous = {k: _as_decimal(v) for k, v in meta.previous.items()}
    reading = Reading(path, sub, book, meta)
    labels = labels_of(fmt)
    for entry in meta.cells:
        place = _locate(book, entry, labels)
        if place is None:
            reading.unlocated.append(entry)
            continue
        reading.places[entry.ident] = place
        sheet = book.sheets[place.sheet]
        value = sheet.value(place.cell)
        sub.locations[entry.ident] = Location(place.sheet, place.cell, entry.name)
        if entry.kind in ("number", "derived"):
            sub.raw[entry.ident] = value
            if _is_formula(value):
                sub.values[entry.ident] = parse_number(sheet.cached(place.cell)).value
            else:
                sub.values[entry.ident] = parse_number(value).value
        elif entry.kind == "narrative":
            sub.narratives[entry.ident.removeprefix("narrative.")] = "" if value is None else str(value)
        elif entry.kind == "unit":
            field_id = entry.ident.removeprefix("unit.")
            if value not in (None, "") and str(value).strip():
                if field_id not in ("name", "code"):  # identity comes from the meta sheet
                    sub.unit[field_id] = str(value).strip()
    return reading


def read_submission(path: Path) -> Submission:
    """The numbers, texts and identity of one workbook (see :func:`read_workbook`)."""
    return read_workbook(path).submission


# ----------------------------------------------------------------------------- locating cells


def _is_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _locate(book: Book, entry: MetaEntry, labels: _Labels) -> Place | None:
    """By defined name first; else by the recorded coordinates if the label beside them matches."""
    found = book.destination(entry.name) if entry.name else None
    if found is not None:
        sheet, a1 = found
        return Place(sheet, a1, BY_NAME if found == (entry.sheet, entry.cell) else MOVED)
    if entry.sheet in book.sheets and entry.cell and labels.matches(book, entry):
        return Place(entry.sheet, entry.cell, BY_COORDS)
    return None


_LABELS: dict[int, tuple[Format, _Labels]] = {}


def labels_of(fmt: Format) -> _Labels:
    """The labels of a format, worked out once per loaded format (not once per file)."""
    cached = _LABELS.get(id(fmt))
    if cached is None or cached[0] is not fmt:
        cached = _LABELS[id(fmt)] = (fmt, _Labels(fmt))
    return cached[1]


class _Labels:
    """The label a person sees beside each located cell, from the same layout the template used."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self._tables: dict[str, tuple[str, str]] = {}  # cell id -> (A1 of its label, label text)
        for table_id in fmt.tables:
            self._tables.update(self._table_labels(table_id))
        self._narratives = {f"narrative.{n.id}": n.title for n in fmt.narratives}
        self._units = {f"unit.{f.id}": f.label for f in fmt.unit_fields}

    def expected(self, entry: MetaEntry) -> tuple[str, str] | None:
        """(A1 of the label, its text) for a number, narrative or unit entry; None: no label to check."""
        if entry.kind in ("number", "derived"):
            return self._tables.get(entry.ident) if entry.ident in self.fmt.cells else None
        row = _row_of(entry.cell)
        if row is None:
            return None
        if entry.kind == "narrative":
            title = self._narratives.get(entry.ident)
            return (f"B{row}", title) if title is not None else None
        if entry.kind == "unit":
            label = self._units.get(entry.ident)
            return (f"A{row}", label) if label is not None else None
        return None

    def _table_labels(self, table_id: str) -> dict[str, tuple[str, str]]:
        layout = table_layout(self.fmt.tables[table_id])
        levels = layout.table.label_levels
        found: dict[str, tuple[str, str]] = {}
        for cell_id, box in layout.cells.items():
            if levels:
                label = next((b for b in layout.boxes if b.role == "label" and b.row <= box.row <= b.last_row
                              and b.last_col == levels - 1), None)
            else:
                label = next((b for b in layout.boxes if b.role == "header" and b.col == box.col
                              and b.last_col == box.last_col), None)
            if label is not None and label.text:
                found[cell_id] = (_a1(label.row, label.col), label.text)
        return found

    def matches(self, book: Book, entry: MetaEntry) -> bool:
        expected = self.expected(entry)
        if expected is None:
            return entry.kind not in ("number", "derived", "narrative", "unit")
        a1, text = expected
        return normalise_label(book.value(entry.sheet, a1)) == normalise_label(text)


def normalise_label(text: object) -> str:
    """Labels compare after NFKC and without any white space (pitfalls: “商业\\n企业”)."""
    if text is None:
        return ""
    text = str(text)
    return _label_form(text) if len(text) <= 200 else _label_form.__wrapped__(text)  # labels, not narratives


@lru_cache(maxsize=4096)  # the format's labels, and the same labels in every file
def _label_form(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _a1(row: int, col: int) -> str:
    return f"{column_letter(col + 1)}{row + 1}"


def _row_of(a1: str) -> int | None:
    digits = a1.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return int(digits) if digits.isdigit() else None


def _check_cell_budget(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse, from the declared sizes, more cell XML than a template could hold."""
    declared = sum(i.file_size for i in infos
                   if i.filename.startswith("xl/worksheets/") or i.filename == "xl/sharedStrings.xml")
    if declared > MAX_CELL_XML_BYTES:
        raise InputFileError(path, f"工作表内容过多（约 {declared // (1024 * 1024)} MB 的单元格数据），不像是年报"
                                   f"模板：{_RESAVE}", code="FILE-TOO-MANY-CELLS")


def _not_a_template(book: Book) -> str:
    """Say what the workbook looks like instead (pyxform: name what you found)."""
    names = "、".join(book.sheetnames[:6]) + ("等" if len(book.sheetnames) > 6 else "")
    texts = set()
    for sheet in book.worksheets[:10]:
        for row in sheet.rows(60, 12):
            texts.update(normalise_label(v) for v in row if isinstance(v, str))
    if any("本年新收政府信息公开申请数量" in t or "政府信息公开工作年度报告" in t for t in texts):
        return (f"这像是自制或旧版的年报表格（工作表：{names}），不是 nianbao 下发的模板（缺少模板标识），"
                f"无法自动核对：请把数据填入下发的模板后重新报送")
    return f"这是一个普通的 Excel 工作簿（工作表：{names}），不是 nianbao 下发的年报模板：{_RESAVE}"


def _as_decimal(value: object) -> Decimal | None:
    return parse_number(value).value  # last year's figures in the metadata sheet are untrusted too


__all__ = ["MAX_CELL_XML_BYTES", "Meta", "MetaEntry", "Place", "Reading", "labels_of", "load_workbook",
           "normalise_label", "read_book_of", "read_meta", "read_submission", "read_workbook"]

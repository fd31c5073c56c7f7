"""REFERENCE ONLY (tests): the reader as it was before the one-pass reader (issue 15).

openpyxl loads the workbook; a second scan of the sheet XML gives cached results. Kept
unchanged except for :func:`reference_reading` at the end, which wraps what it read in the
reading model's interface, so the current drift and validation run on both readers and the
parity test (tests/test_read_parity.py) compares their findings.

Original docstring:

A filled nianbao workbook (.xlsx) → Submission, treating the file as hostile.

Order of work (design decision 3, pitfalls §1, §7, §9):

1. :func:`nianbao.sniff.sniff` decides by content what the file is and refuses .xls/.et/.ods/
   .csv, encrypted and macro files, zip bombs and XML with DOCTYPEs; here the declared size of
   the cell XML is bounded too (a workbook with millions of cells would exhaust memory).
2. openpyxl (hardened with defusedxml) loads the workbook once in formula mode: input cells give
   their values, formula cells their formula text. The cached results of formula cells come from
   a light scan of the sheet XML, so one openpyxl load suffices.
3. Identity comes from the very-hidden _meta sheet; cells are located by their defined names,
   falling back to the coordinates of the meta cell map when the label beside them still matches.
4. Numbers go through :func:`nianbao.numbers.parse_number`; ``Submission.raw`` keeps the cell's
   content exactly as stored (the formula text for an intact formula cell), so the validator can
   report each correction and tell a typed-over total from a formula.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

import openpyxl
import openpyxl.worksheet._reader as _openpyxl_sheet_reader

from nianbao.errors import InputFileError, NianbaoError
from nianbao.format.load import load_format
from nianbao.format.model import Format
from nianbao.layout import table_layout
from nianbao.numbers import parse_number
from nianbao.read.package import parse_xml, read_member, require_hardened_openpyxl, sniff
from nianbao.submission import Location, Submission
from nianbao.template import META_SHEET

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
    workbook: object  # openpyxl Workbook in formula mode
    meta: Meta
    places: dict[str, Place] = field(default_factory=dict)  # meta ident -> where it was found
    unlocated: list[MetaEntry] = field(default_factory=list)  # entries found nowhere
    cached: dict[tuple[str, str], object] = field(default_factory=dict)  # (sheet, A1) -> cached result

    @property
    def format(self) -> Format:
        return self.submission.format


def read_meta(wb) -> Meta:
    """Parse the _meta sheet: key/value pairs, last year's values, the cell map."""
    ws = wb[META_SHEET]
    info: dict[str, str] = {}
    previous: dict[str, object] = {}
    cells: list[MetaEntry] = []
    section = "info"
    for row in ws.iter_rows(values_only=True, max_col=5):
        first = row[0] if row else None
        if first is None:
            continue
        if first in ("key", "previous", "kind", "cellmap"):
            section = {"key": "info", "previous": "previous", "kind": "cells", "cellmap": "map"}[first]
            continue
        if section == "info":
            info[str(first)] = "" if len(row) < 2 or row[1] is None else str(row[1])
        elif section == "previous":
            previous[str(first)] = row[1] if len(row) > 1 else None
        elif section == "cells":
            padded = (list(row) + [None] * 5)[:5]
            cells.append(MetaEntry(*(str(v) if v is not None else "" for v in padded)))
        else:  # the compact map (templates from 2026-12 on): an entry a line, fields split by "|"
            for line in str(first).splitlines():
                if line:
                    cells.append(MetaEntry(*(line.split("|") + [""] * 5)[:5]))
    return Meta(info, previous, cells)


_openpyxl_cast_number = _openpyxl_sheet_reader._cast_number


def _cast_number(value: str) -> object:
    """openpyxl's number parsing, made total: it raises ValueError for ``NaN``, ``INF`` or more
    than 4,300 digits in one cell, which would make the whole file unreadable. Such a value
    becomes a Decimal (or the text itself) that the number check reports at its cell."""
    try:
        return _openpyxl_cast_number(value)
    except ValueError:
        try:
            return Decimal(value)
        except (InvalidOperation, ValueError):
            return value


_openpyxl_sheet_reader._cast_number = _cast_number  # module global looked up by its cell parser


def load_workbook(path: Path, data_only: bool = True):
    """Sniff, bound and open an .xlsx; every failure is an InputFileError.

    ``data_only`` (the default, for plain lists) gives cached results of formula cells; the
    reader uses ``data_only=False`` to see formulas and reads cached results itself.
    """
    path = Path(path)
    sniff(path)
    _check_cell_budget(path)
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


def read_workbook(path: Path) -> Reading:
    """Read one returned workbook; raise InputFileError when it is not a readable nianbao template."""
    path = Path(path)
    wb = load_workbook(path, data_only=False)
    if META_SHEET not in wb.sheetnames:
        raise InputFileError(path, _not_a_template(wb), code="NOT-TEMPLATE")
    try:
        meta = read_meta(wb)
        fmt = load_format(meta.info.get("format_key", ""))
        year = int(meta.info.get("year", ""))
    except NianbaoError:
        raise InputFileError(path, f"模板格式“{meta.info.get('format_key', '')}”无法识别（可能由更新版本的 "
                                   f"nianbao 生成）：{_RESAVE}", code="NOT-TEMPLATE") from None
    except (ValueError, KeyError):
        raise InputFileError(path, f"模板的元数据已损坏（缺少格式或年度）：{_RESAVE}", code="NOT-TEMPLATE") from None
    sub = Submission(format=fmt, year=year, unit={}, values={}, token=meta.info.get("token", ""),
                     template_version=meta.info.get("template_version", ""), source=str(path))
    sub.unit.update({"name": meta.info.get("unit_name", ""), "code": meta.info.get("unit_code", "")})
    sub.previous = {k: _as_decimal(v) for k, v in meta.previous.items()}
    reading = Reading(path, sub, wb, meta)
    reading.cached = _cached_results(path, wb, {e.sheet for e in meta.cells if e.kind in ("derived", "check")}
                                     | _name_sheets(wb, meta))
    labels = _Labels(fmt)
    for entry in meta.cells:
        place = _locate(wb, entry, labels)
        if place is None:
            reading.unlocated.append(entry)
            continue
        reading.places[entry.ident] = place
        value = wb[place.sheet][place.cell].value
        sub.locations[entry.ident] = Location(place.sheet, place.cell, entry.name)
        if entry.kind in ("number", "derived"):
            sub.raw[entry.ident] = value
            if _is_formula(value):
                sub.values[entry.ident] = parse_number(reading.cached.get((place.sheet, place.cell))).value
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


def _locate(wb, entry: MetaEntry, labels: _Labels) -> Place | None:
    """By defined name first; else by the recorded coordinates if the label beside them matches."""
    defined = wb.defined_names.get(entry.name) if entry.name else None
    if defined is not None:
        try:
            destinations = list(defined.destinations)
        except Exception:  # a name whose text is not a reference (#REF!, a formula)
            destinations = []
        for sheet, ref in destinations:
            if sheet in wb.sheetnames and ":" not in ref:
                a1 = ref.replace("$", "")
                how = BY_NAME if (sheet, a1) == (entry.sheet, entry.cell) else MOVED
                return Place(sheet, a1, how)
    if entry.sheet in wb.sheetnames and entry.cell and labels.matches(wb, entry):
        return Place(entry.sheet, entry.cell, BY_COORDS)
    return None


class _Labels:
    """The label a person sees beside each located cell, from the same layout the template used."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self._cache: dict[str, dict[str, tuple[str, str]]] = {}

    def expected(self, entry: MetaEntry) -> tuple[str, str] | None:
        """(A1 of the label, its text) for a number, narrative or unit entry; None: no label to check."""
        if entry.kind in ("number", "derived"):
            cell = self.fmt.cells.get(entry.ident)
            if cell is None:
                return None
            return self._table_labels(cell.table).get(entry.ident)
        row = _row_of(entry.cell)
        if row is None:
            return None
        if entry.kind == "narrative":
            narrative = next((n for n in self.fmt.narratives if f"narrative.{n.id}" == entry.ident), None)
            return (f"B{row}", narrative.title) if narrative else None
        if entry.kind == "unit":
            fld = next((f for f in self.fmt.unit_fields if f"unit.{f.id}" == entry.ident), None)
            return (f"A{row}", fld.label) if fld else None
        return None

    def _table_labels(self, table_id: str) -> dict[str, tuple[str, str]]:
        if table_id not in self._cache:
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
            self._cache[table_id] = found
        return self._cache[table_id]

    def matches(self, wb, entry: MetaEntry) -> bool:
        expected = self.expected(entry)
        if expected is None:
            return entry.kind not in ("number", "derived", "narrative", "unit")
        a1, text = expected
        try:
            seen = wb[entry.sheet][a1].value
        except (KeyError, ValueError):
            return False
        return normalise_label(seen) == normalise_label(text)


def normalise_label(text: object) -> str:
    """Labels compare after NFKC and without any white space (pitfalls: “商业\\n企业”)."""
    if text is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def _a1(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col + 1)}{row + 1}"


def _row_of(a1: str) -> int | None:
    digits = a1.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return int(digits) if digits.isdigit() else None


def _name_sheets(wb, meta: Meta) -> set[str]:
    """Sheets the defined names of formula cells point to (after a rename they differ from meta)."""
    sheets: set[str] = set()
    for entry in meta.cells:
        if entry.kind not in ("derived", "check") or not entry.name:
            continue
        defined = wb.defined_names.get(entry.name)
        try:
            sheets.update(s for s, _ in (defined.destinations if defined is not None else ()))
        except Exception:
            continue
    return sheets


# ----------------------------------------------------------------------------- cached results


def _cached_results(path: Path, wb, sheets: set[str]) -> dict[tuple[str, str], object]:
    """Cached results of formula cells on ``sheets``, from the sheet XML (one openpyxl load only)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import iterparse

    parts = _sheet_parts(path)
    shared: list[str] | None = None
    out: dict[tuple[str, str], object] = {}
    for sheet in sorted(sheets):
        part = parts.get(sheet)
        if part is None or sheet not in wb.sheetnames:
            continue
        data = read_member(path, part, MAX_CELL_XML_BYTES)
        try:
            for _, c in iterparse(io.BytesIO(data), events=("end",), forbid_dtd=True):
                if not c.tag.endswith("}c"):
                    continue
                ref = c.get("r")
                f = c.find("{*}f")
                if ref and f is not None:
                    v = c.find("{*}v")
                    text = v.text if v is not None else None
                    kind = c.get("t", "n")
                    if text is None:
                        value: object = None
                    elif kind in ("str", "inlineStr", "e"):
                        value = text
                    elif kind == "s":
                        if shared is None:
                            shared = _shared_strings(path)
                        idx = int(text) if text.isdigit() else -1
                        value = shared[idx] if 0 <= idx < len(shared) else None
                    elif kind == "b":
                        value = text == "1"
                    else:
                        value = _xml_number(text)
                    out[(sheet, ref)] = value
                c.clear()
        except (ParseError, ValueError):  # damaged XML, or a DTD (defusedxml raises a ValueError)
            raise InputFileError(path, f"文件已损坏（工作表“{sheet}”的内容不完整）：{_RESAVE}",
                                 code="FILE-CORRUPT") from None
    return out


def _xml_number(text: str) -> object:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from workbook.xml and its relationships."""
    wb_xml = parse_xml(read_member(path, "xl/workbook.xml", MAX_CELL_XML_BYTES), path=path, part="xl/workbook.xml")
    rels_xml = parse_xml(read_member(path, "xl/_rels/workbook.xml.rels", MAX_CELL_XML_BYTES), path=path,
                         part="xl/_rels/workbook.xml.rels")
    targets = {}
    for rel in rels_xml:
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = _normpath(member)
    parts = {}
    for el in wb_xml.iter():
        if el.tag.endswith("}sheet"):
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            if rid in targets:
                parts[el.get("name", "")] = targets[rid]
    return parts


def _normpath(member: str) -> str:
    out: list[str] = []
    for piece in member.split("/"):
        if piece == "..":
            if out:
                out.pop()
        elif piece not in ("", "."):
            out.append(piece)
    return "/".join(out)


def _shared_strings(path: Path) -> list[str]:
    try:
        root = parse_xml(read_member(path, "xl/sharedStrings.xml", MAX_CELL_XML_BYTES), path=path,
                         part="xl/sharedStrings.xml")
    except InputFileError:
        return []
    return ["".join(t.text or "" for t in si.iter() if t.tag.endswith("}t")) for si in root
            if si.tag.endswith("}si")]


def _check_cell_budget(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            declared = sum(i.file_size for i in zf.infolist()
                           if i.filename.startswith("xl/worksheets/") or i.filename == "xl/sharedStrings.xml")
    except (zipfile.BadZipFile, OSError):
        raise InputFileError(path, f"文件已损坏或不完整：{_RESAVE}", code="FILE-CORRUPT") from None
    if declared > MAX_CELL_XML_BYTES:
        raise InputFileError(path, f"工作表内容过多（约 {declared // (1024 * 1024)} MB 的单元格数据），不像是年报"
                                   f"模板：{_RESAVE}", code="FILE-TOO-MANY-CELLS")


def _not_a_template(wb) -> str:
    """Say what the workbook looks like instead (pyxform: name what you found)."""
    names = "、".join(wb.sheetnames[:6]) + ("等" if len(wb.sheetnames) > 6 else "")
    texts = set()
    for ws in wb.worksheets[:10]:
        for row in ws.iter_rows(values_only=True, max_row=60, max_col=12):
            texts.update(normalise_label(v) for v in row if isinstance(v, str))
    if any("本年新收政府信息公开申请数量" in t or "政府信息公开工作年度报告" in t for t in texts):
        return (f"这像是自制或旧版的年报表格（工作表：{names}），不是 nianbao 下发的模板（缺少模板标识），"
                f"无法自动核对：请把数据填入下发的模板后重新报送")
    return f"这是一个普通的 Excel 工作簿（工作表：{names}），不是 nianbao 下发的年报模板：{_RESAVE}"


def _as_decimal(value: object) -> Decimal | None:
    return parse_number(value).value  # last year's figures in the metadata sheet are untrusted too


# ----------------------------------------------------------------------------- the model's interface


class _Sheet:
    def __init__(self, wb, name: str, cached: dict) -> None:
        self.ws = wb[name]
        self.name = name
        self.chart = not hasattr(self.ws, "iter_rows")
        self.protected = bool(getattr(getattr(self.ws, "protection", None), "sheet", False))
        self._cached = cached
        self._covered = None

    def value(self, a1: str):
        try:
            return self.ws[a1].value
        except (KeyError, ValueError, TypeError, AttributeError):
            return None

    def cached(self, a1: str):
        return self._cached.get((self.name, a1))

    def validated(self, row: int, col: int) -> bool:
        if self._covered is None:
            self._covered = set()
            for dv in self.ws.data_validations.dataValidation:
                for rng in dv.sqref.ranges:
                    for cell in rng.cells:
                        self._covered.add(cell)
        return (row, col) in self._covered


class _Book:
    def __init__(self, wb, cached: dict) -> None:
        self.wb = wb
        self.sheets = {name: _Sheet(wb, name, cached) for name in wb.sheetnames}
        security = getattr(wb, "security", None)
        self.structure_locked = not (security is None or security.lockStructure is False)
        self.properties = {p.name: str(p.value) for p in getattr(wb, "custom_doc_props", ()) or ()}

    @property
    def sheetnames(self):
        return list(self.wb.sheetnames)

    def value(self, sheet: str, a1: str):
        return self.sheets[sheet].value(a1) if sheet in self.sheets else None


def reference_reading(path: Path):
    """The old reader's result as a :class:`nianbao.read.reader.Reading` (raises like the old reader)."""
    from nianbao.read import reader as new

    old = read_workbook(path)
    reading = new.Reading(old.path, old.submission, _Book(old.workbook, old.cached), old.meta)
    reading.places.update(old.places)
    reading.unlocated.extend(old.unlocated)
    return reading


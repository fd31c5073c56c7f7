"""The parts of a sniffed package → the reading model (:class:`~nianbao.read.model.Book`).

Every XML part the package holds is parsed once with lxml (entities never resolved, no network,
no DTD loading; a DOCTYPE was already refused by the package checks), so a part that is not
well-formed makes the file FILE-CORRUPT even when the check would not need it. Of the parts,
workbook.xml (sheets, names, structure lock, date system), its relationships, the shared
strings, the number formats of styles.xml, each worksheet (cells, protection, validations)
and docProps/custom.xml are read into the model; cells are decoded only when asked for.

The values are those openpyxl gives in formula mode (see :mod:`nianbao.read.model`); where this
module decides something openpyxl also decides (names, booleans in attributes, dates, shared
formulas, custom property types) it follows openpyxl, using openpyxl's own helpers for number
formats, dates, range references and shared-formula translation.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from lxml import etree

from nianbao.errors import InputFileError
from nianbao.read.cells import plain_cells, text as plain_text
from nianbao.read.model import Book, Sheet, column_index, column_letter, coordinate_to_tuple
from nianbao.read.package import Package

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedstrings+xml"
_CHARTSHEET = "/chartsheet"
_STYLES = "xl/styles.xml"  # where openpyxl looks for them, whatever the relationships say
_CUSTOM = "docProps/custom.xml"
#: Global names openpyxl files under the sheets (print titles, print area, filter), not the book.
_SHEET_NAMES = ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase")

_RESAVE = "请在下发的模板中填写，保存为 Excel 工作簿(*.xlsx) 后重新报送"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True, collect_ids=False)


class Parts:
    """The XML parts of a package, each parsed at most once: into a tree when the model reads it
    (:meth:`get`), else only checked to be well-formed (:meth:`verify_rest`, expat without a tree,
    half the cost). A part that is not well-formed makes the file FILE-CORRUPT."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self._trees: dict[str, etree._Element] = {}

    def get(self, name: str | None) -> etree._Element | None:
        """The tree of part ``name``; None when the package has no such part."""
        if name not in self.package.parts:
            return None
        tree = self._trees.get(name)
        if tree is None:
            try:
                tree = self._trees[name] = etree.fromstring(self.package.parts[name], _PARSER)
            except (etree.XMLSyntaxError, ValueError):
                raise self._corrupt(name) from None
        return tree

    def piece(self, name: str, data: bytes) -> etree._Element:
        """The tree of ``data``, a cut-down copy of part ``name``; the part itself stays to be
        checked whole by :meth:`verify_rest`."""
        try:
            return etree.fromstring(data, _PARSER)
        except (etree.XMLSyntaxError, ValueError):
            raise self._corrupt(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self.package.parts

    def verify_rest(self) -> None:
        for name, data in self.package.parts.items():
            if name not in self._trees:
                try:
                    xml.parsers.expat.ParserCreate().Parse(data, True)
                except (xml.parsers.expat.ExpatError, ValueError):
                    raise self._corrupt(name) from None

    def _corrupt(self, name: str) -> InputFileError:
        return InputFileError(self.package.path, f"文件已损坏（内部部件“{name}”的内容不完整）：{_RESAVE}",
                              code="FILE-CORRUPT")


def damaged(path: object) -> InputFileError:
    """A part or a cell whose XML is well-formed but not what a workbook holds."""
    return InputFileError(path, f"文件已损坏或内容不规范，无法读取：{_RESAVE}", code="FILE-CORRUPT")


def read_book(package: Package) -> Book:
    """The reading model of a sniffed package; a damaged part raises InputFileError FILE-CORRUPT."""
    parts = Parts(package)
    try:
        book = _book(package, parts)
        parts.verify_rest()
        return book
    except InputFileError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError):
        # The XML is well-formed but not what a workbook holds (a missing relationship, a
        # reference that is not a cell): the file is damaged, as openpyxl would also say.
        raise damaged(package.path) from None


def _book(package: Package, parts: Parts) -> Book:
    wb_part = package.workbook_part
    workbook = parts.get(wb_part)
    rels = _relationships(parts, wb_part)
    strings = _shared_strings(package, parts)
    pr = workbook.find(_MAIN + "workbookPr")
    epoch_1904 = pr is not None and _bool(pr.get("date1904"), False)
    dates, timedeltas = _date_styles(parts.get(_STYLES))
    decode = _Decoder(package.path, strings, dates, timedeltas, epoch_1904)

    sheets: dict[str, Sheet] = {}
    for el, rel_type, target in _sheet_entries(workbook, rels):
        if target not in parts:
            continue  # its part is missing: openpyxl skips the sheet
        sheet = Sheet(el.get("name"), state=el.get("state") or "visible")
        if rel_type.endswith(_CHARTSHEET):
            sheet.chart = True
        else:
            _worksheet(sheet, parts, target, decode)
        sheets[sheet.name] = sheet

    names: dict[str, str] = {}
    node = workbook.find(_MAIN + "definedNames")
    for el in (node if node is not None else ()):
        if el.tag == _MAIN + "definedName" and el.get("localSheetId") is None and el.get("name") not in _SHEET_NAMES:
            names[el.get("name")] = el.text or ""

    # LibreOffice keeps the lock but writes a bare <workbookProtection/>: only a missing element
    # or an explicit lockStructure="0" means the structure was unlocked.
    protection = workbook.find(_MAIN + "workbookProtection")
    locked = protection is not None and _bool(protection.get("lockStructure"), None) is not False
    return Book(sheets, names, structure_locked=locked, properties=_custom_properties(parts.get(_CUSTOM)))


# ----------------------------------------------------------------------------- package parts


def sheet_parts(package: Package) -> dict[str, str]:
    """Sheet name -> the part holding it (e.g. "xl/worksheets/sheet4.xml")."""
    parts = Parts(package)
    rels = _relationships(parts, package.workbook_part)
    return {el.get("name"): target for el, _, target in _sheet_entries(parts.get(package.workbook_part), rels)}


def _sheet_entries(workbook: etree._Element, rels: dict[str, tuple[str, str]]):
    """(<sheet> element, relationship type, part name) of each sheet, in workbook order."""
    node = workbook.find(_MAIN + "sheets")
    for el in (node if node is not None else ()):
        if el.tag != _MAIN + "sheet":
            continue
        rid = el.get(_REL + "id")
        if not rid:
            continue  # openpyxl drops a sheet without a relationship id
        rel_type, target = rels[rid]  # a sheet without its relationship: damaged (KeyError)
        yield el, rel_type, target


def _relationships(parts: Parts, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part name) of ``part``."""
    folder, name = part.rsplit("/", 1) if "/" in part else ("", part)
    rels_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    found = {}
    root = parts.get(rels_part)
    for rel in (root if root is not None else ()):
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath(folder) / target)
        found[rel.get("Id")] = (rel.get("Type", ""), _normpath(member))
    return found


def _normpath(member: str) -> str:
    out: list[str] = []
    for piece in member.split("/"):
        if piece == "..":
            if out:
                out.pop()
        elif piece not in ("", "."):
            out.append(piece)
    return "/".join(out)


def _shared_strings(package: Package, parts: Parts) -> list[str]:
    """The shared string table as openpyxl reads it (plain text of each item, phonetics left out)."""
    part = next((name for name, ct in package.content_types.items()
                 if ct == _SHARED_STRINGS and not name.startswith("*.")), None)
    root = parts.get(part) if part else None
    if root is None:
        return []
    texts = _PLAIN_TEXTS(root)
    if _SI_COUNT(root) == _SI_CHILD_COUNT(root) == len(texts):
        strings = texts  # every item is one non-empty <t>: the text nodes, in one C call
    else:
        strings = [_text(si) for si in root.iterchildren(_MAIN + "si")]
    return [s.replace("x005F_", "") if "x005F_" in s else s for s in strings]


_PLAIN_TEXTS = etree.XPath("./m:si/m:t/text()", namespaces={"m": _MAIN[1:-1]}, smart_strings=False)
_SI_COUNT = etree.XPath("count(./m:si)", namespaces={"m": _MAIN[1:-1]})
_SI_CHILD_COUNT = etree.XPath("count(./m:si/*)", namespaces={"m": _MAIN[1:-1]})


_T, _R, _V, _F, _IS = (_MAIN + tag for tag in ("t", "r", "v", "f", "is"))


def _text(node: etree._Element) -> str:
    """A rich text's plain content: its <t> and the <t> of each run, not the phonetic runs."""
    pieces = []
    for child in node:  # children, not find(): ElementPath is slow per call
        if child.tag == _T:
            if child.text is not None:
                pieces.append(child.text)
        elif child.tag == _R:
            for t in child:
                if t.tag == _T:
                    if t.text is not None:
                        pieces.append(t.text)
                    break
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


def _children(c: etree._Element) -> tuple[etree._Element | None, etree._Element | None, etree._Element | None]:
    """The <f>, <v> and <is> of a cell (the first of each)."""
    f = v = inline = None
    for child in c:
        tag = child.tag
        if tag == _V:
            v = child if v is None else v
        elif tag == _F:
            f = child if f is None else f
        elif tag == _IS:
            inline = child if inline is None else inline
    return f, v, inline


def _date_styles(styles: etree._Element | None) -> tuple[frozenset[int], frozenset[int]]:
    """Indexes of cell styles whose number format shows a date or time (and a duration)."""
    if styles is None:
        return frozenset(), frozenset()
    custom = {}
    node = styles.find(_MAIN + "numFmts")
    for nf in (node if node is not None else ()):
        if nf.tag == _MAIN + "numFmt":
            custom[int(nf.get("numFmtId"))] = nf.get("formatCode")
    dates, timedeltas = set(), set()
    node = styles.find(_MAIN + "cellXfs")
    for idx, xf in enumerate(node.iterchildren(_MAIN + "xf") if node is not None else ()):
        num_fmt = int(xf.get("numFmtId", 0))
        if (num_fmt in custom and not _may_be_date(custom[num_fmt])) or \
                (num_fmt not in custom and num_fmt in NUMBER_BUILTINS):
            continue  # General, "0.####", "@": openpyxl's date test cannot say yes (no need to import it)
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

        code = custom[num_fmt] if num_fmt in custom else BUILTIN_FORMATS.get(num_fmt)
        if code is not None and is_date_format(code):
            dates.add(idx)
        if code is not None and is_timedelta_format(code):
            timedeltas.add(idx)
    return frozenset(dates), frozenset(timedeltas)


#: Built-in number formats that show a number, not a date ("General", "0", "@", "0.00E+00"…);
#: a test holds this to openpyxl's BUILTIN_FORMATS and is_date_format.
NUMBER_BUILTINS = frozenset((*range(0, 14), *range(37, 45), 48, 49))


def _may_be_date(code: str | None) -> bool:
    """openpyxl's ``is_date_format`` looks for one of these letters; without one, no date."""
    return code is not None and any(ch in code for ch in "dmhysDMHYS")


_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
_PROPERTY = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}property"


def _custom_properties(root: etree._Element | None) -> dict[str, str]:
    """Custom document properties as text, typed as openpyxl types them (2021 → "2021")."""
    if root is None:
        return {}
    plain = {}
    for prop in root:  # what nianbao writes: named text properties, read without openpyxl
        value = prop[0] if len(prop) == 1 else None
        if prop.tag != _PROPERTY or not prop.get("name") or value is None or value.tag != _VT + "lpwstr" \
                or len(value):
            break
        plain[prop.get("name")] = str(value.text)  # an empty one is "None", as openpyxl gives it
    else:
        return plain
    from openpyxl.packaging.custom import CustomPropertyList  # other types: as openpyxl reads them

    return {p.name: str(p.value) for p in CustomPropertyList.from_tree(root)}


def _bool(text: str | None, default: bool | None) -> bool | None:
    """An XML boolean attribute as openpyxl reads it: "false", "f", "0" and "" are false."""
    if text is None:
        return default
    return text not in ("false", "f", "0", "")


# ----------------------------------------------------------------------------- worksheets


_NS = {"m": _MAIN[1:-1]}
_CELLS = etree.XPath("./m:row/m:c", namespaces=_NS)
_REFS = etree.XPath("./m:row/m:c/@r", namespaces=_NS, smart_strings=False)


def _worksheet(sheet: Sheet, parts: Parts, part: str, decode: _Decoder) -> None:
    """Protection, validated ranges and (on first use) the cells of one worksheet part. A sheet of
    plain values with no formula (the _meta sheet: 1,300 strings, all read) is read from its
    bytes (:mod:`nianbao.read.cells`, 2 ms less per file); any other sheet from its tree."""
    data = parts.package.parts[part]
    plain = plain_cells(data) if b"<f" not in data else None
    if plain is not None:
        rest, cells = plain
        root = parts.piece(part, rest)  # the part without its cells; the whole is checked by expat
        placeholder = root.find(_MAIN + "sheetData")
        if placeholder is not None and len(placeholder) == 0:  # the root's own main-namespace child
            _sheet_settings(sheet, root)
            if cells:
                sheet._loader = lambda: (cells, decode.plain)
            return
    root = parts.get(part)
    _sheet_settings(sheet, root)
    data = root.find(_MAIN + "sheetData")
    if data is None:
        return

    def load():
        cells, refs = _CELLS(data), _REFS(data)
        # Some cell without its reference: count positions the way openpyxl does.
        index = dict(zip(refs, cells)) if len(refs) == len(cells) else _counted(data)
        return index, decode.shared_formulas(index)

    sheet._loader = load


def _sheet_settings(sheet: Sheet, root: etree._Element) -> None:
    protection = root.find(_MAIN + "sheetProtection")
    sheet.protected = protection is not None and bool(_bool(protection.get("sheet"), False))
    validations = root.find(_MAIN + "dataValidations")
    if validations is not None:
        for dv in validations.iterchildren(_MAIN + "dataValidation"):
            for ref in (dv.get("sqref") or "").split():
                sheet.validations.append(_area(ref))


_ONE_AREA = re.compile(r"([A-Z]{1,3})([0-9]+)(?::([A-Z]{1,3})([0-9]+))?")


def _area(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of "D6" or "D6:J9"; other forms as openpyxl reads them."""
    m = _ONE_AREA.fullmatch(ref)
    if m is None:
        from openpyxl.utils.cell import range_boundaries  # whole columns, $-anchored and other rare forms

        return range_boundaries(ref)
    c0, r0, c1, r1 = m.groups()
    if c1 is None:
        col = column_index(c0)
        return col, int(r0), col, int(r0)
    return column_index(c0), int(r0), column_index(c1), int(r1)


def _counted(data: etree._Element) -> dict[str, etree._Element]:
    out: dict[str, etree._Element] = {}
    row_no = 0
    for row in data.iterchildren(_MAIN + "row"):
        r = row.get("r")
        row_no = int(float(r)) if r is not None else row_no + 1
        col = 0
        for c in row.iterchildren(_MAIN + "c"):
            ref = c.get("r")
            if ref:
                row_no_c, col = coordinate_to_tuple(ref)
                out[ref] = c
            else:
                col += 1
                out[f"{column_letter(col)}{row_no}"] = c
    return out


def cast_number(text: str) -> object:
    """A stored number as openpyxl casts it ("13" → 13, "13.0" → 13.0), made total: NaN, INF
    or more than 4,300 digits become a Decimal (or the text itself) that the number check
    reports at its cell, instead of making the whole file unreadable."""
    try:
        return float(text) if ("." in text or "E" in text or "e" in text) else int(text)
    except ValueError:
        try:
            return Decimal(text)
        except (InvalidOperation, ValueError):
            return text


class _Decoder:
    """Turns a raw <c> element into (value, cached result) with openpyxl's formula-mode semantics."""

    def __init__(self, path: object, strings: list[str], dates: frozenset[int], timedeltas: frozenset[int],
                 epoch_1904: bool) -> None:
        self.path = path
        self.strings, self.dates, self.timedeltas = strings, dates, timedeltas
        self.epoch_1904 = epoch_1904

    def shared_formulas(self, cells: dict[str, etree._Element]):
        """The decode function of one sheet; it knows the sheet's shared-formula masters."""
        masters: dict[str, tuple[str, str]] | None = None

        strings, value = self.strings, self.value

        def decode(c: etree._Element) -> tuple[object, object]:
            try:
                f = v = inline = None
                for child in c:  # one look at the children (find() is slow per call)
                    tag = child.tag
                    if tag == _V:
                        v = child if v is None else v
                    elif tag == _F:
                        f = child if f is None else f
                    elif tag == _IS:
                        inline = child if inline is None else inline
                if f is None:
                    if v is not None and v.text and c.get("t") == "s":  # most cells: a shared string
                        return strings[int(v.text)], None
                    return value(c, v, inline), None
                return formula(c, f, v)
            except (ValueError, KeyError, TypeError, IndexError, OverflowError):  # e.g. t="n" with text
                raise damaged(self.path) from None

        def formula(c: etree._Element, f: etree._Element, v: etree._Element | None) -> tuple[object, object]:
            nonlocal masters
            text = "=" + (f.text or "")
            if f.get("t") == "shared":
                if masters is None:
                    masters = _shared_masters(cells)
                master = masters.get(f.get("si"))
                if master is not None and master[0] != c.get("r"):
                    from openpyxl.formula.translate import Translator

                    text = Translator(master[1], master[0]).translate_formula(c.get("r"))
            return text, self.cached(c, v)

        return decode

    def value(self, c: etree._Element, v: etree._Element | None, inline: etree._Element | None) -> object:
        kind = c.get("t", "n")
        if kind == "inlineStr":
            return _text(inline) if inline is not None else None
        return self.value_of(kind, (v.text or None) if v is not None else None, c.get("s"))

    def value_of(self, kind: str, text: str | None, style: str | None) -> object:
        """The value of a cell of type ``kind`` (its t, "n" when absent) storing ``text``."""
        if text is None:
            return None
        if kind == "n":
            number = cast_number(text)
            if style and self.dates and int(style) in self.dates:
                return self._date(number, int(style))
            return number
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(text)
        return text  # "str", "e" (an error's text) and anything unknown

    def plain(self, groups: tuple[bytes, ...]) -> tuple[object, object]:
        """(value, cached) of a cell read from the bytes (:mod:`nianbao.read.cells`), exactly as
        the tree route decodes the same cell."""
        _, style, kind, inline, inline_text, formula, formula_text, value = groups
        try:
            if kind == b"s" and value and not formula:  # most cells: a shared string
                return self.strings[int(value)], None
            kind = kind.decode("ascii") if kind else "n"
            if formula:
                return "=" + (plain_text(formula_text) or ""), self.cached_of(kind, plain_text(value))
            if kind == "inlineStr":
                return ((plain_text(inline_text) or "") if inline else None), None
            return self.value_of(kind, plain_text(value), style.decode("ascii") if style else None), None
        except (ValueError, KeyError, TypeError, IndexError, OverflowError):
            raise damaged(self.path) from None

    def _date(self, number: object, style: int) -> object:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        epoch = CALENDAR_MAC_1904 if self.epoch_1904 else CALENDAR_WINDOWS_1900
        try:
            return from_excel(number, epoch, timedelta=style in self.timedeltas)
        except (OverflowError, ValueError):
            return "#VALUE!"  # a date serial out of range: openpyxl makes it this error

    def cached(self, c: etree._Element, v: etree._Element | None) -> object:
        """A formula cell's stored result (never a date: a total or a check text)."""
        return self.cached_of(c.get("t", "n"), v.text if v is not None else None)

    def cached_of(self, kind: str, text: str | None) -> object:
        if text is None:
            return None
        if kind in ("str", "inlineStr", "e"):
            return text
        if kind == "s":
            idx = int(text) if text.isdigit() else -1
            return self.strings[idx] if 0 <= idx < len(self.strings) else None
        if kind == "b":
            return text == "1"
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _shared_masters(cells: dict[str, etree._Element]) -> dict[str, tuple[str, str]]:
    """Shared-formula index -> (A1 of the cell that holds its text, "=" + text)."""
    masters: dict[str, tuple[str, str]] = {}
    for ref, c in cells.items():
        f = _children(c)[0]
        if f is not None and f.get("t") == "shared" and f.text and f.get("si") not in masters:
            masters[f.get("si")] = (ref, "=" + f.text)
    return masters

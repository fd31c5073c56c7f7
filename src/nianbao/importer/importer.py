"""Published report (.docx, .html/.mhtml, .pdf, .txt) → Submission, with what differs from the format.

``import_items`` is the pure core (reader items in, result out); ``import_report`` reads a
file and calls it. The submission is what ``nianbao.check.validate`` checks; places of numbers
are given as "表三!C12" (row and column of the published table), of narrative as the part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl.utils import get_column_letter

from nianbao.errors import InputFileError
from nianbao.findings import register
from nianbao.format import available_formats
from nianbao.format.model import Format
from nianbao.importer.normalize import normalize_label
from nianbao.importer.structure import Structure, analyse
from nianbao.importer.tables import Deviation, Paragraph, RawTable, TableMatch, match_table
from nianbao.numbers import FIX_TEXT, parse_number
from nianbao.sheetwrite import put_value
from nianbao.submission import Location, Submission

FORMAT_ID = "gov-info-disclosure"

# Codes of files that cannot be imported at all (the file-level codes of nianbao.read.package are reused).
WRONG_TYPE = register("IMPORT-WRONG-TYPE", "error", "文件不是可导入的年度报告（Excel 工作簿、旧版 .doc）")
NO_YEAR = register("IMPORT-NO-YEAR", "error", "报告全文找不到任何年份（标题、统计期限、正文都没有）")
TRADITIONAL = register("IMPORT-TRADITIONAL", "warning", "报告是繁体字版本（多为镜像网站的转载），已转换为简体后核对")
PDF_NO_TEXT = register("IMPORT-PDF-NO-TEXT", "error", "PDF 中没有文字层（扫描件或图片），无法读取")
MAX_BYTES = 50 * 1024 * 1024  # a .docx with scanned pages or photos
#: A report copied out as text is some 30–100 KB, a saved web page rarely over 1 MB: larger
#: ones are refused before parsing, which would cost time and memory per line.
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_HTML_BYTES = 20 * 1024 * 1024
#: A report's three tables have about 1,000 cells; matching costs time per cell.
MAX_TABLE_CELLS = 20_000


@dataclass
class ImportResult:
    submission: Submission
    deviations: list[Deviation] = field(default_factory=list)
    structure: Structure | None = None
    matches: dict[str, TableMatch] = field(default_factory=dict)
    kind: str = ""  # docx | html | pdf | text
    traditional: bool = False  # the text was in traditional characters and was converted

    @property
    def format(self) -> Format:
        return self.submission.format


def formats_of(format_id: str = FORMAT_ID) -> list[Format]:
    return [f for f in available_formats() if f.id == format_id]


def read_items(path: Path) -> tuple[str, list[Paragraph | RawTable]]:
    """The document's paragraphs and tables, by what the file is (not only by its name)."""
    kind, items = _read_items(path)
    cells = sum(len(row) for item in items if isinstance(item, RawTable) for row in item.rows)
    if cells > MAX_TABLE_CELLS:
        raise InputFileError(path, f"表格中的单元格过多（{cells} 个，上限 {MAX_TABLE_CELLS}），不像一份年度报告",
                             code="FILE-TOO-MANY-CELLS")
    return kind, items


def _read_items(path: Path) -> tuple[str, list[Paragraph | RawTable]]:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "找不到文件")
    if path.stat().st_size > MAX_BYTES:
        raise InputFileError(path, "文件超过 50 MB，不像一份年度报告", code="FILE-TOO-LARGE")
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(path, "文件是空的（0 字节或只有空白），请重新导出或另存后再导入", code="FILE-EMPTY")
    if data[:4] == b"PK\x03\x04":
        if path.suffix.lower() not in (".docx", ".docm", ".zip", ""):
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                raise InputFileError(path, "这是 Excel 工作簿，不是发布的年度报告；填好的模板请用 nianbao check",
                                     code=WRONG_TYPE)
        from nianbao.importer.docx import read_docx
        from nianbao.read.package import check_package

        check_package(path, "请用 Word 或 WPS 打开后另存为 .docx 再导入")
        _refuse_dtd_parts(path)
        return "docx", read_docx(path)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputFileError(path, "这是旧版 Word（.doc）文件，请先用 Word 或 WPS 另存为 .docx", code=WRONG_TYPE)
    if data[:5] == b"%PDF-":
        from nianbao.importer.pdf import read_pdf

        return "pdf", read_pdf(path)
    if path.suffix.lower() in (".mhtml", ".mht") or data[:4096].lower().find(b"multipart/related") != -1:
        _bound(path, len(data), MAX_HTML_BYTES, "网页")
        from nianbao.importer.html import parse_html

        return "html", parse_html(_mhtml_page(path, data))
    if path.suffix.lower() in (".html", ".htm", ".shtml", ".xhtml"):
        text = _decode_html(path, data)
    else:
        text = _decode(path, data)
    head = text[:4096].lower()
    if path.suffix.lower() in (".html", ".htm", ".shtml", ".xhtml") or "<table" in text.lower() or head.lstrip().startswith(("<!doctype", "<html")):
        from nianbao.importer.html import parse_html

        _bound(path, len(data), MAX_HTML_BYTES, "网页")
        if _HTML_DTD.search(text):
            raise InputFileError(path, "网页中含有实体声明（DOCTYPE 内的 <!ENTITY>），正常的网页不会有，疑似恶意构造，"
                                       "已拒绝读取：请从网站重新保存网页，或复制全文粘贴为 .txt 后导入", code="FILE-XML-UNSAFE")
        return "html", parse_html(text)
    from nianbao.importer.text import parse_text

    _bound(path, len(data), MAX_TEXT_BYTES, "纯文本")
    return "text", parse_text(text)


# ``<!DOCTYPE html>`` is normal; an internal subset ``[...]`` or an entity declaration is not.
_HTML_DTD = re.compile(r"<!DOCTYPE[^>\[]*\[|<!ENTITY", re.IGNORECASE)


def _refuse_dtd_parts(path: Path) -> None:
    """A .docx part with a DOCTYPE or entity declaration is refused, as in a workbook (python-docx
    parses with lxml, which would expand internal entities)."""
    import zipfile

    from nianbao.read.package import check_xml_safe

    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")):
                continue
            with zf.open(info) as member:
                try:
                    check_xml_safe(iter(lambda: member.read(65536), b""), path=path, part=info.filename)
                except InputFileError as err:
                    if err.code != "FILE-XML-UNSAFE":
                        raise
                    raise InputFileError(path, f"Word 文件内部的 XML（部件“{info.filename}”）含有 DOCTYPE 或实体声明，"
                                               "正常的 Word 文件不会有，疑似恶意构造，已拒绝读取：请用 Word 或 WPS "
                                               "打开后另存为 .docx 再导入", code="FILE-XML-UNSAFE") from None


def _bound(path: Path, size: int, limit: int, kind: str) -> None:
    if size > limit:
        raise InputFileError(path, f"{kind}文件有 {size / 1048576:.1f} MB，超过 {limit // 1048576} MB，不像一份年度报告",
                             code="FILE-TOO-LARGE")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
# A page that says GB2312 or GBK is GB18030 in practice (its superset); Big5 pages have HKSCS.
_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs",
             "big5-hkscs": "big5hkscs", "utf-8": "utf-8-sig", "utf8": "utf-8-sig"}


def _decode_html(path: Path, data: bytes) -> str:
    """A saved page in the charset it declares (any the codecs know), else as plain text is decoded."""
    m = _META_CHARSET.search(data[:8192])
    if m:
        name = m.group(1).decode("ascii", "replace").lower()
        try:
            return data.decode(_CHARSETS.get(name, name))
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode(path, data)


def _mhtml_page(path: Path, data: bytes) -> str:
    """The HTML part of a page saved as one file (.mhtml/.mht, "Web archive, single file")."""
    import email
    from email import policy

    try:
        message = email.message_from_bytes(data, policy=policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True) or b""
                charset = part.get_content_charset() or ""
                try:
                    return payload.decode(_CHARSETS.get(charset.lower(), charset or "utf-8"))
                except (LookupError, UnicodeDecodeError):
                    return _decode_html(path, payload)
    except Exception:  # a damaged archive: said below
        pass
    raise InputFileError(path, "这个单文件网页（.mhtml）里找不到网页正文，请在浏览器中另存为“网页，仅 HTML”后再导入",
                         code="FILE-UNREADABLE")


def _decode(path: Path, data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(path, "文本编码无法识别（应为 UTF-8 或 GB18030/GBK）", code="FILE-UNREADABLE")


def import_report(path: Path, formats: list[Format] | None = None) -> ImportResult:
    """Read one published report into a Submission (raises InputFileError when it cannot)."""
    path = Path(path)
    kind, items = read_items(path)
    from nianbao.importer.chinese import simplify_items

    items, traditional = simplify_items(items)
    result = import_items(items, formats or formats_of(), source=str(path))
    result.traditional = traditional
    result.kind = kind
    if result.structure is not None and result.structure.year is None:
        # Only a text with no year anywhere is refused: without a year no edition and no rule applies.
        raise InputFileError(path, "全文找不到任何年份（标题、统计期限、正文都没有“20XX年”），无法确定报告年度，"
                             "不像一份政府信息公开工作年度报告", code=NO_YEAR)
    return result


def import_items(items: list[Paragraph | RawTable], formats: list[Format], source: str = "") -> ImportResult:
    """The pure core: reader items → Submission and deviations."""
    s = analyse(items, formats, source)
    fmt = s.fmt
    year = s.year or 0
    deviations: list[Deviation] = []
    matches: dict[str, TableMatch] = {}
    values: dict[str, Decimal | None] = {}
    raw: dict[str, object] = {}
    locations: dict[str, Location] = {}
    for table in fmt.tables.values():
        part = next((p for p in fmt.parts if p.table == table.id), None)
        heading = part.heading if part else table.heading
        published = s.tables.get(table.id)
        if published is None:
            deviations.append(Deviation("table-missing", table.id, official=table.heading, part=heading))
            continue
        match = match_table(fmt, table, published)
        matches[table.id] = match
        deviations += [_with_part(d, heading) for d in match.deviations]
        for cell_id, text in match.texts.items():
            text, unit_note = _amount(text, fmt.cells[cell_id].column.label)
            if unit_note:
                deviations.append(Deviation("unit", table.id, fmt.cells[cell_id].row.display,
                                            fmt.cells[cell_id].column.label, seen=match.texts[cell_id],
                                            official=unit_note, where=match.places[cell_id], part=heading))
            parsed = parse_number(text)
            values[cell_id] = parsed.value
            if parsed.blank or parsed.error or set(parsed.corrections) - {FIX_TEXT}:
                raw[cell_id] = text
            r, c = match.places[cell_id]
            locations[cell_id] = Location(table.short, f"{get_column_letter(c + 1)}{r + 1}")
    deviations += _part_deviations(s)
    narratives = dict(s.narratives)
    for part in fmt.parts:
        for narrative in part.narratives:
            if narrative.id in narratives:
                locations[f"narrative.{narrative.id}"] = Location(part.heading, "")
    unit = {"name": s.unit, "year": str(year) if year else "", **s.details}
    sub = Submission(format=fmt, year=year, unit=unit, values=values, narratives=narratives, source=source,
                     locations=locations, raw=raw)
    return ImportResult(sub, deviations, s, matches)


_AMOUNT = re.compile(r"^\s*([+\-－]?[0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]+)?)\s*(万元|元|件|条|项|个|宗|起)\s*$")


def _amount(text: str, column: str) -> tuple[str, str]:
    """A number written with its unit ("160.5964万元", "3件"): the number, and what to write
    instead. Yuan in a column kept in 万元 is converted (251000元 → 25.1)."""
    m = _AMOUNT.match(text or "")
    if not m:
        return text, ""
    number, unit = m.group(1), m.group(2)
    if unit == "元" and "万元" in column:
        from nianbao.numbers import format_decimal

        value = parse_number(number).value
        if value is not None:
            wan = format_decimal(value / 10000)
            return wan, f"{wan}（单位为万元，不写单位）"
    return number, f"{number}（不写单位）"


def _with_part(d: Deviation, heading: str) -> Deviation:
    from dataclasses import replace

    return replace(d, part=heading)


def _part_deviations(s: Structure) -> list[Deviation]:
    fmt = s.fmt
    out: list[Deviation] = []
    if s.title is None:
        out.append(Deviation("title-missing", official=fmt.title))
    seen_ids = [h.part.id for h in s.headings]
    for part in fmt.parts:
        if part.id not in seen_ids:
            out.append(Deviation("part-missing", part=part.heading, official=part.heading))
    order = [p.id for p in fmt.parts]
    first_seen = []
    for pid in seen_ids:
        if pid not in first_seen:
            first_seen.append(pid)
    positions = [order.index(p) for p in first_seen]
    for k in range(1, len(positions)):
        if positions[k] < positions[k - 1]:
            part = fmt.parts[positions[k]]
            after = fmt.parts[positions[k - 1]]
            out.append(Deviation("part-order", part=part.heading, seen=f"在“{after.heading}”之后",
                                 official=part.heading))
            break
    for h in s.headings:
        seen = f"{h.number}、{h.title}"
        if normalize_label(seen) != normalize_label(h.part.heading):
            out.append(Deviation("part-title", part=h.part.heading, seen=seen, official=h.part.heading))
    return out


__all__ = ["ImportResult", "WorkbookResult", "import_items", "import_report", "read_items", "to_workbook"]


# --------------------------------------------------------------------------- to a workbook


@dataclass
class WorkbookResult:
    path: Path
    format_key: str
    filled: int  # number cells written
    narratives: int  # narrative parts written
    skipped: dict[str, str] = field(default_factory=dict)  # cell id -> why it was left blank


def to_workbook(result: ImportResult, out: Path) -> WorkbookResult:
    """Write a nianbao template for the report's unit and year, filled with the imported data.

    The template is made fresh by ``make_template`` (for the edition that covers the year, so a
    report on an outdated edition still gives a current template: values whose cell ids exist
    in both editions are carried, the rest are listed in ``skipped``); values are then put into
    its input cells by defined name. Only our own new file is re-saved, never a unit's.
    """
    from openpyxl import load_workbook

    from nianbao.format.load import format_for_year
    from nianbao.template import make_template
    from nianbao.xlsxpost import lock_structure

    sub = result.submission
    out = Path(out)
    fmt = format_for_year(sub.year)
    details = {"name": sub.unit_name or "（单位名称）", "code": sub.unit_code}
    details |= {k: v for k, v in sub.unit.items() if k not in ("name", "code", "year")}
    make_template(fmt, details, sub.year, out)
    wb = load_workbook(out)
    skipped: dict[str, str] = {}
    filled = written = 0
    for cell in fmt.input_cells:
        if cell.id not in sub.values:
            skipped[cell.id] = "报告中没有这一格" if cell.id not in sub.format.cells else "报告中找不到这一格"
            continue
        value = sub.values[cell.id]
        if value is None:
            skipped[cell.id] = f"报告中写的是“{sub.raw.get(cell.id, '')}”，不是数字" if sub.raw.get(cell.id, "").strip() \
                else "报告中是空白"
            continue
        _put(wb, cell.name, int(value) if value == value.to_integral_value() else value)
        filled += 1
    for narrative in fmt.narratives:
        text = sub.narratives.get(narrative.id)
        if text:
            _put(wb, narrative.name, text)
            written += 1
    for fld in fmt.unit_fields:
        if fld.input and sub.unit.get(fld.id):
            _put(wb, fld.name, sub.unit[fld.id])
    wb.save(out)
    lock_structure(out)  # openpyxl does not keep the workbook structure lock
    return WorkbookResult(out, fmt.key, filled, written, skipped)


def _put(wb, name: str, value: object) -> None:
    defined = wb.defined_names.get(name)
    if defined is None:
        return
    for sheet, coord in defined.destinations:
        put_value(wb[sheet][coord.replace("$", "")], value)  # text stays text ("=HYPERLINK(…)")

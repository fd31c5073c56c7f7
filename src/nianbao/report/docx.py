"""ReportDocument → .docx in the customary style of official documents (GB/T 9704).

A4, margins 37/35/28/26 mm, 方正小标宋简体 title, 仿宋_GB2312 body at 16 pt (三号) with a
first-line indent of two characters and a fixed line pitch, 黑体 first-level and 楷体_GB2312
second-level headings, "— 1 —" page numbers. East Asian fonts are written to ``w:eastAsia``
(Word and WPS pick the CJK font from there, not from ``w:ascii``) and the theme-font
attributes are removed, because a theme attribute overrides an explicit font name.
"""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import _Cell
from docx.shared import Mm, Pt, RGBColor

from nianbao.report.model import DRAFT_MARK, DRAFT_NOTE, Heading, Paragraph, ReportDocument, TableGrid

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
TABLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
FONTS_USED = (TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT, TABLE_FONT, LATIN_FONT)
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
TABLE_SIZE = Pt(10.5)  # 五号
FOOTER_SIZE = Pt(14)  # 四号
LINE_PITCH = Pt(28.9)  # 22 lines on the 225 mm type area (GB/T 9704 7.1)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
TEXT_WIDTH = Mm(210 - 28 - 26)
CELL_MARGIN = Mm(1)
ROW_MIN_HEIGHT = Mm(7)
KEEP_TOGETHER_ROWS = 16
TITLE_CHARS_PER_LINE = 20  # 二号 characters on the 156 mm line

URL = re.compile(r"(https?://|www\.)[\x21-\x7e]+", re.IGNORECASE)
STYLE_TITLE = "Report Title"
STYLE_BODY = "Normal"
STYLE_H1 = "Heading 1"
STYLE_H2 = "Heading 2"
STYLE_TABLE = "Report Table Text"


def write_docx(doc: ReportDocument, out: Path) -> None:
    document = Document()
    _page_setup(document)
    _styles(document)
    _footer_page_number(document)
    if doc.draft:
        _draft_header(document)
    props = document.core_properties
    props.title, props.subject = doc.display_title, doc.format_key
    props.author, props.comments = doc.unit, "nianbao"
    props.keywords = DRAFT_MARK if doc.draft else ""
    title = document.add_paragraph(style=STYLE_TITLE)
    for i, line in enumerate(title_lines(doc)):
        if i:
            title.add_run().add_break()
        title.add_run(line)
    _body(document, doc.intro)  # Normal is the body style
    h1, h2 = document.styles[STYLE_H1].style_id, document.styles[STYLE_H2].style_id
    for block in doc.blocks:
        if isinstance(block, Heading):
            p = document.add_paragraph(block.text)
            p._p.get_or_add_pPr().style = h1 if block.level == 1 else h2
        elif isinstance(block, Paragraph):
            _body(document, block.text)
        elif isinstance(block, TableGrid):
            _table(document, block)
    document.save(str(out))


def _body(document, text: str) -> None:
    """A body paragraph; one holding a URL is left-aligned, since a URL cannot break and
    justification would spread the characters of its line apart."""
    p = document.add_paragraph(text)
    if URL.search(text):
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT


# ------------------------------------------------------------------------------- page and styles

def title_lines(doc: ReportDocument) -> list[str]:
    """A long title breaks after the year, not wherever the line happens to end."""
    title = doc.display_title
    head = f"{doc.unit}{doc.year}年"
    if len(title) <= TITLE_CHARS_PER_LINE or not title.startswith(head) or len(head) > TITLE_CHARS_PER_LINE:
        return [title]
    return [head, title[len(head):]]


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    section.header_distance, section.footer_distance = Mm(15), Mm(20)


def set_fonts(element, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Name the East Asian and Latin fonts of a style's or run's rPr; drop theme fonts."""
    rpr = element if element.tag == qn("w:rPr") else element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), latin)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _char_indent(pf_owner, chars: int, size) -> None:
    """First-line indent in characters (w:firstLineChars), with the length for old readers."""
    pf = pf_owner.paragraph_format
    pf.first_line_indent = size * chars
    ind = pf_owner.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _style(document, name: str, font: str, size, *, bold: bool = False, indent: int = 2,
           align=WD_ALIGN_PARAGRAPH.JUSTIFY, pitch=LINE_PITCH):
    styles = document.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
    set_fonts(style.element, font)
    style.font.size = size
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    pf = style.paragraph_format
    pf.alignment = align
    pf.space_before = pf.space_after = Pt(0)
    if pitch is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = pitch
    if indent:
        _char_indent(style, indent, size)
    else:
        pf.first_line_indent = Pt(0)
    pf.widow_control = True
    return style


def _styles(document) -> None:
    # python-docx's stock template declares its defaults as Latin/Japanese text with theme fonts;
    # Chinese text must be tagged zh-CN or LibreOffice and Word pick Japanese glyph variants.
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            set_fonts(rpr, BODY_FONT)
    _style(document, STYLE_BODY, BODY_FONT, BODY_SIZE)
    title = _style(document, STYLE_TITLE, TITLE_FONT, TITLE_SIZE, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER,
                   pitch=Pt(36))
    title.paragraph_format.space_after = LINE_PITCH  # one empty line under the title
    for name, font in ((STYLE_H1, H1_FONT), (STYLE_H2, H2_FONT)):
        style = _style(document, name, font, BODY_SIZE)
        style.paragraph_format.keep_with_next = True
    _style(document, STYLE_TABLE, TABLE_FONT, TABLE_SIZE, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=None)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A complex field (begin / instrText / separate / result / end), as Word writes PAGE."""
    def fld(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        return run

    fld("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld("separate")
    paragraph.add_run(placeholder)
    fld("end")


def _footer_page_number(document) -> None:
    """"— 1 —" in 4号 宋体 on the outer side (GB/T 9704 7.5): odd pages right, even pages left,
    one character in from the edge of the type area."""
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        pf = p.paragraph_format
        pf.first_line_indent = Pt(0)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            pf.right_indent = FOOTER_SIZE
        else:
            pf.left_indent = FOOTER_SIZE
        p.add_run("— ")
        _field(p, "PAGE", "1")
        p.add_run(" —")
        for run in p.runs:
            set_fonts(run._r, TABLE_FONT)
            run.font.size = FOOTER_SIZE


def _draft_header(document) -> None:
    section = document.sections[0]
    for header in (section.header, section.even_page_header):  # odd/even headers are on
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Pt(0)
        run = p.add_run(f"{DRAFT_MARK}　{DRAFT_NOTE}")
        set_fonts(run._r, H1_FONT)
        run.font.size = Pt(12)
        run.font.bold = True
        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)


# ------------------------------------------------------------------------------- tables

def _table(document, grid: TableGrid) -> None:
    widths = _column_widths(grid)
    table = document.add_table(rows=grid.nrows, cols=grid.ncols)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _table_properties(table)
    for i, width in enumerate(widths):
        table.columns[i].width = width
    # Cell proxies taken once, before merging: Table.cell() recomputes the whole grid on every
    # call, which made table 三 cost seconds. Boxes never overlap, so an anchor or a corner is
    # never swallowed by another box's merge and these references stay valid.
    grid_cells = []
    for r, row in enumerate(table.rows):
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        row.height = ROW_MIN_HEIGHT
        trpr = row._tr.get_or_add_trPr()
        trpr.append(_on("w:cantSplit"))  # a row never breaks across pages
        if r < grid.repeat_rows:
            trpr.append(_on("w:tblHeader"))  # repeated at the top of every page
        tcs = row._tr.tc_lst
        for c, tc in enumerate(tcs):
            tc.width = widths[c]
        grid_cells.append([_Cell(tc, table) for tc in tcs])
    table_text = document.styles[STYLE_TABLE].style_id
    # Keep a short table on one page (keep-with-next on every row but the last, as Word does
    # it); a long one may break, but never right after its header rows.
    keep_until = grid.nrows - 1 if grid.nrows <= KEEP_TOGETHER_ROWS else grid.repeat_rows + 1
    for gc in grid.cells:
        cell = grid_cells[gc.row][gc.col]
        if gc.rowspan > 1 or gc.colspan > 1:
            cell = cell.merge(grid_cells[gc.last_row][gc.last_col])
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        p._p.get_or_add_pPr().style = table_text  # by id: Paragraph.style= scans all styles per call
        if gc.role == "label":
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        if gc.last_row < keep_until:
            p.paragraph_format.keep_with_next = True
        if gc.text:
            run = p.add_run(gc.text)
            if gc.role in ("title", "header"):
                run.font.bold = True
    # One empty line after a table so the next heading does not stick to its border.
    document.add_paragraph("")


def _column_widths(grid: TableGrid) -> list[int]:
    """Column widths filling the type area, in the proportions of the template's sheet."""
    total = sum(grid.widths)
    widths = [int(TEXT_WIDTH * w / total) for w in grid.widths]
    widths[-1] += int(TEXT_WIDTH) - sum(widths)
    return widths


def _on(tag: str):
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    return el


def _table_properties(table) -> None:
    """Narrow cell margins so table 四's 15 columns fit the 156 mm type area."""
    table.autofit = False  # writes w:tblLayout type="fixed"
    tblpr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(CELL_MARGIN.twips))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    # Schema order matters to Word: tblCellMar comes before tblLook.
    tblpr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")

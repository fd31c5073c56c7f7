"""Word documents: paragraphs and real tables via python-docx, merged cells resolved.

python-docx's ``row.cells`` repeats a merged cell in every grid position it covers, so the
table XML is walked directly: each ``w:tc`` is one logical cell, ``w:gridSpan`` gives its
width, and ``w:vMerge`` without ``val="restart"`` marks a cell continued from the row above.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from nianbao.errors import InputFileError
from nianbao.importer.normalize import clean_text
from nianbao.importer.tables import Paragraph, RawTable, TCell


def read_docx(path: Path) -> list[Paragraph | RawTable]:
    """Paragraphs and tables of a .docx file, in document order."""
    try:
        document = Document(str(path))
    except Exception as err:  # python-docx raises several types for a damaged package
        raise InputFileError(path, "不是可以读取的 Word（.docx）文件（内容不完整或已损坏），请用 Word 或 WPS 另存为 .docx 后再导入",
                             code="FILE-UNREADABLE") from None
    return parse_docx_body(document.element.body)


def parse_docx_body(body) -> list[Paragraph | RawTable]:
    return [replace(item, index=i) for i, item in enumerate(_items(body))]


def _items(body) -> list[Paragraph | RawTable]:
    items: list[Paragraph | RawTable] = []
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            text = clean_text(_paragraph_text(child))
            if text:
                items.append(Paragraph(text))
        elif child.tag == qn("w:tbl"):
            items.append(_table(child, 0))
        elif child.tag == qn("w:sdt"):  # content controls wrap ordinary paragraphs and tables
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                items += _items(content)
    return items


def _paragraph_text(p) -> str:
    parts: list[str] = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:tab"):
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _val(el, tag: str) -> str | None:
    found = el.find(tag) if el is not None else None
    return found.get(qn("w:val")) if found is not None else None


def _table(tbl, index: int) -> RawTable:
    rows: list[tuple[TCell, ...]] = []
    for tr in tbl.iterchildren(qn("w:tr")):
        cells: list[TCell] = []
        col = int(_val(tr.find(qn("w:trPr")), qn("w:gridBefore")) or 0)
        for tc in tr.iterchildren(qn("w:tc")):
            props = tc.find(qn("w:tcPr"))
            span = int(_val(props, qn("w:gridSpan")) or 1)
            vmerge = props.find(qn("w:vMerge")) if props is not None else None
            continued = vmerge is not None and vmerge.get(qn("w:val")) in (None, "continue")
            if continued:
                cells.append(TCell("", col, span, True))
            else:
                text = "\n".join(_paragraph_text(p) for p in tc.iterchildren(qn("w:p")))
                cells.append(TCell(clean_text(text), col, span))
            col += span
        rows.append(tuple(cells))
    return RawTable(tuple(rows), index, gridded=True)


__all__ = ["parse_docx_body", "read_docx"]

"""Web pages: paragraphs and tables, with colspan/rowspan expanded into a grid.

A cell covered by a rowspan from above becomes a ``continued`` empty cell in each row it
covers (so its label is inherited); a colspan keeps one logical cell with its span.
"""

from __future__ import annotations

import lxml.html

from nianbao.importer.normalize import clean_text
from nianbao.importer.tables import Paragraph, RawTable, TCell

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "section", "article", "td", "th", "caption",
           "pre", "blockquote"}


def parse_html(source: str | bytes) -> list[Paragraph | RawTable]:
    """Paragraphs and tables of a web page, in document order."""
    if isinstance(source, bytes):
        root = lxml.html.document_fromstring(source)
    else:
        root = lxml.html.document_fromstring(source.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    for bad in root.xpath("//script|//style|//head"):
        bad.drop_tree()
    items: list[Paragraph | RawTable] = []
    _walk(root, items)
    return items


def _walk(el, items: list) -> None:
    for child in el:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag.lower()
        if tag == "table":
            items.append(_table(child, len(items)))
        elif tag in _BLOCKS and not child.xpath(".//table|.//p|.//div|.//h1|.//h2|.//h3|.//h4|.//li"):
            text = clean_text(_text(child))
            for line in (x for x in text.split("\n") if x.strip()):
                items.append(Paragraph(line, len(items)))
        else:
            if child.text and child.text.strip() and tag in _BLOCKS:
                items.append(Paragraph(clean_text(child.text), len(items)))
            _walk(child, items)
        if child.tail and child.tail.strip():
            items.append(Paragraph(clean_text(child.tail), len(items)))


def _text(el) -> str:
    """Text of an element with <br> as a line break."""
    parts: list[str] = []

    def visit(node) -> None:
        if isinstance(node.tag, str) and node.tag.lower() == "br":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for sub in node:
            visit(sub)
            if sub.tail:
                parts.append(sub.tail)

    visit(el)
    return "".join(parts)


def _int(value: str | None) -> int:
    try:
        return max(1, int(str(value).strip()))
    except (TypeError, ValueError):
        return 1


def _table(table, index: int) -> RawTable:
    trs = [tr for tr in table.iter("tr") if _own_table(tr, table)]
    # (row, col) -> (origin row, origin col, span) of the rowspan cell covering it from above
    occupied: dict[tuple[int, int], tuple[int, int, int]] = {}
    rows: list[tuple[TCell, ...]] = []
    for r, tr in enumerate(trs):
        cells: list[TCell] = []
        col = 0

        def covered() -> None:
            # One continued cell per merged cell above, however many columns it spans.
            nonlocal col
            while (r, col) in occupied:
                origin = occupied[(r, col)]
                cells.append(TCell("", col, origin[2], True))
                col += origin[2]

        for td in (c for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")):
            covered()
            span, rowspan = _int(td.get("colspan")), _int(td.get("rowspan"))
            cells.append(TCell(clean_text(_text(td)), col, span))
            for dr in range(1, rowspan):
                for dc in range(span):
                    occupied[(r + dr, col + dc)] = (r, col, span)
            col += span
        covered()
        rows.append(tuple(cells))
    return RawTable(tuple(rows), index, gridded=True)


def _own_table(tr, table) -> bool:
    parent = tr.getparent()
    while parent is not None and parent.tag.lower() != "table":
        parent = parent.getparent()
    return parent is table


__all__ = ["parse_html"]

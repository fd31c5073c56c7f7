"""PDF with a text layer: paragraphs and ruled tables, by pdfplumber (pdfminer.six underneath).

Tables are found from the ruling lines pdfplumber sees; the text outside them becomes lines, a
line per paragraph. A table split over two pages gives two tables, joined later like any table
published in pieces (the structure stage groups pieces of one format table). A page without a
text layer (a scan) has no characters at all: when no page has any, the file is refused with a
message saying so, since reading a picture needs OCR, which nianbao does not do.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nianbao.errors import InputFileError
from nianbao.importer.normalize import clean_text
from nianbao.importer.tables import Paragraph, RawTable, TCell, looks_like_value

#: Pages read at most (a report is 5–20 pages; a 500-page PDF is not one).
MAX_PAGES = 200


def read_pdf(path: Path) -> list[Paragraph | RawTable]:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(str(path))
    except (PDFSyntaxError, Exception) as err:  # pdfminer raises many types for a damaged file
        raise InputFileError(path, f"PDF 文件已损坏或不完整，无法读取（{type(err).__name__}）。请重新下载或另存后再导入",
                             code="FILE-UNREADABLE") from None
    items: list[Paragraph | RawTable] = []
    chars = 0
    with pdf:
        if len(pdf.pages) > MAX_PAGES:
            raise InputFileError(path, f"PDF 有 {len(pdf.pages)} 页，超过 {MAX_PAGES} 页，不像一份年度报告",
                                 code="FILE-TOO-LARGE")
        for page in pdf.pages:
            try:
                chars += len(page.chars)
                page_items: list[Paragraph | RawTable] = []
                _page_items(page, page_items)
            except Exception as err:  # one broken page never loses the others
                page_items = [Paragraph(f"（第{page.page_number}页无法读取：{type(err).__name__}）")]
            if items and page_items and isinstance(items[-1], RawTable) and isinstance(page_items[0], RawTable):
                items[-1] = _continue_table(items[-1], page_items.pop(0))
            items += [replace(it, index=len(items) + k) for k, it in enumerate(page_items)]
    if chars == 0:
        raise InputFileError(path, "PDF 里没有文字（是扫描或拍照的图片）。nianbao 不做文字识别：请找到报告的网页版、"
                             "Word 版或可复制文字的 PDF 再导入", code="IMPORT-PDF-NO-TEXT")
    return items


def _continue_table(before: RawTable, after: RawTable) -> RawTable:
    """A table going on over the page break; a row broken by the page ("…不计其" / "他情形）")
    is one row: its second piece has text only where the first one does and no numbers."""
    rows = list(before.rows)
    nxt = list(after.rows)
    if rows and nxt and len(rows[-1]) == len(nxt[0]):
        last, first = rows[-1], nxt[0]
        texts = [c.text for c in first if c.text]
        if texts and all(not c.text or last[k].text for k, c in enumerate(first)) \
                and not any(looks_like_value(t) for t in texts):
            rows[-1] = tuple(replace(c, text=(c.text + first[k].text) if first[k].text else c.text)
                             for k, c in enumerate(last))
            nxt = nxt[1:]
    return RawTable(tuple(rows + nxt), before.index, gridded=before.gridded and after.gridded)


def _page_items(page, items: list) -> None:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        top = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= top <= b[3] for b in boxes)

    body = page.filter(outside)
    lines = [(ln["top"], ln["text"]) for ln in body.extract_text_lines(return_chars=False)]
    placed = [(top, "line", text) for top, text in lines] + [(t.bbox[1], "table", t) for t in tables]
    for _, kind, what in sorted(placed, key=lambda p: p[0]):
        if kind == "line":
            text = clean_text(what)
            if text:
                items.append(Paragraph(text, len(items)))
        else:
            items.append(_table(what, len(items)))


def _table(table, index: int) -> RawTable:
    """Rows of a ruled table: a cell merged across columns is one cell with its span; a grid
    position covered by a cell from the row above is a ``continued`` cell."""
    grid = [list(row.cells) for row in table.rows]
    width = max((len(r) for r in grid), default=0)
    lefts = [min((r[c][0] for r in grid if c < len(r) and r[c] is not None), default=None) for c in range(width)]
    texts = table.extract()
    rows: list[tuple[TCell, ...]] = []
    for r, row in enumerate(grid):
        cells: list[TCell] = []
        c = 0
        while c < len(row):
            if row[c] is None:
                cells.append(TCell("", c, 1, True))
                c += 1
                continue
            span = 1
            while c + span < len(row) and row[c + span] is None and lefts[c + span] is not None \
                    and row[c][2] > lefts[c + span] + 1:
                span += 1  # the box reaches over the next column: merged across
            cells.append(TCell(clean_text(texts[r][c] or ""), c, span))
            c += span
        rows.append(tuple(cells))
    return RawTable(tuple(rows), index, gridded=True)


__all__ = ["read_pdf"]

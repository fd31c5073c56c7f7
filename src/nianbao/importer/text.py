"""Plain text as copied out of Word or a web page.

Word's "copy as text" (the seed report) puts each table cell on its own line behind a TAB,
separates table rows by a blank line, and continues a cell that held a line break on the next
line without a TAB ("结果" / "维持"). Web pages copy a row as one line of TAB-separated cells.
Both are read here; everything else is a paragraph.
"""

from __future__ import annotations

import re

from nianbao.importer.normalize import clean_text
from nianbao.importer.tables import Paragraph, RawTable, TCell

# A line that starts a part ("三、收到和处理…") never continues a table cell.
_PART_HEADING = re.compile(r"^[\s\u3000]*[一二三四五六七八九十]+、")


def parse_text(text: str) -> list[Paragraph | RawTable]:
    """Paragraphs and tables of a plain-text report, in document order."""
    items: list[Paragraph | RawTable] = []
    rows: list[list[str]] = []
    row: list[str] = []
    last_was_cell = False

    def end_row() -> None:
        nonlocal row
        if row:
            rows.append(row)
        row = []

    def end_table() -> None:
        nonlocal rows
        end_row()
        if rows:
            items.append(RawTable(tuple(tuple(TCell(t, i) for i, t in enumerate(r)) for r in rows), len(items)))
        rows = []

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "\t" in line:
            if line.startswith("\t") and "\t" not in line[1:]:
                row.append(line[1:])  # Word: one cell per line
            else:
                end_row()  # web page: one row per line
                cells = line.split("\t")
                rows.append(cells)
            last_was_cell = True
            continue
        if not line.strip(" \u3000\u00a0"):
            if rows or row:
                end_row()
            last_was_cell = False
            continue
        if last_was_cell and row and not _PART_HEADING.match(line):
            row[-1] += "\n" + line  # a line break inside the cell
            continue
        end_table()
        last_was_cell = False
        cleaned = clean_text(line)
        if cleaned:
            items.append(Paragraph(cleaned, len(items)))
    end_table()
    return items


__all__ = ["parse_text"]

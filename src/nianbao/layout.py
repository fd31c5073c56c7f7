"""Where every label and number of a table sits on its sheet, computed from the format.

The template writer, the reader's label checks and the annotated copy all use this one layout,
so a table is laid out like the official table in exactly one place.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from nianbao.format.model import Block, HeaderNode, Table

FIRST_BLOCK_ROW = 2  # row 0: the table's heading, row 1: how to fill it
LINE_HEIGHT = 15.0  # points per line of 11 pt text


@dataclass(frozen=True)
class Box:
    """A rectangle on the sheet (0-based, inclusive), with what it shows."""

    row: int
    col: int
    last_row: int
    last_col: int
    text: str
    role: str  # heading | note | title | corner | header | label | cell

    @property
    def merged(self) -> bool:
        return (self.row, self.col) != (self.last_row, self.last_col)


@dataclass
class SheetLayout:
    table: Table
    boxes: list[Box] = field(default_factory=list)
    cells: dict[str, Box] = field(default_factory=dict)
    header_rows: tuple[int, int] | None = None  # the rows to repeat on every printed page

    @property
    def ncols(self) -> int:
        return self.table.label_levels + self.table.data_width

    @property
    def nrows(self) -> int:
        return max(b.last_row for b in self.boxes) + 1

    def column_widths(self) -> list[float]:
        return label_widths(self.table.label_levels) + [data_width(self.table)] * self.table.data_width

    def row_heights(self) -> dict[int, float]:
        """Heights that show every label in full, for rows holding wrapped text."""
        widths = self.column_widths()
        heights: dict[int, float] = {}
        for box in self.boxes:
            if box.role in ("cell",) or not box.text:
                continue
            lines = text_lines(box.text, sum(widths[box.col : box.last_col + 1]))
            per_row = lines * LINE_HEIGHT / (box.last_row - box.row + 1) + 4
            for r in range(box.row, box.last_row + 1):
                heights[r] = max(heights.get(r, 20.0), per_row)
        return heights


def label_widths(levels: int) -> list[float]:
    return {0: [], 1: [18.0], 2: [14.0, 34.0], 3: [12.0, 16.0, 34.0]}.get(levels, [14.0] * levels)


def data_width(table: Table) -> float:
    if table.data_width <= 3:
        return 16.0
    return 10.0 if table.data_width <= 7 else 7.5


def display_width(text: str) -> int:
    """Excel column-width units a text needs: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_lines(text: str, width: float) -> int:
    usable = max(width - 1.5, 2.0)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def table_layout(table: Table) -> SheetLayout:
    layout = SheetLayout(table)
    last = layout.ncols - 1
    layout.boxes.append(Box(0, 0, 0, last, table.heading, "heading"))
    layout.boxes.append(Box(1, 0, 1, last, FILL_NOTE, "note"))
    row = FIRST_BLOCK_ROW
    for block in table.blocks:
        row = _place_block(layout, block, row)
    return layout


FILL_NOTE = "请在黄色单元格中填写数字；没有发生的填 0，不要留空。灰色的合计由公式自动计算。"


def _place_block(layout: SheetLayout, block: Block, row: int) -> int:
    table = layout.table
    levels = table.label_levels
    if block.title:
        layout.boxes.append(Box(row, 0, row, layout.ncols - 1, block.title, "title"))
        row += 1
    depth = block.header_depth
    if levels:
        layout.boxes.append(Box(row, 0, row + depth - 1, levels - 1, block.corner or "", "corner"))
    _place_headers(layout, block.column_tree, row, levels, 0, depth)
    if layout.header_rows is None and len(table.blocks) == 1:
        layout.header_rows = (row, row + depth - 1)
    row += depth
    _place_row_labels(layout, block.row_tree, row, 0, levels)
    col_starts = _column_starts(block, levels)
    for r, data_row in enumerate(block.rows):
        for col in block.columns:
            start = col_starts[col.id]
            box = Box(row + r, start, row + r, start + col.span - 1, "", "cell")
            layout.cells[f"{table.id}.{data_row.id}.{col.id}"] = box
            layout.boxes.append(box)
    return row + len(block.rows)


def _column_starts(block: Block, levels: int) -> dict[str, int]:
    starts, col = {}, levels
    for column in block.columns:
        starts[column.id] = col
        col += column.span
    return starts


def _place_headers(layout: SheetLayout, nodes: tuple[HeaderNode, ...], row: int, col: int, depth: int,
                   max_depth: int) -> None:
    for node in nodes:
        width = sum(leaf.span for leaf in node.leaves())
        if node.is_leaf:
            layout.boxes.append(Box(row + depth, col, row + max_depth - 1, col + width - 1, node.label, "header"))
        else:
            layout.boxes.append(Box(row + depth, col, row + depth, col + width - 1, node.label, "header"))
            _place_headers(layout, node.children, row, col, depth + 1, max_depth)
        col += width


def _place_row_labels(layout: SheetLayout, nodes: tuple[HeaderNode, ...], row: int, depth: int,
                      levels: int) -> int:
    if levels == 0:
        return row + sum(len(n.leaves()) for n in nodes)
    for node in nodes:
        height = len(node.leaves())
        if node.is_leaf:
            layout.boxes.append(Box(row, depth, row, levels - 1, node.label, "label"))
        else:
            layout.boxes.append(Box(row, depth, row + height - 1, depth, node.label, "label"))
            _place_row_labels(layout, node.children, row, depth + 1, levels)
        row += height
    return row

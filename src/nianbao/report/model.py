"""The report document model: Format + Submission → title, introduction, parts, tables.

Every output (docx, HTML, Markdown) renders this one model, so the wording of the
introduction, the order of the parts and the table grids (labels, merges, numbers) are decided
in exactly one place. Table grids come from ``layout.table_layout``, the same layout the
template uses, so merged headers in the report match the workbook and the official table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from nianbao.format.model import Table
from nianbao.layout import FIRST_BLOCK_ROW, table_layout
from nianbao.rules import fmt as fmt_number
from nianbao.safetext import strip_hidden
from nianbao.submission import Submission
from nianbao.rules import compute_derived

REGULATION = "《中华人民共和国政府信息公开条例》（国务院令第711号）"
MISSING_TEXT = "（未填写）"
DRAFT_MARK = "草稿"
DRAFT_NOTE = "本稿未通过校验，仅供内部核对，不得公开发布。"


@dataclass(frozen=True)
class GridCell:
    """One (possibly merged) cell of a report table, anchored at its top-left grid position."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    role: str  # title | corner | header | label | number
    cell_id: str | None = None  # the format's cell id for numbers
    group: bool = False  # a header over sub-headers (HTML scope="colgroup")

    @property
    def last_row(self) -> int:
        return self.row + self.rowspan - 1

    @property
    def last_col(self) -> int:
        return self.col + self.colspan - 1


@dataclass(frozen=True)
class FlatBlock:
    """A block flattened for plain tables (Markdown): column and row labels as label paths."""

    title: str | None
    columns: tuple[str, ...]  # first entry names the label column ("" when there is none)
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row label path, texts)
    note: str | None = None  # a corner that is a note (table 三's 勾稽关系), shown under the table


@dataclass(frozen=True)
class TableGrid:
    table_id: str
    heading: str
    nrows: int
    ncols: int
    cells: tuple[GridCell, ...]
    row_kinds: tuple[str, ...]  # per grid row: title | header | body
    label_cols: int
    flat: tuple[FlatBlock, ...]
    widths: tuple[float, ...]  # relative column widths, as on the template's sheet

    @property
    def repeat_rows(self) -> int:
        """Leading header rows to repeat on every page (0 when the table has block titles)."""
        n = 0
        for kind in self.row_kinds:
            if kind != "header":
                break
            n += 1
        return n

    def anchor(self, row: int, col: int) -> GridCell:
        """The cell covering grid position (row, col)."""
        for cell in self.cells:
            if cell.row <= row <= cell.last_row and cell.col <= col <= cell.last_col:
                return cell
        raise KeyError((row, col))

    def starting_in(self, row: int) -> list[GridCell]:
        return sorted((c for c in self.cells if c.row == row), key=lambda c: c.col)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1: part (一、), 2: sub-heading (（一）)
    part: str
    narrative: str | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    missing: bool = False


Block = Heading | Paragraph | TableGrid


@dataclass
class ReportDocument:
    title: str
    intro: str
    unit: str
    year: int
    format_key: str
    blocks: list[Block] = field(default_factory=list)
    draft: bool = False

    @property
    def display_title(self) -> str:
        return f"{self.title}（{DRAFT_MARK}）" if self.draft else self.title

    @property
    def tables(self) -> list[TableGrid]:
        return [b for b in self.blocks if isinstance(b, TableGrid)]

    @property
    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]


def build_document(sub: Submission, narratives: dict[str, str] | None = None,
                   draft: bool = False) -> ReportDocument:
    """The report of one submission; ``narratives`` replaces the workbook's texts per part id."""
    fmt = sub.format
    texts = dict(sub.narratives)
    texts.update(narratives or {})
    texts = {k: strip_hidden(v or "") for k, v in texts.items()}  # never publish bidi or control characters
    values = compute_derived(fmt, dict(sub.values))
    doc = ReportDocument(title=strip_hidden(sub.title), intro=introduction(sub), unit=strip_hidden(sub.unit_name), year=sub.year,
                         format_key=fmt.key, draft=draft)
    for part in fmt.parts:
        doc.blocks.append(Heading(part.heading, 1, part.id))
        if part.table:
            doc.blocks.append(table_grid(fmt.tables[part.table], values))
        several = len(part.narratives) > 1
        for narrative in part.narratives:
            if several:
                doc.blocks.append(Heading(narrative.title, 2, part.id, narrative.id))
            paragraphs = split_paragraphs(texts.get(narrative.id, ""))
            if paragraphs:
                doc.blocks.extend(Paragraph(p) for p in paragraphs)
            else:
                doc.blocks.append(Paragraph(MISSING_TEXT, missing=True))
    return doc


def introduction(sub: Submission) -> str:
    """The customary opening paragraph: basis, compiler, period, where published, contact."""
    unit, year = sub.unit, sub.year
    compiler = unit.get("compiler", "").strip()
    name = sub.unit_name
    sentences = [f"本报告根据{REGULATION}和{sub.format.basis}文件要求编制"
                 + (f"，由{compiler}负责编制" if compiler else "") + "。"]
    sentences.append(f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。")
    url = unit.get("url", "").strip()
    if url:
        sentences.append(f"本报告通过{url}向社会公开。")
    contact = [f"{label}：{unit[key].strip()}" for key, label in (("address", "地址"), ("phone", "电话"))
               if unit.get(key, "").strip()]
    who = compiler or name
    if contact:
        sentences.append(f"如对本报告有疑问，请与{who}联系（{'，'.join(contact)}）。")
    return strip_hidden("".join(sentences))


_LEADING_SPACE = re.compile(r"^[\s\u3000\u00a0]+|[\s\u3000\u00a0]+$")


def split_paragraphs(text: str) -> list[str]:
    """A narrative cell's text as paragraphs: one per line, indentation stripped (styles indent)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [p for p in (_LEADING_SPACE.sub("", line) for line in lines) if p]


def number_text(value: Decimal | None) -> str:
    return "" if value is None else fmt_number(value)


def table_grid(table: Table, values: dict[str, Decimal | None]) -> TableGrid:
    """The table as a grid of merged cells, exactly as the template lays it out."""
    layout = table_layout(table)
    cell_of_box = {id(box): cell_id for cell_id, box in layout.cells.items()}
    groups = _group_labels(table)
    cells: list[GridCell] = []
    for box in layout.boxes:
        if box.role in ("heading", "note"):
            continue
        row, last = box.row - FIRST_BLOCK_ROW, box.last_row - FIRST_BLOCK_ROW
        common = dict(row=row, col=box.col, rowspan=last - row + 1, colspan=box.last_col - box.col + 1)
        if box.role == "cell":
            cell_id = cell_of_box[id(box)]
            cells.append(GridCell(text=number_text(values.get(cell_id)), role="number", cell_id=cell_id,
                                  **common))
        else:
            group = box.role == "header" and (box.row, box.col) in groups
            cells.append(GridCell(text=box.text, role=box.role, group=group, **common))
    nrows = max(c.last_row for c in cells) + 1
    kinds = []
    for r in range(nrows):
        roles = {c.role for c in cells if c.row <= r <= c.last_row}
        kinds.append("body" if "number" in roles else "title" if "title" in roles else "header")
    return TableGrid(table.id, table.heading, nrows, layout.ncols, tuple(cells), tuple(kinds),
                     table.label_levels, _flatten(table, values),
                     tuple(layout.column_widths()))


def _group_labels(table: Table) -> set[tuple[int, int]]:
    """Sheet positions of header boxes that stand over sub-headers."""
    layout = table_layout(table)
    headers = [b for b in layout.boxes if b.role == "header"]
    return {(b.row, b.col) for b in headers
            if any(o is not b and o.row > b.last_row and b.col <= o.col and o.last_col <= b.last_col
                   and o.row == b.last_row + 1 for o in headers)}


def _flatten(table: Table, values: dict[str, Decimal | None]) -> tuple[FlatBlock, ...]:
    blocks = []
    for block in table.blocks:
        # A corner heads the label column only where it names it (表二 信息内容); table 三's
        # corner is the balance note, which a flat table shows as a note instead.
        names_labels = bool(block.corner) and table.label_levels == 1
        label_col = (block.corner if names_labels else "项目") if table.label_levels else ""
        note = None if names_labels else block.corner
        columns = (label_col, *("·".join(c.path) for c in block.columns))
        rows = tuple(("·".join(p for p in r.path if p),
                      tuple(number_text(values.get(f"{table.id}.{r.id}.{c.id}")) for c in block.columns))
                     for r in block.rows)
        blocks.append(FlatBlock(block.title, columns, rows, note))
    return tuple(blocks)

"""Matching a published table (a grid of cells) to one of the format's tables.

The readers (docx, html, text) turn a document into :class:`Paragraph` and :class:`RawTable`
items. A raw table is a list of rows; each row lists its *logical* cells once (a cell merged
across columns appears once, with its span; a cell covered by a vertical merge from above
appears as a ``continued`` empty cell). Text copied out of Word loses the spans altogether,
so nothing here relies on grid positions: rows are told apart by their trailing number cells,
matched to the format's rows by their label paths (an empty or continued label cell inherits
the label above it), and header labels are compared as a multiset, which tolerates split
cells and the sub-headers of table 四 shifted by one cell in web pages.

Everything in this module is a pure function over these values (no file I/O).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from nianbao.format.model import Block, Cell, Column, Format, HeaderNode, Row, Table
from nianbao.importer.normalize import normalize_label, one_line, similarity

#: Below this similarity a published row label is not taken for an official one.
ROW_MATCH = 0.6
#: Below this similarity a published header is reported as unknown rather than as a variant.
HEADER_MATCH = 0.5


@dataclass(frozen=True)
class TCell:
    text: str
    col: int = 0  # first grid column (position in the row for text without spans)
    span: int = 1
    continued: bool = False  # covered by a vertical merge from the row above


@dataclass(frozen=True)
class RawTable:
    rows: tuple[tuple[TCell, ...], ...]
    index: int = 0  # position of the table among the document's items
    gridded: bool = False  # cells carry true grid columns and spans (.docx, .html; not copied text)


@dataclass(frozen=True)
class Paragraph:
    text: str
    index: int = 0


def raw_table(rows: list[list[str]], index: int = 0) -> RawTable:
    """A raw table from plain cell texts (tests and the text reader): "" is an empty cell."""
    return RawTable(tuple(tuple(TCell(t, i) for i, t in enumerate(r)) for r in rows), index)


@dataclass(frozen=True)
class Deviation:
    """One way a published report differs from the format (an observation, not yet a finding)."""

    kind: str  # label | row-missing | row-unknown | header-missing | header-unknown | cells-missing
    # | table-missing | part-missing | part-order | part-title | title | edition | ...
    table: str | None = None  # table id
    row: str | None = None  # the official row (display) the deviation concerns
    column: str | None = None  # the official column label
    seen: str | None = None
    official: str | None = None
    where: tuple[int, int] | None = None  # (row, col) in the published table's grid
    part: str | None = None  # part heading

    @property
    def position(self) -> str:
        return f"第{self.where[0] + 1}行第{self.where[1] + 1}格" if self.where else ""


@dataclass
class TableMatch:
    table: Table
    texts: dict[str, str] = field(default_factory=dict)  # cell id -> text as published
    places: dict[str, tuple[int, int]] = field(default_factory=dict)  # cell id -> (row, col)
    deviations: list[Deviation] = field(default_factory=list)
    labels_seen: list[str] = field(default_factory=list)  # every label cell, normalised


# --------------------------------------------------------------------------- values

_PLACEHOLDER_VALUE = re.compile(r"^[/／\\—–―\-－~～\.。·…×xX*＊〇○无]*$")
_NUMBER = re.compile(r"^[+\-－]?[0-9０-９][0-9０-９,，]*([.．][0-9０-９]+)?(?:万元|元|件|条|项|个|宗|起)?$")


def looks_like_value(text: str) -> bool:
    """A cell that can stand in a number column: a number, blank, or "/" "—" "无" for none."""
    s = "".join(one_line(text).split())
    return bool(_NUMBER.match(s)) or bool(_PLACEHOLDER_VALUE.match(s))


def _trailing_values(row: tuple[TCell, ...]) -> int:
    k = 0
    for cell in reversed(row):
        if not looks_like_value(cell.text) or cell.continued:
            break
        k += 1
    return k


def _blank_row(row: tuple[TCell, ...]) -> bool:
    return all(not one_line(c.text) for c in row)


# --------------------------------------------------------------------------- table scores


def table_labels(table: Table) -> list[str]:
    """Every official label of a table (block titles, corners, headers, row labels), normalised."""
    labels: list[str] = []
    for block in table.blocks:
        if block.title:
            labels.append(block.title)
        if block.corner:
            labels.append(block.corner)
        labels += [n.label for n in _nodes(block.column_tree)]
        labels += [n.label for n in _nodes(block.row_tree)]
    return [normalize_label(x) for x in labels if x]


def score_table(table: Table, raw: RawTable) -> int:
    """How many of a table's official labels a published table contains."""
    wanted = set(table_labels(table))
    return sum(1 for row in raw.rows for c in row if normalize_label(c.text) in wanted)


def _nodes(tree: tuple[HeaderNode, ...]) -> list[HeaderNode]:
    out: list[HeaderNode] = []
    for node in tree:
        out.append(node)
        out += _nodes(node.children)
    return out


# --------------------------------------------------------------------------- matching


@dataclass
class _DataRow:
    index: int
    labels: tuple[TCell, ...]
    values: tuple[TCell, ...]
    path: tuple[str, ...]
    block: Block | None
    gridded: bool = False


def match_table(fmt: Format, table: Table, raw: RawTable) -> TableMatch:
    """Read one published table against the format's ``table``: values by cell id, deviations."""
    result = TableMatch(table)
    cells_by = {(c.block, c.row.id, c.column.id): c for c in fmt.cells.values() if c.table == table.id}
    min_width = min(len(b.columns) for b in table.blocks)
    block: Block | None = table.blocks[0] if len(table.blocks) == 1 else None
    headers: dict[str, list[tuple[int, TCell]]] = {b.id: [] for b in table.blocks}
    titles_seen: dict[str, tuple[int, str]] = {}
    data: list[_DataRow] = []
    previous_path: list[str] = []
    for r, row in enumerate(raw.rows):
        if _blank_row(row):
            continue
        for c in row:
            if one_line(c.text):
                result.labels_seen.append(normalize_label(c.text))
        titled = _block_title(table, row)
        if titled is not None:
            block, seen = titled
            titles_seen.setdefault(block.id, (r, seen))
            previous_path = []
            continue
        max_width = len(block.columns) if block is not None else max(len(b.columns) for b in table.blocks)
        row = _trim_spare(row, max_width)
        k = _trailing_values(row)
        is_data = (k == len(row) and k >= min_width) if table.label_levels == 0 else (k >= min_width and k < len(row))
        if not is_data and table.label_levels and 0 < k < len(row) and any(one_line(c.text) for c in row[len(row) - k:]) \
                and _official_row_like(table, row[: len(row) - k]):
            is_data = True  # a row with fewer numbers than columns (cut short): cells-missing, not a header
        if is_data and table.label_levels and not any(one_line(c.text) for c in row[len(row) - k:]) \
                and _header_like(table, row[: len(row) - k]):
            is_data = False  # "（本列数据的勾稽关系…） | 申请人情况 | | |": a header row with spare cells
        if not is_data and table.label_levels and _parent_row(table, row):
            previous_path = [one_line(c.text) for c in row if one_line(c.text)]
            continue  # "（三）不予公开" alone on its row: the parent of the rows below
        if not is_data:
            if block is not None:
                headers[block.id] += [(r, c) for c in row if one_line(c.text)]
            elif len(table.blocks) > 1:  # header before any block title: attribute by content
                guess = _block_by_header(table, row)
                if guess is not None:
                    block = guess
                    headers[block.id] += [(r, c) for c in row if one_line(c.text)]
            continue
        width = len(block.columns) if block is not None else min(k, max(len(b.columns) for b in table.blocks))
        n = min(k, width)
        labels, values = row[: len(row) - n], row[len(row) - n:]
        path = _resolve(labels, previous_path)
        previous_path = path
        data.append(_DataRow(r, labels, values, tuple(p for p in path if p), block, raw.gridded))
    find = _column_places if raw.gridded else _text_places
    places = {b.id: find(b, headers[b.id]) for b in table.blocks}
    _match_rows(fmt, table, data, cells_by, result, places)
    for b in table.blocks:
        _match_headers(table, b, headers[b.id], titles_seen.get(b.id), result, bool(data))
    return result


def _resolve(labels: tuple[TCell, ...], previous: list[str]) -> list[str]:
    """Label texts of a row; an empty or continued cell repeats the label above it."""
    path = []
    for i, cell in enumerate(labels):
        text = one_line(cell.text)
        if (cell.continued or not text) and i < len(previous):
            text = previous[i]
        path.append(text)
    return path


def _block_title(table: Table, row: tuple[TCell, ...]) -> tuple[Block, str] | None:
    texts = [one_line(c.text) for c in row if one_line(c.text)]
    titled = [b for b in table.blocks if b.title]
    if len(texts) != 1 or not titled:
        return None
    best = max(titled, key=lambda b: similarity(b.title, texts[0]))
    return (best, texts[0]) if similarity(best.title, texts[0]) >= 0.8 else None


def _block_by_header(table: Table, row: tuple[TCell, ...]) -> Block | None:
    seen = {normalize_label(c.text) for c in row}
    scores = [(len(seen & {normalize_label(col.label) for col in b.columns}), b) for b in table.blocks]
    best = max(scores, key=lambda s: s[0])
    return best[1] if best[0] else None


#: The template's guidance left in a label: "规范性文件（指各行政机关印发的有正式文号的文件）".
_GUIDANCE = re.compile(r"\s*[(（]\s*指[^)）]*[)）]")


def without_guidance(text: str) -> str:
    return _GUIDANCE.sub("", text)


def _row_score(row: Row, path: tuple[str, ...]) -> float:
    path = tuple(without_guidance(p) for p in path)
    full = similarity("".join(row.path), "".join(path))
    leaf = similarity(row.path[-1], path[-1]) if path else (1.0 if not row.path[-1] else 0.0)
    return max(full, leaf * 0.95)


def _official_row_like(table: Table, labels: tuple[TCell, ...]) -> bool:
    """Whether a row's label cells name an official row (a row cut short still is one)."""
    path = tuple(one_line(c.text) for c in labels if one_line(c.text))
    return bool(path) and any(_row_score(row, path) >= 0.9 for b in table.blocks for row in b.rows)


def _header_like(table: Table, labels: tuple[TCell, ...]) -> bool:
    wanted = {normalize_label(x) for b in table.blocks for x in ([b.corner] if b.corner else []) +
              [n.label for n in _nodes(b.column_tree)]}
    return any(normalize_label(c.text) in wanted for c in labels)


def _parent_row(table: Table, row: tuple[TCell, ...]) -> bool:
    """A row of label cells only, each an official parent row label (one with rows under it)."""
    texts = [one_line(c.text) for c in row if one_line(c.text)]
    parents = {normalize_label(n.label) for b in table.blocks for n in _nodes(b.row_tree) if n.children}
    return bool(texts) and all(normalize_label(t) in parents for t in texts)


def _trim_spare(row: tuple[TCell, ...], width: int) -> tuple[TCell, ...]:
    """Empty cells a page adds after a row's last column ("3 | 3 | ||||||") beyond the table's width."""
    row = tuple(row)
    while len(row) > 1 and _trailing_values(row) > width and not one_line(row[-1].text):
        row = row[:-1]
    return row


def _match_rows(fmt: Format, table: Table, data: list[_DataRow], cells_by: dict, result: TableMatch,
                places: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Align published data rows with the official rows, in order (dynamic programming)."""
    official = [(b, row) for b in table.blocks for row in b.rows]
    n, m = len(data), len(official)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            block, row = official[j]
            best = max(score[i + 1][j], score[i][j + 1])
            if data[i].block in (None, block):
                s = _row_score(row, data[i].path)
                if s >= ROW_MATCH:
                    best = max(best, s + score[i + 1][j + 1])
            score[i][j] = best
    i = j = 0
    pairs: list[tuple[_DataRow, Block, Row]] = []
    unknown: list[_DataRow] = []
    missing: list[tuple[Block, Row]] = []
    while i < n and j < m:
        block, row = official[j]
        s = _row_score(row, data[i].path) if data[i].block in (None, block) else 0.0
        if s >= ROW_MATCH and abs(score[i][j] - (s + score[i + 1][j + 1])) < 1e-9:
            pairs.append((data[i], block, row))
            i, j = i + 1, j + 1
        elif abs(score[i][j] - score[i + 1][j]) < 1e-9:
            unknown.append(data[i])
            i += 1
        else:
            missing.append(official[j])
            j += 1
    unknown += data[i:]
    missing += official[j:]
    reported: set[tuple[int, str]] = set()
    reordered = {b.id for b in table.blocks if _out_of_order(b, places.get(b.id, {}), table, result)}
    for d, block, row in pairs:
        _row_label_deviations(table, d, row, reported, result)
        columns = block.columns
        if len(d.values) < len(columns):
            result.deviations.append(Deviation(
                "cells-missing", table.id, row.display, None, seen=str(len(d.values)), official=str(len(columns)),
                where=(d.index, d.labels[-1].col if d.labels else 0)))
        values = _by_position(columns, d.values)
        if block.id in reordered and (d.gridded or len(d.values) == len(columns)):
            cells = d.values if d.gridded else tuple(replace(v, col=k) for k, v in enumerate(d.values))
            values = _by_header(columns, cells, places[block.id])
        for column, tc in values.items():
            cell: Cell | None = cells_by.get((block.id, row.id, column.id))
            if cell is not None:
                result.texts[cell.id] = one_line(tc.text)
                result.places[cell.id] = (d.index, tc.col)
    for d in unknown:
        result.deviations.append(Deviation("row-unknown", table.id, None, None, seen="·".join(d.path) or "（无标签）",
                                           where=(d.index, 0)))
    for block, row in missing:
        result.deviations.append(Deviation("row-missing", table.id, row.display, None, official="·".join(row.path)))


def _by_position(columns: tuple[Column, ...], values: tuple[TCell, ...]) -> dict[Column, TCell]:
    """Values in the official column order; a row short of cells lacks its first columns."""
    offset = len(columns) - len(values)
    return {column: values[k - offset] for k, column in enumerate(columns) if k >= offset}


def _column_places(block: Block, headers: list[tuple[int, TCell]]) -> dict[str, tuple[int, int]]:
    """The grid columns [first, end) under each official column's header, found by walking its
    label path down the header cells, each level inside the one above. A reworded group header is
    passed over; a column whose own header is missing or ambiguous is left out."""
    cells = [c for _, c in headers]
    places: dict[str, tuple[int, int]] = {}
    for column in block.columns:
        first, end = 0, 1 << 30
        for level, label in enumerate(column.path):
            want = normalize_label(label)
            hits = [c for c in cells if normalize_label(c.text) == want and first <= c.col and c.col + c.span <= end]
            if len(hits) == 1:
                first, end = hits[0].col, hits[0].col + hits[0].span
            elif hits or level == len(column.path) - 1:
                break
        else:
            places[column.id] = (first, end)
    return places


def _text_places(block: Block, headers: list[tuple[int, TCell]]) -> dict[str, tuple[int, int]]:
    """Text without cell positions: sibling columns (same group header) whose headers are unique in
    the block and stand in one header row take their group's official slots in the order
    published, so two swapped siblings swap their numbers. Places are indexes among a row's values."""
    leaves = Counter(normalize_label(c.label) for c in block.columns)
    unique = {normalize_label(c.label): c for c in block.columns if leaves[normalize_label(c.label)] == 1}
    index = {c.id: k for k, c in enumerate(block.columns)}
    rows: dict[tuple[int, tuple[str, ...]], list[Column]] = {}
    for r, cell in headers:
        column = unique.get(normalize_label(cell.text))
        if column is not None and column not in rows.get((r, column.path[:-1]), []):
            rows.setdefault((r, column.path[:-1]), []).append(column)
    places: dict[str, tuple[int, int]] = {}
    for columns in rows.values():
        for slot, column in zip(sorted(index[c.id] for c in columns), columns):
            places[column.id] = (slot, slot + 1)
    return places


def _out_of_order(block: Block, places: dict[str, tuple[int, int]], table: Table, result: TableMatch) -> bool:
    """Whether the published headers put the official columns in another order (reported once)."""
    found = [c for c in block.columns if c.id in places]
    published = sorted(found, key=lambda c: places[c.id][0])
    if len(found) < 2 or published == found:
        return False
    moved = [k for k, (c, p) in enumerate(zip(found, published)) if c != p]
    leaves = Counter(c.label for c in block.columns)

    def name(c: Column) -> str:  # 结果维持 appears under three groups in table 四
        return "·".join(c.path[-2:]) if leaves[c.label] > 1 and len(c.path) > 1 else c.label

    result.deviations.append(Deviation(
        "column-order", table.id, None, name(found[moved[0]]), seen="、".join(name(published[k]) for k in moved),
        official="、".join(name(found[k]) for k in moved)))
    return True


def _by_header(columns: tuple[Column, ...], values: tuple[TCell, ...],
               places: dict[str, tuple[int, int]]) -> dict[Column, TCell]:
    """Values under the header of their column; columns whose header was not found take the
    remaining cells in order."""
    out: dict[Column, TCell] = {}
    for column in columns:
        if column.id in places:
            first, end = places[column.id]
            hit = next((v for v in values if first <= v.col < end), None)
            if hit is not None:
                out[column] = hit
    taken = {id(v) for v in out.values()}
    rest = tuple(v for v in values if id(v) not in taken)
    out.update(_by_position(tuple(c for c in columns if c not in out), rest))
    return out


def _row_label_deviations(table: Table, d: _DataRow, row: Row, reported: set, result: TableMatch) -> None:
    seen, want = d.path, row.path
    if normalize_label("".join(seen)) == normalize_label("".join(want)):
        return
    if 0 < len(seen) < len(want) and [normalize_label(x) for x in seen] == [normalize_label(x) for x in want[-len(seen):]]:
        return  # a row continuing a merged parent ("（二）部分公开" under "三、本年度办理结果") copied without it
    if len(seen) == len(want):
        for level, (s, w) in enumerate(zip(seen, want)):
            if normalize_label(s) != normalize_label(w) and (level, w) not in reported:
                reported.add((level, w))
                col = _label_cell_col(d, s)
                result.deviations.append(Deviation("label", table.id, "·".join(want[: level + 1][-2:]), None,
                                                   seen=s, official=w, where=(d.index, col)))
        return
    key = (-1, "·".join(want))
    if key not in reported:
        reported.add(key)
        result.deviations.append(Deviation("label", table.id, row.display, None, seen="·".join(seen),
                                           official="·".join(want), where=(d.index, 0)))


def _label_cell_col(d: _DataRow, text: str) -> int:
    for cell in d.labels:
        if one_line(cell.text) == text:
            return cell.col
    return d.labels[0].col if d.labels else 0


def _match_headers(table: Table, block: Block, seen: list[tuple[int, TCell]], title: tuple[int, str] | None,
                   result: TableMatch, has_data: bool) -> None:
    """Header labels of one block as a multiset: missing, unknown, and pairs that differ in wording."""
    if block.title:
        if title is None:
            if has_data:
                result.deviations.append(Deviation("header-missing", table.id, None, block.title,
                                                   official=block.title))
        elif normalize_label(title[1]) != normalize_label(block.title):
            result.deviations.append(Deviation("label", table.id, None, block.title, seen=title[1],
                                               official=block.title, where=(title[0], 0)))
    expected = ([block.corner] if block.corner else []) + [n.label for n in _nodes(block.column_tree) if n.label]
    want = Counter(normalize_label(x) for x in expected)
    official_text = {normalize_label(x): x for x in expected}
    got = [(r, c, normalize_label(c.text)) for r, c in seen]
    unknown = []
    for r, c, label in got:
        plain = normalize_label(without_guidance(c.text))
        if want[label] > 0:
            want[label] -= 1
        elif plain != label and want[plain] > 0:  # the template's guidance left in the header
            want[plain] -= 1
            result.deviations.append(Deviation("label", table.id, None, official_text[plain], seen=one_line(c.text),
                                               official=official_text[plain], where=(r, c.col)))
        else:
            unknown.append((r, c, label))
    unknown = _join_split_cells(unknown, want)
    missing = [label for label, k in want.items() for _ in range(k)]
    for r, c, label in unknown:
        best = max(missing, key=lambda m: similarity(m, label), default=None)
        if best is not None and similarity(best, label) >= HEADER_MATCH:
            missing.remove(best)
            official = official_text[best]
            result.deviations.append(Deviation("label", table.id, None if best != normalize_label(block.corner or "")
                                               else "表头", official, seen=one_line(c.text), official=official,
                                               where=(r, c.col)))
        else:
            result.deviations.append(Deviation("header-unknown", table.id, None, None, seen=one_line(c.text),
                                               where=(r, c.col)))
    if has_data:
        for label in missing:
            result.deviations.append(Deviation("header-missing", table.id, None, official_text[label],
                                               official=official_text[label]))


def _join_split_cells(unknown: list, want: Counter) -> list:
    """Neighbouring unknown header cells whose joined text is an official label are one cell."""
    out: list = []
    i = 0
    while i < len(unknown):
        r, c, label = unknown[i]
        if i + 1 < len(unknown) and unknown[i + 1][0] == r:
            joined = label + unknown[i + 1][2]
            if want[joined] > 0:
                want[joined] -= 1
                i += 2
                continue
        out.append((r, c, label))
        i += 1
    return out


__all__ = ["Deviation", "Paragraph", "RawTable", "TCell", "TableMatch", "looks_like_value", "match_table",
           "raw_table", "score_table", "table_labels"]

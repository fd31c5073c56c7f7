"""Plain text as copied out of Word, a web page or a PDF viewer.

Every way a table comes out of a copy is read here; everything else is a paragraph:

- Word's "copy as text" (the seed report): each cell on its own line behind a TAB, rows
  separated by a blank line; a cell that held a line break continues on the next line.
- a web page row as one line of TAB-separated cells, or of cells between ``|`` ("规章 | 0 | 0 |",
  "| 规章 | 0 |"); runs of ``|`` are empty cells;
- one cell per line ending in ``|``, a line of only ``|`` ending the row;
- one cell per line (or per paragraph) with lines of only ``|`` (or blank lines) between the
  cells and nothing marking the rows: the rows are rebuilt from the cells (:func:`stream_rows`);
- cells separated by single spaces ("规章 0 0 0"), as PDF viewers and some pages copy them.
"""

from __future__ import annotations

import re

from nianbao.importer.normalize import clean_text
from nianbao.importer.tables import Paragraph, RawTable, TCell, looks_like_value

# A line that starts a part ("三、收到和处理…") never continues a table cell; the numbered row
# labels of table 三 ("三、本年度办理结果") look alike but name none of the parts.
_PART_HEADING = re.compile(r"^[\s\u3000]*[一二三四五六七八九十]+、\s*(?:[^\s]{0,6}(?:总体情况|主动公开政府信息|基本情况|"
                           r"收到和处理|依申请公开|行政复议|行政诉讼|存在的?主要问题|存在问题|其他需要报告|其他事项|改进))")
_PIPES = re.compile(r"^[\s|｜]*[|｜][\s|｜]*$")
# A block title of table 二 ("第二十条第（一）项") is a row of its own.
_BLOCK_TITLE = re.compile(r"^第二十条\s*第\s*[(（]\s*[一二三四五六七八九十]+\s*[)）]\s*项$")
# Row labels of table 三 are numbered: "三、本年度办理结果" > "（三）不予公开" > "1.属于国家秘密".
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d{1,2}[.．、])")
_SENTENCE = re.compile(r"[。；;！？!?]")
# Blank-line separated paragraphs are cells only when they read like labels, not like clauses.
_CLAUSES = re.compile(r"[。；;！？!?]|[，,].*[，,]")
_NOTE = re.compile(r"[(（][^)）]*[)）]")  # "（区分处理的，只计这一情形，不计其他情形）" is part of a label
#: A cell copied one per line is short; longer lines are paragraphs.
CELL_CHARS = 60
#: Parts of a cell that wrapped onto several lines ("商业" / "企业") are this short.
WRAPPED_PART = 8
#: A run of blank-line separated cells counts as a table from this many cells, with numbers.
STREAM_MIN_CELLS = 8


def parse_text(text: str) -> list[Paragraph | RawTable]:
    """Paragraphs and tables of a plain-text report, in document order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    items: list[Paragraph | RawTable] = []
    i = 0
    # A blank-separated stream refused from line i is refused from any later line inside it too
    # (fewer cells, no more numbers): without this, a long run of short lines costs O(n²).
    stream_refused_until = 0
    while i < len(lines):
        for reader in (_tab_table, _pipe_rows, _pipe_cells, _pipe_stream, _blank_stream, _space_table):
            if reader is _blank_stream:
                if i < stream_refused_until:
                    continue
                found, scanned = _blank_stream_scan(lines, i)
                if found is None:
                    stream_refused_until = scanned
            else:
                found = reader(lines, i)
            if found is not None:
                rows, i = found
                _add_table(items, rows, reader in (_pipe_rows, _pipe_cells))
                break
        else:
            cleaned = clean_text(lines[i])
            if cleaned:
                items.append(Paragraph(cleaned, len(items)))
            i += 1
    return items


def _add_table(items: list, rows: list[list[str]], pipes: bool = False) -> None:
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return
    if pipes and not any(looks_like_value(c) and c.strip() for r in rows for c in r[1:]) and len(rows) <= 8:
        for r in rows:  # a page header between pipes ("首页 | 报告标题 |"), not a table
            text = clean_text(" ".join(c for c in r if c.strip()))
            if text:
                items.append(Paragraph(text, len(items)))
        return
    cells = tuple(tuple(TCell(clean_text(t), k) for k, t in enumerate(r)) for r in rows)
    items.append(RawTable(cells, len(items)))


def _blank(line: str) -> bool:
    return not line.strip(" \t\u3000\u00a0")


# --------------------------------------------------------------------------- TAB (Word, pages)


def _tab_table(lines: list[str], i: int):
    if "\t" not in lines[i]:
        return None
    rows: list[list[str]] = []
    row: list[str] = []
    last_was_cell = False
    j = i
    while j < len(lines):
        line = lines[j]
        if "\t" in line:
            if line.startswith("\t") and "\t" not in line[1:]:
                row.append(line[1:])  # Word: one cell per line
            else:
                if row:
                    rows.append(row)
                row = []
                rows.append(line.split("\t"))  # web page: one row per line
            last_was_cell = True
        elif _blank(line):
            if row:
                rows.append(row)
            row = []
            last_was_cell = False
        elif last_was_cell and row and not _PART_HEADING.match(line):
            row[-1] += "\n" + line  # a line break inside the cell
        else:
            break
        j += 1
    if row:
        rows.append(row)
    return rows, j


# --------------------------------------------------------------------------- pipes


def _split_pipes(line: str) -> list[str]:
    cells = re.split(r"[|｜]", line.strip(" \u3000\u00a0"))
    if cells and not cells[0].strip() and line.strip().startswith(("|", "｜")):
        cells = cells[1:]  # "| 规章 | 0 |"
    if cells and not cells[-1].strip():
        cells = cells[:-1]  # the closing pipe
    cells = [c.strip(" \u3000\u00a0") for c in cells]
    values = cells[1:]
    if any(v for v in values):  # trailing empty cells after filled ones are the page's spare columns
        while cells and not cells[-1]:
            cells.pop()
    return cells


def _kind(line: str) -> str:
    """P: only pipes; R: several cells between pipes; C: one cell and its closing pipe; T: text; B: blank."""
    if _blank(line):
        return "B"
    if _PIPES.match(line):
        return "P"
    if "|" not in line and "｜" not in line:
        return "T"
    inner = line.strip(" \u3000\u00a0").strip("|｜").strip()
    return "R" if re.search(r"[|｜]", inner) else "C"


def _pipe_rows(lines: list[str], i: int):
    """A row per line: "规章 | 0 | 0 | 0 |" (a one-cell row "第二十条第(五)项 |" between them)."""
    first = _kind(lines[i])
    if first != "R" and not (first == "C" and i + 1 < len(lines) and _kind(lines[i + 1]) == "R"):
        return None
    rows, j = [], i
    while j < len(lines) and _kind(lines[j]) in ("R", "C", "P"):
        if _kind(lines[j]) == "P":
            if _kind(lines[j - 1]) not in ("C", "P"):
                break
            rows[-1] += [""] * (lines[j].count("|") + lines[j].count("｜"))  # "规章 |" then "|" "|": empty cells
        else:
            rows.append(_split_pipes(lines[j]))
        j += 1
    return rows, j


def _pipe_cells(lines: list[str], i: int):
    """A cell per line ending in "|"; a line of only pipes ends the row (extra pipes: empty cells)."""
    if _kind(lines[i]) != "C" or not any(_kind(x) == "P" for x in lines[i + 1: i + 12]):
        return None
    rows: list[list[str]] = []
    row: list[str] = []
    j = i
    while j < len(lines):
        kind = _kind(lines[j])
        if kind == "C":
            row.append(_split_pipes(lines[j])[0] if _split_pipes(lines[j]) else "")
        elif kind == "P":
            row += [""] * (lines[j].count("|") + lines[j].count("｜") - 1)
            rows.append(row)
            row = []
        else:
            break
        j += 1
    if row:
        rows.append(row)
    return rows, j


def _pipe_stream(lines: list[str], i: int):
    """A cell per line (or a few wrapped lines) with a line of only "|" after each cell."""
    cells: list[str] = []
    j = i
    while j < len(lines):
        run = []
        k = j
        while k < len(lines) and _kind(lines[k]) == "T" and len(run) < 4:
            run.append(k)
            k += 1
        if not run or k >= len(lines) or _kind(lines[k]) != "P":
            break
        cell_lines = _cell_tail(lines, run)
        if len(cell_lines) < len(run):  # paragraphs before the cell: the stream ends here
            if not cells:
                return None
            break
        cells.append("\n".join(lines[x].strip() for x in cell_lines))
        j = k + 1
    if len(cells) < STREAM_MIN_CELLS or not _has_numbers(cells):
        return None
    return stream_rows(cells), j


def _cell_tail(lines: list[str], run: list[int]) -> list[int]:
    """The lines of ``run`` that are one cell: the last, and short wrapped parts before it."""
    last = lines[run[-1]].strip()
    if len(last) > CELL_CHARS * 2 or _PART_HEADING.match(last) or _SENTENCE.search(last):
        return []
    taken = [run[-1]]
    for x in reversed(run[:-1]):
        part = lines[x].strip()
        if len(part) > WRAPPED_PART or _PART_HEADING.match(part) or _SENTENCE.search(part):
            break
        taken.insert(0, x)
    return taken


def _has_numbers(cells: list[str]) -> bool:
    return sum(1 for c in cells if c.strip() and looks_like_value(c)) >= 3


def _blank_stream(lines: list[str], i: int):
    """Every cell a paragraph of its own, blank lines between (a page's table copied as text)."""
    return _blank_stream_scan(lines, i)[0]


def _blank_stream_scan(lines: list[str], i: int):
    """(rows and the next line, or None; the line the scan reached)."""
    if _blank(lines[i]) or not _is_cell(lines[i]):
        return None, i
    cells: list[str] = []
    j = i
    while j < len(lines):
        block = []
        k = j
        while k < len(lines) and not _blank(lines[k]) and len(block) < 4:
            block.append(lines[k].strip())
            k += 1
        if not block or not all(_is_cell(x) for x in block) or (len(block) > 1 and any(len(x) > WRAPPED_PART
                                                                                        for x in block[:-1])):
            break
        cells.append("\n".join(block))
        j = k
        while j < len(lines) and _blank(lines[j]):
            j += 1
        if not any(_blank(x) for x in lines[k:k + 1]):
            break  # no blank line after the block: not a blank-separated stream
    if len(cells) < STREAM_MIN_CELLS or not _has_numbers(cells):
        return None, j
    return (stream_rows(cells), j), j


def _is_cell(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= CELL_CHARS and not _PART_HEADING.match(s) and not _CLAUSES.search(_NOTE.sub("", s)) \
        and _kind(line) == "T"


# --------------------------------------------------------------------------- spaces


def _space_cells(line: str) -> list[str] | None:
    s = line.strip(" \u3000\u00a0")
    if not s or len(s) > 120 or _SENTENCE.search(s) or _kind(line) != "T" or _PART_HEADING.match(s):
        return None
    cells = re.split(r"[ \u3000\u00a0]+", s)
    return cells if len(cells) >= 2 else None


def _space_table(lines: list[str], i: int):
    """Cells separated by spaces: a run of such lines in which rows end in numbers."""
    rows, j = [], i
    if _BLOCK_TITLE.match(lines[i].strip().replace(" ", "")) and i + 1 < len(lines) and _space_cells(lines[i + 1]):
        rows, j = [[lines[i].strip()]], i + 1
    while j < len(lines):
        cells = _space_cells(lines[j])
        if cells is None:
            s = lines[j].strip()
            if rows and _BLOCK_TITLE.match(s.replace(" ", "")):
                rows.append([s])  # "第二十条第(五)项" between the rows
                j += 1
                continue
            break
        rows.append(cells)
        j += 1
    numbered = [r for r in rows if len(r) >= 2 and all(looks_like_value(c) for c in r[1:])]
    if len(rows) < 3 or len(numbered) < 2:
        return None
    return rows, j


# --------------------------------------------------------------------------- cells to rows


def stream_rows(cells: list[str]) -> list[list[str]]:
    """Rows rebuilt from a table's cells in reading order, when nothing marks the rows.

    A run of label cells before numbers is the header (which may close the block title of
    table 二, a row of its own) and the row's own labels: the last label, and numbered labels
    of a higher level before it ("三、本年度办理结果", "（一）予以公开"). A run of more than eight
    numbers has no row label (table 四 is all numbers)."""
    cells = _join_markers(cells)
    runs: list[tuple[bool, list[str]]] = []
    for cell in cells:
        is_value = looks_like_value(cell)
        if runs and runs[-1][0] == is_value:
            runs[-1][1].append(cell)
        else:
            runs.append((is_value, [cell]))
    rows: list[list[str]] = []
    k = 0
    while k < len(runs):
        is_value, run = runs[k]
        if is_value:
            rows.append(list(run))
            k += 1
            continue
        values = runs[k + 1][1] if k + 1 < len(runs) else []
        labels = list(run)
        own: list[str] = []
        if values and len(values) <= 8:
            own = [labels.pop()]
            while labels and _NUMBERED.match(labels[-1]) and _NUMBERED.match(own[0]) and \
                    _level(labels[-1]) < _level(own[0]):
                own.insert(0, labels.pop())
        header: list[str] = []
        for label in labels:
            if _BLOCK_TITLE.match(label.replace(" ", "").replace("\n", "")):
                if header:
                    rows.append(header)
                rows.append([label])
                header = []
            else:
                header.append(label)
        if header:
            rows.append(header)
        if own or values:
            rows.append(own + list(values))
        k += 2 if values else 1
    return rows


def _join_markers(cells: list[str]) -> list[str]:
    """A number marker split from its label ("（三）" / "不予公开") is one cell."""
    out: list[str] = []
    for cell in cells:
        if out and re.fullmatch(r"\s*[(（]\s*[一二三四五六七八九十]+\s*[)）]\s*", out[-1]) and not looks_like_value(cell):
            out[-1] = out[-1].strip() + cell.strip()
        else:
            out.append(cell)
    return out


def _level(label: str) -> int:
    if re.match(r"^[一二三四五六七八九十]+、", label):
        return 0
    if re.match(r"^[(（]", label):
        return 1
    return 2


__all__ = ["parse_text", "stream_rows"]

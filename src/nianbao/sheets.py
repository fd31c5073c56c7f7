"""The fixed sheets of every nianbao workbook and how a reference is named in it.

The template writes them; the reader, drift detection and the report find them by these names.
They live here, below all of those, so reading a returned file never imports the writer.
"""

from __future__ import annotations

from nianbao.expr import Ref
from nianbao.format.model import defined_name

INSTRUCTIONS_SHEET = "填报说明"
NARRATIVE_SHEET = "正文"
CHECK_SHEET = "检查"
META_SHEET = "_meta"


def ref_name(ref: Ref) -> str:
    """The defined name a rule's reference is written with in formulas."""
    return defined_name(ref.key)


# ----------------------------------------------------------------------------- the _meta cell map

#: First cell of the row that starts the compact cell map (templates from 2026-12 on); older
#: templates have a header row ("kind", "id", "sheet", "cell", "name") and one row an entry.
CELL_MAP = "cellmap"
CELL_MAP_FIELDS = ("kind", "id", "sheet", "cell", "name")
_FIELD = "|"
#: The second cell of that row, for whoever opens the sheet: what each line holds.
CELL_MAP_LEGEND = _FIELD.join(CELL_MAP_FIELDS)
#: Characters of one cell of the map: well under Excel's 32,767, split between entries.
_CELL_TEXT = 8000


def cell_map_texts(entries: list[tuple[str, str, str, str, str]]) -> list[str]:
    """The cell map as the texts of a few cells, one entry a line, fields split by "|".

    Why: 261 entries in five columns were 1,300 cells, the most of any sheet, and reading them
    was a sixth of checking a returned file; a few texts read in microseconds."""
    lines = []
    for entry in entries:
        if len(entry) != len(CELL_MAP_FIELDS) or any(_FIELD in f or "\n" in f or "\r" in f for f in entry):
            raise ValueError(f"cell map entry cannot be written as one line: {entry!r}")
        lines.append(_FIELD.join(entry))
    texts = [lines[0]] if lines else []
    for line in lines[1:]:
        if len(texts[-1]) + 1 + len(line) > _CELL_TEXT:
            texts.append(line)
        else:
            texts[-1] += "\n" + line
    return texts


def cell_map_entries(text: str) -> list[tuple[str, ...]]:
    """The entries of one text of the map, five fields each: missing fields are empty and extra
    ones dropped, as the row layout reads five columns; blank lines are skipped."""
    width = len(CELL_MAP_FIELDS)
    return [tuple((line.split(_FIELD) + [""] * width)[:width]) for line in text.splitlines() if line]

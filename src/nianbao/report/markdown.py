"""ReportDocument → Markdown (GitHub tables) for reuse in other documents and systems.

Merged headers cannot be expressed in a Markdown table, so each table is flattened: a column
is named by its header path (申请人情况·法人或其他组织·商业企业) and a row by its label path
(三、本年度办理结果·（三）不予公开·1.属于国家秘密). Text is escaped so that a narrative can never
become markup (``<script>`` stays text, a leading ``#`` is not a heading).
"""

from __future__ import annotations

import re

from nianbao.report.model import DRAFT_MARK, DRAFT_NOTE, Heading, Paragraph, ReportDocument, TableGrid

_INLINE = re.compile(r"([\\`*_\[\]|<>&])")
_BLOCK_START = re.compile(r"^(#{1,6}\s|>|[-+*]\s|\d+[.)]\s|={3,}|-{3,})")


def escape_md(text: str) -> str:
    text = _INLINE.sub(lambda m: {"<": "&lt;", ">": "&gt;", "&": "&amp;"}.get(m.group(1), "\\" + m.group(1)),
                       text)
    if _BLOCK_START.match(text):
        text = "\\" + text
    return text.replace("\n", " ")


def render_markdown(doc: ReportDocument) -> str:
    out = [f"# {escape_md(doc.display_title)}", ""]
    if doc.draft:
        out += [f"> **{DRAFT_MARK}**：{escape_md(DRAFT_NOTE)}", ""]
    out += [escape_md(doc.intro), ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * (block.level + 1)} {escape_md(block.text)}", ""]
        elif isinstance(block, Paragraph):
            out += [f"*{escape_md(block.text)}*" if block.missing else escape_md(block.text), ""]
        elif isinstance(block, TableGrid):
            out += table_markdown(block)
    return "\n".join(out).rstrip("\n") + "\n"


def table_markdown(grid: TableGrid) -> list[str]:
    out: list[str] = []
    for block in grid.flat:
        if block.title:
            out += [f"**{escape_md(block.title)}**", ""]
        has_labels = bool(block.columns[0])
        columns = list(block.columns if has_labels else block.columns[1:])
        out.append("| " + " | ".join(escape_md(c) for c in columns) + " |")
        out.append("|" + "|".join([" --- "] * has_labels + [" :---: "] * (len(columns) - has_labels)) + "|")
        for label, texts in block.rows:
            cells = ([escape_md(label)] if has_labels else []) + [escape_md(t) for t in texts]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        if block.note:
            out += [f"注：{escape_md(block.note)}", ""]
    return out

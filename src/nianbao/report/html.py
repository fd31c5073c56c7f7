"""ReportDocument → one standalone HTML page for the government website.

No external resources (styles inline in <style>), every text escaped with ``html.escape``,
tables with ``thead``/``tbody``, ``th`` carrying ``scope`` and ``colspan``/``rowspan`` exactly
as in the official table, and print CSS (A4, repeated table headers, rows kept whole).
"""

from __future__ import annotations

from html import escape

from nianbao.report.model import DRAFT_MARK, DRAFT_NOTE, Heading, Paragraph, ReportDocument, TableGrid

CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f4f4; color: #000;
  font-family: "仿宋_GB2312", "仿宋", FangSong, STFangsong, "Noto Serif CJK SC", "Source Han Serif SC", serif; }
main { max-width: 50rem; margin: 1.5rem auto; padding: 2.5rem 3rem; background: #fff;
  font-size: 1.15rem; line-height: 1.9; }
h1 { font-family: "方正小标宋简体", "华文中宋", STZhongsong, "Noto Serif CJK SC", serif; font-weight: normal;
  font-size: 1.8rem; text-align: center; line-height: 1.4; margin: 0 0 1.5rem; }
h2 { font-family: "黑体", SimHei, "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; font-weight: normal;
  font-size: 1.15rem; text-indent: 2em; margin: 0.6rem 0 0; }
h3 { font-family: "楷体_GB2312", "楷体", KaiTi, STKaiti, serif; font-weight: normal; font-size: 1.15rem;
  text-indent: 2em; margin: 0.3rem 0 0; }
p { text-indent: 2em; margin: 0; text-align: justify; }
p.missing { color: #a00; }
.draft { border: 2px solid #c00; color: #c00; padding: 0.5rem 1rem; margin: 0 0 1.5rem; text-align: center;
  font-family: "黑体", SimHei, sans-serif; }
.table-wrap { overflow-x: auto; margin: 0.6rem 0 1rem; }
table { border-collapse: collapse; width: 100%; font-family: "宋体", SimSun, "Noto Serif CJK SC", serif;
  font-size: 0.85rem; line-height: 1.4; }
th, td { border: 1px solid #000; padding: 0.25rem 0.3rem; vertical-align: middle; }
th { font-weight: normal; text-align: center; }
thead th, th.title, th.col { font-weight: bold; }
th.row { text-align: left; }
th.corner { font-weight: normal; font-size: 0.8rem; }
td { text-align: center; font-variant-numeric: tabular-nums; }
@media print {
  @page { size: A4; margin: 37mm 26mm 35mm 28mm; }
  body { background: #fff; }
  main { max-width: none; margin: 0; padding: 0; font-size: 16pt; line-height: 28pt; }
  h1 { font-size: 22pt; }
  h2, h3 { font-size: 16pt; break-after: avoid; page-break-after: avoid; }
  table { font-size: 10.5pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .table-wrap { overflow: visible; }
  .draft { border-width: 1pt; }
}
""".strip()


def render_html(doc: ReportDocument) -> str:
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="nianbao ({escape(doc.format_key)})">',
        f"<title>{escape(doc.display_title)}</title>",
        f"<style>\n{CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    if doc.draft:
        out.append(f'<div class="draft" role="note"><strong>{DRAFT_MARK}</strong>：{escape(DRAFT_NOTE)}</div>')
    out.append(f"<h1>{escape(doc.display_title)}</h1>")
    out.append(f'<p class="intro">{escape(doc.intro)}</p>')
    open_section = False
    for block in doc.blocks:
        if isinstance(block, Heading) and block.level == 1:
            if open_section:
                out.append("</section>")
            out.append(f'<section id="part-{escape(block.part)}" aria-labelledby="h-{escape(block.part)}">')
            out.append(f'<h2 id="h-{escape(block.part)}">{escape(block.text)}</h2>')
            open_section = True
        elif isinstance(block, Heading):
            out.append(f"<h3>{escape(block.text)}</h3>")
        elif isinstance(block, Paragraph):
            cls = ' class="missing"' if block.missing else ""
            out.append(f"<p{cls}>{escape(block.text)}</p>")
        elif isinstance(block, TableGrid):
            out.append(table_html(block))
    if open_section:
        out.append("</section>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def table_html(grid: TableGrid) -> str:
    total = sum(grid.widths)
    lines = ['<div class="table-wrap">', f'<table id="table-{escape(grid.table_id)}" aria-label="{escape(grid.heading)}">',
             "<colgroup>"]
    lines += [f'<col style="width:{w * 100 / total:.1f}%">' for w in grid.widths]
    lines.append("</colgroup>")
    head = grid.repeat_rows
    if head:
        lines.append("<thead>")
    in_body = False
    for r in range(grid.nrows):
        if r == head and head:
            lines.append("</thead>")
        # Tables made of blocks (表二): each block is its own row group, starting at its title.
        if r >= head and (grid.row_kinds[r] == "title" or not in_body):
            if in_body:
                lines.append("</tbody>")
            lines.append("<tbody>")
            in_body = True
        cells = "".join(_cell_html(gc, grid.row_kinds[r]) for gc in grid.starting_in(r))
        lines.append(f"<tr>{cells}</tr>")
    if in_body:
        lines.append("</tbody>")
    lines += ["</table>", "</div>"]
    return "\n".join(lines)


def _cell_html(gc, row_kind: str) -> str:
    span = ""
    if gc.colspan > 1:
        span += f' colspan="{gc.colspan}"'
    if gc.rowspan > 1:
        span += f' rowspan="{gc.rowspan}"'
    text = escape(gc.text)
    if gc.role == "number":
        return f'<td{span} data-cell="{escape(gc.cell_id or "")}">{text}</td>'
    if gc.role == "label":
        return f'<th scope="row" class="row"{span}>{text}</th>'
    if gc.role == "title":
        return f'<th scope="colgroup" class="title"{span}>{text}</th>'
    if gc.role == "corner":
        return f'<th scope="col" class="corner"{span}>{text}</th>'
    scope = "colgroup" if gc.group else "col"
    return f'<th scope="{scope}" class="col"{span}>{text}</th>'

"""The three readers: text as Word copies it, web pages with colspan/rowspan, Word with merged cells."""

from docx import Document

from nianbao.importer.docx import read_docx
from nianbao.importer.html import parse_html
from nianbao.importer.tables import Paragraph, RawTable
from nianbao.importer.text import parse_text

WORD_COPY = "标题\n\n\t行政复议\n\t行政诉讼\n\n\t结果\n维持\n\t总计\n\n\t0\n\t\n\n\u3000\u3000三、收到和处理\n"


def test_text_from_word_cells_rows_and_line_breaks_inside_cells():
    items = parse_text(WORD_COPY)
    assert isinstance(items[0], Paragraph) and items[0].text == "标题"
    table = items[1]
    assert isinstance(table, RawTable)
    assert [[c.text for c in row] for row in table.rows] == [["行政复议", "行政诉讼"], ["结果\n维持", "总计"], ["0", ""]]
    assert items[2].text == "三、收到和处理"


def test_text_from_a_web_page_one_row_per_line():
    items = parse_text("表\n信息内容\t本年处理决定数量\n行政许可\t3\n\n后文")
    assert [[c.text for c in row] for row in items[1].rows] == [["信息内容", "本年处理决定数量"], ["行政许可", "3"]]


def test_html_rowspan_gives_one_continued_cell_per_merged_cell():
    html = """<p>标题</p><table>
      <tr><td colspan="3" rowspan="2">说明</td><td>a</td></tr>
      <tr><td>b<br>c</td></tr>
      <tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>1</td></tr>
      <tr><td colspan="2">（二）部分公开</td><td>2</td></tr></table>"""
    items = parse_html(html)
    rows = items[1].rows
    assert [(c.text, c.continued, c.span) for c in rows[1]] == [("", True, 3), ("b\nc", False, 1)]
    assert [(c.text, c.continued) for c in rows[3]] == [("", True), ("（二）部分公开", False), ("2", False)]


def test_docx_merged_cells_are_seen_once(tmp_path):
    doc = Document()
    doc.add_paragraph("标题")
    table = doc.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "行政复议"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "三、本年度办理结果"
    table.cell(1, 1).text, table.cell(1, 2).text = "（一）予以公开", "1"
    table.cell(2, 1).text, table.cell(2, 2).text = "（二）部分公开", "2"
    path = tmp_path / "t.docx"
    doc.save(path)
    items = read_docx(path)
    rows = items[1].rows
    assert [(c.text, c.span) for c in rows[0]] == [("行政复议", 3)]
    assert [(c.text, c.continued) for c in rows[2]] == [("", True), ("（二）部分公开", False), ("2", False)]

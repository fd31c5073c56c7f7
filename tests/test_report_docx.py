"""The .docx read back with python-docx: every table cell, merges, section order and styles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from nianbao.report.docx import write_docx
from nianbao.report.model import build_document
from nianbao.submission import Submission


@pytest.fixture(scope="module")
def sub(fmt2021):
    values = {c.id: Decimal(i % 7) for i, c in enumerate(fmt2021.input_cells)}
    narratives = {n.id: f"{n.title}正文第一段。\n第二段。" for n in fmt2021.narratives}
    unit = {"name": "丰城市教育局", "compiler": "丰城市教育局办公室", "phone": "0795-6666666", "address": "丰城市某路1号",
            "url": "丰城市人民政府门户网站"}
    return Submission(format=fmt2021, year=2023, unit=unit, values=values, narratives=narratives)


@pytest.fixture(scope="module")
def built(sub, tmp_path_factory):
    doc = build_document(sub)
    out = tmp_path_factory.mktemp("docx") / "r.docx"
    write_docx(doc, out)
    return doc, Document(str(out))


def test_every_table_cell_label_number_and_merge_matches_the_model(built):
    doc, document = built
    assert len(document.tables) == 3
    for grid, table in zip(doc.tables, document.tables):
        assert (len(table.rows), len(table.columns)) == (grid.nrows, grid.ncols)
        cells = table._cells  # one grid computation (Table.cell recomputes it on every call)
        at = {(r, c): cells[r * grid.ncols + c] for r in range(grid.nrows) for c in range(grid.ncols)}
        for (r, c), cell in at.items():
            expected = grid.anchor(r, c)
            assert cell.text == expected.text, (grid.table_id, r, c)
            # Positions of one merged cell share one underlying w:tc.
            assert cell._tc is at[expected.row, expected.col]._tc, (grid.table_id, r, c)
        # ...and different cells of the model are different w:tc elements.
        tcs = [at[gc.row, gc.col]._tc for gc in grid.cells]
        assert len({id(tc) for tc in tcs}) == len(grid.cells), grid.table_id


def test_merges_are_written_as_grid_span_and_vertical_merge(built):
    doc, document = built
    t3 = document.tables[1]
    first_row = t3.rows[0]._tr
    tc = first_row.tc_lst[0]
    assert tc.grid_span == 3 and tc.vMerge == "restart"
    assert t3.rows[2]._tr.tc_lst[0].vMerge == "continue"
    assert first_row.tc_lst[1].grid_span == 7  # 申请人情况


def test_header_rows_repeat_and_no_row_splits(built):
    doc, document = built
    for grid, table in zip(doc.tables, document.tables):
        for i, row in enumerate(table.rows):
            trpr = row._tr.trPr
            assert trpr.find(qn("w:cantSplit")) is not None
            assert (trpr.find(qn("w:tblHeader")) is not None) == (i < grid.repeat_rows)
    assert [g.repeat_rows for g in doc.tables] == [0, 3, 3]


def test_numbers_are_centred_and_labels_left(built):
    doc, document = built
    t3 = document.tables[1]
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    number = t3.cell(5, 5).paragraphs[0]
    label = t3.cell(7, 2).paragraphs[0]
    assert number.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER and number.alignment is None
    assert label.alignment == WD_ALIGN_PARAGRAPH.LEFT


def test_section_order_title_intro_parts_and_sub_headings(built, sub):
    doc, document = built
    paras = document.paragraphs
    assert paras[0].text == "丰城市教育局2023年\n政府信息公开工作年度报告"  # broken after the year
    assert paras[0].style.name == "Report Title"
    assert paras[1].text == doc.intro
    h1 = [p.text for p in paras if p.style.name == "Heading 1"]
    assert h1 == [p.heading for p in sub.format.parts]
    h2 = [p.text for p in paras if p.style.name == "Heading 2"]
    assert h2 == [n.title for n in sub.format.narratives]
    body = [p.text for p in paras if p.style.name == "Normal" and p.text]
    assert body[1:3] == ["（一）主动公开正文第一段。", "第二段。"]
    # Tables sit right after their part heading.
    order = [child.tag.split("}")[1] + ":" + "".join(t.text or "" for t in child.iter(qn("w:t")))
             for child in document.element.body]
    assert order[order.index("p:二、主动公开政府信息情况") + 1].startswith("tbl:第二十条第（一）项")
    assert order[order.index("p:三、收到和处理政府信息公开申请情况") + 1].startswith("tbl:（本列数据的勾稽关系为")


def test_page_is_a4_with_official_margins_and_page_number_field(built):
    _, document = built
    s = document.sections[0]
    mm = [round(x.mm, 1) for x in (s.page_width, s.page_height, s.top_margin, s.bottom_margin, s.left_margin,
                                   s.right_margin)]
    assert mm == [210, 297, 37, 35, 28, 26]
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in ((s.footer, WD_ALIGN_PARAGRAPH.RIGHT), (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        instr = "".join(i.text for i in p._p.iter(qn("w:instrText")))
        assert instr.strip() == "PAGE" and p.text.startswith("— ") and p.text.endswith(" —")
        assert p.alignment == align  # GB/T 9704: odd pages right, even pages left
        assert all(r.font.size == Pt(14) for r in p.runs)  # 4号
        assert {r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in p.runs} == {"宋体"}
    assert s.footer.paragraphs[0].paragraph_format.right_indent == Pt(14)  # one character in
    assert s.even_page_footer.paragraphs[0].paragraph_format.left_indent == Pt(14)


def test_a_paragraph_holding_a_url_is_not_justified(sub, tmp_path):
    unit = {**sub.unit, "url": "丰城市人民政府门户网站（网址：http://www.jxfc.gov.cn/xxgk-show-123660.html）"}
    doc = build_document(Submission(format=sub.format, year=sub.year, unit=unit, values=sub.values,
                                    narratives=sub.narratives))
    write_docx(doc, tmp_path / "r.docx")
    document = Document(str(tmp_path / "r.docx"))
    body = document.paragraphs[1]  # the introduction names the website
    assert "http://" in body.text and body.alignment == WD_ALIGN_PARAGRAPH.LEFT
    plain = next(p for p in document.paragraphs[2:] if p.style.name == "Normal" and "正文第一段" in p.text)
    assert plain.alignment is None  # the style's justification


def test_fonts_are_set_for_east_asian_text(built):
    _, document = built
    expected = {"Normal": ("仿宋_GB2312", Pt(16)), "Report Title": ("方正小标宋简体", Pt(22)),
                "Heading 1": ("黑体", Pt(16)), "Heading 2": ("楷体_GB2312", Pt(16)),
                "Report Table Text": ("宋体", Pt(10.5))}
    for name, (font, size) in expected.items():
        style = document.styles[name]
        rfonts = style.element.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")) == font, name
        assert rfonts.get(qn("w:asciiTheme")) is None and rfonts.get(qn("w:eastAsiaTheme")) is None
        assert style.font.size == size
    normal = document.styles["Normal"].paragraph_format
    assert normal.first_line_indent == Pt(32)
    assert document.styles["Normal"].element.pPr.ind.get(qn("w:firstLineChars")) == "200"
    assert normal.line_spacing == Pt(28.9)


def test_a_draft_says_so_in_header_and_title(sub, tmp_path):
    out = tmp_path / "d.docx"
    write_docx(build_document(sub, draft=True), out)
    document = Document(str(out))
    assert document.paragraphs[0].text.endswith("（草稿）")
    assert "草稿" in document.sections[0].header.paragraphs[0].text
    assert document.core_properties.keywords == "草稿"
    write_docx(build_document(sub), out)
    assert "草稿" not in Document(str(out)).sections[0].header.paragraphs[0].text

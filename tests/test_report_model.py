"""The report model: parts in order, introduction, and table grids that match the format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nianbao.report.model import MISSING_TEXT, Heading, Paragraph, TableGrid, build_document, split_paragraphs, table_grid
from nianbao.submission import Submission

UNIT = {"name": "张巷镇人民政府", "compiler": "张巷镇党政办公室", "address": "丰城市张巷镇人民政府",
        "phone": "0795－6532011", "url": "丰城市人民政府门户网站“政府信息公开年报”栏目"}


@pytest.fixture()
def sub(fmt2021):
    values = {c.id: Decimal(0) for c in fmt2021.input_cells}
    values.update({"t3.new.natural": Decimal(3), "t3.new.business": Decimal(1), "t3.disclosed.natural": Decimal(2),
                   "t3.petition.business": Decimal(1), "t3.carry_forward.natural": Decimal(1),
                   "t4.cases.review_upheld": Decimal(2), "t2.fees.amount": Decimal("75.926"),
                   "t2.licensing.decisions": None})
    narratives = {n.id: f"{n.title}的正文。" for n in fmt2021.narratives}
    narratives["management"] = "  一是加强领导。\n\n\u3000\u3000二是规范流程。\r\n"
    narratives["other_matters"] = ""
    return Submission(format=fmt2021, year=2021, unit=dict(UNIT), values=values, narratives=narratives)


def test_parts_come_in_official_order_with_tables_and_sub_headings(sub, fmt2021):
    doc = build_document(sub)
    part_headings = [h.text for h in doc.headings if h.level == 1]
    assert part_headings == [p.heading for p in fmt2021.parts]
    assert part_headings[0] == "一、总体情况" and part_headings[-1] == "六、其他需要报告的事项"
    kinds = [(type(b).__name__, getattr(b, "text", getattr(b, "table_id", ""))) for b in doc.blocks]
    t2 = kinds.index(("TableGrid", "t2"))
    assert kinds[t2 - 1] == ("Heading", "二、主动公开政府信息情况")
    assert [h.text for h in doc.headings if h.level == 2][:5] == [n.title for n in fmt2021.parts[0].narratives]
    assert [t.table_id for t in doc.tables] == ["t2", "t3", "t4"]


def test_narrative_lines_become_paragraphs_and_empty_parts_are_marked(sub):
    doc = build_document(sub)
    paras = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert "一是加强领导。" in paras and "二是规范流程。" in paras
    missing = [b for b in doc.blocks if isinstance(b, Paragraph) and b.missing]
    assert [m.text for m in missing] == [MISSING_TEXT]
    assert split_paragraphs(" a \n\n\u3000b\r\nc ") == ["a", "b", "c"]


def test_narratives_given_at_build_time_replace_the_workbook_texts(sub):
    doc = build_document(sub, {"active": "本年主动公开信息93条。"})
    paras = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert "本年主动公开信息93条。" in paras and "（一）主动公开的正文。" not in paras


def test_introduction_names_basis_compiler_period_site_and_contact(sub):
    intro = build_document(sub).intro
    for part in ("《中华人民共和国政府信息公开条例》", "国办公开办函〔2021〕30号", "由张巷镇党政办公室负责编制",
                 "自2021年1月1日起至2021年12月31日止", "通过丰城市人民政府门户网站“政府信息公开年报”栏目向社会公开",
                 "地址：丰城市张巷镇人民政府", "电话：0795－6532011"):
        assert part in intro


def test_introduction_leaves_out_clauses_whose_details_are_missing(sub):
    sub.unit = {"name": "某局"}
    intro = build_document(sub).intro
    assert "编制" in intro and "联系" not in intro and "向社会公开" not in intro and "None" not in intro


def test_draft_title_carries_the_mark(sub):
    doc = build_document(sub, draft=True)
    assert doc.display_title == "张巷镇人民政府2021年政府信息公开工作年度报告（草稿）"
    assert build_document(sub).display_title == "张巷镇人民政府2021年政府信息公开工作年度报告"


def _grid(sub, table_id) -> TableGrid:
    return next(t for t in build_document(sub).tables if t.table_id == table_id)


def test_table_three_header_has_three_rows_with_the_balance_note_corner(sub):
    g = _grid(sub, "t3")
    assert (g.nrows, g.ncols, g.repeat_rows) == (28, 10, 3)
    corner = g.anchor(0, 0)
    assert (corner.rowspan, corner.colspan, corner.role) == (3, 3, "corner")
    assert corner.text == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    top = g.anchor(0, 3)
    assert (top.text, top.colspan, top.group) == ("申请人情况", 7, True)
    assert (g.anchor(1, 3).text, g.anchor(1, 3).rowspan) == ("自然人", 2)
    assert (g.anchor(1, 4).text, g.anchor(1, 4).colspan) == ("法人或其他组织", 5)
    assert [g.anchor(2, c).text for c in range(4, 9)] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert (g.anchor(1, 9).text, g.anchor(1, 9).rowspan) == ("总计", 2)


def test_table_three_row_labels_and_merges_follow_the_format(sub, fmt2021):
    g = _grid(sub, "t3")
    result = g.anchor(5, 0)
    assert (result.text, result.rowspan) == ("三、本年度办理结果", 22)
    assert (g.anchor(18, 1).text, g.anchor(18, 1).rowspan) == ("（五）不予处理", 5)
    assert g.anchor(22, 2).text == "5.要求行政机关确认或重新出具已获取信息"
    assert (g.anchor(3, 0).text, g.anchor(3, 0).colspan) == ("一、本年新收政府信息公开申请数量", 3)
    leaves = [g.anchor(3 + i, 2).text for i in range(25)]
    assert leaves == [r.label for r in fmt2021.tables["t3"].rows]


def test_numbers_are_formatted_blanks_stay_empty_and_totals_are_computed(sub):
    t3 = _grid(sub, "t3")
    assert t3.anchor(3, 3).text == "3" and t3.anchor(3, 4).text == "1"
    assert t3.anchor(3, 9).text == "4"  # 总计 of 本年新收, derived
    assert t3.anchor(26, 9).text == "3"  # （七）总计 · 总计, derived from derived
    t4 = _grid(sub, "t4")
    assert t4.anchor(3, 4).text == "2"  # 行政复议 总计
    t2 = _grid(sub, "t2")
    assert t2.anchor(13, 1).text == "75.926" and (t2.anchor(13, 1).colspan) == 3
    assert t2.anchor(6, 1).text == ""  # 行政许可 left blank


def test_table_two_has_four_blocks_each_with_title_and_header(sub):
    g = _grid(sub, "t2")
    titles = [c for c in g.cells if c.role == "title"]
    assert [t.text for t in titles] == ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项"]
    assert all(t.colspan == 4 for t in titles)
    assert g.repeat_rows == 0 and g.row_kinds[:3] == ("title", "header", "body")


def test_table_four_has_a_two_level_header(sub):
    g = _grid(sub, "t4")
    assert (g.anchor(0, 0).text, g.anchor(0, 0).colspan) == ("行政复议", 5)
    assert (g.anchor(1, 0).text, g.anchor(1, 0).rowspan) == ("结果维持", 2)
    assert (g.anchor(0, 5).text, g.anchor(0, 5).colspan) == ("行政诉讼", 10)
    assert (g.anchor(1, 5).text, g.anchor(1, 10).text) == ("未经复议直接起诉", "复议后起诉")
    assert [g.anchor(2, c).text for c in range(5, 10)] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def test_every_grid_position_is_covered_exactly_once(fmt2021, fmt2019):
    for fmt in (fmt2021, fmt2019):
        for table in fmt.tables.values():
            g = table_grid(table, {})
            covered = [(r, c) for cell in g.cells for r in range(cell.row, cell.last_row + 1)
                       for c in range(cell.col, cell.last_col + 1)]
            assert sorted(covered) == [(r, c) for r in range(g.nrows) for c in range(g.ncols)], table.id


def test_flat_blocks_name_columns_and_rows_by_label_paths(sub):
    t3 = _grid(sub, "t3").flat[0]
    assert t3.columns[0] == "项目" and t3.note.startswith("（本列数据的勾稽关系为")
    assert t3.columns[2] == "申请人情况·法人或其他组织·商业企业"
    assert t3.rows[4][0] == "三、本年度办理结果·（三）不予公开·1.属于国家秘密"
    t2 = _grid(sub, "t2").flat
    assert t2[0].columns == ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数") and t2[0].note is None
    assert _grid(sub, "t4").flat[0].columns[0] == ""


def test_headings_know_their_part(sub):
    doc = build_document(sub)
    h = [b for b in doc.blocks if isinstance(b, Heading) and b.narrative == "fees"][0]
    assert (h.part, h.text) == ("other", "（一）信息处理费收取情况")

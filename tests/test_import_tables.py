"""Matching published grids to the format's tables; grids written inline as the report shows them."""

from nianbao.importer.tables import RawTable, TCell, looks_like_value, match_table, raw_table

T4_HEADERS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def test_values_written_as_slash_dash_or_blank_still_occupy_a_number_cell():
    assert all(looks_like_value(v) for v in ["0", "12", "75.9260", "", "/", "—", "-", "无", "１２"])
    assert not any(looks_like_value(v) for v in ["总计", "商业企业", "结果\n维持"])


def test_table_four_with_sub_headers_shifted_by_one_cell_reads_every_number(fmt2021):
    grid = [["行政复议", "行政诉讼"],
            [*T4_HEADERS, "未经复议直接起诉", "复议后起诉"],
            ["", "", "", "", *T4_HEADERS, *T4_HEADERS, ""],  # shifted: one blank too few in front
            [str(i) for i in range(15)]]
    match = match_table(fmt2021, fmt2021.tables["t4"], raw_table(grid))
    assert match.deviations == []
    assert match.texts["t4.cases.review_upheld"] == "0"
    assert match.texts["t4.cases.after_review_total"] == "14"


def test_split_header_cells_are_joined(fmt2021):
    grid = [["行政复议", "行政诉讼"],
            ["结果", "维持", *T4_HEADERS[1:], "未经复议直接起诉", "复议后起诉"],
            ["", *T4_HEADERS, *T4_HEADERS],
            ["0"] * 15]
    match = match_table(fmt2021, fmt2021.tables["t4"], raw_table(grid))
    assert match.deviations == []


def test_table_two_blocks_rows_and_a_renamed_header(fmt2021):
    grid = [["第二十条第(一)项"], ["信息内容", "本年发件", "本年废止件数", "现行有效件数"],
            ["规章", "0", "0", "0"], ["行政规范性文件", "3", "1", "/"],
            ["第二十条第(五)项"], ["信息内容", "本年处理决定数量"], ["行政许可", "7"],
            ["第二十条第(六)项"], ["信息内容", "本年处理决定数量"], ["行政处罚", "4"], ["行政强制", "0"],
            ["第二十条第(八)项"], ["信息内容", "本年收费金额(单位：万元)"], ["行政事业性收费", "75.9260"]]
    match = match_table(fmt2021, fmt2021.tables["t2"], raw_table(grid))
    assert match.texts["t2.normative_documents.issued"] == "3"
    assert match.texts["t2.normative_documents.valid"] == "/"
    assert match.texts["t2.licensing.decisions"] == "7"
    assert match.texts["t2.fees.amount"] == "75.9260"
    assert [(d.kind, d.seen, d.official) for d in match.deviations] == [("label", "本年发件", "本年制发件数")]


def test_missing_and_unknown_rows_are_observed(fmt2021):
    grid = [["第二十条第（六）项"], ["信息内容", "本年处理决定数量"], ["行政处罚", "4"], ["行政检查", "2"]]
    match = match_table(fmt2021, fmt2021.tables["t2"], raw_table(grid))
    kinds = {(d.kind, d.seen or d.official) for d in match.deviations}
    assert ("row-unknown", "行政检查") in kinds
    assert ("row-missing", "行政强制") in kinds
    assert ("row-missing", "规章") in kinds
    assert match.texts == {"t2.punishment.decisions": "4"}


def test_table_three_rows_inherit_the_group_label_above(fmt2021):
    grid = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
            ["", "自然人", "法人或其他组织", "总计"],
            ["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""]]
    for row in fmt2021.tables["t3"].rows:
        first_of_group = row.id in ("state_secret", "not_held", "petition", "no_correction")
        labels = ([""] + list(row.path[1:]) if first_of_group else [""] * (len(row.path) - 1) + [row.path[-1]]) \
            if row.id not in ("new", "carried_over", "disclosed", "carry_forward") else list(row.path)
        grid.append(labels + ["1", "0", "0", "0", "0", "0", "1"])
    grid[-10][1] = "（五）不予公开"  # the group heading of 1.信访举报投诉类申请
    match = match_table(fmt2021, fmt2021.tables["t3"], raw_table(grid))
    assert len(match.texts) == 175
    assert [(d.kind, d.seen, d.official) for d in match.deviations] == [("label", "（五）不予公开", "（五）不予处理")]


def _gridded(rows: list[list[tuple[str, int, int]]]) -> RawTable:
    return RawTable(tuple(tuple(TCell(t, col, span) for t, col, span in r) for r in rows), gridded=True)


def test_gridded_columns_are_read_under_their_headers_even_when_reordered(fmt2021):
    header = [("行政复议", 0, 5), ("行政诉讼", 5, 10)]
    groups = [("未经复议直接起诉", 5, 5), ("复议后起诉", 10, 5)]
    published = ["结果纠正", "结果维持", "其他结果", "尚未审结", "总计"]  # first two swapped everywhere
    leaves = [(label, base + k, 1) for base in (0, 5, 10) for k, label in enumerate(published)]
    grid = _gridded([header, [("", 0, 5), *groups], leaves, [(str(i), i, 1) for i in range(15)]])
    match = match_table(fmt2021, fmt2021.tables["t4"], grid)
    assert match.texts["t4.cases.review_upheld"] == "1"
    assert match.texts["t4.cases.review_corrected"] == "0"
    assert match.texts["t4.cases.after_review_upheld"] == "11"
    assert match.texts["t4.cases.after_review_total"] == "14"
    (d,) = match.deviations
    assert (d.kind, d.column) == ("column-order", "行政复议·结果维持")
    assert d.seen.startswith("行政复议·结果纠正、行政复议·结果维持、未经复议直接起诉·结果纠正")


def _table_three(names: list[str]) -> RawTable:
    leaves = [(t, 1 + k, 1) for k, t in enumerate(names)]
    return _gridded([[("", 0, 1), ("申请人情况", 1, 7)], [("", 0, 1), *leaves],
                     [("一、本年新收政府信息公开申请数量", 0, 1)] + [(str(i), i + 1, 1) for i in range(7)]])


def test_gridded_columns_in_official_order_stay_positional_despite_a_reworded_header(fmt2021):
    names = ["自然人", "商业企业", "科研院所", "社会公益组织", "法律服务机构", "其他", "总计"]
    match = match_table(fmt2021, fmt2021.tables["t3"], _table_three(names))
    assert "column-order" not in [d.kind for d in match.deviations]
    assert [match.texts[f"t3.new.{c}"] for c in ("natural", "research", "public_interest", "total")] == \
        ["0", "2", "3", "6"]


def test_a_column_whose_header_is_not_found_takes_the_cell_left_over(fmt2021):
    names = ["自然人", "商业企业", "科研院所", "法律服务机构", "社会公益组织", "其他", "总计"]
    match = match_table(fmt2021, fmt2021.tables["t3"], _table_three(names))
    assert [(d.kind, d.seen) for d in match.deviations if d.kind == "column-order"] == \
        [("column-order", "法律服务机构、社会公益组织")]
    assert [match.texts[f"t3.new.{c}"] for c in ("research", "public_interest", "legal_services")] == ["2", "4", "3"]


def _text_table_three(top: list[str], sub: list[str]) -> list[list[str]]:
    return [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"], ["", *top], ["", "", *sub, ""],
            ["一、本年新收政府信息公开申请数量", *[str(i) for i in range(7)]]]


def test_text_siblings_swapped_in_one_header_row_swap_their_numbers(fmt2021):
    grid = _text_table_three(["自然人", "法人或其他组织", "总计"], ["商业企业", "其他", "科研机构", "社会公益组织", "法律服务机构"])
    match = match_table(fmt2021, fmt2021.tables["t3"], raw_table(grid))
    assert [(d.kind, d.seen) for d in match.deviations if d.kind != "row-missing"] == \
        [("column-order", "其他、科研机构、社会公益组织、法律服务机构")]
    assert [match.texts[f"t3.new.{c}"] for c in ("business", "other", "research", "legal_services")] == ["1", "2", "3", "5"]


def test_text_headers_out_of_their_group_are_not_taken_for_a_reorder(fmt2021):
    grid = _text_table_three(["法律服务机构", "法人或其他组织", "总计"], ["商业企业", "科研机构", "社会公益组织", "自然人", "其他"])
    match = match_table(fmt2021, fmt2021.tables["t3"], raw_table(grid))
    assert "column-order" not in [d.kind for d in match.deviations]
    assert match.texts["t3.new.natural"] == "0"  # read in the official order

"""Narrative checks on in-memory submissions: required parts, placeholders, years, figures, 雷同."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nianbao.narrative_checks import NARRATIVE_NUMBERS_TABLE, check_narratives
from nianbao.submission import Location, Submission


def make(fmt, texts: dict[str, str], values: dict[str, int] | None = None, year: int = 2021) -> Submission:
    sub = Submission(format=fmt, year=year, unit={"name": "丰城市教育局", "contact": "李明"},
                     values={k: Decimal(v) for k, v in (values or {}).items()})
    for i, n in enumerate(fmt.narratives):
        sub.locations[f"narrative.{n.id}"] = Location("正文", f"C{4 + i}", n.name)
        sub.narratives[n.id] = texts.get(n.id, f"{year}年本部分工作正常开展。")
    for cell_id in fmt.cells:
        sub.locations[cell_id] = Location(fmt.tables[fmt.cells[cell_id].table].sheet, "A1", fmt.cells[cell_id].name)
    return sub


def codes(findings):
    return [(f.code, f.cell) for f in findings]


def test_a_clean_narrative_has_no_findings(fmt2021):
    assert check_narratives(make(fmt2021, {}), {}) == []


def test_empty_part_is_required(fmt2021):
    sub = make(fmt2021, {"fees": "  "})
    assert codes(check_narratives(sub, {})) == [("REQUIRED", "C11")]


@pytest.mark.parametrize("text", ["XX年XX月", "本单位××", "【单位名称】", "此处填写工作情况", "＊＊局"])
def test_placeholders_are_errors(fmt2021, text):
    found = check_narratives(make(fmt2021, {"active": text}), {})
    assert [f.code for f in found] == ["PLACEHOLDERS"] and found[0].severity == "error"


def test_words_with_x_are_not_placeholders(fmt2021):
    assert check_narratives(make(fmt2021, {"active": "2021年通过XXL-Job和Excel开展工作"}), {}) == []


def test_last_years_statistics_period_is_flagged(fmt2021):
    sub = make(fmt2021, {"active": "本报告统计期间为2020年1月1日至2020年12月31日。2021年工作正常。"})
    found = check_narratives(sub, {})
    assert [(f.code, f.value) for f in found] == [("YEAR", "2020年1月1日至2020年12月31日")]


def test_another_year_more_often_than_the_report_year(fmt2021):
    texts = {n.id: "2020年工作正常开展，2020年底完成。" for n in fmt2021.narratives}
    found = check_narratives(make(fmt2021, texts), {})
    assert [(f.code, f.value, f.expected) for f in found] == [("YEAR", "2020年", "2021年")]


def test_a_mention_of_last_december_alone_is_fine(fmt2021):
    assert check_narratives(make(fmt2021, {"active": "2021年继续落实2020年12月出台的制度。2021年完成。"}), {}) == []


def test_narrative_numbers_against_the_tables(fmt2021):
    texts = {"on_request": "全年共收到政府信息公开申请１２件，上年结转2件，办结13件，结转下年度1件。",
             "active": "公开行政处罚决定5件、行政许可3件。发生行政复议1件，行政诉讼2件。"}
    values = {"t3.new.total": 12, "t3.carried_over.total": 2, "t3.total.total": 12, "t3.carry_forward.total": 2,
              "t2.punishment.decisions": 5, "t2.licensing.decisions": 3, "t4.cases.review_total": 1,
              "t4.cases.direct_total": 1, "t4.cases.after_review_total": 1}
    sub = make(fmt2021, texts, values)
    found = check_narratives(sub, {k: Decimal(v) for k, v in values.items()})
    assert sorted((f.code, f.value, f.expected) for f in found) == [
        ("NARRATIVE-NUMBERS", "1", "2"), ("NARRATIVE-NUMBERS", "13", "12")]
    assert all("表三" in f.message for f in found)


def test_list_separators_keep_figures_apart(fmt2021):
    sub = make(fmt2021, {"active": "行政复议、行政诉讼案件共3件。"}, {"t4.cases.review_total": 1})
    assert check_narratives(sub, {"t4.cases.review_total": Decimal(1)}) == []


def test_phrases_map_to_cells_of_both_editions(fmt2021, fmt2019):
    for fmt in (fmt2021, fmt2019):
        mapped = [next((alt for alt in p.cells if all(c in fmt.cells for c in alt)), None)
                  for p in NARRATIVE_NUMBERS_TABLE]
        assert sum(m is not None for m in mapped) >= len(NARRATIVE_NUMBERS_TABLE) - 1, fmt.key


def test_same_as_last_year(fmt2021):
    long = "本单位高度重视政府信息公开工作，建立健全工作机制，明确专人负责，按时完成各项任务，" * 2
    this = make(fmt2021, {"problems": long + "今年新增一项。"})
    last = make(fmt2021, {"problems": long}, year=2020)
    found = check_narratives(this, {}, last)
    assert [f.code for f in found] == ["SAME-AS-LAST-YEAR"]
    assert check_narratives(make(fmt2021, {"problems": "完全不同的内容" * 10}), {}, last) == []


@pytest.mark.parametrize("text, values, expected", [
    ("全年共发生行政复议2件，均获维持。", {"t4.cases.review_upheld": 1, "t4.cases.review_pending": 1},
     ["t4.cases.review_pending"]),
    ("行政复议2件、行政诉讼1件，全部依法予以维持。", {"t4.cases.review_upheld": 2, "t4.cases.direct_corrected": 1},
     ["t4.cases.direct_corrected"]),
    ("全年共发生行政复议2件，均获维持。", {"t4.cases.review_upheld": 2, "t4.cases.direct_corrected": 1}, []),
    ("全年未发生因政府信息公开引起的行政复议和行政诉讼。", {"t4.cases.direct_total": 1}, ["t4.cases.direct_total"]),
    ("全年未发生因政府信息公开引起的行政复议。", {"t4.cases.direct_total": 1}, []),
    ("全年未发生被举报投诉的情况，发生行政复议1件。", {"t4.cases.review_total": 1}, []),
])
def test_claims_about_review_and_litigation_against_table_four(fmt2021, text, values, expected):
    sub = make(fmt2021, {"on_request": text}, values)
    found = [f for f in check_narratives(sub, {k: Decimal(v) for k, v in values.items()})]
    assert [f.code for f in found] == ["NARRATIVE-CASES"] * len(expected)
    for f, cell in zip(found, expected):
        assert f.severity == "warning" and f.table == fmt2021.tables["t4"].heading
        assert "·".join(fmt2021.cells[cell].column.path) in f.message


def test_case_claims_name_cells_of_both_editions(fmt2021, fmt2019):
    from nianbao.narrative_checks import _CASE_GROUPS, CASE_CLAIMS

    for fmt in (fmt2021, fmt2019):
        for claim in CASE_CLAIMS:
            for _, groups in _CASE_GROUPS:
                assert all(f"t4.cases.{g}_{c}" in fmt.cells for g in groups for c in claim.columns)


@pytest.mark.parametrize("text", ["现将我局2021年政府信息公开工作年度报告予以上报。", "以上报告，请审阅。",
                                  "2021年工作情况如上。妥否，请批示。", "2021年工作正常开展。特此报告。"])
def test_cover_letter_phrases(fmt2021, text):
    found = check_narratives(make(fmt2021, {"other_matters": text}), {})
    assert [(f.code, f.row) for f in found] == [("COVER-LETTER", "（二）其他事项")]


def test_the_usual_opening_is_not_a_cover_letter(fmt2021):
    text = "现将本机关2021年度政府信息公开工作情况报告如下。"
    assert check_narratives(make(fmt2021, {"active": text}), {}) == []


@pytest.mark.parametrize("fmt_name", ["fmt2021", "fmt2019"])
def test_withdrawn_applications_must_fit_in_other_handling(request, fmt_name):
    fmt = request.getfixturevalue(fmt_name)
    text = "本年度收到申请5件，其中申请人主动撤回申请2件。"
    values = {"t3.new.total": 5}
    few = check_narratives(make(fmt, {"on_request": text}, values | {"t3.other_handling.total": 1}),
                           {"t3.new.total": Decimal(5), "t3.other_handling.total": Decimal(1)})
    assert [(f.code, f.value, f.expected) for f in few] == [("NARRATIVE-NUMBERS", "2", "1")]
    assert "只有 1" in few[0].message and "撤回申请应计入" in few[0].message
    for enough in (2, 3):  # the row may hold other cases too
        assert check_narratives(make(fmt, {"on_request": text}, values | {"t3.other_handling.total": enough}),
                                {"t3.new.total": Decimal(5), "t3.other_handling.total": Decimal(enough)}) == []

"""The seed report imports with every number right; import → xlsx → build → re-import round trip."""

from decimal import Decimal

import pytest

from nianbao.importer import import_report, to_workbook
from nianbao.read.reader import read_submission
from tests.conftest import require_shared


@pytest.fixture(scope="module")
def seed():
    return import_report(require_shared() / "seed" / "zhangxiang-2021-published.txt")


def test_seed_title_unit_year_edition_and_details(seed):
    sub = seed.submission
    assert (sub.unit_name, sub.year, sub.format.key) == ("张巷镇", 2021, "gov-info-disclosure-2021")
    assert sub.unit["phone"] == "0795－6532011"
    assert sub.unit["compiler"] == "张巷镇办公室"
    assert seed.structure.title == "张巷镇2021年政府信息公开工作年度报告"


def test_seed_every_number_right(seed):
    sub = seed.submission
    assert len(sub.values) == len(sub.format.cells) == 200
    nonzero = {k: v for k, v in sub.values.items() if v != 0}
    assert nonzero == {"t2.licensing.decisions": Decimal(1), "t2.punishment.decisions": Decimal(4)}
    assert sub.raw == {}  # every cell a clean number


def test_seed_narrative_parts(seed):
    n = seed.submission.narratives
    assert n["on_request"] == "2021年张巷镇人民政府共受理依申请公开0件。"
    assert n["oversight"].endswith("2021年全年我镇未发生政务公开责任追究情况。")
    assert n["improvements"].startswith("1、加强领导")
    assert n["other_matters"] == "无"
    assert "fees" not in n


def test_seed_deviations_are_exactly_its_three_labels(seed):
    assert sorted((d.seen, d.official) for d in seed.deviations) == sorted([
        ("(五)不予公开", "（五）不予处理"),
        ("5.要求行政机关确认或新出具已获取信息", "5.要求行政机关确认或重新出具已获取信息"),
        ("（本列表的勾稽关系：第一项加第二项之和，等于第三项加第四项之和）",
         "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"),
    ])


def test_workbook_from_the_seed_reads_back_the_same_numbers(seed, tmp_path):
    written = to_workbook(seed, tmp_path / "张巷镇2021.xlsx")
    back = read_submission(written.path)
    sub = seed.submission
    assert written.skipped == {}
    assert {c.id: back.values[c.id] for c in sub.format.input_cells} == \
        {c.id: sub.values[c.id] for c in sub.format.input_cells}
    assert back.narratives["management"] == sub.narratives["management"]
    assert back.unit["phone"] == "0795－6532011"


def test_formulas_in_a_published_report_stay_text_in_the_workbook(tmp_path, fmt2021):
    from openpyxl import load_workbook

    from tests.fixtures.reports import document, submission, write_html

    evil = '=HYPERLINK("http://evil.example/x","点击查看")'
    sub = submission(fmt2021, 2021, texts={"active": evil, "other_matters": "=1+1"})
    result = import_report(write_html(document(sub), tmp_path / "evil.html"))
    written = to_workbook(result, tmp_path / "evil.xlsx")
    wb = load_workbook(written.path)
    for narrative, text in (("active", evil), ("other_matters", "=1+1")):
        name = next(n.name for n in fmt2021.narratives if n.id == narrative)
        (sheet, coord), = wb.defined_names[name].destinations
        cell = wb[sheet][coord.replace("$", "")]
        assert (cell.value, cell.data_type) == (text, "s")
    assert read_submission(written.path).narratives["active"] == evil


@pytest.mark.parametrize("target", ["docx", "html"])
def test_import_then_build_reproduces_the_tables(seed, tmp_path, target):
    from nianbao.report.build import build

    xlsx = to_workbook(seed, tmp_path / "seed.xlsx").path
    # The seed's workbook lacks 联系人 and the fees part: build refuses it, so compile a draft.
    built = build(xlsx, tmp_path / "out", to=target, force=True)
    again = import_report(built.outputs[target])
    assert again.submission.values == seed.submission.values
    assert again.deviations == []  # the built report uses exactly the official labels
    assert again.submission.narratives["platforms"] == seed.submission.narratives["platforms"]


def test_unreadable_inputs_are_one_line_errors(tmp_path):
    from nianbao.errors import InputFileError

    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    with pytest.raises(InputFileError, match="PDF"):
        import_report(pdf)
    note = tmp_path / "note.txt"
    note.write_text("会议通知\n请各单位参加。", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        import_report(note)
    assert err.value.code == "IMPORT-NO-YEAR"
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("某局2021年政府信息公开工作年度报告\n一、总体情况\n无".encode("gb18030"))
    partial = import_report(gbk)  # a report without tables is audited, not refused (issue 14)
    assert (partial.submission.year, partial.submission.unit_name) == (2021, "某局")
    assert {d.table for d in partial.deviations if d.kind == "table-missing"} == {"t2", "t3", "t4"}

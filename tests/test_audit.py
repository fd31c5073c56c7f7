"""Audit of published reports: the seed, and reports of our own making in each form and edition
with the mistakes reviewers look for, each with its exact findings."""

from pathlib import Path

import pytest

from nianbao.audit import audit
from nianbao.findings import CODES
from nianbao.format import load_format
from tests.conftest import require_shared
from tests.fixtures.reports import WRITERS, document, submission

DOCS = Path(__file__).resolve().parents[1] / "docs" / "findings-audit.md"
EDITIONS = {"2021": 2021, "2019": 2020}  # edition -> a report year it covers


def findings_of(path: Path) -> list[tuple[str, str | None, str | None]]:
    report = audit(path)
    assert report.unreadable is None, report.unreadable
    return sorted((f.code, f.row, f.column) for f in report.findings)


def test_seed_passes_its_arithmetic_and_shows_its_three_labels_and_two_review_warnings():
    report = audit(require_shared() / "seed" / "zhangxiang-2021-published.txt")
    assert report.errors == 0
    got = sorted((f.code, f.severity, f.value, f.expected) for f in report.findings)
    assert got == sorted([
        ("AUDIT-LABEL", "warning", "(五)不予公开", "（五）不予处理"),
        ("AUDIT-LABEL", "warning", "5.要求行政机关确认或新出具已获取信息", "5.要求行政机关确认或重新出具已获取信息"),
        ("AUDIT-LABEL", "warning", "（本列表的勾稽关系：第一项加第二项之和，等于第三项加第四项之和）",
         "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"),
        # the intro cites the superseded 2019 notice as its basis (review rule D6)
        ("AUDIT-BASIS", "warning", "国办公开办函[2019]60号", "国办公开办函〔2021〕30号"),
        # part 六 is a bare "无": the information processing fees are not stated (review rule D7)
        ("AUDIT-FEES", "warning", "无", "本年度未收取信息处理费"),
    ])
    labels = [f for f in report.findings if f.code == "AUDIT-LABEL"]
    assert all(f.table == "三、收到和处理政府信息公开申请情况" and f.sheet == "表三" and f.cell for f in labels)
    assert {f.row for f in labels} == {"三、本年度办理结果·（五）不予处理", "（五）不予处理·5.要求行政机关确认或重新出具已获取信息",
                                      "表头"}


def _case(name: str, edition: str):
    fmt = load_format(f"gov-info-disclosure-{edition}")
    year = EDITIONS[edition]
    regulations = "t2.regulations.issued" if edition == "2021" else "t2.regulations.made"
    if name == "clean":
        return document(submission(fmt, year)), []
    if name == "labels":
        doc = document(submission(fmt, year), labels={"（五）不予处理": "（五）不予公开", "确认或重新出具": "确认或新出具",
                                                      "本列数据的勾稽关系为": "本列表的勾稽关系"})
        return doc, [("AUDIT-LABEL", "三、本年度办理结果·（五）不予处理", None),
                     ("AUDIT-LABEL", "（五）不予处理·5.要求行政机关确认或重新出具已获取信息", None),
                     ("AUDIT-LABEL", "表头", fmt.tables["t3"].blocks[0].corner)]
    if name == "numbers":
        doc = document(submission(fmt, year), cells={"t3.new.natural": "/", "t4.cases.review_upheld": "—",
                                                     "t3.total.total": ""})
        cell = fmt.cells
        return doc, [("AUDIT-TOTAL-BLANK", cell["t3.total.total"].row.display, "总计"),
                     ("TYPES", cell["t3.new.natural"].row.display, "自然人"),
                     ("TYPES", cell["t4.cases.review_upheld"].row.display, "结果维持")]
    if name == "structure":
        doc = document(submission(fmt, year), drop_parts=("problems",),
                       title=f"张巷镇人民政府{year}年政府信息公开工作报告",
                       intro={f"自{year}年1月1日起至{year}年": f"自{year - 1}年1月1日起至{year - 1}年"})
        return doc, [("AUDIT-PART-MISSING", None, None), ("AUDIT-PERIOD", "统计期限", None),
                     ("AUDIT-TITLE", "标题", None)]
    if name == "town":
        sub = submission(fmt, year, {regulations: 1}, texts={"on_request": f"{year}年共收到政府信息公开申请5件。"})
        return document(sub), [("NARRATIVE-NUMBERS", "（二）依申请公开", None), ("TOWN-REGULATIONS", "规章", fmt.cells[regulations].column.label)]
    raise AssertionError(name)


CASES = ["clean", "labels", "numbers", "structure", "town"]


@pytest.mark.parametrize("form", ["docx", "html", "txt"])
@pytest.mark.parametrize("edition", ["2021", "2019"])
@pytest.mark.parametrize("case", CASES)
def test_reports_of_our_making_give_exactly_the_expected_findings(tmp_path, form, edition, case):
    doc, expected = _case(case, edition)
    path = WRITERS[form](doc, tmp_path / f"{case}.{form}")
    assert findings_of(path) == sorted(expected)


@pytest.mark.parametrize("form", ["docx", "html", "txt"])
def test_a_2021_report_on_the_2019_tables_is_an_outdated_edition(tmp_path, form):
    fmt = load_format("gov-info-disclosure-2019")
    doc = document(submission(fmt, 2021))  # 2019 tables (and its basis) in a 2021 report
    report = audit(WRITERS[form](doc, tmp_path / f"old.{form}"))
    assert sorted((f.code, f.severity) for f in report.findings) == [("AUDIT-BASIS", "warning"),
                                                                    ("AUDIT-EDITION", "error")]
    edition = next(f for f in report.findings if f.code == "AUDIT-EDITION")
    assert "本年新制作数量" in edition.message and "国办公开办函〔2021〕30号" in edition.message


@pytest.mark.parametrize("form, swap", [
    ("docx", ("t3.new.research", "t3.new.public_interest")), ("html", ("t3.new.research", "t3.new.public_interest")),
    ("txt", ("t3.new.research", "t3.new.public_interest")), ("txt", ("t3.new.business", "t3.new.other")),
    # table 四 repeats its leaf headers under three groups: only a grid tells them apart
    ("docx", ("t4.cases.review_pending", "t4.cases.review_upheld")),
    ("html", ("t4.cases.after_review_other", "t4.cases.after_review_upheld"))])
@pytest.mark.parametrize("edition", ["2021", "2019"])
def test_swapped_columns_are_read_under_their_headers_and_reported(tmp_path, form, edition, swap):
    fmt = load_format(f"gov-info-disclosure-{edition}")
    sub = submission(fmt, EDITIONS[edition], {swap[0]: 3, swap[1]: 5})
    path = WRITERS[form](document(sub, swap=swap), tmp_path / f"swapped.{form}")
    report = audit(path)
    assert report.submission.values[swap[0]] == 3 and report.submission.values[swap[1]] == 5
    (order,) = [f for f in report.findings if f.code.startswith("AUDIT-")]
    assert (order.code, order.severity, order.table) == ("AUDIT-COLUMN-ORDER", "warning",
                                                         fmt.tables[swap[0][:2]].heading)
    labels = [fmt.cells[c].column.label for c in swap]
    assert all(label in order.value and label in order.expected for label in labels)


def test_unreadable_report_becomes_a_report_not_an_exception(tmp_path):
    path = tmp_path / "x.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    report = audit(path)
    assert report.unreadable and report.findings[0].code == "IMPORT-WRONG-TYPE"


def test_every_audit_code_is_documented():
    import nianbao.audit  # noqa: F401  (registers the codes)

    text = DOCS.read_text(encoding="utf-8")
    ours = [c for c in CODES if c.startswith(("AUDIT-", "IMPORT-"))]
    assert ours and all(f"### {c}\n" in text for c in ours), [c for c in ours if f"### {c}\n" not in text]

"""check_file / validate: every rule from the inputs, numbers, blanks, towns, the code catalogue."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.workbooks import TOWN, UNIT, consistent_fill, write
from nianbao.check import check_file, validate
from nianbao.findings import CODES, JSON_KEYS, register_format
from nianbao.format import available_formats
from nianbao.read.reader import read_submission

DOCS = Path(__file__).resolve().parents[1] / "docs"


def codes(report):
    return sorted((f.code, f.cell) for f in report.findings)


@pytest.fixture(scope="module")
def good(tmp_path_factory, fmt2021):
    values = consistent_fill(fmt2021, random.Random(3))
    return values, write(fmt2021, tmp_path_factory.mktemp("good") / "good.xlsx", values, year=2021)


def test_a_consistent_fill_is_valid(good):
    report = check_file(good[1])
    assert report.valid and report.findings == [], [f.message for f in report.findings]
    assert report.to_json()["unit"] == UNIT["name"] and report.to_json()["year"] == 2021


def test_one_wrong_input_breaks_the_balance_of_its_column(tmp_path, fmt2021, good):
    values = dict(good[0])
    values["t3.disclosed.research"] += 3
    path = write(fmt2021, tmp_path / "x.xlsx", values, year=2021)
    report = check_file(path)
    # The totals follow their formulas, so only the balance of 科研机构 and of 总计 break.
    assert {f.code for f in report.findings} == {"T3-BALANCE", "NARRATIVE-NUMBERS"} or \
        {f.code for f in report.findings} == {"T3-BALANCE"}
    balance = [f for f in report.findings if f.code == "T3-BALANCE"]
    assert {f.column for f in balance} == {"科研机构", "总计"}
    assert any("F8" in f.cells for f in balance)


def test_typed_over_total_is_drift_and_the_rules_place_it(tmp_path, fmt2021, good):
    values = dict(good[0])
    values["t3.total.business"] = 999
    report = check_file(write(fmt2021, tmp_path / "x.xlsx", values, year=2021))
    at = {(f.code, f.cell) for f in report.findings}
    assert ("DRIFT-FORMULA-REPLACED", "E29") in at
    assert ("T3-TOTAL-ROW", "E29") in at and ("T3-BALANCE", "E29") in at
    row = next(f for f in report.findings if f.code == "T3-TOTAL-ROW" and f.cell == "E29")
    assert row.value == "999" and row.table.startswith("三、") and row.column == "商业企业"


def test_blank_text_and_corrections(tmp_path, fmt2021, good):
    values = dict(good[0])
    values["t3.new.natural"] = "１，２３４"  # full-width with a separator: read, with a warning
    values["t3.disclosed.natural"] = None  # blank: an error, 0 for arithmetic
    values["t2.punishment.decisions"] = "12件"
    values["t2.fees.amount"] = -1
    report = check_file(write(fmt2021, tmp_path / "x.xlsx", values, year=2021))
    by_cell = {(f.code, f.cell): f for f in report.findings}
    as_text = by_cell[("NUMBER-AS-TEXT", "D6")]  # the sheet's own SUM leaves it out: an error
    assert as_text.severity == "error" and as_text.value == "１，２３４" and as_text.expected == "1234"
    assert "是文本，不是数字" in as_text.message and "D6" in as_text.message
    assert not any(f.code == "NUMBER-CORRECTED" for f in report.findings)
    assert not any(f.code == "NOT-RECALCULATED" for f in report.findings)
    assert by_cell[("BLANK", "D8")].severity == "error"
    assert "12件" in by_cell[("TYPES", "B12")].message
    assert "负数" in by_cell[("TYPES", "B16")].message
    sub = read_submission(tmp_path / "x.xlsx")
    assert sub.values["t3.new.natural"] == 1234 and sub.raw["t3.new.natural"] == "１，２３４"


def test_an_empty_table_is_one_finding(tmp_path, fmt2021, good):
    values = {k: v for k, v in good[0].items() if not k.startswith("t4.")}
    report = check_file(write(fmt2021, tmp_path / "x.xlsx", values, year=2021))
    assert [f.code for f in report.findings if f.table and f.table.startswith("四")] == ["TABLE-BLANK"]


def test_town_reporting_regulations_is_warned(tmp_path, fmt2021, good):
    values = dict(good[0])
    values["t2.regulations.issued"] = Decimal(2)
    values["t2.regulations.repealed"] = Decimal(0)
    values["t2.regulations.valid"] = Decimal(0)
    town = check_file(write(fmt2021, tmp_path / "town.xlsx", values, unit=TOWN, year=2021))
    assert [(f.code, f.cell) for f in town.findings if f.code == "TOWN-REGULATIONS"] == [("TOWN-REGULATIONS", "B5")]
    bureau = check_file(write(fmt2021, tmp_path / "bureau.xlsx", values, year=2021))
    assert not any(f.code == "TOWN-REGULATIONS" for f in bureau.findings)


def test_previous_year_carry_over_and_other_unit(tmp_path, fmt2021, good):
    last = read_submission(good[1])
    this = dict(good[0])
    for col in ("natural", "business", "research", "public_interest", "legal_services", "other"):
        this[f"t3.carried_over.{col}"] = last.values[f"t3.carry_forward.{col}"]
    this["t3.carried_over.natural"] += 1
    sub = read_submission(write(fmt2021, tmp_path / "2022.xlsx", this, year=2022))
    found = validate(sub, last)
    assert [(f.code, f.cell) for f in found if f.code == "CARRY-OVER"] == [("CARRY-OVER", "D7"), ("CARRY-OVER", "J7")]
    other = read_submission(write(fmt2021, tmp_path / "o.xlsx", good[0], unit=TOWN, year=2021))
    assert [f.code for f in validate(read_submission(tmp_path / "2022.xlsx"), other)
            if f.code.startswith(("PREVIOUS", "CARRY"))] == ["PREVIOUS-MISMATCH"]


def test_more_cases_than_two_years_of_applications_is_a_warning(tmp_path, fmt2021, good):
    last = read_submission(good[1])
    this = dict(good[0])
    for col in ("natural", "business", "research", "public_interest", "legal_services", "other"):
        this[f"t3.carried_over.{col}"] = last.values[f"t3.carry_forward.{col}"]
    applications = 2 * last.values["t3.new.total"]  # this year's applications are last year's again
    for g in ("review", "direct"):
        for c in ("upheld", "corrected", "other", "pending"):
            this[f"t4.cases.{g}_{c}"] = 0
    this["t4.cases.review_upheld"] = applications + 1
    found = validate(read_submission(write(fmt2021, tmp_path / "many.xlsx", this, year=2022)), last)
    (warning,) = [f for f in found if f.code == "CASES-VS-REQUESTS"]
    assert warning.severity == "warning" and (warning.value, warning.expected) == (str(applications + 1), str(applications))
    this["t4.cases.review_upheld"] -= 1
    found = validate(read_submission(write(fmt2021, tmp_path / "fine.xlsx", this, year=2022)), last)
    assert not [f for f in found if f.code == "CASES-VS-REQUESTS"]
    assert not [f for f in validate(read_submission(tmp_path / "many.xlsx")) if f.code == "CASES-VS-REQUESTS"]


def test_unreadable_file_is_a_report_not_an_exception(tmp_path):
    bad = tmp_path / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    report = check_file(bad)
    assert report.unreadable and not report.valid and report.findings[0].code.startswith("FILE-")
    assert str(bad) in report.findings[0].message


def test_every_code_is_documented():
    # Every module that registers codes is imported, so the test does not depend on test order.
    import importlib
    import pkgutil

    import nianbao

    for module in pkgutil.walk_packages(nianbao.__path__, "nianbao."):
        importlib.import_module(module.name)
    for fmt in available_formats():
        register_format(fmt)
    # Codes other modules register (audit, import) may be documented in their own docs page.
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))
    documented = set(re.findall(r"^#{2,4} `?([A-Z0-9][A-Z0-9-]+)`?\s*$", text, re.M))
    missing = sorted(set(CODES) - documented)
    assert not missing, f"no docs/*.md section for: {missing}"


def test_json_finding_has_exactly_the_issue_keys(good, tmp_path, fmt2021):
    values = dict(good[0])
    values["t3.new.natural"] = None
    report = check_file(write(fmt2021, tmp_path / "x.xlsx", values, year=2021))
    assert all(tuple(f.to_json()) == JSON_KEYS for f in report.findings)
    assert set(report.to_json()) == {"path", "format", "edition", "unit", "year", "valid", "errors", "warnings",
                                     "findings"}


def _copies(tmp_path, good, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        paths.append(tmp_path / f"{i:02d}.xlsx")
        paths[-1].write_bytes(good[1].read_bytes())
    (tmp_path / "03.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # an .xls in disguise
    return paths


def test_many_files_are_checked_on_several_cores_in_order(tmp_path, good):
    from nianbao.check import check_files

    paths = _copies(tmp_path, good, 10)
    seen = []
    parallel = check_files(paths, workers=2, progress=lambda done, total: seen.append((done, total)))
    serial = check_files(paths, workers=1)
    assert [r.path for r in parallel] == paths
    assert [(r.valid, r.unreadable_code, codes(r)) for r in parallel] == \
        [(r.valid, r.unreadable_code, codes(r)) for r in serial]
    assert parallel[3].unreadable and parallel[0].valid
    assert seen[-1] == (10, 10) and len(seen) == 10


def test_a_worker_that_dies_does_not_stop_the_batch(tmp_path, good, monkeypatch):
    import os

    import nianbao.check

    parent, real = os.getpid(), nianbao.check.check_file

    def dies_in_a_worker(path, previous=None):
        if Path(path).name == "05.xlsx":
            if os.getpid() != parent:
                os._exit(3)  # as a crash in a C library would
            raise RuntimeError("坏文件")
        return real(path, previous)

    monkeypatch.setattr(nianbao.check, "check_file", dies_in_a_worker)  # forked workers inherit it
    paths = _copies(tmp_path, good, 10)
    reports = nianbao.check.check_files(paths, workers=2)
    assert [r.path for r in reports] == paths
    assert reports[5].unreadable_code == "FILE-UNREADABLE" and "维护人员" in reports[5].unreadable  # details go to the log
    assert "RuntimeError" not in reports[5].unreadable  # the sentence people read names no exception
    assert all(r.valid for i, r in enumerate(reports) if i not in (3, 5))


def test_findings_docs_say_when_each_code_is_checked():
    """docs/findings.md says for every code whether the workbook checks it live, as the catalogue does."""
    import importlib
    import pkgutil

    import nianbao
    from nianbao.findings import AFTER_SENDING, AFTER_SENDING_CODES, LIVE_CODES, is_live

    for module in pkgutil.walk_packages(nianbao.__path__, "nianbao."):
        importlib.import_module(module.name)
    for fmt in available_formats():
        register_format(fmt)
    text = (DOCS / "findings.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    timing = {s.split("\n", 1)[0].strip(" `"): re.search(r"检查时机：(填写时|报送后)", s) for s in sections}
    assert all(timing.values()), [c for c, m in timing.items() if not m]
    assert {c for c, m in timing.items() if m.group(1) == "填写时"} == {c for c in timing if is_live(c)}
    assert {"BLANK", "TABLE-BLANK", "TYPES", "NUMBER-AS-TEXT", "REQUIRED", "T3-BALANCE"} <= LIVE_CODES
    # Every after-sending topic the first sheet lists is the topic of some code, and vice versa.
    assert {t for t in AFTER_SENDING_CODES.values() if t} == set(AFTER_SENDING)

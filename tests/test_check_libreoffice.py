"""Workbooks filled and saved by a real client (LibreOffice), each with its exact findings."""

from __future__ import annotations

import random

import pytest

from fixtures.workbooks import UNIT, consistent_fill, narratives_for
from libreoffice import ODS, XLS, Job, require_libreoffice, run_jobs
from nianbao.check import check_file
from nianbao.read.reader import read_submission
from nianbao.template import make_template

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
T2, T3 = "表二 主动公开", "表三 依申请公开"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fmt2021):
    require_libreoffice()
    tmp = tmp_path_factory.mktemp("lo")
    template = make_template(fmt2021, UNIT, 2021, tmp / "template.xlsx", token="lo1").path
    sub = read_submission(template)
    values = consistent_fill(fmt2021, random.Random(21))
    texts = narratives_for(fmt2021, 2021, values)

    def cells(overrides=None, *, shift=0, shift_sheet=None):
        out = []
        for cid, value in {**values, **(overrides or {})}.items():
            loc = sub.locations[cid]
            a1 = loc.cell
            if shift and loc.sheet == shift_sheet:
                letters = a1.rstrip("0123456789")
                row = int(a1[len(letters):])
                a1 = f"{letters}{row + shift if row >= 6 else row}"
            out.append((loc.sheet, a1, value if isinstance(value, str) or value is None else float(value)))
        for n in fmt2021.narratives:
            loc = sub.locations[f"narrative.{n.id}"]
            out.append((loc.sheet, loc.cell, texts[n.id]))
        for fld in fmt2021.unit_fields:
            if fld.input:
                loc = sub.locations[f"unit.{fld.id}"]
                out.append((loc.sheet, loc.cell, UNIT[fld.id]))
        return out

    plans = {
        "clean": Job(template, tmp / "clean.xlsx", cells()),
        "text": Job(template, tmp / "text.xlsx", cells({"t2.licensing.decisions": "12",
                                                        "t2.punishment.decisions": "１２"})),
        "blank": Job(template, tmp / "blank.xlsx", cells({"t4.cases.review_upheld": None})),
        "balance": Job(template, tmp / "balance.xlsx", cells({"t3.carry_forward.research":
                                                              values["t3.carry_forward.research"] + 2})),
        "pasted": Job(template, tmp / "pasted.xlsx", cells({"t2.coercion.decisions": "3件"})),
        "inserted": Job(template, tmp / "inserted.xlsx", cells(shift=1, shift_sheet=T3),
                        unprotect_sheets=[T3], insert_rows=[(T3, 6, 1)], keep_protection=False),
        "xls": Job(template, tmp / "saved.xls", cells(), filter=XLS),
        "ods": Job(template, tmp / "saved.ods", cells(), filter=ODS),
    }
    run_jobs(list(plans.values()))
    return {k: check_file(j.dst) for k, j in plans.items()}


def found(report):
    return sorted((f.code, f.severity, f.cell) for f in report.findings)


def test_clean_fill_is_valid(saved):
    assert found(saved["clean"]) == []


def test_numbers_typed_as_text_and_full_width(saved):
    # The sheet's own totals leave text out, so the workbook shows these as errors and so does check.
    assert found(saved["text"]) == [("NUMBER-AS-TEXT", "error", "B12"), ("NUMBER-AS-TEXT", "error", "B9")]
    assert not any("启用编辑" in f.message for f in saved["text"].findings)


def test_blank_cell(saved):
    assert found(saved["blank"]) == [("BLANK", "error", "A6")]


def test_broken_balance_in_one_column(saved):
    assert found(saved["balance"]) == [("T3-BALANCE", "error", "F6"), ("T3-BALANCE", "error", "J6")]
    assert {f.column for f in saved["balance"].findings} == {"科研机构", "总计"}


def test_pasted_over_validated_cell(saved):
    assert found(saved["pasted"]) == [("TYPES", "error", "B13")]


def test_unprotected_sheet_with_inserted_row(saved):
    report = saved["inserted"]
    assert found(report) == [("DRIFT-CELL-MOVED", "warning", "D7"), ("DRIFT-UNPROTECTED", "warning", None)]
    assert report.valid


@pytest.mark.parametrize("name, code", [("xls", "FILE-XLS"), ("ods", "FILE-ODS")])
def test_saved_as_other_formats_is_refused(saved, name, code):
    report = saved[name]
    assert report.unreadable and [f.code for f in report.findings] == [code]

"""The annotated copy: a fresh template with the unit's values, red failing cells with comments,
a first sheet listing all findings; the unit's file untouched."""

from __future__ import annotations

import hashlib
import random

import openpyxl
import pytest

from fixtures.workbooks import consistent_fill, write
from nianbao.annotate import ANNOTATION_SHEET, annotate
from nianbao.check import check_file
from nianbao.errors import NianbaoError


@pytest.fixture()
def broken(tmp_path, fmt2021):
    values = consistent_fill(fmt2021, random.Random(2))
    values["t3.total.business"] = 999  # a typed-over total
    values["t3.disclosed.natural"] = None
    values["t3.new.research"] = "３"
    return write(fmt2021, tmp_path / "unit.xlsx", values, year=2021, token="tokA")


def test_annotated_copy(tmp_path, broken):
    before = hashlib.sha256(broken.read_bytes()).hexdigest()
    out = tmp_path / "back.xlsx"
    report = annotate(broken, out)
    assert hashlib.sha256(broken.read_bytes()).hexdigest() == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ANNOTATION_SHEET
    listed = [r[3] for r in wb[ANNOTATION_SHEET].iter_rows(min_row=4, values_only=True)]
    assert sorted(listed) == sorted(f.message for f in report.findings)
    t3 = wb["表三 依申请公开"]
    blank = t3["D8"]
    assert blank.fill.fgColor.rgb.endswith("FF7C80") and "空白" in blank.comment.text
    total = t3["E29"]  # the formula is restored, coloured and explained
    assert str(total.value).startswith("=SUM(") and "999" in total.comment.text
    assert t3["F6"].value == 3  # a corrected number is written as the number
    again = check_file(out)
    assert again.submission.token == "tokA" and again.submission.unit_name == report.submission.unit_name
    assert {f.code for f in again.findings} >= {"BLANK"}
    assert not any(f.code.startswith("DRIFT") for f in again.findings)


def test_refuses_to_overwrite_the_units_file(broken):
    with pytest.raises(NianbaoError):
        annotate(broken, broken)

"""Drift from the template: formulas typed over, never recalculated, protection off, names lost."""

from __future__ import annotations

import random
import re

import pytest

from fixtures.workbooks import consistent_fill, edit_part, set_cells, sheet_part, write
from nianbao.check import check_file
from nianbao.template import make_template
from fixtures.workbooks import UNIT

T3 = "表三 依申请公开"


@pytest.fixture()
def good(tmp_path, fmt2021):
    values = consistent_fill(fmt2021, random.Random(11))
    return values, write(fmt2021, tmp_path / "good.xlsx", values, year=2021)


def found(path):
    return {(f.code, f.cell) for f in check_file(path).findings}


def test_never_recalculated_is_explained_and_rules_use_the_inputs(tmp_path, fmt2021):
    path = make_template(fmt2021, UNIT, 2021, tmp_path / "t.xlsx").path
    set_cells(path, T3, {"D6": 5, "D8": 5})  # 5 new, 5 disclosed, but the stored totals stay 0
    report = check_file(path)
    stale = [f for f in report.findings if f.code == "NOT-RECALCULATED"]
    assert len(stale) == 1 and "启用编辑" in stale[0].message and "重新计算" in stale[0].message
    # The rules saw the totals computed from the inputs, not the stored zeros: 总计 balances.
    assert not any(f.code.startswith("T3-") for f in report.findings), [f.message for f in report.findings]


def test_protection_removed_is_a_warning(good):
    _, path = good
    edit_part(path, sheet_part(path, T3), lambda xml: re.sub(r"<sheetProtection[^>]*/>", "", xml))
    report = check_file(path)
    assert [(f.code, f.sheet) for f in report.findings] == [("DRIFT-UNPROTECTED", T3)]
    assert report.valid


def test_structure_unlocked_is_a_warning(good):
    _, path = good
    edit_part(path, "xl/workbook.xml", lambda xml: re.sub(r"<workbookProtection[^>]*/>", "", xml))
    assert found(path) == {("DRIFT-STRUCTURE-UNLOCKED", None)}


def test_lost_names_fall_back_to_checked_coordinates(good):
    _, path = good
    edit_part(path, "xl/workbook.xml", lambda xml: re.sub(r'<definedName name="nb_t3_new_natural"[^<]*</definedName>',
                                                          "", xml))
    assert found(path) == {("DRIFT-NAME-MISSING", "D6")}


def test_lost_name_and_changed_label_cannot_be_located(good):
    _, path = good
    edit_part(path, "xl/workbook.xml", lambda xml: re.sub(r'<definedName name="nb_t3_new_natural"[^<]*</definedName>',
                                                          "", xml))
    edit_part(path, "xl/sharedStrings.xml", lambda xml: xml.replace("一、本年新收政府信息公开申请数量", "改过的标签", 1))
    report = check_file(path)
    assert ("CELL-NOT-FOUND", "D6") in {(f.code, f.cell) for f in report.findings}
    assert not any(f.code == "BLANK" for f in report.findings)


def test_check_cell_typed_over(good):
    _, path = good
    edit_part(path, sheet_part(path, "检查"),
              lambda xml: re.sub(r'<c r="D3"( s="\d+")?[^>]*><f>.*?</f><v>[^<]*</v></c>',
                             r'<c r="D3"\1 t="inlineStr"><is><t>通过</t></is></c>', xml))
    assert ("DRIFT-FORMULA-REPLACED", "D3") in found(path)

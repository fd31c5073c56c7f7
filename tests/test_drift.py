"""Drift from the template: formulas typed over, never recalculated, protection off, names lost."""

from __future__ import annotations

import random
import re

import pytest

from fixtures.workbooks import consistent_fill, edit_part, set_cells, sheet_part, write
from nianbao.check import check_file
from nianbao.read.reader import read_submission
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
    fmt = read_submission(path).format
    a1 = read_submission(path).locations[f"check.{fmt.rules[0].key}"].cell
    edit_part(path, sheet_part(path, "检查"),
              lambda xml: re.sub(rf'<c r="{a1}"( s="\d+")?[^>]*><f>.*?</f><v>[^<]*</v></c>',
                             rf'<c r="{a1}"\1 t="inlineStr"><is><t>通过</t></is></c>', xml))
    assert ("DRIFT-FORMULA-REPLACED", a1) in found(path)


# ------------------------------------------------------------------ structure edited by hand


def test_renamed_sheet_is_found_by_its_content(good):
    _, path = good
    # Renaming in Excel or WPS also rewrites the defined names that point into the sheet.
    edit_part(path, "xl/workbook.xml", lambda xml: xml.replace("表二 主动公开", "表二"))
    codes = {f.code for f in check_file(path).findings}
    assert "DRIFT-SHEET-RENAMED" in codes
    assert not codes & {"CELL-NOT-FOUND", "BLANK"}  # the numbers are still read


def test_deleted_table_sheet_is_an_error(good):
    import openpyxl

    _, path = good
    wb = openpyxl.load_workbook(path)  # a tool that re-saves the file (as WPS or a script would)
    del wb["表四 复议诉讼"]
    wb.save(path)
    report = check_file(path)
    assert "DRIFT-SHEET-MISSING" in {f.code for f in report.findings} and not report.valid


def test_added_sheet_is_a_warning(good):
    import openpyxl

    _, path = good
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("我的草稿")
    wb.save(path)
    added = [f for f in check_file(path).findings if f.code == "DRIFT-SHEET-ADDED"]
    assert len(added) == 1 and "我的草稿" in added[0].message


def test_older_template_version_and_properties_from_another_unit(good, fmt2021):
    _, path = good
    edit_part(path, "xl/sharedStrings.xml", lambda xml: xml.replace(
        f"<t>{fmt2021.template_version}</t>", "<t>2020.9</t>", 1))
    edit_part(path, "docProps/custom.xml", lambda xml: xml.replace(UNIT["name"], "丰城市财政局"))
    findings = check_file(path).findings
    old = [f for f in findings if f.code == "DRIFT-OLD-TEMPLATE"]
    assert len(old) == 1 and old[0].value == "2020.9" and old[0].expected == fmt2021.template_version
    mismatch = [f for f in findings if f.code == "DRIFT-META-MISMATCH"]
    assert len(mismatch) == 1 and mismatch[0].value == "丰城市财政局"


def test_pasted_over_validation_is_reported_at_the_cell(good):
    _, path = good

    def drop_validation(xml: str) -> str:
        new, n = re.subn(r'<dataValidation [^>]*sqref="D6"[^>]*>.*?</dataValidation>', "", xml, flags=re.S)
        assert n == 1
        return new

    edit_part(path, sheet_part(path, T3), drop_validation)
    assert ("DRIFT-VALIDATION-MISSING", "D6") in found(path)


def test_a_total_saved_without_any_result_is_named_as_blank(tmp_path, fmt2021):
    import openpyxl

    path = make_template(fmt2021, UNIT, 2021, tmp_path / "t.xlsx").path
    wb = openpyxl.load_workbook(path)  # openpyxl saves formulas without their results
    wb[T3]["D6"] = 5
    wb.save(path)
    (stale,) = [f for f in check_file(path).findings if f.code == "NOT-RECALCULATED"]
    assert "J6（保存时为空白，应为 5）" in stale.message


def test_a_workbook_of_the_previous_template_version_still_reads(tmp_path, fmt2021):
    """Templates before 2021.2 had check cells without the pending guard: still intact, not drift."""
    import openpyxl

    from nianbao.rules import excel_result
    from nianbao.template import META_SHEET, ref_name

    values = consistent_fill(fmt2021, random.Random(12))
    path = write(fmt2021, tmp_path / "new.xlsx", values, year=2021)
    sub = read_submission(path)
    book = openpyxl.load_workbook(path)  # our own test edit, never done to a unit's file
    for rule in fmt2021.rules:
        loc = sub.locations.get(f"check.{rule.key}")
        if loc is not None:
            book[loc.sheet][loc.cell].value = "=" + excel_result(rule.compare, ref_name)
    meta = book[META_SHEET]
    row = next(r for r in range(1, meta.max_row + 1) if meta.cell(r, 1).value == "template_version")
    meta.cell(row, 2).value = "2021.1"
    old = tmp_path / "old.xlsx"
    book.save(old)
    report = check_file(old)
    codes = {f.code for f in report.findings}
    assert report.submission.template_version == "2021.1"
    assert "DRIFT-FORMULA-CHANGED" not in codes and "DRIFT-OLD-TEMPLATE" in codes
    inputs = [c.id for c in fmt2021.input_cells]  # openpyxl keeps no cached totals; inputs are what was typed
    assert [report.submission.values[c] for c in inputs] == [read_submission(path).values[c] for c in inputs]

"""The generated template, opened with openpyxl and compared with the format definition."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from nianbao.layout import display_width, table_layout
from nianbao.read.reader import read_submission
from nianbao.template import (
    CHECK_SHEET,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    NARRATIVE_SHEET,
    CHECK_WIDTHS,
    MIN_PRINT_SCALE,
    make_template,
    one_page_scale,
)

from nianbao.findings import AFTER_SENDING, after_sending_sentence
from nianbao.livechecks import COMMON_FUNCTIONS as ALLOWED_FUNCTIONS
from nianbao.livechecks import PENDING_TEXT

UNIT = {"name": "张巷镇人民政府", "code": "360981101", "contact": "李明", "phone": "0795-6532011"}


@pytest.fixture(scope="module", params=[("gov-info-disclosure-2021", 2021), ("gov-info-disclosure-2019", 2020)],
                ids=["2021", "2019"])
def generated(request, tmp_path_factory):
    from nianbao.format import load_format

    key, year = request.param
    fmt = load_format(key)
    out = tmp_path_factory.mktemp(key) / "template.xlsx"
    result = make_template(fmt, UNIT, year, out, token="abc123")
    return fmt, result, openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)


def a1(row: int, col: int) -> str:
    return f"{get_column_letter(col + 1)}{row + 1}"


def test_sheets_in_order(generated):
    fmt, _, wb, _ = generated
    tables = [t.sheet for t in fmt.tables.values()]
    assert wb.sheetnames == [INSTRUCTIONS_SHEET, NARRATIVE_SHEET, *tables, CHECK_SHEET, META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert all(wb[s].sheet_state == "visible" for s in wb.sheetnames[:-1])


def test_every_official_label_and_merge_is_in_place(generated):
    fmt, _, wb, _ = generated
    for table in fmt.tables.values():
        layout = table_layout(table)
        ws = wb[table.sheet]
        for box in layout.boxes:
            if box.role != "cell":
                assert ws[a1(box.row, box.col)].value == (box.text or None), (table.id, box)
        expected = {f"{a1(b.row, b.col)}:{a1(b.last_row, b.last_col)}" for b in layout.boxes if b.merged}
        assert {str(r) for r in ws.merged_cells.ranges} == expected
        # Labels are the definition's: every row and column label appears on the sheet.
        texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        for block in table.blocks:
            assert {c.label for c in block.columns} <= texts
            assert {r.label for r in block.rows if r.label} <= texts


def test_table3_header_is_the_official_one(generated):
    fmt, _, wb, _ = generated
    ws = wb[fmt.tables["t3"].sheet]
    merged = {str(r) for r in ws.merged_cells.ranges}
    # Corner note: 3 label columns × 3 header rows; 申请人情况 across the 7 data columns;
    # 自然人 and 总计 over two header rows; 法人或其他组织 over its five columns.
    assert ws["A3"].value.startswith("（本列数据的勾稽关系为") and "A3:C5" in merged
    assert ws["D3"].value == "申请人情况" and "D3:J3" in merged
    assert ws["D4"].value == "自然人" and "D4:D5" in merged
    assert ws["E4"].value == "法人或其他组织" and "E4:I4" in merged
    assert ws["J4"].value == "总计" and "J4:J5" in merged
    assert ws["A8"].value == "三、本年度办理结果"


def test_protection_everywhere_and_structure_locked(generated):
    _, _, wb, _ = generated
    assert wb.security is not None and wb.security.lockStructure
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        # OOXML flags say what is locked: rows and columns can be neither inserted nor deleted,
        # while row heights and column widths may be adjusted for long text.
        p = ws.protection
        assert p.insertRows and p.deleteRows and p.insertColumns and p.deleteColumns and p.formatCells
        assert not p.formatRows and not p.formatColumns


def _unlocked(wb) -> set[tuple[str, str]]:
    """Unlocked cells; a merged input (表二's one-value blocks) counts as its top-left cell."""
    out = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.protection is not None and c.protection.locked is False:
                    merge = next((r for r in ws.merged_cells.ranges if c.coordinate in r), None)
                    out.add((ws.title, merge.start_cell.coordinate if merge else c.coordinate))
    return out


def test_only_input_cells_are_unlocked_and_each_has_a_defined_name(generated):
    fmt, _, wb, _ = generated
    expected: set[tuple[str, str]] = set()
    for cell in fmt.input_cells:
        (dest,) = list(wb.defined_names[cell.name].destinations)
        expected.add((dest[0], dest[1].replace("$", "")))
    for narrative in fmt.narratives:
        (dest,) = list(wb.defined_names[narrative.name].destinations)
        assert dest[0] == NARRATIVE_SHEET
        expected.add((dest[0], dest[1].replace("$", "")))
    for field in fmt.unit_fields:
        (dest,) = list(wb.defined_names[field.name].destinations)
        if field.input:
            expected.add((dest[0], dest[1].replace("$", "")))
    assert _unlocked(wb) == expected
    assert len(expected) == len(fmt.input_cells) + len(fmt.narratives) + sum(f.input for f in fmt.unit_fields)


def test_derived_cells_are_formulas_over_defined_names(generated):
    fmt, _, wb, _ = generated
    for cell_id in fmt.derived:
        sheet, ref = next(iter(wb.defined_names[fmt.cells[cell_id].name].destinations))
        value = wb[sheet][ref.replace("$", "")].value
        assert isinstance(value, str) and value.startswith("=SUM(nb_"), (cell_id, value)


def test_every_number_input_has_validation(generated):
    fmt, _, wb, _ = generated
    for cell in fmt.input_cells:
        sheet, ref = next(iter(wb.defined_names[cell.name].destinations))
        ref = ref.replace("$", "")
        rules = [dv for dv in wb[sheet].data_validations.dataValidation if ref in dv.sqref]
        assert len(rules) == 1, (cell.id, rules)
        dv = rules[0]
        assert dv.showErrorMessage and dv.error and dv.prompt
        if cell.kind == "count":
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
        elif cell.kind == "amount":
            assert dv.type == "custom" and "ROUND" in dv.formula1
        else:
            assert dv.type == "whole" and dv.operator in (None, "between")  # between is OOXML's default


def test_formulas_use_only_common_functions(generated):
    _, _, wb, _ = generated
    found: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    found |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", c.value))
    assert found and found <= ALLOWED_FUNCTIONS


def test_stored_results_read_sensibly_before_recalculation(generated):
    """A fresh template, before any recalculation: nothing passes, every rule waits for its inputs."""
    fmt, result, wb, values = generated
    checks = values[CHECK_SHEET]
    rows = [r for r in range(4, checks.max_row + 1) if checks.cell(r, 7).value in {rule.rule_id for rule in fmt.rules}]
    assert len(rows) == result.checks
    assert {checks.cell(r, 4).value for r in rows} == {PENDING_TEXT}
    assert {checks.cell(r, 5).value for r in rows} <= {None, ""}  # no difference computed from blanks
    blanks = [r for r in range(4, rows[0]) if checks.cell(r, 7).value in ("BLANK", "REQUIRED")]
    assert blanks and {checks.cell(r, 4).value for r in blanks} == {PENDING_TEXT}
    status = values[INSTRUCTIONS_SHEET]["B3"].value
    assert status.startswith("尚未填写") and "通过" not in status.replace("全部通过", "")


def test_metadata_sheet_and_document_properties(generated):
    fmt, result, wb, _ = generated
    sub = read_submission(result.path)
    assert (sub.format.key, sub.year, sub.unit_name, sub.unit_code, sub.token) == (
        fmt.key, result.year, UNIT["name"], UNIT["code"], "abc123")
    assert sub.template_version == fmt.template_version
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["nianbao_format_key"] == fmt.key and props["nianbao_token"] == "abc123"
    assert props["nianbao_unit_name"] == UNIT["name"] and props["nianbao_year"] == str(result.year)
    # The cell map covers every number cell and narrative part.
    assert set(fmt.cells) <= set(sub.locations)
    assert {f"narrative.{n.id}" for n in fmt.narratives} <= set(sub.locations)
    assert sub.unit["contact"] == UNIT["contact"]


def test_print_setup_and_layout(generated):
    fmt, _, wb, _ = generated
    ws = wb[fmt.tables["t3"].sheet]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    # Fit to one page wide (fitToWidth=1 is OOXML's default, so it is omitted), any number tall.
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    # 表三 fits one landscape page at a legible scale; were it split, pages repeat headers and labels.
    assert (ws.page_setup.fitToHeight or 1) == (1 if one_page_scale(table_layout(fmt.tables["t3"]), True) >= MIN_PRINT_SCALE
                                         else 0)
    assert ws.print_title_rows == "$3:$5" and ws.print_title_cols == "$A:$C"
    assert ws.freeze_panes == "D6"
    assert ws.column_dimensions["C"].width >= 30
    # Long labels get rows tall enough for their wrapped text.
    row = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 2).value or "").startswith("（二）部分公开"))
    assert ws.row_dimensions[row].height >= 30


def _filled_copy(path: Path, values: dict[str, float], out: Path) -> Path:
    """Our own test fill (never done to a unit's file): set input cells by defined name."""
    wb = openpyxl.load_workbook(path)
    for name, value in values.items():
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(out)
    return out


def test_previous_year_prefills_carry_over_and_records_valid_documents(tmp_path, fmt2021):
    last = make_template(fmt2021, UNIT, 2021, tmp_path / "2021.xlsx").path
    cols = [c.id for c in fmt2021.tables["t3"].blocks[0].columns if c.id != "total"]
    values = {f"nb_t3_carry_forward_{c}": i + 1 for i, c in enumerate(cols)}
    values.update({"nb_t2_regulations_valid": 4, "nb_t2_normative_documents_valid": 17})
    filled = _filled_copy(last, values, tmp_path / "2021-filled.xlsx")
    prev = read_submission(filled)
    result = make_template(fmt2021, UNIT, 2022, tmp_path / "2022.xlsx", previous=prev)
    assert result.prefilled == {f"t3.carried_over.{c}": Decimal(i + 1) for i, c in enumerate(cols)}
    sub = read_submission(result.path)
    assert sub.values["t3.carried_over.business"] == 2
    assert sub.previous["t2.normative_documents.valid"] == 17
    assert sub.previous["t3.carry_forward.natural"] == 1
    wb = openpyxl.load_workbook(result.path, data_only=True)
    keys = [c.value for c in wb[CHECK_SHEET]["G"][3:]]
    assert "CARRY-OVER" in keys and "VALID-DOCS" in keys
    # Prefilled inputs stay editable, and R2's total is computed from them.
    assert wb[fmt2021.tables["t3"].sheet]["J7"].value == sum(range(1, 7))


def test_template_without_previous_omits_cross_year_checks(generated):
    _, _, wb, _ = generated
    keys = {c.value for c in wb[CHECK_SHEET]["G"][3:]}
    assert "CARRY-OVER" not in keys and "VALID-DOCS" not in keys and "T3-BALANCE" in keys


def _check_rows(ws):
    return [r for r in range(4, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]


def test_check_sheet_speaks_chinese_and_links_to_the_cells(generated):
    fmt, result, wb, _ = generated
    ws = wb[CHECK_SHEET]
    sub = read_submission(result.path)
    rows = _check_rows(ws)
    codes = {r.rule_id for r in fmt.rules}
    assert len([r for r in rows if ws.cell(r, 7).value in codes]) == result.checks
    by_key = {sub.locations[f"check.{r.key}"].cell: r for r in fmt.rules if f"check.{r.key}" in sub.locations}
    for r in rows:
        description, where = ws.cell(r, 2).value, ws.cell(r, 3)
        assert re.search(r"[\u4e00-\u9fff]", description) and not re.search(r"[A-Za-z]{2,}", description), description
        assert re.search(r"[\u4e00-\u9fff]", where.value), where.value
        assert display_width(where.value) <= CHECK_WIDTHS[2] - 1, where.value  # links do not wrap
        # Every row links to a cell that exists: a rule's row to its first cell.
        link = where.hyperlink.location
        sheet, cell = link.rsplit("!", 1)
        sheet = sheet.strip("'")
        assert sheet in wb.sheetnames and re.fullmatch(r"[A-Z]+[0-9]+", cell), link
        rule = by_key.get(f"D{r}")
        if rule is not None:
            loc = sub.locations[rule.cells[0]]
            assert (sheet, cell) == (loc.sheet, loc.cell), (rule.key, link)
    # The rule code stays, in a narrow column for the coordinator.
    assert ws.column_dimensions["G"].width <= 16 and ws.column_dimensions["B"].width >= 40
    # One page wide: the helper columns are hidden and outside the print area.
    assert ws.print_area and "$A$1:$G$" in ws.print_area
    helper = ws.column_dimensions["H"]
    assert helper.hidden and helper.max >= 10  # H:J, one column group


def test_instructions_list_what_is_checked_after_sending(generated):
    fmt, _, wb, _ = generated
    texts = [c.value for row in wb[INSTRUCTIONS_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert after_sending_sentence() in texts
    assert all(topic in after_sending_sentence() for topic in AFTER_SENDING.values())
    assert not any("nianbao" in t.lower() for t in texts if not t.startswith("="))
    assert sum(t.startswith("必填。") for t in texts) == sum(1 for f in fmt.unit_fields if f.input and f.required)


def test_formulas_fit_every_office_suite(generated):
    """Excel's limits: 8,192 characters per formula, 255 arguments per function."""
    _, _, wb, _ = generated
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert len(c.value) < 8192, (ws.title, c.coordinate)
                    for args in re.findall(r"(?:COUNT|MAX)\(([^()]*)\)", c.value):
                        assert args.count(",") < 255, (ws.title, c.coordinate)

"""The reader: identity, numbers as stored and normalised, formula cells, refusals."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import xlsxwriter

from fixtures.workbooks import UNIT, consistent_fill, write
from nianbao.read import reader
from nianbao.errors import InputFileError
from nianbao.read.reader import read_submission, read_workbook


def test_reads_identity_numbers_and_formulas(tmp_path, fmt2021):
    values = consistent_fill(fmt2021, random.Random(5))
    values["t3.new.natural"] = " ８ "
    path = write(fmt2021, tmp_path / "x.xlsx", values, year=2021, token="tok9")
    sub = read_submission(path)
    assert (sub.format.key, sub.year, sub.unit_name, sub.token) == (fmt2021.key, 2021, UNIT["name"], "tok9")
    assert sub.unit["contact"] == UNIT["contact"]
    assert sub.values["t3.new.natural"] == Decimal(8) and sub.raw["t3.new.natural"] == " ８ "
    assert sub.values["t2.fees.amount"] == values["t2.fees.amount"]
    # A formula cell keeps its formula as raw content and its stored result as value.
    assert sub.raw["t3.new.total"].startswith("=SUM(")
    assert sub.narratives["on_request"].startswith("2021年共收到")


def test_reading_records_how_each_cell_was_found(tmp_path, fmt2021):
    path = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(1)), year=2021)
    reading = read_workbook(path)
    assert not reading.unlocated
    assert {p.how for p in reading.places.values()} == {"name"}
    first_check = reading.submission.locations[f"check.{fmt2021.rules[0].key}"]
    assert reading.cached(first_check.sheet, first_check.cell) == "通过"


def test_a_plain_workbook_is_not_a_template(tmp_path):
    path = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sheet1").write(0, 0, "一、本年新收政府信息公开申请数量")
    wb.close()
    with pytest.raises(InputFileError) as err:
        read_submission(path)
    assert err.value.code == "NOT-TEMPLATE" and "自制或旧版的年报表格" in str(err.value)


@pytest.mark.parametrize("content, code", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "FILE-"),
    ("单位,申请数\n张巷镇,12\n".encode("gbk"), "FILE-TEXT"),
    (b"PK\x03\x04" + b"\0" * 40, "FILE-"),
])
def test_wrong_files_are_refused_with_a_code(tmp_path, content, code):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        read_submission(path)
    assert err.value.code.startswith(code) and str(path) in str(err.value)


def test_too_many_cells_are_refused_before_loading(tmp_path, fmt2021, monkeypatch):
    path = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(1)), year=2021)
    monkeypatch.setattr(reader, "MAX_CELL_XML_BYTES", 10_000)
    with pytest.raises(InputFileError) as err:
        read_submission(path)
    assert err.value.code == "FILE-TOO-MANY-CELLS"


def test_a_returned_file_is_opened_once_and_each_part_inflated_once(tmp_path, fmt2021, monkeypatch):
    import zipfile

    path = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(2)), year=2021)
    opened, inflated = [], []
    real_init, real_open = zipfile.ZipFile.__init__, zipfile.ZipFile.open

    def counting_init(self, file, *args, **kwargs):
        opened.append(str(file))
        real_init(self, file, *args, **kwargs)

    def counting_open(self, name, *args, **kwargs):
        inflated.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    reading = read_workbook(path)
    assert reading.submission.values and not reading.unlocated
    assert opened == [str(path)]
    assert len(inflated) == len(set(inflated))  # [Content_Types].xml, then every member, once each


def test_the_number_formats_read_without_openpyxl_are_those_openpyxl_calls_numbers():
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    from nianbao.read.parts import NUMBER_BUILTINS, _may_be_date

    assert NUMBER_BUILTINS == {i for i, code in BUILTIN_FORMATS.items()
                               if not is_date_format(code) and not is_timedelta_format(code)}
    for code in ["General", "0", "0.####", "@", "#,##0.00", "0.00E+00", "yyyy-mm-dd", "[h]:mm", "m/d",
                 '"年"0', "[Red]0", "上午/下午h时", "[$-804]yyyy\"年\"m\"月\"d\"日\""]:
        if is_date_format(code) or is_timedelta_format(code):
            assert _may_be_date(code), code  # a necessary condition: never skips a real date format


def test_custom_properties_read_without_openpyxl_as_openpyxl_types_them():
    from lxml import etree
    from openpyxl.packaging.custom import CustomPropertyList

    from nianbao.read.parts import _custom_properties

    head = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">')
    prop = '<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{}" name="{}">{}</property>'
    cases = [
        [("nianbao_year", "<vt:lpwstr>2021</vt:lpwstr>"), ("nianbao_unit_name", "<vt:lpwstr>张巷镇</vt:lpwstr>")],
        [("nianbao_year", "<vt:i4>2021</vt:i4>"), ("b", "<vt:bool>true</vt:bool>"), ("r", "<vt:r8>1.5</vt:r8>")],
        [("a", "<vt:lpwstr>x</vt:lpwstr>"), ("a", "<vt:lpwstr>y</vt:lpwstr>")],
        [("e", "<vt:lpwstr></vt:lpwstr>")],
    ]
    for props in cases:
        root = etree.fromstring(head + "".join(prop.format(i + 2, n, v) for i, (n, v) in enumerate(props))
                                + "</Properties>")
        expected = {p.name: str(p.value) for p in CustomPropertyList.from_tree(root)}
        assert _custom_properties(root) == expected


def test_checking_a_returned_file_does_not_import_openpyxl(tmp_path, fmt2021):
    """openpyxl takes 0.2 s to import (numpy): a one-file `nianbao check` should not pay it."""
    import subprocess
    import sys
    from pathlib import Path

    written = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(3)), year=2021)
    sample = Path(__file__).resolve().parents[1] / "samples" / "张巷镇人民政府2021年报.xlsx"
    code = ("import sys; from nianbao.cli import main; code = main(['check', sys.argv[1]]); "
            "print('openpyxl' in sys.modules, code)")
    for path in (written, sample):
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
        assert out.stdout.strip().splitlines()[-1] == "False 0", (path, out.stdout[-500:], out.stderr[-500:])


def test_reading_and_checking_never_import_the_template_writer():
    """The fixed sheet names live in nianbao.sheets: the read and check stages do not reach back
    into the writer (and a one-file check does not pay xlsxwriter's import)."""
    import subprocess
    import sys

    code = ("import sys, nianbao.check, nianbao.commands.check, nianbao.report.model; "
            "print(sorted(m for m in ('nianbao.template', 'xlsxwriter', 'openpyxl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- the cell map


def test_the_cell_map_is_a_few_texts_that_read_back_to_every_entry():
    from nianbao.sheets import cell_map_entries, cell_map_texts

    entries = [("number", f"t3.new.c{i}", "表三 依申请公开", f"D{i}", f"nb_t3_new_c{i}") for i in range(400)]
    texts = cell_map_texts(entries)
    assert len(texts) > 1 and all(len(t) <= 8000 for t in texts)  # split between entries, under Excel's limit
    assert [e for t in texts for e in cell_map_entries(t)] == entries
    assert cell_map_entries("number|a\n\nx|y|z|w|v|extra") == [("number", "a", "", "", ""), ("x", "y", "z", "w", "v")]
    with pytest.raises(ValueError):
        cell_map_texts([("number", "a|b", "s", "A1", "n")])


def test_a_template_keeps_its_cell_map_in_a_few_cells(tmp_path, fmt2021):
    import openpyxl

    from nianbao.sheets import META_SHEET

    path = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(3)), year=2021)
    meta = openpyxl.load_workbook(path)[META_SHEET]
    assert sum(1 for row in meta.iter_rows() for c in row if c.value is not None) < 60  # was 1,300 cells
    assert len(read_workbook(path).meta.cells) > 250


def test_templates_before_the_compact_map_read_the_same(tmp_path, fmt2021):
    """Templates already sent out hold the map one row an entry; they read exactly as before."""
    import openpyxl

    from fixtures.workbooks import as_row_map

    path = write(fmt2021, tmp_path / "new.xlsx", consistent_fill(fmt2021, random.Random(4)), year=2021)
    wb = openpyxl.load_workbook(path)
    as_row_map(wb)
    wb.save(tmp_path / "old.xlsx")
    new, old = read_workbook(path), read_workbook(tmp_path / "old.xlsx")
    assert len(old.meta.cells) == len(new.meta.cells) > 250 and old.meta.cells == new.meta.cells
    assert old.places == new.places and old.submission.raw == new.submission.raw  # (openpyxl keeps no cached totals)

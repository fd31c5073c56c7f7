"""Sheets of plain values read from their bytes give exactly what the lxml tree route gives."""

from __future__ import annotations

import random
import zipfile

import pytest

from fixtures.workbooks import consistent_fill, sheet_part, write
from nianbao.read import parts
from nianbao.read.cells import plain_cells
from nianbao.read.package import open_package
from nianbao.read.reader import _check_cell_budget
from nianbao.sheets import META_SHEET

HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1"/>')
TAIL = b'<sheetProtection sheet="1"/><dataValidations count="1"><dataValidation sqref="B2:C3"/></dataValidations></worksheet>'

CELLS = [
    b'<c r="{r}" t="s"><v>{i}</v></c>', b'<c r="{r}" s="1" t="s"><v>{i}</v></c>', b'<c r="{r}"><v>12</v></c>',
    b'<c r="{r}" t="n"><v>13.0</v></c>', b'<c r="{r}" s="2"><v>44000</v></c>',  # style 2 is a date
    b'<c r="{r}" t="inlineStr"><is><t>&#24352;&amp;&lt;x&gt;</t></is></c>', b'<c r="{r}" t="inlineStr"><is><t/></is></c>',
    b'<c r="{r}" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>', b'<c r="{r}" t="inlineStr"></c>',
    b'<c r="{r}" t="str"><v>&quot;q&apos;</v></c>', b'<c r="{r}" t="b"><v>1</v></c>', b'<c r="{r}" t="e"><v>#N/A</v></c>',
    b'<c r="{r}" t="s"><v></v></c>', b'<c r="{r}" t="s"/>', b'<c r="{r}"/>', b'<c r="{r}" s="1"><v/></c>',
    b'<c r="{r}"><v>1E+5000</v></c>', b'<c r="{r}"><v>NaN</v></c>', b'<c r="{r}" t="s"><v> 3 </v></c>',
]
STYLES = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="3">'
          b'<xf numFmtId="0"/><xf numFmtId="49"/><xf numFmtId="14"/></cellXfs></styleSheet>')


def _book(tmp_path, sheet_xml: bytes, name: str):
    """A minimal package holding one worksheet part, read through the reading model."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default '
                    'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                    'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                    '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxml'
                    'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
                    'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main">' + "".join(f"<si><t>s{i}</t></si>" for i in range(20)) + "</sst>")
        zf.writestr("xl/styles.xml", STYLES)
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return parts.read_book(open_package(path, budget=_check_cell_budget)).sheets["S"]


def _everything(sheet) -> tuple:
    cells = sorted(sheet._cells)
    return (sheet.protected, sheet.validations, [(a1, repr(sheet.value(a1)), repr(sheet.cached(a1))) for a1 in cells],
            repr(sheet.used_rows(4)))


@pytest.mark.parametrize("seed", range(40))
def test_plain_cells_read_as_the_tree_reads_them(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    rows = []
    for r in range(1, rng.randint(2, 6)):
        cells = b"".join(rng.choice(CELLS).replace(b"{r}", f"{c}{r}".encode()).replace(b"{i}", str(rng.randint(0, 19)).encode())
                         for c in "ABCD"[:rng.randint(0, 4)])
        rows.append(b'<row r="%d" spans="1:4">%s</row>' % (r, cells) if cells or rng.random() < .5 else b'<row r="%d"/>' % r)
    xml = HEAD + b"<sheetData>" + b"".join(rows) + b"</sheetData>" + TAIL
    assert plain_cells(xml) is not None
    try:
        fast = _everything(_book(tmp_path, xml, "fast.xlsx"))
    except Exception as err:  # noqa: BLE001 - the same refusal is expected of the tree
        fast = ("refused", getattr(err, "code", type(err).__name__))
    monkeypatch.setattr(parts, "plain_cells", lambda data: None)
    try:
        tree = _everything(_book(tmp_path, xml, "tree.xlsx"))
    except Exception as err:  # noqa: BLE001
        tree = ("refused", getattr(err, "code", type(err).__name__))
    assert fast == tree


@pytest.mark.parametrize("sheet_data", [
    b'<sheetData><row r="1"><c r="A1" t="s"><v>1<!-- x -->2</v></c></row></sheetData>',  # a comment
    b'<sheetData><row r="1"><c r="A1" t="str"><v><![CDATA[x]]></v></c></row></sheetData>',  # CDATA
    b'<sheetData><row r="1"><c t="s" r="A1"><v>1</v></c></row></sheetData>',  # another attribute order
    b'<sheetData><row r="1"><c r="a1" t="s"><v>1</v></c></row></sheetData>',  # a lower-case reference
    b'<sheetData><row r="1"><c r="A1" t="s"><v>1</v><v>2</v></c></row></sheetData>',  # two values
    b'<sheetData><row r="1"><c r="A1" t="str"><v>a\r\nb</v></c></row></sheetData>',  # XML rewrites CR LF
    b'<sheetData> <row r="1"/></sheetData>',  # white space between elements
    b'<sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row></sheetData>',  # formulas: the tree
    b'<sheetData><row r="1"><x:c xmlns:x="urn:x" r="A1"/></row></sheetData>',  # another namespace
    b'<sheetData><row r="1" xmlns="urn:x"><c r="A1" t="s"><v>1</v></c></row></sheetData>',  # cells moved out of it
])
def test_anything_else_goes_to_the_tree(sheet_data):
    assert plain_cells(HEAD + sheet_data + TAIL) is None or b"<f>" in sheet_data


def test_a_cut_out_sheet_data_that_is_not_the_roots_own_goes_to_the_tree(tmp_path):
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           b'2006/main"><extLst><ext xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row '
           b'r="1"><c r="A1" t="s"><v>3</v></c></row></sheetData></ext></extLst></worksheet>')
    assert plain_cells(xml) is not None  # the pattern alone would take it…
    assert _book(tmp_path, xml, "x.xlsx"). _cells == {}  # …but the tree, like openpyxl, sees no cells there


def test_other_encodings_go_to_the_tree():
    xml = HEAD.replace(b"UTF-8", b"GB18030") + b'<sheetData><row r="1"/></sheetData>' + TAIL
    assert plain_cells(xml) is None


def test_the_meta_sheet_of_a_real_template_is_read_from_its_bytes(tmp_path, fmt2021):
    path = write(fmt2021, tmp_path / "x.xlsx", consistent_fill(fmt2021, random.Random(5)), year=2021)
    with zipfile.ZipFile(path) as zf:
        meta = zf.read(sheet_part(path, META_SHEET))
    assert b"<f" not in meta and plain_cells(meta) is not None

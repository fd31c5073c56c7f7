"""Tests for nianbao.read.package: every returned file is hostile until proven to be a plain .xlsx.

All fixtures are built in pure Python in a temporary directory: real workbooks with
xlsxwriter, foreign and hostile zips with zipfile, OLE2 compound files with a tiny hand-written
[MS-CFB] writer (checked against olefile while it was written).  One optional test, marked
``libreoffice``, cross-checks real files converted by LibreOffice.
"""

from __future__ import annotations

import copy
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.read import package as sniff_module
from nianbao.errors import InputFileError
from nianbao.read.package import (
    CODES,
    MAX_TOTAL_UNCOMPRESSED,
    check_xml_safe,
    openpyxl_is_hardened,
    parse_xml,
    read_member,
    require_hardened_openpyxl,
    sniff,
)

# ============================================================================ builders


def make_xlsx(path: Path) -> Path:
    """A real workbook as our templates are made (xlsxwriter), with Chinese text."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    ws = wb.add_worksheet("表一 收到申请")
    ws.write("A1", "本年新收政府信息公开申请数量")
    ws.write_number("B1", 12)
    ws.write_formula("B2", "=B1*2", None, "")
    wb.define_name("t1_total", "='表一 收到申请'!$B$1")
    wb.set_custom_property("template_id", "gov-info-disclosure")
    meta = wb.add_worksheet("_meta")
    meta.write("A1", "unit")
    meta.very_hidden()
    wb.close()
    return path


def rewrite_zip(src: Path, dst: Path, *, replace: dict[str, bytes | None] | None = None,
                add: dict[str, bytes] | None = None,
                edit: dict[str, Callable[[bytes], bytes]] | None = None) -> Path:
    """Copy a zip, replacing (None = dropping) or editing members and adding new ones."""
    replace, add, edit = replace or {}, add or {}, edit or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    zout.writestr(info.filename, replace[info.filename])
                continue
            data = zin.read(info)
            if info.filename in edit:
                data = edit[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def make_zip(path: Path, members: dict[str, bytes], *,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def content_types(main_part: str, main_type: str, extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/>{extra}</Types>'
    ).encode()


RELS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"/>')

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">'
                            for i in range(1, 10))
                  + "]>")


def inject_doctype(data: bytes, doctype: str = BILLION_LAUGHS,
                   use: tuple[str, str] | None = None) -> bytes:
    text = data.decode("utf-8")
    end = text.index("?>") + 2 if text.startswith("<?xml") else 0
    text = text[:end] + doctype + text[end:]
    if use is not None:
        assert use[0] in text
        text = text.replace(use[0], use[1], 1)
    return text.encode("utf-8")


# ---- OLE2 compound files ([MS-CFB] version 3, 512-byte sectors) -----------------------------

_ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def build_cfb(tree: dict[str, object]) -> bytes:
    """A minimal but conformant compound file; ``tree`` maps names to bytes or sub-dicts.

    Streams under 4096 bytes go to the mini stream (with a mini FAT), as the spec requires;
    one FAT sector, so fixtures stay under ~64 KB.
    """
    entries: list[list] = [["Root Entry", 5, [], b""]]

    def add(name: str, node: object) -> int:
        idx = len(entries)
        if isinstance(node, dict):
            entries.append([name, 1, [], b""])
            entries[idx][2] = [add(k, v) for k, v in node.items()]
        else:
            entries.append([name, 2, [], bytes(node)])  # type: ignore[arg-type]
        return idx

    entries[0][2] = [add(k, v) for k, v in tree.items()]
    mini, minifat, starts = bytearray(), [], {}
    for i, (_, kind, _, data) in enumerate(entries):
        if kind == 2 and 0 < len(data) < 4096:
            first, n = len(mini) // 64, -(-len(data) // 64)
            minifat += [first + k + 1 for k in range(n - 1)] + [_ENDOFCHAIN]
            mini += data.ljust(n * 64, b"\0")
            starts[i] = first
    sectors: list[bytes | None] = [None]  # sector 0 holds the FAT
    fat = [_FATSECT]

    def alloc(data: bytes) -> int:
        n, first = -(-len(data) // 512), len(fat)
        fat.extend([first + k + 1 for k in range(n - 1)] + [_ENDOFCHAIN])
        data = bytes(data).ljust(n * 512, b"\0")
        sectors.extend(data[k * 512:(k + 1) * 512] for k in range(n))
        return first

    n_dir = -(-len(entries) // 4)
    dir_first = alloc(b"\0" * (n_dir * 512))
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_first = alloc(minifat_bytes) if minifat else _ENDOFCHAIN
    mini_first = alloc(bytes(mini)) if mini else _ENDOFCHAIN
    for i, (_, kind, _, data) in enumerate(entries):
        if kind == 2 and len(data) >= 4096:
            starts[i] = alloc(data)
    assert len(fat) <= 128, "fixture too big for one FAT sector"
    sectors[0] = b"".join(struct.pack("<I", v) for v in fat).ljust(512, b"\xff")
    right: dict[int, int] = {}
    for entry in entries:
        kids = entry[2]
        right.update({kid: kids[j + 1] if j + 1 < len(kids) else _NOSTREAM
                      for j, kid in enumerate(kids)})
    directory = bytearray()
    for i, (name, kind, kids, data) in enumerate(entries):
        raw = name.encode("utf-16-le")
        if i == 0:
            start, size = mini_first, len(mini)
        elif kind == 2:
            start, size = starts.get(i, _ENDOFCHAIN), len(data)
        else:
            start, size = 0, 0
        directory += (raw + b"\0\0").ljust(64, b"\0") + struct.pack(
            "<HBBIII16sIQQIQ", len(raw) + 2, kind, 1, _NOSTREAM, right.get(i, _NOSTREAM),
            kids[0] if kids else _NOSTREAM, b"\0" * 16, 0, 0, 0, start, size)
    directory = directory.ljust(n_dir * 512, b"\0")
    for k in range(n_dir):
        sectors[dir_first + k] = bytes(directory[k * 512:(k + 1) * 512])
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3,
        0xFFFE, 9, 6, b"\0" * 6, 0, 1, dir_first, 0, 4096, minifat_first,
        -(-len(minifat_bytes) // 512), _ENDOFCHAIN, 0)
    header += struct.pack("<I", 0) + b"\xff" * (4 * 108)
    return header + b"".join(s for s in sectors if s is not None)


BOF = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 5, 0x0DBB, 0x07CC, 0, 6)
FILEPASS = struct.pack("<HH", 0x002F, 54) + b"\x01\x00" + b"\x5a" * 52
INTERFACEHDR = struct.pack("<HHH", 0x00E1, 2, 0x04B0)
EOF_RECORD = struct.pack("<HH", 0x000A, 0)
SUMMARY = {"\x05SummaryInformation": b"\xfe\xff" + b"\0" * 100,
           "\x05DocumentSummaryInformation": b"\xfe\xff" + b"\0" * 100}


def biff(*records: bytes, pad_to: int = 0) -> bytes:
    data = b"".join(records)
    return data + b"\0" * max(0, pad_to - len(data))


# ============================================================================ fixtures


@pytest.fixture()
def xlsx(tmp_path: Path) -> Path:
    return make_xlsx(tmp_path / "真实工作簿.xlsx")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One entry of 200 MB of zeros (about 200 KB compressed), streamed by zipfile."""
    path = tmp_path_factory.mktemp("bomb") / "炸弹.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types("xl/workbook.xml", XLSX_MAIN))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(200):
                f.write(block)
    assert path.stat().st_size < 1024 * 1024
    return path


def expect(path: Path, code: str, *fragments: str) -> InputFileError:
    """Sniff ``path``; it must fail with ``code`` in under a second; return the error."""
    started = time.perf_counter()
    with pytest.raises(InputFileError) as caught:
        sniff(path)
    elapsed = time.perf_counter() - started
    err = caught.value
    assert err.code == code, f"{err.code}: {err}"
    assert code in CODES
    message = str(err)
    assert message.startswith(f"{path}：")
    for fragment in fragments:
        assert fragment in message, message
    assert elapsed < 1.0, f"sniff took {elapsed:.2f}s"
    return err


# ============================================================================ genuine workbooks


def test_real_xlsx_is_accepted(xlsx: Path) -> None:
    started = time.perf_counter()
    assert sniff(xlsx) == "xlsx"
    assert time.perf_counter() - started < 1.0


def test_extension_does_not_matter(xlsx: Path, tmp_path: Path) -> None:
    for name in ("renamed.xls", "renamed.pdf", "no_extension"):
        target = tmp_path / name
        shutil.copy(xlsx, target)
        assert sniff(target) == "xlsx"


def test_xlsx_template_content_type_is_accepted(xlsx: Path, tmp_path: Path) -> None:
    xltx = rewrite_zip(xlsx, tmp_path / "t.xltx", edit={"[Content_Types].xml": lambda d: d.replace(
        b"spreadsheetml.sheet.main+xml", b"spreadsheetml.template.main+xml")})
    assert sniff(xltx) == "xlsx"


def test_workbook_declared_only_by_default_content_type(tmp_path: Path) -> None:
    # openpyxl tolerates a workbook part typed only through <Default Extension="xml">.
    src = make_xlsx(tmp_path / "a.xlsx")

    def retype(data: bytes) -> bytes:
        text = data.decode()
        text = text.replace(f'<Override PartName="/xl/workbook.xml" ContentType="{XLSX_MAIN}"/>',
                            "")
        return text.replace('Extension="xml" ContentType="application/xml"',
                            f'Extension="xml" ContentType="{XLSX_MAIN}"').encode()

    odd = rewrite_zip(src, tmp_path / "b.xlsx", edit={"[Content_Types].xml": retype})
    assert sniff(odd) == "xlsx"


def test_sniff_accepts_str_path(xlsx: Path) -> None:
    assert sniff(str(xlsx)) == "xlsx"  # type: ignore[arg-type]


# ============================================================================ plain foreign files


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "空.xlsx"
    path.write_bytes(b"")
    expect(path, "FILE-EMPTY", "0 字节")


@pytest.mark.parametrize(("content", "encoding"), [
    ("单位,申请数\n张巷镇,12\n", "utf-8"),
    ("单位,申请数\n张巷镇,12\n", "utf-8-sig"),
    ("单位,申请数\n张巷镇,12\n", "gbk"),
    ("单位\t申请数\r\n张巷镇\t12\r\n", "utf-16"),
    ("just some notes\n", "ascii"),
])
def test_csv_and_text(tmp_path: Path, content: str, encoding: str) -> None:
    path = tmp_path / "报表.xlsx"
    path.write_bytes(content.encode(encoding))
    expect(path, "FILE-TEXT", "纯文本", "Excel 工作簿(*.xlsx)")


def test_pdf(tmp_path: Path) -> None:
    path = tmp_path / "年报.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    expect(path, "FILE-PDF", "PDF", "Excel 工作簿(*.xlsx)")


@pytest.mark.parametrize(("head", "kind"), [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "PNG"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 40, "JPEG"),
    (b"GIF89a" + b"\0" * 40, "GIF"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\0" * 40, "WebP"),
])
def test_images(tmp_path: Path, head: bytes, kind: str) -> None:
    path = tmp_path / "拍照.xlsx"
    path.write_bytes(head)
    expect(path, "FILE-IMAGE", kind, "照片或扫描件")


def test_html_disguised_as_xls(tmp_path: Path) -> None:
    # Many systems export an HTML table and call it .xls.
    path = tmp_path / "导出.xls"
    path.write_text('<html xmlns:x="urn:schemas-microsoft-com:office:excel"><body><table>'
                    "<tr><td>12</td></tr></table></body></html>", encoding="utf-8")
    expect(path, "FILE-HTML", "网页", "Excel 工作簿(*.xlsx)")


def test_mht(tmp_path: Path) -> None:
    path = tmp_path / "page.xls"
    path.write_text("MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n\r\n",
                    encoding="ascii")
    expect(path, "FILE-HTML")


def test_excel_2003_xml(tmp_path: Path) -> None:
    path = tmp_path / "2003.xls"
    path.write_text('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
                    encoding="utf-8")
    expect(path, "FILE-XML2003", "Excel 2003 XML")


def test_rtf(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"{\\rtf1\\ansi hello}")
    expect(path, "FILE-NOT-WORKBOOK", "RTF")


@pytest.mark.parametrize(("data", "kind"), [
    (b"Rar!\x1a\x07\x01\x00" + b"\0" * 30, "RAR"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 30, "7z"),
    (gzip.compress(b"hello"), "gzip"),
])
def test_other_archives(tmp_path: Path, data: bytes, kind: str) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(data)
    expect(path, "FILE-ARCHIVE", kind, "解压")


def test_random_binary(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    expect(path, "FILE-UNKNOWN")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    expect(tmp_path / "nope.xlsx", "FILE-UNREADABLE", "无法读取")
    expect(tmp_path, "FILE-UNREADABLE", "不是一个普通文件")


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff_module, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"\0" * 1001)
    expect(path, "FILE-TOO-LARGE", "上限")


# ============================================================================ OLE2


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_legacy_xls(tmp_path: Path) -> None:
    data = build_cfb({"Workbook": biff(BOF, INTERFACEHDR, EOF_RECORD, pad_to=5000), **SUMMARY})
    err = expect(write(tmp_path / "报表.xlsx", data), "FILE-XLS",
                 "Excel 97-2003", "*.et", "另存为", "Excel 工作簿(*.xlsx)")
    assert "密码" not in str(err)


def test_legacy_xls_small_workbook_stream_in_mini_stream(tmp_path: Path) -> None:
    data = build_cfb({"Workbook": biff(BOF, INTERFACEHDR, EOF_RECORD, pad_to=1700), **SUMMARY})
    expect(write(tmp_path / "a.xls", data), "FILE-XLS")


def test_biff5_book_stream(tmp_path: Path) -> None:
    data = build_cfb({"Book": biff(BOF, EOF_RECORD, pad_to=4500)})
    expect(write(tmp_path / "a.xls", data), "FILE-XLS")


@pytest.mark.parametrize("pad_to", [1800, 6000], ids=["mini-stream", "regular-sectors"])
def test_password_protected_xls(tmp_path: Path, pad_to: int) -> None:
    data = build_cfb({"Workbook": biff(BOF, FILEPASS, INTERFACEHDR, EOF_RECORD, pad_to=pad_to),
                      **SUMMARY})
    expect(write(tmp_path / "a.xls", data), "FILE-ENCRYPTED", "打开密码", "*.xls")


def test_encrypted_ooxml(tmp_path: Path) -> None:
    data = build_cfb({
        "\x06DataSpaces": {
            "Version": b"\x3c\x00\x00\x00" + "Microsoft.Container.DataSpaces".encode("utf-16-le"),
            "DataSpaceMap": b"\x08\x00\x00\x00\x01\x00\x00\x00" + b"\0" * 100,
            "DataSpaceInfo": {"StrongEncryptionDataSpace": b"\0" * 64},
            "TransformInfo": {"StrongEncryptionTransform": {"\x06Primary": b"\0" * 200}},
        },
        "EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>" * 20,
        "EncryptedPackage": struct.pack("<Q", 5000) + os.urandom(5008),
    })
    expect(write(tmp_path / "加密.xlsx", data), "FILE-ENCRYPTED", "打开密码", "Excel 工作簿(*.xlsx)")


@pytest.mark.parametrize(("tree", "fragment"), [
    ({"WordDocument": b"\xec\xa5" + b"\0" * 5000, "1Table": b"\0" * 600, **SUMMARY},
     "Word 97-2003"),
    ({"PowerPoint Document": b"\0" * 5000, "Current User": b"\0" * 60}, "PowerPoint 97-2003"),
    ({"__properties_version1.0": b"\0" * 64, "__substg1.0_0037001F": "主题".encode("utf-16-le")},
     "Outlook"),
    ({"Contents": b"\0" * 300, "ETSomething": b"\0" * 100}, "WPS 专用格式"),
])
def test_other_ole2(tmp_path: Path, tree: dict[str, object], fragment: str) -> None:
    expect(write(tmp_path / "a.xlsx", build_cfb(tree)), "FILE-OLE-OTHER", fragment)


def test_ole2_truncated(tmp_path: Path) -> None:
    data = build_cfb({"Workbook": biff(BOF, EOF_RECORD, pad_to=5000)})
    expect(write(tmp_path / "a.xls", data[:600]), "FILE-CORRUPT", "损坏")
    expect(write(tmp_path / "b.xls", data[:100]), "FILE-CORRUPT")


def test_ole2_directory_loop(tmp_path: Path) -> None:
    data = bytearray(build_cfb({"Workbook": biff(BOF, EOF_RECORD, pad_to=5000)}))
    dir_first = struct.unpack_from("<I", data, 48)[0]
    fat_offset = 512  # sector 0
    struct.pack_into("<I", data, fat_offset + 4 * dir_first, dir_first)  # points to itself
    expect(write(tmp_path / "loop.xls", bytes(data)), "FILE-CORRUPT")


def test_ole2_bad_header(tmp_path: Path) -> None:
    data = bytearray(build_cfb({"Workbook": b"x" * 5000}))
    struct.pack_into("<H", data, 30, 20)  # sector shift 2**20
    expect(write(tmp_path / "a.xls", bytes(data)), "FILE-CORRUPT")


# ============================================================================ zip: foreign kinds


def test_xlsm_by_vba_project_and_content_type(xlsx: Path, tmp_path: Path) -> None:
    xlsm = rewrite_zip(
        xlsx, tmp_path / "宏.xlsx",
        add={"xl/vbaProject.bin": build_cfb({"VBA": {"dir": b"\0" * 100}})},
        edit={"[Content_Types].xml": lambda d: d.replace(
            XLSX_MAIN.encode(), XLSM_MAIN.encode()).replace(
            b"</Types>", b'<Default Extension="bin" '
                         b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')})
    expect(xlsm, "FILE-MACRO", "宏", "不含宏的 Excel 工作簿(*.xlsx)")


def test_macro_by_vba_project_only(xlsx: Path, tmp_path: Path) -> None:
    sneaky = rewrite_zip(xlsx, tmp_path / "a.xlsx", add={"xl/vbaProject.bin": b"\0" * 100})
    expect(sneaky, "FILE-MACRO")


def test_macro_by_content_type_only(xlsx: Path, tmp_path: Path) -> None:
    sneaky = rewrite_zip(xlsx, tmp_path / "a.xlsx", edit={
        "[Content_Types].xml": lambda d: d.replace(XLSX_MAIN.encode(), XLSM_MAIN.encode())})
    expect(sneaky, "FILE-MACRO")


def test_excel4_macro_sheet(xlsx: Path, tmp_path: Path) -> None:
    sneaky = rewrite_zip(
        xlsx, tmp_path / "a.xlsx",
        add={"xl/macrosheets/sheet1.xml": b'<?xml version="1.0"?><xm:macrosheet '
                                         b'xmlns:xm="urn:x"/>'},
        edit={"[Content_Types].xml": lambda d: d.replace(b"</Types>", (
            '<Override PartName="/xl/macrosheets/sheet1.xml" '
            'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>').encode())})
    expect(sneaky, "FILE-MACRO")


def test_xlsb(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.xlsx", {
        "[Content_Types].xml": content_types(
            "xl/workbook.bin", "application/vnd.ms-excel.sheet.binary.macroEnabled.main"),
        "_rels/.rels": RELS,
        "xl/workbook.bin": b"\x83\x01\x00",
    })
    expect(path, "FILE-XLSB", "*.xlsb")


def test_strict_open_xml(xlsx: Path, tmp_path: Path) -> None:
    strict = rewrite_zip(xlsx, tmp_path / "strict.xlsx", edit={
        "xl/workbook.xml": lambda d: d.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main")})
    expect(strict, "FILE-STRICT-OOXML", "Strict")


@pytest.mark.parametrize(("main_part", "main_type", "fragment"), [
    ("word/document.xml",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
     "这是 Word 文档(*.docx)"),
    ("ppt/presentation.xml",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
     "这是 PowerPoint 演示文稿(*.pptx)"),
    ("visio/document.xml", "application/vnd.ms-visio.drawing.main+xml", "其他 Office 文档"),
])
def test_other_ooxml_documents(tmp_path: Path, main_part: str, main_type: str,
                               fragment: str) -> None:
    path = make_zip(tmp_path / "a.xlsx", {
        "[Content_Types].xml": content_types(main_part, main_type),
        "_rels/.rels": RELS,
        main_part: b'<?xml version="1.0"?><document/>',
    })
    expect(path, "FILE-NOT-WORKBOOK", fragment, "年报模板")


def make_odf(path: Path, mimetype: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content '
                                  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                                  'office:1.0"/>', compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", "<manifest/>", compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "a.xlsx", "application/vnd.oasis.opendocument.spreadsheet")
    expect(path, "FILE-ODS", "*.ods", "Excel 工作簿(*.xlsx)")


def test_odt(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "a.xlsx", "application/vnd.oasis.opendocument.text")
    expect(path, "FILE-NOT-WORKBOOK", "*.odt")


def test_zip_containing_a_workbook(xlsx: Path, tmp_path: Path) -> None:
    path = tmp_path / "打包.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(xlsx, "张巷镇_2024_政务公开年报.xlsx")
        z.writestr("说明.txt", "见附件")
    expect(path, "FILE-ARCHIVE", "张巷镇_2024_政务公开年报.xlsx", "解压")


def test_zip_with_gbk_names_from_chinese_windows(tmp_path: Path) -> None:
    # Old Windows zippers write names in GBK without the UTF-8 flag.
    gbk = "年报.xlsx".encode("gbk")
    placeholder = b"A" * (len(gbk) - 5) + b".xlsx"
    path = make_zip(tmp_path / "a.zip", {placeholder.decode(): b"data"})
    data = path.read_bytes()
    assert data.count(placeholder) == 2  # local header and central directory
    expect(write(path, data.replace(placeholder, gbk)), "FILE-ARCHIVE", "“年报.xlsx”")


def test_plain_zip_without_workbooks(tmp_path: Path) -> None:
    expect(make_zip(tmp_path / "a.xlsx", {"a.txt": b"hello"}), "FILE-ARCHIVE", "ZIP")


# ============================================================================ zip: damage


def test_truncated_zip(xlsx: Path, tmp_path: Path) -> None:
    data = xlsx.read_bytes()
    expect(write(tmp_path / "half.xlsx", data[: len(data) // 2]), "FILE-CORRUPT", "截断")
    expect(write(tmp_path / "tail.xlsx", data[:-10]), "FILE-CORRUPT")


def test_corrupt_member_data_fails_crc(xlsx: Path, tmp_path: Path) -> None:
    # Flip bytes inside the compressed data of the largest member.
    data = bytearray(xlsx.read_bytes())
    with zipfile.ZipFile(xlsx) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + info.compress_size // 2, start + info.compress_size // 2 + 8):
        data[k] ^= 0xFF
    expect(write(tmp_path / "bad.xlsx", bytes(data)), "FILE-CORRUPT")


def test_missing_workbook_part(xlsx: Path, tmp_path: Path) -> None:
    broken = rewrite_zip(xlsx, tmp_path / "a.xlsx", replace={"xl/workbook.xml": None})
    expect(broken, "FILE-CORRUPT", "工作簿主体")


def test_wrong_workbook_root(xlsx: Path, tmp_path: Path) -> None:
    broken = rewrite_zip(xlsx, tmp_path / "a.xlsx", replace={
        "xl/workbook.xml": b'<?xml version="1.0"?><html/>'})
    expect(broken, "FILE-CORRUPT")


@pytest.mark.parametrize("content", [b"", b"not xml at all", b"<?xml version='1.0'?>"])
def test_xml_part_that_is_not_xml(xlsx: Path, tmp_path: Path, content: bytes) -> None:
    broken = rewrite_zip(xlsx, tmp_path / "a.xlsx", replace={"xl/styles.xml": content})
    expect(broken, "FILE-CORRUPT", "xl/styles.xml")


def test_xml_prolog_too_long(xlsx: Path, tmp_path: Path) -> None:
    padded = rewrite_zip(xlsx, tmp_path / "a.xlsx", edit={
        "xl/styles.xml": lambda d: d.replace(b"?>", b"?>" + b"<!-- pad -->" * 7000, 1)})
    expect(padded, "FILE-CORRUPT", "64 KB")


def test_empty_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "e.xlsx", "w"):
        pass
    expect(tmp_path / "e.xlsx", "FILE-CORRUPT", "空的压缩包")


def test_encrypted_zip_member(xlsx: Path, tmp_path: Path) -> None:
    data = bytearray(xlsx.read_bytes())
    with zipfile.ZipFile(xlsx) as z:
        infos = z.infolist()
    target = next(i for i in infos if i.filename == "xl/styles.xml")
    struct.pack_into("<H", data, target.header_offset + 6, target.flag_bits | 1)
    pos = data.find(b"PK\x01\x02")  # then the central-directory record, found by name
    while bytes(data[pos + 46:pos + 46 + 13]) != b"xl/styles.xml":
        pos = data.find(b"PK\x01\x02", pos + 4)
        assert pos >= 0
    struct.pack_into("<H", data, pos + 8, target.flag_bits | 1)
    expect(write(tmp_path / "enc.xlsx", bytes(data)), "FILE-ENCRYPTED", "密码")


# ============================================================================ zip: hostile


def test_zip_bomb_refused_from_central_directory(bomb: Path) -> None:
    tracemalloc.start()
    try:
        err = expect(bomb, "FILE-ZIP-BOMB", "压缩炸弹", "压缩比")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes: the bomb was inflated"
    assert "xl/worksheets/sheet1.xml" in str(err)


def test_read_member_refuses_bomb_without_inflating(bomb: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputFileError) as caught:
            read_member(bomb, "xl/worksheets/sheet1.xml", 10 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "FILE-ZIP-BOMB"
    assert time.perf_counter() - started < 1.0
    assert peak < 2 * 1024 * 1024


def test_read_member_stops_past_limit_while_inflating(bomb: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the central directory lied (declared 1 KB): the chunked read must stop early.
    real_getinfo = zipfile.ZipFile.getinfo

    def lying_getinfo(self: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
        info = copy.copy(real_getinfo(self, name))
        info.file_size = 1024
        return info

    real_open = zipfile.ZipFile.open

    def honest_open(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object):
        if isinstance(name, zipfile.ZipInfo):
            info = real_getinfo(self, name.filename)  # the real, large size
            return real_open(self, info, *args, **kwargs)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "getinfo", lying_getinfo)
    monkeypatch.setattr(zipfile.ZipFile, "open", honest_open)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputFileError) as caught:
            read_member(bomb, "xl/worksheets/sheet1.xml", 100 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "FILE-ZIP-BOMB"
    assert time.perf_counter() - started < 1.0
    assert peak < 2 * 1024 * 1024


def test_lying_central_directory_size_is_corrupt(tmp_path: Path) -> None:
    # Declared 1,000 bytes, really 1 MB: zipfile stops at the declared size and the CRC fails.
    path = make_zip(tmp_path / "lie.zip", {"data.bin": bytes(1024 * 1024)})
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 1000)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError) as caught:
        read_member(path, "data.bin", 5000)
    assert caught.value.code == "FILE-CORRUPT"


def test_read_member(xlsx: Path) -> None:
    data = read_member(xlsx, "xl/workbook.xml", 1024 * 1024)
    assert data.startswith(b"<?xml")
    with pytest.raises(InputFileError) as caught:
        read_member(xlsx, "xl/workbook.xml", 10)
    assert caught.value.code == "FILE-ZIP-BOMB"
    with pytest.raises(InputFileError) as caught:
        read_member(xlsx, "xl/nothing.xml", 1000)
    assert caught.value.code == "FILE-CORRUPT"
    assert read_member(xlsx, "xl/workbook.xml") == data  # default limit


def test_total_uncompressed_limit(xlsx: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff_module, "MAX_TOTAL_UNCOMPRESSED", 2000)
    expect(xlsx, "FILE-ZIP-BOMB", "解压后共")


def test_ratio_limit_applies_to_big_entries_only(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # 512 KB of zeros compresses ~1000:1 but stays below RATIO_CHECK_MIN_BYTES: fine.
    xlsx = make_xlsx(tmp_path / "a.xlsx")
    padded = rewrite_zip(xlsx, tmp_path / "b.xlsx", add={"customXml/pad.bin": bytes(512 * 1024)})
    assert sniff(padded) == "xlsx"
    monkeypatch.setattr(sniff_module, "RATIO_CHECK_MIN_BYTES", 100 * 1024)
    expect(padded, "FILE-ZIP-BOMB", "customXml/pad.bin")


def test_too_many_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(1001):
            z.writestr(f"x/{i}.txt", b"")
    expect(path, "FILE-ZIP-ENTRIES", "1001")


@pytest.mark.parametrize("name", [
    "../evil", "xl/../../evil.xml", "..\\evil", "/etc/passwd", "\\windows\\evil",
    "C:/evil", "c:\\evil",
])
def test_unsafe_entry_names(xlsx: Path, tmp_path: Path, name: str) -> None:
    path = rewrite_zip(xlsx, tmp_path / "a.xlsx", add={name: b"x"})
    expect(path, "FILE-ZIP-PATH", "不安全的路径")


def test_nul_in_entry_name(xlsx: Path, tmp_path: Path) -> None:
    path = rewrite_zip(xlsx, tmp_path / "a.xlsx", add={"xl/evilX.xml": b"<a/>"})
    data = path.read_bytes().replace(b"xl/evilX.xml", b"xl/evil\x00.xml")
    expect(write(path, data), "FILE-ZIP-PATH")


def test_duplicate_entry_names(xlsx: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        path = rewrite_zip(xlsx, tmp_path / "a.xlsx", add={"xl/workbook.xml": b"<evil/>"})
    expect(path, "FILE-ZIP-PATH", "重复")


def test_duplicate_entry_names_differing_in_case(xlsx: Path, tmp_path: Path) -> None:
    path = rewrite_zip(xlsx, tmp_path / "a.xlsx", add={"XL/Workbook.xml": b"<evil/>"})
    expect(path, "FILE-ZIP-PATH", "重复")


def test_overlapping_entries(tmp_path: Path) -> None:
    # Two central-directory entries pointing at the same local data (Fifield's zip bomb).
    path = make_zip(tmp_path / "o.xlsx", {"a.xml": b"<a/>" * 1000, "b.xml": b"<b/>" * 1000})
    data = bytearray(path.read_bytes())
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)  # b.xml's local header offset -> a.xml's
    expect(write(path, bytes(data)), "FILE-ZIP-BOMB", "重叠")


# ============================================================================ XML safety


@pytest.mark.parametrize("part", [
    "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/styles.xml",
    "[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "docProps/custom.xml",
])
def test_billion_laughs_in_any_part_is_refused(xlsx: Path, tmp_path: Path, part: str) -> None:
    path = rewrite_zip(xlsx, tmp_path / "lol.xlsx", edit={part: inject_doctype})
    expect(path, "FILE-XML-UNSAFE", "DOCTYPE", f"“{part}”")


def test_external_entity_is_refused(xlsx: Path, tmp_path: Path) -> None:
    xxe = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    path = rewrite_zip(xlsx, tmp_path / "xxe.xlsx", edit={
        "xl/sharedStrings.xml": lambda d: inject_doctype(d, xxe)})
    expect(path, "FILE-XML-UNSAFE")


def test_plain_doctype_without_entities_is_refused(xlsx: Path, tmp_path: Path) -> None:
    path = rewrite_zip(xlsx, tmp_path / "dt.xlsx", edit={
        "xl/styles.xml": lambda d: inject_doctype(d, "<!DOCTYPE styleSheet>")})
    expect(path, "FILE-XML-UNSAFE")


def test_doctype_in_utf16_part_is_refused(xlsx: Path, tmp_path: Path) -> None:
    def to_utf16(data: bytes) -> bytes:
        text = inject_doctype(data).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return text.encode("utf-16")

    path = rewrite_zip(xlsx, tmp_path / "u16.xlsx", edit={"xl/styles.xml": to_utf16})
    expect(path, "FILE-XML-UNSAFE")


def test_utf16_part_without_doctype_is_fine(xlsx: Path, tmp_path: Path) -> None:
    def to_utf16(data: bytes) -> bytes:
        return data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    path = rewrite_zip(xlsx, tmp_path / "u16.xlsx", edit={"xl/styles.xml": to_utf16})
    assert sniff(path) == "xlsx"


def test_check_xml_safe_and_parse_xml() -> None:
    check_xml_safe(b'<?xml version="1.0"?><a><b/></a>')
    check_xml_safe([b'<?xml version="1.0"?>', b"<a>", b"unterminated"])  # only the prolog
    with pytest.raises(InputFileError) as caught:
        check_xml_safe(inject_doctype(b'<?xml version="1.0"?><a/>'), part="x.xml")
    assert caught.value.code == "FILE-XML-UNSAFE"
    with pytest.raises(InputFileError) as caught:
        check_xml_safe(b"")
    assert caught.value.code == "FILE-CORRUPT"
    assert parse_xml(b"<a><b>1</b></a>").find("b").text == "1"
    with pytest.raises(InputFileError) as caught:
        parse_xml(b"<a><b></a>")
    assert caught.value.code == "FILE-CORRUPT"
    with pytest.raises(InputFileError) as caught:
        parse_xml(inject_doctype(b"<a>&lol9;</a>"))
    assert caught.value.code == "FILE-XML-UNSAFE"


# ---- openpyxl + defusedxml ------------------------------------------------------------------

_LOAD_SCRIPT = """
import resource, sys, warnings
resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
warnings.simplefilter("ignore")
import openpyxl
print("DEFUSEDXML", openpyxl.DEFUSEDXML, flush=True)
try:
    wb = openpyxl.load_workbook(sys.argv[1])
except Exception as exc:
    cause = exc.__cause__ or exc.__context__
    print("REFUSED", type(exc).__name__, type(cause).__module__ + "." + type(cause).__name__
          if cause else "-")
else:
    ws = wb.worksheets[0]
    print("LOADED", len(ws.title), len(str(ws["A1"].value or "")))
"""


def _load_with_openpyxl(path: Path) -> list[str]:
    """load_workbook in a child process with a 1.5 GB address-space cap and a timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPYXL_")}
    done = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, str(path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split("\n")


def test_openpyxl_is_hardened_here() -> None:
    assert openpyxl_is_hardened()
    require_hardened_openpyxl()


def test_require_hardened_openpyxl_refuses_when_flag_off(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    assert not openpyxl_is_hardened()
    with pytest.raises(RuntimeError, match="defusedxml"):
        require_hardened_openpyxl()


def test_openpyxl_refuses_billion_laughs_in_sheet_xml(xlsx: Path, tmp_path: Path) -> None:
    """openpyxl parses worksheets with defusedxml's iterparse: the DTD is refused, not expanded.

    Our sniff refuses the file before openpyxl sees it; this checks the second layer.
    """
    path = rewrite_zip(xlsx, tmp_path / "lol.xlsx", edit={
        "xl/worksheets/sheet1.xml": lambda d: inject_doctype(
            d, use=("<v>12</v>", "<v>&lol9;</v>"))})
    expect(path, "FILE-XML-UNSAFE")
    started = time.perf_counter()
    lines = _load_with_openpyxl(path)
    assert lines[0] == "DEFUSEDXML True"
    assert lines[1] == "REFUSED ValueError defusedxml.common.EntitiesForbidden", lines
    assert time.perf_counter() - started < 30


def test_openpyxl_billion_laughs_in_shared_strings(xlsx: Path, tmp_path: Path) -> None:
    path = rewrite_zip(xlsx, tmp_path / "lol.xlsx", edit={
        "xl/sharedStrings.xml": lambda d: inject_doctype(
            d, use=("本年新收政府信息公开申请数量", "&lol9;"))})
    lines = _load_with_openpyxl(path)
    assert lines[1] == "REFUSED ValueError defusedxml.common.EntitiesForbidden", lines


def test_openpyxl_workbook_xml_is_not_parsed_by_defusedxml_when_lxml_is_present(
        xlsx: Path, tmp_path: Path) -> None:
    """workbook.xml (like rels, styles, doc properties) goes through openpyxl's ``fromstring``.

    With lxml installed that is lxml with ``resolve_entities=False``, which does not protect
    attribute values: a small entity in a sheet name is expanded; a billion laughs is stopped
    only by libxml2's own amplification limit.  That is why sniff refuses any DOCTYPE first.
    """
    import openpyxl

    small = rewrite_zip(xlsx, tmp_path / "small.xlsx", edit={
        "xl/workbook.xml": lambda d: inject_doctype(
            d, use=('name="表一 收到申请"', 'name="&lol2;"'))})
    big = rewrite_zip(xlsx, tmp_path / "big.xlsx", edit={
        "xl/workbook.xml": lambda d: inject_doctype(
            d, use=('name="表一 收到申请"', 'name="&lol9;"'))})
    expect(small, "FILE-XML-UNSAFE", "xl/workbook.xml")
    expect(big, "FILE-XML-UNSAFE", "xl/workbook.xml")
    small_result = _load_with_openpyxl(small)[1]
    big_result = _load_with_openpyxl(big)[1]
    assert big_result.startswith("REFUSED"), big_result  # never a 3 GB sheet name
    if openpyxl.LXML:
        assert small_result.startswith("LOADED 300 "), small_result  # 100 "lol": expanded
    else:
        assert small_result.startswith("REFUSED"), small_result


# ============================================================================ robustness


def _sniff_outcome(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xlsx"
        path.write_bytes(data)
        try:
            return sniff(path)
        except InputFileError as err:
            assert err.code in CODES
            return err.code


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_give_input_file_error(data: bytes) -> None:
    assert _sniff_outcome(data) in CODES


_XLSX_BYTES: list[bytes] = []
_XLS_BYTES = build_cfb({"Workbook": biff(BOF, EOF_RECORD, pad_to=5000), **SUMMARY})


def _xlsx_bytes() -> bytes:
    if not _XLSX_BYTES:
        with tempfile.TemporaryDirectory() as tmp:
            _XLSX_BYTES.append(make_xlsx(Path(tmp) / "a.xlsx").read_bytes())
    return _XLSX_BYTES[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1,
                max_size=8),
       st.booleans())
def test_mutated_files_only_ever_give_input_file_error(
        mutations: list[tuple[int, int]], ole: bool) -> None:
    data = bytearray(_XLS_BYTES if ole else _xlsx_bytes())
    for position, value in mutations:
        data[position % len(data)] = value
    outcome = _sniff_outcome(bytes(data))
    assert outcome == "xlsx" or outcome in CODES


def test_every_code_has_a_description() -> None:
    assert all(code.startswith("FILE-") and text for code, text in CODES.items())
    assert MAX_TOTAL_UNCOMPRESSED == 50 * 1024 * 1024


# ============================================================================ LibreOffice


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_real_files_converted_by_libreoffice(tmp_path: Path) -> None:
    """Cross-check the hand-built fixtures against what LibreOffice really writes."""
    src = tmp_path / "t.csv"
    src.write_text("单位,申请数\n张巷镇,12\n", encoding="utf-8")
    profile = tmp_path / "lo-profile"
    for target in ("xls", "ods", "xlsx"):
        subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        "--convert-to", target, "--outdir", str(tmp_path), str(src)],
                       check=True, capture_output=True, timeout=120)
    assert sniff(tmp_path / "t.xlsx") == "xlsx"
    expect(tmp_path / "t.xls", "FILE-XLS")
    expect(tmp_path / "t.ods", "FILE-ODS")


def test_bytesio_helpers_are_sound() -> None:
    # The CFB writer round-trips through olefile, which the sniffer reads compound files with.
    import olefile

    with io.BytesIO(build_cfb({"A": b"x" * 10, "B": b"y" * 5000, "S": {"C": b"z"}})) as f:
        names, ole = sniff_module._read_ole(f)
        assert names == {"a", "b", "s", "c"}
        assert isinstance(ole, olefile.OleFileIO)
        assert ole.openstream("a").read(4) == b"xxxx"
        assert ole.openstream("b").read(4) == b"yyyy"
        assert ole.openstream("S/C").read(1) == b"z"

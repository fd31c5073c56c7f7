"""Published reports as PDF, made the way sites make them from real report text: Word → PDF and
web page → PDF through real LibreOffice, with ruled tables, a table running over a page break,
and a scanned page without a text layer.

The text is the corpus copy of 龙岗区 2024 (https://www.lg.gov.cn/xxgk/xxgknb/qzfgzbm/content/post_11956962.html),
its tables rebuilt as ruled tables cell for cell; importing the PDF must give the same numbers
as importing the text.
"""

from __future__ import annotations

import html
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm

from nianbao.audit import audit
from nianbao.importer import import_report
from nianbao.importer.tables import Paragraph, RawTable
from nianbao.importer.text import parse_text
from tests.libreoffice import convert, require_libreoffice

REAL = Path(__file__).resolve().parent / "fixtures" / "reports" / "real"
SOURCE = REAL / "2024-district-longgang.txt"
#: Empty paragraphs before table 三 push it over the end of page 1, so it runs on to page 2 and
#: one of its rows is broken by the page ("…不计其" / "他情形）").
PUSH = 18

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def _items():
    return parse_text(SOURCE.read_text(encoding="utf-8"))


def _is_t3(table: RawTable) -> bool:
    return any("申请人情况" in c.text for row in table.rows for c in row)


def _word(path: Path, push: int = PUSH) -> Path:
    doc = Document()
    for item in _items():
        if isinstance(item, Paragraph):
            doc.add_paragraph(item.text)
            continue
        if _is_t3(item):
            for _ in range(push):
                doc.add_paragraph("")
        table = doc.add_table(rows=0, cols=max(len(r) for r in item.rows))
        table.style = "Table Grid"  # ruled, as the office's template prints it
        for row in item.rows:
            cells = table.add_row().cells
            for k, cell in enumerate(row):
                cells[k].text = cell.text
    doc.save(path)
    return path


def _page(path: Path) -> Path:
    parts = ["<html><head><meta charset='utf-8'></head><body>"]
    for item in _items():
        if isinstance(item, Paragraph):
            parts.append(f"<p>{html.escape(item.text)}</p>")
        else:
            parts.append("<table border='1' cellspacing='0'>")
            for row in item.rows:
                parts.append("<tr>" + "".join(f"<td>{html.escape(c.text)}</td>" for c in row) + "</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    path.write_text("".join(parts), encoding="utf-8")
    return path


def _same_numbers(pdf: Path) -> None:
    text, got = import_report(SOURCE), import_report(pdf)
    assert got.kind == "pdf"
    assert got.submission.year == 2024 and got.structure.year_from == text.structure.year_from == "统计期限"
    assert got.structure.unit_from == "文件名"  # the stored copy names no unit anywhere
    # The stored copy's last row is cut short (6 numbers for 7 columns): the ruled table gives it an
    # empty seventh cell, so its cells are placed differently; every other cell must be equal.
    want = {k: v for k, v in text.submission.values.items() if not k.startswith("t3.enforcement_files.")}
    have = {k: v for k, v in got.submission.values.items() if not k.startswith("t3.enforcement_files.")}
    assert have == want
    assert len(want) == 80  # table 二 (10) and the 10 rows of table 三 the copy holds (70)
    kinds = {d.kind for d in got.deviations}
    assert not kinds & {"label", "row-unknown", "header-unknown"}, [d for d in got.deviations if d.kind in
                                                                    ("label", "row-unknown", "header-unknown")]


def test_word_to_pdf_with_ruled_tables_and_a_table_over_a_page_break(tmp_path):
    require_libreoffice()
    pdf = convert(_word(tmp_path / "longgang.docx"), tmp_path / "pdf", "pdf")
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:  # table 三 really is on two pages
        texts = [page.extract_text() or "" for page in doc.pages]
        head = [i for i, t in enumerate(texts) if "申请人" in t]  # the header of table 三
        tail = [i for i, t in enumerate(texts) if "予公开" in t]  # its row （三）不予公开
        assert head and tail and head[0] < tail[-1], (head, tail)
    _same_numbers(pdf)


def test_web_page_to_pdf(tmp_path):
    require_libreoffice()
    pdf = convert(_page(tmp_path / "longgang.html"), tmp_path / "pdf", "pdf:writer_web_pdf_Export")
    _same_numbers(pdf)


def test_audit_of_the_pdf_finds_what_the_text_gives(tmp_path):
    require_libreoffice()
    pdf = convert(_word(tmp_path / "longgang.docx"), tmp_path / "pdf", "pdf")
    found = audit(pdf).findings
    codes = {f.code for f in found}
    assert "AUDIT-TITLE-MISSING" in codes
    # the copy ends in table 三: part 四 and its table are one finding, not two
    assert [f.code for f in found if "四、政府信息公开行政复议" in (f.message or "")] == ["AUDIT-PART-MISSING"]
    assert not {c for c in codes if c.startswith("T3-")}  # the rows the copy lacks are not run as zeros


def test_a_scanned_page_without_text_gets_a_clear_message(tmp_path):
    require_libreoffice()
    pdf = convert(_word(tmp_path / "longgang.docx", push=0), tmp_path / "pdf", "pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    scan = Document()
    scan.add_picture(str(next(tmp_path.glob("page*.png"))), width=Cm(16))  # a scanner gives a picture of the page
    scan.save(tmp_path / "scan.docx")
    scanned = convert(tmp_path / "scan.docx", tmp_path / "scanned", "pdf")
    report = audit(scanned)
    assert report.unreadable_code == "IMPORT-PDF-NO-TEXT"
    assert "扫描" in report.unreadable and "文字识别" in report.unreadable and "Error" not in report.unreadable


def test_a_broken_pdf_is_one_line(tmp_path):
    broken = tmp_path / "r.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<<")
    report = audit(broken)
    assert report.unreadable_code == "FILE-UNREADABLE" and "PDF" in report.unreadable and "\n" not in report.unreadable

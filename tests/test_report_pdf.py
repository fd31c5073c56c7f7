"""PDF through real LibreOffice: page count and text layer, the official fonts' hierarchy
through nianbao's own fontconfig, page numbers on the outer side, no letter-spread lines; a
clear message without soffice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from xml.etree import ElementTree

import pytest

from nianbao.errors import NianbaoError
from nianbao.report import pdf as pdf_module
from nianbao.report.build import build
from tests.libreoffice import require_libreoffice
from tests.test_report_build import SAMPLE, TITLE


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    require_libreoffice()
    result = build(SAMPLE, tmp_path_factory.mktemp("pdf"), "docx,pdf")
    return result


def _require_poppler() -> None:
    if shutil.which("pdffonts") is None or shutil.which("pdftotext") is None:
        message = "poppler-utils (pdffonts, pdftotext) not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.libreoffice
def test_sample_docx_converts_to_a_pdf_with_title_and_table_labels(sample_pdf):
    result = sample_pdf
    pdf = result.outputs["pdf"]
    assert pdf.name == f"{TITLE}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(l for l in info.splitlines() if l.startswith("Pages:")).split()[1])
    assert 5 <= pages <= 9  # the seed report is about six pages
    assert "595.3" in info and "841.89" in info  # A4
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squashed = "".join(text.split())
    assert "张巷镇人民政府2021年" in squashed and "政府信息公开工作年度报告" in squashed
    for label in ("本年新收政府信息公开申请数量", "申请人情况", "行政诉讼", "第二十条第（八）项", "行政事业性收费"):
        assert label in squashed, label
    assert "—1—" in squashed  # the page number field was evaluated


def test_missing_soffice_names_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_module, "find_soffice", lambda: None)
    with pytest.raises(NianbaoError, match="apt-get install libreoffice-writer"):
        build(SAMPLE, tmp_path, "pdf")
    assert not list(tmp_path.glob("*.pdf"))


def font_kinds(pdf: Path) -> tuple[dict[str, str], list[str]]:
    """Embedded font name → kind (Song/Fang, Kai, Hei, Latin), and all names as pdffonts lists them."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:] if line.strip()]
    kinds = {}
    for name in names:
        low = name.lower()
        if "kai" in low:
            kinds[name] = "Kai"
        elif "cjk" in low and "sans" in low or "hei" in low:
            kinds[name] = "Hei"
        elif "cjk" in low and "serif" in low or any(k in low for k in ("sung", "song", "fang", "ming")):
            kinds[name] = "Song/Fang"
        else:
            kinds[name] = "Latin"
    return kinds, names


@pytest.mark.libreoffice
def test_the_pdf_keeps_song_kai_and_hei_in_simplified_chinese_faces(sample_pdf):
    _require_poppler()
    kinds, names = font_kinds(sample_pdf.outputs["pdf"])
    assert {"Song/Fang", "Kai", "Hei"} <= set(kinds.values()), names
    families = {re.sub(r"-(Regular|Bold|Light|Medium)?(-.*)?$", "", n) for n, k in kinds.items() if k != "Latin"}
    assert len(families) >= 3, names
    assert not [n for n in names if re.search(r"jp|JP|Japan", n)], names
    assert not [n for n in names if n.startswith("DejaVu")], names  # digits in the Times stand-in
    subs = sample_pdf.font_substitutions
    assert subs["楷体_GB2312"] and subs["黑体"].startswith("Noto Sans CJK SC")


def _words(pdf: Path):
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return ElementTree.fromstring(re.sub(r' xmlns="[^"]+"', "", xml))


@pytest.mark.libreoffice
def test_page_numbers_sit_right_on_odd_pages_and_left_on_even_pages(sample_pdf):
    _require_poppler()
    root = _words(sample_pdf.outputs["pdf"])
    pages = list(root.iter("page"))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        width, height = float(page.get("width")), float(page.get("height"))
        words = [w for w in page.iter("word") if float(w.get("yMin")) > height * 0.85]
        (num,) = [w for w in words if w.text == str(number)]
        dashes = [w for w in words if w.text == "—"]
        assert len(dashes) == 2
        left, right = min(float(w.get("xMin")) for w in dashes), max(float(w.get("xMax")) for w in dashes)
        if number % 2:
            assert left > width / 2, f"page {number}: — {number} — starts at {left}, not right of centre"
        else:
            assert right < width / 2, f"page {number}: — {number} — ends at {right}, not left of centre"
        assert float(num.get("xMin")) > left and float(num.get("xMax")) < right


def spread_gaps(pdf: Path) -> list[tuple[float, str, str]]:
    """Gaps that justification put between characters of body text (12 pt and larger)."""
    def wide(ch: str) -> bool:
        return unicodedata.east_asian_width(ch) in "WF"

    found = []
    for line in _words(pdf).iter("line"):
        words = [(float(w.get("xMin")), float(w.get("xMax")), float(w.get("yMax")) - float(w.get("yMin")),
                  w.text or " ") for w in line.iter("word")]
        for a, b in zip(words, words[1:]):
            gap, em = b[0] - a[1], min(a[2], b[2]) * 0.77  # the word box is about 1.3 em high
            if em < 12:  # table text: cells side by side are not one line
                continue
            if (wide(a[3][-1]) and wide(b[3][0]) and gap > 0.1 * em) or gap > 0.6 * em:
                found.append((round(gap, 1), a[3][-8:], b[3][:8]))
    return found


@pytest.mark.libreoffice
def test_no_body_line_is_letter_spread(sample_pdf):
    _require_poppler()
    assert spread_gaps(sample_pdf.outputs["pdf"]) == []


@pytest.mark.libreoffice
def test_a_paragraph_with_a_long_url_is_not_spread(tmp_path):
    """A URL that cannot break would leave its line spread if the paragraph were justified."""
    require_libreoffice()
    _require_poppler()
    from nianbao.report.build import write_outputs
    from nianbao.report.model import Paragraph, ReportDocument

    url = "https://www.example.gov.cn/xxgk/zfxxgkndbg/2021/" + "a" * 30 + ".html"
    doc = ReportDocument(title="某镇2021年政府信息公开工作年度报告", intro="本报告通过某镇政府网站（网址：" + url
                         + "）向社会公开，" * 3, unit="某镇", year=2021, format_key="gov-info-disclosure-2021")
    doc.blocks.append(Paragraph("附：" + url + "，如有疑问请与办公室联系。" * 2))
    outputs = write_outputs(doc, tmp_path, ("pdf",))
    assert spread_gaps(outputs["pdf"]) == []

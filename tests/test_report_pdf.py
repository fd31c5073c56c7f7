"""PDF through real LibreOffice: page count and text layer; a clear message without soffice."""

from __future__ import annotations

import subprocess

import pytest

from nianbao.errors import NianbaoError
from nianbao.report import pdf as pdf_module
from nianbao.report.build import build
from tests.libreoffice import require_libreoffice
from tests.test_report_build import SAMPLE, TITLE


@pytest.mark.libreoffice
def test_sample_docx_converts_to_a_pdf_with_title_and_table_labels(tmp_path):
    require_libreoffice()
    result = build(SAMPLE, tmp_path, "docx,pdf")
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

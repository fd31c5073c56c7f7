"""一图读懂: its numbers are the model's, it is one portrait page in SVG, PNG and PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from nianbao.read.reader import read_submission
from nianbao.report.build import write_graphic_files
from nianbao.report.graphic import graphic_data, show
from nianbao.report.model import build_document
from nianbao.submission import Submission
from tests.test_report_build import SAMPLE, TITLE

pytest.importorskip("matplotlib")


def _model_values(doc) -> dict[str, Decimal]:
    return {c.cell_id: Decimal(c.text or "0") for t in doc.tables for c in t.cells if c.role == "number"}


def _figures(data):
    yield from data.active
    yield from data.inflow
    yield from data.results
    yield from data.outflow
    if data.results_total:
        yield data.results_total
    for _, total, figures in data.cases:
        if total:
            yield total
        yield from figures


@pytest.fixture(scope="module")
def varied(fmt2021):
    """A submission whose every input differs, so a number taken from the wrong cell shows."""
    values = {c.id: Decimal(i % 9 + 1) for i, c in enumerate(fmt2021.input_cells)}
    sub = Submission(format=fmt2021, year=2023, unit={"name": "某县教育局"}, values=values, narratives={})
    return build_document(sub)


def test_every_number_of_the_graphic_is_the_models_cell_or_sum_of_cells(varied):
    data = graphic_data(varied)
    model = _model_values(varied)
    figures = list(_figures(data))
    assert len(data.active) == len([i for i in model if i.startswith("t2.")])
    for f in figures:
        assert f.cell_ids and all(i in model for i in f.cell_ids), f
        assert f.value == sum(model[i] for i in f.cell_ids), f
    # The flow: received and carried over in, results by kind, carried forward out.
    assert [f.cell_ids for f in data.inflow] == [("t3.new.total",), ("t3.carried_over.total",)]
    assert [f.cell_ids for f in data.outflow] == [("t3.carry_forward.total",)]
    assert data.results_total.cell_ids == ("t3.total.total",)
    assert [f.label for f in data.results] == ["（一）予以公开", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
                                               "（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理"]
    assert sum(f.value for f in data.results) == data.results_total.value  # the table's own balance
    assert [g for g, _, _ in data.cases] == ["行政复议", "未经复议直接起诉", "复议后起诉"]
    # Every number of tables 二 and 四 is shown, and table 三's 总计 column (not the applicant kinds).
    shown = {i for f in figures for i in f.cell_ids}
    assert shown == {i for i in model if not i.startswith("t3.") or i.endswith(".total")}


def test_the_sample_graphic_is_one_portrait_page_showing_the_models_numbers(tmp_path):
    doc = build_document(read_submission(SAMPLE))
    outputs = write_graphic_files(doc, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{TITLE}一图读懂.{ext}" for ext in ("pdf", "png", "svg"))
    svg = ElementTree.parse(outputs["graphic.svg"]).getroot()
    texts = [re.sub(r"\s+", "", "".join(el.itertext())) for el in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "一图读懂" in texts and TITLE in texts
    data = graphic_data(doc)
    licensing = next(f for f in data.active if f.cell_ids == ("t2.licensing.decisions",))
    punishment = next(f for f in data.active if f.cell_ids == ("t2.punishment.decisions",))
    assert (licensing.value, punishment.value) == (1, 4)  # the seed report: 行政许可 1, 行政处罚 4
    numbers = [t for t in texts if re.fullmatch(r"\d+(\.\d+)?", t)]
    drawn = [show(f.value) for f in _figures(data) if f is not data.results_total
             and not any(f is total for _, total, _ in data.cases)]
    assert sorted(numbers) == sorted(drawn)
    for f in data.active + data.inflow + data.outflow:
        assert re.sub(r"\s+", "", f.label) in "".join(texts)  # wrapped labels are one text per line
    png = outputs["graphic.png"].read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png.startswith(b"\x89PNG") and height > width * 1.3
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(outputs["graphic.pdf"])], capture_output=True, text=True).stdout
        assert re.search(r"Pages:\s+1\b", info) and "595.44 x 841.68" in info


def test_a_draft_graphic_says_so(fmt2021, tmp_path):
    sub = Submission(format=fmt2021, year=2023, unit={"name": "某县教育局"}, values={}, narratives={})
    outputs = write_graphic_files(build_document(sub, draft=True), tmp_path)
    assert "草稿" in outputs["graphic.svg"].read_text(encoding="utf-8")


def test_without_a_chinese_font_the_default_build_skips_the_graphic_and_says_why(tmp_path, monkeypatch):
    from nianbao.errors import NianbaoError
    import importlib

    build_module = importlib.import_module("nianbao.report.build")
    from nianbao.report import graphic

    def no_font(*args, **kwargs):
        raise NianbaoError("未找到简体中文字体（Noto Serif CJK SC 等），无法生成一图读懂。请先安装：apt-get install fonts-noto-cjk")

    monkeypatch.setattr(graphic, "render", no_font)
    monkeypatch.setattr(build_module, "default_targets", lambda: ("md", "graphic"))
    result = build_module.build(SAMPLE, tmp_path)
    assert set(result.outputs) == {"md"} and "fonts-noto-cjk" in result.skipped["graphic"]
    with pytest.raises(NianbaoError, match="fonts-noto-cjk"):  # asked for by name: an error
        build_module.build(SAMPLE, tmp_path, "md,graphic")

"""Nothing we write into a spreadsheet from user or file content becomes a formula.

Every .xlsx nianbao produces (annotated copies, feedback copies, status.xlsx, 汇总.xlsx, import -o,
templates) is scanned for ``<f>`` elements; the only formulas allowed are those the format
definition renders into a fresh template.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree

from campaign_synth import DETAILS, fill, valid_values
from hostile_corpus import NUMBER_CELLS, good_workbook, set_named, with_text
from nianbao.annotate import annotate
from nianbao.format import load_format
from nianbao.template import make_template

FMT = load_format("gov-info-disclosure-2021")
YEAR = 2024
EVIL = '=HYPERLINK("http://evil.example/","点击查看")'
FORMULA_CASES = [c for c in NUMBER_CELLS if "formula" in c]


def formulas(path: Path) -> list[str]:
    """Every formula text in an .xlsx (worksheets only hold formulas)."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                root = ElementTree.fromstring(zf.read(name))
                found += [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "f"]
    return found


@pytest.fixture(scope="module")
def allowed(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("tpl") / "t.xlsx"
    make_template(FMT, {"name": "某单位", "code": "X1", **DETAILS}, YEAR, out)
    return set(formulas(out))


def foreign(path: Path, allowed: set[str]) -> list[str]:
    return [f for f in formulas(path) if f not in allowed]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return good_workbook(FMT, tmp_path_factory.mktemp("g") / "good.xlsx").read_bytes()


@pytest.mark.parametrize("case", FORMULA_CASES)
def test_annotated_copy_holds_typed_formulas_as_text(tmp_path, good, allowed, case):
    attrs, children = NUMBER_CELLS[case]
    src = tmp_path / "unit.xlsx"
    src.write_bytes(with_text(set_named(good, FMT.cells["t3.new.natural"].name, attrs, children),
                              FMT.narratives[1].name, EVIL))
    out = tmp_path / "back.xlsx"
    annotate(src, out)
    assert formulas(src) and foreign(out, allowed) == []
    assert set(formulas(out)) <= allowed and len(formulas(out)) >= len(allowed) // 2  # the template's own stay


def _units_csv(path: Path, names: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位编码", "单位名称", "邮箱", "联系人", "联系电话", "上级编码"])
        for i, name in enumerate(names):
            w.writerow([f"U{i}", name, f"u{i}@example.gov.cn", "=1+1", "0795-7654321", ""])
    return path


def test_every_campaign_spreadsheet_is_free_of_foreign_formulas(tmp_path, allowed):
    from campaign_synth import unit_token
    from nianbao.campaign.collect import collect
    from nianbao.campaign.feedback import feedback
    from nianbao.campaign.init import init_campaign
    from nianbao.campaign.merge import merge
    from nianbao.campaign.status import status

    names = ['=HYPERLINK("http://evil.example/","点")局', "-1+1科技局", "@SUM(1)教育局"]
    camp = tmp_path / "camp"
    init_campaign(camp, YEAR, _units_csv(tmp_path / "units.csv", names))
    src = tmp_path / "src"
    src.mkdir()
    import random

    rng = random.Random(3)
    for i in range(3):
        name, token = unit_token(camp, f"U{i}")
        fill(FMT, YEAR, f"U{i}", name, token, src / f"{i}.xlsx", valid_values(FMT, rng))
    attrs, children = NUMBER_CELLS["formula-webservice"]
    bad = src / "0.xlsx"
    bad.write_bytes(set_named(bad.read_bytes(), FMT.cells["t3.new.natural"].name, attrs, children))
    (src / "=cmd|'calc'!A1.xlsx").write_bytes(b"not a workbook")
    collect(camp, [src], workers=1)
    status(camp)
    feedback(camp)
    merge(camp, include_unaccepted=True, targets=())
    produced = [p for p in camp.rglob("*.xlsx") if "inbox" not in p.parts]
    names_seen = {p.name for p in produced}
    assert "status.xlsx" in names_seen and "汇总.xlsx" in names_seen
    assert any(n.endswith("_标注.xlsx") for n in names_seen)
    for path in produced:
        assert foreign(path, allowed) == [], path


def test_import_output_holds_report_text_as_text(tmp_path, allowed):
    from fixtures.reports import document, submission, write_html
    from nianbao.cli import main

    fmt = load_format("gov-info-disclosure-2021")
    sub = submission(fmt, 2021, texts={"active": EVIL, "other_matters": "=1/0"})
    report = write_html(document(sub, cells={"t3.new.natural": EVIL}), tmp_path / "evil.html")
    out = tmp_path / "imported.xlsx"
    assert main(["import", str(report), "-o", str(out)]) == 0 and out.is_file()
    assert foreign(out, allowed) == []

"""`nianbao build`: validation first, outputs named after the title, drafts marked, the sample."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import sys
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from nianbao.check import check_file
from nianbao.cli import main
from nianbao.errors import NianbaoError
from nianbao.format.model import defined_name
from nianbao.report.build import build, output_name, parse_targets
from nianbao.template import make_template
from tests.conftest import REPO, require_shared

SAMPLE = REPO / "samples" / "张巷镇人民政府2021年报.xlsx"
TITLE = "张巷镇人民政府2021年政府信息公开工作年度报告"


def _fill(template: Path, out: Path, values: dict[str, object]) -> Path:
    wb = openpyxl.load_workbook(template)
    for ident, value in values.items():
        (sheet, ref), = wb.defined_names[defined_name(ident)].destinations
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def unbalanced(fmt2021, tmp_path_factory) -> Path:
    """A workbook whose table 三 does not balance (本年新收 1, nothing concluded or carried)."""
    tmp = tmp_path_factory.mktemp("bad")
    make_template(fmt2021, {"name": "某镇人民政府"}, 2023, tmp / "t.xlsx")
    values = {c.id: 0 for c in fmt2021.input_cells}
    values["t3.new.natural"] = 1
    values.update({f"unit.{k}": v for k, v in {"compiler": "办公室", "contact": "王某", "phone": "0795-1234567",
                                                "address": "某镇某路1号", "url": "某市政府网站"}.items()})
    values.update({f"narrative.{n.id}": "<script>alert(1)</script>正文" for n in fmt2021.narratives})
    return _fill(tmp / "t.xlsx", tmp / "某镇.xlsx", values)


def _text_of_docx(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _squash(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def test_the_sample_workbook_is_valid_and_builds_every_default_output(tmp_path):
    assert check_file(SAMPLE).valid
    from nianbao.report.pdf import find_soffice

    result = build(SAMPLE, tmp_path)
    assert not result.refused and not result.draft and result.title == TITLE
    expected = {"docx": f"{TITLE}.docx", "html": f"{TITLE}.html", "md": f"{TITLE}.md",
                "graphic.svg": f"{TITLE}一图读懂.svg", "graphic.png": f"{TITLE}一图读懂.png",
                "graphic.pdf": f"{TITLE}一图读懂.pdf"}
    if find_soffice():  # PDF by default where LibreOffice is installed
        expected["pdf"] = f"{TITLE}.pdf"
    assert {k: v.name for k, v in result.outputs.items()} == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v.name for v in result.outputs.values())


def test_the_seed_reports_numbers_and_narrative_appear_in_the_sample_outputs(tmp_path):
    seed = (require_shared() / "seed" / "zhangxiang-2021-published.txt").read_text(encoding="utf-8")
    result = build(SAMPLE, tmp_path, "docx,html,md")
    docx = _squash(_text_of_docx(result.outputs["docx"]))
    html = _squash(result.outputs["html"].read_text(encoding="utf-8"))
    md = _squash(result.outputs["md"].read_text(encoding="utf-8"))
    lines = [l.strip() for l in seed.splitlines()]
    body = lines[lines.index("（一）主动公开情况"):lines.index("二、主动公开政府信息情况")]
    body += lines[lines.index("（一）存在的主要问题"):lines.index("六、其他需要报告的事项")]
    paragraphs = [l for l in body if l and not re.match(r"^[（(][一二三四五六七][)）]", l)]
    assert len(paragraphs) >= 12
    for para in paragraphs:
        assert _squash(para) in docx, para
        assert _squash(para) in html, para
        assert _squash(para) in md, para
    # Table 二 as published: 行政许可 1, 行政处罚 4, the rest 0; tables 三 and 四 all 0.
    assert "|行政许可|1|" in md and "|行政处罚|4|" in md and "|行政强制|0|" in md
    assert "|行政事业性收费|0|" in md and "|规章|0|0|0|" in md
    t3_rows = [l for l in md.split("|一、本年新收")[1:]]
    assert t3_rows and t3_rows[0].startswith("政府信息公开申请数量|0|0|0|0|0|0|0|")
    # Official labels, not the seed's slips.
    nfkc = [unicodedata.normalize("NFKC", t) for t in (seed, docx, html, md)]
    for slip in ("(五)不予公开", "确认或新出具", "本列表的勾稽关系"):
        assert slip in nfkc[0] and not any(slip in t for t in nfkc[1:]), slip
    assert "（五）不予处理" in docx and "本列数据的勾稽关系为" in html


def test_a_workbook_with_errors_is_refused_and_nothing_written(unbalanced, tmp_path):
    result = build(unbalanced, tmp_path)
    assert result.refused and result.outputs == {} and list(tmp_path.iterdir()) == []
    assert {f.code for f in result.errors} == {"T3-BALANCE"}


def test_force_builds_a_draft_marked_in_every_output(unbalanced, tmp_path):
    result = build(unbalanced, tmp_path, "docx,html,md", force=True)
    assert result.draft
    docx = Document(str(result.outputs["docx"]))
    assert "草稿" in docx.sections[0].header.paragraphs[0].text and docx.paragraphs[0].text.endswith("（草稿）")
    html = result.outputs["html"].read_text(encoding="utf-8")
    assert '<div class="draft" role="note"><strong>草稿</strong>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;正文" in html and "<script>" not in html
    assert result.outputs["md"].read_text(encoding="utf-8").splitlines()[2].startswith("> **草稿**")


def test_rebuilding_overwrites_the_previous_outputs(tmp_path):
    first = build(SAMPLE, tmp_path, "md").outputs["md"]
    first.write_text("old", encoding="utf-8")
    second = build(SAMPLE, tmp_path, "md").outputs["md"]
    assert second == first and second.read_text(encoding="utf-8").startswith(f"# {TITLE}")
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary files left


def test_outputs_go_next_to_the_workbook_by_default(tmp_path):
    copy = tmp_path / SAMPLE.name
    copy.write_bytes(SAMPLE.read_bytes())
    result = build(copy, to=["html"])
    assert result.outputs["html"].parent == tmp_path


def test_narrative_file_replaces_workbook_text_and_reports_the_rest(tmp_path):
    md = tmp_path / "正文.md"
    md.write_text("## 一、总体情况\n### （一）主动公开情况\n今年主动公开信息120条。\n### （九）别的\n某文字\n",
                  encoding="utf-8")
    result = build(SAMPLE, tmp_path / "out", "md", narrative=md)
    text = result.outputs["md"].read_text(encoding="utf-8")
    assert "今年主动公开信息120条。" in text and "工作动态80条" not in text
    assert "一是加强组织领导。" in text  # parts missing from the file keep the workbook's text
    assert "（二）依申请公开" in result.narrative.missing[0]
    assert result.narrative.unmatched


def test_target_names_and_file_names():
    assert parse_targets("docx, HTML,.md,markdown,pdf") == ("docx", "html", "md", "pdf")
    with pytest.raises(NianbaoError, match="不支持的输出格式“odt”"):
        parse_targets("docx,odt")
    assert output_name('某局/办公室:"x"', "md") == "某局_办公室__x_.md"


def test_cli_builds_the_sample(tmp_path, capsys):
    assert main(["build", str(SAMPLE), "-o", str(tmp_path / "out"), "--to", "html,md"]) == 0
    out = capsys.readouterr().out
    assert f"已生成 {tmp_path / 'out' / TITLE}.html" in out


def test_cli_refuses_with_exit_1_and_lists_errors_in_chinese(unbalanced, tmp_path, capsys):
    assert main(["build", str(unbalanced), "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "有 2 处错误，未生成报告" in err and "--force" in err
    assert "表三“自然人”列不平衡" in err and "表三 依申请公开!" in err
    assert main(["build", str(unbalanced), "-o", str(tmp_path), "--force"]) == 0
    assert "草稿" in capsys.readouterr().err


def test_cli_input_errors_exit_2(tmp_path, capsys):
    assert main(["build", str(tmp_path / "none.xlsx")]) == 2
    assert "找不到文件" in capsys.readouterr().err
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    assert main(["build", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("错误：")
    assert main(["build", str(SAMPLE), "--to", "odt"]) == 2


def test_make_sample_script_reproduces_a_valid_workbook(tmp_path):
    out = tmp_path / "s.xlsx"
    subprocess.run([sys.executable, str(REPO / "samples" / "make_sample.py"), str(out)], check=True,
                   capture_output=True)
    report = check_file(out)
    assert report.valid
    sample = check_file(SAMPLE).submission
    assert report.submission.values == sample.values and report.submission.narratives == sample.narratives
    assert report.submission.unit == sample.unit

"""Markdown: headings, flattened tables with label paths, escaping."""

from __future__ import annotations

from decimal import Decimal

from nianbao.report.markdown import escape_md, render_markdown
from nianbao.report.model import build_document
from nianbao.submission import Submission


def _sub(fmt):
    values = {c.id: Decimal(1) for c in fmt.input_cells}
    narratives = {n.id: f"{n.title}正文。" for n in fmt.narratives}
    narratives["problems"] = "<script>x</script> a|b\n# 不是标题\n1. 不是列表"
    return Submission(format=fmt, year=2021, unit={"name": "某镇人民政府"}, values=values, narratives=narratives)


def test_headings_paragraphs_and_escaping(fmt2021):
    md = render_markdown(build_document(_sub(fmt2021)))
    lines = md.splitlines()
    assert lines[0] == "# 某镇人民政府2021年政府信息公开工作年度报告"
    assert [l[3:] for l in lines if l.startswith("## ")] == [p.heading for p in fmt2021.parts]
    assert "### （一）主动公开" in lines
    assert "&lt;script&gt;x&lt;/script&gt; a\\|b" in lines
    assert "\\# 不是标题" in lines and "\\1. 不是列表" in lines
    assert "<script>" not in md


def test_tables_are_flattened_with_label_paths(fmt2021):
    md = render_markdown(build_document(_sub(fmt2021)))
    header = next(l for l in md.splitlines() if l.startswith("| 项目 | 申请人情况·自然人"))
    assert header.count("|") == 9
    assert "| 三、本年度办理结果·（三）不予公开·1.属于国家秘密 | 1 | 1 | 1 | 1 | 1 | 1 | 6 |" in md
    assert "注：（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in md
    assert "**第二十条第（五）项**" in md and "| 信息内容 | 本年处理决定数量 |" in md
    t4_header = next(l for l in md.splitlines() if l.startswith("| 行政复议·结果维持"))
    assert t4_header.split(" | ")[4] == "行政复议·总计"
    assert t4_header.split(" | ")[5] == "行政诉讼·未经复议直接起诉·结果维持"
    assert "| 1 | 1 | 1 | 1 | 4 | 1 | 1 | 1 | 1 | 4 | 1 | 1 | 1 | 1 | 4 |" in md


def test_draft_line(fmt2021):
    md = render_markdown(build_document(_sub(fmt2021), draft=True))
    assert md.splitlines()[2].startswith("> **草稿**")


def test_escape_md():
    assert escape_md("a*b_c") == "a\\*b\\_c"
    assert escape_md("- x") == "\\- x"

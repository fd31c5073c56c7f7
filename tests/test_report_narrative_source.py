"""--narrative files: headings matched to the format's parts by normalised title."""

from __future__ import annotations

import pytest
from docx import Document

from nianbao.errors import InputFileError
from nianbao.report.narrative_source import normalise_title, read_narrative_file

MD = """\
# 张巷镇2021年政府信息公开工作年度报告

本报告根据……（引言由 nianbao 生成，这里的文字不用）

## 一、总体情况
### （一）主动公开情况
本年主动公开信息93条。
第二段。
### (二)依申请公开
本年收到申请0件。
### （九）自创的小标题
这段放在哪里？
## 二、主动公开政府信息情况
表格前的说明文字。
## 五、存在的主要问题及改进情况
### （一）存在的主要问题
问题一。
## 六、其他需要报告的事项
无
"""


def test_normalised_titles_ignore_numbering_spaces_width_and_trailing_qingkuang():
    assert normalise_title("（一）主动公开情况") == normalise_title("(一) 主动公开") == "主动公开"
    assert normalise_title("## 五、存在的主要问题及改进情况") == "存在的主要问题及改进"
    assert normalise_title("1.信息处理费收取情况：") == "信息处理费收取"


def test_markdown_headings_are_matched_and_the_rest_reported(tmp_path, fmt2021):
    path = tmp_path / "正文.md"
    path.write_text(MD, encoding="utf-8")
    src = read_narrative_file(path, fmt2021)
    assert src.texts == {"active": "本年主动公开信息93条。\n第二段。", "on_request": "本年收到申请0件。",
                         "problems": "问题一。"}
    assert src.missing == ["（三）政府信息管理", "（四）政府信息公开平台建设", "（五）监督保障", "（二）改进措施",
                           "（一）信息处理费收取情况", "（二）其他事项"]
    assert [m for m in src.unmatched if "一、总体情况" in m or "（九）" in m] == [
        "标题“（九）自创的小标题”对应不到任何部分，其下文字未使用"]
    assert any("二、主动公开政府信息情况" in m and "表格来自工作簿" in m for m in src.unmatched)
    assert any("六、其他需要报告的事项" in m and "没有对应的小标题" in m for m in src.unmatched)
    assert all("张巷镇2021年" not in m for m in src.unmatched)
    assert src.messages()[0].startswith("正文.md 中没有找到：（三）政府信息管理")


def test_docx_headings_by_style_or_by_exact_title(tmp_path, fmt2021):
    document = Document()
    document.add_heading("一、总体情况", level=1)
    document.add_paragraph("（三）政府信息管理")  # not styled, but exactly a known title
    document.add_paragraph("一是加强领导。")
    document.add_heading("（五）监督保障情况", level=2)
    document.add_paragraph("考核结果良好。")
    document.add_heading("六、其他需要报告的事项", level=1)
    document.add_heading("（二）其他事项", level=2)
    document.add_paragraph("无")
    path = tmp_path / "正文.docx"
    document.save(str(path))
    src = read_narrative_file(path, fmt2021)
    assert src.texts == {"management": "一是加强领导。", "oversight": "考核结果良好。", "other_matters": "无"}
    assert src.unmatched == []


def test_gbk_markdown_is_read(tmp_path, fmt2021):
    path = tmp_path / "n.md"
    path.write_bytes("## （二）改进措施\n加强培训。\n".encode("gbk"))
    assert read_narrative_file(path, fmt2021).texts == {"improvements": "加强培训。"}


@pytest.mark.parametrize("name,content", [("n.doc", b"\xd0\xcf\x11\xe0"), ("n.docx", b"not a zip")])
def test_bad_files_are_clear_errors(tmp_path, fmt2021, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        read_narrative_file(path, fmt2021)
    assert str(err.value).startswith(str(path))

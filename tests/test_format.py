"""The format definitions: loaded, complete, and identical to the official text in ../shared."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import require_shared
from nianbao.errors import FormatDefinitionError, NianbaoError
from nianbao.format import available_formats, format_for_year, load_path, resolve_format, templates_dir


def _md_table_rows(text: str, after: str) -> list[list[str]]:
    """Cells of the first Markdown table after a heading line starting with ``after``."""
    lines = text[text.index(after):].splitlines()[1:]
    rows, started = [], False
    for line in lines:
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # drop the header row


def _strip_note(label: str) -> str:
    return re.sub(r"\s*\((spans|only)[^)]*\)", "", label).strip()


def test_both_editions_load_with_expected_shape(fmt2021, fmt2019):
    assert [f.key for f in available_formats()] == ["gov-info-disclosure-2019", "gov-info-disclosure-2021"]
    t = fmt2021.tables
    assert (len(t["t3"].rows), len(t["t3"].blocks[0].columns)) == (25, 7)
    assert len([c for c in fmt2021.cells.values() if c.table == "t4"]) == 15
    assert len([c for c in fmt2021.cells.values() if c.table == "t2"]) == 10
    assert len([c for c in fmt2019.cells.values() if c.table == "t2"]) == 22
    assert len(fmt2019.tables["t3"].rows) == 23
    assert [p.heading for p in fmt2021.parts] == [p.heading for p in fmt2019.parts]


def test_parts_match_official_text(fmt2021):
    text = (require_shared() / "format" / "gov-info-disclosure-2021.md").read_text(encoding="utf-8")
    block = text.split("## Document structure")[1].split("```")[0] if "```" in text else text
    official = re.findall(r"^\s{4}([一二三四五六]、\S+)$", text, re.M)
    assert official == [p.heading for p in fmt2021.parts]
    subheads = re.findall(r"（[一二三四五]）[^ （\n.]+", text.split("Part 一 is narrative")[1].split("\n\n")[0])
    assert subheads == [n.title for n in fmt2021.parts[0].narratives]
    assert block  # the structure section exists


def test_table3_rows_and_columns_match_official_text(fmt2021):
    text = (require_shared() / "format" / "gov-info-disclosure-2021.md").read_text(encoding="utf-8")
    rows = _md_table_rows(text, "Rows in order")
    official_paths = []
    current: dict[int, str] = {}
    for cells in rows:
        labels = [_strip_note(c) for c in cells[1:4]]
        for level, label in enumerate(labels):
            if label:
                current[level] = label
                for deeper in range(level + 1, 3):
                    current.pop(deeper, None)
        depth = max(i for i, label in enumerate(labels) if label)
        official_paths.append(tuple(current[i] for i in range(depth + 1)))
    assert [r.path for r in fmt2021.tables["t3"].rows] == official_paths
    columns = re.search(r"Data columns in order: (.+)\.", text).group(1).split(" · ")
    assert [c.label for c in fmt2021.tables["t3"].blocks[0].columns] == columns
    corner = re.search(r"`(（本列数据的勾稽关系为：[^`]+）)`", text).group(1)
    assert fmt2021.tables["t3"].blocks[0].corner == corner


def test_table2_blocks_match_official_text(fmt2021, fmt2019):
    shared = require_shared() / "format"
    for fmt, name in ((fmt2021, "gov-info-disclosure-2021.md"), (fmt2019, "gov-info-disclosure-2019.md")):
        text = (shared / name).read_text(encoding="utf-8")
        rows = _md_table_rows(text, "## Table 二")
        blocks = fmt.tables["t2"].blocks
        assert len(rows) == len(blocks)
        for cells, block in zip(rows, blocks):
            assert block.title == cells[0]
            columns_cell = cells[-2]
            official_columns = [_strip_note(c) for c in columns_cell.split(" · ")]
            assert [c.label for c in block.columns] == official_columns
            assert [r.label for r in block.rows] == [_strip_note(c) for c in cells[-1].split(" · ")]
            assert block.corner == "信息内容"


def test_table4_header_matches_official_text(fmt2021):
    text = (require_shared() / "format" / "gov-info-disclosure-2021.md").read_text(encoding="utf-8")
    section = text.split("## Table 四")[1].split("## Rules")[0]
    leaves = re.findall(r"结果维持 结果纠正 其他结果 尚未审结 总计", section)
    assert len(leaves) == 3
    cols = fmt2021.tables["t4"].blocks[0].columns
    assert [c.label for c in cols] == "结果维持 结果纠正 其他结果 尚未审结 总计".split() * 3
    assert {c.path[:-1] for c in cols} == {("行政复议",), ("行政诉讼", "未经复议直接起诉"), ("行政诉讼", "复议后起诉")}


def test_rules_cover_official_rule_ids(fmt2021, fmt2019):
    text = (require_shared() / "format" / "gov-info-disclosure-2021.md").read_text(encoding="utf-8")
    arithmetic = {"T3-BALANCE", "T3-TOTAL-ROW", "T3-TOTAL-COL", "T4-TOTALS", "CARRY-OVER", "VALID-DOCS"}
    assert arithmetic <= set(re.findall(r"\| ([A-Z0-9-]+) \|", text))
    assert arithmetic <= {r.rule_id for r in fmt2021.rules}
    assert arithmetic - {"VALID-DOCS"} <= {r.rule_id for r in fmt2019.rules}
    balance = [r for r in fmt2021.rules if r.rule_id == "T3-BALANCE"]
    assert len(balance) == 7 and balance[0].severity == "error"


def test_edition_by_year():
    assert format_for_year(2019).edition == "2019"
    assert format_for_year(2020).edition == "2019"
    assert format_for_year(2021).edition == "2021"
    assert format_for_year(2030).edition == "2021"
    with pytest.raises(NianbaoError, match="2018"):
        format_for_year(2018)
    assert resolve_format(2021, "gov-info-disclosure-2019").edition == "2019"
    with pytest.raises(NianbaoError):
        resolve_format(2021, "no-such-format")


def test_packaged_definitions_are_found():
    assert (templates_dir() / "gov-info-disclosure-2021.toml").is_file()


# ------------------------------------------------------------------ located loader errors


@pytest.fixture
def broken(tmp_path: Path):
    """Copy both definitions to a temp dir and let a test break one of them by text replacement."""
    for src in templates_dir().glob("*.toml"):
        shutil.copy(src, tmp_path / src.name)

    def make(old: str, new: str, name: str = "gov-info-disclosure-2021.toml") -> tuple[Path, str]:
        path = tmp_path / name
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        start = text.index(old)  # the replacement begins where the old text did
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path, f"{name}:{text[:start].count(chr(10)) + 1}"

    return make


def _problems(path: Path) -> list[str]:
    with pytest.raises(FormatDefinitionError) as info:
        load_path(path)
    return info.value.problems


def test_unknown_cell_in_rule_is_located(broken):
    path, where = broken('expr = "t3.new.{col} + t3.carried_over.{col}', 'expr = "t3.neww.{col} + t3.carried_over.{col}')
    problems = _problems(path)
    assert any("t3.neww" in p and "T3-BALANCE" in p for p in problems)
    balance_line = path.read_text(encoding="utf-8").index('id = "T3-BALANCE"')
    line = path.read_text(encoding="utf-8")[:balance_line].count("\n") + 1
    assert any(p.startswith(f"gov-info-disclosure-2021.toml:{line}:") for p in problems), problems


def test_duplicate_id_is_located_at_second_occurrence(broken):
    path, where = broken('id = "carried_over"', 'id = "new"')
    problems = _problems(path)
    assert any("id 重复：new" in p for p in problems), problems
    assert any(p.startswith(where) for p in problems), (where, problems)


def test_sheet_name_rules(broken):
    path, where = broken('sheet = "表三 依申请公开"', 'sheet = "表三 依申请公开/收到和处理政府信息公开申请情况的统计表（本年度全部申请人）"')
    problems = _problems(path)
    assert any("超过 31" in p and p.startswith(where) for p in problems), problems
    assert any("不允许的字符" in p for p in problems)


def test_missing_label_is_located(broken):
    path, where = broken('label = "科研机构"', 'label = ""')
    problems = _problems(path)
    assert any("缺少标签" in p and "research" in p for p in problems), problems


def test_unknown_placeholder_and_bad_severity(broken):
    path, _ = broken('severity = "warning"\nexpr = "t2.fees.amount', 'severity = "fatal"\nexpr = "t2.fees.amount')
    assert any("severity" in p and "T2-FEE-UNIT" in p for p in _problems(path))


def test_inherited_edition_reports_problems_in_its_own_file(broken):
    path, where = broken('node = "other_processing"', 'node = "no_such_node"', name="gov-info-disclosure-2019.toml")
    problems = _problems(path)
    assert any(p.startswith(where) and "no_such_node" in p for p in problems), problems


def test_rule_language_rejects_code(broken):
    path, _ = broken('expr = "t2.fees.amount <= 10000"', 'expr = "__import__(\'os\').system(\'true\') <= 1"')
    assert any("只允许使用 sum" in p or "不允许" in p for p in _problems(path))

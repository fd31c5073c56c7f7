"""Audit of real published reports as they are found (tests/fixtures/reports/real/, each with
its source URL in the .toml beside it): the corpus figures, and one test per pattern of the
real text — tables as pages copy them, titles that wrap or are missing, partial reports,
rows under merged parents, empty tables, units in cells, editions, the narrative checks,
saved pages in other charsets and traditional characters, and the round trip of the complete
reports through a workbook and back.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from nianbao.audit import audit, audit_result
from nianbao.importer import import_report
from nianbao.importer.importer import import_items
from nianbao.importer.text import parse_text

REAL = Path(__file__).resolve().parent / "fixtures" / "reports" / "real"
BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "audit_corpus.py"


def _bench():
    spec = importlib.util.spec_from_file_location("audit_corpus", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_corpus"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def codes(name: str) -> list[str]:
    report = audit(REAL / name)
    assert report.unreadable is None, report.unreadable
    return [f.code for f in report.findings]


def findings(name: str, code: str):
    return [f for f in audit(REAL / name).findings if f.code == code]


def url(name: str) -> str:
    return tomllib.loads((REAL / name).with_suffix(".toml").read_text(encoding="utf-8"))["url"]


# --------------------------------------------------------------------------- the corpus


def test_every_corpus_report_names_its_source():
    texts = sorted(REAL.glob("*.txt"))
    assert len(texts) >= 25
    years = set()
    for text in texts:
        case = tomllib.loads(text.with_suffix(".toml").read_text(encoding="utf-8"))
        assert case["url"].startswith("http"), text.name
        years.add(int(text.name[:4]))
    assert years >= set(range(2019, 2026))


@pytest.mark.slow
def test_corpus_figures_meet_the_targets():
    bench = _bench()
    results = bench.run()
    s = bench.summary(results)
    assert s["refusals"] == 0, [r.refused for r in results if r.refused]
    assert s["recall"] >= 0.9, [(r.name, r.missed) for r in results if r.missed]
    assert s["false_alarms_per_report"] <= 0.2, [(r.name, r.false_alarms) for r in results if r.false_alarms]
    held = bench.summary([r for r, p in zip(results, bench.cases()) if bench.load_case(p).get("holdout")])
    assert held["reports"] >= 10 and held["refusals"] == 0 and held["recall"] >= 0.9


def test_a_text_with_no_year_anywhere_is_the_only_refusal(tmp_path):
    note = tmp_path / "通知.txt"
    note.write_text("关于召开会议的通知\n请各单位参加。", encoding="utf-8")
    report = audit(note)
    assert report.unreadable_code == "IMPORT-NO-YEAR" and "年份" in report.unreadable


# --------------------------------------------------------------------------- tables as pages copy them


def test_rows_between_pipes_with_a_one_cell_block_title():
    """龙岗 2024 (lg.gov.cn): "一、本年新收政府信息公开申请数量 | 58 | 7 | 0 | 0 | 1 | 0 | 66 |"."""
    sub = import_report(REAL / "2024-district-longgang.txt").submission
    assert [sub.values[f"t3.new.{c}"] for c in ("natural", "business", "total")] == [58, 7, 66]
    assert sub.values["t2.normative_documents.valid"] == 25


def test_a_cell_per_line_and_pipe_lines_rebuild_the_rows():
    """镇 2023 (xjnlk.gov.cn): each cell on its own line, a line of "|" after it, no row marks."""
    result = import_report(REAL / "2023-town-xjnlk.txt")
    assert result.submission.values["t2.regulations.valid"] == 6
    assert result.submission.values["t3.internal_affairs.total"] == 0
    assert not [d for d in result.deviations if d.kind in ("label", "header-unknown", "row-unknown")]


def test_a_cell_per_paragraph_with_blank_lines_and_a_number_marker_split_from_its_label():
    """太平镇 2022 (xixianxinqu.gov.cn): "（三）" and "不予公开" two paragraphs of one cell."""
    result = import_report(REAL / "2022-town-taiping.txt")
    assert result.submission.values["t3.state_secret.total"] == 0
    assert not [d for d in result.deviations if d.kind in ("header-unknown", "row-unknown")]


def test_a_cell_per_line_ending_in_a_pipe_and_spare_empty_cells():
    """南湖 2019 (yueyang.gov.cn): "3 |" lines, "|||||||" ending the row; the 总计 column left empty."""
    result = import_report(REAL / "2019-dept-nanhu.txt")
    assert result.submission.values["t3.new.natural"] == 3
    assert result.submission.values["t3.new.total"] is None
    assert "AUDIT-TOTAL-BLANK" in codes("2019-dept-nanhu.txt")


def test_cells_separated_by_spaces():
    """回澜镇 2019 (ziyang.gov.cn): "规章 0 0 0" as a PDF viewer or the page copies it."""
    result = import_report(REAL / "2019-town-huilan.txt")
    assert result.submission.values["t2.licensing.prev_items"] == 0
    assert "t2.docs" not in {d.table for d in result.deviations if d.kind == "header-missing"}


def test_rows_under_a_merged_parent_copied_without_it_are_official():
    """和平 2023 (heping.gov.cn): "（二）部分公开…" under 三、本年度办理结果, the parent cell not repeated."""
    labels = findings("2023-town-heping.txt", "AUDIT-LABEL")
    assert labels == []


def test_a_row_cut_short_is_a_row_not_a_header():
    """龙岗 2024: the copy ends with "7.属于行政执法案卷 | 0 | 0 | 0 | 0 | 0 | 0 |" (six of seven)."""
    found = codes("2024-district-longgang.txt")
    assert "AUDIT-HEADER-UNKNOWN" not in found and "AUDIT-CELLS-MISSING" in found


def test_an_amount_with_its_unit_is_read_and_noted():
    """安康 2019 (ankang.gov.cn): 政府集中采购 "160.5964万元"."""
    result = import_report(REAL / "2019-dept-ankang.txt")
    assert result.submission.values["t2.procurement.amount"] == Decimal("160.5964")
    unit = findings("2019-dept-ankang.txt", "AUDIT-UNIT")
    assert len(unit) == 1 and "160.5964万元" in unit[0].message


def test_yuan_in_a_wan_yuan_column_is_converted():
    """The 石家庄 2021 row (sjz.gov.cn) with its fee written in yuan, as towns write it."""
    text = (REAL / "2021-city-sjz-edu.txt").read_text(encoding="utf-8").replace(
        "| 行政事业性收费 | 172 |", "| 行政事业性收费 | 1720000元 |")
    result = import_items(parse_text(text), _formats(), source="sjz.txt")
    assert result.submission.values["t2.fees.amount"] == 172
    assert [d.official for d in result.deviations if d.kind == "unit"] == ["172（单位为万元，不写单位）"]


def _formats():
    from nianbao.importer.importer import formats_of

    return formats_of()


def test_an_empty_table_is_one_table_blank():
    """和平 2023's tables with every number taken out (as pages publish an unfilled template)."""
    text = (REAL / "2023-town-heping.txt").read_text(encoding="utf-8")
    head, rest = text.split("三、收到和处理政府信息公开申请情况", 1)
    emptied = "\n".join("|".join("" if c.strip().isdigit() else c for c in line.split("|")) for line in head.split("\n"))
    result = import_items(parse_text(emptied + "三、收到和处理政府信息公开申请情况" + rest), _formats(), source="heping.txt")
    found = audit_result(result)
    blank = [f for f in found if f.code == "TABLE-BLANK"]
    assert len(blank) == 1 and blank[0].sheet == "表二"
    assert not [f for f in found if f.sheet == "表二" and f.code in ("AUDIT-ROW-MISSING", "AUDIT-HEADER-UNKNOWN", "BLANK")]


def test_slash_and_dash_are_not_zero():
    """和平 2023 with "/" and "—" written for none in two cells of table 二."""
    text = (REAL / "2023-town-heping.txt").read_text(encoding="utf-8")
    text = text.replace("行政许可 | 0 |", "行政许可 | / |").replace("行政处罚 | 0 |", "行政处罚 | — |")
    result = import_items(parse_text(text), _formats(), source="heping.txt")
    sub = result.submission
    assert sub.values["t2.licensing.decisions"] is None and sub.raw["t2.licensing.decisions"] == "/"
    assert sub.values["t2.punishment.decisions"] is None and sub.raw["t2.punishment.decisions"] == "—"
    named = {f.row for f in audit_result(result) if f.code in ("BLANK", "TYPES")}
    assert {"行政许可", "行政处罚"} <= named


def test_rules_are_not_run_over_rows_the_report_lacks():
    """龙岗 2024 ends inside table 三: its balance rules have no totals to compare."""
    assert not [c for c in codes("2024-district-longgang.txt") if c.startswith("T3-")]


# --------------------------------------------------------------------------- identity


def test_a_title_wrapped_mid_phrase_below_the_navigation():
    """望疃镇 2023 (lixin.gov.cn): "利辛县望疃镇2023" / "政府信息公开工作年度报告"."""
    s = import_report(REAL / "2023-town-wangtuan.txt").structure
    assert (s.unit, s.year) == ("利辛县望疃镇", 2023)
    assert "AUDIT-TITLE-MISSING" not in codes("2023-town-wangtuan.txt")


def test_a_title_below_a_bare_heading_is_the_title():
    """松木塘镇 2022 (taojiang.gov.cn): "2022年政府信息公开工作年度报告" above the full two-line title."""
    s = import_report(REAL / "2022-town-songmutang.txt").structure
    assert s.unit == "桃江县松木塘镇人民政府"
    assert "TOWN-REGULATIONS" in codes("2022-town-songmutang.txt")


def test_a_unit_after_the_year_is_named_in_the_title_finding():
    """下各镇 2023 (zjxj.gov.cn): "2023年下各镇政府信息公开工作年度报告"."""
    title, = findings("2023-town-xiage.txt", "AUDIT-TITLE")
    assert "年份之后" in title.message and title.expected == "下各镇2023年政府信息公开工作年度报告"


def test_the_standard_title_has_no_guanyu():
    """盐边县 2021 (mirror, traditional): "…关于2021年度政府信息公开工作的年度报告"."""
    title, = findings("2021-county-edu-yanbian-trad.txt", "AUDIT-TITLE")
    assert title.expected == "盐边县教育和体育局2021年政府信息公开工作年度报告"


def test_without_a_title_the_intro_is_not_the_title_and_the_fallbacks_are_said():
    """宜春 2019 (yichun.gov.cn) opens "依据《…条例》第五十条规定，制定本报告。…统计期限自2019年1月1日…"."""
    s = import_report(REAL / "2019-dept-yichun.txt").structure
    assert s.title is None and (s.year, s.year_from) == (2019, "统计期限")
    assert "依据" not in s.unit and "条例" not in s.unit
    missing, = findings("2019-dept-yichun.txt", "AUDIT-TITLE-MISSING")
    assert "统计期限" in missing.message


def test_the_unit_from_the_introduction():
    """贵州省机关事务管理局 2020 (guizhou.gov.cn): "现公布贵州省机关事务管理局2020年…"; 将乐 2023: "请与…联系"."""
    assert import_report(REAL / "2020-prov-guizhou-jgsw.txt").structure.unit == "贵州省机关事务管理局"
    assert import_report(REAL / "2023-county-jiangle-health.txt").structure.unit == "将乐县卫生健康局"


def test_a_report_without_tables_is_audited_not_refused():
    """青龙镇 2019 (hhjs.gov.cn): headings of parts 二 to 四 with nothing under them."""
    found = codes("2019-town-qinglong.txt")
    assert found.count("AUDIT-TABLE-MISSING") == 3 and "AUDIT-TITLE-MISSING" in found


def test_a_statistics_period_of_another_year_in_a_report_without_tables():
    """钟祥镇 2019 (rs.gov.cn) published again as 2020 without changing its period (derived)."""
    text = (REAL / "2019-town-zhongxiang.txt").read_text(encoding="utf-8").replace(
        "钟祥镇2019年度政府信息公开工作年度报告", "钟祥镇2020年度政府信息公开工作年度报告", 1)
    found = audit_result(import_items(parse_text(text), _formats(), source="zhongxiang.txt"))
    period = [f for f in found if f.code == "AUDIT-PERIOD"]
    assert len(period) == 1 and "2019年1月1日" in period[0].message


# --------------------------------------------------------------------------- editions


def test_a_2019_format_report_gets_no_2021_rules():
    """胡市镇 2019 (tianmen.gov.cn) and 湖南 2020: no fee statement or sub-item rule of 2021."""
    for name in ("2019-town-hushi.txt", "2020-prov-hunan-trad.txt", "2019-town-huilan.txt"):
        found = codes(name)
        assert "AUDIT-FEES" not in found and "AUDIT-OVERVIEW-ITEMS" not in found, name


def test_the_2019_table_in_a_2023_report():
    """杨林镇 2023 (hengdong.gov.cn)."""
    assert "AUDIT-EDITION" in codes("2023-town-yanglin.txt")


# --------------------------------------------------------------------------- narrative


def test_parts_below_the_total_without_deng():
    """贵州 2020: "主动公开信息411条，其中…307条，…97条，…3条" — 407."""
    found, = findings("2020-prov-guizhou-jgsw.txt", "AUDIT-NARRATIVE-SUM")
    assert "411" in found.message and "407" in found.message and len(found.message) < 220


def test_parts_below_the_total_with_deng_and_approximate_parts_are_fine():
    """胡市镇 2019 ("…6篇等"), 石家庄 2021 ("1100余条"), 砲里 2022 (parts in 条 and 件)."""
    for name in ("2019-town-hushi.txt", "2021-city-sjz-edu.txt", "2022-street-paoli.txt", "2025-city-baicheng.txt"):
        assert "AUDIT-NARRATIVE-SUM" not in codes(name), name


def test_the_parts_in_the_next_sentence():
    """信丰县 2023 (jxxf.gov.cn): "…465条，内容涉及…。其中…362条。" — 464."""
    assert findings("2023-county-xinfeng-health.txt", "AUDIT-NARRATIVE-SUM")


def test_applications_that_do_not_balance():
    """硚口区 2025 (qiaokou.gov.cn): 新收78 + 结转3 ≠ 答复75 + 结转3."""
    found, = findings("2025-district-qiaokou.txt", "AUDIT-NARRATIVE-BALANCE")
    assert (found.value, found.expected) == ("78", "81")
    assert not findings("2024-district-panyu.txt", "AUDIT-NARRATIVE-BALANCE")


def test_announced_parts():
    """大冶 2025 ("等五项内容"), 宁县 2023 (four parts listed), 杨林寨乡 2022 (the old parts); 经纬街道 2022 is right."""
    for name in ("2025-county-daye.txt", "2023-county-ningxian-health.txt", "2022-town-yanglinzhai.txt"):
        assert findings(name, "AUDIT-PARTS-ANNOUNCED"), name
    assert not findings("2022-street-jingwei.txt", "AUDIT-PARTS-ANNOUNCED")


def test_overview_sub_items():
    """松木塘镇 2022 lacks 平台建设; 经纬街道 2022 has all five; a copy cut inside part 一 is not judged."""
    missing, = findings("2022-town-songmutang.txt", "AUDIT-OVERVIEW-ITEMS")
    assert "平台建设" in missing.message
    for name in ("2022-street-jingwei.txt", "2022-town-xiaoguan.txt"):
        assert not findings(name, "AUDIT-OVERVIEW-ITEMS"), name


def test_figures_of_last_year_and_against_table_two():
    """西柳镇 2023 (mirror): "(三)…2022年，…共制定规范性文件0件…现行有效的规范性文件0件" vs 4 and 32."""
    found = codes("2023-town-xiliu-spam.txt")
    assert "YEAR" in found and found.count("NARRATIVE-NUMBERS") >= 1


def test_the_cover_letter_above_the_report():
    """四川省发展和改革委员会 2020: "…现随文呈报。此函。" above the wrapped title."""
    letter = findings("2020-prov-sichuan-fgw-letter.txt", "COVER-LETTER")
    assert letter and "随文呈报" in letter[0].message
    assert "AUDIT-TITLE" not in codes("2020-prov-sichuan-fgw-letter.txt")


def test_the_2019_notice_by_number_is_reported_once():
    """张巷镇 2021 cites the 60号 notice by title and number: AUDIT-BASIS only."""
    found = codes("2021-town-zhangxiang.txt")
    assert "AUDIT-BASIS" in found and "AUDIT-BASIS-TITLE" not in found


def test_the_2019_notice_by_title_alone(tmp_path):
    """广东省 2020 cites the 60号 notice by its title (right for 2020); the same words in 2021 are not."""
    assert not findings("2020-prov-guangdong-trad.txt", "AUDIT-BASIS-TITLE")
    text = (REAL / "2020-prov-guangdong-trad.txt").read_text(encoding="utf-8").replace("2020", "2021")
    path = tmp_path / "guangdong-2021.txt"
    path.write_text(text, encoding="utf-8")
    assert [f.code for f in audit(path).findings].count("AUDIT-BASIS-TITLE") == 1


# --------------------------------------------------------------------------- inputs


def test_traditional_characters_are_converted_and_noted():
    """湖南 2020 (mirror in traditional characters)."""
    result = import_report(REAL / "2020-prov-hunan-trad.txt")
    assert result.traditional and "湖南省人民政府办公厅" in result.structure.part_texts["overview"]
    assert "IMPORT-TRADITIONAL" in codes("2020-prov-hunan-trad.txt")
    assert not import_report(REAL / "2022-street-jingwei.txt").traditional


def _page_html(name: str) -> str:
    import html

    lines = (REAL / name).read_text(encoding="utf-8").split("\n")
    out = []
    for line in lines:
        if "|" in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        else:
            if out and out[-1].startswith("<tr>"):
                out.append("</table>")
            out.append(f"<p>{html.escape(line)}</p>")
            continue
        if len(out) < 2 or not (out[-2].startswith("<tr>") or out[-2] == "<table border=1>"):
            out.insert(len(out) - 1, "<table border=1>")
    return "\n".join(out) + ("</table>" if out and out[-1].startswith("<tr>") else "")


def test_a_saved_page_in_gbk_and_big5(tmp_path):
    """西柳镇 2023's text as a GBK page, 广东省 2020's traditional text as a Big5 page."""
    gbk = tmp_path / "xiliu.html"
    body = _page_html("2023-town-xiliu-spam.txt")
    gbk.write_bytes(f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
                    f"<body>{body}</body></html>".encode("gb18030"))
    assert import_report(gbk).submission.values["t2.normative_documents.valid"] == 32
    big5 = tmp_path / "guangdong.htm"
    text = (REAL / "2020-prov-guangdong-trad.txt").read_text(encoding="utf-8")
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n"))
    big5.write_bytes(f'<html><head><meta charset="big5"></head><body>{paragraphs}</body></html>'.encode("big5hkscs",
                                                                                                        "replace"))
    result = import_report(big5)
    assert result.traditional and result.structure.unit == "广东省人民政府" and result.submission.year == 2020


def test_a_page_saved_as_one_file_mhtml(tmp_path):
    """和平 2023 saved by a browser as "Web archive, single file" (quoted-printable, GB18030)."""
    import quopri

    page = ("<html><body>" + _page_html("2023-town-heping.txt") + "</body></html>").encode("gb18030")
    mhtml = tmp_path / "heping.mhtml"
    mhtml.write_bytes(b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="X"\r\n\r\n--X\r\n'
                      b'Content-Type: text/html; charset="gb18030"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
                      b"Content-Location: " + url("2023-town-heping.txt").encode() + b"\r\n\r\n"
                      + quopri.encodestring(page) + b"\r\n--X--\r\n")
    result = import_report(mhtml)
    assert result.kind == "html"
    assert result.submission.values["t3.new.total"] == 0 and result.submission.year == 2023


def test_an_old_doc_is_refused_in_one_line(tmp_path):
    doc = tmp_path / "年报.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    report = audit(doc)
    assert report.unreadable_code == "IMPORT-WRONG-TYPE" and ".docx" in report.unreadable


# --------------------------------------------------------------------------- round trip


COMPLETE = [p.name for p in sorted(REAL.glob("*.txt"))
            if tomllib.loads(p.with_suffix(".toml").read_text(encoding="utf-8")).get("complete")]


@pytest.mark.parametrize("name", COMPLETE)
@pytest.mark.parametrize("target", ["docx", "html"])
def test_import_workbook_build_gives_every_number_back_cell_by_cell(name, target, tmp_path):
    from nianbao.importer.importer import to_workbook
    from nianbao.report.build import build

    source = import_report(REAL / name)
    xlsx = to_workbook(source, tmp_path / "report.xlsx").path
    built = build(xlsx, tmp_path / "out", to=target, force=True)
    again = import_report(built.outputs[target])
    fmt = source.submission.format
    wrong = [(cell, source.submission.values.get(cell), again.submission.values.get(cell))
             for cell in fmt.cells if source.submission.values.get(cell) != again.submission.values.get(cell)]
    assert wrong == []
    assert len([c for c in fmt.cells if c in source.submission.values]) == len(fmt.cells)  # complete: every cell

"""Audit published reports: import them, run every check on the numbers and the narrative
(``nianbao.check.validate``), and add the conformance findings only a published report has:
outdated edition, labels that differ from the official ones, parts missing or out of order,
the title's form, the statistics period, blank totals, the superseded format cited, and part 六
without the information processing fees.

``audit_result`` is pure (an ImportResult in, findings out); ``audit`` reads one file and never
raises for a bad file: it becomes a report with ``unreadable`` set, as in ``check``.
"""

from __future__ import annotations

import re
from pathlib import Path

from nianbao.check import FileReport, validate
from nianbao.errors import NianbaoError
from nianbao.findings import Finding, register, sort_key
from nianbao.format.load import format_for_year
from nianbao.format.model import Format
from nianbao.importer import ImportResult, import_report
from nianbao.importer.normalize import normalize_label
from nianbao.importer.tables import Deviation
from nianbao.numbers import parse_number

LABEL = register("AUDIT-LABEL", "warning", "表格标签与官方格式的文字不一致（给出官方文字）")
ROW_MISSING = register("AUDIT-ROW-MISSING", "error", "表格缺少官方格式中的一行，该行数字无法读取")
ROW_UNKNOWN = register("AUDIT-ROW-UNKNOWN", "warning", "表格中有官方格式没有的行，其数字未读取")
HEADER_MISSING = register("AUDIT-HEADER-MISSING", "warning", "表格缺少官方格式中的表头或分项标题")
HEADER_UNKNOWN = register("AUDIT-HEADER-UNKNOWN", "warning", "表格中有官方格式没有的表头文字")
COLUMN_ORDER = register("AUDIT-COLUMN-ORDER", "warning", "表格的列顺序与官方格式不同（数字已按表头读取）")
CELLS_MISSING = register("AUDIT-CELLS-MISSING", "error", "表格一行的数字格少于官方格式")
TABLE_MISSING = register("AUDIT-TABLE-MISSING", "error", "报告中找不到官方格式的某张统计表")
PART_MISSING = register("AUDIT-PART-MISSING", "error", "报告缺少六个部分中的某一部分")
PART_ORDER = register("AUDIT-PART-ORDER", "error", "报告六个部分的顺序与官方格式不同")
PART_TITLE = register("AUDIT-PART-TITLE", "warning", "部分标题与官方格式的文字不一致")
TITLE = register("AUDIT-TITLE", "warning", "报告标题不是“单位名称+年份+年政府信息公开工作年度报告”的标准形式")
TITLE_MISSING = register("AUDIT-TITLE-MISSING", "error", "找不到报告标题（单位名称和年份）")
EDITION = register("AUDIT-EDITION", "error", "报告使用的表格版本与报告年度不符（如2021年及以后仍用2019年版表格）")
PERIOD = register("AUDIT-PERIOD", "error", "报告写明的统计期限与报告年度不符")
TOTAL_BLANK = register("AUDIT-TOTAL-BLANK", "error", "表格中的合计（总计）格空白")
BASIS = register("AUDIT-BASIS", "warning", "引用的年报格式文件已被替代（2021年及以后仍只引用国办公开办函〔2019〕60号）")
FEES = register("AUDIT-FEES", "warning", "第六部分没有说明信息处理费收取情况（只写“无”）")
UNIT = register("AUDIT-UNIT", "warning", "表格的数字格里写了单位（“160.5964万元”“3件”），数字已去掉单位读取")

_KIND_CODE = {"label": LABEL, "row-missing": ROW_MISSING, "row-unknown": ROW_UNKNOWN,
              "header-missing": HEADER_MISSING, "header-unknown": HEADER_UNKNOWN, "cells-missing": CELLS_MISSING,
              "column-order": COLUMN_ORDER,
              "table-missing": TABLE_MISSING, "part-missing": PART_MISSING, "part-order": PART_ORDER,
              "part-title": PART_TITLE, "title-missing": TITLE_MISSING, "unit": UNIT}
#: The fee statement of part 六 came with the 2021 format (and the 2021 fee rules): 2019's has none.
FEES_FROM_EDITION = 2021

_PERIOD = re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:起\s*)?(?:至|到|—|－|-|～|~)\s*"
                     r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CITATION = re.compile(r"国办公开办函\s*[〔\[［(（【]\s*((?:19|20)\d\d)\s*[〕\]］)）】]\s*(\d+)\s*号")
_FEE_WORDS = ("信息处理费", "收费", "收取")


def audit(path: Path) -> FileReport:
    """Import and audit one published report; a file that cannot be read becomes a report."""
    path = Path(path)
    try:
        result = import_report(path)
    except NianbaoError as err:
        code = getattr(err, "code", "FILE-UNREADABLE")
        message = str(err)
        return FileReport(path, None, [Finding(code, "error", message)], unreadable=message, unreadable_code=code)
    return FileReport(path, result.submission, audit_result(result))


def audit_result(result: ImportResult) -> list[Finding]:
    """Every check plus the conformance findings of one imported report.

    What the report lacks is one finding per missing part (table, row, part); the rules whose
    numbers are not all in the report, or blank there, are not run (blank is reported as blank)."""
    from nianbao.audit_narrative import audit_narrative
    from nianbao.importer.importer import TRADITIONAL

    sub = result.submission
    findings = validate(sub) if sub.year else []
    findings = _without_unknown_unit(_rules_with_inputs(sub, findings))
    blank_tables = _blank_tables(result)
    findings = [f for f in findings if not (f.code in ("BLANK", "TABLE-BLANK") and f.table in blank_tables)]
    findings += blank_tables.values()
    deviations = [d for d in result.deviations if not (d.table and sub.format.tables[d.table].heading in blank_tables
                                                      and d.kind != "table-missing")]
    absent = {d.part for d in deviations if d.kind == "part-missing"}
    deviations = [d for d in deviations if not (d.kind == "table-missing" and d.part in absent)]  # one per missing part
    findings += [_title_missing(result) if d.kind == "title-missing" else deviation_finding(sub.format, d)
                 for d in deviations]
    findings += _edition(result) + _title(result) + _period(result) + _basis(result) + _fees(result)
    findings += _blank_totals(result)
    findings += audit_narrative(result)
    if result.traditional:
        findings.append(Finding(TRADITIONAL, "warning", "这份报告是繁体字（多见于镜像网站转载的副本），已转换为简体字后核对。"
                                "请以发布机关网站上的原文为准。", sheet="标题", row="字体"))
    return sorted(findings, key=sort_key)


def _rules_with_inputs(sub, findings: list[Finding]) -> list[Finding]:
    """Rule findings only for rules whose every input cell is in the report with a number."""
    from nianbao import drift
    from nianbao.rules import check as check_rule
    from nianbao.rules import active_rules

    rule_ids = {r.rule_id for r in sub.format.rules}
    values = drift.rule_inputs(sub)
    allowed = set()
    for rule in active_rules(sub.format, bool(sub.previous)):
        inputs = sub.format.involved(rule.cells)
        if all(c in sub.locations and sub.values.get(c) is not None for c in inputs):
            outcome = check_rule(rule, values)
            if not outcome.ok:
                allowed.add(outcome.message())
    return [f for f in findings if f.code not in rule_ids or f.message in allowed]


def _without_unknown_unit(findings: list[Finding]) -> list[Finding]:
    # A published report without a unit name is AUDIT-TITLE-MISSING; "use your template" is check's advice.
    return [f for f in findings if not (f.code == "REQUIRED" and f.message.startswith("文件中没有单位名称"))]


def _blank_tables(result: ImportResult) -> dict[str, Finding]:
    """A table with its headers but no number at all: one finding, not one per row and header."""
    sub = result.submission
    out: dict[str, Finding] = {}
    for table_id, match in result.matches.items():
        table = sub.format.tables[table_id]
        if any(not parse_number(t).blank for t in match.texts.values()):
            continue
        out[table.heading] = Finding("TABLE-BLANK", "error", f"{table.short}只有表头，没有填写任何数字（{table.heading}）。"
                                     f"请按官方格式逐格填写；没有发生的填 0。", sheet=table.short, table=table.heading)
    return out


def _title_missing(result: ImportResult) -> Finding:
    s, sub = result.structure, result.submission
    official = sub.format.title
    said = []
    if sub.year:
        said.append(f"报告年度按{s.year_from}读作 {sub.year} 年")
    if s.unit:
        said.append(f"单位名称按{s.unit_from}读作“{s.unit}”")
    else:
        said.append("单位名称在报告中找不到")
    return Finding(TITLE_MISSING, "error", f"找不到报告标题（{'；'.join(said)}）。标题应为“单位名称+年份+年{official}”"
                   f"{f'，即“{s.unit}{sub.year}年{official}”' if s.unit and sub.year and s.unit_from != '文件名' else ''}。",
                   sheet="标题", row="标题", value=s.year_from, expected=f"{s.unit}{sub.year}年{official}")


# --------------------------------------------------------------------------- deviations


def deviation_finding(fmt: Format, d: Deviation) -> Finding:
    code = _KIND_CODE.get(d.kind, LABEL)
    table = fmt.tables.get(d.table) if d.table else None
    where = f"{table.short}{d.position}" if table else (d.part or "")
    cell = None
    if d.where is not None:
        from openpyxl.utils import get_column_letter

        cell = f"{get_column_letter(d.where[1] + 1)}{d.where[0] + 1}"
    kind = "行标题" if d.row and not d.column else "表头"
    messages = {
        "label": f"{where}的{kind}写作“{d.seen}”，与官方格式不一致，应为“{d.official}”。",
        "row-missing": f"{where}缺少“{d.official}”一行，这一行的数字无法读取。请按官方格式补全表格。",
        "row-unknown": f"{where}的“{d.seen}”一行不是官方格式中的行，其数字未读取。请核对行标题。",
        "header-missing": f"{where}缺少表头“{d.official}”。请按官方格式补全表头。",
        "header-unknown": f"{where}有官方格式中没有的表头“{d.seen}”。请核对表头文字。",
        "cells-missing": f"{where}“{d.row}”一行只有 {d.seen} 个数字格，官方格式应有 {d.official} 个。",
        "column-order": f"{where}的列顺序与官方格式不同：表中依次为“{d.seen}”，官方格式依次为“{d.official}”。"
                        "数字已按各列表头读取；请按官方格式调整列的顺序。",
        "table-missing": f"报告中找不到{table.short if table else ''}（“{d.official}”）的统计表。请按官方格式列出该表。",
        "unit": f"{where}“{d.row}·{d.column}”写作“{d.seen}”，表格的数字不写单位，应写{d.official}。",
        "part-missing": f"报告缺少“{d.official}”部分。年度报告的六个部分应齐全并按顺序排列。",
        "part-order": f"“{d.official}”部分{d.seen}，顺序与官方格式不同。六个部分应按一至六的顺序排列。",
        "part-title": f"部分标题写作“{d.seen}”，官方标题为“{d.official}”。",
        "title-missing": f"找不到报告标题。标题应为“单位名称+年份+年{d.official}”。",
    }
    return Finding(code, _severity(code), messages.get(d.kind, f"{where}：“{d.seen}”应为“{d.official}”。"),
                   sheet=table.short if table else d.part, cell=cell, table=table.heading if table else d.part,
                   row=d.row, column=d.column, value=d.seen, expected=d.official)


def _severity(code: str):
    from nianbao.findings import CODES

    return CODES[code][0]


# --------------------------------------------------------------------------- audit-only checks


def _edition(result: ImportResult) -> list[Finding]:
    sub, s = result.submission, result.structure
    if not sub.year or s is None:
        return []
    try:
        expected = format_for_year(sub.year)
    except NianbaoError:
        return []
    if expected.key == sub.format.key:
        return []
    used = s.edition_labels.get(sub.format.key, [])
    shown = "、".join(f"“{x}”" for x in used[:6]) + ("等" if len(used) > 6 else "")
    older = sub.format.first_year < expected.first_year
    message = (f"这是{sub.year}年度的报告，但表格使用了{sub.format.basis}的{'旧版' if older else '新版'}格式"
               f"（表中出现{shown}）。{sub.year}年度报告应使用{expected.basis}规定的格式，请按新格式重新填写表格。")
    return [Finding(EDITION, "error" if older else "warning", message, table=None, value=sub.format.basis,
                    expected=expected.basis)]


def _title(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    if s is None or s.title is None:
        return []
    official = sub.format.title
    if normalize_label(s.title_rest) == normalize_label(official) and s.unit and not s.unit_after_year \
            and "关于" not in s.title:
        return []
    rest = normalize_label(s.title_rest)
    if s.unit_after_year:
        why = "把单位名称写在了年份之后"
    elif "关于" in s.title:
        why = "写成了“关于……的报告”"
    elif not s.unit:
        why = "标题中没有单位名称"
    elif "情况的报告" in rest:
        why = "写成了“情况的报告”"
    elif "工作报告" in rest and "年度报告" not in rest:
        why = "写成了“工作报告”"
    elif "工作" not in rest:
        why = "缺少“工作”二字"
    else:
        why = "与标准形式不同"
    expected = f"{s.unit or '（单位名称）'}{sub.year}年{official}"
    return [Finding(TITLE, "warning", f"报告标题“{s.title}”{why}。标准标题为“{expected}”。", sheet="标题",
                    row="标题", value=s.title, expected=expected)]


def _period(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    if s is None or not sub.year:
        return []
    findings = []
    for m in _PERIOD.finditer(normalize_text(s.intro)):
        y1, mo1, d1, y2, mo2, d2 = (int(x) for x in m.groups())
        if (y1, mo1, d1, y2, mo2, d2) != (sub.year, 1, 1, sub.year, 12, 31):
            expected = f"{sub.year}年1月1日至{sub.year}年12月31日"
            findings.append(Finding(PERIOD, "error", f"报告开头写的统计期限是“{m.group(0)}”，但这是{sub.year}年度的报告，"
                                    f"统计期限应为{expected}。请核对是否照抄了其他年度的报告。", sheet="引言", row="统计期限",
                                    value=m.group(0), expected=expected))
    return findings


def normalize_text(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text or "")


def _basis(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    if s is None or not sub.year:
        return []
    try:
        expected = format_for_year(sub.year)
    except NianbaoError:
        return []
    want = _CITATION.search(expected.basis)
    if want is None:
        return []
    text = "\n".join([s.intro, *s.narratives.values()])
    cited = [(m.group(0), (m.group(1), m.group(2))) for m in _CITATION.finditer(text)]
    if not cited or any(key == want.groups() for _, key in cited):
        return []
    seen = "、".join(dict.fromkeys(c for c, _ in cited))
    return [Finding(BASIS, "warning", f"报告引用{seen}作为年报格式依据，该文件规定的格式已被{expected.basis}替代。"
                    f"{sub.year}年度报告应引用{expected.basis}。", sheet="引言", row="编制依据", value=seen,
                    expected=expected.basis)]


def _fees(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    fmt = sub.format
    part = next((p for p in fmt.parts if any(n.id == "fees" for n in p.narratives)), None)
    if s is None or part is None or part.id not in s.part_texts or fmt.first_year < FEES_FROM_EDITION:
        return []
    text = s.part_texts.get(part.id, "")
    if any(w in text for w in _FEE_WORDS):
        return []
    shown = text if len(text) <= 20 else text[:20] + "…"
    return [Finding(FEES, "warning", f"“{part.heading}”部分写的是“{shown}”，没有说明信息处理费的收取情况。应写明发出收费"
                    f"通知的件数、金额和实际收取金额；没有收取的写“本年度未收取信息处理费”。", sheet=part.heading,
                    table=part.heading, row="信息处理费收取情况", value=shown, expected="本年度未收取信息处理费")]


def _blank_totals(result: ImportResult) -> list[Finding]:
    sub = result.submission
    fmt = sub.format
    findings = []
    for cell_id in fmt.derived:
        if cell_id not in sub.locations:
            continue
        if parse_number(sub.raw.get(cell_id, sub.values.get(cell_id))).blank:
            cell = fmt.cells[cell_id]
            table = fmt.tables[cell.table]
            loc = sub.locations[cell_id]
            findings.append(Finding(TOTAL_BLANK, "error", f"{table.short}“{cell.row.display}·{cell.column.label}”"
                                    f"（{loc.sheet}!{loc.cell}）是合计，却空着没有填写。没有发生的应填 0。",
                                    sheet=loc.sheet, cell=loc.cell, table=table.heading, row=cell.row.display,
                                    column=cell.column.label, value="", expected="合计数"))
    return findings


__all__ = ["audit", "audit_result", "deviation_finding"]

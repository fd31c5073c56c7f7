"""Checks on the narrative parts and unit details: present, no template leftovers, the right
year, figures that agree with the tables, not copied from last year.

The parts come from the format model (``fmt.narratives``); the only table of phrases is
:data:`NARRATIVE_NUMBERS`, which maps what a sentence says to the cell ids of the format.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from nianbao.findings import Finding, register
from nianbao.format.model import Format, Narrative
from nianbao.rules import fmt as fmt_number
from nianbao.safetext import char_name, hidden_chars, quote
from nianbao.submission import Submission

REQUIRED = register("REQUIRED", "error", "必填的正文部分或单位信息是空的", live=True)
PLACEHOLDERS = register("PLACEHOLDERS", "error", "正文或单位信息中留有模板占位符（XX、××、＊＊、【】、此处填写）", after="content")
YEAR = register("YEAR", "warning", "正文提到的年份与报告年度不符（可能照抄了上年报告）", after="narrative")
NARRATIVE_NUMBERS = register("NARRATIVE-NUMBERS", "warning", "正文中写的数字与表格不一致", after="narrative")
SAME_AS_LAST_YEAR = register("SAME-AS-LAST-YEAR", "warning", "正文与上年报告几乎相同（内容雷同）", after="content")
NARRATIVE_CASES = register("NARRATIVE-CASES", "warning", "正文对行政复议、行政诉讼的表述与表四不符（如“均获维持”而表中有纠正或尚未审结）", after="narrative")
COVER_LETTER = register("COVER-LETTER", "warning", "正文像给上级的报送函（“予以上报”“特此报告”“请审阅”），不是年度报告本身", after="content")
TOO_LONG = register("NARRATIVE-TOO-LONG", "error", "正文一部分超过 Excel 单元格的 32767 字上限", after="content")
HIDDEN_CHARS = register("TEXT-HIDDEN-CHARS", "error", "正文或单位信息中有控制字符或改变文字方向的字符（显示的内容与实际不同）", after="content")
INVISIBLE_CHARS = register("TEXT-INVISIBLE-CHARS", "warning", "正文或单位信息中有看不见的零宽字符（多为网页或 Word 粘贴带入）", after="content")
#: Excel's limit on the characters in one cell.
CELL_LIMIT = 32767

#: Ratio (difflib) from which a part counts as (nearly) identical to last year's.
SAME_RATIO = 0.9
#: Parts shorter than this (after removing white space) are not compared with last year ("无").
SAME_MIN_CHARS = 30

# A window between the phrase and its number: no sentence break, no list separator, no other
# figure, so "行政复议、行政诉讼共3件" is not read as "行政复议3件".
_GAP = r"[^。；;，,、和及与\d\n]{0,%d}?"


@dataclass(frozen=True)
class NumberPhrase:
    """A way the narrative states a table figure: ``pattern`` captures the number; the figure is
    the sum of ``cells`` (the first alternative whose cells all exist in the format)."""

    what: str
    pattern: str
    cells: tuple[tuple[str, ...], ...]
    at_most: bool = False  # the cells hold this figure among others (withdrawn within （六）3.其他)


#: The one table mapping narrative phrases to cells. "主动公开…N条" has no table cell (the
#: national tables do not count disclosed items), so it is not checked.
NARRATIVE_NUMBERS_TABLE: tuple[NumberPhrase, ...] = (
    NumberPhrase("本年新收申请", r"(?:收到|新收|受理)" + _GAP % 15 + r"申请" + _GAP % 4 + r"(\d+)\s*件",
                 (("t3.new.total",),)),
    NumberPhrase("上年结转申请", r"上一?年度?结转" + _GAP % 10 + r"(\d+)\s*件", (("t3.carried_over.total",),)),
    NumberPhrase("本年办结申请", r"办结" + _GAP % 10 + r"(\d+)\s*件", (("t3.total.total",),)),
    NumberPhrase("结转下年度申请", r"结转(?:至|到)?下一?年度?" + _GAP % 10 + r"(\d+)\s*件",
                 (("t3.carry_forward.total",),)),
    NumberPhrase("行政许可", r"行政许可" + _GAP % 8 + r"(\d+)\s*件", (("t2.licensing.decisions",),)),
    NumberPhrase("行政处罚", r"行政处罚" + _GAP % 8 + r"(\d+)\s*件", (("t2.punishment.decisions",),)),
    NumberPhrase("行政强制", r"行政强制" + _GAP % 8 + r"(\d+)\s*件", (("t2.coercion.decisions",),)),
    NumberPhrase("行政复议", r"行政复议" + _GAP % 8 + r"(\d+)\s*(?:件|起)", (("t4.cases.review_total",),)),
    NumberPhrase("行政诉讼", r"行政诉讼" + _GAP % 8 + r"(\d+)\s*(?:件|起)",
                 (("t4.cases.direct_total", "t4.cases.after_review_total"),)),
    NumberPhrase("制发行政规范性文件", r"(?:制发|印发|出台)" + _GAP % 6 + r"规范性文件" + _GAP % 4 + r"(\d+)\s*(?:件|个|份)",
                 (("t2.normative_documents.issued",), ("t2.normative_documents.made",))),
    # review rule C5: withdrawn applications are counted in （六）其他处理·3.其他
    NumberPhrase("撤回申请", r"撤回" + _GAP % 10 + r"(\d+)\s*件", (("t3.other_handling.total",),), at_most=True),
)


@dataclass(frozen=True)
class CaseClaim:
    """A claim the narrative makes about table 四: where it matches, the cells of each group the
    sentence names (行政复议 → review; 行政诉讼/起诉 → direct, after_review) must all be 0."""

    what: str
    pattern: str
    columns: tuple[str, ...]  # column ids of table 四 within each group


#: "均获维持" cannot stand beside cases corrected, otherwise concluded or pending; "未发生行政复议"
#: cannot stand beside cases counted.
CASE_CLAIMS: tuple[CaseClaim, ...] = (
    CaseClaim("均获维持", r"(?:均|全部|都|全都)(?:被|获|予以|得到)?(?:依法)?(?:予以)?维持", ("corrected", "other", "pending")),
    CaseClaim("未发生", r"(?:未|没有)(?:发生|收到|出现|产生|涉及|被提起|被申请)?[^。；;，,\d]{0,20}?"
              r"行政(?:复议|诉讼)(?:[、和及与或](?:行政)?(?:复议|诉讼))*", ("total",)),
)
_CASE_GROUPS = (("行政复议", ("review",)), ("诉讼", ("direct", "after_review")), ("起诉", ("direct", "after_review")))
_COVER_LETTER = re.compile(r"予以上报|特此(?:上报|呈报|报告)|请(?:予)?审(?:阅|定|示)|妥否[，,]?\s*请|请(?:予)?批示|"
                           r"呈报(?:贵|你)|报送(?:贵|你)")

_PLACEHOLDER = re.compile(r"(?<![A-Za-z])[XxＸｘ]{2,}(?![A-Za-z])|×{2,}|＊{2,}|\*{2,}|【[^】\n]{0,30}】|此处填写|在此填写")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")
_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年\s*1\s*月\s*1\s*日\s*(?:起\s*)?(?:至|到|—|－|-|～|~)\s*"
                     r"((?:19|20)\d\d)\s*年\s*12\s*月\s*31\s*日")


def check_narratives(sub: Submission, values: dict[str, Decimal | None],
                     previous: Submission | None = None) -> list[Finding]:
    """Every narrative and unit-detail finding of one submission."""
    findings: list[Finding] = []
    findings += _lengths_and_hidden(sub)
    if any(len(t or "") > CELL_LIMIT for t in sub.narratives.values()):
        # Scan what Excel keeps of each part; NARRATIVE-TOO-LONG already reports the rest.
        sub = dataclasses.replace(sub, narratives={k: (t or "")[:CELL_LIMIT] for k, t in sub.narratives.items()})
    findings += _required(sub)
    findings += _placeholders(sub)
    findings += _years(sub)
    findings += _numbers(sub, values)
    findings += _case_claims(sub, values)
    findings += _cover_letter(sub)
    if previous is not None:
        findings += _same_as_last_year(sub, previous)
    return findings


def _lengths_and_hidden(sub: Submission) -> list[Finding]:
    """Parts longer than a cell can hold; bidi/control characters (what is shown differs from
    what is written: U+202E shows “01” for “10”) and zero-width characters, in texts and unit details."""
    findings: list[Finding] = []
    texts = [(f"正文“{_title(sub, n)}”", sub.narratives.get(n.id) or "", _where(sub, n)) for n in sub.format.narratives]
    for fld in sub.format.unit_fields:
        loc = sub.locations.get(f"unit.{fld.id}")
        where = dict(sheet=loc.sheet, cell=loc.cell, name=loc.name, row=fld.label) if loc else dict(row=fld.label)
        texts.append((f"单位信息“{fld.label}”", sub.unit.get(fld.id) or "", where))
    for label, text, where in texts:
        if len(text) > CELL_LIMIT and label.startswith("正文"):
            findings.append(Finding(TOO_LONG, "error", f"{label}有 {len(text)} 字，超过了 Excel 单元格 {CELL_LIMIT} 字的"
                                    "上限（超出的部分在 Excel 中会丢失）。请精简，或把正文另写在 Word 文件中。",
                                    value=str(len(text)), expected=str(CELL_LIMIT), **where))
        dangerous, invisible = hidden_chars(text)
        for found, code, severity, advice in (
                (dangerous, HIDDEN_CHARS, "error", "这类字符会让显示的内容与实际不同（如把“10”显示成“01”），请删除后重新输入这段文字"),
                (invisible, INVISIBLE_CHARS, "warning", "多为从网页或 Word 粘贴带入，发布前会被去掉；请删除")):
            if found:
                pos, char = found[0]
                findings.append(Finding(code, severity, f"{label}中有 {len(found)} 个看不见的字符，例如第 {pos + 1} 个字处的 "
                                        f"{char_name(char)}（“{quote(text[max(0, pos - 8):pos + 8], 20)}”）。{advice}。",
                                        value=char_name(char), **where))
    return findings


@lru_cache(maxsize=64)  # the checks of one file normalise each of its narratives several times
def normalise_text(text: str) -> str:
    """NFKC (full-width digits and punctuation to half-width) for matching, never for display."""
    return unicodedata.normalize("NFKC", text or "")


def _where(sub: Submission, narrative: Narrative) -> dict[str, str | None]:
    loc = sub.locations.get(f"narrative.{narrative.id}")
    part = next((p for p in sub.format.parts if narrative in p.narratives), None)
    return dict(sheet=loc.sheet if loc else None, cell=loc.cell if loc else None, name=loc.name if loc else None,
                table=part.heading if part else None, row=narrative.title)


def _title(sub: Submission, narrative: Narrative) -> str:
    part = next((p for p in sub.format.parts if narrative in p.narratives), None)
    return f"{part.heading}·{narrative.title}" if part else narrative.title


def _required(sub: Submission) -> list[Finding]:
    findings = []
    for narrative in sub.format.narratives:
        if f"narrative.{narrative.id}" not in sub.locations:
            continue  # not located: CELL-NOT-FOUND already says so
        if narrative.required and not (sub.narratives.get(narrative.id) or "").strip():
            findings.append(Finding(REQUIRED, "error",
                                    f"正文“{_title(sub, narrative)}”没有填写。请按“填写说明”写明本部分内容；确实没有的写“无”。",
                                    **_where(sub, narrative)))
    for fld in sub.format.unit_fields:
        loc = sub.locations.get(f"unit.{fld.id}")
        if fld.input and fld.required and loc is not None and not sub.unit.get(fld.id, "").strip():
            findings.append(Finding(REQUIRED, "error",
                                    f"单位信息“{fld.label}”没有填写（{loc.sheet}!{loc.cell}）。"
                                    + (f"{fld.guidance}。" if fld.guidance else ""),
                                    sheet=loc.sheet, cell=loc.cell, name=loc.name, row=fld.label))
    if not sub.unit_name:
        findings.append(Finding(REQUIRED, "error", "文件中没有单位名称。请使用为本单位下发的模板。"))
    return findings


def _first_matches(sub: Submission, pattern: re.Pattern, normalise: bool = False):
    """(narrative, text, first match) for every narrative part where ``pattern`` occurs."""
    for narrative in sub.format.narratives:
        text = sub.narratives.get(narrative.id) or ""
        text = normalise_text(text) if normalise else text
        match = pattern.search(text)
        if match:
            yield narrative, text, match


def _placeholders(sub: Submission) -> list[Finding]:
    findings = []
    for narrative, text, match in _first_matches(sub, _PLACEHOLDER):
        findings.append(Finding(PLACEHOLDERS, "error",
                                f"正文“{_title(sub, narrative)}”中留有模板占位符“{quote(match.group(0))}”"
                                f"（…{_context(text, match.start(), match.end())}…）。请替换为实际内容。",
                                value=match.group(0), **_where(sub, narrative)))
    for fld in sub.format.unit_fields:
        text = sub.unit.get(fld.id, "")
        match = _PLACEHOLDER.search(text)
        loc = sub.locations.get(f"unit.{fld.id}")
        if match and loc is not None:
            findings.append(Finding(PLACEHOLDERS, "error",
                                    f"单位信息“{fld.label}”中留有模板占位符“{quote(match.group(0))}”。请填写实际内容。",
                                    sheet=loc.sheet, cell=loc.cell, name=loc.name, row=fld.label, value=text))
    return findings


def _context(text: str, start: int, end: int, width: int = 12) -> str:
    return quote(text[max(0, start - width): end + width].replace("\n", " "), 2 * width + 16)


def _years(sub: Submission) -> list[Finding]:
    """A statistics period in another year, or another year named more often than the report year."""
    findings: list[Finding] = []
    counts: Counter[int] = Counter()
    first_part: dict[int, Narrative] = {}
    for narrative in sub.format.narratives:
        text = normalise_text(sub.narratives.get(narrative.id) or "")
        for period in _PERIOD.finditer(text):
            years = {int(period.group(1)), int(period.group(2))}
            if years != {sub.year}:
                findings.append(Finding(YEAR, "warning",
                                        f"正文“{_title(sub, narrative)}”写的统计期间是“{period.group(0)}”，但本报告是"
                                        f"{sub.year}年度的，统计期间应为{sub.year}年1月1日至{sub.year}年12月31日。"
                                        f"请核对是否照抄了其他年度的报告。", value=period.group(0),
                                        expected=f"{sub.year}年1月1日至{sub.year}年12月31日", **_where(sub, narrative)))
        for match in _YEAR.finditer(text):
            year = int(match.group(1))
            counts[year] += 1
            first_part.setdefault(year, narrative)
    own = counts.get(sub.year, 0)
    for year, n in sorted(counts.items()):
        if year != sub.year and n > own and not any(f.value and str(year) in f.value for f in findings):
            narrative = first_part[year]
            findings.append(Finding(YEAR, "warning",
                                    f"正文中“{year}年”出现 {n} 次，比报告年度“{sub.year}年”（{own} 次）还多，"
                                    f"例如在“{_title(sub, narrative)}”中。请核对是否照抄了{year}年度的报告。",
                                    value=f"{year}年", expected=f"{sub.year}年", **_where(sub, narrative)))
    return findings


def _numbers(sub: Submission, values: dict[str, Decimal | None]) -> list[Finding]:
    """Figures stated in the narrative against the table cells they describe."""
    fmt: Format = sub.format
    findings = []
    for phrase in NARRATIVE_NUMBERS_TABLE:
        cells = next((alt for alt in phrase.cells if all(c in fmt.cells for c in alt)), None)
        if cells is None or not any(c in sub.values for c in cells):
            continue
        table_value = sum((values.get(c) or Decimal(0) for c in cells), Decimal(0))
        pattern = re.compile(phrase.pattern)
        for narrative in fmt.narratives:
            text = normalise_text(sub.narratives.get(narrative.id) or "")
            for match in pattern.finditer(text):
                stated = Decimal(match.group(1))
                if stated <= table_value if phrase.at_most else stated == table_value:
                    continue
                sentence = _sentence(text, match.start(), match.end())
                cell = fmt.cells[cells[0]]
                table = fmt.tables[cell.table]
                loc = sub.locations.get(cells[0])
                place = "、".join(f"{sub.locations[c].sheet}!{sub.locations[c].cell}" for c in cells
                                  if c in sub.locations)
                label = "与".join(f"“{fmt.cells[c].row.display}·{fmt.cells[c].column.label}”" for c in cells)
                advice = f"{phrase.what}应计入“{cell.row.display}”一行。" if phrase.at_most else ""
                findings.append(Finding(NARRATIVE_NUMBERS, "warning",
                                        f"正文“{_title(sub, narrative)}”中“{sentence}”写的是 {fmt_number(stated)} 件，但{table.short}"
                                        f"{label}（{place}）{'只有' if phrase.at_most else '为'} {fmt_number(table_value)}。"
                                        f"{advice}请核对正文或表格。",
                                        **_where(sub, narrative) | {"table": table.heading},
                                        value=fmt_number(stated), expected=fmt_number(table_value),
                                        cells=tuple(sub.locations[c].cell for c in cells if c in sub.locations)
                                        if loc else ()))
    return findings


def _case_claims(sub: Submission, values: dict[str, Decimal | None]) -> list[Finding]:
    """Claims about review and litigation cases against the non-zero cells of table 四."""
    fmt, findings = sub.format, []
    for narrative in fmt.narratives:
        text = normalise_text(sub.narratives.get(narrative.id) or "")
        for claim in CASE_CLAIMS:
            for match in re.finditer(claim.pattern, text):
                sentence = _sentence(text, match.start(), match.end())
                named = match.group(0) if claim.columns == ("total",) else sentence
                groups = [g for word, gs in _CASE_GROUPS if word in named for g in gs]
                cells = [f"t4.cases.{g}_{c}" for g in dict.fromkeys(groups) for c in claim.columns]
                found = [(c, values.get(c)) for c in cells if c in fmt.cells and (values.get(c) or 0) > 0]
                if not found:
                    continue
                shown = "、".join(f"“{_case_label(fmt, c)}”{fmt_number(v)}件" for c, v in found)
                place = "、".join(f"{sub.locations[c].sheet}!{sub.locations[c].cell}" for c, _ in found
                                  if c in sub.locations)
                findings.append(Finding(NARRATIVE_CASES, "warning",
                                        f"正文“{_title(sub, narrative)}”中“{sentence}”与表四不符：表四{shown}"
                                        f"{f'（{place}）' if place else ''}。请核对正文或表格。",
                                        **_where(sub, narrative) | {"table": fmt.tables[fmt.cells[found[0][0]].table].heading},
                                        value=claim.what, expected=shown))
    return findings


def _case_label(fmt: Format, cell_id: str) -> str:
    return "·".join(fmt.cells[cell_id].column.path)


def _cover_letter(sub: Submission) -> list[Finding]:
    return [Finding(COVER_LETTER, "warning",
                    f"正文“{_title(sub, narrative)}”中有“{quote(match.group(0))}”（…{_context(text, match.start(), match.end())}…），"
                    f"像是给上级的报送函。公开的应是年度报告本身，请删去报送用语。",
                    value=match.group(0), **_where(sub, narrative))
            for narrative, text, match in _first_matches(sub, _COVER_LETTER, normalise=True)]


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(p, 0, start) for p in "。；;\n!?！？")
    rights = [i for i in (text.find(p, end) for p in "。；;\n!?！？") if i != -1]
    sentence = text[left + 1: min(rights) if rights else len(text)].strip()
    return sentence if len(sentence) <= 60 else quote(text[start:end], 60)


def _same_as_last_year(sub: Submission, previous: Submission) -> list[Finding]:
    findings = []
    for narrative in sub.format.narratives:
        now = "".join((sub.narratives.get(narrative.id) or "").split())
        before = "".join((previous.narratives.get(narrative.id) or "").split())
        if len(now) < SAME_MIN_CHARS or len(before) < SAME_MIN_CHARS:
            continue
        matcher = difflib.SequenceMatcher(None, now, before)
        if matcher.real_quick_ratio() < SAME_RATIO or matcher.quick_ratio() < SAME_RATIO:
            continue
        ratio = matcher.ratio()
        if ratio >= SAME_RATIO:
            findings.append(Finding(SAME_AS_LAST_YEAR, "warning",
                                    f"正文“{_title(sub, narrative)}”与上年报告的同一部分 {ratio:.0%} 相同（内容雷同是"
                                    f"通报的问题）。请按本年实际情况重写。", value=f"{ratio:.2f}",
                                    expected=f"< {SAME_RATIO}", **_where(sub, narrative)))
    return findings


__all__ = ["CASE_CLAIMS", "CaseClaim", "NARRATIVE_NUMBERS_TABLE", "NumberPhrase", "SAME_RATIO", "check_narratives", "normalise_text"]

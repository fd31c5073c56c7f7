"""Narrative checks only a published report needs (review rules C1, C4, D1, D2, D5, D6, B4):
the sentences as published, with the introduction, the sub-headings and the table 三 read back.

- AUDIT-NARRATIVE-SUM: "共主动公开66条，其中a条、b条…" — the listed parts add up to more than the
  total (the lists may overlap, so below the total is fine when the text says 等/主要/包括, or
  lists a single part).
- AUDIT-NARRATIVE-CONFLICT: the same figure stated twice with different numbers.
- AUDIT-NARRATIVE-BALANCE: received + carried over ≠ answered + carried forward, as the text says.
- AUDIT-NARRATIVE-RESULTS: result counts in the text ("予以公开3件") against table 三.
- AUDIT-OVERVIEW-ITEMS: part 一 lacks one of its five sub-items.
- AUDIT-PARTS-ANNOUNCED: the introduction announces another number of parts than six.
- AUDIT-BASIS-TITLE: a 2021-or-later report cites the 2019 notice (60号) by its title alone.
- YEAR: a sentence that reports figures for another year (“2022年，…制定规范性文件0件”).
- COVER-LETTER: the introduction or the text above the report is a letter to the superior.

Pure functions over an ImportResult; quoted sentences are cut to a readable length.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from nianbao.findings import Finding, register
from nianbao.importer import ImportResult
from nianbao.importer.normalize import similarity
from nianbao.narrative_checks import COVER_LETTER, NARRATIVE_NUMBERS, YEAR

SUM = register("AUDIT-NARRATIVE-SUM", "warning", "正文“共N条，其中……”列出的分项之和与总数不符")
CONFLICT = register("AUDIT-NARRATIVE-CONFLICT", "warning", "正文对同一事项前后写了不同的数字")
BALANCE = register("AUDIT-NARRATIVE-BALANCE", "warning", "正文写的申请数不平衡：新收加上年结转不等于办结（答复）加结转下年度")
RESULTS = register("AUDIT-NARRATIVE-RESULTS", "warning", "正文写的申请办理结果件数与表三不一致")
OVERVIEW = register("AUDIT-OVERVIEW-ITEMS", "warning", "“一、总体情况”缺少规定的分项（主动公开、依申请公开、政府信息管理、平台建设、监督保障）")
ANNOUNCED = register("AUDIT-PARTS-ANNOUNCED", "warning", "引言写明的报告组成部分数与官方格式的六个部分不符")
BASIS_TITLE = register("AUDIT-BASIS-TITLE", "warning", "引用的年报格式依据只有2019年通知的标题（即已被替代的国办公开办函〔2019〕60号）")

#: The five sub-items of part 一 are required by the 2021 format (国办公开办函〔2021〕30号); 2019's has none.
OVERVIEW_FROM_EDITION = 2021
#: Quoted sentences longer than this are cut around the figure.
QUOTE_CHARS = 60
_NUM = r"(\d+(?:\.\d+)?)"
_UNITS = "条|件|篇|个|项|次|份|期|宗"
_TOTAL = re.compile(r"(?:共|累计|合计|总计|共计|主动公开|公开|发布)[^。；;，,\d]{0,20}?" + _NUM + r"\s*(" + _UNITS + r")(?![\d余多])")
_PART_COUNT = re.compile(_NUM + r"\s*(" + _UNITS + r")(?![\d余多])")
_APPROX = re.compile(r"\d\s*(?:余|多)\s*(?:" + _UNITS + r")|近\s*\d|约\s*\d|超过\s*\d|以上")
_SUBSET = re.compile(r"等|主要|包括|包含|重点|部分")
_CN_NUMBER = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ANNOUNCE = re.compile(r"(?:等|共)?\s*([一二两三四五六七八九十\d])\s*(?:个)?(?:部分|方面|项内容|项|大部分|个部分)(?:内容)?(?:组成|构成)?")
_BASIS_60_TITLE = re.compile(r"关于政府信息公开工作年度报告有关事项的通知")
_OVERVIEW_KEYS = {"active": ("主动公开",), "on_request": ("依申请", "申请公开"), "management": ("信息管理",),
                  "platforms": ("平台",), "oversight": ("监督", "保障")}


def audit_narrative(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    if s is None or not sub.year:
        return []
    findings: list[Finding] = []
    findings += _sums(result)
    findings += _balance(result)
    findings += _conflicts(result)
    findings += _results(result)
    findings += _overview(result)
    findings += _announced(result)
    findings += _basis_title(result)
    findings += _other_year(result)
    findings += _normative(result)
    findings += _cover_letter(result)
    return findings


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _sentences(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"(?<=[。；;!?！？\n])", _nfkc(text)) if x.strip()]


def _texts(result: ImportResult) -> list[tuple[str, str]]:
    """(where, text) for the introduction and every part as published."""
    s = result.structure
    out = [("引言", s.intro)] if s.intro else []
    for part in s.fmt.parts:
        if part.id in s.part_texts:
            out.append((part.heading, s.part_texts[part.id]))
    return out


def _quote(sentence: str, start: int = 0, end: int | None = None) -> str:
    if len(sentence) <= QUOTE_CHARS:
        return sentence.rstrip("。；;")
    end = end if end is not None else start + QUOTE_CHARS
    left = max(0, min(start, end - QUOTE_CHARS // 2) - 10)
    return ("…" if left else "") + sentence[left:left + QUOTE_CHARS] + "…"


# --------------------------------------------------------------------------- sums


def _sums(result: ImportResult) -> list[Finding]:
    findings = []
    for where, text in _texts(result):
        sentences = _sentences(text)
        for n, sentence in enumerate(sentences):
            if not sentence.endswith(("。", "；", ";")) or _APPROX.search(sentence):
                continue  # a sentence cut off by the copy, or approximate figures
            following = sentences[n + 1] if n + 1 < len(sentences) else ""
            for total in _TOTAL.finditer(sentence):
                rest = sentence[total.end():]
                if not re.match(r"\s*[,，:：]?\s*(?:其中|具体包括|包括|分别为|含)", rest) and following.startswith("其中") \
                        and following.endswith(("。", "；", ";")) and not re.search(r"[共累合总]计?\s*\d", following):
                    rest = following  # "…共465条，内容涉及…。其中……"
                lead = re.match(r"\s*[,，:：]?\s*(?:其中|具体包括|包括|分别为|含)\s*[,，:：]?", rest)
                if not lead:
                    continue
                listed = rest[lead.end():]
                listed = re.split(r"[。；;]", listed)[0]
                unit = total.group(2)
                counts = list(_PART_COUNT.finditer(listed))
                if len(counts) < 2 or any(m.group(2) != unit for m in counts):
                    continue  # one part is a subset ("其中，新增…9条"); parts in other units do not add up
                parts = [Decimal(m.group(1)) for m in counts]
                stated, summed = Decimal(total.group(1)), sum(parts)
                # "等" closing the list (or "主要" opening it) says the list is not complete; "工作动态等信息307条"
                # names one part
                subset = re.search(r"主要|包括|重点|部分", lead.group(0) + listed[:4]) or \
                    re.match(r"\s*等", listed[counts[-1].end():])
                if summed > stated or (summed < stated and not subset):
                    findings.append(Finding(
                        SUM, "warning",
                        f"{where}中“{_quote(sentence, total.start())}”：总数 {stated}{unit}，列出的各项之和为 {summed}{unit}。"
                        + ("分项之和超过总数。" if summed > stated else "分项之和少于总数，又没有写“等”或“主要”。")
                        + "请核对总数和各分项。", sheet=where, row="数字", value=f"{summed}", expected=f"{stated}"))
    return findings


# --------------------------------------------------------------------------- applications


_RECEIVED = re.compile(r"(?:新收到?|收到|受理|新受理|接收)[^。；;，,\d]{0,16}?(?:申请|政府信息)[^。；;，,\d]{0,6}?" + _NUM + r"\s*件")
_CARRIED = re.compile(r"(?:结转上年度?|上年度?结转|上一年度?结转)[^。；;，,\d]{0,10}?" + _NUM + r"\s*件")
_DONE = re.compile(r"(?:答复|办结|办理完成|完成办理|已办结|已答复)[^。；;，,\d]{0,16}?" + _NUM + r"\s*件")
_FORWARD = re.compile(r"结转(?:至|到)?下一?年度?[^。；;，,\d]{0,10}?" + _NUM + r"\s*件")


def _balance(result: ImportResult) -> list[Finding]:
    findings = []
    for where, text in _texts(result):
        for paragraph in _nfkc(text).split("\n"):
            got = {}
            for key, pattern in (("received", _RECEIVED), ("carried", _CARRIED), ("done", _DONE),
                                 ("forward", _FORWARD)):
                hits = [Decimal(m.group(1)) for m in pattern.finditer(paragraph)]
                if len(hits) == 1:
                    got[key] = hits[0]
            if {"received", "done", "forward"} - got.keys() or _APPROX.search(paragraph):
                continue
            came = got["received"] + got.get("carried", Decimal(0))
            went = got["done"] + got["forward"]
            if came != went:
                findings.append(Finding(
                    BALANCE, "warning",
                    f"{where}中“{_quote(paragraph)}”：新收{'加上年结转' if 'carried' in got else ''}共 {came} 件，"
                    f"答复（办结）加结转下年度共 {went} 件，两者应相等。请核对各个数字。", sheet=where, row="依申请公开",
                    value=str(went), expected=str(came)))
    return findings


_COMPARISON = re.compile(r"同比|较上|比上|上一?年度?[^。；;]{0,6}(?:持平|增|减)|增长|下降|减少|增加")


def _conflicts(result: ImportResult) -> list[Finding]:
    """The number of applications received stated twice, differently."""
    seen: dict[Decimal, tuple[str, str]] = {}
    for where, text in _texts(result):
        for sentence in _sentences(text):
            if _APPROX.search(sentence) or _COMPARISON.search(sentence) or "结转" in sentence:
                continue
            for m in _RECEIVED.finditer(sentence):
                seen.setdefault(Decimal(m.group(1)), (where, sentence))
    if len(seen) < 2:
        return []
    (a, (wa, sa)), (b, (wb, sb)) = list(seen.items())[:2]
    return [Finding(CONFLICT, "warning", f"收到的政府信息公开申请数前后不一：{wa}中“{_quote(sa)}”写 {a} 件，"
                    f"{wb}中“{_quote(sb)}”写 {b} 件。请统一为实际数字。", sheet=wb, row="依申请公开",
                    value=str(b), expected=str(a))]


_RESULT_WORDS = (("予以公开", "t3.disclosed.total"), ("部分公开", "t3.partly_disclosed.total"))


def _results(result: ImportResult) -> list[Finding]:
    sub = result.submission
    findings = []
    for word, cell_id in _RESULT_WORDS:
        if cell_id not in sub.values or sub.values.get(cell_id) is None:
            continue
        table_value = sub.values[cell_id]
        pattern = re.compile(r"[“\"]?" + word + r"[”\"]?\s*" + _NUM + r"\s*件")
        for where, text in _texts(result):
            for m in pattern.finditer(_nfkc(text)):
                stated = Decimal(m.group(1))
                if stated != table_value:
                    loc = sub.locations.get(cell_id)
                    findings.append(Finding(
                        RESULTS, "warning", f"{where}中写“{word}”{stated}件，但表三“{word}·总计”"
                        f"{f'（{loc.sheet}!{loc.cell}）' if loc else ''}为 {table_value}。请核对正文或表格。",
                        sheet=where, row=word, value=str(stated), expected=str(table_value)))
    return findings


# --------------------------------------------------------------------------- structure of the text


def _overview(result: ImportResult) -> list[Finding]:
    """Part 一 has its sub-items: the headings as published, compared by their key words."""
    s = result.structure
    part = next((p for p in s.fmt.parts if p.id == "overview"), None)
    if part is None or part.id not in s.part_texts or s.fmt.first_year < OVERVIEW_FROM_EDITION:
        return []
    text = _nfkc(s.part_raw.get(part.id) or s.part_texts[part.id])
    headings = re.findall(r"(?:^|\n)\s*[(（]\s*([一二三四五六七八九十]+)\s*[)）]\s*([^\n。；;]{0,30})", text)
    headings += [(n, t) for n, t in re.findall(r"(?:^|\n)\s*(\d)\s*[.．、]\s*([^\n。；;]{0,24})", text)]
    last_seen = s.headings[-1].part.id if s.headings else None
    if last_seen == part.id and not re.search(r"[。；;！？!?）)”]\s*$", text) and len(headings) < len(part.narratives):
        return []  # the copy ends inside part 一, in mid-sentence: its later sub-items are not there to see
    if len(headings) < 3:
        return []  # a part written as prose: its sub-items cannot be told apart
    titles = " ".join(t for _, t in headings) + " " + " ".join(s.narrative_titles.values())
    missing = [n for n in part.narratives if not any(k in titles for k in _OVERVIEW_KEYS.get(n.id, (n.title,)))]
    if not missing:
        return []
    names = "、".join(f"“{n.title}”" for n in missing)
    return [Finding(OVERVIEW, "warning", f"“{part.heading}”的分项标题中没有{names}。总体情况应分别写明主动公开、"
                    f"依申请公开、政府信息管理、政府信息公开平台建设、监督保障五个方面。", sheet=part.heading,
                    table=part.heading, row="分项", value="、".join(n.title for n in missing))]


def _announced(result: ImportResult) -> list[Finding]:
    s = result.structure
    intro = _nfkc(s.intro)
    want = len(s.fmt.parts)
    for sentence in _sentences(intro):
        if not re.search(r"组成|构成|包括|包含|内容", sentence):
            continue
        m = _ANNOUNCE.search(sentence)
        if not m:
            continue
        said = m.group(1)
        number = int(said) if said.isdigit() else _CN_NUMBER.get(said, 0)
        if number and number != want:
            return [Finding(ANNOUNCED, "warning", f"引言写报告由{said}{'个部分' if '部分' in m.group(0) else '项内容'}组成"
                            f"（“{_quote(sentence, m.start(), m.end())}”），但官方格式规定六个部分："
                            f"{'、'.join(p.title for p in s.fmt.parts)}。请补齐缺少的部分并改正引言。",
                            sheet="引言", row="组成部分", value=said, expected=str(want))]
    # the parts listed by name: a list of fewer parts than six, with none named for 其他需要报告的事项
    for sentence in _sentences(intro):
        if "组成" not in sentence and "包括" not in sentence:
            continue
        items = re.split(r"[、，,]", sentence)
        named = [p for p in s.fmt.parts if any(similarity(p.title, x) >= 0.6 or re.sub("情况$", "", p.title) in x
                                               for x in items)]
        if 3 <= len(named) < want:
            lacking = [p for p in s.fmt.parts if p not in named]
            if any(p.id == "other" for p in lacking):
                return [Finding(ANNOUNCED, "warning", f"引言列出的组成部分（“{_quote(sentence)}”）只有 {len(named)} 个，"
                                f"缺少{'、'.join('“' + p.title + '”' for p in lacking)}。年度报告应有六个部分。",
                                sheet="引言", row="组成部分", value=str(len(named)), expected=str(want))]
    return []


def _basis_title(result: ImportResult) -> list[Finding]:
    s, sub = result.structure, result.submission
    if sub.year < 2021 or "2021" not in sub.format.basis:
        return []
    text = _nfkc("\n".join([s.intro, *s.part_texts.values()]))
    m = _BASIS_60_TITLE.search(text)
    if not m or re.search(r"2019\s*[〕\]］)）】]\s*60", text) or re.search(r"〔\s*2021\s*〕\s*30|\[\s*2021\s*\]\s*30|2021\s*[〕\]]\s*30", text):
        return []
    return [Finding(BASIS_TITLE, "warning", f"报告以《国务院办公厅政府信息与政务公开办公室关于政府信息公开工作年度报告有关事项的通知》"
                    f"为格式依据，这是国办公开办函〔2019〕60号，已被{sub.format.basis}替代。{sub.year}年度报告应引用"
                    f"{sub.format.basis}。", sheet="引言", row="编制依据", value=m.group(0), expected=sub.format.basis)]


_YEAR_LEAD = re.compile(r"^\s*(?:[(（][一二三四五六七八九十]+[)）])?[^。；;\d]{0,14}?((?:19|20)\d\d)\s*年度?\s*[,，]")


def _other_year(result: ImportResult) -> list[Finding]:
    """A sentence opening with last year (or earlier) that states counts: copied figures."""
    sub = result.submission
    findings = []
    for where, text in _texts(result):
        for sentence in _sentences(text):
            m = _YEAR_LEAD.match(sentence)
            if not m or int(m.group(1)) >= sub.year or not re.search(r"\d+\s*(?:" + _UNITS + ")", sentence[m.end():]):
                continue
            findings.append(Finding(YEAR, "warning", f"{where}中“{_quote(sentence)}”写的是{m.group(1)}年的情况，"
                                    f"但本报告是{sub.year}年度的。请核对是否照抄了往年的报告。", sheet=where,
                                    row="年份", value=f"{m.group(1)}年", expected=f"{sub.year}年"))
    return findings


_NORMATIVE = (("制定", re.compile(r"制定[^。；;，,\d]{0,6}规范性文件" + _NUM + r"\s*(?:件|个|份)"),
               ("t2.normative_documents.issued", "t2.normative_documents.made")),
              ("现行有效", re.compile(r"现行有效[^。；;，,\d]{0,6}规范性文件" + _NUM + r"\s*(?:件|个|份)"),
               ("t2.normative_documents.valid",)))


def _normative(result: ImportResult) -> list[Finding]:
    """规范性文件 figures the narrative check's phrases do not cover (制定, 现行有效) against table 二."""
    sub = result.submission
    findings = []
    for word, pattern, cells in _NORMATIVE:
        cell_id = next((c for c in cells if c in sub.format.cells), None)
        if cell_id is None or sub.values.get(cell_id) is None:
            continue
        value = sub.values[cell_id]
        for where, text in _texts(result):
            for m in pattern.finditer(_nfkc(text)):
                if Decimal(m.group(1)) != value:
                    loc = sub.locations.get(cell_id)
                    cell = sub.format.cells[cell_id]
                    findings.append(Finding(
                        NARRATIVE_NUMBERS, "warning", f"{where}中“{_quote(m.group(0))}”写的是 {m.group(1)} 件，但表二"
                        f"“{cell.row.display}·{cell.column.label}”{f'（{loc.sheet}!{loc.cell}）' if loc else ''}为 {value}。"
                        f"请核对正文或表格。", sheet=where, row=cell.row.display, column=cell.column.label,
                        value=m.group(1), expected=str(value)))
    return findings


_LETTER = re.compile(r"现随文(?:呈报|报送|上报)|予以上报|特此(?:上报|呈报|报告)|此函|请(?:予)?审(?:阅|定)|妥否[，,]?\s*请")


def _cover_letter(result: ImportResult) -> list[Finding]:
    """The text above part 一 (the check covers the parts) reads as a letter to the superior."""
    s = result.structure
    intro = _nfkc(s.preamble + "\n" + s.intro)
    m = _LETTER.search(intro)
    if not m:
        return []
    return [Finding(COVER_LETTER, "warning", f"报告开头有“{m.group(0)}”（…{intro[max(0, m.start() - 16): m.end() + 8]}…），"
                    f"是给上级的报送函。公开的应是年度报告本身，请删去报送函。", sheet="引言", row="报送函",
                    value=m.group(0))]


__all__ = ["audit_narrative"]

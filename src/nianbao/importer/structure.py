"""The document structure of a published report: title, unit, year, introduction, the six
parts and their narrative, which published table is which format table, and the edition.

Pure functions over the reader's items (:class:`Paragraph`, :class:`RawTable`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.format.model import Format, Narrative, Part
from nianbao.importer.normalize import normalize_label, one_line, similarity
from nianbao.importer.tables import Paragraph, RawTable, score_table, table_labels

_TITLE = re.compile(r"^(?P<unit>.*?)(?P<year>(?:19|20)\d\d)(?:\s*年度?|(?=\s*[政信]))(?P<rest>.*)$")
_PART = re.compile(r"^\s*(?P<number>[一二三四五六七八九十]{1,2})\s*[、.．]\s*(?P<title>.{2,40})$")
_SUB = re.compile(r"^\s*[（(]\s*(?P<number>[一二三四五六七八九十]{1,2})\s*[)）]\s*(?P<rest>.*)$", re.S)
_NUMBERS = "一二三四五六七八九十"
#: A part heading must resemble an official part title at least this much.
PART_MATCH = 0.45
#: A heading whose number is another part's must resemble its part this much more.
PART_MATCH_OTHER_NUMBER = 0.7
#: An old or reworded heading is taken for the part of its number from this similarity on.
WEAK_PART_MATCH = 0.15
#: A sub-heading is taken for a narrative of its part from this similarity on.
SUB_MATCH = 0.4


@dataclass(frozen=True)
class PartHeading:
    """A part heading as published, and the official part it was taken for."""

    part: Part
    number: str
    title: str  # the heading's title as published
    item: int  # index among the document's items


@dataclass
class Structure:
    fmt: Format
    title: str | None = None
    unit: str = ""
    year: int | None = None
    title_rest: str = ""  # the title after the year ("政府信息公开工作年度报告")
    intro: str = ""
    headings: list[PartHeading] = field(default_factory=list)
    narratives: dict[str, str] = field(default_factory=dict)  # narrative id -> text
    narrative_titles: dict[str, str] = field(default_factory=dict)  # narrative id -> heading as published
    part_texts: dict[str, str] = field(default_factory=dict)  # part id -> all its text
    tables: dict[str, RawTable] = field(default_factory=dict)  # format table id -> published rows
    unassigned: list[RawTable] = field(default_factory=list)
    edition_labels: dict[str, list[str]] = field(default_factory=dict)  # format key -> its own labels seen
    details: dict[str, str] = field(default_factory=dict)  # compiler, phone, address, url from the intro
    title_items: tuple[int, ...] = ()  # the paragraphs the title was read from
    unit_after_year: bool = False  # "2023年下各镇政府信息公开工作年度报告"
    preamble: str = ""  # text above the title: site navigation, or a cover letter published with the report
    part_raw: dict[str, str] = field(default_factory=dict)  # part id -> its paragraphs as published
    year_from: str = "标题"  # where the year was read: 标题, 统计期限, 引言, 正文
    unit_from: str = "标题"  # 标题, 引言, 文件名


#: The title is looked for among the first items, before the first part heading.
TITLE_SEARCH = 40
TITLE_CHARS = 70
# An introduction sentence, a cover letter or a heading naming the report are not its title.
_NOT_TITLE = re.compile(r"^(?:根据|依据|按照|本报告|本年度|现将|现公布|为|附件|文字解读|图解|解读)|的函|报送|呈报|[。；;]|"
                        r"[，,].*[，,]|^\s*[(（]?\s*(?:19|20)\d\d\s*年\s*\d{1,2}\s*月")
_REPORT = re.compile(r"(?:信息公开|政务公开).{0,12}(?:报告|年报)(?:\s*[(（][^)）]{0,8}[)）])?$")
# What a reporting body's name ends with (the unit of a report).
_BODY = r"(?:人民政府办公室|人民政府办公厅|人民政府|政府办公室|办公厅|办公室|街道办事处|办事处|管理委员会|委员会|" \
        r"管理局|局|厅|委|署|中心|街道|街|镇政府|镇|乡政府|乡|政府|院|馆|所|队|站|社区|管委会)"
_NAME = r"[^\s，,。；;、:：《》<>()（）“”\"|]{2,30}?" + _BODY
_UNIT_IN_INTRO = (
    re.compile(r"(?:现|特)?(?:向社会)?(?:公布|发布|公开|编制)(?:了)?《?(?P<unit>" + _NAME + r")\s*(?:19|20)\d\d\s*年度?"),
    re.compile(r"《(?P<unit>" + _NAME + r")\s*(?:19|20)\d\d\s*年度?政府"),
    re.compile(r"(?:19|20)\d\d\s*年度?(?P<unit>" + _NAME + r")(?:[(（]机关[)）])?(?:政府)?信息公开"),
    re.compile(r"由(?P<unit>" + _NAME + r")(?:负责)?编制"),
    re.compile(r"^(?:19|20)\d\d\s*年度?[,，]?\s*(?P<unit>" + _NAME + r")(?:以|按照|认真|坚持|深入|全面|紧紧|在)"),
    re.compile(r"(?:请与|请联系|联系[:：])\s*(?P<unit>" + _NAME + r")(?:联系|[(（，,])"),
)
_GENERIC_UNIT = re.compile(r"^(?:我|本|该|贵)(?:镇|乡|局|街道?|办|委|厅|区|县|市|单位|机关)|^(?:区|县|市)?(?:人民)?政府$|办公室$")
_YEAR_OF_PERIOD = re.compile(r"((?:19|20)\d\d)\s*年\s*1\s*月\s*1\s*日")
_ANY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")


@dataclass(frozen=True)
class Title:
    text: str
    unit: str
    year: int
    rest: str
    items: tuple[int, ...]  # positions of the paragraphs it was read from (a wrapped title has two)
    unit_after_year: bool = False


def read_title(items: list[Paragraph | RawTable]) -> tuple[str | None, str, int | None, str]:
    """(title, unit, year, rest) of the report's title, or (None, "", None, "") without one."""
    title = find_title(items)
    if title is None:
        return None, "", None, ""
    return title.text, title.unit, title.year, title.rest


def find_title(items: list[Paragraph | RawTable]) -> Title | None:
    """The title: a line naming a year and the report, possibly wrapped over two lines
    ("利辛县望疃镇2023" / "政府信息公开工作年度报告"), after any site navigation."""
    paragraphs = [(k, _title_text(it.text)) for k, it in enumerate(items[:TITLE_SEARCH]) if isinstance(it, Paragraph)]
    for n, (k, text) in enumerate(paragraphs):
        if _PART.match(text) and _part_like(text):
            break
        joined = [(text, (k,))]
        if n + 1 < len(paragraphs) and len(text) <= 30 and re.search(r"(?:" + _BODY + r"|(?:19|20)\d\d\s*年?度?)$", text):
            k2, nxt = paragraphs[n + 1]
            joined.append((text + nxt, (k, k2)))
        for candidate, where in reversed(joined):  # the wrapped form first: it is the longer title
            title = _as_title(candidate, where)
            if title is not None and (len(where) == 1 or not _as_title(text, (k,))):
                if not title.unit or title.unit_after_year:
                    better = _title_below(paragraphs[n + 1: n + 4])
                    if better is not None:
                        return better  # a heading "2022年政府信息公开工作年度报告" above the full title
                return title
    return None


def _title_below(paragraphs: list[tuple[int, str]]) -> Title | None:
    for n, (k, text) in enumerate(paragraphs):
        if n + 1 < len(paragraphs) and len(text) <= 30 and re.search(_BODY + "$", text):
            title = _as_title(text + paragraphs[n + 1][1], (k, paragraphs[n + 1][0]))
            if title is not None and title.unit and not title.unit_after_year:
                return title
        title = _as_title(text, (k,))
        if title is not None and title.unit and not title.unit_after_year and re.search(_BODY + "$", title.unit):
            return title
    return None


def _title_text(text: str) -> str:
    s = one_line(text).strip(" |｜\u3000")
    s = re.sub(r"^(?:标\s*题|题\s*名|名\s*称)\s*[:：]?\s*", "", s)  # "标题 | …" of a page's metadata table
    half = len(s) // 2
    if len(s) % 2 == 1 and s[:half] == s[half + 1:]:
        s = s[:half]  # a page shows the title twice on one line
    return s


def _part_like(text: str) -> bool:
    return bool(re.search(r"总体情况|主动公开|收到和处理|行政复议|存在|其他需要|基本情况|概述", text))


def _as_title(text: str, where: tuple[int, ...]) -> Title | None:
    m = _TITLE.match(text)
    if not m or len(text) > TITLE_CHARS or _NOT_TITLE.search(text) or not _REPORT.search(text):
        return None
    unit = re.sub(r"\s*关于$", "", m.group("unit").strip()).strip()
    rest = m.group("rest").strip()
    after = False
    if not unit:
        lead = re.match(r"^(?P<unit>.+?)(?=政府信息公开|政务公开)", rest)
        if lead and re.search(_BODY + "$", lead.group("unit")):
            unit, rest, after = lead.group("unit"), rest[len(lead.group("unit")):], True
    if len(where) == 2 and not unit:
        return None
    return Title(text, unit, int(m.group("year")), rest, where, after)


def identity_fallbacks(items: list[Paragraph | RawTable], source: str = "") -> tuple[int | None, str, str, str]:
    """(year, where the year was read, unit, where the unit was read) without a title: the year
    from the statistics period, else the years the opening text names, else any year; the unit
    from the introduction, else the file name."""
    texts = [unicodedata.normalize("NFKC", it.text) for it in items if isinstance(it, Paragraph)]
    opening: list[str] = []
    for text in texts:
        if _PART.match(one_line(text)) and _part_like(text) and opening:
            break
        opening.append(text)
    head = "\n".join(texts[:TITLE_SEARCH])
    year, year_from = None, ""
    period = _YEAR_OF_PERIOD.search(head)
    if period:
        year, year_from = int(period.group(1)), "统计期限"
    else:
        for scope, label in (("\n".join(opening), "引言"), ("\n".join(texts), "正文")):
            years = Counter(int(y) for y in _ANY_YEAR.findall(scope))
            if years:
                year, year_from = years.most_common(1)[0][0], label
                break
    unit, unit_from = "", ""
    for text in opening + texts[len(opening): len(opening) + 12]:
        for pattern in _UNIT_IN_INTRO:
            for m in pattern.finditer(text):
                name = m.group("unit").strip().lstrip("度")
                name = re.sub(r"(?<=[局委厅署])办公室$", "", name)  # "请与将乐县卫生健康局办公室联系"
                if not _GENERIC_UNIT.search(name):
                    unit, unit_from = name, "引言"
                    break
            if unit:
                break
        if unit:
            break
    if not unit and source:
        unit, unit_from = Path(source).stem, "文件名"
    return year, year_from, unit, unit_from


def detect_edition(formats: list[Format], tables: list[RawTable], year: int | None) -> tuple[Format, dict]:
    """The edition whose own labels (those no other edition has) the tables use most.

    A tie (no distinctive label at all) goes to the edition that covers the report year.
    """
    seen = {normalize_label(c.text) for t in tables for row in t.rows for c in row}
    labels = {f.key: list(dict.fromkeys(x for t in f.tables.values() for x in table_labels(t))) for f in formats}
    evidence: dict[str, list[str]] = {}
    for f in formats:
        others = {x for g in formats if g is not f for x in labels[g.key]}
        evidence[f.key] = [x for x in labels[f.key] if x not in others and x in seen]  # in table order
    best = max(len(v) for v in evidence.values())
    leaders = [f for f in formats if len(evidence[f.key]) == best]
    if len(leaders) > 1:
        covering = [f for f in leaders if year is not None and f.covers(year)]
        leaders = covering or sorted(leaders, key=lambda f: f.first_year, reverse=True)
    return leaders[0], evidence


def analyse(items: list[Paragraph | RawTable], formats: list[Format], source: str = "") -> Structure:
    found = find_title(items)
    title, unit, year, rest = (found.text, found.unit, found.year, found.rest) if found else (None, "", None, "")
    year_from = unit_from = "标题"
    if found is None or not unit:
        y, y_from, u, u_from = identity_fallbacks(items, source)
        if found is None:
            year, year_from = y, y_from
        unit, unit_from = u, u_from
    raw_tables = [i for i in items if isinstance(i, RawTable)]
    fmt, evidence = detect_edition(formats, raw_tables, year)
    s = Structure(fmt, title, unit, year, rest, edition_labels=evidence,
                  title_items=tuple(items[k].index for k in found.items) if found else (),
                  unit_after_year=bool(found and found.unit_after_year), year_from=year_from, unit_from=unit_from)
    _assign_tables(s, raw_tables)
    _parts(s, items)
    return s


def _assign_tables(s: Structure, raw_tables: list[RawTable]) -> None:
    grouped: dict[str, list[RawTable]] = {}
    for raw in raw_tables:
        scores = [(score_table(t, raw), t.id) for t in s.fmt.tables.values()]
        best = max(scores)
        if best[0] == 0:
            s.unassigned.append(raw)
        else:
            grouped.setdefault(best[1], []).append(raw)
    for table_id, parts in grouped.items():
        s.tables[table_id] = RawTable(tuple(row for raw in parts for row in raw.rows), parts[0].index,
                                      gridded=all(raw.gridded for raw in parts))


def _part_heading(fmt: Format, text: str) -> tuple[Part, str, str] | None:
    m = _PART.match(one_line(text))
    if not m:
        return None
    title = m.group("title").strip()
    best = max(fmt.parts, key=lambda p: (similarity(p.title, title), p.number == m.group("number")))
    same = next((p for p in fmt.parts if p.number == m.group("number")), None)
    if same is not None and best is not same and similarity(best.title, title) < PART_MATCH_OTHER_NUMBER \
            and similarity(same.title, title) >= WEAK_PART_MATCH and re.search(r"情况|政府信息公开", title):
        return same, m.group("number"), title  # an old heading under its number: "一、政府信息公开工作的基本情况"
    if similarity(best.title, title) < PART_MATCH:
        return None
    return best, m.group("number"), title


def _parts(s: Structure, items: list) -> None:
    fmt = s.fmt
    current: Part | None = None
    intro: list[str] = []
    texts: dict[str, list[tuple[str | None, str]]] = {}  # part id -> (sub-heading or None, text)
    raw: dict[str, list[str]] = {}
    preamble: list[str] = []
    for item in items:
        if not isinstance(item, Paragraph):
            continue
        if current is None and s.title_items and item.index <= max(s.title_items):
            if item.index < min(s.title_items):
                preamble.append(item.text)
            continue  # the title and the site's navigation above it
        if current is not None and _part_heading(fmt, item.text) is None:
            raw[current.id].append(item.text)
        heading = _part_heading(fmt, item.text)
        if heading is not None:
            part, number, title = heading
            s.headings.append(PartHeading(part, number, title, item.index))
            current = part
            texts.setdefault(part.id, [])
            raw.setdefault(part.id, [])
            continue
        if current is None:
            intro.append(item.text)
            continue
        sub = _SUB.match(item.text) if current.narratives else None
        if sub:
            head, body = _split_sub(sub.group("rest"))
            texts[current.id].append((f"（{sub.group('number')}）{head}", ""))
            if body:
                texts[current.id].append((None, body))
        else:
            texts[current.id].append((None, item.text))
    s.intro = "\n".join(intro)
    s.preamble = "\n".join(preamble)
    s.part_raw = {k: "\n".join(v) for k, v in raw.items()}
    s.details = intro_details(s.intro)
    for part in fmt.parts:
        entries = texts.get(part.id)
        if entries is None:
            continue
        s.part_texts[part.id] = "\n".join(t for h, t in entries if t)
        if part.narratives:
            _narratives(s, part, entries)


def _split_sub(rest: str) -> tuple[str, str]:
    """A sub-heading may run on into its text: "主动公开情况。本年……"."""
    rest = rest.strip()
    if len(rest) <= 20:
        return rest, ""
    m = re.search(r"[。：:]", rest)
    if m and m.start() <= 20:
        return rest[: m.start()], rest[m.end():].strip()
    return "", rest


def _key(narrative: Narrative) -> str:
    return re.sub(r"^[（(][一二三四五六七八九十]+[)）]|情况$", "", narrative.title)


def _narratives(s: Structure, part: Part, entries: list[tuple[str | None, str]]) -> None:
    target: Narrative | None = None
    lead: list[str] = []
    chunks: dict[str, list[str]] = {}
    for heading, text in entries:
        if heading is not None:
            target = _narrative_for(part, heading)
            if target is not None:
                s.narrative_titles.setdefault(target.id, heading)
                chunks.setdefault(target.id, [])
            continue
        if target is None:
            lead.append(text)
        else:
            chunks[target.id].append(text)
    if lead:
        if chunks:  # an opening paragraph before the first sub-heading belongs to the first one
            first = next(n for n in part.narratives if n.id in chunks)
            chunks[first.id][:0] = lead
        else:
            joined = "\n".join(lead)
            keyed = [n for n in part.narratives if _key(n) and _key(n) in joined]
            chunks[(keyed[0] if keyed else part.narratives[-1]).id] = lead
    for narrative_id, parts in chunks.items():
        s.narratives[narrative_id] = "\n".join(parts)


def _narrative_for(part: Part, heading: str) -> Narrative | None:
    m = _SUB.match(heading)
    title = m.group("rest") if m else heading
    number = m.group("number") if m else ""
    best = max(part.narratives, key=lambda n: similarity(_key(n), re.sub(r"情况$", "", title)))
    if similarity(_key(best), re.sub(r"情况$", "", title)) >= SUB_MATCH or _key(best) in title:
        return best
    pos = _NUMBERS.find(number)
    return part.narratives[pos] if 0 <= pos < len(part.narratives) else None


_PHONE = re.compile(r"电话\s*[:：]?\s*([0-9０-９][0-9０-９\-－—()（）\s]{5,24}[0-9０-９])")
_ADDRESS = re.compile(r"地址\s*[:：]\s*([^，,；;。）)\n]{2,60})")
_COMPILER = re.compile(r"由([^，,。；;]{2,30}?)(?:负责)?编制")
_URL = re.compile(r"(https?://[A-Za-z0-9._~:/?#\[\]@!$&'*+,;=%\-]+)")


def intro_details(intro: str) -> dict[str, str]:
    """Compiler, phone, address and web address as the introduction states them."""
    details: dict[str, str] = {}
    for key, pattern in (("compiler", _COMPILER), ("phone", _PHONE), ("address", _ADDRESS), ("url", _URL)):
        m = pattern.search(intro)
        if m:
            details[key] = m.group(1).strip().rstrip("）)")
    return details


__all__ = ["PartHeading", "Structure", "Title", "analyse", "detect_edition", "find_title", "identity_fallbacks",
           "intro_details", "read_title"]

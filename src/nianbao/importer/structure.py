"""The document structure of a published report: title, unit, year, introduction, the six
parts and their narrative, which published table is which format table, and the edition.

Pure functions over the reader's items (:class:`Paragraph`, :class:`RawTable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.format.model import Format, Narrative, Part
from nianbao.importer.normalize import normalize_label, one_line, similarity
from nianbao.importer.tables import Paragraph, RawTable, score_table, table_labels

_TITLE = re.compile(r"^(?P<unit>.*?)(?P<year>(?:19|20)\d\d)\s*年度?(?P<rest>.*)$")
_PART = re.compile(r"^\s*(?P<number>[一二三四五六七八九十]{1,2})\s*[、.．]\s*(?P<title>.{2,40})$")
_SUB = re.compile(r"^\s*[（(]\s*(?P<number>[一二三四五六七八九十]{1,2})\s*[)）]\s*(?P<rest>.*)$", re.S)
_NUMBERS = "一二三四五六七八九十"
#: A part heading must resemble an official part title at least this much.
PART_MATCH = 0.45
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


def read_title(items: list[Paragraph | RawTable]) -> tuple[str | None, str, int | None, str]:
    """(title, unit, year, rest) from the first paragraph that names a year and a report."""
    for item in items[:8]:
        if isinstance(item, Paragraph):
            text = one_line(item.text)
            m = _TITLE.match(text)
            if m and ("报告" in text or "年报" in text) and len(text) <= 60:
                return text, m.group("unit").strip(), int(m.group("year")), m.group("rest").strip()
    return None, "", None, ""


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


def analyse(items: list[Paragraph | RawTable], formats: list[Format]) -> Structure:
    title, unit, year, rest = read_title(items)
    raw_tables = [i for i in items if isinstance(i, RawTable)]
    fmt, evidence = detect_edition(formats, raw_tables, year)
    s = Structure(fmt, title, unit, year, rest, edition_labels=evidence)
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
    if similarity(best.title, title) < PART_MATCH:
        return None
    return best, m.group("number"), title


def _parts(s: Structure, items: list) -> None:
    fmt = s.fmt
    current: Part | None = None
    intro: list[str] = []
    texts: dict[str, list[tuple[str | None, str]]] = {}  # part id -> (sub-heading or None, text)
    for item in items:
        if not isinstance(item, Paragraph):
            continue
        if s.title is not None and one_line(item.text) == s.title and current is None and not intro:
            continue
        heading = _part_heading(fmt, item.text)
        if heading is not None:
            part, number, title = heading
            s.headings.append(PartHeading(part, number, title, item.index))
            current = part
            texts.setdefault(part.id, [])
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


__all__ = ["PartHeading", "Structure", "analyse", "detect_edition", "intro_details", "read_title"]

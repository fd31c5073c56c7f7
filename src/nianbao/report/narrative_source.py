"""Narrative texts from a .docx or .md file (``nianbao build --narrative``).

Staff often write the text parts in Word. Headings in the file are matched to the format's
parts and narrative sub-headings by normalised title: NFKC, no spaces, no numbering
（一）/一、/1., no trailing 情况 — so "（一）主动公开情况" in a document matches the format's
"（一）主动公开". A paragraph counts as a heading when it has a heading style (.docx), starts with
``#`` (.md), or its whole text is a known title. What cannot be placed is reported, never
guessed.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.errors import InputFileError
from nianbao.format.model import Format

_NUMBERING = re.compile(r"^(第[一二三四五六七八九十]+部分|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.．]"
                        r"|\d+[、.．)）])")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def normalise_title(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text).lstrip("#")
    text = _NUMBERING.sub("", text, count=1)
    text = text.rstrip(":：。.")
    return text.removesuffix("情况") or text


@dataclass
class NarrativeSource:
    path: Path
    texts: dict[str, str] = field(default_factory=dict)  # narrative id -> text
    missing: list[str] = field(default_factory=list)  # narrative titles not found in the file
    unmatched: list[str] = field(default_factory=list)  # headings / text that fit no part

    def messages(self) -> list[str]:
        out = []
        if self.missing:
            out.append(f"{self.path.name} 中没有找到：{'、'.join(self.missing)}（这些部分使用工作簿中的正文）")
        out += [f"{self.path.name}：{m}" for m in self.unmatched]
        return out


@dataclass(frozen=True)
class _Line:
    text: str
    heading: bool  # marked as a heading by style or '#'


def read_narrative_file(path: Path, fmt: Format) -> NarrativeSource:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputFileError(path, "找不到正文文件")
    if suffix == ".docx":
        lines = _docx_lines(path)
    elif suffix in (".md", ".markdown", ".txt"):
        lines = _md_lines(path)
    else:
        raise InputFileError(path, "正文文件应为 .docx 或 .md（Word 文档请另存为 .docx）")
    return match_narratives(lines, fmt, path)


def _docx_lines(path: Path) -> list[_Line]:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise InputFileError(path, f"无法作为 Word 文档（.docx）读取（{err}）") from None
    lines = []
    for p in document.paragraphs:
        style = (p.style.name if p.style is not None else "") or ""
        heading = style.lower().startswith(("heading", "title")) or style.startswith("标题")
        lines.append(_Line(p.text, heading))
    return lines


def _md_lines(path: Path) -> list[_Line]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Notepad on Chinese Windows saves GBK
    lines = []
    for raw in text.splitlines():
        m = _MD_HEADING.match(raw)
        lines.append(_Line(m.group(2), True) if m else _Line(raw, False))
    return lines


def match_narratives(lines: list[_Line], fmt: Format, path: Path) -> NarrativeSource:
    parts = {normalise_title(p.title): p for p in fmt.parts}
    subs: dict[str, list] = {}
    for part in fmt.parts:
        for n in part.narratives:
            subs.setdefault(normalise_title(n.title), []).append((part, n))
    source = NarrativeSource(path)
    collected: dict[str, list[str]] = {}
    part = None
    target = None  # narrative id receiving text
    stray: list[str] = []
    reported = [False]  # the stray text follows an unmatched heading already reported

    def flush_stray() -> None:
        if stray and part is not None and not reported[0]:
            why = "表格来自工作簿" if part.table and not part.narratives else "没有对应的小标题"
            source.unmatched.append(f"“{part.heading}”下的文字未使用（{why}）：{stray[0][:30]}…")
        stray.clear()
        reported[0] = False

    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        key = normalise_title(text)
        if key in parts:
            flush_stray()
            part = parts[key]
            target = part.narratives[0].id if len(part.narratives) == 1 else None
            continue
        if key in subs:
            candidates = [(p, n) for p, n in subs[key] if part is None or p.id == part.id] or subs[key]
            part, narrative = candidates[0]
            flush_stray()
            target = narrative.id
            collected.setdefault(target, [])
            continue
        if line.heading:
            if fmt.title in unicodedata.normalize("NFKC", text) or part is None:
                continue  # the document's own title, or headings before part 一
            flush_stray()
            source.unmatched.append(f"标题“{text[:40]}”对应不到任何部分，其下文字未使用")
            target = None  # its text belongs to no part; never append it to the previous one
            reported[0] = True
            continue
        if target is not None:
            collected.setdefault(target, []).append(text)
        elif part is not None:
            stray.append(text)
        # text before part 一 is the introduction, which nianbao writes from the unit's details
    flush_stray()
    for n in fmt.narratives:
        body = collected.get(n.id)
        if body:
            source.texts[n.id] = "\n".join(body)
        else:
            source.missing.append(n.title)
    return source

"""Label normalisation for comparing published tables with the format's official labels.

Published copies degrade the official full-width punctuation, break cells across lines
("商业\\n企业"), and carry stray separators from merged cells. Labels are compared in one
canonical form: NFKC (full-width letters and digits to half-width), no white space at all,
then the official punctuation restored to full width (brackets, colon, comma, semicolon) and
straight quotes to “”, so "第二十条第(一)项" and "第二十条第（一）项" compare equal.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# After NFKC these are half-width; official labels use the full-width forms.
_FULL_WIDTH = str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；", "?": "？", "!": "！"})
# Separators that merged cells leave behind when a table is copied out of a web page.
_STRAY = re.compile(r"^[|｜¦]+|[|｜¦]+$")
# "1、属于国家秘密" and "1．属于国家秘密" are the official "1.属于国家秘密".
_ITEM_NUMBER = re.compile(r"^(\d{1,2})[、．.]")
_SPACE = re.compile(r"\s+")
# Word leaves bookmarks in text exported by some tools: "[bookmark: _GoBack]".
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")


def normalize_label(text: object) -> str:
    """The canonical form of a label (never shown to users; compare with it only)."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _BOOKMARK.sub("", s)
    s = _SPACE.sub("", s)
    s = _STRAY.sub("", s)
    s = s.translate(_FULL_WIDTH)
    s = _quotes(s)
    s = _ITEM_NUMBER.sub(r"\1.", s)
    return s


def clean_text(text: object) -> str:
    """Paragraph or cell text for display: bookmarks dropped, each line stripped (incl. U+3000)."""
    if text is None:
        return ""
    s = _BOOKMARK.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip(" \t\u3000\u00a0\ufeff") for line in s.split("\n")]
    return "\n".join(lines).strip("\n")


def one_line(text: object) -> str:
    """A cell's text on one line as a reader sees it: line breaks inside the cell removed."""
    return "".join(clean_text(text).split("\n"))


def same_label(a: object, b: object) -> bool:
    return normalize_label(a) == normalize_label(b)


def similarity(a: object, b: object) -> float:
    """0..1: how alike two labels are after normalising (difflib ratio)."""
    na, nb = normalize_label(a), normalize_label(b)
    if na == nb:
        return 1.0
    if not na or not nb:
        return 0.0
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio()


def _quotes(s: str) -> str:
    """Straight double quotes alternate opening “ and closing ”."""
    if '"' not in s:
        return s
    out, opening = [], True
    for ch in s:
        if ch == '"':
            out.append("“" if opening else "”")
            opening = not opening
        else:
            out.append(ch)
    return "".join(out)


__all__ = ["clean_text", "normalize_label", "one_line", "same_label", "similarity"]

"""Traditional characters (mirror sites, Hong Kong and Taiwan copies) to simplified, by OpenCC.

Labels and titles are compared with the official simplified text, so a report in traditional
characters is converted before matching; the conversion is reported, never silent.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from nianbao.importer.tables import Paragraph, RawTable

#: A text counts as traditional when at least this many characters change, and this share of its
#: CJK characters: a few variant characters ("著", "裏") in a simplified report are not enough.
MIN_CHANGED = 20
MIN_SHARE = 0.02


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text) if text else text


def is_traditional(text: str) -> bool:
    converted = to_simplified(text)
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return changed >= MIN_CHANGED and cjk > 0 and changed / cjk >= MIN_SHARE


def simplify_items(items: list[Paragraph | RawTable]) -> tuple[list[Paragraph | RawTable], bool]:
    """The items in simplified characters, and whether the text was traditional at all."""
    sample = "".join(it.text for it in items if isinstance(it, Paragraph))[:20000]
    if not is_traditional(sample):
        return items, False
    out: list[Paragraph | RawTable] = []
    for it in items:
        if isinstance(it, Paragraph):
            out.append(replace(it, text=to_simplified(it.text)))
        else:
            rows = tuple(tuple(replace(c, text=to_simplified(c.text)) for c in row) for row in it.rows)
            out.append(replace(it, rows=rows))
    return out, True


__all__ = ["is_traditional", "simplify_items", "to_simplified"]

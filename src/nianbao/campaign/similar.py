"""Narratives copied between units of one round.

Evaluators deduct for a report whose text is copied from another unit's. Units of one county
share customary sentences (the regulation's name, the standard opening of each part), so those
are taken out first: a sentence that appears in the same part of at least :data:`BOILERPLATE_UNITS`
units (or a quarter of them, if more) is boilerplate. What remains of a part is compared between
every two units with :class:`difflib.SequenceMatcher`; from :data:`SAME_RATIO` on, the two are
near copies. Both units get the warning; only the coordinator sees who the other one is.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

#: Ratio from which two units' part counts as a near copy (as for last year's text).
SAME_RATIO = 0.9
#: Text left after boilerplate shorter than this is not compared ("无", one customary line).
MIN_CHARS = 40
#: A sentence in the same part of at least this many units is customary, not copied.
BOILERPLATE_UNITS = 3
#: Characters per shingle for the candidate prefilter.
SHINGLE = 5

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


@dataclass(frozen=True)
class NearCopy:
    part: str  # narrative id
    a: str  # unit code
    b: str  # unit code
    ratio: float


def sentences(text: str) -> list[str]:
    """Sentences compared without spaces, full-width forms folded (NFKC)."""
    folded = unicodedata.normalize("NFKC", text or "")
    return [s for s in ("".join(p.split()) for p in _SENTENCE_END.split(folded)) if s]


def near_copies(texts: Mapping[str, Mapping[str, str]]) -> list[NearCopy]:
    """``texts``: unit code → narrative id → text (each unit's latest version). Returns every
    pair of units whose part is nearly the same once the round's boilerplate is removed."""
    parts = sorted({p for by_part in texts.values() for p in by_part})
    found = []
    for part in parts:
        split = {code: sentences(by_part.get(part, "")) for code, by_part in texts.items()}
        split = {code: s for code, s in split.items() if s}
        common = Counter(s for ss in split.values() for s in set(ss))
        limit = max(BOILERPLATE_UNITS, len(split) // 4)
        own = {code: "".join(s for s in ss if common[s] < limit) for code, ss in split.items()}
        own = {code: t for code, t in own.items() if len(t) >= MIN_CHARS}
        for a, b in _candidates(own):
            matcher = difflib.SequenceMatcher(None, own[a], own[b], autojunk=False)
            if matcher.real_quick_ratio() < SAME_RATIO or matcher.quick_ratio() < SAME_RATIO:
                continue
            ratio = matcher.ratio()
            if ratio >= SAME_RATIO:
                found.append(NearCopy(part, a, b, round(ratio, 2)))
    return found


def _candidates(own: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs sharing enough character 5-grams to be worth a full comparison.

    Counting shared shingles through an inverted index touches only pairs that share text at
    all, so a round of hundreds of units is not a quadratic number of SequenceMatcher runs.
    A ratio of 0.9 leaves most 5-grams intact, so requiring half of them shared loses nothing."""
    grams = {code: {t[i:i + SHINGLE] for i in range(len(t) - SHINGLE + 1)} for code, t in own.items()}
    index: dict[str, list[str]] = {}
    for code in sorted(grams):
        for g in grams[code]:
            index.setdefault(g, []).append(code)
    shared: Counter = Counter()
    for codes in index.values():
        if len(codes) > 1:
            shared.update(combinations(codes, 2))
    return [(a, b) for (a, b), n in sorted(shared.items())
            if n >= 0.5 * min(len(grams[a]), len(grams[b]))]


__all__ = ["BOILERPLATE_UNITS", "MIN_CHARS", "NearCopy", "SAME_RATIO", "near_copies", "sentences"]

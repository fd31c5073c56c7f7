"""Near-copy search between units' narratives: nianbao.campaign.similar.near_copies against bare
difflib (SequenceMatcher over every pair, with the same quick_ratio shortcuts) in the same run.

Texts are synthetic Chinese from a small vocabulary (hard for the prefilter: many shared
characters), 6 parts per unit, one planted near copy. Both must find the same pairs.

Run:  python benchmarks/similar_bench.py 40 200
"""

from __future__ import annotations

import argparse
import difflib
import random
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nianbao.campaign.similar import SAME_RATIO, near_copies, sentences  # noqa: E402

WORDS = ("政务公开", "信息", "条例", "贯彻落实", "推进", "平台建设", "群众", "依申请", "办理", "规范", "年度",
         "报告", "乡镇", "街道", "村务", "社区", "教育", "卫生", "财政预算", "决算", "解读", "回应", "专栏")


def texts(units: int, rng: random.Random) -> dict[str, dict[str, str]]:
    def text() -> str:
        return "，".join("".join(rng.choice(WORDS) for _ in range(6)) for _ in range(6)) + "。"

    out = {f"U{i:04d}": {f"p{j}": text() for j in range(6)} for i in range(units)}
    out["U0001"]["p2"] = out["U0000"]["p2"][:-6] + "另改数字。"
    return out


def bare(data: dict[str, dict[str, str]]) -> set[tuple[str, str, str]]:
    found = set()
    for part in sorted({p for t in data.values() for p in t}):
        flat = {c: "".join(sentences(t.get(part, ""))) for c, t in data.items()}
        for a, b in combinations(sorted(flat), 2):
            m = difflib.SequenceMatcher(None, flat[a], flat[b], autojunk=False)
            if m.real_quick_ratio() >= SAME_RATIO and m.quick_ratio() >= SAME_RATIO and m.ratio() >= SAME_RATIO:
                found.add((part, a, b))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("units", type=int, nargs="+")
    args = parser.parse_args()
    for n in args.units:
        data = texts(n, random.Random(n))
        t0 = time.perf_counter()
        ours = {(c.part, c.a, c.b) for c in near_copies(data)}
        t1 = time.perf_counter()
        theirs = bare(data)
        t2 = time.perf_counter()
        assert ours == theirs, (ours, theirs)
        print(f"{n} units: near_copies {t1 - t0:.2f} s, bare difflib {t2 - t1:.2f} s, "
              f"ratio {(t1 - t0) / (t2 - t1):.3f}; pairs found {len(ours)}")


if __name__ == "__main__":
    main()

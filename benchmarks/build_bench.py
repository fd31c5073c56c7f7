"""Time to compile one report (the sample workbook): validation + docx, html, md; PDF separately.

Run from the repository root:  python benchmarks/build_bench.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from nianbao.check import check_file
from nianbao.report.build import build
from nianbao.report.docx import write_docx
from nianbao.report.html import render_html
from nianbao.report.markdown import render_markdown
from nianbao.report.model import build_document

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "张巷镇人民政府2021年报.xlsx"


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sub = check_file(SAMPLE).submission
        doc = build_document(sub)
        rows = [
            ("check_file (read + validate)", lambda: check_file(SAMPLE)),
            ("model", lambda: build_document(sub)),
            ("docx", lambda: write_docx(doc, out / "r.docx")),
            ("html", lambda: render_html(doc)),
            ("md", lambda: render_markdown(doc)),
            ("build docx,html,md (end to end)", lambda: build(SAMPLE, out, "docx,html,md")),
        ]
        print(f"sample: {SAMPLE.name}, {n} runs each (median / max, seconds)")
        for name, fn in rows:
            med, worst = timed(fn, n)
            print(f"  {name:34s} {med:7.3f} / {worst:7.3f}")
        med, worst = timed(lambda: build(SAMPLE, out, "pdf"), min(n, 3))
        print(f"  {'build pdf (docx + soffice)':34s} {med:7.3f} / {worst:7.3f}  ({min(n, 3)} runs)")


if __name__ == "__main__":
    main()

"""Time to generate one template and 1,000 templates (one process, one core).

Run: python benchmarks/template_bench.py [N]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from nianbao.format import load_format
from nianbao.template import make_template


def main(n: int = 1000) -> None:
    fmt = load_format("gov-info-disclosure-2021")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        make_template(fmt, {"name": "单位0", "code": "0"}, 2025, out / "first.xlsx")
        one = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(n):
            make_template(fmt, {"name": f"单位{i}", "code": f"{i:04d}"}, 2025, out / f"{i:04d}.xlsx")
        many = time.perf_counter() - start
        size = sum(p.stat().st_size for p in out.glob("*.xlsx")) / (n + 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"one template (cold, incl. first-use costs): {one * 1000:.0f} ms")
    print(f"{n} templates: {many:.1f} s total, {many / n * 1000:.1f} ms each, {n / many:.1f}/s")
    print(f"average file size: {size / 1024:.1f} KiB; peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

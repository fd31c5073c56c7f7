"""Start-up of the command line: `nianbao --help` and a one-file `nianbao check`, each beside
the bare library it stands on, in the same run (so a busy machine slows both alike).

    python benchmarks/cli_bench.py [N]      (default N = 15 runs of each)

Rows: the interpreter alone, ``import typer`` (what --help cannot do without), ``nianbao
--help``, a bare ``openpyxl.load_workbook`` of the sample (what check cannot do without), and
``nianbao check`` of the sample. Each is a fresh process; the median wall time and the median
CPU time (user + system, which a loaded machine inflates less) are shown, with the ratios of
nianbao to its bare library. Targets: --help ≤ 0.3 s, check of one file ≤ 0.6 s.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "张巷镇人民政府2021年报.xlsx"
NIANBAO = "import sys; from nianbao.cli import main; sys.exit(main(sys.argv[1:]))"
CASES = {
    "python (interpreter only)": ["-c", "pass"],
    "import typer": ["-c", "import typer"],
    "nianbao --help": ["-c", NIANBAO, "--help"],
    "openpyxl.load_workbook(sample)": ["-c", f"import openpyxl; openpyxl.load_workbook({str(SAMPLE)!r})"],
    "nianbao check sample": ["-c", NIANBAO, "check", str(SAMPLE)],
}


def _once(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "80"}, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(n: int = 15) -> None:
    results: dict[str, tuple[float, float]] = {}
    for name, args in CASES.items():
        _once(args)  # warm the page cache and .pyc files
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(n):  # interleaved, so a burst of load hits every case
        for name, args in CASES.items():
            runs[name].append(_once(args))
    for name, samples in runs.items():
        results[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    print(f"{'case':34} {'wall s':>8} {'cpu s':>8}   (median of {n})")
    for name, (wall, cpu) in results.items():
        print(f"{name:34} {wall:8.3f} {cpu:8.3f}")
    for ours, bare in (("nianbao --help", "import typer"), ("nianbao check sample", "openpyxl.load_workbook(sample)")):
        print(f"{ours} / {bare}: wall ×{results[ours][0] / results[bare][0]:.2f}, "
              f"cpu ×{results[ours][1] / results[bare][1]:.2f}")
    print(f"targets: --help ≤ 0.3 s (wall {results['nianbao --help'][0]:.3f}), "
          f"check ≤ 0.6 s (wall {results['nianbao check sample'][0]:.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)

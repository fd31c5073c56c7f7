"""Throughput and memory of `check` on filled workbooks, beside a bare openpyxl load.

    python benchmarks/check_bench.py [N]      (default N = 1000)

Writes N filled workbooks (random consistent fills; every tenth has one broken number) with
nianbao's own writer, then times check_file on one core and on two (multiprocessing), and a
bare ``openpyxl.load_workbook`` of the same files. Peak memory is the largest resident set of
one worker process (ru_maxrss).
"""

from __future__ import annotations

import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.workbooks import consistent_fill, write  # noqa: E402


def _check(path: str) -> int:
    from nianbao.check import check_file

    return 1 if check_file(Path(path)).errors else 0


def _bare(path: str) -> int:
    import openpyxl

    openpyxl.load_workbook(path)
    return 0


def _write_one(args: tuple[str, int]) -> str:
    from nianbao.format import load_format

    folder, i = args
    fmt = load_format("gov-info-disclosure-2021")
    values = consistent_fill(fmt, random.Random(i))
    if i % 10 == 0:  # every tenth file has one broken number
        values["t3.disclosed.natural"] += 1
    return str(write(fmt, Path(folder) / f"{i:04d}.xlsx", values, year=2021, token=f"t{i}"))


def _peak_kb(_: int = 0) -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run(fn, files: list[str], procs: int) -> tuple[float, int, int]:
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(procs) as pool:
        errors = sum(pool.map(fn, files, chunksize=8))
        peak = max(pool.map(_peak_kb, range(procs * 4)))
    return time.perf_counter() - start, errors, peak


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with mp.get_context("spawn").Pool(2) as pool:
            files = pool.map(_write_one, [(tmp, i) for i in range(n)], chunksize=16)
        print(f"wrote {n} filled workbooks in {time.perf_counter() - t0:.1f} s (2 processes)")
        for label, fn in (("bare openpyxl.load_workbook", _bare), ("nianbao check_file", _check)):
            for procs in (1, 2):
                seconds, errors, peak = _run(fn, files, procs)
                print(f"{label:28s} {procs} proc: {n / seconds:6.2f} files/s  ({seconds:6.1f} s, "
                      f"peak RSS/worker {peak / 1024:.0f} MB, files with errors: {errors if fn is _check else '-'})")
        from nianbao.check import check_files  # what `nianbao check FOLDER` runs, reports back in order

        start = time.perf_counter()
        reports = check_files([Path(f) for f in files], workers=2)
        seconds = time.perf_counter() - start
        print(f"{'check_files (nianbao check)':28s} 2 proc: {n / seconds:6.2f} files/s  ({seconds:6.1f} s, "
              f"main process peak RSS {_peak_kb() / 1024:.0f} MB, files with errors: "
              f"{sum(1 for r in reports if r.errors)})")


if __name__ == "__main__":
    main()

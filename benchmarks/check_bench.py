"""Speed of `check_file` beside the file format's floor, in one run over the same files.

    python benchmarks/check_bench.py [N] [--rounds R] [--parallel]     (default N = 200, R = 3)

Writes N filled workbooks (random consistent fills; every tenth has one broken number) with
nianbao's own writer, then, R times interleaved, times on one core over all N files:

- ``check_file`` (read, drift, every rule),
- a bare ``openpyxl.load_workbook`` in formula mode (what the reader used to build on),
- a python-calamine read of every sheet's values (the practical floor of the format),

and prints the median ms per file of each and the ratios (goal: check ≤ 4× the calamine floor).
``--parallel`` adds ``check_files`` on two processes (what ``nianbao check FOLDER`` runs) with
the peak RSS of the main process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.workbooks import consistent_fill, write  # noqa: E402


def _check(paths: list[Path]) -> int:
    from nianbao.check import check_file

    return sum(1 for p in paths if check_file(p).errors)


def _openpyxl(paths: list[Path]) -> int:
    import openpyxl

    for p in paths:
        openpyxl.load_workbook(p, data_only=False)
    return 0


def _calamine(paths: list[Path]) -> int:
    from python_calamine import CalamineWorkbook

    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return 0


def _write_one(args: tuple[str, int]) -> str:
    from nianbao.format import load_format

    folder, i = args
    fmt = load_format("gov-info-disclosure-2021")
    values = consistent_fill(fmt, random.Random(i))
    if i % 10 == 0:  # every tenth file has one broken number
        values["t3.disclosed.natural"] += 1
    return str(write(fmt, Path(folder) / f"{i:04d}.xlsx", values, year=2021, token=f"t{i}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", action="store_true")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with mp.get_context("spawn").Pool(2) as pool:
            files = [Path(f) for f in pool.map(_write_one, [(tmp, i) for i in range(n)], chunksize=16)]
        print(f"wrote {n} filled workbooks in {time.perf_counter() - t0:.1f} s (2 processes)")
        _check(files[:3]), _openpyxl(files[:3]), _calamine(files[:3])  # imports and format loading
        ways = {"check_file": _check, "openpyxl.load_workbook": _openpyxl, "calamine, all sheets": _calamine}
        times: dict[str, list[float]] = {label: [] for label in ways}
        errors = 0
        for _ in range(args.rounds):  # interleaved, so a busy moment of the machine hits all three
            for label, fn in ways.items():
                start = time.perf_counter()
                found = fn(files)
                times[label].append((time.perf_counter() - start) / n * 1000)
                errors = found if fn is _check else errors
        ms = {label: statistics.median(t) for label, t in times.items()}
        floor = ms["calamine, all sheets"]
        print(f"one core, median of {args.rounds} interleaved rounds over the same {n} files:")
        for label, value in ms.items():
            spread = ", ".join(f"{t:.1f}" for t in times[label])
            print(f"  {label:24s} {value:8.1f} ms/file  ({value / floor:5.1f}× calamine; rounds {spread})")
        print(f"  check_file / openpyxl load: {ms['check_file'] / ms['openpyxl.load_workbook']:.2f}; "
              f"files with errors: {errors} (expected {len(range(0, n, 10))})")
        if args.parallel:
            from nianbao.check import check_files  # what `nianbao check FOLDER` runs, reports back in order

            start = time.perf_counter()
            reports = check_files(files, workers=2)
            seconds = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"check_files, 2 processes: {n / seconds:.1f} files/s ({seconds:.1f} s, main process peak RSS "
                  f"{peak:.0f} MB, files with errors: {sum(1 for r in reports if r.errors)})")


if __name__ == "__main__":
    main()

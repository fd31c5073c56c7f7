"""Collect throughput: N returned workbooks into a campaign of 50 units, beside a calamine pool.

What varies: 50 units each get a genuinely filled workbook (random valid numbers, 1 in 5 with a
balance error). To reach N files, each is replicated as a resubmission whose bytes differ (the
zip comment carries a serial number), so every file has its own hash and is stored, read and
validated in full — nothing is short-cut as a duplicate. The numbers inside the replicas repeat.
Cost per file does not depend on the number of units (identification is a dict lookup by
token); it grows with the number of files. Peak memory is the largest sum of the resident sets
of this process and all its descendants (sampled from /proc every 50 ms while collect runs).
The floor is the same N files read by a pool of the same number of processes with
python-calamine (every sheet's values), timed in the same run.

Run:  python benchmarks/collect_bench.py 1000 10000   [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from campaign_synth import fill, set_time, unit_token, valid_values, write_units  # noqa: E402

from nianbao.campaign.collect import collect  # noqa: E402
from nianbao.campaign.init import init_campaign  # noqa: E402
from nianbao.format import load_format  # noqa: E402

YEAR = 2024
UNITS = 50


def replicate(src: Path, out: Path, serial: int) -> None:
    shutil.copyfile(src, out)
    with zipfile.ZipFile(out, "a") as zf:
        zf.comment = f"resubmission {serial}".encode()


def _calamine_read(path: str) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)


def calamine_pool(files: list[str], workers: int) -> float:
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(workers) as pool:
        pool.map(_calamine_read, files, chunksize=16)
    return time.perf_counter() - start


def _tree_rss_kb(root: int) -> int:
    """Resident KB of ``root`` and every descendant, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


class PeakRSS:
    """Samples the process tree's resident set in a thread; ``peak_mb`` is the largest sum seen."""

    def __enter__(self) -> "PeakRSS":
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _tree_rss_kb(os.getpid()))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("counts", nargs="*", type=int, default=[1000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    fmt = load_format("gov-info-disclosure-2021")
    with tempfile.TemporaryDirectory(prefix="nianbao-collect-bench-") as tmp:
        root = Path(tmp)
        write_units(root / "units.csv", 5, 9)  # 5 parents x (1 + 9) = 50 units
        base = root / "base"
        base.mkdir()
        t = time.perf_counter()
        init_campaign(root / "seed", YEAR, root / "units.csv")
        rng = random.Random(7)
        originals = []
        for i, code in enumerate(sorted(p.stem.split("_")[0] for p in (root / "seed" / "outbox").iterdir())):
            name, token = unit_token(root / "seed", code)
            originals.append((code, fill(fmt, YEAR, code, name, token, base / f"{code}.xlsx",
                                         valid_values(fmt, rng), error=i % 5 == 0)))
        print(f"setup: {UNITS} units, templates + filled workbooks in {time.perf_counter() - t:.1f} s")
        for n in args.counts:
            campaign = root / f"c{n}"
            shutil.copytree(root / "seed", campaign)
            src = root / f"src{n}"
            src.mkdir()
            for k in range(n):
                code, original = originals[k % len(originals)]
                out = src / f"{k:05d}.xlsx"
                replicate(original, out, k)
                set_time(out, 1_700_000_000 + k)
            with PeakRSS() as rss:
                t = time.perf_counter()
                report = collect(campaign, [src], workers=args.workers)
                wall = time.perf_counter() - t
            t = time.perf_counter()
            rerun = collect(campaign, [src], workers=args.workers)
            rerun_wall = time.perf_counter() - t
            floor = calamine_pool(sorted(str(p) for p in src.iterdir()), args.workers)
            inbox = sum(p.stat().st_size for p in (campaign / "inbox").rglob("*") if p.is_file())
            print(f"{n} files, {args.workers} workers: collect {wall:.1f} s ({wall / n * 1000:.1f} ms/file, "
                  f"{n / wall:.1f} files/s); calamine pool of {args.workers}: {floor:.1f} s "
                  f"({n / floor:.1f} files/s); collect / calamine = {wall / floor:.1f}; peak RSS of the "
                  f"process tree {rss.peak_mb:.0f} MB; new={report.count('new')}; rerun (all skipped: "
                  f"{rerun.count('skipped')}) {rerun_wall:.1f} s; inbox {inbox / 1e6:.0f} MB; ledger "
                  f"{(campaign / 'ledger.sqlite').stat().st_size / 1e6:.1f} MB", flush=True)
            shutil.rmtree(src)
            shutil.rmtree(campaign)


if __name__ == "__main__":
    main()

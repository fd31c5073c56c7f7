"""Collect throughput: N returned workbooks into a campaign of 50 units (wall time, peak memory).

What varies: 50 units each get a genuinely filled workbook (random valid numbers, 1 in 5 with a
balance error). To reach N files, each is replicated as a resubmission whose bytes differ (the
zip comment carries a serial number), so every file has its own hash and is stored, read and
validated in full — nothing is short-cut as a duplicate. The numbers inside the replicas repeat.
Cost per file does not depend on the number of units (identification is a dict lookup by
token); it grows with the number of files. Peak memory is the largest RSS of the main process
and of the worker processes.

Run:  python benchmarks/collect_bench.py 1000 3000   [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
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
            t = time.perf_counter()
            report = collect(campaign, [src], workers=args.workers)
            wall = time.perf_counter() - t
            t = time.perf_counter()
            rerun = collect(campaign, [src], workers=args.workers)
            rerun_wall = time.perf_counter() - t
            main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            inbox = sum(p.stat().st_size for p in (campaign / "inbox").rglob("*") if p.is_file())
            print(f"{n} files, {args.workers} workers: {wall:.1f} s ({wall / n * 1000:.0f} ms/file, "
                  f"{n / wall:.1f} files/s); new={report.count('new')}; rerun (all skipped: "
                  f"{rerun.count('skipped')}) {rerun_wall:.1f} s; peak RSS main {main_rss:.0f} MB, "
                  f"largest worker {child_rss:.0f} MB; inbox {inbox / 1e6:.0f} MB; ledger "
                  f"{(campaign / 'ledger.sqlite').stat().st_size / 1e6:.1f} MB")
            shutil.rmtree(src)
            shutil.rmtree(campaign)


if __name__ == "__main__":
    main()

"""SIGKILL `campaign collect` (2 worker processes) at random moments and rerun it at once.

Figures: kills, reruns refused with "另一个 … 正在处理", collect processes (orphaned workers)
still alive 2 s after a kill, time from starting a rerun until it holds the lock, and whether
every killed campaign, completed, is identical (ledger dump and inbox) to a clean run.

Run:  python benchmarks/collect_kill_bench.py [--kills 20] [--files 12] [--seed 1]
      PYTHONPATH=/path/to/other/src python benchmarks/collect_kill_bench.py   (compare a build)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from collect_kills import kill_and_rerun, make_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import nianbao

    with tempfile.TemporaryDirectory() as tmp:
        seed, src = make_world(Path(tmp), args.files)
        figures = kill_and_rerun(seed, src, Path(tmp), args.kills, random.Random(args.seed))
    starts = figures.rerun_start_s
    print(f"nianbao from {Path(nianbao.__file__).parent}")
    print(f"kills: {figures.kills}, each at a random moment of the {figures.window_s:.2f} s a clean run works "
          f"while holding the lock; collects that ended before their kill: {figures.missed}")
    print(f"reruns refused as busy: {figures.refused_reruns} of {len(starts)}")
    print(f"collect processes alive 2 s after a kill: {len(figures.orphans_after_kill)}")
    print(f"rerun holds the lock after: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s")
    print(f"every completed campaign identical to a clean run: {figures.identical}")


if __name__ == "__main__":
    main()

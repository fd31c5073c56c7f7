"""Check time and memory per hostile-corpus file, as a ratio to checking the genuine file it was
made from (same run, same machine load). tests/hostile_corpus.py makes the files.

Run:  python benchmarks/hostile_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile_corpus import corpus  # noqa: E402

from nianbao.check import check_file  # noqa: E402
from nianbao.format import load_format  # noqa: E402

_RSS = ("import resource, sys; from pathlib import Path; from nianbao.check import check_file; "
        "check_file(Path(sys.argv[1])); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def best_time(path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        check_file(path)
        times.append(time.perf_counter() - started)
    return min(times)


def peak_rss_mb(path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", _RSS, str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus(load_format("gov-info-disclosure-2021"), Path(tmp) / "in")
        good = files["good.xlsx"]
        base_t, base_m = best_time(good, args.repeat), peak_rss_mb(good)
        print(f"genuine file: {base_t:.3f} s, peak RSS {base_m:.0f} MB")
        print(f"{'file':32} {'seconds':>8} {'x time':>7} {'RSS MB':>7} {'x RSS':>6}")
        for name, path in files.items():
            if not name.endswith(".xlsx") or name == "good.xlsx":
                continue
            t, m = best_time(path, args.repeat), peak_rss_mb(path)
            print(f"{name.encode('unicode_escape').decode():32} {t:8.3f} {t / base_t:7.2f} {m:7.0f} {m / base_m:6.2f}")


if __name__ == "__main__":
    main()

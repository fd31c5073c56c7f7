"""SIGKILL ``campaign collect`` (with worker processes) at random moments, then rerun at once.

Used by tests/test_hostile_lock.py (a few kills) and benchmarks/collect_kill_bench.py (20+ kills,
with figures). A run is the real command line (``nianbao campaign collect``), as a
coordinator starts it; a kill is SIGKILL to that process only, as when a terminal is closed or
the machine kills it — its pool workers get no signal from us.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from campaign_synth import fill, set_time, unit_token, valid_values, write_units

from nianbao.campaign.ledger import Ledger, dump
from nianbao.campaign.store import Inbox
from nianbao.format import load_format

YEAR = 2024
REPO = Path(__file__).resolve().parents[1]
BUSY = "正在处理"
_MAIN = "import sys; from nianbao.cli import main; sys.exit(main(sys.argv[1:]))"


def make_world(root: Path, files: int = 12) -> tuple[Path, Path]:
    """A seed campaign and a folder of ``files`` returned workbooks (distinct contents)."""
    from nianbao.campaign.init import init_campaign

    fmt = load_format("gov-info-disclosure-2021")
    write_units(root / "units.csv", 3, 3)
    init_campaign(root / "seed", YEAR, root / "units.csv")
    src = root / "src"
    src.mkdir()
    rng = random.Random(11)
    codes = [f"P{p:02d}" for p in range(3)] + [f"P{p:02d}C{c:02d}" for p in range(3) for c in range(3)]
    for i in range(files):
        code = codes[i % len(codes)]
        name, token = unit_token(root / "seed", code)
        fill(fmt, YEAR, code, name, token, src / f"{i:02d}.xlsx", valid_values(fmt, rng), error=i % 4 == 1)
        set_time(src / f"{i:02d}.xlsx", 1_736_000_000 + i)
    return root / "seed", src


def state(camp: Path) -> tuple[dict, list[str]]:
    with Ledger(camp / "ledger.sqlite") as ledger:
        return dump(ledger), Inbox(camp).files()


def start(camp: Path, src: Path, workers: int = 2) -> subprocess.Popen:
    # The nianbao this process imported (a benchmark may point PYTHONPATH at another build).
    import nianbao

    env = dict(os.environ, PYTHONPATH=str(Path(nianbao.__file__).resolve().parents[1]))
    return subprocess.Popen([sys.executable, "-c", _MAIN, "campaign", "collect", str(camp), str(src),
                             "--workers", str(workers)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def survivors(camp: Path) -> list[int]:
    """Pids of processes still running a collect of ``camp`` (orphaned workers included)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{entry}/stat").read_text().split()
        except OSError:
            continue
        if str(camp).encode() in cmdline and status[2] != "Z":
            pids.append(int(entry))
    return pids


@dataclass
class KillFigures:
    kills: int = 0
    refused_reruns: int = 0  # reruns that said another collect is running
    orphans_after_kill: list[int] = field(default_factory=list)  # collect processes alive 2 s after a kill
    rerun_start_s: list[float] = field(default_factory=list)  # from starting a rerun until it holds the lock
    identical: bool = False
    missed: int = 0  # collects that ended before the moment drawn for their kill
    window_s: float = 0.0  # how long a clean run works while holding the lock


def kill_and_rerun(seed: Path, src: Path, work: Path, kills: int, rng: random.Random,
                   workers: int = 2) -> KillFigures:
    """Kill collects ``kills`` times in copies of ``seed`` (a few kills per copy), rerunning at
    once after each kill; finally compare each copy, completed, with a clean run.

    Each kill lands at a random moment of a collect's work: between the moment it holds the lock
    and the time a clean run of the same files needed from there to its end (measured first).
    Fixed delays would miss a collect that has become faster and loop for ever; a collect that
    ends before its kill anyway is counted, and too many of those fail the run instead."""
    reference = work / "reference"
    shutil.copytree(seed, reference)
    proc = start(reference, src, workers)
    figures = KillFigures(window_s=working_time(proc, reference))
    assert proc.returncode in (0, 1), proc.stderr.read()
    expected = state(reference)
    identical = True
    copy = 0
    while figures.kills < kills:
        camp = work / f"killed{copy}"
        copy += 1
        shutil.copytree(seed, camp)
        proc = start(camp, src, workers)
        holds_lock(proc, camp)
        for _ in range(min(4, kills - figures.kills)):
            time.sleep(rng.uniform(0, figures.window_s))
            if proc.poll() is not None:
                figures.missed += 1
                assert figures.missed <= 5 * kills, (f"collect ended before its kill {figures.missed} times (its "
                                                     f"work takes {figures.window_s:.2f} s): use more files")
                break
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            figures.kills += 1
            time.sleep(2.0)
            figures.orphans_after_kill += survivors(camp)
            proc = start(camp, src, workers)
            started = time.monotonic()
            holds_lock(proc, camp)
            if proc.poll() is not None and proc.returncode == 2 and BUSY in (proc.stderr.read() or ""):
                figures.refused_reruns += 1
                proc = start(camp, src, workers)  # the coordinator tries again
                started = time.monotonic()
                holds_lock(proc, camp)
            figures.rerun_start_s.append(time.monotonic() - started)
        proc.wait(timeout=600)
        final = start(camp, src, workers)
        final.wait(timeout=600)
        identical = identical and state(camp) == expected
    figures.identical = identical
    return figures


def holds_lock(proc: subprocess.Popen, camp: Path, limit: float = 60) -> None:
    """Wait until ``proc`` holds the campaign lock, ends, or ``limit`` seconds pass."""
    started = time.monotonic()
    while proc.poll() is None and not _past_lock(camp) and time.monotonic() - started < limit:
        time.sleep(0.005)


def working_time(proc: subprocess.Popen, camp: Path) -> float:
    """Seconds ``proc`` runs after it holds the lock (it is waited for)."""
    holds_lock(proc, camp)
    held = time.monotonic()
    proc.wait(timeout=600)
    return time.monotonic() - held


def _past_lock(camp: Path) -> bool:
    """The running collect holds the lock (its pid is written in the lock file)."""
    try:
        pid = int((camp / ".collect.lock").read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    return pid > 0 and Path(f"/proc/{pid}").exists()

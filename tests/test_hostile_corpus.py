"""Every file of the hostile corpus through check, annotate, import, audit and campaign collect:
exit codes 0/1/2 only, never an internal error or a traceback, bounded time and memory.

Ceilings are generous (a shared CI machine); benchmarks/hostile_bench.py measures precisely.
"""

from __future__ import annotations

import resource
import shutil
import time

import pytest

from campaign_synth import write_units
from hostile_corpus import corpus
from nianbao.cli import main
from nianbao.format import load_format

SECONDS_PER_RUN = 20
MEMORY_GROWTH_MB = 600
FORBIDDEN = ("内部错误", "Traceback", "Error", "Exception")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return corpus(load_format("gov-info-disclosure-2021"), tmp_path_factory.mktemp("corpus") / "in")


def _run(args: list[str], capsys) -> tuple[int, str, float]:
    started = time.monotonic()
    code = main(args)
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    return code, out.out + out.err, elapsed


def _clean(name: str, code: int, shown: str, elapsed: float, allowed=(0, 1, 2)) -> None:
    assert code in allowed, (name, code, shown[-300:])
    for word in FORBIDDEN:
        assert word not in shown, (name, word, shown[-300:])
    assert "\x1b" not in shown, name
    assert elapsed < SECONDS_PER_RUN, (name, elapsed)


def test_check_annotate_import_audit_on_every_hostile_file(files, tmp_path, capsys):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, path in files.items():
        commands = [["check", "--json", str(path)], ["annotate", str(path), "-o", str(tmp_path / "annotated.xlsx")]]
        if not name.endswith(".xlsx") or name == "good.xlsx":  # every .xlsx takes the same refusal path there
            commands += [["import", str(path)], ["audit", str(path)]]
        for command in commands:
            code, shown, elapsed = _run(command, capsys)
            _clean(f"{command[0]} {name}", code, shown, elapsed)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert growth_mb < MEMORY_GROWTH_MB, growth_mb


def test_collect_takes_every_hostile_file_and_the_round_goes_on(files, tmp_path, capsys):
    from nianbao.campaign.init import init_campaign

    write_units(tmp_path / "units.csv", 1, 1)
    camp = tmp_path / "camp"
    init_campaign(camp, 2021, tmp_path / "units.csv")
    src = tmp_path / "src"
    shutil.copytree(next(iter(files.values())).parent, src)
    for workers in ("2", "1"):  # the second run (a rerun) re-does nothing
        code, shown, elapsed = _run(["campaign", "collect", str(camp), str(src), "--workers", workers, "--json"],
                                    capsys)
        _clean(f"collect --workers {workers}", code, shown, 0, allowed=(0, 1))
        assert elapsed < SECONDS_PER_RUN * 6, elapsed
    import json

    first = json.loads(shown)
    assert first["counts"]["skipped"] == len(first["items"])  # the rerun re-did nothing
    code, shown, _ = _run(["campaign", "status", str(camp)], capsys)
    _clean("status", code, shown, 0, allowed=(0, 1))

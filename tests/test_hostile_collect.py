"""One bad file or message never stops a check or a collect: it becomes that item's finding."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from campaign_synth import fill, unit_token, valid_values, write_units
from hostile_corpus import NUMBER_CELLS, many_parts_eml, nested_eml, set_named
import nianbao.campaign.collect as collect_module
from nianbao.campaign.collect import collect
from nianbao.campaign.init import init_campaign
from nianbao.format import load_format

FMT = load_format("gov-info-disclosure-2021")
YEAR = 2024


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    write_units(root / "units.csv", 1, 2)
    init_campaign(root / "camp", YEAR, root / "units.csv")
    src = root / "src"
    src.mkdir()
    rng = random.Random(4)
    for i, code in enumerate(["P00", "P00C00", "P00C01"]):
        name, token = unit_token(root / "camp", code)
        fill(FMT, YEAR, code, name, token, src / f"{i}.xlsx", valid_values(FMT, rng))
    return root, src


def _camp(seed, tmp_path) -> Path:
    shutil.copytree(seed[0] / "camp", tmp_path / "camp")
    return tmp_path / "camp"


@pytest.mark.parametrize("case", ["digits-5000-number", "digits-5000-text", "huge-1e24", "nan"])
def test_a_hostile_number_is_a_finding_and_the_round_goes_on(seed, tmp_path, case):
    camp, src = _camp(seed, tmp_path), tmp_path / "src"
    shutil.copytree(seed[1], src)
    attrs, children = NUMBER_CELLS[case]
    first = src / "0.xlsx"
    first.write_bytes(set_named(first.read_bytes(), FMT.cells["t3.new.natural"].name, attrs, children))
    report = collect(camp, [src], workers=1)
    assert report.count("new") == 3, report.to_json()
    by = {i.name: i for i in report.items}
    assert by["0.xlsx"].unit_code == "P00" and by["0.xlsx"].status == "errors"


def test_an_unexpected_failure_on_one_file_is_that_files_finding(seed, tmp_path, monkeypatch):
    import nianbao.check as check

    camp, src = _camp(seed, tmp_path), seed[1]
    real = check.validate

    def explode(sub, previous=None, **options):
        if sub.unit_code == "P00C00":
            raise RuntimeError("boom in a rule nobody foresaw")
        return real(sub, previous, **options)

    monkeypatch.setattr(check, "validate", explode)
    report = collect(camp, [src], workers=1)
    by = {i.name: i for i in report.items}
    assert report.count("new") == 2 and report.count("unidentified") == 1, report.to_json()
    failed = by["1.xlsx"]
    assert failed.problem_code == "FILE-UNREADABLE" and "RuntimeError" not in failed.problem
    assert "boom" not in failed.problem and len(failed.problem) < 200


_REAL_CHECK = collect_module.check_stored


def dying_check(path: str) -> dict:
    """check_stored, except that a worker given a file ending in DIE dies on the spot."""
    if Path(path).read_bytes().endswith(b"DIE"):
        os._exit(9)
    return _REAL_CHECK(path)


def test_a_worker_that_dies_fails_only_its_file(seed, tmp_path, monkeypatch):
    """A worker killed mid-check (out of memory, a crash in a C library) costs one file only."""
    camp, src = _camp(seed, tmp_path), tmp_path / "src"
    shutil.copytree(seed[1], src)
    (src / "die.xlsx").write_bytes((src / "0.xlsx").read_bytes() + b"DIE")
    monkeypatch.setattr(collect_module, "check_stored", dying_check)
    report = collect(camp, [src], workers=2)
    by = {i.name: i for i in report.items}
    assert {n: by[n].outcome for n in ("0.xlsx", "1.xlsx", "2.xlsx")} == dict.fromkeys(("0.xlsx", "1.xlsx", "2.xlsx"),
                                                                                        "new")
    assert by["die.xlsx"].problem_code == "FILE-UNREADABLE"


@pytest.mark.parametrize("raw", [nested_eml(3000), many_parts_eml(20_000)], ids=["nested-3000", "parts-20000"])
def test_a_hostile_message_is_refused_and_the_round_goes_on(seed, tmp_path, raw):
    import time

    camp, src = _camp(seed, tmp_path), tmp_path / "src"
    shutil.copytree(seed[1], src)
    (src / "evil.eml").write_bytes(raw)
    started = time.monotonic()
    report = collect(camp, [src], workers=1)
    assert time.monotonic() - started < 20
    assert report.count("new") == 3, report.to_json()
    (evil,) = [i for i in report.items if i.source.startswith(str(src / "evil.eml"))]
    assert evil.outcome == "refused" and evil.problem_code == "MAIL-TOO-COMPLEX", evil


def test_folder_scan_names_what_it_skipped(seed, tmp_path):
    camp, src = _camp(seed, tmp_path), tmp_path / "src"
    shutil.copytree(seed[1], src)
    os.mkfifo(src / "pipe.xlsx")
    (src / "link.xlsx").symlink_to(src / "0.xlsx")
    (src / ".hidden.xlsx").write_bytes(b"x")
    report = collect(camp, [src], workers=1)
    by = {i.name: i for i in report.items}
    assert report.count("new") == 3
    for name in ("pipe.xlsx", "link.xlsx", ".hidden.xlsx"):
        assert by[name].outcome == "refused" and by[name].problem, (name, by.get(name))
    assert "不是普通文件" in by["pipe.xlsx"].problem and "隐藏" in by[".hidden.xlsx"].problem

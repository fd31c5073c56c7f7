"""LibreOffice fills our templates like a user's office suite; its check results must equal ours.

For both editions, random fills (most consistent, several breaking a rule, some typing over a
total formula) are typed into the template by real LibreOffice, recalculated and saved. Every
check cell LibreOffice computed is then compared with the Python evaluation of the same rule on
the same numbers read back from LibreOffice's file.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fixtures.workbooks import consistent_fill
from libreoffice import Job, require_libreoffice, run_jobs
from nianbao.read.reader import read_submission
from nianbao.rules import check
from nianbao.template import CHECK_SHEET, INSTRUCTIONS_SHEET, active_rules, compute_derived, make_template

FILLS_PER_EDITION = 30
UNIT = {"name": "丰城市测试局", "code": "T001"}

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def break_fill(fmt, values: dict[str, Decimal], rng: random.Random) -> dict[str, object]:
    """Typed cells: the fill, maybe with one input nudged or one total formula typed over."""
    typed: dict[str, object] = dict(values)
    roll = rng.random()
    if roll < 0.25:
        victim = rng.choice([c.id for c in fmt.input_cells if c.table == "t3"])
        typed[victim] = values[victim] + rng.randint(1, 5)
    elif roll < 0.35:
        typed[rng.choice(list(fmt.derived))] = Decimal(rng.randint(50, 99))
    elif roll < 0.40:
        typed["t2.fees.amount" if "t2.fees.amount" in fmt.cells else "t2.procurement.amount"] = Decimal("12345.6789")
    return typed


def _templates(tmp_path: Path):
    from nianbao.format import load_format

    fmt21, fmt19 = load_format("gov-info-disclosure-2021"), load_format("gov-info-disclosure-2019")
    # The 2021 template has a previous year, so the cross-year checks are exercised too.
    last = make_template(fmt21, UNIT, 2021, tmp_path / "last.xlsx")
    prev = read_submission(last.path)
    prev.values.update({f"t3.carry_forward.{c.id}": Decimal(i) for i, c in enumerate(
        fmt21.tables["t3"].blocks[0].columns)})
    prev.values.update({"t2.regulations.valid": Decimal(3), "t2.normative_documents.valid": Decimal(11)})
    yield fmt21, make_template(fmt21, UNIT, 2022, tmp_path / "t2021.xlsx", previous=prev).path
    yield fmt19, make_template(fmt19, UNIT, 2020, tmp_path / "t2019.xlsx").path


def test_libreoffice_check_results_equal_python(tmp_path):
    require_libreoffice()
    rng = random.Random(20261126)
    jobs, plans = [], []
    for fmt, template in _templates(tmp_path):
        blank = read_submission(template)
        for i in range(FILLS_PER_EDITION):
            typed = break_fill(fmt, consistent_fill(fmt, rng), rng)
            cells = [(blank.locations[cid].sheet, blank.locations[cid].cell, float(v)) for cid, v in typed.items()]
            dst = tmp_path / f"{fmt.edition}-{i:02d}.xlsx"
            jobs.append(Job(template, dst, cells))
            plans.append((fmt, blank, dst))
    assert len(jobs) >= 50
    run_jobs(jobs)

    failing_fills = 0
    for fmt, blank, dst in plans:
        book = openpyxl.load_workbook(dst, data_only=True)
        # The numbers exactly as LibreOffice saved them (totals included), at the template's places.
        values = {f"prev.{k}": v for k, v in blank.previous.items()}
        for cell_id in fmt.cells:
            loc = blank.locations[cell_id]
            stored = book[loc.sheet][loc.cell].value
            values[cell_id] = None if stored is None else Decimal(repr(stored))
        rules = active_rules(fmt, bool(blank.previous))
        failed = 0
        for rule in rules:
            loc = blank.locations[f"check.{rule.key}"]
            lo_text = book[loc.sheet][loc.cell].value
            lo_diff = book[loc.sheet][loc.cell].offset(column=1).value
            ours = check(rule, values)
            assert lo_text == ours.text, (dst.name, rule.key, lo_text, ours)
            failed += not ours.ok and rule.severity == "error"
            if lo_diff in (None, ""):
                # The sheet leaves a bound rule's (<=, >=) difference blank while it passes
                # (livechecks.difference_formula); an equality always shows it once filled.
                assert rule.compare.op != "==" and ours.ok, (dst.name, rule.key, ours)
                continue
            assert Decimal(repr(lo_diff)).quantize(Decimal("0.0001")) == ours.diff, (dst.name, rule.key)
        # Numbers only: 正文 and the unit details are still to be written, so it never passes.
        status = book[INSTRUCTIONS_SHEET]["B3"].value
        assert status.startswith("尚未通过") and "正文 还有" in status, (dst.name, status)
        assert ("项勾稽关系未通过" in status) == (failed > 0), (dst.name, status)
        assert CHECK_SHEET in book.sheetnames
        failing_fills += failed > 0
    # The random plan must exercise both outcomes in numbers.
    assert 5 <= failing_fills <= len(plans) - 20, failing_fills


def test_libreoffice_computes_totals_like_python(tmp_path):
    require_libreoffice()
    rng = random.Random(7)
    (fmt, template), _ = list(_templates(tmp_path))
    locations = read_submission(template).locations
    values = consistent_fill(fmt, rng)
    dst = tmp_path / "totals.xlsx"
    run_jobs([Job(template, dst, [(locations[c].sheet, locations[c].cell, float(v)) for c, v in values.items()])])
    saved = read_submission(dst)
    expected = compute_derived(fmt, dict(values))
    for cell_id in fmt.derived:
        assert saved.values[cell_id] == expected[cell_id], cell_id

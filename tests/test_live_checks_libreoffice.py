"""The workbook tells the clerk the truth: what its live checks compute in a real office suite
(LibreOffice, over UNO) agrees with ``nianbao check`` on the same saved file.

Over 80 fills of both editions — blank, half-filled, text in number cells (半角/全角/“无”/“/”),
negatives, fractions in count cells, too many decimals in 万元, missing unit fields, blank
narrative parts, broken balances and fully valid ones, alone and mixed — are typed into the
template by LibreOffice, recalculated and saved, all in one LibreOffice session. For every file:
the number of errors the workbook counts (the 检查 sheet's error column) equals the number of
``nianbao check`` error findings with a live code, and the status cell says 全部通过 exactly when
there is none. Every rule's check cell equals the Python rendering of the same live model.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fixtures.workbooks import UNIT, consistent_fill, narratives_for
from libreoffice import Job, require_libreoffice, run_jobs
from nianbao.check import check_file
from nianbao.findings import is_live
from nianbao.format import load_format
from nianbao.livechecks import rule_state, sheet_state
from nianbao.read.reader import read_submission
from nianbao.template import (CHECK_SHEET, FAILED_NAME, INSTRUCTIONS_SHEET, active_rules, compute_derived,
                              make_template)

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

FILLS = 28  # per template (84 in all); three templates (2021, 2021 with last year, 2019)
TEXTS = ("12", "６", "无", "/", "１２", " 3 ")
SCENARIOS = ("valid", "blank", "half", "text", "negative", "fraction", "amount", "unit", "narrative",
             "balance", "mixed", "valid")


def _plan(fmt, blank, rng: random.Random, scenario: str, year: int) -> tuple[dict, dict, dict]:
    """(numbers, narratives, unit fields) a clerk typed for one scenario; None clears a cell."""
    values: dict[str, object] = dict(consistent_fill(fmt, rng, small=True))
    for cell_id, value in blank.values.items():  # keep what the template carried over from last year
        if value is not None and cell_id in values:
            values[cell_id] = value
    texts: dict[str, object] = dict(narratives_for(fmt, year, {k: v for k, v in values.items()
                                                               if isinstance(v, Decimal)}))
    unit: dict[str, object] = {f.id: UNIT[f.id] for f in fmt.unit_fields if f.input}
    counts = [c for c in fmt.input_cells if c.kind == "count"]
    amounts = [c for c in fmt.input_cells if c.kind == "amount"]
    kinds = {scenario} if scenario != "mixed" else set(rng.sample(SCENARIOS[2:10], 3))
    if "blank" in kinds:
        return {}, {}, {}
    if "half" in kinds:
        values = {k: v for k, v in values.items() if rng.random() < 0.5}
        texts = {k: v for k, v in texts.items() if rng.random() < 0.5}
    if "text" in kinds:
        for cell in rng.sample(counts, 2):
            values[cell.id] = rng.choice(TEXTS)
    if "negative" in kinds:
        values[rng.choice(counts).id] = Decimal(-rng.randint(1, 3))
    if "fraction" in kinds:
        values[rng.choice(counts).id] = Decimal("2.5")
    if "amount" in kinds and amounts:
        values[rng.choice(amounts).id] = Decimal("1.23456")
    if "unit" in kinds:
        for fid in rng.sample(sorted(unit), 2):
            unit[fid] = None
    if "narrative" in kinds:
        for nid in rng.sample(sorted(texts), 2):
            texts[nid] = rng.choice([None, "   "])
    if "balance" in kinds:
        victim = rng.choice([c for c in counts if c.table == "t3"])
        values[victim.id] = (values.get(victim.id) if isinstance(values.get(victim.id), Decimal) else 0) + 1
    return values, texts, unit


def _cells(blank, values, texts, unit):
    out = []
    for key, value in [*values.items(), *((f"narrative.{k}", v) for k, v in texts.items()),
                       *((f"unit.{k}", v) for k, v in unit.items())]:
        loc = blank.locations[key]
        out.append((loc.sheet, loc.cell, float(value) if isinstance(value, Decimal) else value))
    return out


def _templates(tmp: Path):
    fmt21, fmt19 = load_format("gov-info-disclosure-2021"), load_format("gov-info-disclosure-2019")
    yield fmt21, 2024, make_template(fmt21, {"name": UNIT["name"], "code": "T1"}, 2024, tmp / "t21.xlsx").path
    last = read_submission(make_template(fmt21, UNIT, 2023, tmp / "last.xlsx").path)
    columns = [c.id for c in fmt21.tables["t3"].blocks[0].columns if c.id != "total"]
    last.values.update({f"t3.carry_forward.{c}": Decimal(i % 3) for i, c in enumerate(columns)})
    last.values["t3.carry_forward.total"] = sum(Decimal(i % 3) for i in range(len(columns)))
    last.values.update({"t2.regulations.valid": Decimal(3), "t2.normative_documents.valid": Decimal(11)})
    yield fmt21, 2024, make_template(fmt21, UNIT, 2024, tmp / "t21p.xlsx", previous=last).path
    yield fmt19, 2020, make_template(fmt19, {"name": UNIT["name"], "code": "T1"}, 2020, tmp / "t19.xlsx").path


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    require_libreoffice()
    tmp = tmp_path_factory.mktemp("live")
    rng = random.Random(20261202)
    jobs, plans = [], []
    for n, (fmt, year, template) in enumerate(_templates(tmp)):
        blank = read_submission(template)
        for i in range(FILLS):
            scenario = SCENARIOS[i % len(SCENARIOS)]
            dst = tmp / f"{n}-{i:02d}-{scenario}.xlsx"
            jobs.append(Job(template, dst, _cells(blank, *_plan(fmt, blank, rng, scenario, year))))
            plans.append((fmt, blank, scenario, dst))
    run_jobs(jobs, timeout=1500)
    return plans


def _workbook_errors(book) -> int:
    sheet, ref = next(iter(book.defined_names[FAILED_NAME].destinations))
    return int(sum(c.value or 0 for row in book[sheet][ref.replace("$", "")] for c in row))


def test_enough_fills_of_both_editions(saved):
    assert len(saved) >= 80
    assert {fmt.edition for fmt, *_ in saved} == {"2019", "2021"}


def test_workbook_counts_what_check_finds_among_live_codes(saved):
    verdicts = {True: 0, False: 0}
    for fmt, _, scenario, dst in saved:
        book = openpyxl.load_workbook(dst, data_only=True)
        report = check_file(dst)
        live = [f for f in report.findings if f.severity == "error" and is_live(f.code)]
        counted = _workbook_errors(book)
        status = book[INSTRUCTIONS_SHEET]["B3"].value
        detail = (dst.name, counted, sorted(f.code for f in live), status)
        assert counted == len(live), detail
        assert status.startswith("全部通过") == (not live), detail
        if scenario == "blank":
            assert status.startswith("尚未"), detail
        if scenario == "valid" and fmt.edition == "2019":
            assert not live, detail
        # Every file was recalculated by LibreOffice: text typed into a number cell is a text
        # problem, never a missed recalculation; and what the clerk reads names no program.
        assert not any(f.code == "NOT-RECALCULATED" for f in report.findings), detail
        for f in report.findings:
            assert "nianbao" not in f.message and not re.search(r"[A-Za-z]+Error|Exception", f.message), f.message
        verdicts[not live] += 1
    assert verdicts[True] >= 6 and verdicts[False] >= 40, verdicts


def test_every_rule_cell_equals_the_python_rendering(saved):
    for fmt, blank, _, dst in saved:
        book = openpyxl.load_workbook(dst, data_only=True)
        sub = read_submission(dst)
        states = {c.id: sheet_state(sub.raw.get(c.id), c.kind) for c in fmt.input_cells}
        values = {f"prev.{k}": v for k, v in blank.previous.items()}
        values.update({c.id: (sub.values.get(c.id) if states[c.id] != 2 else None) for c in fmt.input_cells})
        values = compute_derived(fmt, values)
        for rule in active_rules(fmt, bool(blank.previous)):
            loc = blank.locations[f"check.{rule.key}"]
            cell = book[loc.sheet][loc.cell]
            ours = rule_state(fmt, rule, states, values)
            assert cell.value == ours.text, (dst.name, rule.key, cell.value, ours)
            diff = cell.offset(column=1).value
            if ours.diff is None:
                assert diff in (None, ""), (dst.name, rule.key, diff)
            else:
                assert Decimal(repr(diff)).quantize(Decimal("0.0001")) == ours.diff, (dst.name, rule.key)


def test_a_fresh_template_never_says_passed(saved):
    fresh = [dst for _, _, scenario, dst in saved if scenario == "blank"]
    assert len(fresh) >= 3
    for dst in fresh:
        book = openpyxl.load_workbook(dst, data_only=True)
        assert book[INSTRUCTIONS_SHEET]["B3"].value.startswith("尚未填写"), dst.name
        assert CHECK_SHEET in book.sheetnames

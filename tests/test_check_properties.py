"""Property tests: any consistent fill is valid; any single-cell change that breaks a rule is
reported at that cell (as the finding's cell, or among the cells of the failed rule)."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.workbooks import consistent_fill, write
from nianbao.check import check_file
from nianbao.format import load_format
from nianbao.read.reader import read_submission
from nianbao.rules import check
from nianbao.template import active_rules, compute_derived

FORMATS = {"2021": (load_format("gov-info-disclosure-2021"), 2021), "2019": (load_format("gov-info-disclosure-2019"), 2020)}
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(edition=st.sampled_from(sorted(FORMATS)), seed=st.integers(0, 2**32))
def test_any_consistent_fill_is_valid(tmp_path, edition, seed):
    fmt, year = FORMATS[edition]
    path = write(fmt, tmp_path / f"{edition}-{seed}.xlsx", consistent_fill(fmt, random.Random(seed)), year=year)
    report = check_file(path)
    assert report.valid, [f.message for f in report.findings]
    assert not [f for f in report.findings if f.code != "T2-FEE-UNIT"]


def _breaks(fmt, values):
    full = compute_derived(fmt, dict(values))
    return [r for r in active_rules(fmt, False) if not check(r, full).ok]


@SETTINGS
@given(seed=st.integers(0, 2**32), pick=st.integers(0, 10_000), delta=st.integers(1, 9), data=st.data())
def test_a_single_changed_input_is_reported_at_its_cell(tmp_path, seed, pick, delta, data):
    fmt, year = FORMATS["2021"]
    values = consistent_fill(fmt, random.Random(seed), small=True)
    cell = fmt.input_cells[pick % len(fmt.input_cells)]
    values[cell.id] = values[cell.id] + delta
    broken = _breaks(fmt, values)
    path = write(fmt, tmp_path / f"p-{seed}-{pick}.xlsx", values, year=year)
    report = check_file(path)
    a1 = read_submission(path).locations[cell.id].cell
    rule_findings = [f for f in report.findings if f.code in {r.rule_id for r in broken}]
    assert len(rule_findings) == len(broken)
    if broken:
        assert any(f.cell == a1 or a1 in f.cells for f in rule_findings), (cell.id, a1)
    else:
        assert report.valid


@SETTINGS
@given(seed=st.integers(0, 2**32), pick=st.integers(0, 10_000), delta=st.integers(1, 9))
def test_a_typed_over_total_is_reported_exactly_at_its_cell(tmp_path, seed, pick, delta):
    fmt, year = FORMATS["2021"]
    values: dict[str, object] = dict(consistent_fill(fmt, random.Random(seed), small=True))
    derived = list(fmt.derived)
    cell_id = derived[pick % len(derived)]
    full = compute_derived(fmt, dict(values))
    values[cell_id] = (full[cell_id] or Decimal(0)) + delta
    path = write(fmt, tmp_path / f"d-{seed}-{pick}.xlsx", values, year=year)
    report = check_file(path)
    a1 = read_submission(path).locations[cell_id].cell
    at = {(f.code, f.cell) for f in report.findings}
    assert ("DRIFT-FORMULA-REPLACED", a1) in at
    assert any(f.cell == a1 and f.severity == "error" for f in report.findings), at

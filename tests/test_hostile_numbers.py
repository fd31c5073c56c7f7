"""Any magnitude, precision, NaN/INF or digit count is one finding at its cell, never an exception.

The number functions are total over what a reader can return (property tests), and a workbook
holding such a value is checked like any other: a TYPES error at that cell, the rest as usual.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_corpus import NUMBER_CELLS, good_workbook, set_named
from nianbao import numbers, rules
from nianbao.check import check_file
from nianbao.format import load_format

FMT = load_format("gov-info-disclosure-2021")
RULES = list(FMT.rules)

decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.builds(
    lambda d, e: Decimal(d).scaleb(e), st.integers(-10**30, 10**30), st.integers(-6000, 6000))
raw_values = (st.none() | st.text() | st.floats() | st.integers(min_value=-10**5000, max_value=10**5000)
              | decimals | st.booleans()
              | st.from_regex(r"[+-]?[0-9]{1,6000}(\.[0-9]{0,6000})?", fullmatch=True))


@settings(max_examples=400, deadline=None)
@given(raw_values)
def test_parse_number_is_total_and_bounded(raw):
    parsed = numbers.parse_number(raw)
    if parsed.value is not None:
        assert parsed.value.is_finite()
        for kind in numbers.KINDS:
            problem = numbers.check_kind(parsed.value, kind)
            assert problem is None or len(problem) < 120
            if abs(parsed.value) >= numbers.MAX_MAGNITUDE:
                assert problem  # more digits than Excel keeps: an error at the cell
        assert len(rules.fmt(parsed.value)) < 64
    if parsed.error:
        assert len(parsed.error) < 200  # the quoted text is cut


@settings(max_examples=300, deadline=None)
@given(decimals)
def test_check_kind_and_fmt_are_total(value):
    for kind in numbers.KINDS:
        numbers.check_kind(value, kind)
    assert isinstance(rules.fmt(value), str)
    rules.round_excel(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FMT.cells)), st.none() | decimals, max_size=40),
       st.sampled_from(range(len(RULES))))
def test_rule_evaluation_and_message_are_total(values, index):
    outcome = rules.check(RULES[index], values)
    assert isinstance(outcome.ok, bool)
    outcome.message()


def test_a_count_beyond_any_real_report_is_an_error():
    assert numbers.check_kind(Decimal(10**9 + 1), "count")
    assert numbers.check_kind(Decimal(10**9), "count") is None
    assert numbers.check_kind(numbers.parse_number("1" + "0" * 20).value, "amount")
    assert numbers.check_kind(numbers.parse_number("0." + "3" * 20).value, "amount")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return good_workbook(FMT, tmp_path_factory.mktemp("n") / "good.xlsx").read_bytes()


@pytest.mark.parametrize("case", [c for c in NUMBER_CELLS if not c.startswith(("formula", "text-formula", "text-1m"))])
def test_a_hostile_number_is_one_finding_at_its_cell(tmp_path, good, case):
    attrs, children = NUMBER_CELLS[case]
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(set_named(good, FMT.cells["t3.new.natural"].name, attrs, children))
    report = check_file(path)
    assert report.unreadable is None, report.unreadable
    at_cell = [f for f in report.findings if f.cell == "D6" and f.sheet == "表三 依申请公开"]
    # Text is reported as text (NUMBER-AS-TEXT, saying too what is wrong with the number), a number
    # stored as a number as TYPES: one finding at the cell either way.
    expected = "NUMBER-AS-TEXT" if case in ("digits-5000-text", "decimals-5000-text") else "TYPES"
    assert [f.code for f in at_cell].count(expected) == 1, [(f.code, f.message) for f in at_cell]
    for f in report.findings:
        assert len(f.message) < 600, f.message[:200]
        assert "Exceeds" not in f.message and "Error" not in f.message


def test_nan_from_a_float_is_a_finding():
    assert numbers.parse_number(math.nan).error and numbers.parse_number(-math.inf).error

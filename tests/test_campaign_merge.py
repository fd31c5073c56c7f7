"""merge_values: the total is the sum of the units, cell by cell, and keeps the rules."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.campaign.merge import merge_values
from nianbao.format import load_format
from nianbao.rules import check
from nianbao.template import active_rules, compute_derived

FMT = load_format("gov-info-disclosure-2021")
INPUTS = [c.id for c in FMT.input_cells]
EQUALITIES = [r for r in active_rules(FMT, False) if r.compare.op == "=="]

unit_values = st.fixed_dictionaries({cid: st.one_of(st.none(), st.integers(0, 10**6).map(Decimal)) for cid in INPUTS})


@settings(max_examples=12, deadline=None)
@given(st.lists(unit_values, min_size=0, max_size=6))
def test_total_is_the_sum_of_the_units(units):
    total = merge_values(FMT, units)
    for cid in INPUTS:
        present = [u[cid] for u in units if u[cid] is not None]
        assert total[cid] == (sum(present, Decimal(0)) if present else None)
    derived = [compute_derived(FMT, dict(u)) for u in units]
    for cid in FMT.derived:
        if all(u[c] is not None for u in units for c in INPUTS):
            assert total[cid] == sum((d[cid] for d in derived), Decimal(0))


@settings(max_examples=8, deadline=None)
@given(st.lists(unit_values.map(lambda u: {k: v or Decimal(0) for k, v in u.items()}), min_size=1, max_size=5))
def test_units_that_keep_an_equality_rule_give_a_total_that_keeps_it(units):
    # force every unit to keep the 表三 balance, as a valid unit does
    balanced = []
    for u in units:
        u = dict(u)
        for rule in (r for r in EQUALITIES if r.rule_id == "T3-BALANCE" and r.cells[0] not in FMT.derived):
            outcome = check(rule, compute_derived(FMT, dict(u)))
            u[rule.cells[1]] = u[rule.cells[1]] - (outcome.lhs - outcome.rhs)
        balanced.append(u)
    total = merge_values(FMT, balanced)
    for rule in EQUALITIES:
        if all(check(rule, compute_derived(FMT, dict(u))).ok for u in balanced):
            assert check(rule, total).ok, rule.key

"""A new year's campaign starts from last year's accepted numbers (carry-over, cross-year checks)."""

from __future__ import annotations

import random

import pytest

from campaign_synth import fill, unit_token, valid_values, write_units
from nianbao.campaign.collect import collect
from nianbao.campaign.init import init_campaign
from nianbao.campaign.status import decide
from nianbao.errors import NianbaoError
from nianbao.format import load_format
from nianbao.read.reader import read_submission


def test_previous_campaign_prefills_carry_over_of_accepted_units(tmp_path):
    fmt = load_format("gov-info-disclosure-2021")
    write_units(tmp_path / "units.csv", 1, 2)
    last = tmp_path / "2024"
    init_campaign(last, 2024, tmp_path / "units.csv")
    values = valid_values(fmt, random.Random(3))
    onward = {c.id: values[f"t3.carry_forward.{c.id}"] for c in fmt.tables["t3"].blocks[0].columns
              if f"t3.carry_forward.{c.id}" in values}
    replies = tmp_path / "replies"
    replies.mkdir()
    for code in ("P00", "P00C00"):
        name, token = unit_token(last, code)
        fill(fmt, 2024, code, name, token, replies / f"{code}.xlsx", values)
    collect(last, [replies], workers=1)
    decide(last, "P00", "accept")  # P00C00 sent a valid file but it was never accepted

    result = init_campaign(tmp_path / "2025", 2025, tmp_path / "units.csv", previous_campaign=last)
    assert result.carried_over == 1
    by_code = {p.name.split("_")[0]: p for p in result.templates}
    accepted = read_submission(by_code["P00"])
    for col, value in onward.items():
        assert accepted.values[f"t3.carried_over.{col}"] == value
        assert accepted.previous[f"t3.carry_forward.{col}"] == value
    assert accepted.previous["t2.regulations.valid"] == values["t2.regulations.valid"]
    untouched = read_submission(by_code["P00C00"])
    assert untouched.values["t3.carried_over.natural"] is None and not untouched.previous


def test_previous_campaign_of_another_year_is_refused(tmp_path):
    write_units(tmp_path / "units.csv", 1, 1)
    init_campaign(tmp_path / "2022", 2022, tmp_path / "units.csv")
    with pytest.raises(NianbaoError, match="2022"):
        init_campaign(tmp_path / "2025", 2025, tmp_path / "units.csv", previous_campaign=tmp_path / "2022")
    assert not (tmp_path / "2025").exists()

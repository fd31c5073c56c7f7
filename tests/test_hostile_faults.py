"""Resource faults (disk full, read-only folder, ledger locked by another program) are one Chinese
line naming the folder and what to do; error logs go to the campaign folder, never /tmp."""

from __future__ import annotations

import errno
import random
import sqlite3

import pytest

from campaign_synth import fill, unit_token, valid_values, write_units
from nianbao.cli import main
from nianbao.format import load_format

YEAR = 2024


@pytest.fixture()
def campaign(tmp_path):
    from nianbao.campaign.init import init_campaign

    write_units(tmp_path / "units.csv", 1, 1)
    camp = tmp_path / "camp"
    init_campaign(camp, YEAR, tmp_path / "units.csv")
    src = tmp_path / "src"
    src.mkdir()
    name, token = unit_token(camp, "P00")
    fill(load_format("gov-info-disclosure-2021"), YEAR, "P00", name, token, src / "a.xlsx",
         valid_values(load_format("gov-info-disclosure-2021"), random.Random(1)))
    return camp, src


FAULTS = {
    "disk-full": (sqlite3.OperationalError("database or disk is full"), "磁盘空间已满"),
    "disk-full-os": (OSError(errno.ENOSPC, "No space left on device"), "磁盘空间已满"),
    "read-only": (sqlite3.OperationalError("attempt to write a readonly database"), "无法写入"),
    "read-only-os": (OSError(errno.EROFS, "Read-only file system"), "无法写入"),
    "locked": (sqlite3.OperationalError("database is locked"), "正被其他程序占用"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_resource_fault_is_one_chinese_line_naming_the_folder(campaign, monkeypatch, capsys, fault):
    from nianbao.campaign.ledger import Ledger

    camp, src = campaign
    err, expected = FAULTS[fault]

    def failing(self):
        raise err

    monkeypatch.setattr(Ledger, "transaction", failing)
    assert main(["campaign", "collect", str(camp), str(src)]) == 2
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and expected in out and str(camp) in out, out
    assert "Error" not in out and "database" not in out


def test_an_internal_error_in_a_campaign_logs_to_the_campaign_folder(campaign, monkeypatch, capsys, tmp_path):
    import nianbao.campaign.collect as collect_module

    camp, src = campaign
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "shared-tmp"))
    (tmp_path / "shared-tmp").mkdir()

    def broken(*args, **kwargs):
        raise KeyError("simulated bug")

    monkeypatch.setattr(collect_module, "collect_items", broken)
    assert main(["campaign", "collect", str(camp), str(src)]) == 2
    out = capsys.readouterr().err
    (log,) = (camp / "logs").glob("nianbao-error-*.log")
    assert str(log) in out and "KeyError" not in out and "Traceback" in log.read_text(encoding="utf-8")
    assert list((tmp_path / "shared-tmp").iterdir()) == []

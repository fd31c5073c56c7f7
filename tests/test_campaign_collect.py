"""collect under stress: killed at random points, hostile input."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from campaign_synth import fill, gbk_eml, set_time, unit_token, valid_values, write_units
from collect_kills import holds_lock, working_time
from nianbao.campaign.collect import collect
from nianbao.campaign.init import init_campaign
from nianbao.campaign.ledger import Ledger, dump
from nianbao.campaign.store import Inbox
from nianbao.format import load_format

YEAR = 2024
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 4-unit campaign and a folder of 6 returned files (one duplicate, one foreign)."""
    root = tmp_path_factory.mktemp("small")
    fmt = load_format("gov-info-disclosure-2021")
    write_units(root / "units.csv", 1, 3)
    init_campaign(root / "seed", YEAR, root / "units.csv")
    src = root / "src"
    src.mkdir()
    rng = random.Random(5)
    for i, code in enumerate(["P00", "P00C00", "P00C01"]):
        name, token = unit_token(root / "seed", code)
        fill(fmt, YEAR, code, name, token, src / f"{i}.xlsx", valid_values(fmt, rng), error=i == 1)
    (src / "copy.xlsx").write_bytes((src / "0.xlsx").read_bytes())
    (src / "note.txt").write_text("年报见附件", encoding="utf-8")
    name, token = unit_token(root / "seed", "P00C02")
    (src / "mail.eml").write_bytes(gbk_eml([("年报.xlsx", (src / "2.xlsx").read_bytes())], "某科", "年报",
                                           "Fri, 10 Jan 2025 09:00:00 +0800"))
    for p in src.iterdir():
        set_time(p, 1_736_000_000)
    return root, src


def _copy_seed(root: Path, name: str) -> Path:
    import shutil

    target = root / name
    shutil.copytree(root / "seed", target)
    return target


def _state(camp: Path) -> tuple[dict, list[str]]:
    with Ledger(camp / "ledger.sqlite") as ledger:
        return dump(ledger), Inbox(camp).files()


def _run_collect(camp: Path, src: Path) -> subprocess.Popen:
    code = ("import sys; from pathlib import Path; from nianbao.campaign.collect import collect; "
            "collect(Path(sys.argv[1]), [Path(sys.argv[2])], workers=1)")
    return subprocess.Popen([sys.executable, "-c", code, str(camp), str(src)], cwd=REPO)


def test_killed_at_random_points_then_rerun_ends_identical(small):
    root, src = small
    reference = _copy_seed(root, "reference")
    collect(reference, [src], workers=1)
    expected = _state(reference)
    assert len(expected[0]["versions"]) == 4  # 3 workbooks and the .txt; the mailed one is a duplicate
    assert len(expected[0]["receipts"]) == 6
    timing = _copy_seed(root, "timing")
    timed = _run_collect(timing, src)
    window = working_time(timed, timing)  # how long a run works holding the lock
    assert timed.returncode == 0
    rng = random.Random()
    kills = 0
    for attempt in range(3):
        camp = _copy_seed(root, f"killed{attempt}")
        for _ in range(3):  # kill repeatedly at random moments of the work, each run going further or not
            proc = _run_collect(camp, src)
            holds_lock(proc, camp)
            time.sleep(rng.uniform(0, window))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
        collect(camp, [src], workers=1)
        assert _state(camp) == expected, f"attempt {attempt} ({kills} kills so far) differs"
    assert kills >= 3, f"only {kills} of 9 runs were killed before they ended (their work takes {window:.2f} s)"


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (200 * 1024 * 1024))


def test_hostile_input_is_reported_and_nothing_escapes(small, tmp_path):
    root, _ = small
    camp = _copy_seed(root, "hostile")
    fmt = load_format("gov-info-disclosure-2021")
    src = tmp_path / "src"
    src.mkdir()
    good = root / "src" / "0.xlsx"
    # attachment names that try to leave the campaign folder
    (src / "evil.eml").write_bytes(gbk_eml([("../../../etc/evil.xlsx", good.read_bytes()),
                                            ("/tmp/absolute-evil.xlsx", b"not a workbook")], "坏人", "x",
                                           "Fri, 10 Jan 2025 09:00:00 +0800"))
    _zip_bomb(src / "bomb.xlsx")
    big = src / "big.xlsx"
    with big.open("wb") as f:  # 200 MB, sparse: nothing of it is ever read
        f.truncate(200 * 1024 * 1024)
    # a workbook claiming another unit's code with a wrong token
    name, _ = unit_token(camp, "P00C01")
    fill(fmt, YEAR, "P00C01", name, "0123456789abcdef", src / "impostor.xlsx", valid_values(fmt, random.Random(1)))
    report = collect(camp, [src], workers=1)
    by_name = {i.name: i for i in report.items}
    assert by_name["big.xlsx"].outcome == "refused" and by_name["big.xlsx"].problem_code == "FILE-TOO-LARGE"
    assert by_name["bomb.xlsx"].outcome == "unidentified" and by_name["bomb.xlsx"].problem_code == "FILE-ZIP-BOMB"
    assert by_name["impostor.xlsx"].problem_code == "CAMPAIGN-TOKEN-MISMATCH"
    assert by_name["impostor.xlsx"].unit_code is None
    # names are shown without their path (the raw message keeps the original as evidence)
    evil = by_name["evil.xlsx"]
    assert evil.outcome == "duplicate" or evil.unit_code == "P00"  # identified from inside, stored by hash
    assert by_name["absolute-evil.xlsx"].outcome == "unidentified"
    assert not Path("/tmp/absolute-evil.xlsx").exists() and not Path("/etc/evil.xlsx").exists()
    # everything stored is inside the inbox, named by its hash
    inbox = Inbox(camp)
    for rel in inbox.files():
        assert rel.split("/")[-1].split(".")[0] in {r["sha256"] for r in _state(camp)[0]["files"]}
    with Ledger(camp / "ledger.sqlite") as ledger:
        refused = ledger.refused_receipts()
        assert [r["name"] for r in refused] == ["big.xlsx"]
        paths = [r["path"] for r in ledger.db.execute("SELECT path FROM files")]
    assert all(p.startswith("inbox/") and ".." not in p for p in paths)
    assert big.stat().st_size == 200 * 1024 * 1024  # nothing lost: the source is untouched
    # the impostor never counts for the unit it claims
    from nianbao.campaign.status import status

    by = {u.code: u for u in status(camp, write_board=False).units}
    assert by["P00C01"].state == "未提交"


def test_refuses_files_over_the_limit_without_reading_them(small, tmp_path, monkeypatch):
    root, _ = small
    camp = _copy_seed(root, "limit")
    src = tmp_path / "src"
    src.mkdir()
    with (src / "huge.xlsx").open("wb") as f:
        f.truncate(200 * 1024 * 1024)
    opened = []
    real_open = Path.open

    def spy(self, *args, **kwargs):
        if self.name == "huge.xlsx":
            opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    report = collect(camp, [src], workers=1)
    assert opened == [] and report.count("refused") == 1


def test_a_second_collect_at_the_same_time_is_refused(small):
    from nianbao.campaign.collect import collect_lock
    from nianbao.errors import NianbaoError

    root, src = small
    camp = _copy_seed(root, "locked")
    with collect_lock(camp):
        with pytest.raises(NianbaoError, match="正在处理"):
            collect(camp, [src], workers=1)


def test_mbox_and_maildir_sources_are_collected_by_content(small, tmp_path):
    """An mbox export and a Maildir (what mail clients and servers keep) feed the same collect path."""
    import mailbox

    from nianbao.campaign.status import unit_statuses
    from nianbao.campaign.init import open_campaign

    root, src = small
    camp = _copy_seed(root, "mailboxes")
    box = mailbox.mbox(tmp_path / "导出.mbox")
    box.add(gbk_eml([("../../报表.xlsx", (src / "0.xlsx").read_bytes())], "张三", "年报", "Mon, 6 Jan 2025 09:00:00 +0800"))
    box.add(gbk_eml([("附件.pdf", b"%PDF-1.4 not a workbook")], "李四", "扫描件", "Mon, 6 Jan 2025 10:00:00 +0800"))
    box.flush()
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(gbk_eml([("年报.xlsx", (src / "1.xlsx").read_bytes())], "王五", "年报（有错）",
                        "Tue, 7 Jan 2025 09:00:00 +0800"))
    maildir.close()

    report = collect(camp, [tmp_path / "导出.mbox", tmp_path / "Maildir"], workers=1)
    assert report.count("new") == 2 and report.count("unidentified") == 1, report.to_json()  # the PDF is kept, not a report
    again = collect(camp, [tmp_path / "导出.mbox", tmp_path / "Maildir"], workers=1)
    assert again.count("new") == 0 and again.count("skipped") == 3, again.to_json()
    with open_campaign(camp) as campaign:
        states = {s.code: s.state for s in unit_statuses(campaign)}
    assert states["P00"] == "无问题" and states["P00C00"] == "有错误" and states["P00C01"] == "未提交"
    assert not list(tmp_path.glob("**/报表.xlsx")) and not (root / "报表.xlsx").exists()

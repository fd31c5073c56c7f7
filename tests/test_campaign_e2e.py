"""A whole campaign: 64 units in two levels; some answer valid, some with errors, some twice,
some never, some by e-mail with GBK headers. Status, feedback and merge must say exactly what
happened."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from campaign_synth import fill, gbk_eml, set_time, unit_token, valid_values, write_units
from nianbao.campaign.collect import collect
from nianbao.campaign.feedback import MESSAGE_NAME, feedback
from nianbao.campaign.init import init_campaign
from nianbao.campaign.ledger import Ledger
from nianbao.campaign.merge import NothingAccepted, merge
from nianbao.campaign.review import ACCEPTED, ERRORS, MISSING, PASSED, RETURNED
from nianbao.campaign.status import decide, status
from nianbao.format import load_format
from nianbao.template import compute_derived

YEAR = 2024
DEADLINE = dt.date(2025, 1, 20)
ON_TIME = dt.datetime(2025, 1, 10, 10, 0).timestamp()
LATE = dt.datetime(2025, 1, 25, 10, 0).timestamp()


def _fill_job(job):
    code, name, token, out, values, error = job
    fmt = load_format("gov-info-disclosure-2021")
    fill(fmt, YEAR, code, name, token, Path(out), values, error)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("campaign")
    fmt = load_format("gov-info-disclosure-2021")
    rows = write_units(root / "units.csv", 8, 7)  # 8 towns x (1 + 7) = 64 units
    codes = [r["code"] for r in rows]
    camp = root / "camp"
    init_campaign(camp, YEAR, root / "units.csv", title="测试收集", deadline=DEADLINE.isoformat(), area="测试市")
    rng = random.Random(2024)
    shuffled = codes[:]
    rng.shuffle(shuffled)
    plan = {"never": shuffled[:8], "errors": shuffled[8:16], "twice": shuffled[16:24], "mail": shuffled[24:28],
            "valid": shuffled[28:]}
    values = {c: valid_values(fmt, rng) for c in codes}
    folder, made = root / "returned", root / "made"
    folder.mkdir()
    made.mkdir()
    jobs = []
    for code in codes:
        name, token = unit_token(camp, code)
        if code in plan["errors"] or code in plan["twice"]:
            jobs.append((code, name, token, str(made / f"{code}-bad.xlsx"), values[code], True))
        if code in plan["valid"] or code in plan["twice"] or code in plan["mail"]:
            jobs.append((code, name, token, str(made / f"{code}.xlsx"), values[code], False))
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_fill_job, jobs))
    late = set(plan["valid"][:3])
    for code in plan["valid"]:
        # file names say nothing true: the unit must be found from inside the file
        shutil.copyfile(made / f"{code}.xlsx", folder / f"年报_{rng.randrange(10**6)}.xlsx")
    for code in plan["errors"]:
        shutil.copyfile(made / f"{code}-bad.xlsx", folder / f"{code}.xlsx")
    for code in plan["twice"]:
        shutil.copyfile(made / f"{code}-bad.xlsx", folder / f"{code}-第一次.xlsx")
        shutil.copyfile(made / f"{code}.xlsx", folder / f"{code}-修改后.xlsx")
    for p in folder.iterdir():
        set_time(p, ON_TIME)
    for p in folder.iterdir():
        if "修改后" in p.name:
            set_time(p, ON_TIME + 3600)
    for code in late:
        for p in folder.iterdir():
            if p.read_bytes() == (made / f"{code}.xlsx").read_bytes():
                set_time(p, LATE)
    # the same valid file sent twice (once more under another name): a duplicate, not a version
    dup_code = plan["valid"][5]
    shutil.copyfile(made / f"{dup_code}.xlsx", folder / "再发一次.xlsx")
    set_time(folder / "再发一次.xlsx", ON_TIME + 7200)
    mail = root / "mail"
    mail.mkdir()
    m1, m2, m3, m4 = plan["mail"]
    two = gbk_eml([(f"{m1}单位年报.xlsx", (made / f"{m1}.xlsx").read_bytes()),
                   (f"{m2}单位年报.xlsx", (made / f"{m2}.xlsx").read_bytes())],
                  "办公室张三", "报送年报（两个单位）", "Fri, 10 Jan 2025 09:00:00 +0800")
    (mail / "two.eml").write_bytes(two)
    for code in (m3, m4):
        (mail / f"{code}.eml").write_bytes(gbk_eml([("年度报告.xlsx", (made / f"{code}.xlsx").read_bytes())],
                                                   "综合科", "政务公开年报", "Sat, 11 Jan 2025 09:00:00 +0800"))
    report = collect(camp, [folder, mail], workers=2)
    return dict(root=root, camp=camp, fmt=fmt, plan=plan, values=values, codes=codes, report=report, late=late,
                dup_code=dup_code, folder=folder, mail=mail)


def test_collect_counts_every_item_once(world):
    r, plan = world["report"], world["plan"]
    expected_new = len(plan["valid"]) + len(plan["errors"]) + 2 * len(plan["twice"]) + len(plan["mail"])
    assert r.count("new") == expected_new
    assert r.count("duplicate") == 1
    assert r.count("refused") == r.count("unidentified") == 0
    again = collect(world["camp"], [world["folder"], world["mail"]], workers=1)
    assert again.count("skipped") == len(r.items) and again.count("new") == 0


def test_units_identified_from_inside_not_from_names_or_senders(world):
    plan = world["plan"]
    mail_items = [i for i in world["report"].items if i.source.startswith(str(world["mail"]))]
    assert sorted(i.unit_code for i in mail_items) == sorted(plan["mail"])
    assert {i.name for i in mail_items} == {f"{plan['mail'][0]}单位年报.xlsx", f"{plan['mail'][1]}单位年报.xlsx",
                                            "年度报告.xlsx"}
    with Ledger(world["camp"] / "ledger.sqlite") as ledger:
        senders = {r["sender"] for r in ledger.db.execute("SELECT sender FROM receipts WHERE sender != ''")}
        subjects = [r["source"] for r in ledger.db.execute("SELECT source FROM receipts WHERE source LIKE '%.eml%'")]
    assert senders == {"办公室张三 <unit@example.gov.cn>", "综合科 <unit@example.gov.cn>"}
    assert any("报送年报（两个单位）" in s for s in subjects)


def test_status_gives_each_unit_its_state(world):
    plan = world["plan"]
    report = status(world["camp"], today=dt.date(2025, 2, 1))
    by = {u.code: u for u in report.units}
    assert len(by) == 64
    for code in plan["never"]:
        assert (by[code].state, by[code].versions, by[code].timeliness) == (MISSING, 0, "逾期未交")
    for code in plan["errors"]:
        assert by[code].state == ERRORS and by[code].versions == 1 and by[code].errors >= 1
    for code in plan["twice"]:
        assert (by[code].state, by[code].versions, by[code].errors) == (PASSED, 2, 0)
    for code in plan["valid"] + plan["mail"]:
        assert (by[code].state, by[code].versions) == (PASSED, 1)
        assert by[code].timeliness == ("逾期" if code in world["late"] else "按时")
    board = openpyxl.load_workbook(report.board)
    ws = board["报送情况"]
    states = {row[1]: row[4] for row in ws.iter_rows(min_row=5, values_only=True)}
    assert states == {code: by[code].state for code in by}


def test_feedback_for_exactly_the_units_with_errors_or_missing(world):
    plan = world["plan"]
    result = feedback(world["camp"])
    assert sorted(f.code for f in result.units) == sorted(plan["errors"] + plan["never"])
    manifest = json.loads((result.dir / "feedback.json").read_text(encoding="utf-8"))
    assert {u["code"] for u in manifest["units"]} == set(plan["errors"] + plan["never"])
    for code in plan["errors"]:
        text = (result.dir / code / MESSAGE_NAME).read_text(encoding="utf-8")
        assert "不平衡" in text and "必须修改的错误" in text
        annotated = result.dir / code / f"{code}_{YEAR}_标注.xlsx"
        assert annotated.is_file()
    for code in plan["never"]:
        text = (result.dir / code / MESSAGE_NAME).read_text(encoding="utf-8")
        assert "尚未收到" in text and DEADLINE.isoformat() in text
        assert (result.dir / code / f"{code}_{YEAR}_政务公开年报.xlsx").is_file()


def test_merge_sums_exactly_the_right_units(world):
    fmt, plan, values = world["fmt"], world["plan"], world["values"]
    result = merge(world["camp"], include_unaccepted=True)
    answered = set(plan["valid"] + plan["mail"] + plan["twice"])
    assert {i.code for i in result.included} == answered
    assert {m.code for m in result.missing} == set(plan["never"] + plan["errors"])
    expected = {c.id: sum((values[code][c.id] for code in answered), Decimal(0)) for c in fmt.input_cells}
    expected = compute_derived(fmt, expected)
    assert result.total == expected
    assert result.findings == []
    # one total per 上级单位 (itself and its villages), each re-validated, with 下级缺报 named
    assert [g.code for g in result.groups] == [f"P{p:02d}" for p in range(8)]
    for g in result.groups:
        subtree = {g.code} | {c for c in world["codes"] if c.startswith(g.code + "C")}
        members = subtree & answered
        assert set(g.members) == members
        want = compute_derived(fmt, {c.id: sum((values[u][c.id] for u in members), Decimal(0)) for c in fmt.input_cells})
        assert g.total == want and g.findings == []
        assert {m.code for m in g.missing} == subtree - answered
    wb = openpyxl.load_workbook(result.outputs["xlsx"])
    first_missing = next(m.name for m in result.missing)
    for ws in wb.worksheets:  # every sheet names the units left out
        texts = [v for row in ws.iter_rows(max_row=3, values_only=True) for v in row if isinstance(v, str)]
        assert any(first_missing in t for t in texts), ws.title
    from nianbao.layout import table_layout

    for table in fmt.tables.values():  # long row labels wrap into rows tall enough for them
        heights = wb[table.sheet].row_dimensions
        assert all(abs(heights[r + 1].height - h) < 1 for r, h in table_layout(table).row_heights().items() if r != 1)
    side = wb["各单位·表三"]
    assert side.print_title_rows == "$3:$3" and side.page_setup.orientation == "landscape"
    rows = list(side.iter_rows(min_row=4, values_only=True))
    names = {n for n in (r[0].strip("　") for r in rows) if not n.startswith(("小计", "合计"))}
    assert names == {i.name for i in result.included}  # units are the rows
    header = [c.value for c in side[3]]
    assert header[1] == "一、本年新收政府信息公开申请数量"  # official labels head the columns
    assert rows[-1][0].startswith("合计") and rows[-1][1] == float(result.total["t3.new.total"])
    for ws in wb.worksheets:  # no internal cell ids anywhere
        texts = [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
        assert not any(t.startswith(("t2.", "t3.", "t4.")) for t in texts), ws.title
    html = result.outputs["html"].read_text(encoding="utf-8")
    assert first_missing in html and "未纳入汇总" in html
    import docx

    doc_text = "\n".join(p.text for p in docx.Document(result.outputs["docx"]).paragraphs)
    assert first_missing in doc_text


def test_accept_and_reject_drive_status_and_the_accepted_only_merge(world, capsys):
    plan = world["plan"]
    with pytest.raises(NothingAccepted, match="没有可汇总的单位"):  # nothing accepted yet: no all-zero 汇总表
        merge(world["camp"])
    from nianbao.cli import main

    capsys.readouterr()
    assert main(["campaign", "merge", str(world["camp"])]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "没有可汇总的单位" in err[0] and "--include-unaccepted" in err[0]
    accepted = plan["valid"][:5]
    for code in accepted:
        decide(world["camp"], code, "accept")
    decide(world["camp"], plan["twice"][0], "reject", "与统计系统上报数不一致")
    report = status(world["camp"])
    by = {u.code: u for u in report.units}
    assert all(by[c].state == ACCEPTED for c in accepted)
    assert by[plan["twice"][0]].state == RETURNED and by[plan["twice"][0]].reason == "与统计系统上报数不一致"
    result = merge(world["camp"])
    assert {i.code for i in result.included} == set(accepted)
    assert len(result.missing) == 64 - 5
    fb = feedback(world["camp"])
    rejected = next(f for f in fb.units if f.code == plan["twice"][0])
    assert "与统计系统上报数不一致" in rejected.message

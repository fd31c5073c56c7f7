"""Review states and attribution (nianbao.campaign.review) on a small real campaign: files from
the wrong unit are held, unusable files count as received, decisions survive re-collect, every
action is in the ledger with who/when/why, and an old ledger migrates."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from campaign_synth import fill, reply_eml, unit_token, valid_values, xls_bytes, zip_of

from nianbao.campaign.collect import collect
from nianbao.campaign.feedback import MESSAGE_NAME, feedback
from nianbao.campaign.folder import open_campaign
from nianbao.campaign.init import init_campaign
from nianbao.campaign.ledger import MIGRATIONS, Ledger
from nianbao.campaign.review import (ACCEPTED, HELD, MISSING, PASSED, RESUBMITTED, RETURNED, UNUSABLE, accept,
                                     assign_file, files, reject, unassigned_files, unit_history, unit_state,
                                     unit_states)
from nianbao.cli import main
from nianbao.errors import NianbaoError
from nianbao.format import load_format

YEAR = 2025
UNITS = """单位编码,单位名称,邮箱,上级编码
T01,拖船镇人民政府,tuochuan@example.gov.cn,
S01,孙渡街道办事处,sundu@example.gov.cn,
D01,杜市镇人民政府,dushi@example.gov.cn,
G01,上塘镇人民政府,shangtang@example.gov.cn,
E01,县教育局,jiaoyu@example.gov.cn; jyj-office@example.gov.cn,
"""


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    (root / "units.csv").write_text(UNITS, encoding="utf-8")
    init_campaign(root / "seed", YEAR, root / "units.csv", title="测试", deadline="2026-01-15", workers=1)
    fmt = load_format("gov-info-disclosure-2021")
    rng = random.Random(13)
    filled = {}
    for code in ("T01", "E01"):
        name, token = unit_token(root / "seed", code)
        filled[code] = fill(fmt, YEAR, code, name, token, root / f"{code}.xlsx", valid_values(fmt, rng)).read_bytes()
    name, token = unit_token(root / "seed", "T01")
    filled["T01b"] = fill(fmt, YEAR, "T01", name, token, root / "T01b.xlsx", valid_values(fmt, rng)).read_bytes()
    return root, filled


@pytest.fixture
def camp(seed, tmp_path):
    root, filled = seed
    camp = tmp_path / "camp"
    shutil.copytree(root / "seed", camp)
    mail = tmp_path / "mail"
    mail.mkdir()
    date = "Mon, 12 Jan 2026 10:00:00 +0800"
    # 孙渡 sends 拖船's filled template from its own registered address.
    (mail / "1.eml").write_bytes(reply_eml("sundu@example.gov.cn", "年报", [("年报.xlsx", filled["T01"])], date))
    # 杜市 sends .xls, 上塘 a .zip; the education bureau answers from its second address.
    (mail / "2.eml").write_bytes(reply_eml("杜市镇 <dushi@example.gov.cn>", "年报", [("年报.xls", xls_bytes())], date))
    (mail / "3.eml").write_bytes(reply_eml("shangtang@example.gov.cn", "年报",
                                           [("年报.zip", zip_of("年报.xlsx", filled["T01"]))], date))
    (mail / "4.eml").write_bytes(reply_eml("JYJ-Office@example.gov.cn", "年报", [("教育局.xlsx", filled["E01"])],
                                           date))
    # Someone unknown sends an .xls.
    (mail / "5.eml").write_bytes(reply_eml("someone@qq.com", "转发：年报", [("年报(1).xls", xls_bytes())], date))
    collect(camp, [mail], workers=1)
    return camp, mail, filled


def test_each_file_is_attributed_and_every_unit_stands_where_it_should(camp):
    camp, _, _ = camp
    with open_campaign(camp) as c:
        by = {s.code: s for s in unit_states(c)}
        assert by["S01"].state == HELD and "拖船镇人民政府的模板" in by["S01"].reason
        assert by["T01"].state == MISSING and by["T01"].versions == 0  # never counted as 拖船's
        assert by["D01"].state == UNUSABLE and "另存为" in by["D01"].reason
        assert by["G01"].state == UNUSABLE and "压缩" in by["G01"].reason
        assert by["E01"].state == PASSED  # any listed address may reply
        loose = unassigned_files(c)
        assert sorted(f.how for f in loose) == ["held", "unknown"]
        unknown = next(f for f in loose if f.how == "unknown")
        assert (unknown.sender, unknown.subject, unknown.name) == ("someone@qq.com", "转发：年报", "年报(1).xls")
        assert c.local(unknown.received_at) == "2026-01-12 10:00"  # the mail's own zone, not UTC


def test_letters_say_what_arrived_and_never_not_received(camp):
    camp, _, _ = camp
    result = feedback(camp)
    letters = {f.code: (result.dir / f.code / MESSAGE_NAME).read_text(encoding="utf-8") for f in result.units}
    assert set(letters) == {"T01", "S01", "D01", "G01"}
    assert "拖船镇人民政府的填报模板" in letters["S01"] and "尚未收到" not in letters["S01"]
    assert "已收到" in letters["D01"] and "另存为" in letters["D01"] and "尚未收到" not in letters["D01"]
    assert "已收到" in letters["G01"] and "压缩" in letters["G01"] and "尚未收到" not in letters["G01"]
    assert "尚未收到" in letters["T01"]


def test_assign_counts_a_held_file_and_is_recorded(camp):
    camp, _, _ = camp
    with open_campaign(camp) as c:
        held = next(f for f in unassigned_files(c) if f.how == "held")
        with pytest.raises(NianbaoError, match="没有编码"):
            assign_file(c, held.id, "X99")
        assign_file(c, held.id, "T01", actor="王芳", reason="已电话核实，孙渡代拖船转发")
        assert unit_state(c, "T01").state == PASSED
        assert unit_state(c, "S01").state == MISSING
        row = c.ledger.db.execute("SELECT * FROM reviews WHERE action = 'assign'").fetchone()
        assert (row["unit_code"], row["actor"], row["reason"]) == ("T01", "王芳", "已电话核实，孙渡代拖船转发")
        history = [e.text for e in unit_history(c, "S01")]
        assert any("指定给拖船镇人民政府" in t for t in history)  # the sender keeps the trace


def test_reject_resubmit_accept_cycle_survives_recollect(camp, tmp_path):
    camp, mail, filled = camp
    with open_campaign(camp) as c:
        held = next(f for f in unassigned_files(c) if f.how == "held")
        assign_file(c, held.id, "T01", actor="王芳")
        reject(c, "T01", "表三与统计系统不一致", actor="王芳")
        assert unit_state(c, "T01").state == RETURNED
    (mail / "6.eml").write_bytes(reply_eml("tuochuan@example.gov.cn", "改好了", [("年报.xlsx", filled["T01b"])],
                                           "Tue, 13 Jan 2026 09:30:00 +0800"))
    collect(camp, [mail], workers=1)
    with open_campaign(camp) as c:
        s = unit_state(c, "T01")
        assert (s.state, s.versions) == (RESUBMITTED, 2)
        accept(c, "T01", actor="李主任", note="核对无误")
    collect(camp, [mail], workers=1)  # a rerun changes nothing
    with open_campaign(camp) as c:
        s = unit_state(c, "T01")
        assert (s.state, s.decided_by, s.reason) == (ACCEPTED, "李主任", "核对无误")
        words = [e.state for e in unit_history(c, "T01")]
        assert words.count(RETURNED) == 1 and words[-1] == ACCEPTED and RESUBMITTED in words
        assert len(files(c)) == 6


def test_history_and_files_commands(camp, capsys, monkeypatch):
    camp, _, _ = camp
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["campaign", "files", str(camp)]) == 0
    out = capsys.readouterr().out
    assert "someone@qq.com" in out and "转发：年报" in out and "campaign assign" in out
    held = out  # the numbers shown are the ones assign takes
    with open_campaign(camp) as c:
        fid = next(f.id for f in unassigned_files(c) if f.how == "unknown")
    assert str(fid) in held
    assert main(["campaign", "assign", str(camp), str(fid), "D01", "--by", "王芳", "--reason", "杜市转发"]) == 0
    assert main(["campaign", "history", str(camp), "杜市镇人民政府"]) == 0
    out = capsys.readouterr().out
    assert "2026-01-12 10:00" in out and UNUSABLE in out and "王芳" in out and "杜市转发" in out
    assert main(["campaign", "history", str(camp), "不存在的单位"]) == 2


def test_a_schema_1_ledger_migrates_with_its_decisions(tmp_path):
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0][1])
    db.executescript("""
    CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);
    INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+08:00');
    INSERT INTO units VALUES ('A', '甲镇', 'a@x.cn', '', '', NULL, 'tok', 'outbox/a.xlsx', 0);
    INSERT INTO files VALUES ('%s', 1, 'inbox/x', 'xlsx');
    INSERT INTO receipts (source_key, source, name, received_at, sender, sha256)
      VALUES ('k', 's', 'n', '2026-01-10T10:00:00+08:00', '甲 <A@X.cn>', '%s');
    INSERT INTO versions (sha256, unit_code, status, received_at) VALUES ('%s', 'A', 'passed', '2026-01-10T10:00:00+08:00');
    INSERT INTO decisions (version_id, decision, reason, decided_at) VALUES (1, 'reject', '数字不对', '2026-01-11T09:00:00+08:00');
    """ % (("a" * 64,) * 3))
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.schema_version() == 3
        review = ledger.reviews()[0]
        assert (review["action"], review["unit_code"], review["reason"]) == ("reject", "A", "数字不对")
        assert ledger.db.execute("SELECT sender_units FROM receipts").fetchone()[0] == "A"


def test_the_review_module_imports_nothing_above_it():
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "nianbao" / "campaign"
    above = {"status", "feedback", "merge", "mailing", "collect", "init"}
    for module in ("review", "folder", "init"):
        tree = ast.parse((src / f"{module}.py").read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        bad = {m for m in names if m.startswith("nianbao.campaign.") and m.rsplit(".", 1)[1] in above - {module}}
        assert not bad, (module, bad)
    commands = src.parent / "commands"
    for module in ("campaign", "campaign_mail", "campaign_review", "campaign_app"):
        tree = ast.parse((commands / f"{module}.py").read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        others = {"nianbao.commands.campaign", "nianbao.commands.campaign_review"} - {f"nianbao.commands.{module}"}
        if module != "campaign":  # collect --imap runs fetch; nothing imports back
            others.add("nianbao.commands.campaign_mail")
        assert not (names & others), (module, names & others)


def test_narratives_copied_between_units_warn_both_and_letters_never_name_the_other(seed, tmp_path):
    from campaign_synth import DETAILS

    from nianbao.annotate import write_filled
    from nianbao.campaign.status import note_for

    root, _ = seed
    camp = tmp_path / "camp"
    shutil.copytree(root / "seed", camp)
    fmt = load_format("gov-info-disclosure-2021")
    part = fmt.narratives[1]
    boiler = "本单位认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开工作。"
    copied = ("今年我们围绕乡村振兴重点任务，在镇政务服务中心设立政务公开专区，编印惠农政策明白纸三千余份，"
              "组织村级公开栏集中规范整治，全年更新村务财务公开内容一百二十余条。")
    own = {"D01": "杜市镇今年重点推进征地拆迁信息公开，逐户公示补偿标准，召开群众说明会十二场，答复群众咨询两百余次。",
           "G01": "上塘镇着力建设数字化政务公开平台，上线镇级公开目录，公开财政预决算和三公经费，开展政策解读直播四期。",
           "E01": "县教育局围绕招生入学、教师招聘、学生资助等群众关心的事项，主动公开信息四百余条，解读文件十九件。"}
    rng = random.Random(5)
    folder = tmp_path / "in"
    folder.mkdir()
    for code in ("T01", "S01", "D01", "G01", "E01"):
        name, token = unit_token(camp, code)
        texts = {n.id: f"{name}的{n.title}情况说明。" for n in fmt.narratives}
        texts[part.id] = boiler + (copied if code in ("T01", "S01") else own[code])
        write_filled(fmt, {"name": name, "code": code, **DETAILS}, YEAR, folder / f"{code}.xlsx",
                     dict(valid_values(fmt, rng)), texts, token=token)
    collect(camp, [folder], workers=1)
    with open_campaign(camp) as c:
        by = {s.code: s for s in unit_states(c)}
        assert {code for code, s in by.items() if s.copies} == {"T01", "S01"}  # the shared boilerplate is not a copy
        t = by["T01"]
        assert t.state == "仅有警告" and t.copies[0].other == "S01" and t.copies[0].title == part.title
        assert "孙渡街道办事处" in note_for(c, t)  # the coordinator sees who
    result = feedback(camp)
    letter = (result.dir / "T01" / MESSAGE_NAME).read_text(encoding="utf-8")
    assert f"“{part.title}”与本次收集中另一单位的同一部分几乎相同" in letter
    assert "孙渡" not in letter  # the unit never learns whose text it resembles

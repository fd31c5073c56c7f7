"""A whole 40-unit round through real mail servers (aiosmtpd for SMTP, Dovecot for IMAP), as a
county coordinator lives it: templates out, replies in — one unit sends another's template, one
.xls, one .zip, one twice, one from an unknown address, one is returned and resubmits, two never
answer — then reminders, review, merge. Every unit's state, every letter's key sentence, the
ledger's history and the 汇总 totals (summed here, independently, from the accepted files)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import random
import re
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from libreoffice import convert, require_libreoffice
from campaign_synth import fill, unit_token, valid_values, write_units, xls_bytes, zip_of
from test_campaign_mailing import configure

from nianbao.campaign.folder import open_campaign
from nianbao.campaign.init import init_campaign
from nianbao.campaign.mailing import collect_imap, remind, send_templates
from nianbao.campaign.merge import merge
from nianbao.campaign.status import status
from nianbao.campaign.review import (ACCEPTED, ERRORS, HELD, MISSING, PASSED, RECEIVED, RESUBMITTED, RETURNED,
                                     UNUSABLE, accept, reject, unassigned_files, unit_history, unit_states)
from nianbao.cli import main
from nianbao.format import load_format
from nianbao.mail.compose import Attachment, compose, report_filename
from nianbao.template import compute_derived

YEAR = 2025


def reply(to_coordinator: str, sender: str, subject: str, attachments: list[Attachment], date: str) -> bytes:
    return compose(sender=sender, sender_name="", to=to_coordinator, to_name="", subject=subject,
                   body="附件是我单位的年报，请查收。", attachments=attachments, date=date).data


def letter(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()


def test_a_forty_unit_round_through_smtp_and_imap(tmp_path, smtp, dovecot, monkeypatch, capsys):
    rows = write_units(tmp_path / "units.csv", 5, 7)  # 5 towns × (1 + 7) = 40 units
    assert len(rows) == 40
    camp = tmp_path / "camp"
    init_campaign(camp, YEAR, tmp_path / "units.csv", title="测试县年报", deadline="2099-01-15", area="测试县",
                  workers=1)
    folder = dovecot.new_folder()
    configure(camp, smtp, dovecot, folder=folder, remind_gap_hours=0)
    codes = [r["code"] for r in rows]
    name = {r["code"]: r["name"] for r in rows}
    mail = {r["code"]: f"{r['code'].lower()}@example.gov.cn" for r in rows}
    coordinator = smtp.user

    sent = send_templates(camp, password=smtp.password)
    assert sent.count("sent") == 40 and len(smtp.messages) == 40
    by_rcpt = {c.rcpt_tos[0]: c for c in smtp.messages}
    first = email.message_from_bytes(by_rcpt[mail[codes[0]]].data, policy=email.policy.default)
    assert [p.get_filename() for p in first.iter_attachments()] == [report_filename(name[codes[0]], YEAR)]

    sender_unit, owner, xls_unit, zip_unit, twice, stranger_for, assigned, returned = codes[1:9]
    never = codes[38:]
    valid = [c for c in codes if c not in {sender_unit, xls_unit, zip_unit, twice, assigned, returned, *never}]
    fmt = load_format("gov-info-disclosure-2021")
    rng = random.Random(40)
    made = tmp_path / "made"
    made.mkdir()
    values: dict[str, dict[str, Decimal]] = {}

    def filled(code: str, tag: str = "", error: bool = False) -> bytes:
        unit_name, token = unit_token(camp, code)
        vals = valid_values(fmt, rng)
        if not error:
            values[code] = vals
        return fill(fmt, YEAR, code, unit_name, token, made / f"{code}{tag}.xlsx", vals, error).read_bytes()

    # Mail dates as a unit's client writes them, in +08:00 (the coordinator's actions come later)
    china = dt.timezone(dt.timedelta(hours=8))
    moment1 = (dt.datetime.now(china) - dt.timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    day1 = email.utils.format_datetime(moment1)
    xlsx = "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for code in valid:
        sender = "someone@qq.com" if code == stranger_for else mail[code]
        dovecot.append(folder, reply(coordinator, sender, "回复：年报", [Attachment("年报.xlsx", filled(code), *xlsx)], day1))
    # 孙渡 (sender_unit) mails, from its own address, a filled template of another unit.
    unit_name, token = unit_token(camp, owner)
    wrong = fill(fmt, YEAR, owner, unit_name, token, made / "wrong.xlsx", valid_values(fmt, rng)).read_bytes()
    dovecot.append(folder, reply(coordinator, mail[sender_unit], "年报", [Attachment("年报.xlsx", wrong, *xlsx)], day1))
    dovecot.append(folder, reply(coordinator, mail[xls_unit], "年报", [Attachment("年报.xls", xls_bytes(),
                                                                                    "application", "vnd.ms-excel")], day1))
    dovecot.append(folder, reply(coordinator, mail[zip_unit], "年报",
                                 [Attachment("年报.zip", zip_of("年报.xlsx", filled(zip_unit)), "application", "zip")],
                                 day1))
    dovecot.append(folder, reply(coordinator, mail[twice], "年报", [Attachment("年报.xlsx", filled(twice, "-bad", True),
                                                                              *xlsx)], day1))
    dovecot.append(folder, reply(coordinator, mail[returned], "年报", [Attachment("年报.xlsx", filled(returned), *xlsx)],
                                 day1))
    # Someone's private mailbox sends an .xls nobody can place until the coordinator phones round.
    dovecot.append(folder, reply(coordinator, "wangfang1988@163.com", "转发：村里的年报",
                                 [Attachment("年报(1).xls", xls_bytes(), "application", "vnd.ms-excel")], day1))

    fetched = collect_imap(camp, password=dovecot.password)
    assert fetched.fetch.fetched == len(valid) + 6
    with open_campaign(camp) as c:
        loose = unassigned_files(c)
        assert sorted(f.how for f in loose) == ["held", "unknown"]
        stranger = next(f for f in loose if f.how == "unknown")
        assert (stranger.sender, stranger.subject, stranger.name) == ("wangfang1988@163.com", "转发：村里的年报",
                                                                      "年报(1).xls")
        assert c.local(stranger.received_at) == moment1.strftime("%Y-%m-%d 10:00")
        reject(c, returned, "表三本年新收数与统计系统上报数不一致", actor="王芳")
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["campaign", "assign", str(camp), str(stranger.id), assigned, "--by", "王芳",
                 "--reason", "电话核实：村文书用私人邮箱转发"]) == 0

    with open_campaign(camp) as c:
        by = {s.code: s for s in unit_states(c)}
    expected = {code: PASSED for code in valid}
    expected.update({sender_unit: HELD, xls_unit: UNUSABLE, zip_unit: UNUSABLE, twice: ERRORS, assigned: UNUSABLE,
                     returned: RETURNED, **{c: MISSING for c in never}})
    assert {c: s.state for c, s in by.items()} == expected
    assert by[owner].versions == 1  # its own file only: the one 孙渡 sent is not counted as 拖船's

    before = len(smtp.messages)
    reminded = remind(camp, password=smtp.password)
    letters = {c.rcpt_tos[0]: letter(c.data) for c in smtp.messages[before:]}
    wanted = {sender_unit, xls_unit, zip_unit, twice, assigned, returned, *never}
    assert sorted(u.code for u in reminded.units if u.outcome == "sent") == sorted(wanted, key=codes.index)
    text = {code: letters[mail[code]] for code in wanted}
    assert f"是{name[owner]}的填报模板" in text[sender_unit]
    assert "另存为" in text[xls_unit] and "已收到" in text[xls_unit]
    assert "压缩" in text[zip_unit] and "已收到" in text[zip_unit]
    assert "已收到" in text[assigned] and "另存为" in text[assigned]
    assert "处错误" in text[twice]
    assert "已退回" in text[returned] and "表三本年新收数与统计系统上报数不一致" in text[returned]
    for code in wanted - set(never):
        assert "尚未收到" not in text[code], code  # her mail arrived: never tell her it did not
    for code in never:
        assert "尚未收到" in text[code]

    time.sleep(1.1)  # the resubmission's Date comes after the return, to the second
    moment2 = dt.datetime.now(china).replace(microsecond=0)
    day2 = email.utils.format_datetime(moment2)
    dovecot.append(folder, reply(coordinator, mail[twice], "改好了", [Attachment("年报.xlsx", filled(twice, "-2"), *xlsx)],
                                 day2))
    dovecot.append(folder, reply(coordinator, mail[returned], "已修改", [Attachment("年报.xlsx", filled(returned, "-2"),
                                                                                  *xlsx)], day2))
    assert collect_imap(camp, password=dovecot.password).fetch.fetched == 2
    with open_campaign(camp) as c:
        by = {s.code: s for s in unit_states(c)}
        assert (by[twice].state, by[twice].versions) == (PASSED, 2)
        assert (by[returned].state, by[returned].versions) == (RESUBMITTED, 2)
        for code in valid + [twice, returned]:
            accept(c, code, actor="李主任")
        by = {s.code: s for s in unit_states(c)}
        assert all(by[code].state == ACCEPTED for code in valid + [twice, returned])
        history = unit_history(c, returned)
        assert [e.state for e in history] == [RECEIVED, PASSED, RETURNED, RECEIVED, PASSED, RESUBMITTED, ACCEPTED]
        assert history[2].actor == "王芳" and history[2].reason == "表三本年新收数与统计系统上报数不一致"
        assert c.local(history[3].at) == moment2.strftime("%Y-%m-%d %H:%M")
        moves = [e for e in unit_history(c, assigned) if "指定给" in e.text]
        assert moves and moves[0].actor == "王芳" and "电话核实" in moves[0].reason

    result = merge(camp)
    summed = valid + [twice, returned]
    assert {i.code for i in result.included} == set(summed)
    want = compute_derived(fmt, {cell.id: sum((values[c][cell.id] for c in summed), Decimal(0))
                                 for cell in fmt.input_cells})
    assert result.total == want and result.findings == []
    left = {m.code: m.state for m in result.missing}
    assert left == {sender_unit: HELD, xls_unit: UNUSABLE, zip_unit: UNUSABLE, assigned: UNUSABLE,
                    **{c: MISSING for c in never}}
    assert all(g.findings == [] for g in result.groups)
    assert Path(result.outputs["xlsx"]).is_file()

    # What the coordinator prints: LibreOffice renders both workbooks on a few A4 pages, no text lost.
    require_libreoffice()
    board = status(camp).board
    pages = {}
    for book in (board, result.outputs["xlsx"]):
        pdf = convert(book, tmp_path / "print", "pdf")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages[book.name] = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                      check=True).stdout.split())
        for code in [*never, xls_unit]:
            assert name[code] in text  # the units left out / to act on are all on paper
    assert pages["status.xlsx"] <= 3 and pages["汇总.xlsx"] <= 14, pages

"""The campaign's mail against real servers: send templates over SMTP (aiosmtpd), answer them
into a real IMAP mailbox (Dovecot), fetch and collect, and check what status says. Then:
interrupted sends, rerun, every unit mailed exactly once."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from campaign_synth import fill, gbk_eml, unit_token, valid_values, write_units
from mailservers import CapturingHandler, smtp_server

from nianbao.campaign.init import init_campaign
from nianbao.campaign.ledger import Ledger
from nianbao.campaign.mailing import collect_imap, remind, send_templates
from nianbao.campaign.review import ERRORS, MISSING, PASSED, UNUSABLE
from nianbao.campaign.status import status
from nianbao.cli import main
from nianbao.format import load_format
from nianbao.mail.compose import Attachment, compose, report_filename
from nianbao.mail.decode import parse_message

YEAR = 2025
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """A campaign of 6 units (2 towns × (1 + 2)), made once and copied per test."""
    root = tmp_path_factory.mktemp("mailcampaign")
    write_units(root / "units.csv", 2, 2)
    init_campaign(root / "seed", YEAR, root / "units.csv", title="测试收集", deadline="2026-01-15", workers=1)
    return root / "seed"


def configure(camp: Path, smtp_server=None, imap_server=None, folder: str = "INBOX", **extra: object) -> Path:
    """Point the campaign's [mail] table at the test servers (rewriting campaign.toml's lines)."""
    path = camp / "campaign.toml"
    text = path.read_text(encoding="utf-8")
    values: dict[str, object] = {"sender_name": "测试县政务公开办", "retry_seconds": 0, "contact": "县政务公开办 王芳"}
    if smtp_server is not None:
        values.update(host="127.0.0.1", port=smtp_server.port, security="none", user=smtp_server.user,
                      sender=smtp_server.user, password_env="NB_TEST_SMTP_PASSWORD")
    if imap_server is not None:
        values.update(imap_host="127.0.0.1", imap_port=imap_server.port, imap_security="none",
                      imap_user=imap_server.user, imap_folder=folder, imap_password_env="NB_TEST_IMAP_PASSWORD")
    values.update(extra)
    head, mail = text.split("[mail]\n", 1)
    for key, value in values.items():
        line = f"{key} = {value if isinstance(value, (int, float)) else chr(34) + str(value) + chr(34)}"
        mail, n = re.subn(rf"^{key} = .*$", lambda _: line, mail, flags=re.M)
        if not n:
            mail = line + "\n" + mail
    path.write_text(head + "[mail]\n" + mail, encoding="utf-8")
    return camp


def copy_campaign(seed: Path, tmp_path: Path) -> Path:
    camp = tmp_path / "camp"
    shutil.copytree(seed, camp)
    return camp


def units_of(camp: Path) -> list[dict]:
    with Ledger(camp / "ledger.sqlite") as ledger:
        return [dict(u) for u in ledger.units()]


def sends(camp: Path) -> list[dict]:
    with Ledger(camp / "ledger.sqlite") as ledger:
        return [dict(r) for r in ledger.db.execute("SELECT * FROM sends ORDER BY id")]


def answer(captured_raw: bytes, attachments: list[Attachment]) -> bytes:
    """A unit's reply to a captured message, as its mail client would write it."""
    import email
    import email.policy

    original = parse_message(captured_raw)
    # the unit answers from its own registered address (the one the template went to)
    unit_address = email.message_from_bytes(captured_raw, policy=email.policy.default)["To"].addresses[0].addr_spec
    return compose(sender=unit_address, sender_name="", to="coord@example.cn",
                   to_name="", subject="回复：" + original.subject, body="已填好，请查收。",
                   attachments=attachments).data


def test_send_answer_fetch_status_round_trip(seed, tmp_path, smtp, dovecot):
    folder = dovecot.new_folder()
    camp = configure(copy_campaign(seed, tmp_path), smtp, dovecot, folder=folder)
    units = units_of(camp)
    report = send_templates(camp, password=smtp.password)
    assert report.count("sent") == len(units) == 6

    # What the server captured: one message per unit, its own template byte for byte.
    by_rcpt = {c.rcpt_tos[0]: c for c in smtp.messages}
    assert sorted(by_rcpt) == sorted(u["email"] for u in units)
    rows = sends(camp)
    for unit in units:
        parsed = parse_message(by_rcpt[unit["email"]].data)
        assert unit["name"] in parsed.subject and str(YEAR) in parsed.subject
        (att,) = parsed.attachments
        assert att.filename == report_filename(unit["name"], YEAR)
        assert att.data == (camp / unit["template"]).read_bytes()
        results = [r["result"] for r in rows if r["unit_code"] == unit["code"]]
        assert results == ["sending", "sent"]
        assert parsed.message_id == rows[[r["unit_code"] for r in rows].index(unit["code"])]["message_id"]
    body = parse_message(by_rcpt[units[0]["email"]].data)
    assert body.sender_address == smtp.user

    # Units answer into the IMAP mailbox.
    fmt = load_format("gov-info-disclosure-2021")
    rng = random.Random(6)
    made = tmp_path / "made"
    made.mkdir()
    valid, wrong, gbk, empty, pdf_only, silent = (u["code"] for u in units)

    def filled(code: str, error: bool = False) -> Attachment:
        name, token = unit_token(camp, code)
        path = fill(fmt, YEAR, code, name, token, made / f"{code}.xlsx", valid_values(fmt, rng), error)
        return Attachment(f"{code}_{YEAR}_政务公开年报.xlsx", path.read_bytes())

    email_of = {u["code"]: u["email"] for u in units}
    dovecot.append(folder, answer(by_rcpt[email_of[valid]].data, [filled(valid)]))
    dovecot.append(folder, answer(by_rcpt[email_of[wrong]].data, [filled(wrong, error=True)]))
    dovecot.append(folder, gbk_eml([("喆镕镇年报.xlsx", filled(gbk).data)], "喆镕镇", "回复：年报",
                                   "Mon, 12 Jan 2026 10:00:00 +0800"))
    dovecot.append(folder, answer(by_rcpt[email_of[empty]].data, []))
    dovecot.append(folder, answer(by_rcpt[email_of[pdf_only]].data,
                                  [Attachment("盖章页.pdf", b"%PDF-1.4 scan", "application", "pdf")]))

    result = collect_imap(camp, password=dovecot.password)
    assert result.fetch.fetched == 5
    outcomes = {(i.name, i.outcome) for i in result.collect.items}
    assert outcomes == {(f"{valid}_{YEAR}_政务公开年报.xlsx", "new"), (f"{wrong}_{YEAR}_政务公开年报.xlsx", "new"),
                        ("喆镕镇年报.xlsx", "new"), ("", "refused"), ("盖章页.pdf", "unidentified")}
    states = {u.code: u.state for u in status(camp, write_board=False).units}
    # the mail without attachment and the PDF came from the units' own addresses: received, unusable
    assert states == {valid: PASSED, wrong: ERRORS, gbk: PASSED, empty: UNUSABLE, pdf_only: UNUSABLE, silent: MISSING}
    stored = list((camp / "inbox").rglob("*.eml"))
    assert len(stored) == 5  # every raw message kept as evidence, byte for byte
    with dovecot.client() as conn:
        conn.select(f'"{folder}"', readonly=True)
        _, data = conn.fetch("1:*", "(BODY.PEEK[])")
    assert {p.read_bytes() for p in stored} == {item[1] for item in data if isinstance(item, tuple)}

    # A second fetch finds nothing new; a new reply is fetched alone.
    assert collect_imap(camp, password=dovecot.password).fetch.fetched == 0
    dovecot.append(folder, answer(by_rcpt[email_of[silent]].data, [filled(silent)]))
    again = collect_imap(camp, password=dovecot.password)
    assert again.fetch.fetched == 1 and again.collect.count("new") == 1
    assert {u.code: u.state for u in status(camp, write_board=False).units}[silent] == PASSED

    # Reminders: the units with errors or nothing usable get their feedback, once.
    before = len(smtp.messages)
    reminded = remind(camp, password=smtp.password)
    assert sorted(u.code for u in reminded.units if u.outcome == "sent") == sorted([wrong, empty, pdf_only])
    new = {c.rcpt_tos[0]: parse_message(c.data) for c in smtp.messages[before:]}
    wrong_mail = new[email_of[wrong]]
    names = [a.filename for a in wrong_mail.attachments]
    name_of = {u["code"]: u["name"] for u in units}
    assert names == [report_filename(name_of[wrong], YEAR, "标注问题"), report_filename(name_of[wrong], YEAR, "问题清单", "txt")]
    problems = wrong_mail.attachments[1].data.decode("utf-8")
    assert "错误" in problems
    assert [a.filename for a in new[email_of[empty]].attachments] == [report_filename(name_of[empty], YEAR),
                                                                      report_filename(name_of[empty], YEAR, "问题清单", "txt")]
    assert "已收到" in new[email_of[empty]].attachments[1].data.decode("utf-8")
    assert new[email_of[empty]].attachments[0].data == (camp / f"outbox/{empty}_{YEAR}_政务公开年报.xlsx").read_bytes()
    again = remind(camp, password=smtp.password)
    assert again.count("sent") == 0 and again.count("skipped") == 3


def test_drafts_write_one_eml_per_unit_and_send_nothing(seed, tmp_path, capsys):
    camp = copy_campaign(seed, tmp_path)
    assert main(["campaign", "send", str(camp), "--drafts"]) == 2  # no sender yet: nobody could reply
    assert "没有填写发件人地址 sender" in capsys.readouterr().err
    assert not list((camp / "outbox").glob("*.eml"))
    configure(camp, sender="coord@example.gov.cn")
    code = main(["campaign", "send", str(camp), "--drafts", "--units", "P00,P01C01"])
    assert code == 0
    drafts = sorted((camp / "outbox").glob("*.eml"))
    assert [p.name for p in drafts] == [f"P00_{YEAR}_下发邮件.eml", f"P01C01_{YEAR}_下发邮件.eml"]
    parsed = parse_message(drafts[0].read_bytes())
    assert parsed.attachments[0].data == (camp / f"outbox/P00_{YEAR}_政务公开年报.xlsx").read_bytes()
    assert sends(camp) == []
    assert main(["campaign", "send", str(camp), "--units", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_wrong_password_is_one_chinese_line_and_nothing_recorded(seed, tmp_path, smtp, capsys, monkeypatch):
    camp = configure(copy_campaign(seed, tmp_path), smtp)
    monkeypatch.setenv("NB_TEST_SMTP_PASSWORD", "wrong-one")
    assert main(["campaign", "send", str(camp)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"错误：发信服务器 127.0.0.1:{smtp.port} 拒绝了用户 {smtp.user} 的登录：用户名或密码（授权码）不对")
    assert not any("wrong-one" in line for line in err)
    assert sends(camp) == [] and not (camp / "sent").exists()


def test_a_server_that_refuses_halfway_then_a_rerun_mails_each_unit_once(seed, tmp_path):
    handler = CapturingHandler(accept_limit=2)
    with smtp_server(handler=handler) as server:
        camp = configure(copy_campaign(seed, tmp_path), server)
        first = send_templates(camp, password=server.password)
        assert first.count("sent") == 2 and first.count("failed") == 4  # reported per unit, none aborted
        assert all("554" in u.detail for u in first.units if u.outcome == "failed")
        handler.accept_limit = None
        second = send_templates(camp, password=server.password)
        assert second.count("skipped") == 2 and second.count("sent") == 4
        third = send_templates(camp, password=server.password)
        assert third.count("skipped") == 6
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(u["email"] for u in units_of(camp))


def test_a_send_killed_halfway_then_rerun_mails_each_unit_once(seed, tmp_path):
    proc: list[subprocess.Popen] = []

    def kill_sender_on_third(number: int) -> str | None:
        if number == 3:  # the process dies while the server holds message 3, before any reply
            os.kill(proc[0].pid, signal.SIGKILL)
            proc[0].wait()
            return "451 4.3.0 connection lost"
        return None

    handler = CapturingHandler(on_data=kill_sender_on_third)
    with smtp_server(handler=handler) as server:
        camp = configure(copy_campaign(seed, tmp_path), server)
        env = {**os.environ, "NB_TEST_SMTP_PASSWORD": server.password}
        proc.append(subprocess.Popen([sys.executable, "-m", "nianbao.cli", "campaign", "send", str(camp)], env=env,
                                     cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE))
        proc[0].communicate(timeout=60)
        assert proc[0].returncode == -signal.SIGKILL
        assert len(server.messages) == 2
        interrupted = sends(camp)[-1]
        assert interrupted["result"] == "sending"

        handler.on_data = None
        rerun = send_templates(camp, password=server.password)
        assert rerun.count("skipped") == 2 and rerun.count("sent") == 4
        resent = next(u for u in rerun.units if u.code == interrupted["unit_code"])
        assert resent.message_id == interrupted["message_id"]  # the same message, not a new one
    emails = sorted(m.rcpt_tos[0] for m in server.messages)
    assert emails == sorted(u["email"] for u in units_of(camp))  # each unit exactly once
    per_unit = {}
    for row in sends(camp):
        per_unit.setdefault(row["unit_code"], []).append(row["result"])
    assert sum(r.count("sent") for r in per_unit.values()) == 6
    assert all(r.count("sent") == 1 for r in per_unit.values())


def test_resend_sends_again_and_units_without_email_are_reported(seed, tmp_path, smtp):
    camp = configure(copy_campaign(seed, tmp_path), smtp)
    with Ledger(camp / "ledger.sqlite") as ledger, ledger.transaction() as db:
        db.execute("UPDATE units SET email = '' WHERE code = 'P00'")
    first = send_templates(camp, units=["P00", "P01"], password=smtp.password)
    assert [(u.code, u.outcome) for u in first.units] == [("P00", "no_email"), ("P01", "sent")]
    again = send_templates(camp, units=["P01"], resend=True, password=smtp.password)
    assert again.count("sent") == 1
    assert len(smtp.messages) == 2


def test_missing_server_settings_are_named(seed, tmp_path):
    from nianbao.errors import NianbaoError

    camp = copy_campaign(seed, tmp_path)
    with pytest.raises(NianbaoError, match="没有填写发信服务器 host"):
        send_templates(camp)
    with pytest.raises(NianbaoError, match="imap_host"):
        collect_imap(camp)
    configure(camp, mystery="1")
    with pytest.raises(NianbaoError, match="无法识别：mystery"):
        send_templates(camp)


def test_the_sent_copy_is_what_went_out(seed, tmp_path, smtp):
    camp = configure(copy_campaign(seed, tmp_path), smtp)
    report = send_templates(camp, units=["P01"], password=smtp.password)
    (unit,) = report.units
    assert (camp / unit.path).read_bytes() == smtp.messages[0].data
    assert dt.date.today().strftime("%Y%m%d") in unit.path


def test_fetch_command_reports_in_json(seed, tmp_path, dovecot, capsys, monkeypatch):
    import json

    folder = dovecot.new_folder()
    camp = configure(copy_campaign(seed, tmp_path), imap_server=dovecot, folder=folder)
    dovecot.append(folder, compose(sender="p00@example.gov.cn", sender_name="", to="coord@example.cn", to_name="",
                                   subject="没有附件", body="忘了附件").data)
    monkeypatch.setenv("NB_TEST_IMAP_PASSWORD", dovecot.password)
    assert main(["campaign", "fetch", str(camp), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fetch"]["fetched"] == 1 and out["fetch"]["folder"] == folder
    assert out["collect"]["counts"]["refused"] == 1
    assert main(["campaign", "fetch", str(camp), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fetch"]["fetched"] == 0
    # `campaign collect --imap` is the same path: a new reply arrives, only it is fetched.
    dovecot.append(folder, compose(sender="p00@example.gov.cn", sender_name="", to="coord@example.cn", to_name="",
                                   subject="还是没有附件", body="再试一次").data)
    assert main(["campaign", "collect", str(camp), "--imap", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fetch"]["fetched"] == 1 and out["collect"]["counts"]["refused"] == 1


def test_help_has_examples(capsys):
    for command in ("send", "remind", "fetch"):
        assert main(["campaign", command, "--help"]) == 0
        assert f"示例：nianbao campaign {command}" in capsys.readouterr().out


def test_send_over_starttls_with_a_ca_file_beside_the_campaign(seed, tmp_path, tls_certs):
    from nianbao.errors import NianbaoError

    camp = copy_campaign(seed, tmp_path)
    shutil.copy(tls_certs.ca, camp / "政务邮箱根证书.pem")
    with smtp_server(tls="starttls", certs=tls_certs) as server:
        configure(camp, server, security="starttls", ca_file="政务邮箱根证书.pem")
        sent = send_templates(camp, units=["P01"], password=server.password)
        assert [(u.code, u.outcome) for u in sent.units] == [("P01", "sent")] and len(server.messages) == 1
        configure(camp, server, security="starttls", ca_file="没有这个文件.pem")
        with pytest.raises(NianbaoError, match="ca_file.*没有这个文件.pem"):
            send_templates(camp, units=["P02"], password=server.password)


def test_reminders_keep_a_minimum_gap_per_unit(seed, tmp_path, smtp):
    camp = configure(copy_campaign(seed, tmp_path), smtp)
    first = remind(camp, units=["P00", "P01"], password=smtp.password)
    assert first.count("sent") == 2
    # the letter changes (new wording), but it is too soon to write to the same unit again
    configure(camp, remind_body="{unit_name}：\\n\\n{problems}\\n\\n请尽快报送。")  # TOML escapes
    soon = remind(camp, units=["P00", "P01"], password=smtp.password)
    assert soon.count("skipped") == 2 and all("至少间隔 24 小时" in u.detail for u in soon.units)
    assert remind(camp, units=["P00"], resend=True, password=smtp.password).count("sent") == 1
    assert len(smtp.messages) == 3


def test_drafts_list_units_without_an_address_instead_of_writing_to_nobody(seed, tmp_path, capsys):
    camp = configure(copy_campaign(seed, tmp_path), sender="coord@example.gov.cn", sender_name="县政务公开办")
    with Ledger(camp / "ledger.sqlite") as ledger, ledger.transaction() as db:
        db.execute("UPDATE units SET email = '' WHERE code = 'P00'")
        db.execute("UPDATE units SET email = 'a@x.cn, b@y.cn' WHERE code = 'P01'")
    assert main(["campaign", "send", str(camp), "--drafts"]) == 1  # one unit could not be drafted: said so
    err = capsys.readouterr().err
    assert "P00" in err and "没有邮箱" in err
    drafts = {p.name: p.read_bytes() for p in (camp / "outbox").glob("*.eml")}
    assert f"P00_{YEAR}_下发邮件.eml" not in drafts and len(drafts) == 5
    assert all(b"<>" not in raw for raw in drafts.values())
    two = parse_message(drafts[f"P01_{YEAR}_下发邮件.eml"])
    assert two.sender_address == "coord@example.gov.cn"
    msg = email.message_from_bytes(drafts[f"P01_{YEAR}_下发邮件.eml"], policy=email.policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@x.cn", "b@y.cn"]  # every listed address receives it
    assert "如有疑问，请联系 县政务公开办 王芳。" in msg.get_body(("plain",)).get_content()

"""Mail for a campaign: send every unit its template, remind the late and the wrong, fetch replies.

Settings come from the ``[mail]`` table of ``campaign.toml`` (server, port, security, user,
sender, templates); the password from the environment variable it names, or a prompt.

Sending is recorded in the ledger's ``sends`` table, one row per step, so a kill at any point
is recovered by the next run:

1. the message is composed and written to ``sent/`` (the exact bytes, as evidence);
2. a ``sending`` row with its Message-ID is committed;
3. the bytes go to the SMTP server (retried with backoff);
4. a ``sent`` or ``failed`` row is committed.

A rerun skips units whose template was ``sent`` (unless ``resend``). A unit left at ``sending``
was interrupted during step 3: the server may or may not have taken it, and SMTP cannot be
asked. It is sent again with the *same bytes and Message-ID*, so in the rare case the server
had taken it, mail clients show one message, not two.

Fetching reads new messages from the IMAP folder (UID and UIDVALIDITY kept in the ledger's
meta table) and hands each, as raw bytes, to the campaign's own collect path
(:func:`nianbao.campaign.collect.collect_items`), which stores it in ``inbox/`` and validates
its workbooks. The position is saved only after a message's items are committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nianbao.campaign.collect import CollectReport, ItemOutcome, collect_items
from nianbao.campaign.collect import collect_lock  # one collect at a time, fetch included
from nianbao.campaign.lock import CampaignLock
from nianbao.campaign.folder import OUTBOX, Campaign, open_campaign
from nianbao.campaign.ledger import Ledger, now
from nianbao.campaign.sources import MESSAGE_TOO_LARGE, Received, items_from_message
from nianbao.errors import NianbaoError
from nianbao.campaign.units import addresses
from nianbao.mail.compose import Attachment, Outgoing, compose, render, report_filename
from nianbao.mail.imap import FetchReport, ImapSettings, fetch_new
from nianbao.mail.smtp import SmtpSender, SmtpSettings, resolve_password

SENT_DIR = "sent"
SEND_LOCK = ".send.lock"
TEMPLATE, REMIND = "template", "remind"
SENDING, SENT, FAILED = "sending", "sent", "failed"

#: Keys of campaign.toml's [mail] table and where each goes.
_SMTP_KEYS = {"host": "host", "port": "port", "security": "security", "user": "user", "sender": "sender",
              "sender_name": "sender_name", "password_env": "password_env", "timeout": "timeout",
              "ca_file": "ca_file"}
_IMAP_KEYS = {"imap_host": "host", "imap_port": "port", "imap_security": "security", "imap_user": "user",
              "imap_folder": "folder", "imap_password_env": "password_env", "timeout": "timeout",
              "ca_file": "ca_file"}
_TEXT_KEYS = ("subject", "body", "remind_subject", "remind_body", "contact")
_OTHER_KEYS = ("retries", "retry_seconds", "remind_gap_hours")
MAIL_KEYS = frozenset(_SMTP_KEYS) | frozenset(_IMAP_KEYS) | frozenset(_TEXT_KEYS) | frozenset(_OTHER_KEYS)


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailSettings:
    smtp: SmtpSettings | None  # None: no server filled in (drafts still work)
    imap: ImapSettings | None
    subject: str
    body: str
    remind_subject: str
    remind_body: str
    contact: str
    sender: str
    sender_name: str
    retries: int = 3
    retry_seconds: float = 2.0
    remind_gap_hours: float = 24.0  # a unit is reminded at most once in this many hours


def mail_settings(campaign: Campaign) -> MailSettings:
    """The [mail] table of campaign.toml, checked; each problem is one Chinese line."""
    from nianbao.campaign.init import DEFAULT_BODY, DEFAULT_REMIND_BODY, DEFAULT_REMIND_SUBJECT, DEFAULT_SUBJECT

    where = f"{campaign.dir / 'campaign.toml'} 的 [mail]"
    table = campaign.settings.get("mail", {})
    if not isinstance(table, dict):
        raise NianbaoError(f"{where} 应是一个设置表")
    unknown = sorted(set(table) - MAIL_KEYS)
    if unknown:
        raise NianbaoError(f"{where} 中的设置项无法识别：{'、'.join(unknown)}")
    if "password" in {k.lower() for k in table}:
        raise NianbaoError(f"{where} 中不能写密码：请用环境变量 password_env")

    def pick(keys: dict[str, str]) -> dict[str, object]:
        picked = {target: table[key] for key, target in keys.items() if key in table and table[key] != ""}
        if isinstance(picked.get("ca_file"), str):  # a relative path is read from the campaign folder
            picked["ca_file"] = str(campaign.dir / Path(picked["ca_file"]).expanduser())
        return picked

    smtp_table = pick(_SMTP_KEYS)
    smtp = SmtpSettings.from_mapping(smtp_table, where) if smtp_table.get("host") else None
    imap_table = pick(_IMAP_KEYS)
    imap_table.setdefault("user", str(table.get("user", "")))
    imap_table.setdefault("password_env", str(table.get("password_env", "NIANBAO_MAIL_PASSWORD")))
    imap = ImapSettings.from_mapping(imap_table, where + "（imap_…）") if imap_table.get("host") else None
    try:
        retries = int(table.get("retries", 3))
        retry_seconds = float(table.get("retry_seconds", 2.0))
        gap = float(table.get("remind_gap_hours", 24))
    except (TypeError, ValueError):
        raise NianbaoError(f"{where} 的 retries 应为次数、retry_seconds 应为秒数、remind_gap_hours 应为小时数") from None
    sender = str(table.get("sender") or table.get("user") or "")
    sender_name = str(table.get("sender_name", ""))
    contact = str(table.get("contact") or " ".join(x for x in (sender_name, sender) if x))
    return MailSettings(smtp, imap, str(table.get("subject") or DEFAULT_SUBJECT), str(table.get("body") or DEFAULT_BODY),
                        str(table.get("remind_subject") or DEFAULT_REMIND_SUBJECT),
                        str(table.get("remind_body") or DEFAULT_REMIND_BODY), contact, sender, sender_name,
                        max(0, retries), max(0.0, retry_seconds), max(0.0, gap))


# ----------------------------------------------------------------------------- reports


@dataclass
class UnitSend:
    code: str
    name: str
    email: str
    outcome: str  # sent | failed | skipped | draft | no_email
    message_id: str = ""
    detail: str = ""  # Chinese, for the coordinator
    path: str = ""  # the .eml written (sent/ or outbox/), relative to the campaign folder
    attempts: int = 0


@dataclass
class SendReport:
    kind: str
    units: list[UnitSend] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for u in self.units if u.outcome == outcome)

    @property
    def failed(self) -> list[UnitSend]:
        return [u for u in self.units if u.outcome in ("failed", "no_email")]

    def to_json(self) -> dict:
        return {"kind": self.kind,
                "counts": {k: self.count(k) for k in ("sent", "failed", "skipped", "draft", "no_email")},
                "units": [asdict(u) for u in self.units]}


@dataclass
class _Plan:
    code: str
    name: str
    email: str
    subject: str
    body: str
    attachments: list[Attachment]

    @property
    def digest(self) -> str:
        """What the message says: equal digests mean the unit already got this very message.

        Workbooks count by name only: an annotated workbook is rebuilt on every run and its
        bytes differ (timestamps) while saying the same; what it says is in the problem list,
        a text attachment, which counts by content.
        """
        h = hashlib.sha256()
        for piece in (self.email, self.subject, self.body):
            h.update(piece.encode("utf-8") + b"\0")
        for att in self.attachments:
            h.update(att.filename.encode("utf-8") + b"\0")
            if att.maintype == "text":
                h.update(hashlib.sha256(att.data).digest())
        return h.hexdigest()


# ----------------------------------------------------------------------------- sending


def send_templates(campaign_dir: Path, units: list[str] | None = None, drafts: bool = False, resend: bool = False,
                   *, password: str | None = None, interactive: bool = False,
                   progress: Callable[[UnitSend], None] | None = None) -> SendReport:
    """Send every unit (or ``units``) its template; ``drafts`` writes .eml files to outbox/ instead."""
    with open_campaign(campaign_dir) as campaign:
        settings = mail_settings(campaign)
        plans = []
        for unit in _chosen_units(campaign, units):
            template = campaign.dir / unit["template"]
            if not template.is_file():
                raise NianbaoError(f"找不到单位 {unit['code']} 的模板 {template}：请勿移动 outbox/ 中的文件")
            fields = _fields(campaign, settings, unit)
            plans.append(_Plan(unit["code"], unit["name"], unit["email"],
                               _one_line(render(settings.subject, fields, where="[mail] subject")),
                               render(settings.body, fields, where="[mail] body"),
                               [Attachment(report_filename(unit["name"], campaign.year), template.read_bytes())]))
        return _deliver(campaign, settings, TEMPLATE, plans, drafts, resend, password, interactive, progress)


def remind(campaign_dir: Path, units: list[str] | None = None, drafts: bool = False, resend: bool = False,
           *, password: str | None = None, interactive: bool = False,
           progress: Callable[[UnitSend], None] | None = None) -> SendReport:
    """Mail every unit that is missing or has errors its feedback (problem list and workbook).

    The feedback is rebuilt first by the campaign's own :func:`~nianbao.campaign.feedback.feedback`.
    A unit that already got the very same reminder is skipped unless ``resend``.
    """
    from nianbao.campaign.feedback import MESSAGE_NAME, feedback

    result = feedback(campaign_dir)
    with open_campaign(campaign_dir) as campaign:
        settings = mail_settings(campaign)
        chosen = {u["code"] for u in _chosen_units(campaign, units)}
        plans = []
        for fb in result.units:
            if fb.code not in chosen:
                continue
            unit = campaign.ledger.unit(fb.code)
            fields = _fields(campaign, settings, unit, problems=_problems_text(fb.message, fb.name))
            folder = result.dir / fb.code
            attachments = [Attachment(report_filename(fb.name, campaign.year, "标注问题" if fb.annotated else "填报模板"),
                                      path.read_bytes()) for path in fb.attachments]
            problems = folder / MESSAGE_NAME
            attachments.append(Attachment(report_filename(fb.name, campaign.year, "问题清单", "txt"),
                                          problems.read_bytes(), "text", "plain", "utf-8"))
            plans.append(_Plan(fb.code, fb.name, fb.email,
                               _one_line(render(settings.remind_subject, fields, where="[mail] remind_subject")),
                               render(settings.remind_body, fields, where="[mail] remind_body"), attachments))
        return _deliver(campaign, settings, REMIND, plans, drafts, resend, password, interactive, progress)


def _deliver(campaign: Campaign, settings: MailSettings, kind: str, plans: list[_Plan], drafts: bool, resend: bool,
             password: str | None, interactive: bool, progress: Callable[[UnitSend], None] | None) -> SendReport:
    report = SendReport(kind)

    def done(item: UnitSend) -> None:
        report.units.append(item)
        if progress is not None:
            progress(item)

    if not drafts and settings.smtp is None and any(p.email for p in plans):
        raise NianbaoError(f"{campaign.dir / 'campaign.toml'} 的 [mail] 没有填写发信服务器 host："
                           f"请先填写，或用 --drafts 只写出邮件草稿")
    if not settings.sender:
        raise NianbaoError(f"{campaign.dir / 'campaign.toml'} 的 [mail] 没有填写发件人地址 sender（和发件人名称 "
                           f"sender_name）：请先填写，邮件草稿也需要，单位才能回复到你的邮箱")
    if drafts:
        for plan in plans:
            if not plan.email:
                done(UnitSend(plan.code, plan.name, "", "no_email", detail="单位名单中没有邮箱，未写出邮件"))
                continue
            out = _outgoing(settings, plan)
            path = campaign.dir / OUTBOX / f"{plan.code}_{campaign.year}_{'下发' if kind == TEMPLATE else '提醒'}邮件.eml"
            _write_atomic(path, out.data)
            done(UnitSend(plan.code, plan.name, plan.email, "draft", out.message_id, "已写出邮件草稿",
                          _rel(campaign, path)))
        return report
    with _send_lock(campaign.dir):
        sender: SmtpSender | None = None
        try:
            for plan in plans:
                if not plan.email:
                    done(UnitSend(plan.code, plan.name, "", "no_email", detail="单位名单中没有邮箱，未发送"))
                    continue
                history = _history(campaign.ledger, plan.code, kind)
                skip = None if resend else _already_sent(history, kind, plan)
                if skip is not None:
                    done(UnitSend(plan.code, plan.name, plan.email, "skipped", skip["message_id"],
                                  f"已于 {campaign.local(skip['sent_at'])} 发送过，跳过（重发请加 --resend）"))
                    continue
                recent = None if resend or kind != REMIND else _too_soon(history, settings.remind_gap_hours)
                if recent is not None:
                    done(UnitSend(plan.code, plan.name, plan.email, "skipped", recent["message_id"],
                                  f"{campaign.local(recent['sent_at'])} 刚提醒过，两次提醒至少间隔 "
                                  f"{settings.remind_gap_hours:g} 小时（立即再发请加 --resend）"))
                    continue
                if sender is None:  # connect before writing anything, so a wrong password leaves no trace
                    assert settings.smtp is not None
                    smtp = settings.smtp
                    secret = password
                    if secret is None and smtp.user:  # no user: a relay that takes mail without login
                        secret = resolve_password(smtp.password_env, server=smtp.server, user=smtp.user,
                                                  interactive=interactive)
                    sender = SmtpSender(smtp, secret, retries=settings.retries, backoff=settings.retry_seconds)
                    sender.open()
                out, path = _interrupted(campaign, history, plan) or _prepare(campaign, settings, kind, plan)
                detail = {"eml": _rel(campaign, path), "digest": plan.digest, "to": plan.email}
                campaign.ledger.record_send(plan.code, kind, SENDING, out.message_id, json.dumps(detail))
                result = sender.send(out.data, out.recipients)
                detail.update(attempts=result.attempts, error=result.detail)
                campaign.ledger.record_send(plan.code, kind, SENT if result.ok else FAILED, out.message_id,
                                            json.dumps(detail, ensure_ascii=False))
                done(UnitSend(plan.code, plan.name, plan.email, "sent" if result.ok else "failed", out.message_id,
                              "已发送" if result.ok else result.detail, _rel(campaign, path), result.attempts))
        finally:
            if sender is not None:
                sender.close()
    return report


def _outgoing(settings: MailSettings, plan: _Plan) -> Outgoing:
    return compose(sender=settings.sender, sender_name=settings.sender_name, to=addresses(plan.email), to_name=plan.name,
                   subject=plan.subject, body=plan.body, attachments=plan.attachments)


def _prepare(campaign: Campaign, settings: MailSettings, kind: str, plan: _Plan) -> tuple[Outgoing, Path]:
    out = _outgoing(settings, plan)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    token = hashlib.sha256(out.message_id.encode()).hexdigest()[:8]
    path = campaign.dir / SENT_DIR / f"{plan.code}_{kind}_{stamp}_{token}.eml"
    _write_atomic(path, out.data)
    return out, path


def _interrupted(campaign: Campaign, history: list, plan: _Plan) -> tuple[Outgoing, Path] | None:
    """The message of a send that was cut off mid-way (latest row ``sending``), to resend as is."""
    if not history or history[-1]["result"] != SENDING:
        return None
    try:
        detail = json.loads(history[-1]["detail"])
    except ValueError:
        return None
    path = campaign.dir / str(detail.get("eml", ""))
    if detail.get("digest") != plan.digest or not path.is_file() or campaign.dir.resolve() not in path.resolve().parents:
        return None  # the unit's message changed since (or the copy is gone): compose anew
    return Outgoing(history[-1]["message_id"], "", tuple(addresses(plan.email)), plan.subject, path.read_bytes()), path


def _too_soon(history: list, gap_hours: float):
    """The last reminder actually sent, if it went out less than ``gap_hours`` ago."""
    sent = [row for row in history if row["result"] == SENT]
    if not sent or gap_hours <= 0:
        return None
    last = dt.datetime.fromisoformat(sent[-1]["sent_at"])
    now_ = dt.datetime.now(last.tzinfo) if last.tzinfo else dt.datetime.now()
    return sent[-1] if now_ - last < dt.timedelta(hours=gap_hours) else None


def _already_sent(history: list, kind: str, plan: _Plan):
    """The row that makes this send unnecessary, or None.

    A template goes once. A reminder goes again only when what it says has changed.
    """
    for row in reversed(history):
        if row["result"] != SENT:
            continue
        if kind == TEMPLATE:
            return row
        try:
            if json.loads(row["detail"]).get("digest") == plan.digest:
                return row
        except ValueError:
            continue
    return None


def _history(ledger: Ledger, code: str, kind: str) -> list:
    return ledger.db.execute("SELECT * FROM sends WHERE unit_code = ? AND kind = ? ORDER BY id",
                             (code, kind)).fetchall()


def _chosen_units(campaign: Campaign, codes: list[str] | None) -> list:
    units = campaign.ledger.units()
    if not codes:
        return units
    known = {u["code"] for u in units}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise NianbaoError(f"单位编码不在本次任务的名单中：{'、'.join(unknown)}")
    wanted = set(codes)
    return [u for u in units if u["code"] in wanted]


def _fields(campaign: Campaign, settings: MailSettings, unit, problems: str = "") -> dict[str, object]:
    deadline = (f"{campaign.deadline.year}年{campaign.deadline.month}月{campaign.deadline.day}日"
                if campaign.deadline else "通知要求的时间")
    return {"year": campaign.year, "unit_name": unit["name"], "unit_code": unit["code"],
            "unit_contact": unit["contact"], "deadline": deadline, "contact": settings.contact,
            "sender_name": settings.sender_name, "title": campaign.title, "problems": problems}


def _problems_text(message: str, name: str) -> str:
    """The feedback letter without its salutation line: the reminder template has its own."""
    lines = message.strip("\n").splitlines()
    if lines and lines[0].strip() == f"{name}：":
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _rel(campaign: Campaign, path: Path) -> str:
    return path.relative_to(campaign.dir).as_posix()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _send_lock(directory: Path) -> CampaignLock:
    """One send/remind at a time per campaign: two at once would mail units twice."""
    directory = Path(directory)
    return CampaignLock(directory / SEND_LOCK, f"另一个 nianbao campaign send/remind 正在给 {directory} 的单位发信，"
                                               "请等它结束后再运行")


# ----------------------------------------------------------------------------- fetching


class LedgerUidStore:
    """IMAP positions in the ledger's meta table (key ``imap:<account>/<folder>``)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def load(self, key: str) -> tuple[int, int] | None:
        value = self.ledger.meta().get(f"imap:{key}")
        if not value:
            return None
        validity, _, last = value.partition(" ")
        return int(validity), int(last)

    def save(self, key: str, uidvalidity: int, last_uid: int) -> None:
        with self.ledger.transaction() as db:
            self.ledger.set_meta(db, **{f"imap:{key}": f"{uidvalidity} {last_uid}"})


@dataclass
class FetchResult:
    fetch: FetchReport
    collect: CollectReport


def collect_imap(campaign_dir: Path, *, password: str | None = None, interactive: bool = False,
                 progress: Callable[[ItemOutcome], None] | None = None) -> FetchResult:
    """Fetch new messages from the IMAP folder and collect them like files (``campaign fetch``)."""
    with open_campaign(campaign_dir) as campaign, collect_lock(campaign.dir):
        settings = mail_settings(campaign).imap
        if settings is None:
            raise NianbaoError(f"{campaign.dir / 'campaign.toml'} 的 [mail] 没有填写收信服务器 imap_host")
        secret = password if password is not None else resolve_password(
            settings.password_env, server=settings.server, user=settings.user, interactive=interactive)
        store = LedgerUidStore(campaign.ledger)
        collected = CollectReport()

        def handle(message) -> None:
            key = f"imap:{settings.state_key}#{message.uidvalidity}:{message.uid}"
            where = f"邮箱 {settings.folder} 第 {message.uid} 封"
            if message.raw is None:
                items = [Received(f"{key}/none", where, "", now(), size=message.size, problem_code=MESSAGE_TOO_LARGE,
                                  problem=f"邮件过大（{message.size // (1024 * 1024)} MB），未下载")]
            else:
                items = list(items_from_message(message.raw, key, where))
            # workers=1: checked here, one message at a time, so the saved IMAP position never
            # runs ahead of what the ledger holds.
            collected.items.extend(collect_items(campaign, items, workers=1, progress=progress).items)

        report = fetch_new(settings, secret, store, handle)
        return FetchResult(report, collected)


__all__ = ["FetchResult", "LedgerUidStore", "MAIL_KEYS", "MailSettings", "SendReport", "UnitSend", "collect_imap",
           "mail_settings", "remind", "send_templates"]

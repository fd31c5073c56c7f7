"""Review states: what became of every received file, and where every unit stands.

The state words are defined here once; the CLI, ``status.xlsx``, the letters to units, the
merge notes and the web desk all show these and no others:

============  ===================================================================================
未提交         nothing from the unit has arrived
已收到         a file arrived (the first event of every file; shown in histories)
有错误         the unit's latest version has errors
仅有警告       … only warnings
无问题         … no findings
已确认         the coordinator accepted the version (merge uses accepted versions)
已退回         the coordinator returned it, with a reason
已重新报送     a new version arrived after a version of the unit was returned (not yet decided)
待核实         a file is held: the template inside belongs to another unit than the sender's
               registered address; it counts for nobody until the coordinator assigns it
已收到·无法使用  the unit's mail arrived but its file cannot be read as this round's template
               (.xls, .zip, encrypted, a photo, an old or foreign template…), with the reason
============  ===================================================================================

Attribution of one received file (a *receipt*; its ledger id is the 文件编号 people use):

1. the coordinator's latest ``assign`` of that file, if any;
2. else the unit identified from inside the file (campaign token) — unless the mail came from
   the registered address of other unit(s) only: then it is held as 待核实 (both units shown);
3. else, for a file that is not a usable template, the one unit whose registered address sent
   it (已收到·无法使用 for that unit); files from unknown or shared addresses stay unassigned.

A unit's state is its latest usable version's review state (无问题 becomes 仅有警告 when a
narrative part is nearly identical to another unit's, see :mod:`nianbao.campaign.similar`); without one, 待核实 if a file it
sent is held, 已收到·无法使用 if only unusable files came, else 未提交. Decisions belong to a
version (content hash), so they survive re-collect and re-check; a new version restarts the cycle.

Stable API (the web desk builds on these; all take an open :class:`~nianbao.campaign.folder.Campaign`):

* ``unit_states(campaign, today=None) -> list[UnitState]`` and ``unit_state(campaign, code)``
* ``unit_history(campaign, code) -> list[HistoryEvent]`` — the unit's timeline, oldest first
* ``files(campaign) -> list[FileRecord]``; ``unassigned_files(campaign)`` — held or unknown-sender
  files; ``file_record(campaign, file_id)``
* ``assign_file(campaign, file_id, unit_code, actor="", reason="") -> FileRecord``
* ``accept(campaign, unit_code, actor="", note="", force=False) -> UnitState``
* ``reject(campaign, unit_code, reason, actor="") -> UnitState``
* ``unit_versions(campaign, code) -> list[VersionRecord]``; ``latest_accepted`` /
  ``latest_valid(campaign, code) -> VersionRecord | None``

Who: ``actor`` is the coordinator's name as the caller knows it (the CLI passes the login
name, the desk its user); when is the ledger's clock; why is ``reason``. Everything is in the
ledger's ``reviews`` table, and states are recomputed from the ledger on every call.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sqlite3
from dataclasses import asdict, dataclass, field

from nianbao.campaign.folder import Campaign
from nianbao.campaign.similar import near_copies
from nianbao.errors import NianbaoError
from nianbao.read.package import CODES

MISSING = "未提交"
RECEIVED = "已收到"
ERRORS = "有错误"
WARNINGS = "仅有警告"
PASSED = "无问题"
ACCEPTED = "已确认"
RETURNED = "已退回"
RESUBMITTED = "已重新报送"
HELD = "待核实"
UNUSABLE = "已收到·无法使用"
#: Unit states in the order boards count them.
STATES = (MISSING, UNUSABLE, HELD, ERRORS, WARNINGS, PASSED, RESUBMITTED, RETURNED, ACCEPTED)
#: Every word a file or event may carry.
WORDS = STATES + (RECEIVED,)
CHECKED = {"errors": ERRORS, "warnings": WARNINGS, "passed": PASSED}
#: States a unit must act on (letters go to these).
NEEDS_ACTION = (MISSING, UNUSABLE, HELD, ERRORS, RETURNED)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a service account): still record the action
        return ""


@dataclass(frozen=True)
class VersionRecord:
    """One distinct workbook content counted for a unit."""

    id: int
    sha256: str
    unit_code: str  # the unit it counts for (the file's own unit, or the one it was assigned to)
    file_unit: str  # the unit identified from inside the file
    status: str  # errors | warnings | passed
    state: str  # its review state word
    errors: int
    warnings: int
    received_at: str
    values_json: str
    decision: str | None  # accept | reject | None
    decided_by: str
    decided_at: str | None
    reason: str


@dataclass(frozen=True)
class FileRecord:
    """One received item (an attachment, a file in a folder, a mail without attachment)."""

    id: int  # 文件编号
    received_at: str
    sender: str
    subject: str
    name: str  # attachment or file name (display only)
    source: str
    sha256: str | None
    version_id: int | None
    file_unit: str | None  # the unit named inside the file (identified by token)
    sender_units: tuple[str, ...]  # units whose registered address sent it
    unit_code: str | None  # the unit it counts for; None when held or unassigned
    how: str  # file | sender | assigned | held | unknown
    state: str
    problem_code: str | None
    problem: str
    assigned_by: str = ""
    assigned_at: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HistoryEvent:
    at: str  # ISO time (campaign.local(at) for people)
    state: str  # a state word
    text: str  # one Chinese line for people
    actor: str = ""
    reason: str = ""
    file_id: int | None = None
    version_id: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CopyNote:
    part: str  # narrative id
    title: str  # the part's title, as the template shows it
    other: str  # the other unit's code (never shown to the unit itself)
    other_name: str
    ratio: float


@dataclass
class UnitState:
    code: str
    name: str
    parent: str
    email: str
    state: str
    versions: int
    latest_at: str | None  # ISO: the latest file received from or for the unit
    timeliness: str  # 按时 | 逾期 | 逾期未交 | 未到期 | "" (no deadline)
    errors: int
    warnings: int
    latest_sha256: str | None
    latest_version_id: int | None
    decision: str | None  # accept | reject | None (for the latest version)
    reason: str  # the decision's reason, or why the unit's file is unusable / held
    decided_by: str = ""
    decided_at: str | None = None
    check_state: str = ""  # 有错误 / 仅有警告 / 无问题 of the latest version, whatever was decided
    held: list[FileRecord] = field(default_factory=list)  # files held as 待核实 that involve the unit
    unusable: list[FileRecord] = field(default_factory=list)  # its unusable files, oldest first
    #: narrative parts nearly identical to another unit's (``other`` is for the coordinator only)
    copies: list[CopyNote] = field(default_factory=list)

    def to_json(self) -> dict:
        out = asdict(self)
        return out


# ----------------------------------------------------------------------------- one snapshot

#: near copies by the round's latest versions ((code, sha256) pairs): content-addressed, so a
#: cached answer is never stale; a few rounds are kept (the desk reads the same round repeatedly)
_COPIES: dict[tuple, list] = {}


class _Round:
    """Everything the states are computed from, read once from the ledger."""

    def __init__(self, campaign: Campaign) -> None:
        db = campaign.ledger.db
        self.campaign = campaign
        self.units = db.execute("SELECT * FROM units ORDER BY position").fetchall()
        self.by_code = {u["code"]: u for u in self.units}
        self.versions = {v["sha256"]: v for v in db.execute("SELECT * FROM versions ORDER BY received_at, id")}
        self.version_by_id = {v["id"]: v for v in self.versions.values()}
        self.receipts = db.execute("SELECT * FROM receipts ORDER BY received_at, id").fetchall()
        self.reviews = db.execute("SELECT * FROM reviews ORDER BY id").fetchall()
        self.decision: dict[int, sqlite3.Row] = {}
        self.assignment: dict[int, sqlite3.Row] = {}
        for r in self.reviews:
            if r["action"] == "assign":
                self.assignment[r["receipt_id"]] = r
            else:
                self.decision[r["version_id"]] = r
        self.files = [self._file(r) for r in self.receipts]
        self.unit_versions: dict[str, list[sqlite3.Row]] = {u["code"]: [] for u in self.units}
        for f in self.files:
            v = self.version_by_id.get(f.version_id) if f.version_id else None
            if f.unit_code and v is not None and v["unit_code"] is not None:
                listed = self.unit_versions[f.unit_code]
                if all(x["id"] != v["id"] for x in listed):
                    listed.append(v)
        for listed in self.unit_versions.values():
            listed.sort(key=lambda v: (v["received_at"], v["id"]))
        self.copies = self._copies(campaign)

    def _copies(self, campaign: Campaign) -> dict[str, list[CopyNote]]:
        """Near-identical narratives between units' latest versions (warnings on both)."""
        latest = tuple((code, listed[-1]["sha256"]) for code, listed in self.unit_versions.items() if listed)
        found = _COPIES.get(latest)
        if found is None:  # the comparison only changes when some unit's latest version does
            versions = {code: v for code, listed in self.unit_versions.items() if listed for v in listed[-1:]}
            found = near_copies({code: json.loads(v["narratives_json"] or "{}") for code, v in versions.items()})
            if len(_COPIES) >= 8:
                _COPIES.pop(next(iter(_COPIES)))
            _COPIES[latest] = found
        titles = {n.id: n.title for n in campaign.format.narratives}
        out: dict[str, list[CopyNote]] = {}
        for c in found:
            title = titles.get(c.part, c.part)
            out.setdefault(c.a, []).append(CopyNote(c.part, title, c.b, self.name(c.b), c.ratio))
            out.setdefault(c.b, []).append(CopyNote(c.part, title, c.a, self.name(c.a), c.ratio))
        return out

    def _file(self, r: sqlite3.Row) -> FileRecord:
        v = self.versions.get(r["sha256"]) if r["sha256"] else None
        senders = tuple(c for c in (r["sender_units"] or "").split(",") if c)
        assigned = self.assignment.get(r["id"])
        usable = v is not None and v["unit_code"] is not None
        file_unit = v["unit_code"] if usable else None
        if assigned is not None:
            unit, how = assigned["unit_code"], "assigned"
        elif usable and senders and file_unit not in senders:
            unit, how = None, "held"
        elif usable:
            unit, how = file_unit, "file"
        elif len(senders) == 1:
            unit, how = senders[0], "sender"
        else:
            unit, how = None, "unknown"
        if how == "held":
            state = HELD
        elif usable and unit is not None:
            state = CHECKED[v["status"]]
        else:
            state = UNUSABLE
        problem_code = (v["problem_code"] if v is not None else r["problem_code"]) if not usable else None
        problem = (v["problem"] if v is not None else r["problem"]) if not usable else ""
        if how == "held":
            problem = self.held_text(senders, file_unit)
        return FileRecord(r["id"], r["received_at"], r["sender"], r["subject"], r["name"], r["source"], r["sha256"],
                          v["id"] if v is not None else None, file_unit, senders, unit, how, state, problem_code,
                          problem or "", assigned["actor"] if assigned else "", assigned["at"] if assigned else None)

    def name(self, code: str | None) -> str:
        unit = self.by_code.get(code or "")
        return unit["name"] if unit is not None else (code or "")

    def held_text(self, senders: tuple[str, ...], file_unit: str | None) -> str:
        who = "、".join(self.name(c) for c in senders)
        return (f"由{who}的登记邮箱发来，但文件中是{self.name(file_unit)}的模板：待协调人核实后指定单位，"
                f"核实前不计入任何单位")

    def version_record(self, code: str, v: sqlite3.Row, earlier_returned: bool) -> VersionRecord:
        d = self.decision.get(v["id"])
        if d is not None:
            state = ACCEPTED if d["action"] == "accept" else RETURNED
        else:
            state = RESUBMITTED if earlier_returned else CHECKED[v["status"]]
        return VersionRecord(v["id"], v["sha256"], code, v["unit_code"], v["status"], state, v["errors"],
                             v["warnings"], v["received_at"], v["values_json"], d["action"] if d else None,
                             d["actor"] if d else "", d["at"] if d else None, d["reason"] if d else "")

    def versions_of(self, code: str) -> list[VersionRecord]:
        out: list[VersionRecord] = []
        returned = False
        for v in self.unit_versions.get(code, []):
            record = self.version_record(code, v, returned)
            returned = returned or record.decision == "reject"
            out.append(record)
        return out

    def state_of(self, unit: sqlite3.Row, today: dt.date) -> UnitState:
        code = unit["code"]
        versions = self.versions_of(code)
        latest = versions[-1] if versions else None
        held = [f for f in self.files if f.how == "held" and (code in f.sender_units or f.file_unit == code)]
        unusable = [f for f in self.files if f.unit_code == code and f.state == UNUSABLE]
        mine = [f for f in self.files if f.unit_code == code or (f.how == "held" and code in f.sender_units)]
        copies = self.copies.get(code, [])
        if latest is not None:
            state, reason = latest.state, latest.reason
            if state == PASSED and copies:  # a round-level warning: the version is no longer 无问题
                state = WARNINGS
        elif any(code in f.sender_units for f in held):
            state, reason = HELD, next(f.problem for f in held if code in f.sender_units)
        elif unusable:
            state, reason = UNUSABLE, unusable[-1].problem
        else:
            state, reason = MISSING, ""
        latest_at = max((f.received_at for f in mine), default=None)
        return UnitState(
            code=code, name=unit["name"], parent=unit["parent"] or "", email=unit["email"], state=state,
            versions=len(versions), latest_at=latest_at,
            timeliness=_timeliness(self.campaign, latest_at, today),
            errors=latest.errors if latest else 0, warnings=(latest.warnings + len(copies)) if latest else 0,
            latest_sha256=latest.sha256 if latest else None, latest_version_id=latest.id if latest else None,
            decision=latest.decision if latest else None, reason=reason,
            decided_by=latest.decided_by if latest else "", decided_at=latest.decided_at if latest else None,
            check_state=CHECKED[latest.status] if latest else "", held=held, unusable=unusable, copies=copies)


def _timeliness(campaign: Campaign, received: str | None, today: dt.date) -> str:
    deadline = campaign.deadline
    if deadline is None:
        return ""
    if received is None:
        return "逾期未交" if today > deadline else "未到期"
    moment = dt.datetime.fromisoformat(received)
    local = (moment.astimezone(campaign.tz) if moment.tzinfo else moment).date()
    return "按时" if local <= deadline else "逾期"


# ----------------------------------------------------------------------------- reading


def unit_states(campaign: Campaign, today: dt.date | None = None) -> list[UnitState]:
    """Every unit's state, in unit-list order."""
    snap = _Round(campaign)
    today = today or campaign.today()
    return [snap.state_of(u, today) for u in snap.units]


def unit_state(campaign: Campaign, code: str, today: dt.date | None = None) -> UnitState:
    snap = _Round(campaign)
    return snap.state_of(_unit(snap, code), today or campaign.today())


def unit_versions(campaign: Campaign, code: str) -> list[VersionRecord]:
    """The versions counted for a unit, oldest first, each with its review state."""
    snap = _Round(campaign)
    _unit(snap, code)
    return snap.versions_of(code)


def latest_accepted(campaign: Campaign, code: str) -> VersionRecord | None:
    """The unit's most recent version whose latest decision is accept."""
    return next((v for v in reversed(unit_versions(campaign, code)) if v.decision == "accept"), None)


def latest_valid(campaign: Campaign, code: str) -> VersionRecord | None:
    """The unit's most recent version without errors that the coordinator has not returned."""
    return next((v for v in reversed(unit_versions(campaign, code)) if v.errors == 0 and v.decision != "reject"),
                None)


def files(campaign: Campaign) -> list[FileRecord]:
    """Every received item, oldest first, with its attribution and state."""
    return _Round(campaign).files


def unassigned_files(campaign: Campaign) -> list[FileRecord]:
    """Files counted for no unit: held (待核实) or from an unknown or shared address."""
    return [f for f in files(campaign) if f.unit_code is None]


def file_record(campaign: Campaign, file_id: int) -> FileRecord:
    for f in files(campaign):
        if f.id == file_id:
            return f
    raise NianbaoError(f"登记簿中没有编号为 {file_id} 的文件：请用 nianbao campaign files 查看文件编号")


def unit_history(campaign: Campaign, code: str) -> list[HistoryEvent]:
    """The unit's timeline: files received from or for it, their checks, held files, and every
    coordinator action (assign, accept, return), oldest first."""
    snap = _Round(campaign)
    _unit(snap, code)
    events: list[tuple[str, int, HistoryEvent]] = []
    ordered = snap.versions_of(code)
    ever_returned = {r["version_id"] for r in snap.reviews if r["action"] == "reject"}
    # a version that came after a returned one was a resubmission, whatever was decided on it since
    resubmitted = {v.id for i, v in enumerate(ordered) if any(w.id in ever_returned for w in ordered[:i])}
    seen_versions: set[int] = set()
    for f in snap.files:
        involved = f.unit_code == code or (f.how == "held" and (code in f.sender_units or f.file_unit == code))
        if not involved and not any(r["receipt_id"] == f.id and r["unit_code"] == code for r in snap.reviews):
            continue
        sender = f"，发件人 {f.sender}" if f.sender else ""
        name = f"“{f.name}”" if f.name else "一封没有附件的邮件"
        events.append((f.received_at, 0, HistoryEvent(f.received_at, RECEIVED, f"收到文件 {f.id}：{name}{sender}",
                                                      file_id=f.id, version_id=f.version_id)))
        if f.how == "held":
            events.append((f.received_at, 1, HistoryEvent(f.received_at, HELD, f"文件 {f.id}{f.problem}",
                                                          file_id=f.id, version_id=f.version_id)))
        elif f.state == UNUSABLE:
            events.append((f.received_at, 1, HistoryEvent(f.received_at, UNUSABLE, f"文件 {f.id} 无法使用：{f.problem}",
                                                          reason=f.problem, file_id=f.id)))
        elif f.version_id is not None and f.version_id not in seen_versions and f.unit_code == code:
            seen_versions.add(f.version_id)
            v = snap.version_by_id[f.version_id]
            counts = f"（错误 {v['errors']} 处，警告 {v['warnings']} 处）" if v["errors"] or v["warnings"] else ""
            events.append((f.received_at, 1, HistoryEvent(f.received_at, CHECKED[v["status"]],
                                                          f"文件 {f.id} 核对结果：{CHECKED[v['status']]}{counts}",
                                                          file_id=f.id, version_id=v["id"])))
            if v["id"] in resubmitted:
                events.append((f.received_at, 2, HistoryEvent(f.received_at, RESUBMITTED, "退回后重新报送",
                                                              file_id=f.id, version_id=v["id"])))
        elif f.version_id is not None and f.unit_code == code:
            events.append((f.received_at, 1, HistoryEvent(f.received_at, RECEIVED,
                                                          f"文件 {f.id} 与已收到的版本内容相同，未重复计入",
                                                          file_id=f.id, version_id=f.version_id)))
    for r in snap.reviews:
        if r["unit_code"] != code and not (r["action"] == "assign" and _was_for(snap, r, code)):
            continue
        who = f"（{r['actor']}）" if r["actor"] else ""
        why = f"：{r['reason']}" if r["reason"] else ""
        if r["action"] == "assign":
            target = snap.name(r["unit_code"])
            state = HELD if r["unit_code"] != code else RECEIVED
            text = f"协调人{who}把文件 {r['receipt_id']} 指定给{target}{why}"
        elif r["action"] == "accept":
            state, text = ACCEPTED, f"协调人{who}确认了该版本{why}"
        else:
            state, text = RETURNED, f"协调人{who}退回了该版本{why}"
        events.append((r["at"], 3, HistoryEvent(r["at"], state, text, r["actor"], r["reason"], r["receipt_id"],
                                                r["version_id"])))
    events.sort(key=lambda e: (_instant(e[0]), e[1]))
    return [e[2] for e in events]


def _was_for(snap: _Round, review: sqlite3.Row, code: str) -> bool:
    """Whether an assignment moved a file away from ``code`` (it stays in that unit's history)."""
    f = next((x for x in snap.files if x.id == review["receipt_id"]), None)
    return f is not None and (f.file_unit == code or code in f.sender_units)


def _instant(iso: str) -> float:
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _unit(snap: _Round, code: str) -> sqlite3.Row:
    unit = snap.by_code.get(code)
    if unit is None:
        raise NianbaoError(f"名单中没有编码为“{code}”的单位")
    return unit


# ----------------------------------------------------------------------------- acting


def assign_file(campaign: Campaign, file_id: int, unit_code: str, actor: str = "", reason: str = "") -> FileRecord:
    """Count a received file for ``unit_code`` (a held or unknown-sender file, or a correction);
    recorded in the ledger with who, when and why. Returns the file as it now stands."""
    snap = _Round(campaign)
    unit = _unit(snap, unit_code)
    record = next((f for f in snap.files if f.id == file_id), None)
    if record is None:
        raise NianbaoError(f"登记簿中没有编号为 {file_id} 的文件：请用 nianbao campaign files 查看文件编号")
    if record.sha256 is None:
        raise NianbaoError(f"文件 {file_id} 没有保存内容（{record.problem}），不能指定给单位")
    if record.unit_code == unit_code:
        raise NianbaoError(f"文件 {file_id} 已经计入{unit['name']}（{unit_code}）")
    campaign.ledger.add_review("assign", unit_code, actor or default_actor(), reason.strip(), receipt_id=file_id)
    return file_record(campaign, file_id)


def accept(campaign: Campaign, unit_code: str, actor: str = "", note: str = "", force: bool = False) -> UnitState:
    """Accept the unit's latest version (merge uses accepted versions)."""
    state = unit_state(campaign, unit_code)
    if state.latest_version_id is None:
        raise NianbaoError(f"{state.name}（{unit_code}）还没有可用的报送版本（{state.state}），无法确认")
    if state.errors and not force:
        raise NianbaoError(f"{state.name}（{unit_code}）最新报送的版本有 {state.errors} 处错误，不能确认；"
                           f"确需确认请加 --force")
    campaign.ledger.add_review("accept", unit_code, actor or default_actor(), note.strip(),
                               version_id=state.latest_version_id)
    return unit_state(campaign, unit_code)


def reject(campaign: Campaign, unit_code: str, reason: str, actor: str = "") -> UnitState:
    """Return the unit's latest version with a reason (it goes into the unit's letter)."""
    if not reason.strip():
        raise NianbaoError("退回时必须写明理由（--reason）")
    state = unit_state(campaign, unit_code)
    if state.latest_version_id is None:
        raise NianbaoError(f"{state.name}（{unit_code}）还没有可用的报送版本（{state.state}），无法退回")
    campaign.ledger.add_review("reject", unit_code, actor or default_actor(), reason.strip(),
                               version_id=state.latest_version_id)
    return unit_state(campaign, unit_code)


def kind_text(problem_code: str | None) -> str:
    """What kind of file a FILE-* code means, for people."""
    return CODES.get(problem_code or "", "")


__all__ = ["ACCEPTED", "CHECKED", "CopyNote", "ERRORS", "FileRecord", "HELD", "HistoryEvent", "MISSING", "NEEDS_ACTION", "PASSED",
           "RECEIVED", "RESUBMITTED", "RETURNED", "STATES", "UNUSABLE", "UnitState", "VersionRecord", "WARNINGS",
           "WORDS", "accept", "assign_file", "default_actor", "file_record", "files", "kind_text", "latest_accepted",
           "latest_valid", "reject", "unassigned_files", "unit_history", "unit_state", "unit_states", "unit_versions"]

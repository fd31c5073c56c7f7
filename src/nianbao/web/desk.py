"""What the desk shows and does, as plain functions over the campaign library.

Every page reads through here and every action calls the same campaign function as the CLI
(collect, status, decide, feedback, remind, merge) — this module only gathers what a page needs
and turns uploads into the items collect already knows how to take. It never writes the ledger
itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao.campaign import review
from nianbao.campaign.collect import CollectReport, ItemOutcome, collect_items, collect_lock
from nianbao.campaign.folder import Campaign, open_campaign
from nianbao.campaign.ledger import finding_of
from nianbao.campaign.merge import MERGE_DIR
from nianbao.campaign.review import STATES, FileRecord, HistoryEvent, UnitState, VersionRecord
from nianbao.campaign.sources import Received, items_from_message
from nianbao.campaign.status import STATUS_FILE
from nianbao.errors import NianbaoError
from nianbao.findings import CODES, grouped, register_format
from nianbao.report.model import TableGrid, table_grid
from nianbao.rules import compute_derived

#: At most this many files in one drop (collect's own per-file limit applies to each).
MAX_UPLOAD_FILES = 300
SHA256 = re.compile(r"^[0-9a-f]{64}$")


# ----------------------------------------------------------------------------- overview


@dataclass
class Overview:
    title: str
    year: int
    deadline: dt.date | None
    days_left: int | None
    units: list[UnitState]
    parents: dict[str, str]  # code -> name of every unit that is someone's parent
    counts: dict[str, int]
    unassigned: list[FileRecord]  # held (待核实) or from an unknown address: counted for nobody
    names: dict[str, str]  # unit code -> name, for showing files' units
    received_days: list[tuple[dt.date, int]]  # versions received per local day
    top_findings: list[tuple[str, str, int]]  # (code, description, units with it)


def overview(directory: Path, today: dt.date | None = None) -> Overview:
    with open_campaign(directory) as campaign:
        register_format(campaign.format)  # rule ids read as their descriptions
        today = today or campaign.today()
        units = review.unit_states(campaign, today)
        names = {u.code: u.name for u in units}
        parents = {u.parent: names.get(u.parent, u.parent) for u in units if u.parent}
        return Overview(
            title=campaign.title, year=campaign.year, deadline=campaign.deadline,
            days_left=(campaign.deadline - today).days if campaign.deadline else None, units=units, parents=parents,
            counts={s: sum(1 for u in units if u.state == s) for s in STATES},
            unassigned=review.unassigned_files(campaign), names=names,
            received_days=_received_days(campaign),
            top_findings=_top_findings(campaign.ledger.db, [u.latest_sha256 for u in units if u.latest_sha256]))


def filter_units(units: list[UnitState], state: str = "", parent: str = "", overdue: bool = False,
                 q: str = "") -> list[UnitState]:
    q = q.strip()
    return [u for u in units
            if (not state or u.state == state) and (not parent or u.parent == parent)
            and (not overdue or u.timeliness in ("逾期", "逾期未交"))
            and (not q or q in u.name or q in u.code)]


def _received_days(campaign: Campaign) -> list[tuple[dt.date, int]]:
    """Files received per day in the campaign's time zone (every file, usable or not)."""
    days: Counter[dt.date] = Counter()
    for f in review.files(campaign):
        moment = dt.datetime.fromisoformat(f.received_at)
        days[(moment.astimezone(campaign.tz) if moment.tzinfo else moment).date()] += 1
    return sorted(days.items())


def _top_findings(db: sqlite3.Connection, shas: list[str], limit: int = 8) -> list[tuple[str, str, int]]:
    """The codes found in most units' latest versions."""
    if not shas:
        return []
    marks = ",".join("?" * len(shas))
    rows = db.execute(f"SELECT f.code, COUNT(DISTINCT v.id) FROM findings f JOIN versions v ON v.id = f.version_id "
                      f"WHERE v.sha256 IN ({marks}) GROUP BY f.code ORDER BY 2 DESC, 1 LIMIT ?", (*shas, limit))
    return [(code, CODES.get(code, ("", code))[1], n) for code, n in rows]


# ----------------------------------------------------------------------------- unit page


@dataclass
class UnitPage:
    status: UnitState
    unit: dict
    versions: list[VersionRecord]
    sources: dict[int, list[FileRecord]]  # version id -> the files that carried it
    history: list[HistoryEvent]
    findings_by_sheet: list[tuple[str, list[tuple[str, str, str]]]]  # sheet -> (severity, place, message)
    grids: list[TableGrid]
    marked: dict[str, str]  # cell id -> "error" | "warning"
    others: list[tuple[str, str]]  # (code, name) of every other unit, to assign a held file to
    sends: list[dict] = field(default_factory=list)


def unit_page(directory: Path, code: str) -> UnitPage:
    with open_campaign(directory) as campaign:
        ledger = campaign.ledger
        unit = ledger.unit(code)
        if unit is None:
            raise KeyError(code)
        register_format(campaign.format)
        status = review.unit_state(campaign, code)
        versions = review.unit_versions(campaign, code)
        sources: dict[int, list[FileRecord]] = {}
        for f in review.files(campaign):
            if f.version_id is not None and f.unit_code == code:
                sources.setdefault(f.version_id, []).append(f)
        latest = versions[-1] if versions else None
        findings = [finding_of(f) for f in ledger.findings(latest.id)] if latest is not None else []
        by_name = {c.name: c.id for c in campaign.format.cells.values()}
        marked: dict[str, str] = {}
        for f in findings:
            cell_id = by_name.get(f.name or "")
            if cell_id and marked.get(cell_id) != "error":
                marked[cell_id] = f.severity
        sheets: dict[str, list[tuple[str, str, str]]] = {}
        for first, place, message in grouped(findings):
            sheets.setdefault(first.sheet or "文件", []).append((first.severity, place, message))
        fmt = campaign.format
        values = _values(fmt, latest.values_json if latest else None)
        grids = [table_grid(fmt.tables[p.table], values) for p in fmt.parts if p.table] if latest else []
        sends = [{"kind": s["kind"], "at": campaign.local(s["sent_at"]), "result": s["result"], "detail": s["detail"]}
                 for s in ledger.db.execute("SELECT * FROM sends WHERE unit_code = ? ORDER BY id", (code,))]
        others = [(u["code"], u["name"]) for u in ledger.units()]
        return UnitPage(status, dict(unit), versions, sources, review.unit_history(campaign, code),
                        list(sheets.items()), grids, marked, others, sends)


def _values(fmt, values_json: str | None) -> dict[str, Decimal | None]:
    """The numbers of a version, totals computed as the template's formulas would."""
    if values_json is None:
        return {}
    values: dict[str, Decimal | None] = {}
    for k, v in json.loads(values_json).items():
        try:
            values[k] = None if v is None else Decimal(v)
        except ArithmeticError:
            values[k] = None
    return compute_derived(fmt, values)


# ----------------------------------------------------------------------------- receive


@dataclass
class Upload:
    """One dropped file, already spooled by the web server."""

    name: str
    size: int
    read: Callable[[], bytes]


def upload_items(uploads: Iterable[Upload], limit: int) -> list[Received]:
    """Dropped files → the items collect takes: an .eml gives its attachments (with sender and
    time, as from a mailbox); any other file is one item. A file over the limit is passed on
    with its size so collect refuses it unread, as it does for a folder."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    items: list[Received] = []
    for up in uploads:
        name = _display_name(up.name)
        where = f"网页上传：{name}"
        if up.size > limit:
            items.append(Received(f"desk:{name}:{up.size}:{now}", where, name, now, size=up.size))
            continue
        data = up.read()
        digest = hashlib.sha256(data).hexdigest()
        if name.lower().endswith(".eml"):
            items.extend(items_from_message(data, f"desk:{digest}", where, fallback_time=now))
        else:
            items.append(Received(f"desk:{digest}", where, name, now, size=len(data), data=data))
    return items


def _display_name(name: str) -> str:
    """A browser's file name, for display only: no folders, no control characters, bounded."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:120] or "（无名文件）"


def receive(directory: Path, items: list[Received], progress: Callable[[ItemOutcome], None] | None = None,
            workers: int | None = 1) -> CollectReport:
    """Run collect over dropped items under collect's own lock (a CLI collect and a drop never overlap)."""
    with open_campaign(directory) as campaign, collect_lock(campaign.dir):
        return collect_items(campaign, items, workers, progress)


@dataclass
class Outcome:
    """One dropped item as the coordinator reads it: what collect did, and where the file now counts."""

    name: str
    outcome: str  # collect's: new | duplicate | skipped | refused | unidentified
    state: str  # the review state word of the file ("" when collect skipped it)
    unit_code: str
    unit_name: str
    problem: str


def outcomes(directory: Path, report: CollectReport) -> list[Outcome]:
    with open_campaign(directory) as campaign:
        records = review.files(campaign)
        names = {u["code"]: u["name"] for u in campaign.ledger.units()}
    by_sha = {f.sha256: f for f in records if f.sha256}
    by_source = {(f.source, f.name): f for f in records}
    out = []
    for item in report.items:
        f = by_sha.get(item.sha256 or "") or by_source.get((item.source, item.name))
        if f is None or item.outcome == "skipped":
            out.append(Outcome(item.name, item.outcome, "", "", "", item.problem or ""))
            continue
        code = f.unit_code or ""
        out.append(Outcome(item.name or f.name, item.outcome, f.state, code, names.get(code, ""), f.problem))
    return out


# ----------------------------------------------------------------------------- review actions

#: Who acted, as the ledger records it: the desk's user is the login running the server.
DESK_ACTOR = "工作台"


def actor() -> str:
    name = review.default_actor()
    return f"{name}（{DESK_ACTOR}）" if name else DESK_ACTOR


def decide(directory: Path, code: str, decision: str, reason: str = "", force: bool = False) -> UnitState:
    """Accept or return the unit's latest version, exactly as ``campaign accept/reject``."""
    with open_campaign(directory) as campaign:
        if decision == "accept":
            return review.accept(campaign, code, actor(), reason, force)
        return review.reject(campaign, code, reason, actor())


def assign(directory: Path, file_id: int, code: str, reason: str = "") -> FileRecord:
    """Count a held or unknown-sender file for a unit, exactly as ``campaign assign``."""
    with open_campaign(directory) as campaign:
        return review.assign_file(campaign, file_id, code, actor(), reason)


# ----------------------------------------------------------------------------- answer


@dataclass
class Letter:
    code: str
    name: str
    email: str
    state: str
    message: str
    attachments: list[str]


def letters(directory: Path) -> list[Letter] | None:
    """The letters ``campaign feedback`` last wrote (None when it has not run yet)."""
    from nianbao.campaign.feedback import FEEDBACK_DIR, MANIFEST

    folder = Path(directory) / FEEDBACK_DIR
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise NianbaoError(f"{folder / MANIFEST} 已损坏：请重新生成反馈") from None
    out = []
    for u in manifest.get("units", []):
        message_path = (folder / u["message"]).resolve()
        text = message_path.read_text(encoding="utf-8") if folder.resolve() in message_path.parents else ""
        out.append(Letter(u["code"], u["name"], u["email"], u["state"], text,
                          [Path(a).name for a in u.get("attachments", [])]))
    return out


# ----------------------------------------------------------------------------- downloads


def original_path(directory: Path, sha256: str) -> tuple[Path, str] | None:
    """The stored file of a version by its hash (the only key a download accepts), with a name
    for it; None for anything that is not a stored file of this campaign."""
    if not SHA256.match(sha256):
        return None
    with open_campaign(directory) as campaign:
        row = campaign.ledger.db.execute("SELECT path, kind FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        record = next((f for f in review.files(campaign) if f.sha256 == sha256), None)
        unit = campaign.ledger.unit(record.unit_code) if record is not None and record.unit_code else None
        root = campaign.dir.resolve()
        path = (campaign.dir / row["path"]).resolve()
        if root not in path.parents or not path.is_file():
            return None
        label = unit["name"] if unit is not None else "未计入单位的文件"
        return path, f"{label}_{sha256[:8]}.{row['kind']}"


def output_files(directory: Path) -> dict[str, Path]:
    """Files the desk offers from the campaign's outputs: status.xlsx and what merge wrote."""
    directory = Path(directory)
    found = {STATUS_FILE: directory / STATUS_FILE}
    merged = directory / MERGE_DIR
    if merged.is_dir():
        for p in sorted(merged.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                found[p.name] = p
    return {name: p for name, p in found.items() if p.is_file()}


__all__ = ["Letter", "MAX_UPLOAD_FILES", "Outcome", "Overview", "outcomes", "UnitPage", "Upload", "assign", "decide", "filter_units", "letters", "original_path",
           "output_files", "overview", "receive", "unit_page", "upload_items"]

"""What the desk shows and does, as plain functions over the campaign library.

Every page reads through here and every action calls the same campaign function as the CLI
(collect, status, decide, feedback, remind, merge) — this module only gathers what a page needs
and turns uploads into the items collect already knows how to take. It never writes the ledger
itself.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao.campaign.collect import CollectReport, ItemOutcome, collect_items, collect_lock
from nianbao.campaign.init import Campaign, open_campaign
from nianbao.campaign.ledger import finding_of
from nianbao.campaign.merge import MERGE_DIR
from nianbao.campaign.sources import Received, items_from_message
from nianbao.campaign.status import STATES, STATUS_FILE, UnitStatus, latest_version, local_time, unit_statuses
from nianbao.errors import NianbaoError
from nianbao.findings import CODES, grouped, register_format
from nianbao.report.model import TableGrid, table_grid
from nianbao.template import compute_derived

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
    units: list[UnitStatus]
    parents: dict[str, str]  # code -> name of every unit that is someone's parent
    counts: dict[str, int]
    unidentified: list[dict]
    refused: list[dict]
    received_days: list[tuple[dt.date, int]]  # versions received per local day
    top_findings: list[tuple[str, str, int]]  # (code, description, units with it)

    @property
    def overdue(self) -> int:
        return sum(1 for u in self.units if u.timeliness in ("逾期", "逾期未交"))


def overview(directory: Path, today: dt.date | None = None) -> Overview:
    today = today or dt.date.today()
    with open_campaign(directory) as campaign:
        register_format(campaign.format)  # rule ids read as their descriptions
        units = unit_statuses(campaign, today)
        names = {u.code: u.name for u in units}
        parents = {u.parent: names.get(u.parent, u.parent) for u in units if u.parent}
        ledger = campaign.ledger
        return Overview(
            title=campaign.title, year=campaign.year, deadline=campaign.deadline,
            days_left=(campaign.deadline - today).days if campaign.deadline else None, units=units, parents=parents,
            counts={s: sum(1 for u in units if u.state == s) for s in STATES},
            unidentified=[_unidentified(campaign, v) for v in ledger.unidentified()],
            refused=[{"source": r["source"], "name": r["name"], "problem": r["problem"] or "",
                      "received": local_time(r["received_at"])} for r in ledger.refused_receipts()],
            received_days=_received_days(ledger.db),
            top_findings=_top_findings(ledger.db, [u.latest_sha256 for u in units if u.latest_sha256]))


def filter_units(units: list[UnitStatus], state: str = "", parent: str = "", overdue: bool = False,
                 q: str = "") -> list[UnitStatus]:
    q = q.strip()
    return [u for u in units
            if (not state or u.state == state) and (not parent or u.parent == parent)
            and (not overdue or u.timeliness in ("逾期", "逾期未交"))
            and (not q or q in u.name or q in u.code)]


def _unidentified(campaign: Campaign, version: sqlite3.Row) -> dict:
    receipts = campaign.ledger.receipts_for(version["sha256"])
    first = receipts[0] if receipts else None
    claimed = version["claimed_name"] + (f"（{version['claimed_code']}）" if version["claimed_code"] else "")
    return {"sha256": version["sha256"], "problem": version["problem"] or "", "claimed": claimed,
            "name": first["name"] if first else "", "source": first["source"] if first else "",
            "sender": first["sender"] if first else "", "received": local_time(version["received_at"])}


def _received_days(db: sqlite3.Connection) -> list[tuple[dt.date, int]]:
    days: Counter[dt.date] = Counter()
    for (at,) in db.execute("SELECT received_at FROM versions WHERE unit_code IS NOT NULL"):
        days[dt.datetime.fromisoformat(at).astimezone().date()] += 1
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
class VersionView:
    id: int
    sha256: str
    received: str
    status: str
    errors: int
    warnings: int
    decisions: list[dict]
    sources: list[dict]


@dataclass
class UnitPage:
    status: UnitStatus
    unit: dict
    versions: list[VersionView]
    findings_by_sheet: list[tuple[str, list[tuple[str, str, str]]]]  # sheet -> (severity, place, message)
    grids: list[TableGrid]
    marked: dict[str, str]  # cell id -> "error" | "warning"
    sends: list[dict] = field(default_factory=list)


def unit_page(directory: Path, code: str) -> UnitPage:
    with open_campaign(directory) as campaign:
        ledger = campaign.ledger
        unit = ledger.unit(code)
        if unit is None:
            raise KeyError(code)
        status = next(u for u in unit_statuses(campaign) if u.code == code)
        versions = []
        for v in ledger.versions(code):
            decisions = [{"decision": d["decision"], "reason": d["reason"], "at": local_time(d["decided_at"])}
                         for d in ledger.db.execute("SELECT * FROM decisions WHERE version_id = ? ORDER BY id",
                                                    (v["id"],))]
            sources = [{"source": r["source"], "name": r["name"], "sender": r["sender"]}
                       for r in ledger.receipts_for(v["sha256"])]
            versions.append(VersionView(v["id"], v["sha256"], local_time(v["received_at"]), v["status"], v["errors"],
                                        v["warnings"], decisions, sources))
        latest = latest_version(ledger, code)
        findings = [finding_of(f) for f in ledger.findings(latest["id"])] if latest is not None else []
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
        values = _values(fmt, latest)
        grids = [table_grid(fmt.tables[p.table], values) for p in fmt.parts if p.table] if latest else []
        sends = [{"kind": s["kind"], "at": local_time(s["sent_at"]), "result": s["result"], "detail": s["detail"]}
                 for s in ledger.db.execute("SELECT * FROM sends WHERE unit_code = ? ORDER BY id", (code,))]
        return UnitPage(status, dict(unit), versions, list(sheets.items()), grids, marked, sends)


def _values(fmt, version: sqlite3.Row | None) -> dict[str, Decimal | None]:
    """The numbers of a version, totals computed as the template's formulas would."""
    if version is None:
        return {}
    values: dict[str, Decimal | None] = {}
    for k, v in json.loads(version["values_json"]).items():
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


def max_file_bytes(directory: Path) -> int:
    with open_campaign(directory) as campaign:
        return campaign.max_file_bytes


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
        version = campaign.ledger.version_by_sha(sha256)
        unit = campaign.ledger.unit(version["unit_code"]) if version is not None and version["unit_code"] else None
        root = campaign.dir.resolve()
        path = (campaign.dir / row["path"]).resolve()
        if root not in path.parents or not path.is_file():
            return None
        label = unit["name"] if unit is not None else "无法识别的文件"
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


__all__ = ["Letter", "MAX_UPLOAD_FILES", "Overview", "letters", "UnitPage", "Upload", "filter_units", "max_file_bytes", "original_path",
           "output_files", "overview", "receive", "unit_page", "upload_items"]

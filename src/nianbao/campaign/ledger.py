"""The campaign ledger: SQLite in the campaign folder (WAL, foreign keys, explicit transactions).

What it records, by natural key so a rerun never duplicates anything:

* ``units``     — the unit list with each unit's campaign token;
* ``files``     — every stored file by content hash (size, path inside the campaign folder);
* ``receipts``  — every item seen in a source (source key, description, received time, sender),
  pointing at its stored file, or carrying the reason it was refused unread (too large);
* ``versions``  — one per distinct workbook content: the unit it identified as (or none, with the
  identity problem), counts of errors and warnings, status, the numbers and (schema 3) the
  narrative texts read;
* ``findings``  — the findings of each version;
* ``reviews``   — the coordinator's actions, each with who, when and why: accept or reject of a
  version, assignment of a received file to a unit (schema 2; replaces schema 1's ``decisions``);
* ``sends``     — mail sent to units (filled by the mail issue).

Receipts also keep the mail's subject and ``sender_units``: the units (comma-separated codes)
whose registered address the mail came from, so attribution compares the sender with the unit
inside the file (see :mod:`nianbao.campaign.review`, which turns all this into review states).

The schema carries a version; :data:`MIGRATIONS` upgrades an older ledger step by step, each
step in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nianbao.errors import NianbaoError
from nianbao.findings import Finding

LEDGER_NAME = "ledger.sqlite"

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  contact TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  parent TEXT REFERENCES units(code) DEFERRABLE INITIALLY DEFERRED,
  token TEXT NOT NULL UNIQUE,
  template TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE files (
  sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  size INTEGER NOT NULL CHECK (size >= 0),
  path TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL
);
CREATE TABLE receipts (
  id INTEGER PRIMARY KEY,
  source_key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  sha256 TEXT REFERENCES files(sha256),
  message_sha256 TEXT REFERENCES files(sha256),
  size INTEGER,
  problem_code TEXT,
  problem TEXT,
  CHECK (sha256 IS NOT NULL OR problem_code IS NOT NULL)
);
CREATE INDEX receipts_sha ON receipts(sha256);
CREATE TABLE versions (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE REFERENCES files(sha256),
  unit_code TEXT REFERENCES units(code),
  status TEXT NOT NULL CHECK (status IN ('passed', 'warnings', 'errors', 'unidentified')),
  problem_code TEXT,
  problem TEXT,
  claimed_code TEXT NOT NULL DEFAULT '',
  claimed_name TEXT NOT NULL DEFAULT '',
  token TEXT NOT NULL DEFAULT '',
  year INTEGER,
  format_key TEXT NOT NULL DEFAULT '',
  template_version TEXT NOT NULL DEFAULT '',
  errors INTEGER NOT NULL DEFAULT 0,
  warnings INTEGER NOT NULL DEFAULT 0,
  received_at TEXT NOT NULL,
  values_json TEXT NOT NULL DEFAULT '{}',
  CHECK ((unit_code IS NULL) = (status = 'unidentified'))
);
CREATE INDEX versions_unit ON versions(unit_code, received_at);
CREATE TABLE findings (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
  message TEXT NOT NULL,
  sheet TEXT, cell TEXT, name TEXT, tbl TEXT, row_label TEXT, column_label TEXT,
  value TEXT, expected TEXT,
  PRIMARY KEY (version_id, seq)
);
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
  reason TEXT NOT NULL DEFAULT '',
  decided_at TEXT NOT NULL
);
CREATE TABLE sends (
  id INTEGER PRIMARY KEY,
  unit_code TEXT NOT NULL REFERENCES units(code),
  kind TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
"""

_V2 = """
ALTER TABLE receipts ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE receipts ADD COLUMN sender_units TEXT NOT NULL DEFAULT '';
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'assign')),
  version_id INTEGER REFERENCES versions(id),
  receipt_id INTEGER REFERENCES receipts(id),
  unit_code TEXT NOT NULL REFERENCES units(code),
  actor TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  CHECK ((action = 'assign') = (receipt_id IS NOT NULL)),
  CHECK (action = 'assign' OR version_id IS NOT NULL)
);
CREATE INDEX reviews_version ON reviews(version_id, id);
CREATE INDEX reviews_receipt ON reviews(receipt_id, id);
INSERT INTO reviews (action, version_id, unit_code, actor, at, reason)
  SELECT d.decision, d.version_id, v.unit_code, '', d.decided_at, d.reason
  FROM decisions d JOIN versions v ON v.id = d.version_id WHERE v.unit_code IS NOT NULL ORDER BY d.id;
DROP TABLE decisions;
"""


def _backfill_sender_units(db: sqlite3.Connection) -> None:
    """Schema 2: name the sending unit of receipts recorded before senders were compared."""
    from nianbao.campaign.units import sender_units

    units = [(u["code"], u["email"]) for u in db.execute("SELECT code, email FROM units ORDER BY position")]
    for row in db.execute("SELECT id, sender FROM receipts").fetchall():
        codes = sender_units(row["sender"], units)
        if codes:
            db.execute("UPDATE receipts SET sender_units = ? WHERE id = ?", (",".join(codes), row["id"]))


_V3 = """
ALTER TABLE versions ADD COLUMN narratives_json TEXT NOT NULL DEFAULT '{}';
"""


#: (version, SQL, Python step or None) in order; a new schema change is appended here, never
#: edited in place. Each step runs in one transaction with its version stamp.
MIGRATIONS: list[tuple[int, str, object]] = [(1, _V1, None), (2, _V2, _backfill_sender_units), (3, _V3, None)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


class Ledger:
    """One open ledger; use as a context manager, or call close()."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise NianbaoError(f"找不到登记簿 {self.path}：这不是用 nianbao campaign init 建立的任务目录")
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each transaction is explicit.
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as err:
            raise NianbaoError(f"登记簿 {self.path} 无法打开（{err}），文件可能已损坏") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
        row = self.db.execute("SELECT max(version) FROM schema_version").fetchone()
        return row[0] or 0

    def migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise NianbaoError(f"登记簿 {self.path} 由更新版本的 nianbao 建立（结构版本 {current}），请升级 nianbao")
        for version, sql, step in MIGRATIONS:
            if version <= current:
                continue
            with self.transaction() as db:
                for statement in _statements(sql):
                    db.execute(statement)
                if step is not None:
                    step(db)
                db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now()))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; any exception rolls everything back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ meta and units
    def set_meta(self, db: sqlite3.Connection, **items: object) -> None:
        for key, value in items.items():
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM meta")}

    def units(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM units ORDER BY position").fetchall()

    def unit(self, code: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM units WHERE code = ?", (code,)).fetchone()

    # ------------------------------------------------------------------ receipts and versions
    def has_receipt(self, source_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM receipts WHERE source_key = ?", (source_key,)).fetchone() is not None

    def version_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM versions WHERE sha256 = ?", (sha256,)).fetchone()

    def versions(self, unit_code: str) -> list[sqlite3.Row]:
        """A unit's versions, oldest first (by time received, then by order recorded)."""
        return self.db.execute("SELECT * FROM versions WHERE unit_code = ? ORDER BY received_at, id",
                               (unit_code,)).fetchall()

    def findings(self, version_id: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM findings WHERE version_id = ? ORDER BY seq", (version_id,)).fetchall()

    def last_decision(self, version_id: int) -> sqlite3.Row | None:
        """The latest accept/reject of a version (``action``, ``actor``, ``at``, ``reason``)."""
        return self.db.execute("SELECT * FROM reviews WHERE version_id = ? AND action IN ('accept', 'reject') "
                               "ORDER BY id DESC LIMIT 1", (version_id,)).fetchone()

    def add_review(self, action: str, unit_code: str, actor: str, reason: str = "", version_id: int | None = None,
                   receipt_id: int | None = None) -> int:
        """Record one coordinator action (its own transaction); returns its row id."""
        with self.transaction() as db:
            cur = db.execute("INSERT INTO reviews (action, version_id, receipt_id, unit_code, actor, at, reason) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (action, version_id, receipt_id, unit_code, actor, now(), reason))
            return int(cur.lastrowid)

    def reviews(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM reviews ORDER BY id").fetchall()

    def receipts(self) -> list[sqlite3.Row]:
        """Every received item, in the order it was received."""
        return self.db.execute("SELECT * FROM receipts ORDER BY received_at, id").fetchall()

    def all_versions(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM versions ORDER BY received_at, id").fetchall()

    def record_send(self, unit_code: str, kind: str, result: str, message_id: str = "", detail: str = "") -> None:
        """One mail sent (or attempted) to a unit; the mail issue calls this per attempt."""
        with self.transaction() as db:
            db.execute("INSERT INTO sends (unit_code, kind, sent_at, message_id, result, detail) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (unit_code, kind, now(), message_id, result, detail))

    def unidentified(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM versions WHERE unit_code IS NULL ORDER BY received_at, id").fetchall()

    def refused_receipts(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM receipts WHERE sha256 IS NULL ORDER BY received_at, id").fetchall()

    def receipts_for(self, sha256: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM receipts WHERE sha256 = ? ORDER BY received_at, id",
                               (sha256,)).fetchall()


def finding_of(row: sqlite3.Row) -> Finding:
    """A row of the findings table as the Finding it was stored from."""
    return Finding(row["code"], row["severity"], row["message"], sheet=row["sheet"], cell=row["cell"],
                   name=row["name"], table=row["tbl"], row=row["row_label"], column=row["column_label"],
                   value=row["value"], expected=row["expected"])


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def dump(ledger: Ledger) -> dict[str, object]:
    """The ledger's logical content keyed by natural keys (no row ids, no clock times of our own).

    Two collect runs over the same sources give equal dumps however they were interrupted.
    """
    db = ledger.db
    out: dict[str, object] = {}
    out["units"] = [dict(r) for r in db.execute("SELECT * FROM units ORDER BY code")]
    out["files"] = [dict(r) for r in db.execute("SELECT * FROM files ORDER BY sha256")]
    out["receipts"] = [{k: r[k] for k in r.keys() if k != "id"}
                       for r in db.execute("SELECT * FROM receipts ORDER BY source_key")]
    versions = []
    for r in db.execute("SELECT * FROM versions ORDER BY sha256"):
        item = {k: r[k] for k in r.keys() if k != "id"}
        item["values_json"] = json.loads(r["values_json"])
        item["narratives_json"] = json.loads(r["narratives_json"])
        item["findings"] = [{k: f[k] for k in f.keys() if k != "version_id"} for f in ledger.findings(r["id"])]
        item["decisions"] = [(d["action"], d["reason"]) for d in
                             db.execute("SELECT * FROM reviews WHERE version_id = ? ORDER BY id", (r["id"],))]
        versions.append(item)
    out["versions"] = versions
    return out


__all__ = ["LEDGER_NAME", "Ledger", "MIGRATIONS", "SCHEMA_VERSION", "dump", "finding_of", "now"]

"""``campaign collect``: store what came back, identify the unit from inside the file, validate.

For every item a source yields (see :mod:`nianbao.campaign.sources`):

1. an item whose source key is already in the ledger is skipped (reruns are idempotent);
2. the bytes are stored in the inbox under their hash (idempotent by itself: same content,
   same name, never overwritten) — a file over the size limit is refused without being read;
3. new content is checked with :func:`nianbao.check.check_file` (in worker processes);
4. **one transaction** records the file, the version with its findings and the receipt.

A kill between 2 and 4 leaves a stored file without a receipt; the next run stores it again
(a no-op) and records it. A kill inside 4 rolls the transaction back. So the ledger is always
consistent and a rerun completes the work.

The unit inside the file is the one whose campaign token the workbook carries — never the file
name. The sender is recorded beside it (``receipts.sender_units``: the units whose registered
address sent the mail), and :mod:`nianbao.campaign.review` compares the two: another unit's
template from a unit's address is held as 待核实, an unusable file from a unit's address counts
as that unit's 已收到·无法使用. A file claiming a unit's code with another token, a file of another year, anything
that is not one of our templates: all are recorded as unidentified versions and reported.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.campaign.folder import Campaign, open_campaign
from nianbao.campaign.lock import CampaignLock
from nianbao.campaign.sources import Received, iter_sources
from nianbao.campaign.store import Stored, TooLarge
from nianbao.campaign.units import sender_units
from nianbao.errors import NianbaoError
from nianbao.findings import register
from nianbao.workers import worker_pool

OTHER_YEAR = register("CAMPAIGN-OTHER-YEAR", "error", "文件是其他年度的报告，不属于本次收集")
TOKEN_MISMATCH = register("CAMPAIGN-TOKEN-MISMATCH", "error", "文件自称某单位，但模板标识不是下发给该单位的")
UNKNOWN_UNIT = register("CAMPAIGN-UNKNOWN-UNIT", "error", "文件的单位不在本次收集的名单中")
STALE_TEMPLATE = register("CAMPAIGN-STALE-TEMPLATE", "warning", "文件用的模板版本与本次下发的不同")
OTHER_FORMAT = register("CAMPAIGN-OTHER-FORMAT", "error", "文件用的报告格式与本次下发的不同，数字无法汇总")
FILE_TOO_LARGE = "FILE-TOO-LARGE"
LOCK_NAME = ".collect.lock"
#: Identity problems that mean the file belongs to no unit of this campaign.
IDENTITY_PROBLEMS = (OTHER_YEAR, TOKEN_MISMATCH, UNKNOWN_UNIT)


@dataclass
class ItemOutcome:
    source: str
    name: str
    outcome: str  # new | duplicate | skipped | refused | unidentified
    unit_code: str | None = None
    status: str | None = None
    problem_code: str | None = None
    problem: str | None = None
    sha256: str | None = None
    errors: int = 0
    warnings: int = 0


@dataclass
class CollectReport:
    items: list[ItemOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    @property
    def problems(self) -> list[ItemOutcome]:
        return [i for i in self.items if i.outcome in ("refused", "unidentified")]

    def to_json(self) -> dict:
        return {"counts": {k: self.count(k) for k in ("new", "duplicate", "skipped", "refused", "unidentified")},
                "items": [i.__dict__ for i in self.items]}


# ----------------------------------------------------------------------------- worker side


def check_stored(path: str) -> dict:
    """Check one stored file (runs in a worker process); everything returned is plain data."""
    from nianbao.check import check_file

    report = check_file(Path(path))
    sub = report.submission
    prefix = f"{path}："  # the inbox path means nothing to people; the receipt names the source

    def plain(text: str | None) -> str | None:
        return text.replace(prefix, "") if text else text

    findings = [{**f.to_dict(), "message": plain(f.message)} for f in report.findings]
    out: dict = {"unreadable": plain(report.unreadable), "unreadable_code": report.unreadable_code,
                 "findings": findings}
    if sub is not None:
        out.update(token=sub.token, code=sub.unit_code, name=sub.unit_name, year=sub.year,
                   format_key=sub.format.key, template_version=sub.template_version,
                   values={k: (None if v is None else str(v)) for k, v in sub.values.items()
                           if k not in sub.format.derived},
                   narratives={k: v for k, v in sub.narratives.items() if v})
    return out


# ----------------------------------------------------------------------------- collecting


def collect(directory: Path, sources: list[Path], workers: int | None = None,
            progress: Callable[[ItemOutcome], None] | None = None) -> CollectReport:
    """Collect every item of ``sources`` into the campaign at ``directory``."""
    for src in sources:
        if not Path(src).exists():
            raise NianbaoError(f"找不到收件来源：{src}")
    with open_campaign(directory) as campaign, collect_lock(campaign.dir):
        return collect_items(campaign, iter_sources([Path(s) for s in sources]), workers, progress)


def collect_items(campaign: Campaign, items: Iterable[Received], workers: int | None = None,
                  progress: Callable[[ItemOutcome], None] | None = None) -> CollectReport:
    """Collect already-fetched items (the mail issue's IMAP fetcher calls this directly)."""
    return _Collector(campaign, workers, progress).run(items)


class _Collector:
    def __init__(self, campaign: Campaign, workers: int | None, progress) -> None:
        self.c = campaign
        self.ledger = campaign.ledger
        self.inbox = campaign.inbox
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self.progress = progress
        self.report = CollectReport()
        units = self.ledger.units()
        self.by_token = {u["token"]: u for u in units}
        self.by_code = {u["code"]: u for u in units}
        self.addresses = [(u["code"], u["email"]) for u in units]
        self.pool: ProcessPoolExecutor | None = None
        self.queue: deque = deque()  # (item, stored, message_stored, future|None) in arrival order
        self.pending: set[str] = set()  # hashes being checked, not yet recorded
        self.seen_keys: set[str] = set()
        self._message: tuple[str, Stored] | None = None

    def run(self, items: Iterable[Received]) -> CollectReport:
        self.inbox.ensure()
        self.inbox.clean_temporary()
        window = max(2, 4 * self.workers)
        try:
            for item in items:
                self._take(item)
                while len(self.queue) > window:
                    self._commit_head()
            while self.queue:
                self._commit_head()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        return self.report

    # ------------------------------------------------------------------ intake
    def _take(self, item: Received) -> None:
        if item.source_key in self.seen_keys or self.ledger.has_receipt(item.source_key):
            self._done(ItemOutcome(item.source, item.name, "skipped"))
            return
        self.seen_keys.add(item.source_key)
        message = self._store_message(item)
        if item.problem_code is not None:
            self.queue.append((item, None, message, None))
            return
        if item.size is not None and item.size > self.c.max_file_bytes:
            item.problem_code, item.problem = FILE_TOO_LARGE, self._too_large(item.size)
            self.queue.append((item, None, message, None))
            return
        try:
            if item.data is not None:
                stored = self.inbox.put(item.data, _kind(item.data[:4]), limit=self.c.max_file_bytes)
            else:
                assert item.opener is not None
                with item.opener() as f:
                    head = f.read(4)
                    f.seek(0)
                    stored = self.inbox.put(f, _kind(head), limit=self.c.max_file_bytes)
        except TooLarge:
            item.problem_code, item.problem = FILE_TOO_LARGE, self._too_large(None)
            self.queue.append((item, None, message, None))
            return
        except OSError as err:
            raise NianbaoError(f"无法读取 {item.source}：{err.strerror or err}") from None
        future = None
        if stored.sha256 not in self.pending and self.ledger.version_by_sha(stored.sha256) is None:
            future = self._submit(str(stored.path))
            self.pending.add(stored.sha256)
        self.queue.append((item, stored, message, future))

    def _too_large(self, size: int | None) -> str:
        limit = self.c.max_file_bytes // (1024 * 1024)
        seen = f"{size / (1024 * 1024):.0f} MB，" if size else ""
        return f"文件过大（{seen}上限 {limit} MB），未读取也未保存；不像是填好的年报模板"

    def _store_message(self, item: Received) -> Stored | None:
        if item.message is None:
            return None
        if self._message and self._message[0] == item.message_key:
            return self._message[1]
        stored = self.inbox.put(item.message, "eml")
        self._message = (item.message_key, stored)
        return stored

    def _submit(self, path: str) -> Future:
        if self.workers <= 1:
            future: Future = Future()
            future.set_result(check_stored(path))
            return future
        if self.pool is None:
            self.pool = worker_pool(self.workers)
        try:
            return self.pool.submit(check_stored, path)
        except BrokenProcessPool as err:  # a worker died meanwhile: handled when this item's turn comes
            failed: Future = Future()
            failed.set_exception(err)
            return failed

    def _result(self, stored: Stored, future: Future) -> dict:
        """The check of one stored file. A worker that died (out of memory, a crash in a C
        library) breaks the pool: this file is checked again alone in a fresh pool, and if that
        dies too, it is reported unreadable; the files queued behind it are submitted anew."""
        try:
            return future.result()
        except BrokenProcessPool:
            self._drop_pool()
        try:
            result = self._submit(str(stored.path)).result()
        except BrokenProcessPool:
            self._drop_pool()
            result = _unreadable_result("检查这个文件时处理进程意外退出（文件可能过于复杂或已损坏），已跳过这个文件")
        self.queue = deque((item, st, message, self._submit(str(st.path)) if fut is not None else None)
                           for item, st, message, fut in self.queue)
        return result

    def _drop_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None

    # ------------------------------------------------------------------ recording
    def _commit_head(self) -> None:
        item, stored, message, future = self.queue.popleft()
        result = self._result(stored, future) if future is not None else None
        outcome = ItemOutcome(item.source, item.name, "refused", problem_code=item.problem_code,
                              problem=item.problem)
        with self.ledger.transaction() as db:
            if message is not None:
                _insert_file(db, message)
            senders = ",".join(sender_units(item.sender, self.addresses))
            if stored is None:
                db.execute("INSERT INTO receipts (source_key, source, name, received_at, sender, message_sha256, size, "
                           "problem_code, problem, subject, sender_units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (item.source_key, item.source, item.name, item.received_at, item.sender,
                            message.sha256 if message else None, item.size, item.problem_code, item.problem,
                            item.subject, senders))
            else:
                _insert_file(db, stored)
                if result is not None:
                    self._insert_version(db, item, stored, result)
                    outcome.outcome = "new"
                else:
                    outcome.outcome = "duplicate"
                db.execute("INSERT INTO receipts (source_key, source, name, received_at, sender, sha256, message_sha256, "
                           "size, subject, sender_units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (item.source_key, item.source, item.name, item.received_at, item.sender, stored.sha256,
                            message.sha256 if message else None, stored.size, item.subject, senders))
                version = db.execute("SELECT * FROM versions WHERE sha256 = ?", (stored.sha256,)).fetchone()
                outcome.sha256 = stored.sha256
                outcome.unit_code = version["unit_code"]
                outcome.status = version["status"]
                outcome.problem_code, outcome.problem = version["problem_code"], version["problem"]
                outcome.errors, outcome.warnings = version["errors"], version["warnings"]
                if version["unit_code"] is None and outcome.outcome == "new":
                    outcome.outcome = "unidentified"
        if stored is not None:
            self.pending.discard(stored.sha256)
        self._done(outcome)

    def _insert_version(self, db, item: Received, stored: Stored, result: dict) -> None:
        unit_code, problem_code, problem, extra = self._identify(result)
        findings = list(result["findings"]) + extra
        errors = sum(1 for f in findings if f["severity"] == "error")
        warnings = sum(1 for f in findings if f["severity"] == "warning")
        if unit_code is None:
            status = "unidentified"
        else:
            status = "errors" if errors else "warnings" if warnings else "passed"
        cur = db.execute(
            "INSERT INTO versions (sha256, unit_code, status, problem_code, problem, claimed_code, claimed_name, token, "
            "year, format_key, template_version, errors, warnings, received_at, values_json, narratives_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (stored.sha256, unit_code, status, problem_code, problem, result.get("code", ""), result.get("name", ""),
             result.get("token", ""), result.get("year"), result.get("format_key", ""),
             result.get("template_version", ""), errors, warnings, item.received_at,
             json.dumps(result.get("values", {}), ensure_ascii=False, sort_keys=True),
             json.dumps(result.get("narratives", {}), ensure_ascii=False, sort_keys=True)))
        vid = cur.lastrowid
        db.executemany(
            "INSERT INTO findings (version_id, seq, code, severity, message, sheet, cell, name, tbl, row_label, "
            "column_label, value, expected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(vid, i, f["code"], f["severity"], f["message"], f.get("sheet"), f.get("cell"), f.get("name"),
              f.get("table"), f.get("row"), f.get("column"), f.get("value"), f.get("expected"))
             for i, f in enumerate(findings)])

    def _identify(self, result: dict) -> tuple[str | None, str | None, str | None, list[dict]]:
        """(unit code or None, problem code, problem text, extra findings) — from the token only."""
        if result["unreadable"] is not None:
            return None, result["unreadable_code"], result["unreadable"], []
        claimed = f"“{result['name']}”" + (f"（编码 {result['code']}）" if result["code"] else "")
        if result["year"] != self.c.year:
            return None, OTHER_YEAR, (f"这是 {claimed} {result['year']} 年度的报告，本次收集的是 {self.c.year} 年度："
                                      f"请使用本次下发的模板"), []
        unit = self.by_token.get(result["token"])
        if unit is None:
            if result["code"] in self.by_code or any(u["name"] == result["name"] for u in self.by_code.values()):
                return None, TOKEN_MISMATCH, (f"文件自称是{claimed}，但模板标识与本次下发给该单位的不符（可能是用其他"
                                              f"单位、其他批次或旧模板改的），未计入该单位：请该单位使用本次下发的模板"), []
            return None, UNKNOWN_UNIT, f"文件的单位{claimed}不在本次收集的名单中（模板标识也不符）", []
        extra = []
        if result["format_key"] != self.c.format.key:
            extra.append(_finding(OTHER_FORMAT, "error", f"文件用的是 {result['format_key']} 格式，本次下发的是 "
                                  f"{self.c.format.key}，数字无法汇总：请使用本次下发的模板重新填写"))
        elif result["template_version"] != self.c.settings["campaign"].get("template_version",
                                                                            self.c.format.template_version):
            extra.append(_finding(STALE_TEMPLATE, "warning", f"文件用的是 {result['template_version']} 版模板，本次下发的"
                                  f"是 {self.c.format.template_version} 版"))
        return unit["code"], None, None, extra

    def _done(self, outcome: ItemOutcome) -> None:
        self.report.items.append(outcome)
        if self.progress is not None:
            self.progress(outcome)


def _unreadable_result(problem: str) -> dict:
    return {"unreadable": problem, "unreadable_code": "FILE-UNREADABLE",
            "findings": [_finding("FILE-UNREADABLE", "error", problem)]}


def _finding(code: str, severity: str, message: str) -> dict:
    return {"code": code, "severity": severity, "message": message}


def _insert_file(db, stored: Stored) -> None:
    db.execute("INSERT OR IGNORE INTO files (sha256, size, path, kind) VALUES (?, ?, ?, ?)",
               (stored.sha256, stored.size, stored.relpath, stored.kind))


def _kind(head: bytes) -> str:
    """The stored file's extension: .xlsx for anything zip-like (the reader needs it to open the
    file; what the file really is, is decided by sniffing and recorded on its version)."""
    return "xlsx" if head.startswith(b"PK") else "bin"


def collect_lock(directory: Path) -> CampaignLock:
    """One collect (or IMAP fetch) at a time per campaign."""
    directory = Path(directory)
    return CampaignLock(directory / LOCK_NAME,
                        f"另一个 nianbao campaign collect 正在处理 {directory}，请等它结束后再运行")


__all__ = ["CollectReport", "ItemOutcome", "check_stored", "collect", "collect_items", "collect_lock"]

"""An opened campaign folder: its settings (``campaign.toml``), ledger, inbox and time zone.

Every later stage (collect, review, status, feedback, merge, mail, the web desk) starts from
:func:`open_campaign`; :mod:`nianbao.campaign.init` only creates folders. Keeping the opened
folder here, below both, is what lets ``init`` use the review states (last year's accepted
numbers) without importing back up from ``status``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nianbao.campaign.ledger import LEDGER_NAME, Ledger
from nianbao.campaign.store import Inbox
from nianbao.errors import NianbaoError, set_work_folder
from nianbao.format import resolve_format
from nianbao.format.model import Format

SETTINGS_NAME = "campaign.toml"
OUTBOX = "outbox"
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass
class Campaign:
    """An opened campaign folder."""

    dir: Path
    settings: dict
    format: Format
    year: int
    title: str
    deadline: dt.date | None
    max_file_bytes: int
    ledger: Ledger = field(repr=False)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))

    @property
    def inbox(self) -> Inbox:
        return Inbox(self.dir)

    def local(self, iso: str | None) -> str:
        """An ISO time from the ledger as the coordinator reads it: ``2026-01-10 10:00`` in the
        campaign's time zone (a mail's ``10:00+08:00`` stays 10:00, whatever the machine's zone)."""
        return local_time(iso, self.tz)

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def local_time(iso: str | None, tz: ZoneInfo | None = None) -> str:
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:  # an old ledger's naive time: taken as written
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(tz or ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")


def time_zone(name: str, where: Path) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise NianbaoError(f"{where} 中的时区“{name}”无法识别，请写成 Asia/Shanghai 这样的名称") from None


def open_campaign(directory: Path) -> Campaign:
    directory = Path(directory)
    settings_path = directory / SETTINGS_NAME
    if not settings_path.is_file():
        raise NianbaoError(f"{directory} 不是 nianbao 任务目录（缺少 {SETTINGS_NAME}），请先运行 nianbao campaign init")
    try:
        settings = tomllib.loads(settings_path.read_text(encoding="utf-8"))
        info = settings["campaign"]
        year = int(info["year"])
        fmt = resolve_format(year, info.get("format") or None)
        deadline = dt.date.fromisoformat(info["deadline"]) if info.get("deadline") else None
        max_mb = float(settings.get("collect", {}).get("max_file_mb", 20))
        tz_name = str(info.get("timezone") or DEFAULT_TIMEZONE)
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as err:
        raise NianbaoError(f"{settings_path} 内容有误（{err}），请改正后重试") from None
    tz = time_zone(tz_name, settings_path)
    set_work_folder(directory)  # error logs and fault messages belong to this campaign
    ledger = Ledger(directory / LEDGER_NAME)
    return Campaign(directory, settings, fmt, year, info.get("title", ""), deadline, int(max_mb * 1024 * 1024), ledger,
                    tz)


__all__ = ["Campaign", "DEFAULT_TIMEZONE", "OUTBOX", "SETTINGS_NAME", "local_time", "open_campaign", "time_zone"]

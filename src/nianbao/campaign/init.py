"""``campaign init``: the campaign folder, its settings, ledger, outbox templates and tokens.

The folder is built beside its final place and renamed into place only when everything is
written, so a bad unit list or a failure half-way creates nothing. ``campaign.toml`` holds
settings only (no password: the mail issue reads it from an environment variable or a prompt).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from nianbao.campaign.folder import DEFAULT_TIMEZONE, OUTBOX, SETTINGS_NAME, Campaign, open_campaign
from nianbao.campaign.ledger import LEDGER_NAME, Ledger, now
from nianbao.campaign.review import latest_accepted
from nianbao.campaign.store import Inbox
from nianbao.campaign.units import Unit, list_warnings, read_units, write_units_csv
from nianbao.errors import NianbaoError
from nianbao.format import resolve_format
from nianbao.format.model import Format

UNITS_COPY = "units.csv"

DEFAULT_SUBJECT = "请报送{year}年度政府信息公开工作年度报告（{unit_name}）"
DEFAULT_BODY = """{unit_name}：

附件是贵单位{year}年度政府信息公开工作年度报告填报模板。请在黄色单元格中填写，保存为 Excel 工作簿（.xlsx）后，\
于 {deadline} 前回复本邮件（直接把填好的文件作为附件）。模板已标明贵单位，请不要改用其他单位的模板或改文件结构。

如有疑问，请联系 {contact}。

{sender_name}
"""
DEFAULT_REMIND_SUBJECT = "请补报或修改{year}年度政府信息公开工作年度报告（{unit_name}）"
DEFAULT_REMIND_BODY = """{unit_name}：

{problems}

请在附件的模板（或标注了问题的工作簿）中修改后，于 {deadline} 前回复本邮件。

{sender_name}
"""


@dataclass
class InitResult:
    dir: Path
    units: int
    templates: list[Path]
    carried_over: int  # units whose template carries last year's values
    warnings: list[str] = field(default_factory=list)  # allowed but probably a mistake (Chinese lines)


def init_campaign(directory: Path, year: int, units_file: Path, title: str = "", deadline: str | None = None,
                  previous_campaign: Path | None = None, format_key: str | None = None,
                  workers: int | None = None, area: str = "") -> InitResult:
    directory = Path(directory)
    fmt = resolve_format(year, format_key)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise NianbaoError(f"目录 {directory} 已存在且不是空目录：请换一个新目录")
    if not directory.parent.is_dir():
        raise NianbaoError(f"上级目录不存在：{directory.parent}")
    due = None
    if deadline:
        try:
            due = dt.date.fromisoformat(deadline)
        except ValueError:
            raise NianbaoError(f"截止日期“{deadline}”应写成 YYYY-MM-DD，例如 2025-01-15") from None
    units = read_units(units_file)
    warnings = list_warnings(units)
    today = dt.datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
    if due is not None and due < today:
        warnings.append(f"截止日期 {due.isoformat()} 已经过去（今天是 {today.isoformat()}）：如写错了，请改 campaign.toml 中的 "
                        f"deadline")
    if previous_campaign is not None:
        with open_campaign(previous_campaign) as prev:
            if prev.year != year - 1:
                raise NianbaoError(f"上年任务 {previous_campaign} 是 {prev.year} 年度的，不是 {year - 1} 年度")
    previous = previous_values(previous_campaign) if previous_campaign else {}
    tokens = {u.code: secrets.token_hex(8) for u in units}
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.init-", dir=directory.parent))
    try:
        (staging / OUTBOX).mkdir()
        Inbox(staging).ensure()
        names = {u.code: template_name(u, year) for u in units}
        jobs = [(fmt.key, u.to_dict(), year, str(staging / OUTBOX / names[u.code]), tokens[u.code],
                 previous.get(u.code)) for u in units]
        _make_templates(jobs, workers)
        write_units_csv(units, staging / UNITS_COPY)
        (staging / SETTINGS_NAME).write_text(settings_text(fmt, year, title, due, previous_campaign, area), encoding="utf-8")
        with Ledger(staging / LEDGER_NAME, create=True) as ledger, ledger.transaction() as db:
            ledger.set_meta(db, year=year, format=fmt.key, template_version=fmt.template_version, created_at=now(),
                            title=title)
            for position, u in enumerate(units):
                db.execute("INSERT INTO units (code, name, email, contact, phone, parent, token, template, position) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (u.code, u.name, u.email, u.contact, u.phone, u.parent or None, tokens[u.code],
                            f"{OUTBOX}/{names[u.code]}", position))
        _fsync_tree(staging)
        if directory.exists():
            directory.rmdir()  # empty (checked above)
        os.rename(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return InitResult(directory, len(units), [directory / OUTBOX / names[u.code] for u in units],
                      sum(1 for u in units if previous.get(u.code)), warnings)


def template_name(unit: Unit, year: int) -> str:
    """Short and safe (pitfalls §11): the code, the year; the Chinese name travels in the mail."""
    return f"{unit.code}_{year}_政务公开年报.xlsx"


def _make_one(job) -> str:
    from nianbao.format import load_format
    from nianbao.submission import Submission
    from nianbao.template import make_template

    key, unit, year, out, token, prev = job
    fmt = load_format(key)
    previous = None
    if prev:
        previous = Submission(format=fmt, year=year - 1, unit={"name": unit["name"], "code": unit["code"]},
                              values={k: (Decimal(v) if v is not None else None) for k, v in prev.items()})
    details = {"name": unit["name"], "code": unit["code"], "contact": unit.get("contact", ""),
               "phone": unit.get("phone", "")}
    make_template(fmt, details, year, Path(out), previous=previous, token=token)
    return out


def _make_templates(jobs: list, workers: int | None) -> None:
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(jobs) < 8:
        for job in jobs:
            _make_one(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_make_one, jobs, chunksize=4))


def previous_values(previous_dir: Path) -> dict[str, dict[str, str | None]]:
    """Last year's numbers per unit code: the latest accepted version of each unit."""
    with open_campaign(previous_dir) as prev:
        out = {}
        for unit in prev.ledger.units():
            version = latest_accepted(prev, unit["code"])
            if version is not None:
                out[unit["code"]] = json.loads(version.values_json)
        return out


def settings_text(fmt: Format, year: int, title: str, deadline: dt.date | None, previous: Path | None,
                  area: str = "") -> str:
    q = lambda s: json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    return f"""# nianbao 年报收集任务的设置。可以用文本编辑器修改；不要在这里写邮箱密码。

[campaign]
title = {q(title or f"{year}年度政府信息公开工作年度报告收集")}
# 本地区名称，用于汇总表标题，例如：丰城市
area = {q(area)}
year = {year}
format = {q(fmt.key)}
template_version = {q(fmt.template_version)}
deadline = {q(deadline.isoformat() if deadline else "")}
# 显示时间所用的时区（邮件中的时间、截止日期都按这个时区理解）
timezone = {q(DEFAULT_TIMEZONE)}
previous_campaign = {q(str(previous) if previous else "")}

[collect]
# 单个文件的大小上限（MB），超过的文件不读取，只登记
max_file_mb = 20

[mail]
# 发信（SMTP）
host = ""
port = 465
security = "ssl"        # ssl、starttls 或 none
user = ""
sender = ""             # 发件人地址
sender_name = ""        # 发件人名称，例如：某某市人民政府办公室
# 密码从环境变量读取（或运行时输入），不写在文件里
password_env = "NIANBAO_MAIL_PASSWORD"
# 邮件服务器的证书不被本机信任时（单位自建证书），填写其根证书文件的路径
ca_file = ""
# 收信（IMAP）
imap_host = ""
imap_port = 993
imap_security = "ssl"
imap_folder = "INBOX"
# 同一单位两次提醒之间至少间隔的小时数
remind_gap_hours = 24
subject = {q(DEFAULT_SUBJECT)}
body = {q(DEFAULT_BODY)}
remind_subject = {q(DEFAULT_REMIND_SUBJECT)}
remind_body = {q(DEFAULT_REMIND_BODY)}
"""


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


__all__ = ["Campaign", "InitResult", "SETTINGS_NAME", "OUTBOX", "init_campaign", "open_campaign", "previous_values",
           "template_name"]

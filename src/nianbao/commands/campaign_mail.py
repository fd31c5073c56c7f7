"""`nianbao campaign send | remind | fetch`: the campaign's mail (SMTP out, IMAP in).

Registered on the ``campaign`` sub-app of :mod:`nianbao.commands.campaign`. ``fetch`` is the
IMAP side of collecting: mail → inbox/ → the same collect path as ``campaign collect``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from nianbao.commands.campaign_app import JSON_OPTION, campaign_app
OUTCOME_TEXT = {"sent": "已发送", "failed": "失败", "skipped": "跳过", "draft": "草稿", "no_email": "无邮箱"}


def register(app: typer.Typer) -> None:
    # The campaign sub-app is added to ``app`` by commands/campaign.py; these join it.
    campaign_app.command("send")(send_command)
    campaign_app.command("remind")(remind_command)
    campaign_app.command("fetch")(fetch_command)


def _codes(units: str | None) -> list[str] | None:
    if not units:
        return None
    return [c.strip() for c in units.replace("，", ",").split(",") if c.strip()]


def _render(report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        counts = "，".join(f"{OUTCOME_TEXT[k]} {report.count(k)}" for k in OUTCOME_TEXT if report.count(k))
        typer.echo(counts or "没有需要发送的单位")
        for u in report.failed:
            typer.echo(f"  - {u.code} {u.name}：{u.detail}", err=True)
    if report.failed:
        raise typer.Exit(1)


def _progress(as_json: bool):
    if as_json:
        return None

    def step(u) -> None:
        typer.echo(f"{u.code} {u.name} {u.email}：{OUTCOME_TEXT[u.outcome]}", err=True)

    return step


def send_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    units: Annotated[Optional[str], typer.Option("--units", help="只发给这些单位（编码，用逗号分隔）")] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="不发送，只在 outbox/ 中写出每个单位的 .eml 邮件草稿")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="已发送过的单位也再发一次")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """用邮件把模板发给各单位（已发过的单位自动跳过；失败的会重试并逐个报告）。

    密码从 campaign.toml 中 password_env 指定的环境变量读取，没有时在终端询问。

    示例：nianbao campaign send 2025年报 --drafts
    """
    from nianbao.campaign.mailing import send_templates

    report = send_templates(directory, _codes(units), drafts, resend, interactive=sys.stdin.isatty(),
                            progress=_progress(as_json))
    _render(report, as_json)


def remind_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    units: Annotated[Optional[str], typer.Option("--units", help="只提醒这些单位（编码，用逗号分隔）")] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="不发送，只在 outbox/ 中写出 .eml 邮件草稿")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="内容没有变化的提醒也再发一次")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """给未提交或有错误的单位发提醒，附上问题清单和标注了问题的工作簿。

    示例：nianbao campaign remind 2025年报
    """
    from nianbao.campaign.mailing import remind

    report = remind(directory, _codes(units), drafts, resend, interactive=sys.stdin.isatty(),
                    progress=_progress(as_json))
    _render(report, as_json)


def fetch_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """从收信服务器（IMAP）取回新邮件，存入 inbox/ 并像 campaign collect 一样核对登记。

    只取上次之后的新邮件；邮件在服务器上保持未读。

    示例：nianbao campaign fetch 2025年报
    """
    from nianbao.campaign.mailing import collect_imap

    result = collect_imap(directory, interactive=sys.stdin.isatty())
    report, fetch = result.collect, result.fetch
    if as_json:
        typer.echo(json.dumps({"fetch": {"server": fetch.server, "folder": fetch.folder, "fetched": fetch.fetched,
                                         "too_large": fetch.too_large, "reset": fetch.reset,
                                         "uidvalidity": fetch.uidvalidity, "last_uid": fetch.last_uid},
                               "collect": report.to_json()}, ensure_ascii=False, indent=2, default=str))
        return
    reset = "（邮件夹已在服务器上重建，已重新读取全部邮件）" if fetch.reset else ""
    typer.echo(f"从 {fetch.server} 的 {fetch.folder} 取回新邮件 {fetch.fetched} 封{reset}；"
               f"新版本 {report.count('new')} 份，重复 {report.count('duplicate')} 份，"
               f"无法识别 {report.count('unidentified')} 份，拒收 {report.count('refused')} 份")
    for item in report.problems:
        typer.echo(f"  - {item.source} {item.name}：{item.problem}", err=True)

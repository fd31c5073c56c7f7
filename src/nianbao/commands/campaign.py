"""`nianbao campaign …`: the coordinator's collection round (init, collect, status, feedback,
merge). Each command calls one function of :mod:`nianbao.campaign`. Review commands (accept,
reject, assign, files, history) are in ``campaign_review``, mail in ``campaign_mail``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nianbao.cli_text import four_digit_year
from nianbao.commands.campaign_app import JSON_OPTION, campaign_app
from nianbao.commands.campaign_app import echo_json as _echo_json


def register(app: typer.Typer) -> None:
    """Nothing to add: the commands below join ``campaign_app`` when this module is imported."""


@campaign_app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="新建的任务目录")],
    year: Annotated[int, typer.Option("--year", help="报告年度（四位数字），例如：2025", callback=four_digit_year)],
    units: Annotated[Path, typer.Option("--units", help="单位名单（.xlsx 或 .csv）：单位编码、单位名称、邮箱、联系人、联系电话、上级编码")],
    title: Annotated[str, typer.Option("--title", help="任务名称")] = "",
    deadline: Annotated[Optional[str], typer.Option("--deadline", help="截止日期 YYYY-MM-DD")] = None,
    previous_campaign: Annotated[Optional[Path], typer.Option("--previous-campaign", help="上年度的任务目录（预填上年数据）")] = None,
    area: Annotated[str, typer.Option("--area", help="本地区名称（汇总表标题用），例如：丰城市")] = "",
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """建立收集任务目录：设置、登记簿、每个单位一份模板（outbox/）。

    示例：nianbao campaign init 2025年报 --year 2025 --units 单位名单.xlsx --deadline 2026-01-15
    """
    from nianbao.campaign.init import init_campaign

    result = init_campaign(directory, year, units, title, deadline, previous_campaign, area=area)
    if as_json:
        _echo_json({"dir": str(result.dir), "units": result.units, "templates": [str(p) for p in result.templates],
                    "carried_over": result.carried_over, "warnings": result.warnings})
        return
    for line in result.warnings:
        typer.echo(f"注意：{line}", err=True)
    extra = f"，其中 {result.carried_over} 个预填了上年数据" if previous_campaign else ""
    typer.echo(f"已建立任务 {result.dir}：{result.units} 个单位的模板在 outbox/ 中{extra}")


@campaign_app.command("collect")
def collect_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    sources: Annotated[Optional[list[Path]], typer.Argument(help="收件来源：文件夹、.eml 文件、mbox 文件或 Maildir")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="并行核对的进程数")] = None,
    imap: Annotated[bool, typer.Option("--imap", help="从 campaign.toml 中配置的收信服务器（IMAP）取回新邮件")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """收集报送的文件：按内容保存、识别单位、核对并登记；重复运行不会重复登记。

    示例：nianbao campaign collect 2025年报 收件/ 导出邮件.mbox
    示例：nianbao campaign collect 2025年报 --imap
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rich.markup import escape

    from nianbao.campaign.collect import collect
    from nianbao.safetext import terminal

    if imap:
        # The same path as `campaign fetch`; folders given beside --imap are collected after it.
        from nianbao.commands.campaign_mail import fetch_command

        fetch_command(directory, as_json)
        if not sources:
            return
    if not sources:
        typer.echo("错误：请指定至少一个收件来源（文件夹、.eml、mbox 或 Maildir），或用 --imap 从邮箱收取", err=True)
        raise typer.Exit(2)
    if as_json:
        report = collect(directory, list(sources), workers)
        _echo_json(report.to_json())
        return
    with Progress(TextColumn("收集"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task("", total=None)

        def step(outcome) -> None:
            progress.update(task, advance=1, description=escape(terminal(outcome.name[:30])))

        report = collect(directory, list(sources), workers, step)
    if not report.items:
        typer.echo(f"收件来源中没有任何文件：{'、'.join(str(s) for s in sources)} 是空的，未登记任何报送。"
                   "请确认单位的附件已保存到这里（或用 --imap 从邮箱收取）。")
        return
    typer.echo(f"新版本 {report.count('new')} 份，重复 {report.count('duplicate')} 份，已收过 {report.count('skipped')} 份，"
               f"无法识别 {report.count('unidentified')} 份，拒收 {report.count('refused')} 份")
    for item in report.problems:
        typer.echo(terminal(f"  - {item.source} {item.name}：{item.problem}"), err=True)
    _loose_files_hint(directory)


def _loose_files_hint(directory: Path) -> None:
    """After collecting: say how many files count for no unit, and where to place them."""
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import unassigned_files

    with open_campaign(directory) as campaign:
        loose = unassigned_files(campaign)
    if loose:
        held = sum(1 for f in loose if f.how == "held")
        typer.echo(f"未计入任何单位的文件 {len(loose)} 份（其中待核实 {held} 份）：用 nianbao campaign files 查看，"
                   f"nianbao campaign assign 指定单位", err=True)


@campaign_app.command("status")
def status_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """各单位的报送状态和备注，并写出 status.xlsx（报送情况、未计入的文件）。

    示例：nianbao campaign status 2025年报
    """
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import STATES
    from nianbao.campaign.status import TERMINAL_COLOURS, note_for, status
    from nianbao.safetext import terminal

    report = status(directory)
    if as_json:
        _echo_json(report.to_json())
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    short = {"no_wrap": True}
    folding = {"overflow": "fold"}  # long unit names fold, never cut
    for title, options in (("编码", short), ("单位", {**folding, "min_width": 10, "ratio": 1}), ("状态", folding),
                           ("版本", short), ("最近收到", folding), ("按时", folding), ("错误", short), ("警告", short),
                           ("备注", {**folding, "ratio": 1})):
        table.add_column(title, **options)
    with open_campaign(directory) as campaign:
        for u in report.units:
            # escape(): unit names and reasons are user text, never markup
            table.add_row(u.code, escape(terminal(u.name)), f"[{TERMINAL_COLOURS[u.state]}]{u.state}[/]",
                          str(u.versions), campaign.local(u.latest_at), u.timeliness, str(u.errors), str(u.warnings),
                          escape(terminal(note_for(campaign, u))))
    console = Console()
    console.print(table)
    console.print("，".join(f"{s} {report.count(s)}" for s in STATES if report.count(s)) +
                  (f"；未计入任何单位的文件 {len(report.unassigned)} 份（nianbao campaign files 查看）"
                   if report.unassigned else ""))
    typer.echo(f"已写出 {report.board}")


@campaign_app.command("feedback")
def feedback_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """为有错误或未提交的单位写出问题清单和标注了问题的工作簿（feedback/）。

    示例：nianbao campaign feedback 2025年报
    """
    from nianbao.campaign.feedback import feedback

    result = feedback(directory)
    if as_json:
        _echo_json({"dir": str(result.dir), "units": [{"code": f.code, "name": f.name, "state": f.state,
                                                       "attachments": [str(p) for p in f.attachments]}
                                                      for f in result.units]})
        return
    typer.echo(f"已为 {len(result.units)} 个单位写出反馈：{result.dir}")


@campaign_app.command("merge")
def merge_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    include_unaccepted: Annotated[bool, typer.Option("--include-unaccepted", help="未确认的单位用最新的无错误版本")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="没有可汇总的单位也生成（全空的）汇总表")] = False,
    to: Annotated[str, typer.Option("--to", help="汇总表的其他格式：docx,html,md,pdf")] = "docx,html",
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """把各单位已确认的数据相加成本地区汇总（并按上级单位分级小计），重新校验，写出 汇总/汇总.xlsx 和汇总表。

    示例：nianbao campaign merge 2025年报 --include-unaccepted
    """
    from nianbao.campaign.merge import NothingAccepted, merge
    from nianbao.report.build import parse_targets

    try:
        result = merge(directory, include_unaccepted, parse_targets(to), allow_empty)
    except NothingAccepted as err:  # a finding about the round, not a usage error
        typer.echo(f"错误：{err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _echo_json(result.to_json())
    else:
        typer.echo(f"汇总了 {len(result.included)} 个单位。{result.missing_note}")
        for f in result.findings:
            typer.echo(f"  - {f.severity_text}：{f.message}", err=True)
        for g in result.groups:
            for f in g.findings:
                typer.echo(f"  - {g.name}及下级 {f.severity_text}：{f.message}", err=True)
        for path in result.outputs.values():
            typer.echo(f"已生成 {path}")
    if any(f.severity == "error" for f in result.findings):
        raise typer.Exit(1)

"""`nianbao campaign …`: the coordinator's collection round (init, collect, status, accept,
reject, feedback, merge). Each command calls one function of :mod:`nianbao.campaign`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from nianbao.cli_text import four_digit_year

campaign_app = typer.Typer(no_args_is_help=True, help="年报收集任务：下发模板、收集、跟踪、反馈、汇总。")

JSON_OPTION = typer.Option("--json", help="输出 JSON")


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


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
                    "carried_over": result.carried_over})
        return
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


@campaign_app.command("status")
def status_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """各单位报送状态（未提交、有错误、仅有警告、已通过、已确认），并写出 status.xlsx。

    示例：nianbao campaign status 2025年报
    """
    from nianbao.campaign.status import STATES, local_time, status

    report = status(directory)
    if as_json:
        _echo_json(report.to_json())
        return
    from rich.console import Console
    from rich.table import Table

    colours = {"未提交": "dim", "有错误": "red", "仅有警告": "yellow", "已通过": "green", "已确认": "bold green"}
    table = Table()
    short = {"no_wrap": True}
    folding = {"overflow": "fold"}  # long unit names fold, never cut
    for title, options in (("编码", short), ("单位", {**folding, "min_width": 10, "ratio": 1}), ("状态", short),
                           ("版本", short), ("最近报送", folding), ("按时", folding), ("错误", short), ("警告", short)):
        table.add_column(title, **options)
    for u in report.units:
        table.add_row(u.code, u.name, f"[{colours[u.state]}]{u.state}[/]", str(u.versions), local_time(u.latest_at),
                      u.timeliness, str(u.errors), str(u.warnings))
    console = Console()
    console.print(table)
    console.print("，".join(f"{s} {report.count(s)}" for s in STATES) +
                  (f"；无法识别的文件 {len(report.unidentified) + len(report.refused)} 份" if report.unidentified
                   or report.refused else ""))
    typer.echo(f"已写出 {report.board}")


@campaign_app.command("accept")
def accept_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    unit: Annotated[str, typer.Argument(help="单位编码")],
    force: Annotated[bool, typer.Option("--force", help="最新版本有错误也确认")] = False,
    note: Annotated[str, typer.Option("--note", help="备注")] = "",
) -> None:
    """确认某单位最新报送的版本（汇总只用已确认的版本）。

    示例：nianbao campaign accept 2025年报 A01
    """
    from nianbao.campaign.status import decide

    s = decide(directory, unit, "accept", note, force)
    typer.echo(f"已确认 {s.name}（{s.code}）的最新版本")


@campaign_app.command("reject")
def reject_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    unit: Annotated[str, typer.Argument(help="单位编码")],
    reason: Annotated[str, typer.Option("--reason", help="退回理由（会写进给单位的反馈）")],
) -> None:
    """退回某单位最新报送的版本，并记录理由。

    示例：nianbao campaign reject 2025年报 A01 --reason "表三数字与上报系统不一致"
    """
    from nianbao.campaign.status import decide

    s = decide(directory, unit, "reject", reason)
    typer.echo(f"已退回 {s.name}（{s.code}）的最新版本：{reason}")


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
    to: Annotated[str, typer.Option("--to", help="汇总表的其他格式：docx,html,md,pdf")] = "docx,html",
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """把各单位已确认的数据相加成本地区汇总，重新校验，写出 汇总/汇总.xlsx 和汇总表。

    示例：nianbao campaign merge 2025年报 --include-unaccepted
    """
    from nianbao.campaign.merge import merge
    from nianbao.report.build import parse_targets

    result = merge(directory, include_unaccepted, parse_targets(to))
    if as_json:
        _echo_json(result.to_json())
    else:
        typer.echo(f"汇总了 {len(result.included)} 个单位。{result.missing_note}")
        for f in result.findings:
            typer.echo(f"  - {f.severity_text} {f.code}：{f.message}", err=True)
        for path in result.outputs.values():
            typer.echo(f"已生成 {path}")
    if any(f.severity == "error" for f in result.findings):
        raise typer.Exit(1)

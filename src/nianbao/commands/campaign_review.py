"""`nianbao campaign accept | reject | assign | files | history`: the coordinator's review.

Each command calls one function of :mod:`nianbao.campaign.review` and records who acted
(``--by``, default the login name)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nianbao.commands.campaign_app import JSON_OPTION, campaign_app, echo_json
from nianbao.safetext import terminal

BY_OPTION = typer.Option("--by", help="操作人（记入登记簿），默认为当前登录用户名")


def register(app: typer.Typer) -> None:
    """Nothing to add: the commands below join ``campaign_app`` when this module is imported."""


@campaign_app.command("accept")
def accept_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    unit: Annotated[str, typer.Argument(help="单位编码")],
    force: Annotated[bool, typer.Option("--force", help="最新版本有错误也确认")] = False,
    note: Annotated[str, typer.Option("--note", help="备注")] = "",
    by: Annotated[str, BY_OPTION] = "",
) -> None:
    """确认某单位最新报送的版本（汇总只用已确认的版本）。

    示例：nianbao campaign accept 2025年报 A01
    """
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import accept

    with open_campaign(directory) as campaign:
        s = accept(campaign, unit, by, note, force)
    typer.echo(f"{s.name}（{s.code}）：{s.state}")


@campaign_app.command("reject")
def reject_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    unit: Annotated[str, typer.Argument(help="单位编码")],
    reason: Annotated[str, typer.Option("--reason", help="退回理由（会写进给单位的反馈）")],
    by: Annotated[str, BY_OPTION] = "",
) -> None:
    """退回某单位最新报送的版本，并记录理由。

    示例：nianbao campaign reject 2025年报 A01 --reason "表三数字与上报系统不一致"
    """
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import reject

    with open_campaign(directory) as campaign:
        s = reject(campaign, unit, reason, by)
    typer.echo(f"{s.name}（{s.code}）：{s.state}（{s.reason}）")


@campaign_app.command("assign")
def assign_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    file_id: Annotated[int, typer.Argument(help="文件编号（nianbao campaign files 列出）")],
    unit: Annotated[str, typer.Argument(help="单位编码")],
    reason: Annotated[str, typer.Option("--reason", help="理由，例如：已电话核实")] = "",
    by: Annotated[str, BY_OPTION] = "",
) -> None:
    """把一份收到的文件指定给某单位（待核实的、发件人不在名单中的），记入登记簿。

    示例：nianbao campaign assign 2025年报 12 A01 --reason "已电话核实，是该单位的报告"
    """
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import assign_file, unit_state

    with open_campaign(directory) as campaign:
        f = assign_file(campaign, file_id, unit, by, reason)
        s = unit_state(campaign, unit)
    typer.echo(f"文件 {f.id} 已计入 {s.name}（{s.code}）：{s.state}")


@campaign_app.command("files")
def files_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    all_files: Annotated[bool, typer.Option("--all", help="列出全部收到的文件（默认只列未计入任何单位的）")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """列出收到的文件：编号、收到时间、发件人、主题、附件名、计入的单位和状态。

    示例：nianbao campaign files 2025年报
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import files

    with open_campaign(directory) as campaign:
        records = [f for f in files(campaign) if all_files or f.unit_code is None]
        if as_json:
            echo_json([f.to_json() for f in records])
            return
        names = {u["code"]: u["name"] for u in campaign.ledger.units()}
        if not records:
            typer.echo("所有收到的文件都已计入单位" if not all_files else "还没有收到任何文件")
            return
        table = Table()
        for title in ("编号", "收到时间", "发件人", "主题", "附件名", "计入单位", "状态", "说明"):
            table.add_column(title, overflow="fold")
        for f in records:
            # terminal(): control and bidi characters from a mail never reach the terminal
            table.add_row(str(f.id), campaign.local(f.received_at), *(escape(terminal(t)) for t in (
                f.sender, f.subject, f.name, names.get(f.unit_code or "", "—"))), f.state,
                escape(terminal(f.problem)))
        Console().print(table)
        if any(f.unit_code is None for f in records):
            typer.echo("确认是哪个单位的后：nianbao campaign assign 任务目录 编号 单位编码")


@campaign_app.command("history")
def history_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    unit: Annotated[str, typer.Argument(help="单位编码或单位名称")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """某单位的报送经过：收到的每份文件、核对结果、待核实、确认和退回（谁、何时、为什么）。

    示例：nianbao campaign history 2025年报 A01
    """
    from nianbao.campaign.folder import open_campaign
    from nianbao.campaign.review import unit_history, unit_state
    from nianbao.errors import NianbaoError

    with open_campaign(directory) as campaign:
        code = unit
        if campaign.ledger.unit(unit) is None:  # a name typed instead of the code
            matches = [u["code"] for u in campaign.ledger.units() if u["name"] == unit]
            if len(matches) != 1:
                raise NianbaoError(f"名单中没有编码或名称为“{unit}”的单位")
            code = matches[0]
        events = unit_history(campaign, code)
        s = unit_state(campaign, code)
        if as_json:
            echo_json({"code": s.code, "name": s.name, "state": s.state, "events": [e.to_json() for e in events]})
            return
        typer.echo(terminal(f"{s.name}（{s.code}）：{s.state}"))
        if not events:
            typer.echo("  还没有收到任何文件")
        for e in events:
            typer.echo(terminal(f"  {campaign.local(e.at)}  {e.state}  {e.text}"))

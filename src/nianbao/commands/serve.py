"""`nianbao serve`: the coordinator's desk, a local web page over a campaign folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def serve_command(
    directory: Annotated[Path, typer.Argument(help="任务目录")],
    port: Annotated[int, typer.Option("--port", help="端口")] = 8750,
    host: Annotated[str, typer.Option("--host", help="监听地址；默认只允许本机访问，其他地址需先设置密码")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="不自动打开浏览器")] = False,
    set_password: Annotated[bool, typer.Option("--set-password", help="设置登录密码（保存加盐散列值到 campaign.toml）后退出")] = False,
    demo: Annotated[Optional[Path], typer.Option("--demo", help="任务目录不存在时，用这个示例工作簿建立一个演示任务")] = None,
) -> None:
    """打开协调人工作台：在浏览器中查看各单位状态、收件、审核、反馈和汇总。

    示例：nianbao serve 2025年报
    示例：nianbao serve 演示任务 --demo samples/张巷镇人民政府2021年报.xlsx
    """
    from nianbao.web.server import serve

    serve(directory, host=host, port=port, open_browser=not no_browser, set_password=set_password, demo=demo)

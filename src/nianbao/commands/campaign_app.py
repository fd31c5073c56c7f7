"""The ``campaign`` sub-app that every ``commands/campaign_*.py`` module adds its commands to.

It lives alone so the command modules import it, and never each other (no import circle)."""

from __future__ import annotations

import json

import typer

campaign_app = typer.Typer(no_args_is_help=True, help="年报收集任务：下发模板、收集、跟踪、反馈、汇总。")

JSON_OPTION = typer.Option("--json", help="输出 JSON")


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")

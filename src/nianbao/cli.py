"""The nianbao command line: parse arguments, call one library function, render its result.

Exit codes: 0 ok, 1 validation errors found, 2 usage or input errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer import _click as click  # typer vendors click; its exceptions live here

from nianbao.cli_text import four_digit_year
from nianbao.errors import NianbaoError, log_unexpected, resource_message

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # help and errors are nianbao's own (cli_text), plain and never cut
    pretty_exceptions_enable=False,
    help="nianbao：政府信息公开工作年度报告的模板、校验、成稿与汇总。",
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def fail(message: str) -> None:
    """Print one Chinese line to stderr and stop with the usage/input exit code."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(EXIT_USAGE)


@app.command("formats")
def formats_command(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """列出可用的报告格式及其适用年度；格式名可用于 template 的 --format。

    示例：nianbao formats
    """
    from nianbao.format import available_formats

    rows = [
        {"key": f.key, "id": f.id, "edition": f.edition, "title": f.title, "basis": f.basis,
         "first_year": f.first_year, "last_year": f.last_year, "template_version": f.template_version,
         "cells": len(f.cells), "input_cells": len(f.input_cells), "rules": len(f.rules)}
        for f in available_formats()
    ]
    if as_json:
        typer.echo(json.dumps({"formats": rows}, ensure_ascii=False, indent=2))
        return
    # One block per format, the key on its own line: it is what --format takes, so it is never cut.
    from nianbao.cli_text import terminal_width, wrap

    for r in rows:
        years = f"{r['first_year']}–{r['last_year']} 年度" if r["last_year"] else f"{r['first_year']} 年度起"
        typer.echo(f"{r['key']}（{years}）")
        about = (f"{r['title']}，依据 {r['basis']}；模板版本 {r['template_version']}，"
                 f"{r['input_cells']} 个填报单元格，{r['rules']} 条规则")
        for line in wrap(about, terminal_width(), 2, 2):
            typer.echo("  " + line)


@app.command("template")
def template_command(
    unit: Annotated[str, typer.Option("--unit", help="单位名称，例如：张巷镇人民政府")],
    year: Annotated[int, typer.Option("--year", help="报告年度（四位数字），例如：2025", callback=four_digit_year)],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出的 .xlsx 文件")],
    code: Annotated[str, typer.Option("--code", help="单位编码")] = "",
    contact: Annotated[str, typer.Option("--contact", help="联系人")] = "",
    phone: Annotated[str, typer.Option("--phone", help="联系电话")] = "",
    url: Annotated[str, typer.Option("--url", help="公开网址及栏目")] = "",
    previous: Annotated[Optional[Path], typer.Option("--previous", help="上年度填好的模板，用于结转和跨年核对")] = None,
    format_key: Annotated[Optional[str], typer.Option("--format", help="格式或版本，默认按年度选择")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """为一个单位生成锁定的 Excel 填报模板。

    示例：nianbao template --unit 张巷镇人民政府 --year 2025 -o 张巷镇.xlsx
    """
    from nianbao.format import resolve_format
    from nianbao.template import make_template

    fmt = resolve_format(year, format_key)
    prev_sub = None
    if previous is not None:
        from nianbao.read.reader import read_submission

        if not previous.is_file():
            fail(f"找不到上年度文件：{previous}")
        prev_sub = read_submission(previous)
    details = {"name": unit, "code": code, "contact": contact, "phone": phone, "url": url}
    result = make_template(fmt, details, year, output, previous=prev_sub)
    if as_json:
        typer.echo(json.dumps({"path": str(result.path), "format": result.format_key, "unit": result.unit,
                               "year": result.year, "token": result.token, "input_cells": result.input_cells,
                               "checks": result.checks,
                               "prefilled": {k: str(v) for k, v in result.prefilled.items()}},
                              ensure_ascii=False, indent=2))
    else:
        extra = f"，已从上年报告预填 {len(result.prefilled)} 个单元格" if result.prefilled else ""
        typer.echo(f"已生成 {result.path}（{result.format_key}，{result.input_cells} 个填报单元格，"
                   f"{result.checks} 项检查{extra}）")


def _register_commands() -> None:
    from nianbao.commands import register_all

    register_all(app)


_register_commands()


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command asked for: typer inspects the signature of every command
    it builds, which was a third of the time of `nianbao --help`. The overview (no command)
    gets stand-ins carrying only each command's name and docstring; an unknown name gets the
    whole app, so the error can suggest the nearest command."""
    import copy

    from typer.models import CommandInfo

    name = next((a for a in args if not a.startswith("-")), None)
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if name is not None and name not in names:
        return app
    pruned = copy.copy(app)
    if name is not None:
        # A hidden second command keeps the app a group (typer runs a lone command as the app itself).
        pruned.registered_commands = [c for c in app.registered_commands if c.name == name] + [
            CommandInfo(name="-", callback=_stand_in(""), hidden=True)]
        pruned.registered_groups = [g for g in app.registered_groups if g.name == name]
        return pruned
    stand_ins = [(c.name, c.callback.__doc__ if c.callback else "", c.hidden) for c in app.registered_commands]
    stand_ins += [(g.name, g.typer_instance.info.help, False) for g in app.registered_groups]
    pruned.registered_commands = [CommandInfo(name=n, callback=_stand_in(doc), hidden=bool(hidden))
                                  for n, doc, hidden in stand_ins]
    pruned.registered_groups = []
    return pruned


def _stand_in(doc: object):
    def command() -> None:
        pass

    command.__doc__ = doc if isinstance(doc, str) else ""
    return command


def main(argv: list[str] | None = None) -> int:
    """Entry point: turns every known error into one Chinese line and an exit code."""
    from nianbao.cli_text import localize, usage_message
    from nianbao.errors import set_work_folder

    set_work_folder(None)  # each command starts afresh; a campaign command sets its own folder
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(_app_for(args))
    localize(command)
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        result = command.main(args=args, standalone_mode=False, prog_name="nianbao")
    except NianbaoError as err:
        typer.echo(f"错误：{err}", err=True)
        return EXIT_USAGE
    except click.exceptions.NoArgsIsHelpError as err:
        typer.echo(err.ctx.get_help(), err=True)  # `nianbao` alone, or a group without its command
        return EXIT_USAGE
    except click.exceptions.UsageError as err:
        where = err.ctx.command_path if err.ctx is not None else "nianbao"
        typer.echo(f"参数错误：{usage_message(err, args)}（用 {where} --help 查看用法）", err=True)
        return EXIT_USAGE
    except typer.Abort:
        typer.echo("已取消", err=True)
        return EXIT_USAGE
    except typer.Exit as err:
        return err.exit_code
    except click.exceptions.ClickException as err:
        typer.echo(f"错误：{err.format_message()}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        typer.echo("已中断", err=True)
        return EXIT_USAGE
    except Exception as err:  # a bug met by unforeseen input: one line for the user, details in a file
        fault = resource_message(err)
        if fault is not None:
            typer.echo(f"错误：{fault}", err=True)
            return EXIT_USAGE
        log = log_unexpected(err, f"nianbao {' '.join(sys.argv[1:] if argv is None else argv)}")
        where = f"详细信息已写入 {log}，请把这个文件和所用的命令发给维护人员" if log else "请把所用的命令发给维护人员"
        typer.echo(f"内部错误：nianbao 遇到了意外问题，没有完成这次操作（已完成的部分不会丢失）。{where}。", err=True)
        return EXIT_USAGE
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""`nianbao check` and `nianbao annotate`: validate returned workbooks, write annotated copies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: Files a folder never contributes: Excel/WPS lock files and hidden files.
SKIPPED_PREFIXES = ("~$", ".~", ".")


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to check: each file as given; each folder's files (not sub-folders), sorted.

    A folder contributes every file, not only *.xlsx, so a .xls or .et sent back by mistake is
    reported instead of silently skipped. What a folder holds that is not read (hidden and
    temporary files, links, pipes, sub-folders) is named on stderr with the reason.
    Raises NianbaoError for a path that does not exist.
    """
    from nianbao.errors import NianbaoError
    from nianbao.safetext import terminal

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                why = _skip_reason(entry)
                if why is None:
                    files.append(entry)
                else:
                    typer.echo(terminal(f"已跳过 {entry}：{why}"), err=True)
        elif path.exists():
            files.append(path)
        else:
            raise NianbaoError(f"找不到文件或文件夹：{path}")
    return files


def _skip_reason(entry: Path) -> str | None:
    if entry.is_symlink():
        return "是指向别处的链接（快捷方式），请放入文件本身"
    if entry.is_dir():
        return "是子文件夹（不会逐层查找），请直接指定这个文件夹"
    if not entry.is_file():
        return "不是普通文件（如管道、设备）"
    if entry.name.startswith(SKIPPED_PREFIXES):
        return "是隐藏文件或 Office 打开文件时留下的临时文件"
    return None


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        paths: Annotated[list[Path], typer.Argument(help="要核对的 .xlsx 文件或文件夹（可多个）")],
        previous: Annotated[Optional[Path], typer.Option("--previous", help="同一单位上一年度的报送文件，用于跨年度核对")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """核对报送回来的年报工作簿，列出每个文件的全部问题。

        退出码：0 没有错误；1 有文件存在错误；2 有文件无法读取或参数有误。

        示例：nianbao check 收件箱/ --previous 去年/张巷镇.xlsx
        """
        from nianbao.check import check_files
        from nianbao.errors import NianbaoError

        if previous is not None and not previous.is_file():
            raise NianbaoError(f"找不到上年度文件：{previous}")
        files = expand_paths(paths)
        if not files:
            raise NianbaoError("没有找到要核对的文件")
        finish(reports=check_files(files, previous, progress=progress_bar(len(files))), as_json=as_json)

    @app.command("annotate")
    def annotate_command(
        path: Annotated[Path, typer.Argument(help="单位报送的 .xlsx 文件")],
        output: Annotated[Path, typer.Option("-o", "--output", help="写出的批注版 .xlsx")],
        previous: Annotated[Optional[Path], typer.Option("--previous", help="同一单位上一年度的报送文件")] = None,
    ) -> None:
        """生成退回单位的批注版：新模板中填入单位的数据，问题单元格标红并加批注，首页列出全部意见。

        原文件不会被改动。退出码：0 没有错误；1 有错误；2 文件无法读取。

        示例：nianbao annotate 收件箱/张巷镇.xlsx -o 退回/张巷镇-核对意见.xlsx
        """
        from nianbao.annotate import annotate
        from nianbao.errors import NianbaoError

        if not path.is_file():
            raise NianbaoError(f"找不到文件：{path}")
        if previous is not None and not previous.is_file():
            raise NianbaoError(f"找不到上年度文件：{previous}")
        report = annotate(path, output, previous)
        typer.echo(f"已写出 {output}：{report.errors} 个错误，{report.warnings} 个警告")
        raise typer.Exit(EXIT_INVALID if report.errors else EXIT_OK)


def progress_bar(total: int):
    """A ``progress(done, total)`` drawing a bar on stderr for long runs at a terminal, else None."""
    import sys

    if total < 20 or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task("核对中", total=total)
    bar.start()

    def step(done: int, _total: int) -> None:
        bar.update(task, completed=done)
        if done >= _total:
            bar.stop()

    return step


def finish(reports, as_json: bool) -> None:
    """Print file reports (JSON or tables) and stop with check's exit code (audit shares it)."""
    if as_json:
        from nianbao.findings import to_json

        typer.echo(to_json([r.to_json() for r in reports]))
    else:
        render_reports(reports)
    if any(r.unreadable for r in reports):
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_INVALID if any(r.errors for r in reports) else EXIT_OK)


def render_reports(reports) -> None:
    """Findings grouped by file (one rich table each), then a one-line summary."""
    from rich.console import Console
    from rich.table import Table

    from rich.markup import escape

    from nianbao.findings import SEVERITY_TEXT, grouped
    from nianbao.safetext import terminal

    def shown(text: object) -> str:  # file names and user text: escapes shown, never obeyed
        return escape(terminal(text))

    console = Console(highlight=False, soft_wrap=False)
    for report in reports:
        sub = report.submission
        head = f"[bold]{shown(report.path)}[/bold]"
        if sub is not None:
            head += f"  {shown(sub.unit_name)} · {sub.year} 年度 · {sub.format.key}"
        console.print(head)
        if report.unreadable:
            console.print(f"  [red]无法读取[/red]：{shown(report.unreadable)}")
            continue
        if not report.findings:
            console.print("  [green]没有发现问题[/green]")
            continue
        table = Table(show_lines=False, expand=True)
        table.add_column("级别", no_wrap=True)
        table.add_column("代码", no_wrap=True)
        table.add_column("位置", overflow="fold")
        table.add_column("问题", overflow="fold", ratio=1)  # Chinese has no spaces to wrap at
        for f, place, message in grouped(report.findings):
            colour = "red" if f.severity == "error" else "yellow"
            table.add_row(f"[{colour}]{SEVERITY_TEXT[f.severity]}[/{colour}]", f.code, shown(place), shown(message))
        console.print(table)
        console.print(f"  {report.errors} 个错误，{report.warnings} 个警告")
    bad = sum(1 for r in reports if r.unreadable)
    with_errors = sum(1 for r in reports if not r.unreadable and r.errors)
    ok = len(reports) - bad - with_errors
    console.print(f"共核对 {len(reports)} 个文件：{ok} 个无错误，{with_errors} 个有错误，{bad} 个无法读取；"
                  f"合计 {sum(r.errors for r in reports)} 个错误、{sum(r.warnings for r in reports)} 个警告。")

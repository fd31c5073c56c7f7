"""`nianbao import` and `nianbao audit`: read published reports (.docx, .html, .txt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("audit")(audit_command)


def import_command(
    report: Annotated[Path, typer.Argument(help="发布的年度报告：.docx、.html 或从 Word/网页复制的 .txt")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="写出已填好数据的 nianbao 模板（.xlsx）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出读到的数据")] = False,
) -> None:
    """读取已发布的年度报告（Word、网页或纯文本），得到表格数字和正文；可写成已填好的模板。

    用上年发布的报告生成本单位的填报模板，或把报告数据交给其他程序。

    示例：nianbao import 张巷镇2021年报.txt -o 张巷镇2021.xlsx
    """
    from nianbao.audit import deviation_finding
    from nianbao.findings import as_text
    from nianbao.importer import import_report, to_workbook

    result = import_report(report)
    sub = result.submission
    written = to_workbook(result, output) if output is not None else None
    notes = [deviation_finding(sub.format, d) for d in result.deviations]
    if as_json:
        typer.echo(json.dumps({
            "path": str(report), "kind": result.kind, "format": sub.format.key, "edition": sub.format.edition,
            "unit": sub.unit_name, "year": sub.year, "title": result.structure.title if result.structure else None,
            "unit_details": sub.unit,
            "values": {k: (None if v is None else str(v)) for k, v in sub.values.items()},
            "raw": {k: str(v) for k, v in sub.raw.items()},
            "narratives": sub.narratives,
            "deviations": [f.to_json() for f in notes],
            "output": str(written.path) if written else None,
            "skipped": written.skipped if written else {},
        }, ensure_ascii=False, indent=2))
        return
    found = sum(1 for v in sub.values.values() if v is not None)
    typer.echo(f"{report}：{sub.unit_name or '（未写单位名称）'} {sub.year} 年度，{sub.format.basis}格式，"
               f"读到 {found}/{len(sub.format.cells)} 个数字、{len(sub.narratives)} 段正文")
    for f in notes:
        typer.echo(f"  提示：{as_text(f)}")
    if written is not None:
        typer.echo(f"已写出 {written.path}（{written.format_key}，填入 {written.filled} 个数字、"
                   f"{written.narratives} 段正文）")
        for cell_id, why in list(written.skipped.items())[:20]:
            typer.echo(f"  未填入 {cell_id}：{why}")
        if len(written.skipped) > 20:
            typer.echo(f"  ……另有 {len(written.skipped) - 20} 个单元格未填入")


def audit_command(
    reports: Annotated[list[Path], typer.Argument(help="发布的年度报告（.docx/.html/.txt）或所在文件夹，可多个")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """审核已发布的年度报告：表格勾稽关系、正文与表格一致性，以及是否符合官方格式。

    逐个报告列出问题；退出码：0 没有错误；1 有报告存在错误；2 有文件无法读取或参数有误。

    示例：nianbao audit 已发布年报/ --json
    """
    from nianbao.audit import audit
    from nianbao.errors import NianbaoError

    files = _expand(reports)
    if not files:
        raise NianbaoError("没有找到要审核的报告")
    from nianbao.commands.check import finish

    finish([audit(f) for f in files], as_json)


def _expand(paths: list[Path]) -> list[Path]:
    from nianbao.commands.check import expand_paths

    return expand_paths(paths)


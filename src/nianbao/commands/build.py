"""`nianbao build`: compile a checked workbook into the report (.docx, HTML, Markdown, PDF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

MAX_LISTED = 20


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)


def build_command(
    path: Annotated[Path, typer.Argument(help="填好的报送模板（.xlsx）")],
    outdir: Annotated[Optional[Path], typer.Option("-o", "--outdir", help="输出目录，默认与工作簿相同")] = None,
    to: Annotated[Optional[str], typer.Option(
        "--to", help="输出格式，逗号分隔：docx,html,md,pdf,graphic（graphic 即一图读懂：.svg/.png/.pdf）；"
                     "默认全部（未装 LibreOffice 时不含 pdf）")] = None,
    narrative: Annotated[Optional[Path], typer.Option("--narrative", help="正文另用 .docx 或 .md 文件（按标题对应各部分）")] = None,
    force: Annotated[bool, typer.Option("--force", help="有错误也生成，并在各文件上标明“草稿”")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """校验工作簿并生成年度报告：Word、网页、Markdown、PDF 和一图读懂。

    有错误时不生成（退出码 1）；加 --force 生成标有“草稿”的版本。

    示例：nianbao build samples/张巷镇人民政府2021年报.xlsx -o out

    只要 Word 和 PDF：nianbao build 张巷镇.xlsx -o out --to docx,pdf
    """
    from nianbao.report.build import build

    result = build(path, outdir, to, narrative, force)
    if as_json:
        typer.echo(json.dumps({
            "source": str(result.source), "title": result.title, "refused": result.refused,
            "draft": result.draft, "outputs": {k: str(v) for k, v in result.outputs.items()},
            "font_substitutions": result.font_substitutions, "skipped": result.skipped,
            "findings": [f.to_dict() for f in result.findings],
            "narrative": None if result.narrative is None else {
                "matched": sorted(result.narrative.texts), "missing": result.narrative.missing,
                "unmatched": result.narrative.unmatched},
        }, ensure_ascii=False, indent=2))
        if result.refused:
            raise typer.Exit(1)
        return
    if result.narrative is not None:
        for message in result.narrative.messages():
            typer.echo(f"提示：{message}", err=True)
    if result.refused:
        errors = result.errors
        typer.echo(f"{result.source}：有 {len(errors)} 处错误，未生成报告。请改正后重试，"
                   "或加 --force 生成草稿。", err=True)
        for f in errors[:MAX_LISTED]:
            place = f"{f.place}：" if f.place else ""
            typer.echo(f"  - {place}{f.message}", err=True)
        if len(errors) > MAX_LISTED:
            typer.echo(f"  ……另有 {len(errors) - MAX_LISTED} 处错误，可用 nianbao check 查看全部", err=True)
        raise typer.Exit(1)
    if result.draft:
        typer.echo(f"注意：工作簿有 {len(result.errors)} 处错误，已按 --force 生成草稿（各文件均标明“草稿”），"
                   "不得公开发布。", err=True)
    elif result.warnings:
        typer.echo(f"提示：有 {len(result.warnings)} 处警告，请核对后再发布（nianbao check 查看详情）。", err=True)
    for target, out in result.outputs.items():
        typer.echo(f"已生成 {out}")
    for target, why in result.skipped.items():
        typer.echo(f"提示：未生成{'一图读懂' if target == 'graphic' else target}：{why}", err=True)
    if result.font_substitutions:
        pairs = "，".join(f"{official}→{face}" for official, face in result.font_substitutions.items()
                         if official != face)
        typer.echo(f"PDF 中的字体替换（本机没有公文字体，Word 文件仍用原字体名）：{pairs}")

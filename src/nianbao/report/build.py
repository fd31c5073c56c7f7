"""Compile one filled workbook into the report: validate, build the model, write each output.

A workbook with errors is refused (the result says so and carries the findings); ``force``
compiles it anyway and marks every output as a draft (草稿). Outputs are written atomically
(temporary file in the target folder, then rename), so a crash never leaves half a report.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.atomic import atomic_write
from nianbao.check import FileReport, check_file, validate
from nianbao.errors import InputFileError, NianbaoError
from nianbao.findings import Finding
from nianbao.format.model import defined_name
from nianbao.report.model import ReportDocument, build_document
from nianbao.report.narrative_source import NarrativeSource, read_narrative_file
from nianbao.sheets import NARRATIVE_SHEET

TARGETS = ("docx", "html", "md", "pdf", "graphic")
GRAPHIC_FORMATS = ("svg", "png", "pdf")  # 一图读懂 is written in each of these
GRAPHIC_SUFFIX = "一图读懂"


def default_targets() -> tuple[str, ...]:
    """Everything: the PDF too when LibreOffice is installed (the README says so)."""
    from nianbao.report.pdf import find_soffice

    return ("docx", "html", "md", "graphic") + (("pdf",) if find_soffice() else ())


DEFAULT_TARGETS = ("docx", "html", "md", "graphic")  # without LibreOffice
_NARRATIVE_NAME = defined_name("narrative.")


@dataclass
class BuildResult:
    source: Path
    report: FileReport
    outputs: dict[str, Path] = field(default_factory=dict)  # target -> written file
    findings: list[Finding] = field(default_factory=list)
    narrative: NarrativeSource | None = None
    draft: bool = False
    refused: bool = False  # errors found and not forced: nothing written
    title: str = ""
    font_substitutions: dict[str, str] = field(default_factory=dict)  # official name → face in the PDF
    skipped: dict[str, str] = field(default_factory=dict)  # a default output that could not be made → why

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def parse_targets(text: str | Iterable[str] | None) -> tuple[str, ...]:
    if text is None:
        return default_targets()
    items = text.split(",") if isinstance(text, str) else list(text)
    targets = []
    for item in (i.strip().lower().lstrip(".") for i in items):
        if not item:
            continue
        item = {"markdown": "md", "htm": "html", "一图读懂": "graphic", "svg": "graphic", "png": "graphic"}.get(item, item)
        if item not in TARGETS:
            raise NianbaoError(f"不支持的输出格式“{item}”，可选：{','.join(TARGETS)}")
        if item not in targets:
            targets.append(item)
    if not targets:
        raise NianbaoError(f"请至少指定一种输出格式：{','.join(TARGETS)}")
    return tuple(targets)


def output_name(title: str, ext: str) -> str:
    """The title as a file name; characters Windows forbids in names become "_"."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", title).strip(" .") or "report"
    return f"{safe}.{ext}"


def build(path: Path, outdir: Path | None = None, to: Iterable[str] | str | None = None,
          narrative: Path | None = None, force: bool = False) -> BuildResult:
    path = Path(path)
    targets = parse_targets(to)
    if not path.is_file():
        raise InputFileError(path, "找不到文件")
    report = check_file(path)
    if report.unreadable is not None or report.submission is None:
        raise NianbaoError(report.unreadable or f"{path}：无法读取")
    sub = report.submission
    result = BuildResult(path, report, findings=list(report.findings), title=sub.title)
    texts: dict[str, str] = {}
    if narrative is not None:
        result.narrative = read_narrative_file(Path(narrative), sub.format)
        texts = result.narrative.texts
        result.findings = _with_narratives(report, texts)
    if result.errors and not force:
        result.refused = True
        return result
    result.draft = bool(result.errors)
    outdir = Path(outdir) if outdir is not None else path.parent
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NianbaoError(f"无法创建输出目录 {outdir}：{err.strerror or err}") from None
    doc = build_document(sub, texts, draft=result.draft)
    optional = ("graphic",) if to is None else ()  # asked for by default only: a missing font skips it
    result.outputs = write_outputs(doc, outdir, targets, result.font_substitutions, optional, result.skipped)
    return result


def _with_narratives(report: FileReport, texts: dict[str, str]) -> list[Finding]:
    """Findings with the narrative checks redone on the texts from the --narrative file."""
    sub = report.submission
    assert sub is not None

    def about_narrative(f: Finding) -> bool:
        return f.sheet == NARRATIVE_SHEET or (f.name or "").startswith(_NARRATIVE_NAME)

    original = dict(sub.narratives)
    sub.narratives.update(texts)
    try:
        redone = validate(sub)
    finally:
        sub.narratives = original
    kept = [f for f in report.findings if not about_narrative(f) or f.name and _narrative_of(f) not in texts]
    seen = {(f.code, f.message, f.cell) for f in kept}
    return kept + [f for f in redone if about_narrative(f) and (f.code, f.message, f.cell) not in seen]


def _narrative_of(f: Finding) -> str:
    return (f.name or "").removeprefix(_NARRATIVE_NAME)


def write_outputs(doc: ReportDocument, outdir: Path, targets: Iterable[str],
                  substitutions: dict[str, str] | None = None, optional: Iterable[str] = (),
                  skipped: dict[str, str] | None = None) -> dict[str, Path]:
    """Write each target; ``substitutions`` receives the PDF's font substitutions. An
    ``optional`` target that cannot be made is left out, the reason put in ``skipped``."""
    from nianbao.report.docx import write_docx
    from nianbao.report.html import render_html
    from nianbao.report.markdown import render_markdown

    targets = tuple(targets)
    outputs: dict[str, Path] = {}
    writers: dict[str, Callable[[Path], None]] = {
        "docx": lambda tmp: write_docx(doc, tmp),
        "html": lambda tmp: tmp.write_text(render_html(doc), encoding="utf-8"),
        "md": lambda tmp: tmp.write_text(render_markdown(doc), encoding="utf-8"),
    }
    for target in targets:
        if target in writers:
            outputs[target] = atomic_write(outdir / output_name(doc.title, target), writers[target])
    if "pdf" in targets:
        from nianbao.report.pdf import docx_to_pdf

        pdf = outdir / output_name(doc.title, "pdf")
        if "docx" in outputs:
            made = docx_to_pdf(outputs["docx"], pdf)
        else:
            with tempfile.TemporaryDirectory(prefix="nianbao-build-") as tmp:
                docx = Path(tmp) / "report.docx"
                write_docx(doc, docx)
                made = docx_to_pdf(docx, pdf)
        if substitutions is not None:
            from nianbao.report.docx import FONTS_USED

            substitutions.update((k, v) for k, v in made.items() if k in FONTS_USED)
        outputs["pdf"] = pdf
    if "graphic" in targets:
        try:
            outputs.update(write_graphic_files(doc, outdir))
        except NianbaoError as err:
            if "graphic" not in optional or skipped is None:
                raise
            skipped["graphic"] = str(err)
    return outputs


def write_graphic_files(doc: ReportDocument, outdir: Path) -> dict[str, Path]:
    """一图读懂 as SVG, PNG and a PDF page, each written atomically."""
    from nianbao.report.graphic import graphic_data, render

    data = graphic_data(doc)
    finals = {ext: outdir / output_name(doc.title + GRAPHIC_SUFFIX, ext) for ext in GRAPHIC_FORMATS}
    with tempfile.TemporaryDirectory(prefix="nianbao-graphic-", dir=outdir) as tmp:
        temps = {ext: Path(tmp) / f"graphic.{ext}" for ext in GRAPHIC_FORMATS}
        render(data, temps)
        for ext, final in finals.items():
            temps[ext].replace(final)
    return {f"graphic.{ext}": path for ext, path in finals.items()}

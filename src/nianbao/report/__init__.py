"""Compile a validated submission into the published report (.docx, HTML, Markdown, PDF)."""

from nianbao.report.build import BuildResult, build
from nianbao.report.model import ReportDocument, build_document

__all__ = ["BuildResult", "ReportDocument", "build", "build_document"]

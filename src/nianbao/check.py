"""Check filled workbooks: read, validate every rule in Python, collect findings per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nianbao.errors import InputFileError, NianbaoError
from nianbao.findings import Finding, from_outcome
from nianbao.reader import read_submission
from nianbao.rules import check as check_rule
from nianbao.submission import Submission
from nianbao.template import active_rules


@dataclass
class FileReport:
    path: Path
    submission: Submission | None
    findings: list[Finding] = field(default_factory=list)
    unreadable: str | None = None  # why the file could not be read at all

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def valid(self) -> bool:
        return self.unreadable is None and self.errors == 0


def validate(sub: Submission, previous: Submission | None = None) -> list[Finding]:
    """Every rule of the format evaluated on the submission's numbers."""
    if previous is not None:
        sub.previous = {k: v for k, v in previous.values.items()}
    values = sub.rule_values()
    findings = []
    for rule in active_rules(sub.format, bool(sub.previous)):
        outcome = check_rule(rule, values)
        if not outcome.ok:
            findings.append(from_outcome(outcome, sub))
    return findings


def check_file(path: Path, previous: Path | None = None) -> FileReport:
    """Read and validate one workbook; a bad file becomes a report, never an exception."""
    try:
        sub = read_submission(path)
        prev = read_submission(previous) if previous else None
    except NianbaoError as err:
        return FileReport(path, None, unreadable=str(err))
    return FileReport(path, sub, validate(sub, prev))


__all__ = ["FileReport", "InputFileError", "check_file", "validate"]

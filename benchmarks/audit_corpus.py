"""Audit quality on the corpus of real published reports (tests/fixtures/reports/real/).

    python benchmarks/audit_corpus.py [-v] [--holdout]

``holdout = true`` marks reports collected after the importer was tuned on the others, their
expectations written before audit was run on them; ``--holdout`` scores only those.

Each report ``NAME.txt`` (saved as found on a government site or a mirror) has ``NAME.toml``:
its source URL and the findings a reviewer would write (``[[expect]]``: a code, or ``codes`` for
alternatives, and optionally ``match``, text the finding's message or value must contain).
A finding counts as

- **expected** when an expectation matches it (several findings may share one expectation:
  three empty cells of one row are one reviewer's note);
- **neutral** when its code is listed in the report's ``neutral`` or, for a copy that ends
  where the stored page ends (``truncated = true``), when it is about something after the cut
  (a missing part, table, row, header, narrative or fee statement);
- a **false alarm** otherwise (errors and warnings alike).

Printed: recall (expectations met / expectations), false alarms per report, refusals (reports
audit could not read although their text has a year). Exit code 0 always: this measures.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "reports" / "real"
#: What a copy cut off where the stored page ends lacks through no fault of the report.
AFTER_THE_CUT = {"AUDIT-PART-MISSING", "AUDIT-TABLE-MISSING", "AUDIT-ROW-MISSING", "AUDIT-HEADER-MISSING",
                 "AUDIT-CELLS-MISSING", "AUDIT-FEES", "REQUIRED", "AUDIT-TRUNCATED"}
_YEAR = re.compile(r"(?:19|20)\d\d\s*年")


@dataclass
class Scored:
    name: str
    expected: int = 0
    met: int = 0
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    refused: str | None = None


def load_case(txt: Path) -> dict:
    return tomllib.loads(txt.with_suffix(".toml").read_text(encoding="utf-8"))


def cases() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*") if p.suffix in (".txt", ".html", ".htm") and p.with_suffix(".toml").exists())


def _matches(expect: dict, finding) -> bool:
    codes = expect.get("codes") or [expect["code"]]
    if finding.code not in codes:
        return False
    want = expect.get("match")
    return not want or want in (finding.message or "") or want in (finding.value or "")


def score(path: Path) -> Scored:
    from nianbao.audit import audit

    case = load_case(path)
    result = Scored(path.stem)
    expects = case.get("expect", [])
    result.expected = len(expects)
    report = audit(path)
    if report.unreadable is not None:
        if _YEAR.search(path.read_text(encoding="utf-8", errors="replace")):
            result.refused = report.unreadable
        result.missed = [e.get("code") or "/".join(e["codes"]) for e in expects]
        return result
    neutral = set(case.get("neutral", [])) | (AFTER_THE_CUT if case.get("truncated") else set())
    met = [False] * len(expects)
    for f in report.findings:
        hits = [k for k, e in enumerate(expects) if _matches(e, f)]
        for k in hits:
            met[k] = True
        if not hits and f.code not in neutral:
            result.false_alarms.append(f"{f.code}: {f.message}")
    result.met = sum(met)
    result.missed = [e.get("code") or "/".join(e["codes"]) for e, ok in zip(expects, met) if not ok]
    return result


def run(paths: list[Path] | None = None) -> list[Scored]:
    return [score(p) for p in (paths or cases())]


def summary(results: list[Scored]) -> dict[str, float]:
    expected = sum(r.expected for r in results)
    met = sum(r.met for r in results)
    alarms = sum(len(r.false_alarms) for r in results)
    return {"reports": len(results), "expected": expected, "met": met,
            "recall": met / expected if expected else 1.0, "false_alarms": alarms,
            "false_alarms_per_report": alarms / len(results) if results else 0.0,
            "refusals": sum(1 for r in results if r.refused)}


def main(argv: list[str]) -> None:
    paths = cases()
    if "--holdout" in argv:  # only the reports collected after tuning, scored untuned
        paths = [p for p in paths if load_case(p).get("holdout")]
    results = run(paths)
    verbose = "-v" in argv
    for r in results:
        if verbose or r.refused or r.missed or r.false_alarms:
            print(f"{r.name}: {r.met}/{r.expected}" + (f"  REFUSED {r.refused}" if r.refused else ""))
            for m in r.missed:
                print(f"    missed      {m}")
            for a in r.false_alarms:
                print(f"    false alarm {a[:150]}")
    s = summary(results)
    print(f"reports {s['reports']}  recall {s['met']}/{s['expected']} = {s['recall']:.0%}  "
          f"false alarms {s['false_alarms']} ({s['false_alarms_per_report']:.2f} per report)  refusals {s['refusals']}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Parity: the one-pass reader finds exactly what the old openpyxl reader found.

The old reader (tests/reference/openpyxl_reader.py, kept only here) and the new one read the
same generated workbooks; the current drift detection and validation run on what each read,
and the findings, the numbers, the stored contents, texts, identity and locations must be
identical; a file one refuses the other refuses with the same code.

The workbooks: nianbao's writer (xlsxwriter) with varied fills (valid, broken sums, blanks,
numbers as text, full-width digits, a town, the 2019 edition), each then drifted by editing its
XML (protection and structure lock removed, sheets renamed or dropped, names lost, labels
changed, totals and checks typed over, formulas changed, validation gone, properties from
another unit, never recalculated, dates, booleans, errors, inline strings, damaged and
hostile packages); re-saved by openpyxl (with rows inserted, sheets renamed, added, deleted);
and saved by LibreOffice after a user's edits (typed numbers and text, cleared cells, rows
inserted, protection removed, totals typed over).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.workbooks import TOWN, UNIT, as_row_map, consistent_fill, edit_part, sheet_part, write
from nianbao.format import load_format

T2, T3, T4, CHECK = "表二 主动公开", "表三 依申请公开", "表四 复议诉讼", "检查"


# ----------------------------------------------------------------------------- what each reader sees


def outcome(path: str, reference: bool) -> str:
    """Everything a check depends on, as one canonical JSON text."""
    from nianbao import drift
    from nianbao.check import validate
    from nianbao.errors import InputFileError

    if reference:
        from reference.openpyxl_reader import reference_reading as read
    else:
        from nianbao.read.reader import read_workbook as read
    try:
        reading = read(Path(path))
    except InputFileError as err:
        return json.dumps({"unreadable": err.code})
    sub = reading.submission
    findings = [f.to_json() for f in drift.detect(reading) + validate(sub)]
    return json.dumps({
        "findings": sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in findings),
        "values": {k: str(v) for k, v in sub.values.items()},
        "raw": {k: repr(v) for k, v in sub.raw.items()},
        "narratives": sub.narratives, "unit": sub.unit, "previous": {k: str(v) for k, v in sub.previous.items()},
        "identity": [sub.format.key, sub.year, sub.token, sub.template_version],
        "locations": {k: [v.sheet, v.cell, v.name] for k, v in sub.locations.items()},
        "places": {k: [p.sheet, p.cell, p.how] for k, p in reading.places.items()},
        "unlocated": [e.ident for e in reading.unlocated],
    }, sort_keys=True, ensure_ascii=False)


def both(path: str) -> tuple[str, str, str]:
    return path, outcome(path, True), outcome(path, False)


def assert_parity(paths: list[Path]) -> tuple[set[str], set[str]]:
    """Compare both readers on every path; return the outcomes seen (read or a refusal code)
    and the finding codes seen, so a test can show its corpus exercises what it claims."""
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(both, [str(p) for p in paths], chunksize=4))
    differing = [(Path(p).name, old, new) for p, old, new in results if old != new]
    assert not differing, _explain(differing)
    seen = [json.loads(old) for _, old, _ in results]
    codes = {json.loads(f)["code"] for s in seen for f in s.get("findings", ())}
    return {s.get("unreadable", "read") for s in seen}, codes


def _explain(differing) -> str:
    name, old, new = differing[0]
    old, new = json.loads(old), json.loads(new)
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    detail = {k: (old.get(k), new.get(k)) for k in keys}
    return f"{len(differing)} files differ, e.g. {name}: {json.dumps(detail, ensure_ascii=False)[:3000]}"


# ----------------------------------------------------------------------------- the corpus


def bases(folder: Path) -> list[Path]:
    """Workbooks written by nianbao's writer with varied fills."""
    fmt21, fmt19 = load_format("gov-info-disclosure-2021"), load_format("gov-info-disclosure-2019")
    out = []
    for i in range(8):
        rng = random.Random(100 + i)
        fmt = fmt19 if i == 7 else fmt21
        values: dict[str, object] = dict(consistent_fill(fmt, rng))
        if i == 1:
            values["t3.disclosed.natural"] += 1  # a broken balance
        if i == 2:
            values["t3.new.natural"], values["t3.new.business"] = " ８ ", "1,234"  # full width, separator
        if i == 3:
            for cell in list(values)[:5]:
                values[cell] = None  # blanks
        if i == 4:
            values["t3.new.natural"], values["t2.fees.amount"] = "12", "abc"  # text number, not a number
        if i == 5:
            values["t3.new.total"] = Decimal(99)  # a total typed over
        unit = TOWN if i == 6 else UNIT
        if i == 6:
            values[next(c for c in fmt.cells if c.startswith("t2.regulations"))] = Decimal(2)
        year = fmt.first_year + (1 if i % 2 else 0)
        out.append(write(fmt, folder / f"base{i}.xlsx", values, unit=unit, year=year, token=f"tok{i}"))
    return out


def _sub(pattern: str, repl: str, count: int = 1, flags: int = 0, must: bool = False):
    """The edit; with ``must``, a pattern not found is a broken test, not a quiet unchanged copy."""
    def edit(xml: str) -> str:
        out, n = re.subn(pattern, repl, xml, count=count, flags=flags)
        assert n or not must, f"{pattern} is not in the part"
        return out
    return edit


def _first_formula_cell(xml: str) -> str:
    return re.search(r'<c r="([A-Z]+\d+)"[^>]*><f>', xml).group(1)


def _typed_over(xml: str) -> str:
    a1 = _first_formula_cell(xml)
    return re.sub(rf'<c r="{a1}"( s="\d+")?[^>]*><f>[^<]*</f>(<v>[^<]*</v>)?</c>', rf'<c r="{a1}"\1><v>7</v></c>', xml)


def _formula_changed(xml: str) -> str:
    a1 = _first_formula_cell(xml)
    return re.sub(rf'(<c r="{a1}"[^>]*><f>)[^<]*(</f>)', r"\g<1>1+1\2", xml)


def _input_cell(xml: str, a1: str, cell: str) -> str:
    """Replace input cell ``a1`` with ``cell`` (a format string of the style attribute)."""
    m = re.search(rf'<c r="{a1}"( s="\d+")?[^>]*?(/>|>.*?</c>)', xml)
    return xml[:m.start()] + cell.format(a1=a1, s=m.group(1) or "") + xml[m.end():]


def _dates(xml: str) -> str:
    """The number cells' own formats show dates, as a user formatting cells as dates."""
    return re.sub(r'formatCode="[^"@]+"', 'formatCode="yyyy-mm-dd"', xml)


XML_VARIANTS = {
    "unprotected": (T3, _sub(r"<sheetProtection[^>]*/>", "")),
    "structure-unlocked": ("xl/workbook.xml", _sub(r"<workbookProtection[^>]*/>", "")),
    "structure-zero": ("xl/workbook.xml", _sub(r'lockStructure="1"', 'lockStructure="0"')),
    "renamed": ("xl/workbook.xml", lambda xml: xml.replace(T2, "表二")),
    "renamed-sheet-only": ("xl/workbook.xml", _sub(rf'<sheet name="{T4}"', '<sheet name="表四"')),
    "sheet-dropped": ("xl/workbook.xml", _sub(rf'<sheet name="{T4}"[^>]*/>', "")),
    "name-lost": ("xl/workbook.xml", _sub(r'<definedName name="nb_t3_new_natural"[^<]*</definedName>', "")),
    "names-lost": ("xl/workbook.xml", _sub(r'<definedName name="nb_t3_[^"]*"[^<]*</definedName>', "", count=0)),
    "name-ref": ("xl/workbook.xml", _sub(r'(<definedName name="nb_t3_new_business"[^>]*>)[^<]*', r"\1#REF!")),
    "name-moved": ("xl/workbook.xml", _sub(r"(<definedName name=\"nb_t3_new_natural\"[^>]*>[^<]*)\$6<", r"\g<1>$7<")),
    "label-changed": ("xl/sharedStrings.xml", lambda xml: xml.replace("一、本年新收政府信息公开申请数量", "改过的标签", 1)),
    "name-and-label-lost": ("xl/workbook.xml+xl/sharedStrings.xml", (
        _sub(r'<definedName name="nb_t3_new_[a-z_]*"[^<]*</definedName>', "", count=0),
        lambda xml: xml.replace("一、本年新收政府信息公开申请数量", "改过的标签", 1))),
    "check-typed-over": (CHECK, _sub(r'<c r="D3"( s="\d+")?[^>]*><f>.*?</f><v>[^<]*</v></c>',
                                     r'<c r="D3"\1 t="inlineStr"><is><t>通过</t></is></c>')),
    "check-changed": (CHECK, _sub(r'(<c r="D4"[^>]*><f>)[^<]*(</f>)', r'\1"通过"\2')),
    "total-typed-over": (T3, _typed_over),
    "formula-changed": (T3, _formula_changed),
    "validation-gone": (T3, _sub(r'<dataValidation [^>]*sqref="D6"[^>]*>.*?</dataValidation>', "", flags=re.S)),
    "validations-gone": (T3, _sub(r"<dataValidations.*?</dataValidations>", "", flags=re.S)),
    "other-unit": ("docProps/custom.xml", lambda xml: xml.replace(UNIT["name"], "丰城市财政局")),
    "old-version": ("xl/sharedStrings.xml", _sub(r"<t>(\d+\.\d+)</t>", "<t>2020.9</t>")),
    "not-recalculated": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s}><v>55</v></c>')),
    "number-as-text": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="str"><v>13.0</v></c>')),
    "float-text": (T3, lambda xml: _input_cell(xml, "E6", '<c r="{a1}"{s}><v>4.0</v></c>')),
    "boolean": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="b"><v>1</v></c>')),
    "error": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="e"><v>#DIV/0!</v></c>')),
    "inline": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="inlineStr"><is><t>１２</t></is></c>')),
    "rich-inline": (T3, lambda xml: _input_cell(
        xml, "D6", '<c r="{a1}"{s} t="inlineStr"><is><r><t>1</t></r><r><t>2</t></r></is></c>')),
    "empty-string": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="str"><v></v></c>')),
    "dates": ("xl/styles.xml", _dates),
    "map-name-lost": ("xl/sharedStrings.xml", _sub(r"\|nb_t3_new_natural\b", "|", must=True)),
    "map-garbled": ("xl/sharedStrings.xml", _sub(r"\|表三 依申请公开\|", "|表三|", count=3, must=True)),
    "meta-renamed": ("xl/workbook.xml", _sub(r'<sheet name="_meta"', '<sheet name="meta"')),
    "doctype": ("docProps/app.xml", _sub(r"\?>", '?><!DOCTYPE x [<!ENTITY a "b">]>')),
    "malformed": (T4, _sub(r"</sheetData>", "</sheetDat>")),
    "bad-shared-index": (T3, lambda xml: _input_cell(xml, "D6", '<c r="{a1}"{s} t="s"><v>999999</v></c>')),
}


def xml_variants(base: Path, folder: Path) -> list[Path]:
    out = []
    for name, (part, edit) in XML_VARIANTS.items():
        path = folder / f"{base.stem}-{name}.xlsx"
        shutil.copyfile(base, path)
        targets = part.split("+") if "/" in part else [sheet_part(path, part)]
        try:
            for target, one in zip(targets, edit if isinstance(edit, tuple) else (edit,)):
                edit_part(path, target, one)
        except AttributeError:  # the pattern is not in this base (e.g. an edition without that cell)
            path.unlink()
            continue
        out.append(path)
    truncated = folder / f"{base.stem}-truncated.xlsx"
    truncated.write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    not_zip = folder / f"{base.stem}-csv.xlsx"
    not_zip.write_bytes("单位,申请数\n张巷镇,12\n".encode("gbk"))
    return out + [truncated, not_zip]


def openpyxl_variants(base: Path, folder: Path) -> list[Path]:
    import openpyxl

    edits = {
        "resaved": lambda wb: None,
        "rows-inserted": lambda wb: wb[T3].insert_rows(8, 2),
        "renamed": lambda wb: setattr(wb[T2], "title", "表二"),
        "added": lambda wb: wb.create_sheet("我的草稿"),
        "deleted": lambda wb: wb.remove(wb[T4]),
        "typed": lambda wb: wb[T3].__setitem__("D6", 5),
        "unprotected": lambda wb: setattr(wb[T3].protection, "sheet", False),
        "row-map": as_row_map,  # the cell map as templates before 2026-12 held it
    }
    out = []
    for name, edit in edits.items():
        wb = openpyxl.load_workbook(base)
        edit(wb)
        path = folder / f"{base.stem}-openpyxl-{name}.xlsx"
        wb.save(path)
        out.append(path)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("parity")
    written = bases(folder)
    edited = [p for b in written for p in xml_variants(b, folder)]
    resaved = [p for b in written for p in openpyxl_variants(b, folder)]
    return {"written": written, "edited": edited, "resaved": resaved}


@pytest.mark.slow
def test_same_findings_on_written_edited_and_resaved_workbooks(corpus):
    paths = corpus["written"] + corpus["edited"] + corpus["resaved"]
    assert len(paths) >= 300
    kinds, codes = assert_parity(paths)
    assert {"read", "FILE-CORRUPT", "FILE-XML-UNSAFE", "FILE-TEXT", "NOT-TEMPLATE"} <= kinds, kinds
    assert {"DRIFT-SHEET-RENAMED", "DRIFT-SHEET-MISSING", "DRIFT-SHEET-ADDED", "DRIFT-UNPROTECTED",
            "DRIFT-STRUCTURE-UNLOCKED", "DRIFT-FORMULA-REPLACED", "DRIFT-FORMULA-CHANGED", "DRIFT-CELL-MOVED",
            "DRIFT-NAME-MISSING", "CELL-NOT-FOUND", "DRIFT-OLD-TEMPLATE", "DRIFT-VALIDATION-MISSING",
            "DRIFT-META-MISMATCH", "NOT-RECALCULATED", "BLANK", "TYPES", "NUMBER-CORRECTED",
            "TOWN-REGULATIONS"} <= codes, codes


@pytest.mark.slow
@pytest.mark.libreoffice
def test_same_findings_on_workbooks_saved_by_libreoffice(corpus, tmp_path):
    from libreoffice import Job, require_libreoffice, run_jobs

    require_libreoffice()
    sources = corpus["written"] + [p for p in corpus["edited"] if re.search(
        r"-(renamed|name-lost|unprotected|structure-unlocked|validation-gone|total-typed-over)\.xlsx$", p.name)]
    plans = {
        "resaved": {},
        "typed": dict(cells=[(T3, "D6", 21), (T3, "E6", 3)]),
        "text": dict(cells=[(T3, "D6", "１２"), (T3, "E6", "7")]),
        "cleared": dict(cells=[(T3, "D6", None)]),
        "rows": dict(insert_rows=[(T3, 8, 1)]),
        "unprotected": dict(unprotect_sheets=[T3], cells=[(T3, "D7", 4)]),
        "total": dict(cells=[(T3, "J6", 99)]),
        "formula": dict(cells=[(T3, "D6", {"formula": "=1+2"})]),
    }
    jobs = []
    for src in sources:
        for name, plan in plans.items() if src in corpus["written"] else [("resaved", {})]:
            plan = dict(plan)
            jobs.append(Job(src, tmp_path / f"{src.stem}-lo-{name}.xlsx", plan.pop("cells", []), **plan))
    results = run_jobs(jobs, timeout=1200, check=False)
    saved = [Path(r["dst"]) for r in results if r["ok"]]
    assert len(saved) >= 60, [r["error"] for r in results if not r["ok"]][:3]
    kinds, codes = assert_parity(saved)
    assert "read" in kinds and {"NUMBER-CORRECTED", "BLANK", "DRIFT-UNPROTECTED", "DRIFT-FORMULA-REPLACED"} <= codes


def test_the_corpus_holds_every_kind(corpus):
    """Guards the parity corpus itself: enough files, and each kind of workbook is in it."""
    edited = {p.stem.split("-", 1)[1] for p in corpus["edited"]}
    assert set(XML_VARIANTS) <= edited | {"check-changed"}, set(XML_VARIANTS) - edited
    assert len(corpus["written"]) + len(corpus["edited"]) + len(corpus["resaved"]) >= 300
    with zipfile.ZipFile(corpus["resaved"][0]) as zf:
        assert b"Openpyxl" in zf.read("docProps/app.xml")

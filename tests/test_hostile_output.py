"""Output hygiene: user text is quoted short, hidden characters are findings and never published,
over-long narratives are errors, and names shown on a terminal cannot carry escape sequences."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from fixtures.workbooks import consistent_fill
from hostile_corpus import NARRATIVE_TEXTS, _members, _rezip, good_workbook, with_text
from nianbao.check import check_file, validate
from nianbao.format import load_format
from nianbao.read.reader import read_submission

FMT = load_format("gov-info-disclosure-2021")
NARRATIVE = FMT.narratives[1]
MAX_MESSAGE = 400


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return good_workbook(FMT, tmp_path_factory.mktemp("o") / "good.xlsx").read_bytes()


def _with_narrative(tmp_path, good, text: str) -> Path:
    path = tmp_path / "unit.xlsx"
    path.write_bytes(with_text(good, NARRATIVE.name, text))
    return path


def test_a_narrative_over_excels_cell_limit_is_an_error(tmp_path, good):
    report = check_file(_with_narrative(tmp_path, good, NARRATIVE_TEXTS["narrative-40k"]))
    (too_long,) = [f for f in report.findings if f.code == "NARRATIVE-TOO-LONG"]
    assert too_long.severity == "error" and "32767" in too_long.message.replace(",", "")
    assert too_long.name == NARRATIVE.name


def test_a_million_character_narrative_is_checked_quickly_and_quoted_short(tmp_path, good):
    filler = "".join(random.Random(5).choices([chr(c) for c in range(0x4E00, 0x4E00 + 3000)], k=1_000_000))
    text = "2021年共收到政府信息公开申请" + filler + "9999件。"  # random: a repeated character is a zip bomb
    path = _with_narrative(tmp_path, good, text)
    started = time.monotonic()
    report = check_file(path)
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed  # measured precisely in benchmarks/check_bench.py; here a generous ceiling
    assert any(f.code == "NARRATIVE-TOO-LONG" for f in report.findings)
    assert all(len(f.message) < MAX_MESSAGE for f in report.findings), max(len(f.message) for f in report.findings)


def test_a_huge_sheet_name_is_quoted_short(tmp_path, good):
    members = _members(good)
    out = []
    for info, body in members:
        if info.filename == "xl/workbook.xml":
            body = body.replace("正文".encode(), ("很长的表名" * 20_000).encode(), 1)
        out.append((info, body))
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(_rezip(out))
    started = time.monotonic()
    report = check_file(path)
    assert time.monotonic() - started < 10
    assert report.findings and all(len(f.message) < MAX_MESSAGE for f in report.findings)


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\x07", "\x1b"])
def test_bidi_and_control_characters_are_findings(tmp_path, good, char):
    sub = read_submission(_with_narrative(tmp_path, good, "本年度共收到申请10件。"))
    sub.narratives[NARRATIVE.id] = f"本年度共收到申请{char}01{char}件，均已按时答复。"
    found = [f for f in validate(sub) if f.code == "TEXT-HIDDEN-CHARS"]
    assert len(found) == 1 and found[0].severity == "error" and found[0].name == NARRATIVE.name
    assert char not in found[0].message and f"U+{ord(char):04X}" in found[0].message


def test_zero_width_characters_are_a_warning(tmp_path, good):
    sub = read_submission(_with_narrative(tmp_path, good, "本年度共收到申请10件。"))
    sub.narratives[NARRATIVE.id] = "本年度\u200b工作顺利完成。"
    found = [f for f in validate(sub) if f.code == "TEXT-INVISIBLE-CHARS"]
    assert len(found) == 1 and found[0].severity == "warning"


def test_build_never_publishes_hidden_characters(tmp_path, good):
    from nianbao.cli import main

    path = _with_narrative(tmp_path, good, "本年度共收到申请\u202e01\u202c件，\u200b均已\u2066按时答复。")
    out = tmp_path / "out"
    code = main(["build", str(path), "-o", str(out), "--to", "html,md,docx", "--force"])
    assert code in (0, 1), code
    produced = list(out.iterdir())
    assert produced
    for p in produced:
        data = p.read_bytes()
        if p.suffix == ".docx":
            import zipfile

            with zipfile.ZipFile(p) as zf:
                data = zf.read("word/document.xml")
        text = data.decode("utf-8")
        assert "申请01件" in text
        for char in ("\u202e", "\u202c", "\u200b", "\u2066"):
            assert char not in text, (p.name, hex(ord(char)))


def test_the_report_model_drops_escape_sequences_and_controls(tmp_path, good):
    from nianbao.report.model import Paragraph, build_document

    sub = read_submission(_with_narrative(tmp_path, good, "x"))
    sub.narratives[NARRATIVE.id] = "均已\x1b[31m按时\x1b]0;pwned\x07答复\x00。"
    sub.unit["compiler"] = "办公室\u202e"
    doc = build_document(sub)
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)] + [doc.intro]
    assert "均已按时答复。" in texts
    assert not any(c in t for t in texts for c in "\x1b\x07\x00\u202e")


def test_file_names_shown_on_the_terminal_are_escaped(tmp_path, good, capsys):
    from nianbao.cli import main

    evil = tmp_path / "单位\x1b]0;pwned\x07\x1b[2J.xlsx"
    evil.write_bytes(b"not a workbook")
    assert main(["check", str(evil)]) == 2
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b" in shown  # still recognisable


def test_check_names_what_a_folder_scan_skipped(tmp_path, good, capsys):
    import os

    from nianbao.cli import main

    (tmp_path / "ok.xlsx").write_bytes(good)
    os.mkfifo(tmp_path / "pipe.xlsx")
    (tmp_path / "link.xlsx").symlink_to(tmp_path / "ok.xlsx")
    (tmp_path / "~$ok.xlsx").write_bytes(b"lock")
    (tmp_path / "sub").mkdir()
    assert main(["check", str(tmp_path)]) in (0, 1)
    err = capsys.readouterr().err
    for name in ("pipe.xlsx", "link.xlsx", "~$ok.xlsx", "sub"):
        assert f"已跳过 {tmp_path / name}：" in err, name

"""`nianbao check` / `nianbao annotate` on the command line: output, JSON shape, exit codes."""

from __future__ import annotations

import json
import random

import pytest

from fixtures.workbooks import consistent_fill, write
from nianbao.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory, fmt2021):
    d = tmp_path_factory.mktemp("inbox")
    values = consistent_fill(fmt2021, random.Random(4))
    write(fmt2021, d / "a-good.xlsx", values, year=2021)
    bad = dict(values)
    bad["t3.new.natural"] = None
    write(fmt2021, d / "b-bad.xlsx", bad, year=2021)
    return d


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_valid_file_exits_0(capsys, folder):
    code, out, _ = run(capsys, "check", str(folder / "a-good.xlsx"))
    assert code == 0 and "没有发现问题" in out and "共核对 1 个文件" in out


def test_errors_exit_1_and_json_shape(capsys, folder):
    code, out, _ = run(capsys, "check", str(folder / "b-bad.xlsx"), "--json")
    assert code == 1
    data = json.loads(out)
    (f,) = data["files"]
    assert f["valid"] is False and f["errors"] >= 1 and f["format"] == "gov-info-disclosure-2021"
    assert f["edition"] == "2021" and f["year"] == 2021 and f["unit"]
    blank = next(x for x in f["findings"] if x["code"] == "BLANK")
    assert list(blank) == ["code", "severity", "message", "sheet", "cell", "name", "table", "row", "column", "value",
                           "expected"]
    assert blank["cell"] == "D6" and blank["name"] == "nb_t3_new_natural"


def test_folder_includes_other_files_and_unreadable_exits_2(capsys, folder, tmp_path):
    (folder / "c-old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "~$a-good.xlsx").write_bytes(b"lock")  # Excel's lock file is skipped
    try:
        code, out, _ = run(capsys, "check", str(folder), "--json")
        files = json.loads(out)["files"]
        assert [p["path"].rsplit("/", 1)[-1] for p in files] == ["a-good.xlsx", "b-bad.xlsx", "c-old.xls"]
        assert files[2]["findings"][0]["code"].startswith("FILE-") and code == 2
    finally:
        (folder / "c-old.xls").unlink()
        (folder / "~$a-good.xlsx").unlink()


def test_missing_path_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nope.xlsx"))
    assert code == 2 and "找不到" in err


def test_annotate_command(capsys, folder, tmp_path):
    out = tmp_path / "back.xlsx"
    code, text, _ = run(capsys, "annotate", str(folder / "b-bad.xlsx"), "-o", str(out))
    assert code == 1 and out.is_file() and "个错误" in text


def test_help_has_examples(capsys):
    for command in ("check", "annotate"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "示例：nianbao " + command in out


def test_many_blank_cells_are_one_row_in_the_terminal_but_all_in_json(capsys, tmp_path, fmt2021, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # one table row per line, so the texts can be searched
    values = consistent_fill(fmt2021, random.Random(5))
    blanks = [c.id for c in fmt2021.input_cells if c.table == "t3"][:20]
    for cell_id in blanks:
        values[cell_id] = None
    path = write(fmt2021, tmp_path / "half.xlsx", values, year=2021)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert out.count("是空白") == 1 and "等 20 处" in out and "同类问题在本工作表共 20 处" in out
    monkeypatch.setenv("COLUMNS", "70")
    code, out, _ = run(capsys, "check", str(path))
    assert "…" not in out  # on a narrow terminal long Chinese messages fold, never cut short
    code, out, _ = run(capsys, "check", str(path), "--json")
    assert sum(f["code"] == "BLANK" for f in json.loads(out)["files"][0]["findings"]) == 20

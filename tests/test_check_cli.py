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

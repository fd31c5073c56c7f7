"""`nianbao template` and `nianbao formats` from the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import openpyxl
import pytest

from nianbao.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, words", [
    (["--unit", "张巷镇人民政府", "--year", "1999"], "1999"),
    (["--unit", "  ", "--year", "2021"], "单位名称不能为空"),
    (["--unit", "张巷镇人民政府", "--year", "2021", "--format", "no-such"], "no-such"),
    (["--unit", "张巷镇人民政府", "--year", "abc"], "--year"),
    (["--unit", "张巷镇人民政府", "--year", "2021", "--format", "gov-info-disclosure-2019"], "不适用于 2021"),
    (["--unit", "张巷镇人民政府", "--year", "2021", "--previous", "/nonexistent/last.xlsx"], "找不到上年度文件"),
])
def test_bad_arguments_give_one_chinese_line_and_exit_2(capsys, tmp_path, args, words):
    code, out, err = run(capsys, "template", *args, "-o", str(tmp_path / "x.xlsx"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in err
    assert lines[0].startswith(("错误：", "参数错误："))
    assert not (tmp_path / "x.xlsx").exists()


def test_unwritable_output(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        target = locked / "x.xlsx" if os.geteuid() != 0 else tmp_path / "missing-dir" / "x.xlsx"
        code, _, err = run(capsys, "template", "--unit", "张巷镇人民政府", "--year", "2021", "-o", str(target))
    finally:
        locked.chmod(0o700)
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(target.parent) in err


def test_previous_that_is_not_a_template(capsys, tmp_path):
    junk = tmp_path / "last.xlsx"
    junk.write_bytes(b"not a workbook")
    code, _, err = run(capsys, "template", "--unit", "A", "--year", "2022", "--previous", str(junk),
                       "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and str(junk) in err and "Traceback" not in err


def test_template_json_and_previous(capsys, tmp_path):
    first = tmp_path / "2021.xlsx"
    code, out, _ = run(capsys, "template", "--unit", "张巷镇人民政府", "--code", "360981101", "--year", "2021",
                       "--contact", "李明", "--phone", "0795-6532011", "-o", str(first), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "gov-info-disclosure-2021" and data["checks"] == 43 and len(data["token"]) == 16
    code, out, _ = run(capsys, "template", "--unit", "张巷镇人民政府", "--year", "2022", "--previous", str(first),
                       "-o", str(tmp_path / "2022.xlsx"))
    assert code == 0 and "53 项检查" in out
    wb = openpyxl.load_workbook(tmp_path / "2022.xlsx")
    assert wb["填报说明"]["A1"].value.startswith("张巷镇人民政府2022年")


def test_edition_follows_the_year(capsys, tmp_path):
    code, out, _ = run(capsys, "template", "--unit", "A", "--year", "2020", "-o", str(tmp_path / "a.xlsx"), "--json")
    assert code == 0 and json.loads(out)["format"] == "gov-info-disclosure-2019"


def test_formats_lists_both_editions(capsys):
    code, out, _ = run(capsys, "formats", "--json")
    assert code == 0
    rows = json.loads(out)["formats"]
    assert [(r["edition"], r["first_year"], r["last_year"]) for r in rows] == [("2019", 2019, 2020), ("2021", 2021, None)]


@pytest.mark.skipif(shutil.which("nianbao") is None, reason="console script not installed (pip install .)")
def test_console_script_exit_code(tmp_path):
    proc = subprocess.run(["nianbao", "template", "--unit", "A", "--year", "1999", "-o", str(tmp_path / "a.xlsx")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "1999" in proc.stderr
    assert sys.executable  # the same interpreter family runs the script


def test_an_unexpected_error_is_one_line_and_a_log_not_a_traceback(capsys, tmp_path, monkeypatch):
    import nianbao.template

    def broken(*args, **kwargs):
        raise RuntimeError("模拟的内部故障")

    monkeypatch.setattr(nianbao.template, "make_template", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = main(["template", "--unit", "张巷镇人民政府", "--year", "2025", "-o", str(tmp_path / "t.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("内部错误：") and "Traceback" not in err
    assert "RuntimeError" not in err and err.count("\n") == 1
    (log,) = (tmp_path / "cache" / "nianbao").glob("nianbao-error-*.log")  # the user's cache, not shared /tmp
    assert str(log) in err
    assert "Traceback" in log.read_text(encoding="utf-8") and "template --unit" in log.read_text(encoding="utf-8")

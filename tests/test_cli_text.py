"""The command line at an ordinary 80-column terminal: every command's help shows every input
in full (required ones first), and usage errors are one Chinese line with exit code 2.

The tests walk the whole command tree, so commands added later are covered without edits."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Literal

import pytest
import typer

from nianbao.cli import app, main
from nianbao.cli_text import localize, usage_message, width_of, wrap, CLOSING
from typer import _click as click


def _commands(command=None, path=()):
    """(path, command) for every command and group under the nianbao app."""
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _commands(sub, (*path, name))


ALL = list(_commands())
ENGLISH = re.compile(r"Usage|Options|Arguments|Commands|Show this|required|default:|Error|Invalid|Missing|"
                     r"No such|Try '")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_tree_has_the_commands_we_know():
    names = {" ".join(p) for p, _ in ALL}
    assert {"", "formats", "template", "build", "check", "campaign", "campaign init", "campaign collect"} <= names


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) or "nianbao" for p, _ in ALL])
def test_help_at_80_columns_shows_every_input_in_full(path, command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert not ENGLISH.search(out), out
    for line in out.splitlines():
        hanging = line and line[-1] in CLOSING
        assert width_of(line) <= 80 + (2 if hanging else 0), line
    squashed = _squash(out)
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    for param in params:
        text = _squash(getattr(param, "help", None) or "")
        assert text and text in squashed, (param.name, out)
    required = [p for p in params if p.required]
    if required:  # the required inputs come first, under 必填
        section = out.split("必填：", 1)[1].split("选项：", 1)[0]
        for param in required:
            assert _squash(param.help) in _squash(section)
    if getattr(command, "commands", None):
        for name, sub in command.commands.items():
            first = _squash(re.split(r"\n\s*\n", (sub.help or "").strip())[0])
            assert first in squashed, name  # a command's summary is never cut with "…"
    elif path:
        assert "示例：nianbao " + " ".join(path) in out, out  # every command shows how it is used


def _error(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert not ENGLISH.search(err) and "Traceback" not in err, err
    return code, lines[0]


def test_bad_integer(capsys, tmp_path):
    code, line = _error(capsys, "template", "--unit", "某镇", "--year", "abc", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "--year" in line and "“abc”" in line and "整数" in line and "四位数字" in line


def test_a_two_digit_year_asks_for_four_digits(capsys, tmp_path):
    code, line = _error(capsys, "template", "--unit", "某镇", "--year", "25", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "四位数字" in line and "2025" in line
    assert not (tmp_path / "x.xlsx").exists()


def test_missing_option_names_it_and_says_what_it_is(capsys, tmp_path):
    code, line = _error(capsys, "template", "--unit", "某镇", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "缺少必填选项 --year" in line and "报告年度" in line


def test_missing_argument(capsys):
    code, line = _error(capsys, "build")
    assert code == 2 and "缺少必填参数" in line and "填好的报送模板" in line and "nianbao build --help" in line


def test_unknown_option_suggests_the_near_one(capsys, tmp_path):
    code, line = _error(capsys, "template", "--unit", "某镇", "--yeer", "2025", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "没有 --yeer 这个选项" in line and "--year" in line


def test_unknown_command(capsys):
    code, line = _error(capsys, "campaign", "collekt")
    assert code == 2 and "没有 collekt 这个命令，是否要用 collect？" in line


def test_option_without_its_value(capsys):
    code, line = _error(capsys, "template", "--unit", "某镇", "-o", "x.xlsx", "--year")
    assert code == 2 and "--year" in line and "需要写一个值" in line


class Colour(str, enum.Enum):
    red = "red"
    blue = "blue"


def _choice_app() -> typer.Typer:
    demo = typer.Typer(rich_markup_mode=None)

    @demo.command()
    def paint(colour: Annotated[Colour, typer.Option("--colour", help="颜色")] = Colour.red,
              size: Annotated[Literal["a4", "a3"], typer.Option("--size", help="纸张")] = "a4") -> None:
        """示例：paint --colour red"""

    @demo.command()
    def other() -> None:
        """另一个命令。"""

    return demo


@pytest.mark.parametrize("args, words", [
    (["paint", "--colour", "green"], ["--colour", "“green”", "可选：red、blue"]),
    (["paint", "--size", "b5"], ["--size", "“b5”", "可选：a4、a3"]),
])
def test_bad_choice_lists_the_choices(args, words):
    command = typer.main.get_command(_choice_app())
    localize(command)
    with pytest.raises(click.exceptions.UsageError) as caught:
        command.main(args=args, standalone_mode=False, prog_name="demo")
    message = usage_message(caught.value, args)
    assert all(w in message for w in words), message


def test_choices_show_in_help(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    command = typer.main.get_command(_choice_app())
    localize(command)
    command.main(args=["paint", "--help"], standalone_mode=False, prog_name="demo")
    out = capsys.readouterr().out
    assert "--colour {red|blue}" in out and "（默认：red）" in out


def test_formats_prints_whole_keys_at_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    assert "gov-info-disclosure-2021" in out.split() [0] or "gov-info-disclosure-2021（" in out
    assert "gov-info-disclosure-2019（" in out and "…" not in out
    assert all(width_of(line) <= 82 for line in out.splitlines())


def test_wrap_keeps_latin_words_whole_and_punctuation_off_the_line_start():
    text = "生成退回单位的批注版：新模板中填入单位的数据，问题单元格标红并加批注，首页列出全部意见。示例：nianbao annotate a.xlsx"
    lines = wrap(text, 40)
    assert all(not line.startswith(tuple(CLOSING)) for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert any("nianbao" in line for line in lines) and not any(line.endswith("nian") for line in lines)


def test_collect_from_an_empty_folder_says_it_was_empty(capsys, tmp_path):
    from campaign_synth import write_units
    from nianbao.campaign.init import init_campaign

    write_units(tmp_path / "units.csv", 1, 1)
    init_campaign(tmp_path / "c", 2024, tmp_path / "units.csv")
    empty = tmp_path / "收件"
    empty.mkdir()
    assert main(["campaign", "collect", str(tmp_path / "c"), str(empty)]) == 0
    out = capsys.readouterr().out
    assert "没有任何文件" in out and str(empty) in out and "是空的" in out

"""The README's top shows two commands that must stay true: the main job on the bundled sample
and the test command, which .ci/run must run verbatim."""

from __future__ import annotations

import re
import shlex

from nianbao.cli import main
from tests.conftest import REPO


def top_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_shows_exactly_the_main_job_and_the_test_command():
    main_job, tests = top_commands()
    assert main_job.startswith("pip install . && nianbao build samples/")
    assert tests == "pip install '.[test]' && python -m pytest"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()  # CI runs the README's test command, verbatim


def test_the_main_job_builds_the_sample(tmp_path, monkeypatch, capsys):
    main_job, _ = top_commands()
    args = shlex.split(main_job.split("&&", 1)[1])
    assert args[0] == "nianbao"
    monkeypatch.chdir(REPO)
    out = tmp_path / "out"
    args = [str(out) if a == "out" else a for a in args[1:]]
    assert main(args) == 0, capsys.readouterr().err
    from nianbao.report.pdf import find_soffice

    built = sorted(p.name.removeprefix("张巷镇人民政府2021年政府信息公开工作年度报告") for p in out.iterdir())
    expected = [".docx", ".html", ".md"] + ([".pdf"] if find_soffice() else [])  # PDF where LibreOffice is
    expected += ["一图读懂.pdf", "一图读懂.png", "一图读懂.svg"]
    assert built == sorted(expected)
    assert all(p.name.startswith("张巷镇人民政府2021年政府信息公开工作年度报告") for p in out.iterdir())

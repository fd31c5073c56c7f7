"""Published reports that are hostile or empty: refused with a clear line, like a workbook."""

from __future__ import annotations

import pytest

from hostile_corpus import HTML_WITH_ENTITY, docx_with_doctype
from nianbao.cli import main


@pytest.mark.parametrize("name,data,expected", [
    ("doctype.docx", docx_with_doctype(), "实体声明"),
    ("entity.html", HTML_WITH_ENTITY, "实体声明"),
    ("empty.docx", b"", "文件是空的"),
    ("blank.html", b"   \n", "文件是空的"),
], ids=["doctype-docx", "entity-html", "empty-docx", "blank-html"])
@pytest.mark.parametrize("command", ["import", "audit"])
def test_refused_with_one_clear_line(tmp_path, capsys, name, data, expected, command):
    path = tmp_path / name
    path.write_bytes(data)
    assert main([command, str(path)]) == 2
    out = capsys.readouterr()
    shown = out.out + out.err
    assert expected in shown and "Error" not in shown and "Traceback" not in shown


def test_a_plain_html_doctype_is_still_read(tmp_path, capsys):
    from fixtures.reports import document, submission, write_html
    from nianbao.format import load_format

    sub = submission(load_format("gov-info-disclosure-2021"), 2021)
    path = write_html(document(sub), tmp_path / "ok.html")
    path.write_text("<!DOCTYPE html>\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["import", str(path)]) == 0

"""Published reports are as hostile as returned workbooks: a .docx zip bomb, a truncated
package and XML entity tricks give a clean one-line refusal or harmless text, quickly."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from nianbao.errors import InputFileError
from nianbao.importer import import_report
from tests.fixtures.reports import document, submission, write_docx

LAUGHS = (b'<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">'.encode() for p, n in zip("abcdefg", "bcdefgh"))
          + b"]>")


@pytest.fixture(scope="module")
def report(tmp_path_factory, fmt2021) -> Path:
    return write_docx(document(submission(fmt2021, 2021)), tmp_path_factory.mktemp("hostile") / "ok.docx")


def rebuilt(report: Path, out: Path, change) -> Path:
    """The report with word/document.xml passed through ``change``."""
    with zipfile.ZipFile(report) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, change(data) if info.filename == "word/document.xml" else data)
    return out


def _prolog(extra: bytes, entity: bytes):
    return lambda d: d.replace(b"?>", b"?>" + extra, 1).replace("本机关".encode(), entity, 1)


@pytest.mark.parametrize("case, change, code", [
    ("bomb", lambda d: d.replace(b"<w:body>", b"<w:body>" + b" " * 5_000_000, 1), "FILE-ZIP-BOMB"),
    ("laughs", _prolog(LAUGHS, b"&h;"), "FILE-XML-UNSAFE"),
])
def test_hostile_docx_is_refused_in_one_line(tmp_path, report, case, change, code):
    path = rebuilt(report, tmp_path / f"{case}.docx", change)
    start = time.perf_counter()
    with pytest.raises(InputFileError) as err:
        import_report(path)
    assert time.perf_counter() - start < 5
    assert err.value.code == code and "\n" not in str(err.value) and str(path) in str(err.value)


def test_truncated_docx_is_corrupt(tmp_path, report):
    path = tmp_path / "half.docx"
    path.write_bytes(report.read_bytes()[: report.stat().st_size // 2])
    with pytest.raises(InputFileError) as err:
        import_report(path)
    assert err.value.code == "FILE-CORRUPT" and "Word" in str(err.value)


def test_an_external_entity_is_never_resolved(tmp_path, report):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    entity = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
    path = rebuilt(report, tmp_path / "xxe.docx", _prolog(entity, b"&xxe;"))
    try:
        result = import_report(path)
    except InputFileError:
        return  # refusing it is as good
    assert "TOP-SECRET-VALUE" not in " ".join(result.submission.narratives.values())


def test_oversized_text_and_giant_tables_are_refused_quickly(tmp_path):
    text = tmp_path / "big.txt"
    text.write_text("某局2021年政府信息公开工作年度报告\n" + "\t1\n" * 1_000_000, encoding="utf-8")
    rows = "".join(f"<tr><td>{i}</td><td>1</td></tr>" for i in range(15_000))
    page = tmp_path / "big.html"
    page.write_text(f"<html><body><h1>某局2021年政府信息公开工作年度报告</h1><table>{rows}</table></body></html>",
                    encoding="utf-8")
    for path, code in ((text, "FILE-TOO-LARGE"), (page, "FILE-TOO-MANY-CELLS")):
        start = time.perf_counter()
        with pytest.raises(InputFileError) as err:
            import_report(path)
        assert err.value.code == code and str(path) in str(err.value)
        assert time.perf_counter() - start < 5

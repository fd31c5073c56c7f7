"""The LibreOffice harness (tests/libreoffice.py + tests/lo_uno_worker.py) really works.

A small locked workbook, written like our templates (xlsxwriter, unlocked input cells,
protected sheets, a check formula with a stored result, a defined name), is filled by a real
headless LibreOffice in one batch and read back with openpyxl.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

import libreoffice as lo
from libreoffice import XLS, ODS, Job, LibreOfficeError, convert, require_libreoffice, run_jobs

T3 = "表三 依申请公开"
T4 = "表四 行政复议"
CHECK = '=IF(ROUND(A1+A2-A3,4)=0,"通过","不通过")'
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def build_template(path: Path) -> Path:
    """Inputs A1..A4 unlocked; A5 check formula (stored "通过"); A6 ISTEXT(A4);
    A7 uses the defined name t3_total (-> A3) and is stored as 0, so only a real
    recalculation can make it right."""
    wb = xlsxwriter.Workbook(str(path))
    unlocked = wb.add_format({"locked": False})
    text_input = wb.add_format({"locked": False, "num_format": "@"})
    ws = wb.add_worksheet(T3)
    ws.write_number("A1", 5, unlocked)
    ws.write_number("A2", 3, unlocked)
    ws.write_number("A3", 8, unlocked)
    ws.write_blank("A4", None, text_input)
    ws.write("B1", "本年新收政府信息公开申请数量")
    ws.write("B2", "上年结转政府信息公开申请数量")
    ws.write("B3", "合计")
    ws.write("B4", "备注（文本）")
    ws.write_formula("A5", CHECK, None, "通过")
    ws.write_formula("A6", "=ISTEXT(A4)", None, False)
    ws.write_formula("A7", "=t3_total*2", None, 0)
    wb.define_name("t3_total", f"='{T3}'!$A$3")
    ws.protect()
    ws4 = wb.add_worksheet(T4)
    ws4.write_number("A1", 1, unlocked)
    ws4.write("B1", "维持")
    ws4.protect()
    wb.close()
    return path


def values(path: Path, sheet: str = T3):
    return openpyxl.load_workbook(path, data_only=True)[sheet]


def formulas(path: Path):
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One soffice, several jobs: numbers, text, a cleared cell, three file formats,
    inserted rows with and without keep_protection, an unprotected sheet."""
    require_libreoffice()
    d = tmp_path_factory.mktemp("lo_batch")
    src = build_template(d / "丰城市教育局 2024.xlsx")  # non-ASCII name and a space
    out = d / "out"
    jobs = {
        # the numbers add up; "１２" typed as text into the text cell
        "balanced": Job(src, out / "balanced.xlsx",
                        [(T3, "A1", 5), (T3, "A2", 3.5), (T3, "A3", 8.5), (T3, "A4", "１２")]),
        # they do not add up; saved as .xls
        "unbalanced": Job(src, out / "unbalanced.xls",
                          [(T3, "A1", 5), (T3, "A2", 3), (T3, "A3", 9)], filter=XLS),
        # a cleared cell (5 + 0 - 8); saved as .ods
        "cleared": Job(src, out / "cleared.ods", [(T3, "A2", None)], filter=ODS),
        # a user inserts two rows above row 2, then fills the shifted inputs
        "inserted": Job(src, out / "inserted.xlsx",
                        [(T3, "A1", 1), (T3, "A4", 2), (T3, "A5", 3)],
                        insert_rows=[(T3, 2, 2)]),
        "inserted_unprotected": Job(src, out / "inserted_unprotected.xlsx", [],
                                    insert_rows=[(T3, 2, 1)], keep_protection=False),
        "t4_unprotected": Job(src, out / "t4_unprotected.xlsx", [(T4, "A1", 7)],
                              unprotect_sheets=[T4]),
    }
    t0 = time.monotonic()
    results = run_jobs(list(jobs.values()), timeout=300)
    seconds = time.monotonic() - t0
    print(f"\nLibreOffice batch of {len(jobs)} jobs: {seconds:.1f} s")
    return {"src": src, "dir": d, "jobs": jobs, "results": results, "seconds": seconds}


@pytest.mark.libreoffice
def test_batch_reports_one_result_per_job(batch):
    assert [r["ok"] for r in batch["results"]] == [True] * len(batch["jobs"])
    assert all(r["error"] is None for r in batch["results"])
    for job in batch["jobs"].values():
        assert job.dst.is_file() and job.dst.stat().st_size > 0


@pytest.mark.libreoffice
def test_numbers_and_text_are_typed_and_formulas_recomputed(batch):
    dst = batch["jobs"]["balanced"].dst
    ws = values(dst)
    assert ws["A1"].value == 5 and ws["A2"].value == 3.5 and ws["A3"].value == 8.5
    assert ws["A4"].value == "１２" and ws["A4"].data_type == "s"  # text stays text
    assert ws["A5"].value == "通过"
    assert ws["A6"].value is True  # ISTEXT(A4): LibreOffice saw text, not a number
    assert ws["A7"].value == 17  # t3_total*2: the defined name was resolved (stored 0)
    wb = formulas(dst)
    assert wb[T3]["A5"].value == CHECK  # the formula survives the round trip
    assert wb.defined_names["t3_total"].attr_text == f"'{T3}'!$A$3"


@pytest.mark.libreoffice
def test_protection_and_unlocked_inputs_survive(batch):
    wb = formulas(batch["jobs"]["balanced"].dst)
    for name in (T3, T4):
        assert wb[name].protection.sheet is True
    assert wb[T3]["A1"].protection.locked is False
    assert wb[T3]["B1"].protection.locked is True


@pytest.mark.libreoffice
def test_unbalanced_numbers_flip_the_check_in_xls(batch, tmp_path):
    dst = batch["jobs"]["unbalanced"].dst
    assert dst.read_bytes()[:8] == OLE2_MAGIC
    back = convert(dst, tmp_path, "xlsx")  # openpyxl cannot read .xls; let LibreOffice
    ws = values(back)
    assert (ws["A1"].value, ws["A2"].value, ws["A3"].value) == (5, 3, 9)
    assert ws["A5"].value == "不通过"
    assert ws["A7"].value == 18


@pytest.mark.libreoffice
def test_cleared_cell_in_ods(batch):
    dst = batch["jobs"]["cleared"].dst
    with zipfile.ZipFile(dst) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == ODS_MIME
        content = z.read("content.xml").decode("utf-8")
    assert "不通过" in content  # 5 + (cleared) - 8
    assert 'table:protected="true"' in content


@pytest.mark.libreoffice
def test_inserted_rows_shift_formulas_and_names(batch):
    dst = batch["jobs"]["inserted"].dst
    ws = values(dst)
    assert ws["A2"].value is None and ws["A3"].value is None  # the new rows
    assert (ws["A1"].value, ws["A4"].value, ws["A5"].value) == (1, 2, 3)
    assert ws["A7"].value == "通过"  # the check moved from A5 to A7 and follows its inputs
    assert ws["A9"].value == 6  # t3_total now points at A5
    wb = formulas(dst)
    assert wb[T3]["A7"].value == '=IF(ROUND(A1+A4-A5,4)=0,"通过","不通过")'
    assert wb.defined_names["t3_total"].attr_text == f"'{T3}'!$A$5"
    # inserting rows needed unprotecting; keep_protection put it back
    assert wb[T3].protection.sheet is True


@pytest.mark.libreoffice
def test_keep_protection_false_and_unprotect_sheets(batch):
    wb = formulas(batch["jobs"]["inserted_unprotected"].dst)
    assert wb[T3].protection.sheet is False  # unprotected to insert, not protected again
    assert wb[T4].protection.sheet is True  # untouched
    wb = formulas(batch["jobs"]["t4_unprotected"].dst)
    assert wb[T4].protection.sheet is False
    assert wb[T3].protection.sheet is True
    assert values(batch["jobs"]["t4_unprotected"].dst, T4)["A1"].value == 7


@pytest.mark.libreoffice
def test_convert_to_pdf(batch, tmp_path):
    pdf = convert(batch["jobs"]["balanced"].dst, tmp_path, "pdf")
    assert pdf == tmp_path / "balanced.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.libreoffice
def test_failed_jobs_are_reported_and_do_not_stop_the_batch(batch, tmp_path):
    src = batch["src"]
    jobs = [
        Job(src, tmp_path / "locked.xlsx", [(T3, "B1", "改标签")], respect_locks=True),
        Job(src, tmp_path / "nosheet.xlsx", [("没有这个表", "A1", 1)]),
        Job(tmp_path / "missing.xlsx", tmp_path / "missing_out.xlsx", []),
        Job(src, tmp_path / "formula.xlsx", [(T3, "A4", {"formula": f"=SUM('{T3}'!A1:A2)"}),
                                             (T3, "A1", 1)], respect_locks=True),
    ]
    results = run_jobs(jobs, timeout=300, check=False)
    assert [r["ok"] for r in results] == [False, False, False, True]
    assert "locked" in results[0]["error"] and "B1" in results[0]["error"]
    assert "没有这个表" in results[1]["error"]
    assert "missing.xlsx" in results[2]["error"]
    ws = values(tmp_path / "formula.xlsx")
    assert ws["A4"].value == 4  # Excel-syntax formula entered by the "user": 1 + 3
    with pytest.raises(LibreOfficeError, match="locked"):
        run_jobs(jobs[:1], timeout=300)


@pytest.mark.libreoffice
@pytest.mark.slow
def test_sixty_jobs_in_one_batch_are_fast(batch, tmp_path):
    src = batch["src"]
    filters = [lo.XLSX, XLS, ODS]
    exts = ["xlsx", "xls", "ods"]
    jobs = [Job(src, tmp_path / f"unit{i:02d}.{exts[i % 3]}",
                [(T3, "A1", i), (T3, "A2", 1), (T3, "A3", i + 1 if i % 2 else i),
                 (T3, "A4", f"第{i}号")], filter=filters[i % 3])
            for i in range(60)]
    t0 = time.monotonic()
    results = run_jobs(jobs, timeout=300)
    seconds = time.monotonic() - t0
    print(f"\nLibreOffice batch of {len(jobs)} jobs: {seconds:.1f} s "
          f"(slowest job {max(r['seconds'] for r in results):.2f} s)")
    assert len(results) == 60 and all(r["ok"] for r in results)
    assert seconds < 120
    assert values(tmp_path / "unit03.xlsx")["A5"].value == "通过"  # 3 + 1 - 4
    assert values(tmp_path / "unit06.xlsx")["A5"].value == "不通过"  # 6 + 1 - 6


# -- the skip/fail switch (no LibreOffice needed) -----------------------------------------
def test_missing_libreoffice_skips_locally(monkeypatch):
    monkeypatch.setattr(lo, "soffice_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install libreoffice-calc"):
        require_libreoffice()


def test_missing_libreoffice_fails_on_ci(monkeypatch):
    monkeypatch.setattr(lo, "soffice_path", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require_libreoffice()


def test_job_rejects_values_a_user_cannot_type(tmp_path):
    with pytest.raises(TypeError):
        Job(tmp_path / "a.xlsx", tmp_path / "b.xlsx", [(T3, "A1", True)]).to_json()
    assert Job(tmp_path / "a.xlsx", tmp_path / "b.xlsx",
               [(T3, "A1", 1), (T3, "A2", None)]).to_json()["cells"] == [[T3, "A1", 1],
                                                                         [T3, "A2", None]]

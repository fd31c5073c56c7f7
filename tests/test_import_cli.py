"""`nianbao import` and `nianbao audit` on the command line: output and exit codes as `check`."""

import json

from nianbao.cli import main
from tests.conftest import require_shared
from tests.fixtures.reports import document, submission, write_text


def seed_path():
    return require_shared() / "seed" / "zhangxiang-2021-published.txt"


def test_import_json_and_workbook(tmp_path, capsys):
    out = tmp_path / "张巷镇.xlsx"
    assert main(["import", str(seed_path()), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unit"] == "张巷镇" and data["year"] == 2021 and data["format"] == "gov-info-disclosure-2021"
    assert data["values"]["t2.punishment.decisions"] == "4"
    assert len(data["deviations"]) == 3 and out.is_file()


def test_audit_exit_codes(tmp_path, capsys, fmt2021):
    assert main(["audit", str(seed_path())]) == 0  # warnings only
    bad = write_text(document(submission(fmt2021, 2021), cells={"t3.new.natural": "/"}), tmp_path / "bad.txt")
    assert main(["audit", str(bad)]) == 1
    missing = tmp_path / "x.doc"
    missing.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    assert main(["audit", str(seed_path()), str(missing)]) == 2
    assert main(["audit", str(tmp_path / "nope.txt")]) == 2


def test_audit_json_shape(tmp_path, capsys, fmt2021):
    bad = write_text(document(submission(fmt2021, 2021), cells={"t3.new.natural": "/"}), tmp_path / "bad.txt")
    assert main(["audit", str(bad), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (one,) = data["files"]
    assert one["valid"] is False and one["errors"] == 1
    (finding,) = one["findings"]
    assert finding["code"] == "TYPES" and finding["sheet"] == "表三" and finding["column"] == "自然人"
    assert finding["value"] == "/"

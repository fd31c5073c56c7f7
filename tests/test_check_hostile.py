"""Corrupted and hostile files: only clean exits 1/2, never a traceback, bounded time and memory."""

from __future__ import annotations

import io
import random
import resource
import time
import zipfile

import pytest

from fixtures.workbooks import consistent_fill, write
from nianbao.cli import main

SECONDS_PER_FILE = 10
MEMORY_GROWTH_MB = 300


@pytest.fixture(scope="module")
def good(tmp_path_factory, fmt2021):
    return write(fmt2021, tmp_path_factory.mktemp("h") / "good.xlsx",
                 consistent_fill(fmt2021, random.Random(9)), year=2021).read_bytes()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def hostile_files(good: bytes) -> dict[str, bytes]:
    rng = random.Random(2026)
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    files = {
        "empty.xlsx": b"",
        "truncated.xlsx": good[: len(good) // 2],
        "random.xlsx": bytes(rng.randrange(256) for _ in range(5000)),
        "bomb.xlsx": _zip({**parts, "xl/worksheets/sheet9.xml": b"<a>" + b" " * 60_000_000 + b"</a>"}),
        "xxe.xlsx": _zip({**parts, "xl/sharedStrings.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a '
                          b'"aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><sst>&b;</sst>'}),
        "no-meta.xlsx": _zip({k: v for k, v in parts.items() if "sheet7" not in k}),
        "broken-sheet.xlsx": _zip({**parts, "xl/worksheets/sheet4.xml": parts["xl/worksheets/sheet4.xml"][:3000]}),
        "broken-workbook.xlsx": _zip({**parts, "xl/workbook.xml": b"<workbook>"}),
        "meta-garbage.xlsx": _zip({**parts, "xl/worksheets/sheet7.xml": b"<worksheet/>"}),
    }
    for i in range(12):  # flipped bytes anywhere in a genuine workbook
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"flipped-{i:02d}.xlsx"] = bytes(data)
    return files


def test_hostile_files_exit_cleanly(tmp_path, good, capsys):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, data in hostile_files(good).items():
        path = tmp_path / name
        path.write_bytes(data)
        start = time.perf_counter()
        code = main(["check", str(path), "--json"])
        seconds = time.perf_counter() - start
        out = capsys.readouterr()
        assert code in (1, 2), (name, code, out.err)
        assert "Traceback" not in out.err and "Traceback" not in out.out, name
        assert seconds < SECONDS_PER_FILE, (name, seconds)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < MEMORY_GROWTH_MB, grown_mb


def test_a_bad_file_does_not_stop_the_batch(tmp_path, good, capsys):
    (tmp_path / "a.xlsx").write_bytes(good)
    (tmp_path / "b.xlsx").write_bytes(good[:100])
    code = main(["check", str(tmp_path), "--json"])
    out = capsys.readouterr().out
    assert code == 2 and out.count('"path"') == 2 and '"valid": true' in out

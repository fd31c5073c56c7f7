"""Real LibreOffice as "a user's office suite", for pytest.

Two ways in:

- :func:`run_jobs` fills workbooks the way a user would (typed numbers and text, cleared
  cells, inserted rows), recalculates and saves them as .xlsx/.xls/.ods. All jobs of one call
  share ONE headless soffice, driven over UNO by ``lo_uno_worker.py``. That script needs
  python3-uno, which only the Debian interpreter ``/usr/bin/python3`` has, so it runs in a
  subprocess (override with ``NIANBAO_UNO_PYTHON``).
- :func:`convert` is ``soffice --convert-to`` (to pdf, xlsx, ods, xls, docx...).

Both use a private, temporary LibreOffice profile, so parallel runs, a running desktop
LibreOffice and a root user do not get in each other's way.

Call :func:`require_libreoffice` first: it skips when LibreOffice is missing, except on CI
(``CI=true``) where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest

__all__ = [
    "ODS",
    "XLS",
    "XLSX",
    "Job",
    "LibreOfficeError",
    "convert",
    "require_libreoffice",
    "run_jobs",
    "soffice_path",
    "uno_python",
]

WORKER = Path(__file__).resolve().with_name("lo_uno_worker.py")
DEFAULT_UNO_PYTHON = "/usr/bin/python3"
SKIP_MESSAGE = ("LibreOffice (soffice + python3-uno) not installed: "
                "apt-get install libreoffice-calc python3-uno")
XLSX = "Calc MS Excel 2007 XML"
XLS = "MS Excel 97"
ODS = "calc8"


class LibreOfficeError(RuntimeError):
    """LibreOffice failed, timed out, or a job could not be done."""


def soffice_path() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    default = "/usr/lib/libreoffice/program/soffice"
    return default if os.access(default, os.X_OK) else None


def uno_python() -> str:
    """The interpreter that has python3-uno (``NIANBAO_UNO_PYTHON`` or /usr/bin/python3)."""
    return os.environ.get("NIANBAO_UNO_PYTHON") or DEFAULT_UNO_PYTHON


@lru_cache(maxsize=None)
def _uno_importable(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_libreoffice() -> None:
    """Skip the calling test when soffice or python3-uno is missing; fail instead on CI."""
    missing = []
    if soffice_path() is None:
        missing.append("soffice not found on PATH or in /usr/lib/libreoffice/program")
    if not _uno_importable(uno_python()):
        missing.append("%s cannot import uno" % uno_python())
    if not missing:
        return
    if _on_ci():
        pytest.fail("%s (%s); CI=true, so a missing tool is a failure"
                    % (SKIP_MESSAGE, "; ".join(missing)), pytrace=False)
    pytest.skip(SKIP_MESSAGE)


@dataclass
class Job:
    """Open ``src``, act like a user, recalculate, save to ``dst`` with ``filter``.

    ``cells`` are ``(sheet, "C5", value)``: a number is typed as a number; a str is always
    stored as text, like typing into a Text-formatted cell ("１２", "12" and "=A1" all stay
    text; pass 12 for a user typing 12 into a General cell); None clears the cell;
    ``{"formula": "=A1+1"}`` enters a formula in Excel syntax.

    ``insert_rows`` are ``(sheet, row, count)``: insert ``count`` rows above the 1-based
    ``row``. It happens before the cells are set, so cell addresses refer to the layout
    after the insertion.

    Sheets named in ``unprotect_sheets`` end up unprotected. A protected sheet that had to
    be unprotected for an edit (inserting rows) is protected again, with an empty password,
    only when ``keep_protection``. With ``respect_locks``, writing into a locked cell of a
    protected sheet fails the job, as it would stop a user (LibreOffice's API itself does
    not enforce protection for cell contents).
    """

    src: Path
    dst: Path
    cells: list[tuple[str, str, object]]
    filter: str = XLSX
    keep_protection: bool = True
    unprotect_sheets: list[str] = field(default_factory=list)
    insert_rows: list[tuple[str, int, int]] = field(default_factory=list)
    respect_locks: bool = False

    def to_json(self) -> dict:
        return {
            "src": os.fspath(Path(self.src).resolve()),
            "dst": os.fspath(Path(self.dst).resolve()),
            "cells": [[sheet, addr, _json_value(value)] for sheet, addr, value in self.cells],
            "filter": self.filter,
            "keep_protection": self.keep_protection,
            "unprotect_sheets": list(self.unprotect_sheets),
            "insert_rows": [[s, int(r), int(n)] for s, r, n in self.insert_rows],
            "respect_locks": self.respect_locks,
        }


def _json_value(value: object) -> object:
    if value is None or isinstance(value, (str, dict)):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans are not typed by users; use {'formula': '=TRUE()'}")
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        return float(value)
    raise TypeError("unsupported cell value %r" % (value,))


def _kill_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(1)


def _tail(text: str, n: int = 4000) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def run_jobs(jobs: list[Job], timeout: float = 600, *, check: bool = True) -> list[dict]:
    """Run all ``jobs`` in one headless LibreOffice; return one result dict per job.

    A result has ``index``, ``src``, ``dst``, ``ok``, ``error`` and ``seconds``. With
    ``check`` (the default) any failed job raises :class:`LibreOfficeError` carrying the
    job errors and the worker's stderr; ``check=False`` returns failures for the caller to
    inspect. ``timeout`` bounds the whole batch, soffice start-up included.
    """
    if not jobs:
        return []
    if soffice_path() is None:
        raise LibreOfficeError(SKIP_MESSAGE)
    payload = [job.to_json() for job in jobs]
    with tempfile.TemporaryDirectory(prefix="nianbao_lo_jobs_") as tmp:
        job_file = Path(tmp, "jobs.json")
        pidfile = Path(tmp, "soffice.pgid")
        job_file.write_text(json.dumps({"jobs": payload, "timeout": float(timeout),
                                        "soffice": soffice_path(), "pidfile": str(pidfile)},
                                       ensure_ascii=False), encoding="utf-8")
        cmd = [uno_python(), str(WORKER), str(job_file)]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the project's site-packages are not for /usr/bin/python3
        env.pop("PYTHONHOME", None)
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        except OSError as exc:
            raise LibreOfficeError("cannot run %s: %s" % (cmd[0], exc)) from exc
        try:
            # the worker enforces `timeout` itself; this is the backstop if it hangs
            stdout, stderr = proc.communicate(timeout=timeout + 60)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            stdout, stderr = proc.communicate()
            if pidfile.exists():
                try:
                    _kill_group(int(pidfile.read_text().strip()))
                except ValueError:
                    pass
            raise LibreOfficeError("LibreOffice worker hung for more than %.0f s and was "
                                   "killed; stderr:\n%s"
                                   % (timeout + 60, _tail(stderr.decode("utf-8", "replace"))))
    err_text = _tail(stderr.decode("utf-8", "replace"))
    try:
        report = json.loads(stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise LibreOfficeError("LibreOffice worker exited with status %s without a report; "
                               "stdout: %r; stderr:\n%s"
                               % (proc.returncode, _tail(stdout.decode("utf-8", "replace")),
                                  err_text)) from exc
    results = report.get("results") or []
    if len(results) != len(jobs):
        raise LibreOfficeError("LibreOffice worker reported %d results for %d jobs: %s; "
                               "stderr:\n%s" % (len(results), len(jobs), report.get("error"),
                                                err_text))
    if check and (report.get("error") or not all(r.get("ok") for r in results)):
        failed = ["  job %d (%s -> %s): %s%s" % (r["index"], r.get("src"), r.get("dst"),
                                                 r.get("error"),
                                                 "\n" + r["traceback"] if r.get("traceback")
                                                 else "")
                  for r in results if not r.get("ok")]
        raise LibreOfficeError("LibreOffice jobs failed (%s):\n%s\nworker stderr:\n%s"
                               % (report.get("error") or "%d of %d jobs"
                                  % (len(failed), len(jobs)),
                                  "\n".join(failed), err_text or "(empty)"))
    return results


def convert(src: Path, outdir: Path, target: str, *, timeout: float = 180) -> Path:
    """``soffice --headless --convert-to TARGET --outdir OUTDIR SRC``; return the new file.

    ``target`` is an extension, optionally with a filter: "pdf", "xlsx", "ods", "xls",
    "docx", "pdf:calc_pdf_Export". Runs with its own temporary profile (so it never hands the
    job to another running LibreOffice) and raises :class:`LibreOfficeError` on failure or
    timeout.
    """
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeError(SKIP_MESSAGE)
    src = Path(src).resolve()
    outdir = Path(outdir).resolve()
    if not src.is_file():
        raise LibreOfficeError("convert: no such file: %s" % src)
    ext = target.split(":", 1)[0].strip().lstrip(".")
    if not ext:
        raise ValueError("convert: empty target %r" % target)
    out = outdir / ("%s.%s" % (src.stem, ext))
    if out == src:
        raise ValueError("convert: %s would overwrite its source; use another outdir" % src)
    outdir.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()  # so that a silent failure cannot pass for success
    with tempfile.TemporaryDirectory(prefix="nianbao_lo_convert_") as tmp:
        profile = Path(tmp, "profile")
        cmd = [soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
               "--nolockcheck", "-env:UserInstallation=" + profile.as_uri(),
               "--convert-to", target, "--outdir", str(outdir), str(src)]
        env = dict(os.environ)
        env["TMPDIR"] = tmp
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        except OSError as exc:
            raise LibreOfficeError("cannot run %s: %s" % (soffice, exc)) from exc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            output, _ = proc.communicate()
            raise LibreOfficeError("soffice --convert-to %s %s timed out after %.0f s; output:\n%s"
                                   % (target, src, timeout,
                                      _tail(output.decode("utf-8", "replace"))))
        _kill_group(proc.pid)  # stragglers of the group, if any (normally none)
    text = _tail(output.decode("utf-8", "replace"))
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise LibreOfficeError("soffice --convert-to %s %s failed (status %s, expected %s); "
                               "output:\n%s" % (target, src, proc.returncode, out, text))
    return out

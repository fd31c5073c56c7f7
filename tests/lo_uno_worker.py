#!/usr/bin/python3
"""Drive a headless LibreOffice through UNO, as "a user's office suite", for tests.

Run with the Debian interpreter that has python3-uno (``/usr/bin/python3``), NOT with
the project's interpreter::

    /usr/bin/python3 tests/lo_uno_worker.py JOBS.json

The job file is either a JSON list of jobs or an object::

    {"jobs": [...],
     "timeout": 600,                    # overall deadline in seconds (default 600)
     "soffice": "/usr/bin/soffice",     # optional, found on PATH otherwise
     "connect": "uno:pipe,name=x;urp;StarOffice.ComponentContext",  # optional: use a
                                        #   running office instead of starting one
     "pidfile": "/tmp/x.pid"}           # optional: the soffice process-group id is
                                        #   written here so a caller can kill it

Each job::

    {"src": "in.xlsx", "dst": "out.xlsx",
     "cells": [["表三 依申请公开", "C5", 12], ["表三 依申请公开", "C6", "１２"],
               ["表三 依申请公开", "C7", null], ["Sheet", "D1", {"formula": "=C5*2"}]],
     "filter": "Calc MS Excel 2007 XML",    # or "MS Excel 97" (.xls), "calc8" (.ods)
     "keep_protection": true,
     "unprotect_sheets": ["表四"],
     "insert_rows": [["表三 依申请公开", 5, 2]],
     "respect_locks": false}

Per job, in this order: load ``src`` hidden; unprotect the ``unprotect_sheets`` (and leave
them unprotected); insert rows (``[sheet, row, count]`` inserts ``count`` rows above the
1-based ``row``, like selecting that row and "Insert Rows Above"); set the cells (addresses
refer to the layout *after* the insertion); ``calculateAll()``; store to ``dst`` with the
filter; close.

Cell values: a number -> ``setValue``; a string -> ``setString`` (typed text: "１２" stays
text); ``null`` -> the contents are cleared (like pressing Delete); ``{"formula": "=..."}`` ->
the formula in Excel syntax (English function names, ``,`` separators, ``'Sheet'!A1``
references, defined names), parsed with LibreOffice's FormulaParser in the OOXML convention
(a plain ``setFormula`` would expect LibreOffice's API grammar with ``;`` separators).

Protection: a write is tried first. If it fails and the sheet is protected with an empty
password, the sheet is unprotected, the write repeated, and the sheet protected again
(``protect("")``) only when ``keep_protection`` is true. Note that LibreOffice's API does
not enforce sheet protection for cell contents (a locked cell on a protected sheet accepts
``setValue``); inserting rows on a protected sheet, however, fails and takes the unprotect
path. ``"respect_locks": true`` makes writing into a locked cell of a protected sheet an error,
as it would be for a user typing.

Output (stdout, one JSON object)::

    {"ok": bool, "error": str|null, "results": [{"index", "src", "dst", "ok", "error",
     "seconds"}...], "startup_seconds": float, "total_seconds": float}

Exit status: 0 all jobs succeeded, 1 some job failed, 2 fatal (bad job file, no office).
The soffice process (its whole process group) is always terminated at the end, on the
overall deadline, and on SIGTERM/SIGINT/SIGHUP.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

try:
    import uno
    from com.sun.star.beans import PropertyValue
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    sys.stdout.write(json.dumps({
        "ok": False, "results": [],
        "error": "cannot import uno (%s); run this script with the interpreter that has "
                 "python3-uno, e.g. /usr/bin/python3" % exc,
    }) + "\n")
    sys.exit(2)

DEFAULT_FILTER = "Calc MS Excel 2007 XML"
DEFAULT_TIMEOUT = 600.0
CONNECT_TIMEOUT = 60.0
# com.sun.star.sheet.CellFlags: VALUE | DATETIME | STRING | FORMULA  (what "Delete" removes)
CLEAR_CONTENT_FLAGS = 1 | 2 | 4 | 16
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
ADDRESS_CONVENTION_XL_OOX = 3  # com.sun.star.sheet.AddressConvention.XL_OOX
# Calc's Err:501..512 are parse errors (invalid character, missing operator, bad
# parentheses...), 525 is #NAME? (unknown function or name).
FORMULA_SYNTAX_ERRORS = frozenset(range(501, 513)) | {525}
# Settings written into the fresh profile before soffice starts: no ".~lock.NAME#" files next
# to the test files (a stale lock from a killed soffice makes the next load return None), no
# macros, no crash reporter.
REGISTRY_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentOOoLockFile" \
oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentSystemFileLocking" \
oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="CrashReport" \
oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop \
oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
</oor:items>
"""


class JobError(Exception):
    """A job failed for a reason that is not LibreOffice's fault."""


def _pv(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def _find_soffice(explicit=None):
    if explicit:
        return explicit
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    default = "/usr/lib/libreoffice/program/soffice"
    return default if os.path.exists(default) else None


def _group_alive(proc, pgid):
    proc.poll()  # reap the leader so that a zombie does not count as alive
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _wait_group(proc, pgid, seconds):
    """Wait until no process of the group is left (soffice.bin outlives the wrapper)."""
    limit = time.monotonic() + seconds
    while _group_alive(proc, pgid):
        if time.monotonic() > limit:
            return False
        time.sleep(0.05)
    return True


def _unblock_and_setsid():  # runs in the child between fork and exec
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    os.setsid()


class Office:
    """One soffice process (own profile, own pipe) and the UNO desktop."""

    def __init__(self, soffice, connect_url=None, pidfile=None):
        self.soffice = soffice
        self.connect_url = connect_url
        self.pidfile = pidfile
        self.proc = None
        self.pgid = None
        self.tmpdir = None
        self.desktop = None
        self.log_path = None
        self.pipe = None
        self.profile_url = None
        self.closing = False
        self._lock = threading.Lock()
        self._kill_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, deadline):
        if self.connect_url:
            url = self.connect_url
        else:
            if not self.soffice:
                raise RuntimeError("soffice not found (install libreoffice-calc)")
            self.tmpdir = tempfile.mkdtemp(prefix="nianbao_lo_")
            profile = os.path.join(self.tmpdir, "profile")
            self.profile_url = uno.systemPathToFileUrl(profile)
            os.makedirs(os.path.join(profile, "user"))
            with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w",
                      encoding="utf-8") as fh:
                fh.write(REGISTRY_XCU)
            pipe = self.pipe = "nianbao_lo_%d_%s" % (os.getpid(), uuid.uuid4().hex[:12])
            url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
            self.log_path = os.path.join(self.tmpdir, "soffice.log")
            cmd = [
                self.soffice, "--headless", "--invisible", "--norestore", "--nologo",
                "--nodefault", "--nolockcheck", "--nofirststartwizard",
                "-env:UserInstallation=" + self.profile_url,
                "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe,
            ]
            env = dict(os.environ)
            env["TMPDIR"] = self.tmpdir  # LibreOffice's lu*.tmp scratch dirs land in here
            with self._lock:
                if self.closing:
                    raise RuntimeError("shutting down")
                log = open(self.log_path, "wb")
                try:
                    self.proc = subprocess.Popen(
                        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        env=env, preexec_fn=_unblock_and_setsid, close_fds=True)
                finally:
                    log.close()
                self.pgid = self.proc.pid  # setsid: the child leads its own group
            if self.pidfile:
                with open(self.pidfile, "w") as fh:
                    fh.write("%d\n" % self.pgid)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        limit = min(deadline, time.monotonic() + CONNECT_TIMEOUT)
        last = None
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("soffice exited with status %s before accepting a UNO "
                                   "connection; log: %s" % (self.proc.returncode, self.log_tail()))
            try:
                ctx = resolver.resolve(url)
                break
            except Exception as exc:  # NoConnectException while soffice starts
                last = exc
            if time.monotonic() > limit:
                raise RuntimeError("no UNO connection to soffice after %.0f s (%s); log: %s"
                                   % (CONNECT_TIMEOUT, last, self.log_tail()))
            time.sleep(0.25)
        self.desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx)

    def alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            return False
        try:
            self.desktop.getFrames()
            return True
        except Exception:
            return False

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace").strip() or "(empty)"
        except Exception:
            return "(no log)"

    def shutdown(self):
        """Stop for good: no restart may happen after this (signal, deadline, end)."""
        self.closing = True
        self.kill(graceful=False)

    def kill(self, graceful=True):
        """Terminate soffice and its whole process group; remove the temporary profile."""
        # held for the whole kill: whoever calls next (e.g. the main thread after the
        # watchdog) waits until soffice is really gone and cleaned up
        with self._kill_lock:
            self._kill(graceful)

    def _kill(self, graceful):
        with self._lock:
            proc, pgid, pipe = self.proc, self.pgid, self.pipe
            self.proc = self.pgid = None
        if proc is not None:
            if graceful and self.desktop is not None and proc.poll() is None:
                t = threading.Thread(target=self._terminate_desktop, daemon=True)
                t.start()
                t.join(5)
                _wait_group(proc, pgid, 10)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not _group_alive(proc, pgid):
                    break
                try:
                    os.killpg(pgid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                _wait_group(proc, pgid, 5)
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                pass
        self.desktop = None
        if pipe and proc is not None and not _group_alive(proc, pgid):
            # A killed soffice leaves its pipes' socket files in /tmp: the UNO pipe and the
            # single-instance pipe "SingleOfficeIPC_" + MD5 of the profile URL (UTF-16LE),
            # bytes in unpadded hex (desktop/source/app/officeipcthread.cxx).
            digest = hashlib.md5(self.profile_url.encode("utf-16-le")).digest()
            ipc = "SingleOfficeIPC_" + "".join("%x" % b for b in digest)
            for name in (pipe, ipc):
                try:
                    os.unlink("/tmp/OSL_PIPE_%d_%s" % (os.getuid(), name))
                except OSError:
                    pass
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def _terminate_desktop(self):
        try:
            self.desktop.terminate()
        except Exception:
            pass  # the bridge is disposed when soffice quits; that is expected


# -- one job ---------------------------------------------------------------------------
def _sheet(doc, name):
    sheets = doc.getSheets()
    if not sheets.hasByName(name):
        raise JobError("no sheet %r (sheets: %s)" % (name, ", ".join(sheets.getElementNames())))
    return sheets.getByName(name)


def _unprotect(sheet, name):
    try:
        sheet.unprotect("")
    except Exception as exc:  # IllegalArgumentException: wrong password
        raise JobError("sheet %r is protected with a password; cannot unprotect (%s)"
                       % (name, exc))


def _set_cell(doc, cell, value):
    if value is None:
        cell.clearContents(CLEAR_CONTENT_FLAGS)
    elif isinstance(value, bool):
        raise JobError("boolean values are not supported; use {\"formula\": \"=TRUE()\"}")
    elif isinstance(value, (int, float)):
        cell.setValue(float(value))
    elif isinstance(value, str):
        cell.setString(value)
    elif isinstance(value, dict) and set(value) == {"formula"} \
            and isinstance(value["formula"], str):
        parser = doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("CompileEnglish", True)
        parser.setPropertyValue("FormulaConvention", ADDRESS_CONVENTION_XL_OOX)
        text = value["formula"]
        text = text[1:] if text.startswith("=") else text
        cell.setTokens(parser.parseFormula(text, cell.getCellAddress()))
        if cell.getError() in FORMULA_SYNTAX_ERRORS:
            # a typo in the test's formula, not something worth saving
            raise JobError("formula %r evaluates to error %d (%s)"
                           % (value["formula"], cell.getError(), cell.getString()))
    else:
        raise JobError("unsupported cell value %r" % (value,))


def run_job(office, job):
    src, dst = job["src"], job["dst"]
    filt = job.get("filter") or DEFAULT_FILTER
    keep_protection = bool(job.get("keep_protection", True))
    respect_locks = bool(job.get("respect_locks", False))
    if not os.path.isfile(src):
        raise JobError("src does not exist: %s" % src)
    doc = office.desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0,
        (_pv("Hidden", True), _pv("ReadOnly", False), _pv("MacroExecutionMode", 0)))
    if doc is None:
        raise JobError("LibreOffice could not load %s (not a document it can open?)" % src)
    try:
        if not hasattr(doc, "getSheets"):
            raise JobError("%s did not load as a spreadsheet" % src)
        reprotect = set()  # sheets we unprotected only to be able to edit them

        def edit(name, action):
            sheet = _sheet(doc, name)
            try:
                return action(sheet)
            except JobError:
                raise
            except Exception:
                if not sheet.isProtected():
                    raise
            _unprotect(sheet, name)
            reprotect.add(name)
            return action(sheet)

        for name in job.get("unprotect_sheets") or []:
            sheet = _sheet(doc, name)
            if sheet.isProtected():
                _unprotect(sheet, name)

        for entry in job.get("insert_rows") or []:
            name, row, count = entry
            if int(row) < 1 or int(count) < 1:
                raise JobError("insert_rows needs a 1-based row and a positive count: %r"
                               % (entry,))
            edit(name, lambda s, r=int(row), c=int(count): s.getRows().insertByIndex(r - 1, c))

        for entry in job.get("cells") or []:
            name, addr, value = entry

            def write(sheet, addr=addr, value=value, name=name):
                try:
                    cell = sheet.getCellRangeByName(addr)
                except Exception as exc:
                    raise JobError("bad cell address %r on sheet %r (%s)" % (addr, name, exc))
                if respect_locks and sheet.isProtected() and \
                        cell.getPropertyValue("CellProtection").IsLocked:
                    raise JobError("cell %s!%s is locked and the sheet is protected: a user "
                                   "could not type here" % (name, addr))
                _set_cell(doc, cell, value)

            edit(name, write)

        if keep_protection:
            sheets = doc.getSheets()
            for name in reprotect - set(job.get("unprotect_sheets") or []):
                sheets.getByName(name).protect("")

        doc.calculateAll()
        os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)),
                       (_pv("FilterName", filt), _pv("Overwrite", True)))
    finally:
        try:
            doc.close(True)
        except Exception:
            try:
                doc.dispose()
            except Exception:
                pass


def _describe(exc):
    if isinstance(exc, JobError):
        return str(exc)
    msg = getattr(exc, "Message", None) or str(exc)
    return "%s: %s" % (type(exc).__name__, msg)


# -- main ------------------------------------------------------------------------------
def main(argv):
    t_start = time.monotonic()
    out = {"ok": False, "error": None, "results": [], "startup_seconds": None,
           "total_seconds": None}
    emitted = threading.Event()
    emit_lock = threading.Lock()

    def emit(code):
        with emit_lock:
            if emitted.is_set():
                return
            emitted.set()
            out["total_seconds"] = round(time.monotonic() - t_start, 3)
            sys.stdout.write(json.dumps(out, ensure_ascii=True) + "\n")
            sys.stdout.flush()
        return code

    if len(argv) != 2:
        out["error"] = "usage: %s JOBS.json" % argv[0]
        emit(2)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as fh:
            spec = json.load(fh)
        if isinstance(spec, list):
            spec = {"jobs": spec}
        jobs = spec["jobs"]
        if not isinstance(jobs, list):
            raise ValueError("'jobs' must be a list")
        timeout = float(spec.get("timeout") or DEFAULT_TIMEOUT)
    except Exception as exc:
        out["error"] = "bad job file %s: %s" % (argv[1], exc)
        emit(2)
        return 2

    results = [{"index": i, "src": j.get("src") if isinstance(j, dict) else None,
                "dst": j.get("dst") if isinstance(j, dict) else None,
                "ok": False, "error": "not run", "seconds": None}
               for i, j in enumerate(jobs)]
    out["results"] = results
    deadline = time.monotonic() + timeout
    office = Office(_find_soffice(spec.get("soffice")), spec.get("connect"), spec.get("pidfile"))

    # Signals are handled by a dedicated thread (a blocked UNO call would delay a Python
    # signal handler indefinitely). soffice gets the default mask back in its preexec_fn.
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)

    def on_signal():
        signum = signal.sigwait(_SIGNALS)
        out["error"] = "interrupted by signal %d" % signum
        office.shutdown()
        emit(128 + signum)
        os._exit(128 + signum)

    def watchdog():
        remaining = deadline - time.monotonic()
        if remaining > 0 and stop_watchdog.wait(remaining):
            return
        out["error"] = "overall timeout of %.0f s exceeded" % timeout
        office.shutdown()  # a blocked UNO call now fails with DisposedException
        if not stop_watchdog.wait(15):  # main thread did not recover: give up hard
            emit(3)
            os._exit(3)

    stop_watchdog = threading.Event()
    threading.Thread(target=on_signal, daemon=True).start()
    threading.Thread(target=watchdog, daemon=True).start()

    code = 0
    try:
        try:
            office.start(deadline)
        except Exception as exc:
            out["error"] = "cannot start/connect to LibreOffice: %s" % _describe(exc)
            for r in results:
                r["error"] = out["error"]
            code = 2
            return code
        out["startup_seconds"] = round(time.monotonic() - t_start, 3)
        restarts = 0
        for i, job in enumerate(jobs):
            r = results[i]
            if office.closing:
                r["error"] = "skipped: " + (out["error"] or "shutting down")
                continue
            t0 = time.monotonic()
            try:
                if not isinstance(job, dict) or "src" not in job or "dst" not in job:
                    raise JobError("a job needs 'src' and 'dst'")
                run_job(office, job)
                r["ok"], r["error"] = True, None
            except Exception as exc:
                r["error"] = _describe(exc)
                if not isinstance(exc, JobError):
                    r["traceback"] = traceback.format_exc(limit=3)
                # a crashed office would fail every later job: start a fresh one
                if (not office.closing and not office.connect_url
                        and not office.alive() and restarts < 2):
                    restarts += 1
                    r["error"] += " (soffice died; restarted)"
                    office.kill(graceful=False)
                    try:
                        office.start(deadline)
                    except Exception as exc2:
                        out["error"] = "cannot restart LibreOffice: %s" % _describe(exc2)
                        for rr in results[i + 1:]:
                            rr["error"] = out["error"]
                        break
            r["seconds"] = round(time.monotonic() - t0, 3)
        out["ok"] = all(r["ok"] for r in results) and not out["error"]
        code = 0 if out["ok"] else 1
        return code
    finally:
        stop_watchdog.set()
        office.closing = True
        if not office.connect_url:
            office.kill(graceful=True)
        emit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

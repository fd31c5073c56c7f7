"""Worker processes that cannot outlive the run that started them, nor hold its locks.

A pool worker is a fork of its parent: it inherits the parent's open files, among them the
campaign lock. Killed with SIGKILL, the parent cannot stop its workers, which would live on
(re-parented to init), keep the lock and refuse every rerun. So every worker, first thing,
closes the lock files it inherited and asks the kernel to kill it when its parent dies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1
#: Descriptors of locks held in this process; a forked worker closes its copies.
lock_fds: set[int] = set()
_expected_parent = os.getpid()


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != _expected_parent:  # the parent died before the request took effect
        os._exit(1)


def worker_setup(parent: int) -> None:
    """Pool initializer: release inherited locks, die with the parent."""
    global _expected_parent
    _expected_parent = parent
    for fd in list(lock_fds):
        try:
            os.close(fd)  # the parent's copy keeps the lock; this one must not
        except OSError:
            pass
    lock_fds.clear()
    die_with_parent()


def worker_pool(max_workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process and never hold its locks."""
    return ProcessPoolExecutor(max_workers=max_workers, initializer=worker_setup, initargs=(os.getpid(),))


__all__ = ["die_with_parent", "lock_fds", "worker_pool", "worker_setup"]

"""One run at a time per campaign folder, for work that must not overlap (collect, send)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from nianbao import workers
from nianbao.errors import NianbaoError


class CampaignLock:
    """An exclusive, non-blocking flock on a file in the campaign folder.

    A second run does not wait: it stops at once with ``busy`` (a Chinese sentence naming
    what is running), so two collects or two sends can never interleave. The kernel drops a
    flock when the last process holding it ends, so a killed run's lock is free at once: its
    pool workers close their inherited copy and die with it (:mod:`nianbao.workers`).
    """

    def __init__(self, path: Path, busy: str) -> None:
        self.path = Path(path)
        self.busy = busy

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise NianbaoError(self.busy) from None
        workers.lock_fds.add(self.fd)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())  # for people looking: who holds it

    def __exit__(self, *exc: object) -> None:
        workers.lock_fds.discard(self.fd)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

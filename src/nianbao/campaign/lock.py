"""One run at a time per campaign folder, for work that must not overlap (collect, send)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from nianbao.errors import NianbaoError


class CampaignLock:
    """An exclusive, non-blocking flock on a file in the campaign folder.

    A second run does not wait: it stops at once with ``busy`` (a Chinese sentence naming
    what is running), so two collects or two sends can never interleave.
    """

    def __init__(self, path: Path, busy: str) -> None:
        self.path = Path(path)
        self.busy = busy

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise NianbaoError(self.busy) from None

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

"""Helpers for the desk's tests: the demo campaign (made once, copied per test) and a real
uvicorn server on 127.0.0.1 in a thread."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import uvicorn

from nianbao.web.demo import make_demo

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "张巷镇人民政府2021年报.xlsx"
_MADE: dict[str, Path] = {}


def demo_copy(root: Path, name: str = "camp") -> Path:
    """A fresh copy of the demo campaign (made once per test run: it takes a few seconds)."""
    if "demo" not in _MADE:
        import tempfile

        _MADE["demo"] = make_demo(Path(tempfile.mkdtemp(prefix="nianbao-demo-")) / "demo", SAMPLE)
    target = root / name
    shutil.copytree(_MADE["demo"], target)
    return target


class Server:
    """uvicorn serving ``app`` on a free 127.0.0.1 port until ``stop``."""

    def __init__(self, app) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)

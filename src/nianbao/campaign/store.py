"""The inbox: every received file kept byte-for-byte under its SHA-256, never overwritten.

A file is written to ``inbox/.tmp/`` first, flushed and fsynced, then hard-linked to its final
name (``inbox/ab/<sha256>.<kind>``): the link fails if the name exists, so nothing is ever
overwritten, and a kill at any moment leaves either no final file or a complete one. The
folder is fsynced after the link so the name survives a power loss too. Names inside the inbox
come only from the hash: a sender's file name never becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nianbao.errors import NianbaoError

INBOX_NAME = "inbox"
TMP_NAME = ".tmp"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    path: Path  # absolute
    relpath: str  # inside the campaign folder, POSIX style
    kind: str
    new: bool  # written now (False: the same content was already stored)


class TooLarge(Exception):
    """More bytes than the limit arrived while streaming; nothing was stored."""


class Inbox:
    def __init__(self, campaign_dir: Path) -> None:
        self.campaign_dir = Path(campaign_dir)
        self.root = self.campaign_dir / INBOX_NAME
        self.tmp = self.root / TMP_NAME

    def ensure(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)

    def clean_temporary(self) -> int:
        """Remove half-written files a killed run left behind (only ours, only in .tmp)."""
        removed = 0
        if self.tmp.is_dir():
            for p in self.tmp.iterdir():
                if p.name.startswith("part-") and p.is_file():
                    p.unlink()
                    removed += 1
        return removed

    def path_for(self, sha256: str, kind: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{kind}"

    def put(self, data: bytes | BinaryIO | Iterable[bytes], kind: str, limit: int | None = None) -> Stored:
        """Store ``data`` (bytes, a binary file or chunks); raise TooLarge past ``limit`` bytes."""
        self.ensure()
        digest = hashlib.sha256()
        size = 0
        fd, name = tempfile.mkstemp(prefix="part-", dir=self.tmp)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(data):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise TooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha, kind)
            final.parent.mkdir(exist_ok=True)
            new = True
            try:
                os.link(tmp, final)
            except FileExistsError:
                new = False
                if final.stat().st_size != size:  # same hash, other size: the disk lies; never overwrite
                    raise NianbaoError(f"收件箱中的文件 {final} 与其内容校验值不符，请检查磁盘") from None
            if new:
                os.chmod(final, 0o444)  # stored evidence is read-only
                _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return Stored(sha, size, final, final.relative_to(self.campaign_dir).as_posix(), kind, new)

    def files(self) -> list[str]:
        """Every stored file (relative to the inbox), for comparisons and audits."""
        if not self.root.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                      if p.is_file() and TMP_NAME not in p.relative_to(self.root).parts)


def _chunks(data: bytes | BinaryIO | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    read = getattr(data, "read", None)
    if read is not None:
        while True:
            chunk = read(CHUNK)
            if not chunk:
                return
            yield chunk
    else:
        yield from data


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["INBOX_NAME", "Inbox", "Stored", "TooLarge"]

"""Where returned workbooks come from: folders, .eml files, mbox files, Maildir folders.

Each source yields :class:`Received` items: one per file in a folder, one per attachment of a
message (and one for a message without any attachment, so it is reported, not lost). The mail
issue's IMAP fetcher feeds raw message bytes through :func:`items_from_message`.

Attachment names are kept only for display: they never become paths. Headers are decoded the
way Chinese mailers actually write them: RFC 2047 words inside quoted file names, ``gb2312`` /
``gbk`` labels decoded as GB18030 (a superset that also covers what GB2312 labels mislabel),
raw 8-bit headers tried as UTF-8 then GB18030.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import mailbox
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import BinaryIO

from nianbao.errors import NianbaoError
from nianbao.findings import register
from nianbao.mail.decode import attachment_filename, header_text, is_attachment, structure_problem
from nianbao.read.package import MAX_FILE_BYTES

#: Largest message (or .eml file) read at all; larger ones are refused by size without reading.
MAX_MESSAGE_BYTES = 3 * MAX_FILE_BYTES
#: Most attachments taken from one message.
MAX_ATTACHMENTS = 50
NO_ATTACHMENT = register("MAIL-NO-ATTACHMENT", "error", "邮件没有附件，无法收取年报")
TOO_LARGE = "FILE-TOO-LARGE"
MESSAGE_TOO_LARGE = register("MAIL-TOO-LARGE", "error", "邮件过大，未读取")
TOO_MANY_ATTACHMENTS = register("MAIL-TOO-MANY-ATTACHMENTS", "error", "邮件附件过多，只读取了前面的附件")
MAIL_TOO_COMPLEX = register("MAIL-TOO-COMPLEX", "error", "邮件结构过于复杂（部分过多或层层嵌套），未读取")
MAIL_UNREADABLE = register("MAIL-UNREADABLE", "error", "邮件已损坏，无法读取")
SKIPPED = register("FILE-SKIPPED", "error", "文件夹中的这一项不是可以读取的普通文件（隐藏文件、临时文件、链接、管道等），未读取")

_SKIP_NAMES = re.compile(r"^(~\$|\.|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)


@dataclass
class Received:
    """One item found in a source. Either ``data``/``opener`` give its bytes, or ``problem`` says
    why it was refused unread."""

    source_key: str  # stable identity in its source: a rerun sees the same key and skips it
    source: str  # for people: where it came from
    name: str  # display only (a file or attachment name); never used as a path
    received_at: str  # ISO 8601
    sender: str = ""
    size: int | None = None
    subject: str = ""  # the mail's subject, decoded (display only)
    data: bytes | None = None
    opener: Callable[[], BinaryIO] | None = None
    message: bytes | None = None  # the raw message it came in, kept as evidence
    message_key: str = ""
    problem_code: str | None = None
    problem: str | None = None


def iter_sources(sources: list[Path]) -> Iterator[Received]:
    """Every item of every source, in a stable order (sorted paths, mailbox order)."""
    for src in sources:
        src = Path(src)
        if src.is_dir():
            if is_maildir(src):
                yield from iter_maildir(src)
            else:
                yield from iter_folder(src)
        elif src.is_file():
            if src.suffix.lower() == ".eml":
                yield from iter_eml(src)
            elif _looks_like_mbox(src):
                yield from iter_mbox(src)
            else:
                yield _file_item(src)
        else:
            raise NianbaoError(f"找不到收件来源：{src}")


def is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def iter_folder(root: Path) -> Iterator[Received]:
    """Files under ``root`` (recursively, not following links); .eml files are read as mail."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(d for d in dirnames if d.startswith(".") or (here / d).is_symlink()):
            yield _skipped(here / name, "是隐藏文件夹" if name.startswith(".") else "是指向别处的链接")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        if is_maildir(here):
            dirnames[:] = []
            yield from iter_maildir(here)
            continue
        for name in sorted(filenames):
            path = here / name
            why = _skip_reason(path)
            if why is not None:
                yield _skipped(path, why)
                continue
            if name.lower().endswith(".eml"):
                yield from iter_eml(path)
            else:
                yield _file_item(path)


def _skip_reason(path: Path) -> str | None:
    """Why a folder entry is not read, or ``None`` for a regular file to read."""
    if path.is_symlink():
        return "是指向别处的链接（快捷方式）"
    if not path.is_file():
        return "不是普通文件（如管道、设备）"
    if path.name.startswith("~$"):
        return "是 Office 打开文件时留下的临时文件"
    if _SKIP_NAMES.match(path.name):
        return "是隐藏文件或系统文件"
    return None


def _skipped(path: Path, why: str) -> Received:
    """A folder entry reported as skipped (named, with why), never silently left out."""
    try:
        st = path.lstat()
        key, when = f"skip:{path}|{st.st_size}|{st.st_mtime_ns}", _iso(st.st_mtime)
    except OSError:
        key, when = f"skip:{path}", _iso(dt.datetime.now().timestamp())
    return Received(key, str(path), path.name, when, problem_code=SKIPPED,
                    problem=f"{why}，未读取；年报请作为普通文件放入文件夹")


def _file_item(path: Path) -> Received:
    st = path.stat()
    key = f"file:{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    item = Received(key, str(path), path.name, _iso(st.st_mtime), size=st.st_size,
                    opener=lambda p=path: p.open("rb"))
    return item


def iter_eml(path: Path) -> Iterator[Received]:
    st = path.stat()
    key = f"eml:{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    if st.st_size > MAX_MESSAGE_BYTES:
        yield Received(key, str(path), path.name, _iso(st.st_mtime), size=st.st_size, problem_code=MESSAGE_TOO_LARGE,
                       problem=f"邮件文件过大（{st.st_size // (1024 * 1024)} MB），未读取")
        return
    raw = path.read_bytes()
    yield from items_from_message(raw, key, str(path), fallback_time=_iso(st.st_mtime))


def iter_mbox(path: Path) -> Iterator[Received]:
    box = mailbox.mbox(path, create=False)
    try:
        for index, key in enumerate(box.keys()):
            f = box.get_file(key)
            raw = f.read(MAX_MESSAGE_BYTES + 1)
            where = f"{path}#{index + 1}"
            mkey = f"mbox:{path.resolve()}#{index}"
            if len(raw) > MAX_MESSAGE_BYTES:
                yield Received(mkey, where, "", _iso(path.stat().st_mtime), problem_code=MESSAGE_TOO_LARGE,
                               problem="邮件过大，未读取")
                continue
            yield from items_from_message(raw, mkey, where, fallback_time=_iso(path.stat().st_mtime))
    finally:
        box.close()


def iter_maildir(root: Path) -> Iterator[Received]:
    """A Maildir's messages (new/ and cur/); the unique part of the file name is the key."""
    for sub in ("new", "cur"):
        folder = root / sub
        for name in sorted(os.listdir(folder)):
            path = folder / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            unique = name.split(":", 1)[0]  # flags after ":" change when a client reads the mail
            st = path.stat()
            mkey = f"maildir:{root.resolve()}|{unique}"
            if st.st_size > MAX_MESSAGE_BYTES:
                yield Received(mkey, str(path), "", _iso(st.st_mtime), size=st.st_size,
                               problem_code=MESSAGE_TOO_LARGE, problem="邮件过大，未读取")
                continue
            yield from items_from_message(path.read_bytes(), mkey, str(path), fallback_time=_iso(st.st_mtime))


def items_from_message(raw: bytes, message_key: str, where: str, fallback_time: str | None = None) -> Iterator[Received]:
    """The attachments of one raw message (RFC 5322 bytes) as Received items.

    A message too complex to parse safely, or one the parser fails on, is one refused item: the
    round goes on with the next message.
    """
    problem = structure_problem(raw)
    if problem is not None:
        yield Received(f"{message_key}/none", where, "", fallback_time or _iso(dt.datetime.now().timestamp()),
                       problem_code=MAIL_TOO_COMPLEX, problem=problem, message=raw, message_key=message_key)
        return
    try:
        items = list(_message_items(raw, message_key, where, fallback_time))
    except (RecursionError, Exception):  # noqa: BLE001 - one broken message must not stop the round
        items = [Received(f"{message_key}/none", where, "", fallback_time or _iso(dt.datetime.now().timestamp()),
                          problem_code=MAIL_UNREADABLE, problem="邮件已损坏或格式不规范，无法读取其中的附件",
                          message=raw, message_key=message_key)]
    yield from items


def _message_items(raw: bytes, message_key: str, where: str, fallback_time: str | None) -> Iterator[Received]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = header_text(msg, "From")
    subject = header_text(msg, "Subject")
    received_at = message_time(msg) or fallback_time or _iso(dt.datetime.now().timestamp())
    where_text = f"{where}（{subject}）" if subject else where
    count = 0
    for index, part in enumerate(msg.walk()):
        if part.is_multipart() or not is_attachment(part):
            continue
        count += 1
        name = attachment_filename(part)
        key = f"{message_key}/{index}"
        if count > MAX_ATTACHMENTS:
            yield Received(key, where_text, name, received_at, sender, subject=subject, problem_code=TOO_MANY_ATTACHMENTS,
                           problem=f"一封邮件超过 {MAX_ATTACHMENTS} 个附件，其余未读取", message=raw,
                           message_key=message_key)
            break
        data = part.get_payload(decode=True) or b""
        yield Received(key, where_text, name, received_at, sender, size=len(data), subject=subject, data=data, message=raw,
                       message_key=message_key)
    if count == 0:
        yield Received(f"{message_key}/none", where_text, "", received_at, sender, subject=subject, problem_code=NO_ATTACHMENT,
                       problem="邮件没有附件", message=raw, message_key=message_key)


def message_time(msg: Message) -> str | None:
    value = header_text(msg, "Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def _iso(timestamp: float) -> str:
    """UTC, so times from different mailers and folders compare correctly as text."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"From "
    except OSError:
        return False


__all__ = ["MAX_MESSAGE_BYTES", "Received", "items_from_message", "is_maildir",
           "iter_eml", "iter_folder", "iter_maildir", "iter_mbox", "iter_sources", "message_time"]

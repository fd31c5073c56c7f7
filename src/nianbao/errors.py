"""Exceptions that carry a Chinese, user-facing message.

The CLI turns every ``NianbaoError`` into one line on stderr and exit code 2; anything else
escaping to the CLI is a bug.
"""

from __future__ import annotations

import errno
import os
import time
import traceback
from pathlib import Path


class NianbaoError(Exception):
    """A usage or input problem the user can fix; ``str(err)`` is the Chinese message."""

    code = "USAGE"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class FormatDefinitionError(NianbaoError):
    """A format definition (workbook_templates/*.toml) is invalid; lists every problem."""

    code = "FORMAT-DEFINITION"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("格式定义有误：\n" + "\n".join(problems))


class InputFileError(NianbaoError):
    """A file handed to us cannot be read as what it should be (wrong type, hostile, damaged)."""

    code = "FILE-UNREADABLE"

    def __init__(self, path: object, message: str, *, code: str | None = None) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}：{message}", code=code)


# ----------------------------------------------------------------------------- error logs and resource faults

#: Where error logs go: the campaign folder being worked on (set by ``open_campaign``), else
#: the user's cache folder; never the shared temp folder, where other users could read them.
_work_folder: Path | None = None
LOG_SUBFOLDER = "logs"


def set_work_folder(folder: Path | None) -> None:
    """The folder the current command works in (a campaign); logs and fault messages name it."""
    global _work_folder
    _work_folder = Path(folder) if folder is not None else None


def work_folder() -> Path | None:
    return _work_folder


def log_folder() -> Path:
    if _work_folder is not None:
        return _work_folder / LOG_SUBFOLDER
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "nianbao"


def write_log(title: str, text: str) -> Path | None:
    """Write one error log; ``None`` when even that is impossible (disk full, read-only)."""
    for folder in dict.fromkeys((log_folder(), Path.home() / ".cache" / "nianbao")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = folder / f"nianbao-error-{stamp}-{os.getpid()}.log"
            path.write_text(f"{title}\n\n{text}", encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def log_unexpected(err: BaseException, what: str) -> Path | None:
    """Log an unexpected exception with its traceback (for the maintainers); never raises."""
    try:
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    except Exception:  # noqa: BLE001 - a log must not fail the run
        text = repr(err)
    return write_log(what, text)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def resource_message(err: BaseException) -> str | None:
    """One Chinese line for a resource fault (disk full, read-only folder, ledger locked by
    another program), naming the folder and what to do; ``None`` for anything else."""
    import sqlite3

    text = str(err).lower()
    folder = _work_folder
    if isinstance(err, OSError) and getattr(err, "filename", None):
        folder = Path(err.filename).parent
    where = f"“{folder}”" if folder is not None else "工作文件夹"
    if (isinstance(err, OSError) and err.errno in _DISK_FULL) or "disk is full" in text or "no space" in text:
        return f"磁盘空间已满，无法写入{where}：请清理磁盘空间（或换到空间充足的磁盘）后重新运行，已完成的部分不会丢失"
    if (isinstance(err, OSError) and err.errno in _READ_ONLY) or "readonly" in text or "read-only" in text:
        return f"{where}无法写入（只读或没有权限）：请换到可以写入的文件夹，或请管理员开放写入权限后重新运行"
    if isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return (f"{where}中的台账（ledger.sqlite）正被其他程序占用：请关闭打开它的程序（如数据库查看工具、"
                "同步盘客户端）后重新运行")
    if isinstance(err, sqlite3.OperationalError) and "unable to open" in text:
        return f"无法打开{where}中的台账（ledger.sqlite）：请确认文件夹存在且可以写入后重新运行"
    return None

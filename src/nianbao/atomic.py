"""Write an output file whole or not at all.

Every file nianbao produces (templates, reports, annotated copies, boards) is written to a
temporary file beside the target and renamed over it, so a crash or a full disk never leaves a
half-written file where a user expects a good one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from nianbao.errors import NianbaoError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(out: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` for a temp file in ``out``'s folder, then rename it to ``out``."""
    try:
        fd, name = tempfile.mkstemp(prefix=".nianbao-", suffix=out.suffix, dir=out.parent)
    except OSError as err:
        raise NianbaoError(f"无法写入 {out}：{err.strerror or err}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        tmp.replace(out)
    except OSError as err:
        raise NianbaoError(f"无法写入 {out}：{err.strerror or err}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out

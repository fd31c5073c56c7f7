"""The .docx → PDF through LibreOffice (``soffice --headless --convert-to pdf``).

Each conversion runs with its own temporary profile (-env:UserInstallation): without it a
second soffice hands the job to an already running LibreOffice (or fails on a locked profile)
and the conversion silently does nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from nianbao.errors import NianbaoError
from nianbao.report.fonts import substitutions, write_fontconfig

INSTALL_HINT = "apt-get install libreoffice-writer"
TIMEOUT = 180.0


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    default = "/usr/lib/libreoffice/program/soffice"
    return default if os.access(default, os.X_OK) else None


def docx_to_pdf(docx: Path, pdf: Path, timeout: float = TIMEOUT) -> dict[str, str]:
    """Convert ``docx`` to ``pdf`` (written atomically); NianbaoError when that is impossible.

    Returns the font substitutions made (official name → installed face), see ``fonts``.
    """
    soffice = find_soffice()
    if soffice is None:
        raise NianbaoError(f"未找到 LibreOffice（soffice），无法生成 PDF。请先安装：{INSTALL_HINT}"
                           "（其他格式可用 --to docx,html,md 生成）", code="NO-SOFFICE")
    with tempfile.TemporaryDirectory(prefix="nianbao-pdf-") as tmp:
        work = Path(tmp)
        src = work / "report.docx"
        shutil.copyfile(docx, src)  # an ASCII name: soffice mangles some non-ASCII paths
        cmd = [soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
               "--nolockcheck", "-env:UserInstallation=" + (work / "profile").as_uri(),
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work), str(src)]
        # nianbao's own fontconfig maps the official font names to installed Chinese faces.
        env = {**os.environ, "TMPDIR": tmp, "FONTCONFIG_FILE": str(write_fontconfig(work))}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc.pid)
            proc.communicate()
            raise NianbaoError(f"LibreOffice 转换 PDF 超时（{timeout:.0f} 秒）：{docx}", code="PDF-FAILED") from None
        _kill(proc.pid)
        made = work / "report.pdf"
        if proc.returncode != 0 or not made.is_file() or made.stat().st_size == 0:
            tail = output.decode("utf-8", "replace").strip()[-300:]
            raise NianbaoError(f"LibreOffice 未能把 {docx} 转换为 PDF（{tail or '无输出'}）", code="PDF-FAILED")
        tmp_out = pdf.with_name(f".{pdf.name}.tmp")
        try:
            shutil.move(str(made), tmp_out)
            tmp_out.replace(pdf)
        except OSError as err:
            tmp_out.unlink(missing_ok=True)
            raise NianbaoError(f"无法写入 {pdf}：{err.strerror or err}") from None
    return substitutions()


def _kill(pgid: int) -> None:
    """End what is left of the soffice process group we started (oosplash leaves children)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

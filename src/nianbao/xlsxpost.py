"""Post-process a finished .xlsx: lock the workbook structure.

XlsxWriter cannot write ``<workbookProtection>`` (its author declined: libxlsxwriter #516), so
the element is inserted into ``xl/workbook.xml`` after ``workbook.close()``. Every other part is
copied byte for byte with its original ZipInfo.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path

WORKBOOK_PART = "xl/workbook.xml"
PROTECTION = b'<workbookProtection lockStructure="1"/>'
# CT_Workbook order: fileVersion, fileSharing, workbookPr, workbookProtection, bookViews, ...
_AFTER_WORKBOOK_PR = re.compile(rb"(<workbookPr\b[^>]*/>|<workbookPr\b[^>]*>.*?</workbookPr>)", re.S)


def lock_structure(path: Path) -> None:
    """Rewrite ``path`` in place with the workbook structure locked."""
    fd, tmp_name = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == WORKBOOK_PART:
                    data = _insert_protection(data)
                dst.writestr(info, data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _insert_protection(xml: bytes) -> bytes:
    if b"<workbookProtection" in xml:
        return xml
    new, count = _AFTER_WORKBOOK_PR.subn(lambda m: m.group(1) + PROTECTION, xml, count=1)
    if count:
        return new
    # No workbookPr: protection goes before bookViews.
    return xml.replace(b"<bookViews>", PROTECTION + b"<bookViews>", 1)

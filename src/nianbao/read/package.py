"""Decide what a returned file really is, treating every file as hostile.

Design decision 3 and pitfalls §9: units send back ``.xls``, WPS ``.et``, ``.ods``, ``.xlsm``,
password-protected workbooks, PDFs, photos, CSVs, Word documents and zip files, often with a
``.xlsx`` name.  :func:`sniff` looks at the *content* (never the extension) and either returns
``"xlsx"`` for a genuine Office Open XML spreadsheet without macros that is safe to hand to
openpyxl, or raises :class:`~nianbao.errors.InputFileError` with a stable ``code`` (see
:data:`CODES`) and a Chinese message saying what the file looks like and what to do.

Zip safety (all checked from the central directory, before anything is decompressed):
at most :data:`MAX_FILE_BYTES` on disk, :data:`MAX_ZIP_ENTRIES` entries, no entry name with
``..``, an absolute path, a drive letter, a NUL or a duplicate; total declared uncompressed size
at most :data:`MAX_TOTAL_UNCOMPRESSED`; per-entry compression ratio at most
:data:`MAX_COMPRESSION_RATIO` (for entries over :data:`RATIO_CHECK_MIN_BYTES`); no overlapping
entries.  Only then is anything inflated: :func:`sniff` streams every member once (64 KB
chunks, nothing kept but the XML prolog) so that zipfile verifies each CRC and a damaged file is
reported here rather than as an openpyxl traceback later.  Central-directory sizes can lie, so
whatever is decompressed goes through :func:`read_member`'s chunked reader, which stops past its
limit; CPython's zipfile also stops at the declared size, so a lie shows up as a CRC error
(``FILE-CORRUPT``) rather than as extra data.

XML safety: no part of a genuine workbook has a DOCTYPE.  :func:`sniff` reads the prolog of
every ``.xml``/``.rels``/``.vml`` part (at most :data:`MAX_XML_PROLOG_BYTES` each) and refuses
a DOCTYPE or entity declaration (code ``FILE-XML-UNSAFE``).  XML this project parses itself goes
through :func:`parse_xml` (defusedxml, DTDs forbidden).

How the reader must load a workbook::

    sniff(path)                      # raises InputFileError; returns "xlsx"
    require_hardened_openpyxl()      # defusedxml active inside openpyxl
    wb = openpyxl.load_workbook(path, keep_vba=False, keep_links=False)  # normal mode

openpyxl 3.1 (``openpyxl/xml/__init__.py``) sets ``DEFUSEDXML = defusedxml_available() and
os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"``; when it is true,
``openpyxl/xml/functions.py`` takes ``iterparse`` from ``defusedxml.ElementTree`` (used for
worksheets and shared strings) and, when lxml is *not* installed, ``fromstring`` too.  When lxml
is installed, ``fromstring`` (workbook.xml, rels, styles, doc properties, comments, drawings)
is lxml's with ``XMLParser(resolve_entities=False)``, which does not refuse a DTD and still
expands entity references inside attribute values (verified: a sheet name ``&lol2;`` loads as
300 characters; a billion laughs is stopped only by libxml2's own amplification limit).  Hence
the DOCTYPE check here, ahead of openpyxl, for every part.
"""

from __future__ import annotations

import codecs
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element

from nianbao.errors import InputFileError

__all__ = [
    "CODES",
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_SMALL_PART_BYTES",
    "MAX_TOTAL_UNCOMPRESSED",
    "MAX_XML_PROLOG_BYTES",
    "MAX_ZIP_ENTRIES",
    "Package",
    "RATIO_CHECK_MIN_BYTES",
    "READ_CHUNK_BYTES",
    "check_package",
    "check_xml_safe",
    "open_package",
    "openpyxl_is_hardened",
    "parse_xml",
    "read_member",
    "require_hardened_openpyxl",
    "sniff",
]

# ----------------------------------------------------------------------------- limits

#: Largest file accepted at all (a filled annual-report workbook is well under 1 MB).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Largest total uncompressed size declared by a zip's central directory.
MAX_TOTAL_UNCOMPRESSED = 50 * 1024 * 1024
#: Largest ratio uncompressed/compressed of one entry (Apache POI's default is 100 too) ...
MAX_COMPRESSION_RATIO = 100
#: ... checked only for entries declaring more than this (small parts may compress very well).
RATIO_CHECK_MIN_BYTES = 1024 * 1024
#: Most entries in a zip (an .xlsx made from our templates has about 20).
MAX_ZIP_ENTRIES = 1000
#: Most bytes of one XML part inflated to find its root element (the prolog).
MAX_XML_PROLOG_BYTES = 64 * 1024
#: Limit for small parts read whole ([Content_Types].xml, mimetype).
MAX_SMALL_PART_BYTES = 1024 * 1024
#: Inflate and read in chunks of this size.
READ_CHUNK_BYTES = 64 * 1024

_HEAD_BYTES = 8 * 1024

# ----------------------------------------------------------------------------- codes

#: Every code :func:`sniff` / :func:`read_member` may raise, with a short Chinese description.
CODES: dict[str, str] = {
    "FILE-UNREADABLE": "文件无法打开",
    "FILE-EMPTY": "空文件",
    "FILE-TOO-LARGE": "文件过大",
    "FILE-XLS": "旧版 Excel 97-2003 工作簿(*.xls) 或 WPS 表格(*.et)",
    "FILE-ENCRYPTED": "文件设置了打开密码",
    "FILE-OLE-OTHER": "其他旧版 Office/WPS 复合文档（不是工作簿）",
    "FILE-ODS": "OpenDocument 电子表格(*.ods)",
    "FILE-MACRO": "含宏的工作簿(*.xlsm)",
    "FILE-XLSB": "Excel 二进制工作簿(*.xlsb)",
    "FILE-STRICT-OOXML": "Strict Open XML 电子表格",
    "FILE-NOT-WORKBOOK": "不是工作簿的 Office 文档（如 Word、PowerPoint）",
    "FILE-ARCHIVE": "压缩包",
    "FILE-TEXT": "纯文本或 CSV 文件",
    "FILE-HTML": "网页格式的文件（HTML/MHT）",
    "FILE-XML2003": "Excel 2003 XML 表格",
    "FILE-PDF": "PDF 文件",
    "FILE-IMAGE": "图片",
    "FILE-UNKNOWN": "无法识别的文件",
    "FILE-CORRUPT": "文件已损坏或不完整",
    "FILE-ZIP-BOMB": "疑似压缩炸弹",
    "FILE-ZIP-ENTRIES": "内部部件过多",
    "FILE-ZIP-PATH": "内部路径不安全",
    "FILE-XML-UNSAFE": "内部 XML 含 DOCTYPE/实体声明",
}

_RESAVE = "请用 Excel 或 WPS 打开，通过“文件 › 另存为”选择“Excel 工作簿(*.xlsx)”保存后重新提交"
_USE_TEMPLATE = "请在下发的年报模板中填写，保存为 Excel 工作簿(*.xlsx) 后提交"
_NORMAL_SAVE = "请提交用 Excel 或 WPS 正常保存的 Excel 工作簿(*.xlsx)"


def _fail(path: Path, code: str, message: str) -> InputFileError:
    assert code in CODES, code
    return InputFileError(path, message, code=code)


def _spaced(kind: str) -> str:
    """``kind`` after 这是, with the customary space before a Latin word (这是 Word 文档)."""
    return " " + kind if kind[:1].isascii() else kind


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


# ----------------------------------------------------------------------------- public API


def sniff(path: Path) -> str:
    """Return ``"xlsx"`` for a genuine, macro-free OOXML spreadsheet; raise otherwise.

    Raises :class:`InputFileError` whose ``code`` is one of :data:`CODES`.  Reads the first
    8 KB, then for a zip the central directory (all limits are checked there first), then
    streams each member once to check XML prologs and CRCs, holding at most one 64 KB chunk.
    """
    path = Path(path)
    with _sniffing(path) as size:
        _sniff_zip(path, size)
    return "xlsx"


@contextmanager
def _sniffing(path: Path) -> Iterator[int]:
    """Size and head checks of :func:`sniff`; the body runs for a zip (it gets the size) and
    anything else is classified and refused."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise _fail(path, "FILE-UNREADABLE", "这不是一个普通文件，无法读取")
        if size == 0:
            raise _fail(path, "FILE-EMPTY",
                        "文件是空的（0 字节），可能在保存或发送时出错：请重新保存后再提交")
        if size > MAX_FILE_BYTES:
            raise _fail(path, "FILE-TOO-LARGE",
                        f"文件过大（{_mb(size)}，上限 {_mb(MAX_FILE_BYTES)}），不像是填好的年报"
                        "模板：请确认提交的是下发的模板文件（.xlsx）")
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
            if head.startswith(_OLE_MAGIC):
                _sniff_ole(path, f, size)  # always raises
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
            yield size
            return
    except OSError as exc:
        raise _fail(path, "FILE-UNREADABLE",
                    f"无法读取文件（{exc.strerror or exc}）：请确认文件存在且未被其他程序占用"
                    ) from exc
    raise _classify_other(path, head, size)


def read_member(path: Path, name: str, limit: int = MAX_TOTAL_UNCOMPRESSED) -> bytes:
    """Inflate zip member ``name`` in chunks; raise ``FILE-ZIP-BOMB`` past ``limit`` bytes.

    Refuses at once when the central directory already declares more than ``limit``; otherwise
    stops as soon as more than ``limit`` bytes came out, whatever was declared.  A missing
    member, a CRC mismatch or damaged data raise ``FILE-CORRUPT``.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise _fail(path, "FILE-CORRUPT",
                        f"文件已损坏或不完整（缺少内部部件“{name}”）：" + _RESAVE) from None
        return b"".join(_iter_member(path, zf, info, limit))


def check_xml_safe(data: bytes | Iterable[bytes], *, path: object = "XML",
                   part: str = "") -> None:
    """Refuse XML whose prolog has a DOCTYPE or entity declaration.

    ``data`` is the XML bytes or an iterable of chunks (only the prolog is consumed).
    Raises :class:`InputFileError` ``FILE-XML-UNSAFE`` (DOCTYPE/ENTITY) or ``FILE-CORRUPT``
    (no root element within :data:`MAX_XML_PROLOG_BYTES`, or not XML).  ``path`` and
    ``part`` only name the file and the part in the message.
    """
    chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    scanner = _PrologScanner(Path(str(path)), part)
    for chunk in chunks:
        scanner.feed(chunk)
        if scanner.root is not None:
            return
    scanner.finish()


def parse_xml(data: bytes, *, path: object = "XML", part: str = "") -> Element:
    """Parse XML this project reads itself: :func:`check_xml_safe`, then defusedxml.

    defusedxml with ``forbid_dtd=True`` refuses DTDs, entities and external references.
    """
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    check_xml_safe(data, path=path, part=part)
    try:
        return SafeET.fromstring(bytes(data), forbid_dtd=True)
    except DefusedXmlException as exc:  # pragma: no cover - check_xml_safe caught it first
        raise _fail(Path(str(path)), "FILE-XML-UNSAFE", _xml_unsafe_message(part)) from exc
    except SafeET.ParseError as exc:
        raise _fail(Path(str(path)), "FILE-CORRUPT",
                    f"文件已损坏或不完整（内部部件“{part}”不是有效的 XML）：" + _RESAVE) from exc


def openpyxl_is_hardened() -> bool:
    """True when openpyxl parses worksheets through defusedxml (its ``DEFUSEDXML`` flag)."""
    import openpyxl

    return bool(getattr(openpyxl, "DEFUSEDXML", False))


def require_hardened_openpyxl() -> None:
    """Raise ``RuntimeError`` (a bug or a broken install, not user input) unless hardened.

    openpyxl's flag is off when defusedxml is not installed or ``OPENPYXL_DEFUSEDXML`` is set
    to anything but ``True`` before openpyxl is first imported.
    """
    if not openpyxl_is_hardened():
        raise RuntimeError(
            "openpyxl is not using defusedxml (install defusedxml and do not set "
            "OPENPYXL_DEFUSEDXML=False); refusing to load untrusted workbooks")


# ----------------------------------------------------------------------------- non-zip files

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_ARCHIVE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


def _classify_other(path: Path, head: bytes, size: int) -> InputFileError:
    if b"%PDF-" in head[:1024]:
        return _fail(path, "FILE-PDF", "这是 PDF 文件，不是 Excel 工作簿：PDF 中的数字无法自动"
                                       "读取，请提交填好的 Excel 工作簿(*.xlsx)")
    image = next((name for magic, name in _IMAGE_MAGIC if head.startswith(magic)), None)
    if image is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        image = "WebP"
    if image is None and head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        image = "HEIC"
    if (image is None and head[:2] == b"BM" and len(head) >= 6
            and struct.unpack_from("<I", head, 2)[0] == size):
        image = "BMP"
    if image is not None:
        return _fail(path, "FILE-IMAGE",
                     f"这是图片（{image}，可能是照片或扫描件），不是 Excel 工作簿：表中的数字无法"
                     "自动读取，请提交填好的 Excel 工作簿(*.xlsx)")
    archive = next((name for magic, name in _ARCHIVE_MAGIC if head.startswith(magic)), None)
    if archive is not None:
        return _fail(path, "FILE-ARCHIVE",
                     f"这是压缩包（{archive}），不是 Excel 工作簿：请解压后直接提交 Excel "
                     "工作簿(*.xlsx)，不要压缩")
    if head.startswith(b"{\\rtf"):
        return _fail(path, "FILE-NOT-WORKBOOK", "这是 RTF 文档，不是 Excel 工作簿：" + _USE_TEMPLATE)
    text = _as_text(head)
    if text is None:
        return _fail(path, "FILE-UNKNOWN",
                     "无法识别的文件类型，不是 Excel 工作簿：请提交填好的 Excel 工作簿(*.xlsx)")
    lowered = text.lstrip().lower()
    if ("urn:schemas-microsoft-com:office:spreadsheet" in lowered
            or 'progid="excel.sheet"' in lowered):
        return _fail(path, "FILE-XML2003", "这是 Excel 2003 XML 表格，不是 .xlsx：" + _RESAVE)
    if (lowered.startswith(("<!doctype html", "<html", "<table", "<meta"))
            or "<html" in lowered or "<table" in lowered
            or ("mime-version:" in lowered and "multipart/related" in lowered)):
        return _fail(path, "FILE-HTML",
                     "这是网页格式的文件（HTML/MHT，常见于“另存为网页”或从其他系统导出的表格），"
                     "不是 Excel 工作簿：" + _RESAVE)
    return _fail(path, "FILE-TEXT",
                 "这是纯文本文件（如 CSV 或 TXT），不是 Excel 工作簿：文本格式会丢失模板的格式和"
                 "校验，" + _USE_TEMPLATE)


def _as_text(head: bytes) -> str | None:
    """Decode the head as text (UTF-8/UTF-16 with BOM, UTF-8, GB18030), or None if binary."""
    if head.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif b"\x00" in head:
        return None
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(head, final=False)  # the head may end inside a character
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
        if text and controls <= len(text) // 100:
            return text
        return None
    return None


# ----------------------------------------------------------------------------- OLE2 (olefile)

_FILEPASS = 0x002F
_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF
_BOF = (0x0809, 0x0409, 0x0209, 0x0009)


class _OleError(Exception):
    """The compound file is damaged (olefile could not read its structure)."""


def _read_ole(f: BinaryIO) -> tuple[set[str], object]:
    """Lower-cased names of every storage and stream, and the open olefile reader.

    olefile bounds-checks sectors and refuses chains that loop; any defect it finds in the
    structure (DEFECT_INCORRECT and worse) is a damaged file here, as it was for the
    hand-written reader this replaced.
    """
    import olefile

    f.seek(0)
    try:
        ole = olefile.OleFileIO(f, raise_defects=olefile.DEFECT_INCORRECT)
        names = {path[-1].lower() for path in ole.listdir(streams=True, storages=True)}
        _check_chain(ole, ole.first_dir_sector)
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError... on hostile bytes
        raise _OleError(str(exc)) from exc
    return names, ole


def _check_chain(ole, start: int) -> None:
    """Refuse a directory whose sector chain loops: olefile reads such a directory up to its
    size limit and lists its entries, but the file is damaged (or built to be)."""
    sector, seen = start, set()
    while sector not in (_ENDOFCHAIN, _FREESECT):
        if sector in seen or sector >= len(ole.fat):
            raise _OleError(f"directory chain loops or leaves the FAT at sector {sector}")
        seen.add(sector)
        sector = ole.fat[sector]


def _sniff_ole(path: Path, f: BinaryIO, size: int) -> None:
    """Classify an OLE2 compound file; always raises InputFileError."""
    try:
        lower, ole = _read_ole(f)
    except _OleError as exc:
        raise _fail(path, "FILE-CORRUPT",
                    "文件已损坏或不完整（旧版 Office 复合文档结构有误），可能在下载或发送时被"
                    "截断：" + _RESAVE) from exc
    workbook = next((n for n in ("workbook", "book") if ole.exists(n)), None)
    try:
        encrypted_xls = workbook is not None and _biff_is_encrypted(ole, workbook)
    except _OleError:
        encrypted_xls = False  # cannot tell; FILE-XLS asks for the same re-save anyway
    if lower & {"encryptioninfo", "encryptedpackage", "\tdrmcontent", "drmencrypteddataspace"}:
        raise _fail(path, "FILE-ENCRYPTED",
                    "文件设置了打开密码（已加密），无法读取：请在 Excel 或 WPS 中打开，取消打开"
                    "密码（“用密码进行加密”处清空密码）后，另存为 Excel 工作簿(*.xlsx) 重新提交")
    if workbook is not None:
        if encrypted_xls:
            raise _fail(path, "FILE-ENCRYPTED",
                        "这是设置了打开密码的旧版 Excel 工作簿(*.xls)，无法读取：请先取消打开"
                        "密码，再另存为 Excel 工作簿(*.xlsx) 后重新提交")
        raise _fail(path, "FILE-XLS",
                    "这是旧版 Excel 97-2003 工作簿(*.xls)（或格式相同的 WPS 表格 *.et 文件），"
                    "不是 .xlsx：" + _RESAVE)
    if "worddocument" in lower:
        kind = "Word 97-2003 文档(*.doc) 或 WPS 文字文档(*.wps)"
    elif "powerpoint document" in lower:
        kind = "PowerPoint 97-2003 演示文稿(*.ppt)"
    elif any(n.startswith("__substg1.0_") or n == "__properties_version1.0" for n in lower):
        raise _fail(path, "FILE-OLE-OTHER",
                    "这是 Outlook 邮件文件(*.msg)，不是 Excel 工作簿：请把邮件中的附件另存出来，"
                    "提交其中的 Excel 工作簿(*.xlsx)")
    else:
        raise _fail(path, "FILE-OLE-OTHER",
                    "这是无法识别的旧版 Office 或 WPS 专用格式文件（OLE2 复合文档），不是 Excel "
                    "工作簿：" + _RESAVE)
    raise _fail(path, "FILE-OLE-OTHER", f"这是{_spaced(kind)}，不是 Excel 工作簿：" + _USE_TEMPLATE)


def _biff_is_encrypted(ole, stream: str) -> bool:
    """True when the BIFF globals substream has FILEPASS right after BOF (a password .xls).

    Hand-written because it is two records at the head of a stream: olefile reads the stream,
    and msoffcrypto-tool (which knows the same record) would be a dependency for four lines.
    """
    try:
        with ole.openstream(stream) as s:
            head = s.read(64)
    except Exception as exc:  # a stream olefile cannot follow
        raise _OleError(str(exc)) from exc
    if len(head) < 8:
        return False
    rtype, rlen = struct.unpack_from("<HH", head, 0)
    if rtype not in _BOF or 4 + rlen + 2 > len(head):
        return False
    return struct.unpack_from("<H", head, 4 + rlen)[0] == _FILEPASS


# ----------------------------------------------------------------------------- ZIP

_SPREADSHEET_MAIN = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
}
_MACRO_MAIN = {
    "application/vnd.ms-excel.sheet.macroenabled.main+xml",
    "application/vnd.ms-excel.template.macroenabled.main+xml",
    "application/vnd.ms-excel.addin.macroenabled.main+xml",
}
_XLSB_MAIN = "application/vnd.ms-excel.sheet.binary.macroenabled.main"
_OTHER_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":
        "Word 文档(*.docx)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml":
        "Word 模板(*.dotx)",
    "application/vnd.ms-word.document.macroenabled.main+xml": "含宏的 Word 文档(*.docm)",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": "含宏的 Word 模板(*.dotm)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml":
        "PowerPoint 演示文稿(*.pptx)",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml":
        "PowerPoint 放映文件(*.ppsx)",
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml":
        "含宏的 PowerPoint 演示文稿(*.pptm)",
}
_ODF_KINDS = {
    "application/vnd.oasis.opendocument.spreadsheet": None,
    "application/vnd.oasis.opendocument.spreadsheet-template": None,
    "application/vnd.oasis.opendocument.text": "OpenDocument 文字文档(*.odt)",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument 演示文稿(*.odp)",
}
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_SML_TRANSITIONAL = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SML_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_SPREADSHEET_SUFFIXES = (".xlsx", ".xls", ".et", ".xlsm", ".ods", ".csv", ".xlsb")

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


def _zip_declared_entries(path: Path, size: int, advice: str | None = None) -> int:
    """Entry count from the end-of-central-directory record, before zipfile builds its list."""
    with path.open("rb") as f:
        tail_len = min(size, 22 + 65535)
        f.seek(size - tail_len)
        tail = f.read(tail_len)
        pos = tail.rfind(_EOCD)
        if pos < 0 or pos + 22 > len(tail):
            raise _fail(path, "FILE-CORRUPT",
                        "文件已损坏或不完整（压缩包结尾缺失，可能在下载或发送时被截断）：" + (advice or _RESAVE))
        entries = struct.unpack_from("<H", tail, pos + 10)[0]
        if entries == 0xFFFF and pos >= 20 and tail[pos - 20:pos - 16] == _EOCD64_LOCATOR:
            record_offset = struct.unpack_from("<Q", tail, pos - 20 + 8)[0]
            if record_offset + 56 <= size:
                f.seek(record_offset)
                record = f.read(56)
                if record[:4] == _EOCD64:
                    entries = struct.unpack_from("<Q", record, 32)[0]
        return entries


def _open_zip(path: Path, advice: str | None = None) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error,
            NotImplementedError, UnicodeDecodeError) as exc:
        raise _fail(path, "FILE-CORRUPT",
                    "文件已损坏或不完整（压缩包结构有误，可能在下载或发送时被截断）：" + (advice or _RESAVE)
                    ) from exc


def _unsafe_name(raw: str) -> bool:
    if "\x00" in raw or raw.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", raw):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", raw))


def _display_name(info: zipfile.ZipInfo) -> str:
    """Entry name for a message; Chinese Windows zips store names in GBK without the flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name if len(name) <= 60 else name[:60] + "…"


def _check_zip_structure(path: Path, zf: zipfile.ZipFile, advice: str | None = None) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _entries_error(path, len(infos), advice)
    if not infos:
        raise _fail(path, "FILE-CORRUPT", "文件已损坏或不完整（是一个空的压缩包）：" + (advice or _RESAVE))

    seen: set[str] = set()
    for info in infos:
        if _unsafe_name(info.orig_filename):
            raise _fail(path, "FILE-ZIP-PATH",
                        f"文件内部含有不安全的路径（“{_display_name(info)}”），疑似恶意构造，已拒绝"
                        "读取：" + (advice or _NORMAL_SAVE))
        key = info.filename.lower()
        if key in seen:
            raise _fail(path, "FILE-ZIP-PATH",
                        f"文件内部有重复的部件名（“{_display_name(info)}”），疑似恶意构造，已拒绝"
                        "读取：" + (advice or _NORMAL_SAVE))
        seen.add(key)

    total = 0
    for info in infos:
        total += info.file_size
        if (info.file_size > RATIO_CHECK_MIN_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _bomb_error(path, f"部件“{_display_name(info)}”压缩比约 {ratio}:1，"
                                    f"上限 {MAX_COMPRESSION_RATIO}:1", advice)
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise _bomb_error(path, f"解压后共 {_mb(total)}，上限 {_mb(MAX_TOTAL_UNCOMPRESSED)}", advice)

    # Entries whose data overlap (the "non-recursive zip bomb" trick): each entry needs at least
    # a 30-byte local header, its name and its compressed data before the next one starts.
    ordered = sorted(infos, key=lambda i: i.header_offset)
    limits = [i.header_offset for i in ordered[1:]] + [getattr(zf, "start_dir", None)]
    for info, next_start in zip(ordered, limits):
        if next_start is None:
            continue
        name_len = len(info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437",
                                                 "replace"))
        if info.header_offset + 30 + name_len + info.compress_size > next_start:
            raise _bomb_error(path, "内部部件的数据互相重叠", advice)
    return infos


def _entries_error(path: Path, n: int, advice: str | None = None) -> InputFileError:
    return _fail(path, "FILE-ZIP-ENTRIES",
                 f"文件内部包含的部件过多（{n} 个，上限 {MAX_ZIP_ENTRIES}），不像正常的 Office 文件，"
                 "已拒绝读取：" + (advice or _NORMAL_SAVE))


def _bomb_error(path: Path, detail: str, advice: str | None = None) -> InputFileError:
    return _fail(path, "FILE-ZIP-BOMB",
                 f"文件内部的解压后大小异常（{detail}），疑似恶意构造的“压缩炸弹”，已拒绝读取："
                 + (advice or _NORMAL_SAVE))


def check_package(path: Path, advice: str) -> None:
    """The structural checks every OOXML package gets before a library opens it (entry count,
    unsafe or duplicate names, declared sizes and ratios, overlapping entries); ``advice`` ends
    each message (what to do instead). zipfile never inflates past a declared size, so bounding
    the declared sizes bounds the memory a library can spend on the package."""
    entries = _zip_declared_entries(path, path.stat().st_size, advice)
    if entries > MAX_ZIP_ENTRIES:
        raise _entries_error(path, entries, advice)
    with _open_zip(path, advice) as zf:
        _check_zip_structure(path, zf, advice)


def _iter_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                 limit: int) -> Iterator[bytes]:
    """Yield the inflated data of ``info`` in chunks; raise past ``limit`` bytes."""
    if info.file_size > limit:
        raise _bomb_error(path, f"部件“{_display_name(info)}”声明解压后 {_mb(info.file_size)}，"
                                f"上限 {_mb(limit)}")
    if info.flag_bits & 0x1:
        raise _fail(path, "FILE-ENCRYPTED",
                    "文件内部的数据设置了密码，无法读取：请直接提交未加密的 Excel 工作簿(*.xlsx)，"
                    "不要压缩或加密")
    produced = 0
    try:
        with zf.open(info) as member:
            while True:
                chunk = member.read(min(READ_CHUNK_BYTES, limit - produced + 1))
                if not chunk:
                    return
                produced += len(chunk)
                if produced > limit:
                    raise _bomb_error(path, f"部件“{_display_name(info)}”解压后超过 {_mb(limit)}")
                yield chunk
    except InputFileError:
        raise
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise _fail(path, "FILE-ENCRYPTED",
                    "文件内部的数据设置了密码，无法读取：请直接提交未加密的 Excel 工作簿(*.xlsx)"
                    ) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError,
            struct.error, OSError) as exc:
        raise _fail(path, "FILE-CORRUPT",
                    f"文件已损坏或不完整（内部部件“{_display_name(info)}”无法解压）：" + _RESAVE
                    ) from exc


@dataclass
class Package:
    """A returned .xlsx that passed every check of :func:`sniff`, with the inflated bytes of its
    XML parts, so the reader parses each part without opening or inflating the file again."""

    path: Path
    workbook_part: str  # e.g. "xl/workbook.xml"
    content_types: dict[str, str]  # part name (no leading "/") or "*.ext" -> content type
    parts: dict[str, bytes] = field(default_factory=dict)  # XML part name -> its bytes

    def part(self, name: str) -> bytes:
        try:
            return self.parts[name]
        except KeyError:
            raise _fail(self.path, "FILE-CORRUPT",
                        f"文件已损坏或不完整（缺少内部部件“{name}”）：" + _RESAVE) from None


def open_package(path: Path, budget: Callable[[Path, list[zipfile.ZipInfo]], None] | None = None) -> Package:
    """:func:`sniff` a file and keep its XML parts: one open, one inflation of each member.

    ``budget(path, infos)`` may refuse the package from its central directory (declared
    sizes), after the zip checks and before anything is inflated.  Raises like :func:`sniff`.
    """
    path = Path(path)
    with _sniffing(path) as size:
        return _sniff_zip(path, size, keep=True, budget=budget)


def _sniff_zip(path: Path, size: int, keep: bool = False,
               budget: Callable[[Path, list[zipfile.ZipInfo]], None] | None = None) -> Package:
    entries = _zip_declared_entries(path, size)
    if entries > MAX_ZIP_ENTRIES:
        raise _entries_error(path, entries)
    with _open_zip(path) as zf:
        infos = _check_zip_structure(path, zf)
        by_name = {info.filename: info for info in infos}

        if "[Content_Types].xml" not in by_name:
            if "mimetype" in by_name:
                _classify_odf(path, zf, by_name["mimetype"])
            raise _archive_error(path, infos)

        content_types, types_xml = _read_content_types(path, zf, by_name["[Content_Types].xml"])
        workbook_part = _classify_ooxml(path, by_name, content_types)
        package = Package(path, workbook_part, content_types)
        if budget is not None:
            budget(path, infos)

        # One streaming pass over every member: the prolog of each XML part is checked, and
        # inflating to the end makes zipfile verify the CRC (a damaged file is reported here,
        # not as an openpyxl traceback later).  Bounded by the declared sizes checked above.
        for info in infos:
            if info.is_dir():
                continue
            if info.filename == "[Content_Types].xml":  # inflated, CRC- and DOCTYPE-checked above
                if keep:
                    package.parts[info.filename] = types_xml
                continue
            xml = info.filename.lower().endswith(_XML_SUFFIXES)
            scanner = _PrologScanner(path, info.filename) if xml else None
            chunks = []
            for chunk in _iter_member(path, zf, info, info.file_size):
                if scanner is not None and scanner.root is None:
                    scanner.feed(chunk)
                if keep and xml:
                    chunks.append(chunk)
            if scanner is not None:
                root = scanner.finish()
                if info.filename == workbook_part:
                    _check_workbook_root(path, root)
            if keep and xml:
                package.parts[info.filename] = b"".join(chunks)
    return package


def _archive_error(path: Path, infos: list[zipfile.ZipInfo]) -> InputFileError:
    inside = [_display_name(i) for i in infos
              if i.filename.lower().endswith(_SPREADSHEET_SUFFIXES)]
    hint = f"，里面有“{inside[0]}”等 {len(inside)} 个表格文件" if inside else ""
    return _fail(path, "FILE-ARCHIVE",
                 f"这是压缩包（ZIP{hint}），不是 Excel 工作簿：请解压后直接提交 Excel "
                 "工作簿(*.xlsx)，不要压缩")


def _classify_odf(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    mimetype = b"".join(_iter_member(path, zf, info, 256)).decode("ascii", "replace").strip()
    if mimetype in _ODF_KINDS and _ODF_KINDS[mimetype] is None:
        raise _fail(path, "FILE-ODS",
                    "这是 OpenDocument 电子表格(*.ods)，不是 .xlsx：请用 WPS、Excel 或 LibreOffice "
                    "打开，另存为 Excel 工作簿(*.xlsx) 后重新提交")
    kind = _ODF_KINDS.get(mimetype) or "OpenDocument 文档"
    raise _fail(path, "FILE-NOT-WORKBOOK", f"这是{_spaced(kind)}，不是 Excel 工作簿：" + _USE_TEMPLATE)


def _read_content_types(path: Path, zf: zipfile.ZipFile,
                        info: zipfile.ZipInfo) -> tuple[dict[str, str], bytes]:
    """Map part name (no leading '/') or '*.ext' to its lower-cased content type; and the part."""
    data = b"".join(_iter_member(path, zf, info, MAX_SMALL_PART_BYTES))
    root = parse_xml(data, path=path, part=info.filename)
    types: dict[str, str] = {}
    for node in root:
        content_type = (node.get("ContentType") or "").strip().lower()
        if node.tag == _CT_NS + "Override" and node.get("PartName"):
            types[node.get("PartName", "").lstrip("/")] = content_type
        elif node.tag == _CT_NS + "Default" and node.get("Extension"):
            types["*." + node.get("Extension", "").lower()] = content_type
    return types, data


def _classify_ooxml(path: Path, by_name: dict[str, zipfile.ZipInfo],
                    types: dict[str, str]) -> str:
    """Raise unless this is a macro-free spreadsheet package; return its workbook part name."""
    mains = {ct for ct in types.values() if ct.endswith(".main+xml") or ct == _XLSB_MAIN}
    if _XLSB_MAIN in mains or "xl/workbook.bin" in by_name:
        raise _fail(path, "FILE-XLSB", "这是 Excel 二进制工作簿(*.xlsb)，不是 .xlsx：" + _RESAVE)
    spreadsheet = mains & (_SPREADSHEET_MAIN | _MACRO_MAIN)
    if not spreadsheet:
        kinds = [_OTHER_MAIN[ct] for ct in sorted(mains) if ct in _OTHER_MAIN]
        kind = kinds[0] if kinds else "其他 Office 文档（不是电子表格）"
        raise _fail(path, "FILE-NOT-WORKBOOK", f"这是{_spaced(kind)}，不是 Excel 工作簿：" + _USE_TEMPLATE)
    has_macros = (
        bool(spreadsheet & _MACRO_MAIN)
        or any(name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in by_name)
        or any("vbaproject" in ct or "macrosheet" in ct or "macroenabled" in ct
               for ct in types.values())
    )
    if has_macros:
        raise _fail(path, "FILE-MACRO",
                    "这是含有宏的 Excel 工作簿（*.xlsm 或内含 VBA/宏表），出于安全考虑不予读取："
                    "请另存为不含宏的 Excel 工作簿(*.xlsx) 后重新提交")
    # Part names are case-insensitive in OPC.
    members = {name.lower(): name for name in by_name}
    parts = sorted(members[name.lower()] for name, ct in types.items()
                   if not name.startswith("*.") and ct in spreadsheet and name.lower() in members)
    if not parts and "xl/workbook.xml" in by_name:
        parts = ["xl/workbook.xml"]  # declared only through a Default, as openpyxl tolerates
    if not parts:
        raise _fail(path, "FILE-CORRUPT",
                    "文件已损坏或不完整（找不到工作簿主体部分）：" + _RESAVE)
    return parts[0]


def _check_workbook_root(path: Path, root: tuple[str, str]) -> None:
    namespace, local = root
    if local == "workbook" and namespace == _SML_TRANSITIONAL:
        return
    if namespace == _SML_STRICT:
        raise _fail(path, "FILE-STRICT-OOXML",
                    "这是“Strict Open XML 电子表格”格式，无法读取：请用 Excel 或 WPS 打开，通过"
                    "“文件 › 另存为”选择“Excel 工作簿(*.xlsx)”（不要选 Strict）保存后重新提交")
    raise _fail(path, "FILE-CORRUPT", "文件已损坏或不完整（工作簿主体部分内容不对）：" + _RESAVE)


# ----------------------------------------------------------------------------- XML prolog


class _RootSeen(Exception):
    pass


class _DoctypeSeen(Exception):
    pass


def _xml_unsafe_message(part: str) -> str:
    where = f"（“{part}”）" if part else ""
    return (f"文件内部的 XML{where}含有 DOCTYPE 或实体声明，正常的 Excel 工作簿不会有，疑似恶意"
            "构造，已拒绝读取：" + _NORMAL_SAVE)


class _PrologScanner:
    """Incremental check of an XML prolog; ``root`` is (namespace, local name) once seen.

    expat reports a DOCTYPE (and any entity declaration) before anything in it is expanded;
    scanning stops at the root element's start tag, so at most :data:`MAX_XML_PROLOG_BYTES`
    are parsed.  expat reads UTF-8, UTF-16 (with BOM), ISO-8859-1 and US-ASCII, which covers
    every encoding OOXML allows (UTF-8 and UTF-16).
    """

    def __init__(self, path: Path, part: str) -> None:
        self.path, self.part = path, part
        self.root: tuple[str, str] | None = None
        self._consumed = 0
        self._parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self._parser.StartDoctypeDeclHandler = self._on_doctype
        self._parser.EntityDeclHandler = self._on_doctype
        self._parser.StartElementHandler = self._on_start

    @staticmethod
    def _on_doctype(*_: object) -> None:
        raise _DoctypeSeen

    def _on_start(self, name: str, _attrs: object) -> None:
        namespace, _, local = name.rpartition(" ")
        self.root = (namespace, local)
        raise _RootSeen

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        for start in range(0, len(view), 4096):  # in slices so the prolog limit is exact
            if self.root is not None:
                return
            piece = bytes(view[start:start + 4096])
            self._consumed += len(piece)
            self._parse(piece, False)
            if self.root is None and self._consumed >= MAX_XML_PROLOG_BYTES:
                raise _fail(self.path, "FILE-CORRUPT",
                            f"文件已损坏或不完整（内部部件“{self.part}”开头 "
                            f"{MAX_XML_PROLOG_BYTES // 1024} KB 内没有内容）：" + _RESAVE)

    def finish(self) -> tuple[str, str]:
        if self.root is None:
            self._parse(b"", True)
        if self.root is None:
            raise _fail(self.path, "FILE-CORRUPT",
                        f"文件已损坏或不完整（内部部件“{self.part}”没有内容）：" + _RESAVE)
        return self.root

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except _RootSeen:
            return
        except _DoctypeSeen:
            raise _fail(self.path, "FILE-XML-UNSAFE", _xml_unsafe_message(self.part)) from None
        except xml.parsers.expat.ExpatError as exc:
            raise _fail(self.path, "FILE-CORRUPT",
                        f"文件已损坏或不完整（内部部件“{self.part}”不是有效的 XML）：" + _RESAVE
                        ) from exc

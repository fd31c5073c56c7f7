"""Decode incoming mail the way Chinese mailers actually write it.

Messages are parsed with ``email.policy.default`` (structure, transfer encodings, payloads).
Header *text* is decoded from the raw header instead, because the standard decoder gets three
common cases wrong:

* RFC 2047 words inside a quoted ``filename="=?GBK?B?…?="`` (not standard, very common);
* ``gb2312`` / ``gbk`` labels on text that uses GBK-only characters (喆, 镕…): decoded as
  GB18030, a superset of both, instead of turning them into U+FFFD;
* raw 8-bit header bytes with no label: UTF-8 when they are valid UTF-8, else GB18030.

A decoded file name is for display only: path separators and control characters are
replaced, so it can never be used to address a file.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import EmailMessage, Message

GB_LABELS = frozenset({"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "windows-936", "gb18030",
                       "euc-cn", "csgb2312", "x-euc-cn"})
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_DISPLAY = 200
#: Most MIME parts (Content-Type headers) in one message; a real report mail has a handful.
MAX_PARTS = 500
#: Most messages embedded in one message (forwarded mail, message/rfc822); each one nests deeper.
MAX_EMBEDDED = 20
_CONTENT_TYPE = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_EMBEDDED = re.compile(rb"^content-type:[ \t]*message/(?:rfc822|global)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Attachment:
    """One attachment: its name (display only) and its decoded bytes."""

    filename: str
    data: bytes
    content_type: str

    def looks_like_workbook(self) -> bool:
        """By content, not by name: a ZIP (xlsx/xlsm/ods) or an OLE2 file (xls)."""
        return self.data.startswith(ZIP_MAGIC) or self.data.startswith(OLE_MAGIC)


@dataclass(frozen=True)
class ParsedMessage:
    subject: str
    sender: str  # display form, "name <address>"
    sender_address: str
    date: str  # as written, decoded
    message_id: str
    in_reply_to: str
    attachments: list[Attachment] = field(default_factory=list)


def structure_problem(raw: bytes) -> str | None:
    """Chinese reason when a raw message has more parts or nesting than parsing can bear (the
    standard parser recurses per level and is slow per part); ``None`` for a normal message."""
    parts = len(_CONTENT_TYPE.findall(raw))
    if parts > MAX_PARTS:
        return f"邮件由 {parts} 个部分组成（上限 {MAX_PARTS}），不像是正常的报送邮件，未读取"
    embedded = len(_EMBEDDED.findall(raw))
    if embedded > MAX_EMBEDDED:
        return f"邮件中嵌套了 {embedded} 封邮件（上限 {MAX_EMBEDDED}），不像是正常的报送邮件，未读取"
    return None


def parse_message(raw: bytes) -> ParsedMessage:
    """Headers decoded and every attachment with its name and bytes."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = header_text(msg, "From")
    address = email.utils.parseaddr(sender)[1]
    return ParsedMessage(
        subject=header_text(msg, "Subject"),
        sender=sender,
        sender_address=address,
        date=header_text(msg, "Date"),
        message_id=header_text(msg, "Message-ID"),
        in_reply_to=header_text(msg, "In-Reply-To"),
        attachments=list(iter_attachments(msg)),
    )


def attachments(raw: bytes) -> list[tuple[str, bytes]]:
    """``(file name for display, bytes)`` of every attachment of a raw message."""
    return [(a.filename, a.data) for a in parse_message(raw).attachments]


def iter_attachments(msg: EmailMessage):
    for part in msg.walk():
        if part.is_multipart() or not is_attachment(part):
            continue
        data = part.get_payload(decode=True) or b""
        yield Attachment(attachment_filename(part), data, part.get_content_type())


def is_attachment(part: Message) -> bool:
    disposition = _raw_header(part, "Content-Disposition").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    if part.get_content_maintype() == "image" and _raw_header(part, "Content-ID"):
        return False  # a picture the HTML body shows (a signature logo), not a file sent
    if _params(part).get("filename") is not None or _params(part, "Content-Type").get("name") is not None:
        return True
    # Inline text is the body; any other inline leaf (a workbook sent "inline") is a file.
    return part.get_content_maintype() not in ("text", "multipart", "message")


def attachment_filename(part: Message) -> str:
    """The file name a part carries, decoded whatever the mailer did; '' when it has none."""
    value = _params(part, "Content-Disposition").get("filename")
    if value is None:
        value = _params(part, "Content-Type").get("name")
    if value is None:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded latin-1 text)
        charset, _language, text = value
        name = bytes_text(text.encode("latin-1", "replace"), charset)
    else:
        name = decode_words(email.utils.unquote(value))
    return display_name(name)


def header_text(msg: Message, name: str) -> str:
    """A header's text: RFC 2047 words decoded (GB labels as GB18030), raw 8-bit guessed."""
    return " ".join(decode_words(_raw_header(msg, name)).split())


def decode_words(text: str) -> str:
    """Decode RFC 2047 words anywhere in ``text`` (also inside quotes), raw 8-bit bytes too."""
    text = _latin1_standins(text)
    try:
        pieces = decode_header(text)
    except Exception:  # a malformed word: show the text as it came
        return _from_standins(text)
    out = []
    for chunk, charset in pieces:
        out.append(_from_standins(chunk) if isinstance(chunk, str) else bytes_text(chunk, charset))
    return "".join(out)


def bytes_text(data: bytes, charset: str | None) -> str:
    """Bytes in a labelled charset; GB labels mean GB18030; unknown labels fall back to guessing."""
    label = (charset or "").strip().lower()
    if label in GB_LABELS:
        return data.decode("gb18030", "replace")
    if label and label not in ("unknown-8bit", "us-ascii", "ascii", "x-unknown"):
        try:
            return data.decode(label)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def display_name(name: str) -> str:
    """Fit for a table cell or a log line: no path, no control characters, bounded length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isprintable() else " " for c in name).strip()
    return cleaned[:MAX_DISPLAY]


def _latin1_standins(text: str) -> str:
    """The parser keeps raw 8-bit header bytes as surrogate escapes (U+DC80–U+DCFF). Turn each
    into the Latin-1 character of the same byte: the stdlib helpers would replace surrogates
    with U+FFFD, Latin-1 passes through them losslessly."""
    return "".join(chr(ord(c) - 0xDC00) if "\udc80" <= c <= "\udcff" else c for c in text)


def _from_standins(text: str) -> str:
    """Latin-1 stand-ins back to bytes, decoded as UTF-8 or else GB18030."""
    if text.isascii() or any(ord(c) > 0xFF for c in text):
        return text
    return bytes_text(text.encode("latin-1"), None)


def _raw_header(msg: Message, name: str) -> str:
    """The header as it came on the wire (policy.default would decode it its own way)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _params(part: Message, header: str = "Content-Disposition") -> dict[str, object]:
    """Parameters of a raw header, RFC 2231 continuations joined, as compat32 parses them."""
    raw = _raw_header(part, header)
    if not raw:
        return {}
    probe = Message()  # compat32: keeps RFC 2231 values as (charset, language, text)
    probe[header] = _latin1_standins(raw)
    params = probe.get_params(header=header) or []
    return {key.lower(): value for key, value in params[1:]}


__all__ = ["Attachment", "GB_LABELS", "ParsedMessage", "attachment_filename", "attachments", "bytes_text",
           "decode_words", "display_name", "header_text", "is_attachment", "iter_attachments", "parse_message"]

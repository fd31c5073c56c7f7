"""Compose outgoing mail: Chinese subject and body from templates, safe attachment names.

Attachment names say what the file is in the unit's own words
(``拖船镇人民政府2025年政府信息公开工作年度报告（填报模板）.xlsx``, see :func:`report_filename`),
reduced to safe characters (CJK, letters, digits, ``_.-`` and full-width brackets), and carry
two encodings, because mail clients disagree: RFC 2231 ``filename*`` on Content-Disposition
(the standard) and an RFC 2047 word in ``name=`` on Content-Type (what Outlook, QQ Mail and
Foxmail read; Thunderbird and Gmail send exactly this pair). ``email.policy.default`` would
re-encode a ``name`` we set as RFC 2231 and can even break a long Content-Type, so the parts
are built with the compat32 classes, whose header text we control byte for byte.

A composed message is turned into bytes once (:func:`message_bytes`); the same bytes are
written as an ``.eml`` draft or handed to SMTP, so a dry run shows exactly what will be sent.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.message import Message
from pathlib import Path

from nianbao.errors import NianbaoError

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
#: Wire format: CRLF line ends, compat32 folding (it leaves our ASCII header text alone).
WIRE_POLICY = email.policy.compat32.clone(linesep="\r\n")

# Characters allowed in an attachment name besides CJK ideographs: no spaces, no quotes, no
# path separators, nothing a mail client or file system may choke on.
_SAFE_CHARS = re.compile(r"[^0-9A-Za-z_.\-\u4e00-\u9fff（）]")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class Attachment:
    """One file to attach: the name mail clients show, and its bytes."""

    filename: str
    data: bytes
    maintype: str = XLSX_TYPE[0]
    subtype: str = XLSX_TYPE[1]
    charset: str = ""  # for text attachments, e.g. "utf-8"


@dataclass(frozen=True)
class Outgoing:
    """A composed message: the envelope and the exact bytes that go on the wire."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    data: bytes


def safe_filename(name: str, limit: int = _MAX_NAME_CHARS) -> str:
    """``name`` reduced to letters, digits, ``_.-`` and CJK ideographs, at most ``limit`` chars.

    The extension survives shortening, so a long unit code never loses ``.xlsx``.
    """
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _SAFE_CHARS.sub("_", stem).strip("._") or "附件"
    ext = _SAFE_CHARS.sub("", ext)[:10]
    room = limit - (len(ext) + 1 if ext else 0)
    return f"{stem[:room]}.{ext}" if ext else stem[:limit]


def attachment_filename(unit_code: str, year: int, label: str = "政务公开年报", ext: str = "xlsx") -> str:
    """The name of a unit's attachment, e.g. ``A0101_2025_政务公开年报.xlsx``."""
    return safe_filename(f"{unit_code}_{year}_{label}.{ext}")


def report_filename(unit_name: str, year: int, label: str = "填报模板", ext: str = "xlsx") -> str:
    """The name a unit sees on its attachment: ``单位名称2025年政府信息公开工作年度报告（填报模板）.xlsx``."""
    return safe_filename(f"{unit_name}{year}年政府信息公开工作年度报告（{label}）.{ext}")


def render(template: str, fields: Mapping[str, object], *, where: str = "邮件模板") -> str:
    """Fill ``{名称}`` placeholders; ``{{`` and ``}}`` stand for literal braces.

    A plain substitution, not ``str.format``: a coordinator's template can name fields, never
    reach attributes or indexes. An unknown name or a stray brace is a Chinese error that lists
    the names that can be used.
    """

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        key = match.group(1)
        if key is None:
            raise NianbaoError(f"{where}中有不成对的花括号“{token}”：字面花括号请写成 {{{{ 或 }}}}")
        key = key.strip()
        if key not in fields:
            known = "、".join(f"{{{k}}}" for k in fields)
            raise NianbaoError(f"{where}中的“{{{key}}}”无法识别，可用的有：{known}")
        return str(fields[key])

    return _PLACEHOLDER.sub(fill, template)


def encoded_word(text: str, linesep: str = " ") -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, base64, each within 76 characters), joined
    by ``linesep``; plain ASCII stays as it is."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode(linesep=linesep)


def rfc2231_params(param: str, value: str, chunk: int = 48) -> str:
    """``param*=utf-8''…`` with RFC 2231 continuations, so no header line grows too long."""
    quoted = urllib.parse.quote(value.encode("utf-8"), safe="")
    if value.isascii() and len(value) <= chunk and re.fullmatch(r"[0-9A-Za-z_.\-]+", value):
        return f'{param}="{value}"'
    if len(quoted) + 8 <= chunk:
        return f"{param}*=utf-8''{quoted}"
    pieces: list[str] = []
    rest = quoted
    while rest:
        cut = min(chunk, len(rest))
        # Never split a %XX escape.
        while cut < len(rest) and "%" in rest[max(0, cut - 2):cut]:
            cut -= 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    head = [f"{param}*0*=utf-8''{pieces[0]}"]
    head += [f"{param}*{i}*={p}" for i, p in enumerate(pieces[1:], start=1)]
    return "; ".join(head)


def attachment_part(att: Attachment) -> MIMEBase:
    """A base64 part carrying ``filename*`` (RFC 2231) and ``name="=?utf-8?…?="`` (RFC 2047)."""
    part = MIMEBase(att.maintype, att.subtype)
    part.set_payload(att.data)
    encoders.encode_base64(part)
    name = att.filename
    del part["Content-Type"], part["MIME-Version"]
    charset = f'; charset="{att.charset}"' if att.charset else ""
    part["Content-Type"] = f'{att.maintype}/{att.subtype}{charset}; name="{encoded_word(name)}"'
    part["Content-Disposition"] = f"attachment; {rfc2231_params('filename', name)}"
    return part


def compose(
    *,
    sender: str,
    sender_name: str,
    to: str | Sequence[str],
    to_name: str,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    date: str | None = None,
    message_id: str | None = None,
) -> Outgoing:
    """One message with a UTF-8 subject and body (base64, 7-bit safe for any server).

    ``to`` is one address or several (a unit may list several mailboxes: all receive it).
    An empty address is refused: a message to ``<>`` reaches nobody.
    """
    recipients = (to,) if isinstance(to, str) else tuple(to)
    recipients = tuple(a.strip() for a in recipients if a and a.strip())
    if not recipients:
        raise NianbaoError(f"{to_name or '收件人'}没有邮箱地址，无法写出邮件")
    domain = sender.rpartition("@")[2] or "localhost"
    msg_id = message_id or email.utils.make_msgid(idstring="nianbao", domain=domain)
    root: Message
    # Canonical CRLF line ends inside the base64 (RFC 2045 §6.8): Outlook shows bare LF as one line.
    canonical = body.replace("\r\n", "\n").replace("\n", "\r\n")
    text = MIMEText(canonical, "plain", "utf-8")  # base64 body: survives servers without 8BITMIME
    if attachments:
        del text["MIME-Version"]  # once, on the root, is enough
        root = MIMEMultipart("mixed")
        root.attach(text)
        for att in attachments:
            root.attach(attachment_part(att))
    else:
        root = text
    root["Subject"] = Header(subject, "utf-8", header_name="Subject")
    if sender:  # a draft made before the [mail] settings are filled in has no sender yet
        root["From"] = email.utils.formataddr((sender_name, sender), charset="utf-8") if sender_name else sender
    root["To"] = ", ".join(email.utils.formataddr((to_name, a), charset="utf-8") if to_name else a
                           for a in recipients)
    if reply_to:
        root["Reply-To"] = reply_to
    root["Date"] = date or email.utils.formatdate(localtime=True)
    root["Message-ID"] = msg_id
    # Move the addressing headers in front of the MIME ones, as mail clients write them.
    items = root._headers  # noqa: SLF001 - compat32 keeps headers as a plain list
    front = {"subject", "from", "to", "reply-to", "date", "message-id"}
    root._headers = [h for h in items if h[0].lower() in front] + [h for h in items if h[0].lower() not in front]
    return Outgoing(msg_id, sender, recipients, subject, message_bytes(root))


def message_bytes(msg: Message) -> bytes:
    """The message as it goes on the wire (CRLF line ends)."""
    return msg.as_bytes(policy=WIRE_POLICY)


def write_eml(outgoing: Outgoing, path: Path) -> Path:
    """Write a draft the coordinator can open in Outlook, Foxmail or Thunderbird."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(outgoing.data)
    tmp.replace(path)  # a half-written draft never carries the final name
    return path


__all__ = ["Attachment", "Outgoing", "XLSX_TYPE", "attachment_filename", "attachment_part", "compose",
           "encoded_word", "message_bytes", "render", "report_filename", "rfc2231_params", "safe_filename", "write_eml"]

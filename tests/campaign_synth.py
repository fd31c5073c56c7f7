"""Synthetic campaign data for the campaign tests and the collect benchmark.

Filled workbooks are written with :func:`nianbao.annotate.write_filled` (our own template writer
with values in), which is fine for synthetic data and never done to a received file. Valid
numbers are random counts made to satisfy every rule: each 表三 column's 本年新收 is set to what
the balance rule T3-BALANCE needs.
"""

from __future__ import annotations

import base64
import csv
import os
import random
import sqlite3
from decimal import Decimal
from email.header import Header
from pathlib import Path

from nianbao.annotate import write_filled
from nianbao.format.model import Format
from nianbao.rules import check
from nianbao.template import active_rules, compute_derived

DETAILS = {"compiler": "党政办公室", "contact": "李明", "phone": "0795-1234567", "address": "人民路 1 号",
           "url": "政府门户网站“政府信息公开年报”栏目"}
_FIXED_PREFIXES = ("t3.new.", "t3.carried_over.", "t3.carry_forward.", "t2.fees.", "t2.regulations.")  # towns cannot issue 规章


def write_units(path: Path, parents: int, children: int) -> list[dict[str, str]]:
    """A two-level list: ``parents`` county departments/towns, each with ``children`` units."""
    rows = []
    for p in range(parents):
        code = f"P{p:02d}"
        rows.append({"code": code, "name": f"第{p + 1}镇人民政府", "parent": ""})
        for c in range(children):
            rows.append({"code": f"{code}C{c:02d}", "name": f"第{p + 1}镇第{c + 1}村民委员会办事处", "parent": code})
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位编码", "单位名称", "邮箱", "联系人", "联系电话", "上级编码"])
        for r in rows:
            w.writerow([r["code"], r["name"], f"{r['code'].lower()}@example.gov.cn", "王芳", "0795-7654321", r["parent"]])
    return rows


def valid_values(fmt: Format, rng: random.Random) -> dict[str, Decimal]:
    values: dict[str, Decimal] = {c.id: Decimal(0) for c in fmt.input_cells}
    free = [c.id for c in fmt.input_cells if not c.id.startswith(_FIXED_PREFIXES)]
    for cell_id in rng.sample(free, 12):
        values[cell_id] = Decimal(rng.randint(1, 9))
    for rule in fmt.rules:
        if rule.rule_id == "T3-BALANCE" and rule.cells[0] not in fmt.derived:  # totals follow
            outcome = check(rule, compute_derived(fmt, dict(values)))
            new_cell = rule.cells[0]
            values[new_cell] -= outcome.lhs - outcome.rhs
    full = compute_derived(fmt, dict(values))
    assert all(check(r, full).ok for r in active_rules(fmt, False)), "synthetic values break a rule"
    return values


def unit_token(campaign: Path, code: str) -> tuple[str, str]:
    db = sqlite3.connect(campaign / "ledger.sqlite")
    try:
        name, token = db.execute("SELECT name, token FROM units WHERE code = ?", (code,)).fetchone()
    finally:
        db.close()
    return name, token


def fill(fmt: Format, year: int, code: str, name: str, token: str, out: Path, values: dict[str, Decimal],
         error: bool = False) -> Path:
    """A filled workbook for a unit; ``error`` breaks the 表三 balance of the first column."""
    contents: dict[str, object] = dict(values)
    if error:
        first = next(r for r in fmt.rules if r.rule_id == "T3-BALANCE").cells[0]
        contents[first] = values[first] + 1
    write_filled(fmt, {"name": name, "code": code, **DETAILS}, year, out, contents,
                 {n.id: f"{name}的{n.title}情况说明。" for n in fmt.narratives}, token=token)
    return out


def set_time(path: Path, timestamp: float) -> None:
    os.utime(path, (timestamp, timestamp))


def gbk_eml(attachments: list[tuple[str, bytes]], sender_name: str, subject: str, date: str) -> bytes:
    """A message as Chinese mailers write it: GB2312/GBK-labelled headers, RFC 2047 words inside
    the quoted attachment name."""
    boundary = "----=_NextPart_000_0001"
    lines = [
        f"From: {Header(sender_name, 'gbk').encode()} <unit@example.gov.cn>",
        "To: coordinator@example.gov.cn",
        f"Subject: {Header(subject, 'gb2312').encode()}",
        f"Date: {date}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes("附件是我单位的年报。".encode("gb2312")).decode("ascii").strip(),
    ]
    for filename, data in attachments:
        encoded = "=?GB2312?B?" + base64.b64encode(filename.encode("gb18030")).decode("ascii") + "?="
        lines += [f"--{boundary}",
                  f'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="{encoded}"',
                  "Content-Transfer-Encoding: base64",
                  f'Content-Disposition: attachment; filename="{encoded}"',
                  "", base64.encodebytes(data).decode("ascii").strip()]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def xls_bytes() -> bytes:
    """A minimal Excel 97-2003 workbook (OLE2 with a BIFF8 Workbook stream), as a unit's WPS saves."""
    from test_sniff import BOF, EOF_RECORD, INTERFACEHDR, SUMMARY, biff, build_cfb

    return build_cfb({"Workbook": biff(BOF, INTERFACEHDR, EOF_RECORD, pad_to=5000), **SUMMARY})


def zip_of(name: str, data: bytes) -> bytes:
    """A .zip holding one file, as a unit compresses its workbook before mailing it."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def reply_eml(sender: str, subject: str, attachments: list[tuple[str, bytes]], date: str) -> bytes:
    """A unit's reply as a mail client writes it (our own composer: RFC 2231 + 2047 names)."""
    from nianbao.mail.compose import Attachment, compose

    kinds = {"xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             "xls": ("application", "vnd.ms-excel"), "zip": ("application", "zip")}
    atts = [Attachment(n, d, *kinds.get(n.rpartition(".")[2], ("application", "octet-stream"))) for n, d in attachments]
    return compose(sender=sender, sender_name="", to="coordinator@example.gov.cn", to_name="", subject=subject,
                   body="附件是我单位的年报，请查收。", attachments=atts, date=date).data

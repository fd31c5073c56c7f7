"""A sample campaign to open the desk on, made from the bundled sample workbook.

``make_demo(目录, samples/张巷镇人民政府2021年报.xlsx)`` builds a 2021 round of nine units of one
county and, in ``示例回件/``, eight returned files as they come in: valid workbooks made from the
sample's numbers, two with mistakes, a workbook saved as .xls, and a mail from one town carrying
another town's template. Nothing is collected yet: the coordinator drops them on the desk.

The returned workbooks are written with :func:`nianbao.annotate.write_filled` (our own template
writer with values in) — fine for sample data, never done to a real unit's file.
"""

from __future__ import annotations

import csv
import re
import datetime as dt
import tempfile
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from nianbao.annotate import write_filled
from nianbao.campaign.folder import SETTINGS_NAME, open_campaign
from nianbao.campaign.init import init_campaign
from nianbao.errors import NianbaoError
from nianbao.read.reader import read_submission

RETURNS = "示例回件"
YEAR = 2021
#: (code, name, e-mail) — the towns of one county; the first is the sample's own unit.
UNITS = (
    ("360981101", "张巷镇人民政府", "zhangxiang@example.gov.cn"),
    ("360981102", "石滩镇人民政府", "shitan@example.gov.cn"),
    ("360981103", "拖船镇人民政府", "tuochuan@example.gov.cn"),
    ("360981104", "孙渡街道办事处", "sundu@example.gov.cn"),
    ("360981105", "杜市镇人民政府", "dushi@example.gov.cn"),
    ("360981106", "荣塘镇人民政府", "rongtang@example.gov.cn"),
    ("360981107", "尚庄街道办事处", "shangzhuang@example.gov.cn"),
    ("360981108", "河洲街道办事处", "hezhou@example.gov.cn"),
    ("360981109", "秀市镇人民政府", "xiushi@example.gov.cn"),
)
#: Head of an OLE2 compound file: what Excel 97–2003 (.xls) and WPS (.et) save.
OLE_HEAD = bytes.fromhex("D0CF11E0A1B11AE1")


def make_demo(directory: Path, sample: Path, deadline: dt.date | None = None) -> Path:
    """Create the sample campaign at ``directory`` (which must not exist or be empty)."""
    sample = Path(sample)
    if not sample.is_file():
        raise NianbaoError(f"找不到示例工作簿 {sample}：请在 nianbao 源代码目录中运行，或写明示例文件的路径")
    sub = read_submission(sample)
    if sub.year != YEAR:
        raise NianbaoError(f"示例工作簿 {sample} 是 {sub.year} 年度的，演示任务需要 {YEAR} 年度的示例")
    directory = Path(directory)
    deadline = deadline or dt.date.today() + dt.timedelta(days=10)
    with tempfile.TemporaryDirectory() as tmp:
        units_csv = Path(tmp) / "单位名单.csv"
        with units_csv.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["单位编码", "单位名称", "邮箱", "联系人", "联系电话", "上级编码"])
            for code, name, email in UNITS:
                w.writerow([code, name, email, "党政办公室", "0795-6532011", ""])
        init_campaign(directory, YEAR, units_csv, title="丰城市2021年度政府信息公开工作年度报告收集",
                      deadline=deadline.isoformat(), area="丰城市")
    _demo_sender(directory / SETTINGS_NAME)
    with open_campaign(directory) as campaign:
        tokens = {u["code"]: u["token"] for u in campaign.ledger.units()}
        fmt = campaign.format
    values = {k: v for k, v in sub.values.items() if k not in fmt.derived}
    balance = next(r for r in fmt.rules if r.rule_id == "T3-BALANCE").cells[0]
    out = directory / RETURNS
    out.mkdir()

    def filled(code: str, name: str, target: Path, changes: dict[str, object] | None = None,
               contact: str = "") -> Path:
        contents: dict[str, object] = {**values, **(changes or {})}
        unit = {**sub.unit, "name": name, "code": code, **({"contact": contact} if contact else {})}
        return write_filled(fmt, unit, YEAR, target, contents, sub.narratives, token=tokens[code])

    filled("360981101", "张巷镇人民政府", out / "张巷镇2021年报（定稿）.xlsx")
    filled("360981102", "石滩镇人民政府", out / "年报.xlsx")
    filled("360981103", "拖船镇人民政府", out / "拖船镇年报.xlsx",
           {balance: (values.get(balance) or Decimal(0)) + 3})
    filled("360981106", "荣塘镇人民政府", out / "荣塘镇.xlsx")
    filled("360981107", "尚庄街道办事处", out / "尚庄街道2021年报.xlsx")
    filled("360981108", "河洲街道办事处", out / "河洲年报.xlsx", {balance: "十二"})
    # 孙渡 saved the workbook as .xls; 杜市 mailed 荣塘's template (copied from a colleague).
    _mail(out / "孙渡街道报送.eml", "孙渡街道办事处", "sundu@example.gov.cn", "孙渡街道2021年报.xls",
          OLE_HEAD + bytes(504))
    with tempfile.TemporaryDirectory() as tmp:
        borrowed = filled("360981106", "荣塘镇人民政府", Path(tmp) / "borrowed.xlsx", contact="杜市镇党政办公室")
        _mail(out / "杜市镇报送.eml", "杜市镇人民政府", "dushi@example.gov.cn", "杜市镇年报.xlsx",
              borrowed.read_bytes())
    return directory


def _demo_sender(settings: Path) -> None:
    """A sender for the demo's letters (drafts need one); a real campaign fills in its own."""
    text = settings.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^sender = ""', 'sender = "xxgk@example.gov.cn"', text, count=1)
    text = re.sub(r'(?m)^sender_name = ""', 'sender_name = "丰城市人民政府办公室（演示）"', text, count=1)
    settings.write_text(text, encoding="utf-8")


def _mail(path: Path, sender_name: str, sender: str, filename: str, data: bytes) -> None:
    msg = EmailMessage()
    msg["From"] = f"{sender_name} <{sender}>"
    msg["To"] = "xxgk@example.gov.cn"
    msg["Subject"] = f"{sender_name}2021年度政府信息公开工作年度报告"
    msg["Date"] = format_datetime(dt.datetime.now().astimezone())
    msg.set_content("附件是我单位的年报，请查收。")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    path.write_bytes(msg.as_bytes())


__all__ = ["RETURNS", "UNITS", "make_demo"]

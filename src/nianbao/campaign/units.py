"""The unit list a coordinator keeps: UNITS.xlsx or UNITS.csv → validated ``Unit`` records.

Columns are found by their header (Chinese or English), so the coordinator's own spreadsheet
works as it is. Every bad row is reported with its row number, all at once; nothing is created
from a list with a bad row.
"""

from __future__ import annotations

import csv
import email.utils
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from nianbao.errors import NianbaoError

#: Header texts accepted for each field (compared after removing spaces, case-insensitive).
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "单位编码", "代码", "单位代码"),
    "name": ("name", "名称", "单位名称", "单位"),
    "email": ("email", "e-mail", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件地址"),
    "contact": ("contact", "联系人"),
    "phone": ("phone", "电话", "联系电话"),
    "parent": ("parent", "上级", "上级编码", "上级单位编码", "上级单位"),
}
REQUIRED_COLUMNS = ("code", "name")
#: Codes name outbox files and appear in commands, so they stay plain.
CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,39}$")
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+$")
MAX_ROWS = 10_000
MAX_UNITS_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    email: str = ""
    contact: str = ""
    phone: str = ""
    parent: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class UnitListError(NianbaoError):
    """The unit list has bad rows; ``problems`` holds one Chinese line per problem."""

    code = "UNITS"

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"单位名单 {path} 有 {len(problems)} 处问题，未创建任何文件：\n" + "\n".join(problems))


def read_units(path: Path) -> list[Unit]:
    """Read and validate the unit list; raise UnitListError listing every bad row."""
    path = Path(path)
    if not path.is_file():
        raise NianbaoError(f"找不到单位名单：{path}")
    if path.stat().st_size > MAX_UNITS_FILE_BYTES:
        raise NianbaoError(f"单位名单 {path} 过大（超过 10 MB），请检查是否选错了文件")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        raise NianbaoError(f"单位名单应为 .xlsx 或 .csv 文件：{path}")
    return parse_rows(path, rows)


def parse_rows(path: Path, rows: list[tuple[int, list[str]]]) -> list[Unit]:
    """(row number, cell texts) → units; the first non-empty row is the header."""
    rows = [(n, [_clean(c) for c in cells]) for n, cells in rows]
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise UnitListError(path, ["名单是空的：第一行应为表头（单位编码、单位名称、邮箱、联系人、联系电话、上级编码）"])
    header_row, header = rows[0]
    columns = _columns(header)
    missing = [f for f in REQUIRED_COLUMNS if f not in columns]
    if missing:
        wanted = "、".join(HEADERS[f][2] if len(HEADERS[f]) > 2 else HEADERS[f][1] for f in missing)
        raise UnitListError(path, [f"第 {header_row} 行（表头）缺少列：{wanted}。表头应包括：单位编码、单位名称、"
                                   f"邮箱、联系人、联系电话、上级编码"])
    problems: list[str] = []
    units: list[Unit] = []
    first_row: dict[str, int] = {}
    if len(rows) - 1 > MAX_ROWS:
        raise UnitListError(path, [f"名单超过 {MAX_ROWS} 个单位，请检查是否选错了文件"])
    for number, cells in rows[1:]:
        def get(fieldname: str) -> str:
            i = columns.get(fieldname)
            return cells[i] if i is not None and i < len(cells) else ""

        mails = addresses(get("email"))
        unit = Unit(code=get("code"), name=normalize_name(get("name")), email=", ".join(mails),
                    contact=normalize_name(get("contact")), phone=get("phone"), parent=get("parent"))
        row_problems = []
        if not unit.code:
            row_problems.append("缺少单位编码")
        elif not CODE_RE.match(unit.code):
            row_problems.append(f"单位编码“{unit.code}”只能由字母、数字、-、_、. 组成（不超过 40 个字符）")
        elif unit.code in first_row:
            row_problems.append(f"单位编码“{unit.code}”与第 {first_row[unit.code]} 行重复")
        if not unit.name:
            row_problems.append("缺少单位名称")
        for mail in mails:
            if not EMAIL_RE.match(mail):
                row_problems.append(f"邮箱“{mail}”格式不正确（一格中有多个邮箱时用逗号或分号隔开）")
        if unit.parent and unit.parent == unit.code:
            row_problems.append("上级编码不能是本单位自己")
        if row_problems:
            problems.append(f"第 {number} 行：" + "；".join(row_problems))
        if unit.code and unit.code not in first_row:
            first_row[unit.code] = number
        units.append(unit)
    codes = {u.code for u in units}
    rows_by_code = first_row
    for unit in units:
        if unit.parent and unit.parent != unit.code and unit.parent not in codes:
            problems.append(f"第 {rows_by_code.get(unit.code, '?')} 行：上级编码“{unit.parent}”不在名单中")
    problems += _cycles(units, rows_by_code)
    if problems:
        raise UnitListError(path, problems)
    if not units:
        raise UnitListError(path, [f"名单只有表头（第 {header_row} 行），没有单位"])
    return units


def normalize_name(text: str) -> str:
    """A name as it should show everywhere: NFKC (full-width letters, digits and spaces become
    plain), no spaces between Chinese characters, runs of other spaces made one."""
    text = unicodedata.normalize("NFKC", text or "")
    text = " ".join(text.split())
    # NFKC makes （） ASCII; Chinese names are written with full-width brackets, so put them back
    text = text.replace("(", "（").replace(")", "）")
    return _CJK_SPACE.sub("", text)


_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff\uff08\uff09（）]) (?=[\u3400-\u9fff\uff08\uff09（）])")


def list_warnings(units: list[Unit]) -> list[str]:
    """What is allowed but probably a mistake: one name under several codes, a unit without an
    address (it cannot be mailed), one address for several units."""
    warnings = []
    by_name: dict[str, list[str]] = {}
    for u in units:
        by_name.setdefault(u.name, []).append(u.code)
    for name, codes in by_name.items():
        if len(codes) > 1:
            warnings.append(f"单位名称“{name}”出现在 {len(codes)} 个编码下（{'、'.join(codes)}）：请确认不是重复登记")
    no_mail = [u.name for u in units if not u.email]
    if no_mail:
        warnings.append(f"{len(no_mail)} 个单位没有邮箱，无法用邮件下发和提醒：{'、'.join(no_mail)}")
    return warnings


def _cycles(units: list[Unit], rows: dict[str, int]) -> list[str]:
    parent = {u.code: u.parent for u in units if u.parent}
    problems = []
    for code in parent:
        seen = {code}
        current = parent.get(code)
        while current:
            if current in seen:
                problems.append(f"第 {rows.get(code, '?')} 行：上级关系构成循环（{code} → … → {current}）")
                break
            seen.add(current)
            current = parent.get(current)
    return problems


def _columns(header: list[str]) -> dict[str, int]:
    wanted = {_key(h): f for f, names in HEADERS.items() for h in names}
    columns: dict[str, int] = {}
    for i, text in enumerate(header):
        fieldname = wanted.get(_key(text))
        if fieldname and fieldname not in columns:
            columns[fieldname] = i
    return columns


def _key(text: str) -> str:
    return "".join(text.split()).lower()


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number: 101 not 101.0
    return unicodedata.normalize("NFKC", str(value)).strip()


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise NianbaoError(f"单位名单 {path} 的编码无法识别，请另存为 UTF-8 的 CSV 或 .xlsx")
    try:
        return [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)]
    except csv.Error as err:
        raise NianbaoError(f"单位名单 {path} 不是有效的 CSV：{err}") from None


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from nianbao.read.reader import load_workbook

    wb = load_workbook(path)  # sniffed and bounded like any workbook
    ws = wb.worksheets[0]
    return [(i, [_clean(v) for v in row]) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)]


_ADDRESS_SPLIT = re.compile(r"[,;，；、\s]+")


def addresses(cell: str) -> list[str]:
    """The addresses in one e-mail cell (a unit may list several: all receive, any may reply)."""
    return [a for a in _ADDRESS_SPLIT.split(cell or "") if a]


def address_of(sender: str) -> str:
    """The bare address of a From header (``王芳 <a@b.cn>`` → ``a@b.cn``), lower-cased."""
    return email.utils.parseaddr(sender or "")[1].strip().lower()


def sender_units(sender: str, units: Iterable[tuple[str, str]]) -> list[str]:
    """Codes of the units (``(code, email cell)`` pairs) whose registered addresses include the
    sender's; several when units share one mailbox, none for an unknown sender."""
    addr = address_of(sender)
    if not addr:
        return []
    return [code for code, cell in units if addr in (a.lower() for a in addresses(cell))]


def write_units_csv(units: list[Unit], out: Path) -> None:
    """The list as CSV with Chinese headers (the campaign keeps a copy of what it was made from)."""
    with Path(out).open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位编码", "单位名称", "邮箱", "联系人", "联系电话", "上级编码"])
        for u in units:
            w.writerow([u.code, u.name, u.email, u.contact, u.phone, u.parent])


__all__ = ["Unit", "UnitListError", "address_of", "addresses", "list_warnings", "normalize_name", "parse_rows", "read_units", "sender_units",
           "write_units_csv"]

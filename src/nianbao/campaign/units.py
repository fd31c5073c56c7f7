"""The unit list a coordinator keeps: UNITS.xlsx or UNITS.csv → validated ``Unit`` records.

Columns are found by their header (Chinese or English), so the coordinator's own spreadsheet
works as it is. Every bad row is reported with its row number, all at once; nothing is created
from a list with a bad row.
"""

from __future__ import annotations

import csv
import io
import re
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

        unit = Unit(code=get("code"), name=get("name"), email=get("email"), contact=get("contact"),
                    phone=get("phone"), parent=get("parent"))
        row_problems = []
        if not unit.code:
            row_problems.append("缺少单位编码")
        elif not CODE_RE.match(unit.code):
            row_problems.append(f"单位编码“{unit.code}”只能由字母、数字、-、_、. 组成（不超过 40 个字符）")
        elif unit.code in first_row:
            row_problems.append(f"单位编码“{unit.code}”与第 {first_row[unit.code]} 行重复")
        if not unit.name:
            row_problems.append("缺少单位名称")
        if unit.email and not EMAIL_RE.match(unit.email):
            row_problems.append(f"邮箱“{unit.email}”格式不正确")
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
    return str(value).replace("\u3000", " ").strip()


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


def write_units_csv(units: list[Unit], out: Path) -> None:
    """The list as CSV with Chinese headers (the campaign keeps a copy of what it was made from)."""
    with Path(out).open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位编码", "单位名称", "邮箱", "联系人", "联系电话", "上级编码"])
        for u in units:
            w.writerow([u.code, u.name, u.email, u.contact, u.phone, u.parent])


__all__ = ["Unit", "UnitListError", "read_units", "parse_rows", "write_units_csv"]

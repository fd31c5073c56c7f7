"""Load and validate format definitions (workbook_templates/*.toml) into the Format model.

Every problem found is collected and reported with file and line, so a definition author sees
all mistakes at once. ``inherit`` lets an edition take another edition's parts, tables and
rules and restate only what differs.
"""

from __future__ import annotations

import copy
import copyreg
import itertools
import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from nianbao.errors import FormatDefinitionError, NianbaoError
from nianbao.format.model import (
    CELL_KINDS,
    Block,
    Cell,
    Column,
    Format,
    HeaderNode,
    Narrative,
    Part,
    Row,
    RuleInstance,
    Table,
    UnitField,
    defined_name,
)
from nianbao.rules import Ref, RuleSyntaxError, parse, refs_of

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SHEET_FORBIDDEN = set("[]:*?/\\")
SHEET_MAX = 31
# Sheets every template has besides the table sheets (see template.py).
FIXED_SHEETS = ("填报说明", "正文", "检查", "_meta")
DEFAULT_FORMAT = "gov-info-disclosure"


def templates_dir() -> Path:
    """Where the format definitions live: inside the installed package, or the source tree."""
    packaged = resources.files("nianbao") / "workbook_templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "workbook_templates"


@dataclass
class _Problems:
    """Collects located problems for one definition file."""

    path: Path
    text: str
    items: list[str] = field(default_factory=list)

    def add(self, message: str, needle: str | None = None, nth: int = 0) -> None:
        line = _locate(self.text, needle, nth) if needle else None
        where = f"{self.path.name}:{line}" if line else self.path.name
        self.items.append(f"{where}: {message}")


def _locate(text: str, needle: str, nth: int = 0) -> int | None:
    """Line number of the nth occurrence of ``id = "needle"`` (or of the bare text)."""
    for pattern in (rf'\bid\s*=\s*"{re.escape(needle)}"', re.escape(needle)):
        matches = list(re.finditer(pattern, text))
        if matches:
            match = matches[min(nth, len(matches) - 1)]
            return text.count("\n", 0, match.start()) + 1
    return None


# ---------------------------------------------------------------------------- public API


def available_formats() -> list[Format]:
    """All format editions that ship with nianbao, oldest edition first."""
    return list(_shipped())


@lru_cache(maxsize=1)  # the shipped editions do not change while a process runs; drift asks per file
def _shipped() -> tuple[Format, ...]:
    keys = sorted(p.stem for p in templates_dir().glob("*.toml"))
    return tuple(sorted((load_format(k) for k in keys), key=lambda f: (f.id, f.first_year)))


def _pickle_format(fmt: Format):
    """A shipped edition travels between processes by its key and comes back as the receiver's
    own loaded copy: reports sent back from check workers then share one Format instead of each
    carrying a ~0.5 MB duplicate. Registered here (copyreg) rather than as Format.__reduce__,
    so the model does not import its loader."""
    try:
        if load_format(fmt.key) is fmt:
            return (load_format, (fmt.key,))
    except Exception:  # not a shipped edition (a definition loaded from elsewhere)
        pass
    return object.__reduce_ex__(fmt, 2)


copyreg.pickle(Format, _pickle_format)


@lru_cache(maxsize=None)
def load_format(key: str) -> Format:
    """Load one edition by key, e.g. ``gov-info-disclosure-2021``."""
    path = templates_dir() / f"{key}.toml"
    if not path.is_file():
        known = "、".join(sorted(p.stem for p in templates_dir().glob("*.toml")))
        raise NianbaoError(f"未知的格式：{key}（可用：{known}）")
    return load_path(path)


def format_for_year(year: int, format_id: str = DEFAULT_FORMAT) -> Format:
    """The edition that applies to a report year (2019–2020 → 2019, 2021 on → 2021)."""
    for fmt in available_formats():
        if fmt.id == format_id and fmt.covers(year):
            return fmt
    raise NianbaoError(f"没有适用于 {year} 年度的“{format_id}”格式（政府信息公开年报格式自 2019 年度起）")


def resolve_format(year: int, requested: str | None = None) -> Format:
    """``--format`` may name a format id or an edition key; else the edition by year."""
    if not requested:
        return format_for_year(year)
    if (templates_dir() / f"{requested}.toml").is_file():
        return load_format(requested)
    return format_for_year(year, requested)


def load_path(path: Path) -> Format:
    text = path.read_text(encoding="utf-8")
    problems = _Problems(path, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise FormatDefinitionError([f"{path.name}: TOML 语法错误：{err}"]) from None
    raw = _apply_inheritance(raw, path, problems)
    fmt = _build(raw, path, problems)
    if problems.items:
        raise FormatDefinitionError(problems.items)
    assert fmt is not None
    return fmt


# ---------------------------------------------------------------------------- inheritance


def _apply_inheritance(raw: dict[str, Any], path: Path, problems: _Problems) -> dict[str, Any]:
    base_key = raw.get("format", {}).get("inherit")
    if not base_key:
        return raw
    base_path = path.with_name(f"{base_key}.toml")
    if not base_path.is_file():
        problems.add(f"inherit 指向的格式不存在：{base_key}", base_key)
        return raw
    base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    merged = copy.deepcopy(base)
    merged["format"] = raw["format"]
    for key in ("unit_fields", "parts"):
        if key in raw:
            merged[key] = raw[key]
    for table_id, table in raw.get("tables", {}).items():
        if "blocks" in table:
            merged.setdefault("tables", {})[table_id] = table
        elif table_id in merged.get("tables", {}):
            for patch in table.get("replace", []):
                _replace_node(merged["tables"][table_id], patch, problems)
        else:
            problems.add(f"继承的格式中没有表 {table_id}", table_id)
    dropped = set(raw["format"].get("drop_rules", []))
    unknown = dropped - {r.get("id") for r in merged.get("rules", [])}
    for rule_id in sorted(unknown):
        problems.add(f"drop_rules 中的规则不存在：{rule_id}", rule_id)
    merged["rules"] = [r for r in merged.get("rules", []) if r.get("id") not in dropped]
    merged["rules"] += raw.get("rules", [])
    return merged


def _replace_node(table: dict[str, Any], patch: dict[str, Any], problems: _Problems) -> None:
    target = patch.get("node")

    def walk(nodes: list[dict[str, Any]]) -> bool:
        for node in nodes:
            if node.get("id") == target:
                node.update({k: v for k, v in patch.items() if k != "node"})
                return True
            if walk(node.get("children", [])):
                return True
        return False

    found = any(walk(block.get(k, [])) for block in table.get("blocks", []) for k in ("rows", "columns"))
    if not found:
        problems.add(f"replace 指向的表头节点不存在：{target}", str(target))


# ---------------------------------------------------------------------------- building


def _build(raw: dict[str, Any], path: Path, p: _Problems) -> Format | None:
    head = raw.get("format", {})
    for key in ("id", "edition", "title", "basis", "first_year", "template_version"):
        if key not in head:
            p.add(f"[format] 缺少 {key}", "[format]")
    unit_fields = tuple(_unit_fields(raw.get("unit_fields", []), p))
    numbers = {i.get("table"): i.get("number", "") for i in raw.get("parts", []) if i.get("table")}
    tables = {tid: _table(tid, t, numbers.get(tid, ""), p) for tid, t in raw.get("tables", {}).items()}
    parts = tuple(_parts(raw.get("parts", []), tables, p))
    _check_sheets([t.sheet for t in tables.values()], p)
    cells = _cells(tables, p)
    rules = tuple(_rules(raw.get("rules", []), tables, cells, p))
    derived = _derived(rules, p)
    if p.items:
        return None
    return Format(
        id=head["id"],
        edition=str(head["edition"]),
        title=head["title"],
        basis=head["basis"],
        first_year=int(head["first_year"]),
        last_year=head.get("last_year"),
        template_version=str(head["template_version"]),
        unit_fields=unit_fields,
        parts=parts,
        tables=tables,
        cells=cells,
        rules=rules,
        derived=derived,
        source=path,
    )


def _check_id(value: Any, what: str, p: _Problems, needle: str | None = None) -> bool:
    if not isinstance(value, str) or not ID_RE.match(value):
        p.add(f"{what}的 id 无效：{value!r}（应为小写英文、数字和下划线）", needle or str(value))
        return False
    return True


def _check_label(node: dict[str, Any], what: str, p: _Problems, allow_empty: bool = False) -> str:
    label = node.get("label")
    if not isinstance(label, str) or (not label.strip() and not allow_empty):
        p.add(f"{what}缺少标签（label）", str(node.get("id") or what))
        return ""
    return label


def _unique(ids: Iterable[str], what: str, p: _Problems) -> None:
    seen: dict[str, int] = {}
    for ident in ids:
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] == 2:
            p.add(f"{what} id 重复：{ident}", ident, nth=1)


def _unit_fields(items: list[dict[str, Any]], p: _Problems) -> Iterable[UnitField]:
    _unique((f.get("id", "") for f in items), "单位信息字段", p)
    for item in items:
        if _check_id(item.get("id"), "单位信息字段", p):
            yield UnitField(
                id=item["id"],
                label=_check_label(item, f"单位信息字段 {item['id']} ", p),
                input=item.get("input", True),
                required=item.get("required", False),
                guidance=item.get("guidance", ""),
            )


def _parts(items: list[dict[str, Any]], tables: dict[str, Table], p: _Problems) -> Iterable[Part]:
    _unique((i.get("id", "") for i in items), "部分", p)
    _unique((n.get("id", "") for i in items for n in i.get("narratives", [])), "正文部分", p)
    used: list[str] = []
    for item in items:
        if not _check_id(item.get("id"), "部分", p):
            continue
        table = item.get("table")
        if table is not None:
            used.append(table)
            if table not in tables:
                p.add(f"部分 {item['id']} 引用了不存在的表：{table}", table)
        narratives = tuple(
            Narrative(n["id"], item["id"], _check_label({"label": n.get("title"), "id": n.get("id")}, "正文部分", p),
                      n.get("guidance", ""), n.get("required", True))
            for n in item.get("narratives", [])
            if _check_id(n.get("id"), "正文部分", p)
        )
        if table is None and not narratives:
            p.add(f"部分 {item['id']} 既没有表也没有正文", item["id"])
        yield Part(item["id"], item.get("number", ""), _check_label({"label": item.get("title"), "id": item["id"]}, "部分", p),
                   table, narratives)
    for tid in tables:
        if tid not in used:
            p.add(f"表 {tid} 没有被任何部分引用", f"[tables.{tid}]")


def _check_sheets(names: list[str], p: _Problems) -> None:
    seen: set[str] = {s.lower() for s in FIXED_SHEETS}
    for name in names:
        if not name or len(name) > SHEET_MAX:
            p.add(f"工作表名称为空或超过 {SHEET_MAX} 个字符：{name!r}", name or "sheet")
        if SHEET_FORBIDDEN & set(name) or name.startswith("'") or name.endswith("'"):
            p.add(f"工作表名称含有不允许的字符（[]:*?/\\ 或首尾单引号）：{name}", name)
        if name.lower() in seen:
            p.add(f"工作表名称重复：{name}", name, nth=1)
        seen.add(name.lower())


def _node(raw: dict[str, Any], p: _Problems, where: str, allow_empty: bool = False) -> HeaderNode:
    children = tuple(_node(c, p, where, allow_empty) for c in raw.get("children", []))
    ident = raw.get("id")
    if ident is not None:
        _check_id(ident, where, p)
    elif not children:
        p.add(f"{where}的末级节点缺少 id（标签：{raw.get('label', '')}）", raw.get("label") or where)
    kind = raw.get("kind")
    if kind is not None and kind not in CELL_KINDS:
        p.add(f"{where} {ident} 的 kind 无效：{kind}（可用：{'、'.join(CELL_KINDS)}）", str(ident))
    span = raw.get("span", 1)
    if not isinstance(span, int) or span < 1:
        p.add(f"{where} {ident} 的 span 无效：{span}", str(ident))
        span = 1
    label = _check_label(raw, f"{where} {ident or ''} ", p, allow_empty)
    return HeaderNode(ident, label, children, span, kind)


def _flatten_columns(nodes: Iterable[HeaderNode], path: tuple[str, ...] = (), kind: str = "count") -> list[Column]:
    out: list[Column] = []
    for node in nodes:
        here = path + (node.label,)
        node_kind = node.kind or kind
        if node.is_leaf:
            out.append(Column(node.id or "", node.label, node_kind, node.span, here))
        else:
            out.extend(_flatten_columns(node.children, here, node_kind))
    return out


def _flatten_rows(nodes: Iterable[HeaderNode], path: tuple[str, ...] = ()) -> list[Row]:
    out: list[Row] = []
    for node in nodes:
        here = path + (node.label,)
        if node.is_leaf:
            out.append(Row(node.id or "", node.label, here))
        else:
            out.extend(_flatten_rows(node.children, here))
    return out


def _table(tid: str, raw: dict[str, Any], number: str, p: _Problems) -> Table:
    _check_id(tid, "表", p, f"[tables.{tid}]")
    levels = raw.get("label_levels", 1)
    blocks: list[Block] = []
    for b in raw.get("blocks", []):
        where = f"表 {tid} 的"
        col_tree = tuple(_node(c, p, where + "列") for c in b.get("columns", []))
        row_tree = tuple(_node(r, p, where + "行", allow_empty=levels == 0) for r in b.get("rows", []))
        columns, rows = _flatten_columns(col_tree), _flatten_rows(row_tree)
        if not columns or not rows:
            p.add(f"表 {tid} 的区块 {b.get('id')} 缺少行或列", str(b.get("id") or tid))
        _unique((c.id for c in columns), f"表 {tid} 区块 {b.get('id')} 的列", p)
        depth = max((len(r.path) for r in rows), default=0)
        if depth > max(levels, 1):
            p.add(f"表 {tid} 的行标签有 {depth} 级，超过 label_levels = {levels}", f"[tables.{tid}]")
        blocks.append(Block(b.get("id", ""), b.get("title"), b.get("corner"), col_tree, row_tree,
                            tuple(columns), tuple(rows)))
    widths = {sum(c.span for c in b.columns) for b in blocks}
    width = raw.get("data_width", max(widths, default=0))
    if widths and widths != {width}:
        p.add(f"表 {tid} 各区块的列宽之和不一致：{sorted(widths)}，应均为 {width}", f"[tables.{tid}]")
    _unique((r.id for b in blocks for r in b.rows), f"表 {tid} 的行", p)
    if not raw.get("sheet"):
        p.add(f"表 {tid} 缺少工作表名称（sheet）", f"[tables.{tid}]")
    return Table(tid, raw.get("title", ""), raw.get("sheet", ""), levels, width, tuple(blocks), number)


def _cells(tables: dict[str, Table], p: _Problems) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    names: dict[str, str] = {}
    for table in tables.values():
        for block in table.blocks:
            for row in block.rows:
                for col in block.columns:
                    cell = Cell(f"{table.id}.{row.id}.{col.id}", table.id, block.id, row, col, col.kind)
                    other = names.setdefault(cell.name, cell.id)
                    if other != cell.id:
                        p.add(f"单元格 {cell.id} 与 {other} 的定义名称相同：{cell.name}", row.id)
                    cells[cell.id] = cell
    return cells


# ---------------------------------------------------------------------------- rules


def _rules(items: list[dict[str, Any]], tables: dict[str, Table], cells: dict[str, Cell],
           p: _Problems) -> Iterable[RuleInstance]:
    _unique((r.get("id", "") for r in items), "规则", p)
    for raw in items:
        rid = raw.get("id", "?")
        if raw.get("severity") not in ("error", "warning"):
            p.add(f"规则 {rid} 的 severity 应为 error 或 warning", rid)
            continue
        for key in ("expr", "description", "message"):
            if not raw.get(key):
                p.add(f"规则 {rid} 缺少 {key}", rid)
        if p.items and not raw.get("expr"):
            continue
        try:
            bindings = _bindings(raw.get("for", {}), tables)
        except ValueError as err:
            p.add(f"规则 {rid}：{err}", rid)
            continue
        _check_placeholders(raw, bindings, p)
        yield from _expand(raw, bindings, tables, p)


def _bindings(spec: dict[str, Any], tables: dict[str, Table]) -> list[dict[str, tuple[str, str]]]:
    """The cartesian product of the ``for`` lists: [{name: (value, label)}]."""
    axes: list[list[tuple[str, str, str]]] = []
    for name, source in spec.items():
        if isinstance(source, dict):
            axes.append([(name, value, label) for value, label in source.items()])
        else:
            axes.append([(name, value, label) for value, label in _iterate(str(source), tables)])
    return [{name: (value, label) for name, value, label in combo} for combo in itertools.product(*axes)]


def _iterate(source: str, tables: dict[str, Table]) -> list[tuple[str, str]]:
    parts = source.split(".")
    table = tables.get(parts[0])
    if table is None:
        raise ValueError(f"for 中的表不存在：{source}")
    if len(parts) == 2 and parts[1] == "columns":
        if len(table.blocks) != 1:
            raise ValueError(f"{source}：表有多个区块，请写 表.区块.columns")
        return [(c.id, c.label) for c in table.blocks[0].columns]
    if len(parts) == 2 and parts[1] == "rows":
        return [(r.id, r.display) for r in table.rows]
    if len(parts) == 2 and parts[1] == "groups":
        return [(i, label) for block in table.blocks for i, label in _groups(block.column_tree, ())]
    if len(parts) == 3 and parts[2] in ("rows", "columns"):
        block = next((b for b in table.blocks if b.id == parts[1]), None)
        if block is None:
            raise ValueError(f"for 中的区块不存在：{source}")
        if parts[2] == "rows":
            return [(r.id, r.display) for r in block.rows]
        return [(c.id, c.label) for c in block.columns]
    raise ValueError(f"无法识别的 for 写法：{source}（可用：表.columns、表.rows、表.groups、表.区块.rows）")


def _groups(nodes: Iterable[HeaderNode], path: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    for node in nodes:
        if node.children:
            here = path + (node.label,)
            if node.id:
                yield node.id, "·".join(here)
            yield from _groups(node.children, here)


def _check_placeholders(raw: dict[str, Any], bindings: list[dict[str, tuple[str, str]]], p: _Problems) -> None:
    names = set(bindings[0]) if bindings else set()
    allowed = {"lhs", "rhs", "diff"} | {f"{n}_label" for n in names} | names
    for key in ("description", "message"):
        for _, fieldname, _, _ in string.Formatter().parse(raw.get(key, "")):
            if fieldname is not None and fieldname not in allowed:
                p.add(f"规则 {raw.get('id')} 的 {key} 中有未知占位符：{{{fieldname}}}", raw.get("id"))


def _expand(raw: dict[str, Any], bindings: list[dict[str, tuple[str, str]]], tables: dict[str, Table],
            p: _Problems) -> Iterable[RuleInstance]:
    rid = raw["id"]
    for binding in bindings:
        expr = raw["expr"]
        for name, (value, _) in binding.items():
            expr = expr.replace("{" + name + "}", value)
        labels = {f"{n}_label": label for n, (_, label) in binding.items()}
        labels.update({n: value for n, (value, _) in binding.items()})
        key = f"{rid}[{','.join(v for v, _ in binding.values())}]" if binding else rid
        try:
            compare = parse(expr, tables)
        except RuleSyntaxError as err:
            p.add(f"规则 {rid}：{err}", rid)
            return
        derive = bool(raw.get("derive"))
        if derive and not (isinstance(compare.left, Ref) and not compare.left.previous and compare.op == "=="):
            p.add(f"规则 {rid} 设置了 derive，左边必须是本年的单个单元格且用 ==", rid)
            return
        description = raw.get("description", "").format(**labels) if labels else raw.get("description", "")
        yield RuleInstance(rid, key, raw["severity"], expr, compare, description, raw.get("message", ""),
                           derive, labels)


def _derived(rules: tuple[RuleInstance, ...], p: _Problems) -> dict[str, RuleInstance]:
    """Derived cells in an order where each one's inputs come before it (first rule wins)."""
    chosen: dict[str, RuleInstance] = {}
    for rule in rules:
        if rule.derive:
            target = rule.compare.left
            assert isinstance(target, Ref)
            chosen.setdefault(target.cell, rule)
    ordered: dict[str, RuleInstance] = {}
    visiting: set[str] = set()

    def visit(cell: str) -> None:
        if cell in ordered or cell not in chosen:
            return
        if cell in visiting:
            p.add(f"派生单元格循环引用：{cell}", chosen[cell].rule_id)
            return
        visiting.add(cell)
        for ref in _refs_right(chosen[cell]):
            visit(ref)
        visiting.discard(cell)
        ordered[cell] = chosen[cell]

    for cell in chosen:
        visit(cell)
    return ordered


def _refs_right(rule: RuleInstance) -> list[str]:
    return [r.cell for r in refs_of(rule.compare.right) if not r.previous]


__all__ = [
    "available_formats",
    "defined_name",
    "format_for_year",
    "load_format",
    "load_path",
    "resolve_format",
    "templates_dir",
]

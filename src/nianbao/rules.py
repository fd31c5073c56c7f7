"""The rule language: comparisons over cell ids, evaluated in Python and rendered to Excel.

A rule such as ``t3.new.{col} + t3.carried_over.{col} == t3.total.{col} + t3.carry_forward.{col}``
is parsed with Python's ``ast`` (only names, numbers, + and -, ``sum(...)`` and one comparison
are allowed), its ranges are resolved against the format's tables, and the resulting tree is
either evaluated on a Submission's numbers or rendered to an Excel formula over defined names.
Both renderings round the difference to 4 decimals, so they agree on amounts in 万元.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, Overflow, localcontext
from typing import TYPE_CHECKING

from nianbao.expr import BinOp, Compare, Expr, Neg, Num, Ref, Sum, refs_of

if TYPE_CHECKING:
    from nianbao.format.model import Format, RuleInstance, Table

PRECISION = 4
_QUANTUM = Decimal(1).scaleb(-PRECISION)
PASS_TEXT = "通过"
FAIL_TEXT = "不通过"


class RuleSyntaxError(ValueError):
    """An expression that is not part of the rule language; the message is Chinese."""


_COMPARE_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_EXCEL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PY_OPS: dict[str, Callable[[Decimal], bool]] = {
    "==": lambda d: d == 0,
    "!=": lambda d: d != 0,
    "<": lambda d: d < 0,
    "<=": lambda d: d <= 0,
    ">": lambda d: d > 0,
    ">=": lambda d: d >= 0,
}


# ------------------------------------------------------------------------------- parsing


def parse(text: str, tables: Mapping[str, Table]) -> Compare:
    """Parse one rule expression; raise RuleSyntaxError naming what is wrong."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise RuleSyntaxError(f"表达式无法解析：{text}（{err.msg}）") from None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1):
        raise RuleSyntaxError(f"规则必须是一个比较（==、<=、>= 等）：{text}")
    op = _COMPARE_OPS.get(type(tree.ops[0]))
    if op is None:
        raise RuleSyntaxError(f"不支持的比较运算：{text}")
    resolver = _Resolver(tables, text)
    return Compare(op, resolver.expr(tree.left), resolver.expr(tree.comparators[0]))


class _Resolver:
    def __init__(self, tables: Mapping[str, Table], text: str) -> None:
        self.tables = tables
        self.text = text

    def fail(self, what: str) -> RuleSyntaxError:
        return RuleSyntaxError(f"{what}（规则：{self.text}）")

    def expr(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Num(Decimal(str(node.value)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Neg(self.expr(node.operand))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            op = "+" if isinstance(node.op, ast.Add) else "-"
            return BinOp(op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == "sum") or node.keywords:
                raise self.fail("只允许使用 sum(...) 函数")
            items: list[Expr] = []
            for arg in node.args:
                items.extend(self.range(arg) if _is_range(arg) else [self.expr(arg)])
            if not items:
                raise self.fail("sum() 至少需要一个单元格")
            return Sum(tuple(items))
        if isinstance(node, (ast.Attribute, ast.Name)):
            return self.cell(_dotted(node, self))
        if isinstance(node, ast.Subscript):
            raise self.fail("区间（a:b）只能写在 sum(...) 里")
        raise self.fail(f"不允许的写法：{ast.unparse(node)}")

    def cell(self, parts: list[str]) -> Ref:
        previous = parts[0] == "prev"
        if previous:
            parts = parts[1:]
        cell_id = ".".join(parts)
        if len(parts) != 3 or not self._has_cell(*parts):
            raise self.fail(f"未知的单元格编号：{cell_id}")
        return Ref(cell_id, previous)

    def _has_cell(self, table: str, row: str, col: str) -> bool:
        block = self._block_of_row(table, row)
        return block is not None and any(c.id == col for c in block.columns)

    def _block_of_row(self, table_id: str, row_id: str):
        table = self.tables.get(table_id)
        if table is None:
            return None
        return next((b for b in table.blocks if any(r.id == row_id for r in b.rows)), None)

    def range(self, node: ast.expr) -> list[Expr]:
        """``t.row[a:b]`` (columns a..b of a row) or ``t[a:b].col`` (rows a..b of a column)."""
        previous = False
        if isinstance(node, ast.Subscript):  # t.row[a:b]
            head = _dotted(node.value, self)
            if head and head[0] == "prev":
                previous, head = True, head[1:]
            if len(head) != 2:
                raise self.fail("列区间应写成 表.行[起始列:结束列]")
            table, row = head
            lo, hi = _slice_names(node.slice, self)
            block = self._block_of_row(table, row)
            if block is None:
                raise self.fail(f"未知的行：{table}.{row}")
            ids = _span([c.id for c in block.columns], lo, hi, self)
            return [Ref(f"{table}.{row}.{c}", previous) for c in ids]
        assert isinstance(node, ast.Attribute) and isinstance(node.value, ast.Subscript)
        sub = node.value
        head = _dotted(sub.value, self)
        if head and head[0] == "prev":
            previous, head = True, head[1:]
        if len(head) != 1 or head[0] not in self.tables:
            raise self.fail("行区间应写成 表[起始行:结束行].列")
        table = self.tables[head[0]]
        lo, hi = _slice_names(sub.slice, self)
        ids = _span([r.id for r in table.rows], lo, hi, self)
        refs = [self.cell([head[0], r, node.attr]) for r in ids]
        return [Ref(r.cell, previous) for r in refs]


def _is_range(node: ast.expr) -> bool:
    return isinstance(node, ast.Subscript) or (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Subscript)
    )


def _dotted(node: ast.expr, resolver: _Resolver) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise resolver.fail(f"不允许的写法：{ast.unparse(node)}")
    parts.append(node.id)
    return parts[::-1]


def _slice_names(node: ast.expr, resolver: _Resolver) -> tuple[str, str]:
    if (
        isinstance(node, ast.Slice)
        and isinstance(node.lower, ast.Name)
        and isinstance(node.upper, ast.Name)
        and node.step is None
    ):
        return node.lower.id, node.upper.id
    raise resolver.fail("区间应写成 [起始:结束]")


def _span(ids: list[str], lo: str, hi: str, resolver: _Resolver) -> list[str]:
    if lo not in ids or hi not in ids:
        missing = lo if lo not in ids else hi
        raise resolver.fail(f"区间端点不存在：{missing}")
    i, j = ids.index(lo), ids.index(hi)
    if i > j:
        raise resolver.fail(f"区间起点 {lo} 在终点 {hi} 之后")
    return ids[i : j + 1]


# ----------------------------------------------------------------------------- evaluation

Values = Mapping[str, "Decimal | None"]


def evaluate(node: Expr, values: Values) -> Decimal:
    """Value of an expression; blank cells count as 0 (blankness is reported elsewhere).

    ``values`` is keyed by cell id, and by ``prev.<cell id>`` for last year's numbers. Each
    expression is turned into a Python function once (a format's rules are evaluated for
    every file checked) that does the same Decimal operations in the same order as
    :func:`interpret`.
    """
    found = _COMPILED.get(id(node))
    if found is None or found[0] is not node:
        found = _COMPILED[id(node)] = (node, _compile(node))
    return found[1](values)


_COMPILED: dict[int, tuple[Expr, Callable[[Values], Decimal]]] = {}
_ZERO = Decimal(0)


def _compile(node: Expr) -> Callable[[Values], Decimal]:
    if isinstance(node, Ref):
        key = node.key

        def ref(values: Values) -> Decimal:
            value = values.get(key)
            return _ZERO if value is None else value
        return ref
    if isinstance(node, Num):
        number = node.value
        return lambda values: number
    if isinstance(node, Neg):
        operand = _compile(node.operand)
        return lambda values: -operand(values)
    if isinstance(node, BinOp):
        left, right = _compile(node.left), _compile(node.right)
        if node.op == "+":
            return lambda values: left(values) + right(values)
        return lambda values: left(values) - right(values)
    items = [_compile(item) for item in node.items]

    def total(values: Values) -> Decimal:
        result = Decimal(0)
        for item in items:
            result = result + item(values)
        return result
    return total


def interpret(node: Expr, values: Values) -> Decimal:
    """:func:`evaluate` by walking the expression (the definition the compiled form follows)."""
    if isinstance(node, Ref):
        value = values.get(node.key)
        return Decimal(0) if value is None else value
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        return -interpret(node.operand, values)
    if isinstance(node, BinOp):
        left, right = interpret(node.left, values), interpret(node.right, values)
        return left + right if node.op == "+" else left - right
    return sum((interpret(item, values) for item in node.items), Decimal(0))


@dataclass(frozen=True)
class Outcome:
    """The result of one rule instance on one set of numbers."""

    rule: RuleInstance
    ok: bool
    lhs: Decimal
    rhs: Decimal
    diff: Decimal

    @property
    def text(self) -> str:
        return PASS_TEXT if self.ok else FAIL_TEXT

    def message(self) -> str:
        return self.rule.message.format(
            lhs=fmt(self.lhs), rhs=fmt(self.rhs), diff=fmt(abs(self.diff)), **self.rule.labels
        )


def check(rule: RuleInstance, values: Values) -> Outcome:
    """The rule on ``values``; total over any Decimal (NaN, infinities, any size): a difference
    that is not a finite number fails the rule instead of raising."""
    with localcontext() as ctx:
        ctx.traps[InvalidOperation] = ctx.traps[Overflow] = False  # Inf-Inf is NaN, not an exception
        lhs = evaluate(rule.compare.left, values)
        rhs = evaluate(rule.compare.right, values)
        diff = round_excel(lhs - rhs)
        ok = diff.is_finite() and _PY_OPS[rule.compare.op](diff)
    return Outcome(rule, ok, lhs, rhs, diff)


# Rounding a number this large to 4 decimals cannot change whether it is zero or its sign.
_ROUND_LIMIT = 100


def round_excel(value: Decimal) -> Decimal:
    """Excel's ROUND(x, 4): half away from zero; any Decimal in, never an exception."""
    if not value.is_finite() or value.adjusted() > _ROUND_LIMIT:
        return value
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, value.adjusted() + PRECISION + 2)  # room for every digit kept
        return value.quantize(_QUANTUM, rounding=ROUND_HALF_UP)


# Beyond this many digits a number is shown in scientific notation (such numbers are findings).
_FMT_DIGITS = 28


def fmt(value: Decimal) -> str:
    """A number as a person writes it: 12, 75.926, -3; any Decimal in, a short text out."""
    if not value.is_finite():
        return "无效数字"
    if value.is_zero():
        return "0"
    if abs(value.adjusted()) >= _FMT_DIGITS:
        return format(value, ".6E")
    with localcontext() as ctx:
        ctx.prec = _FMT_DIGITS
        return format(value.normalize(), "f")


# -------------------------------------------------------------------------- Excel rendering

NameOf = Callable[[Ref], str]


def to_excel(node: Expr, name_of: NameOf) -> str:
    """Render an expression as an Excel formula body (no leading '=')."""
    if isinstance(node, Ref):
        return name_of(node)
    if isinstance(node, Num):
        return fmt(node.value)
    if isinstance(node, Neg):
        return f"-({to_excel(node.operand, name_of)})"
    if isinstance(node, BinOp):
        right = to_excel(node.right, name_of)
        if node.op == "-" and isinstance(node.right, BinOp):
            right = f"({right})"
        return f"{to_excel(node.left, name_of)}{node.op}{right}"
    return "SUM(" + ",".join(to_excel(item, name_of) for item in node.items) + ")"


def excel_difference(compare: Compare, name_of: NameOf) -> str:
    """ROUND(left-right, 4): the difference both renderings compare with zero."""
    left = to_excel(compare.left, name_of)
    right = to_excel(compare.right, name_of)
    return f"ROUND(({left})-({right}),{PRECISION})"


def excel_condition(compare: Compare, name_of: NameOf) -> str:
    return f"{excel_difference(compare, name_of)}{_EXCEL_OPS[compare.op]}0"


def excel_result(compare: Compare, name_of: NameOf) -> str:
    """The check cell's formula: 通过 or 不通过."""
    return f'IF({excel_condition(compare, name_of)},"{PASS_TEXT}","{FAIL_TEXT}")'


def active_rules(fmt: Format, has_previous: bool) -> list[RuleInstance]:
    """The rules that apply: cross-year rules only when last year's data is known."""
    return [r for r in fmt.rules if has_previous or not r.uses_previous]


def compute_derived(fmt: Format, values: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
    """Values with every derived cell computed as its formula would (in dependency order)."""
    out = dict(values)
    for cell, rule in fmt.derived.items():
        out[cell] = evaluate(rule.compare.right, out)
    return out

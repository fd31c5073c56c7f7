"""The rule language's expression tree: cell references, numbers, +, -, sum() and one comparison.

Plain data, importing nothing of nianbao: the format model holds these trees and the rules module
(parsing, evaluation, Excel rendering) builds and reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Union


@dataclass(frozen=True)
class Ref:
    cell: str
    previous: bool = False

    @property
    def key(self) -> str:
        return f"prev.{self.cell}" if self.previous else self.cell


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class BinOp:
    op: str  # "+" or "-"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Sum:
    items: tuple[Expr, ...]


Expr = Union[Ref, Num, Neg, BinOp, Sum]

@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr

    def refs(self) -> Iterator[Ref]:
        yield from refs_of(self.left)
        yield from refs_of(self.right)


def refs_of(node: Expr) -> Iterator[Ref]:
    if isinstance(node, Ref):
        yield node
    elif isinstance(node, Neg):
        yield from refs_of(node.operand)
    elif isinstance(node, BinOp):
        yield from refs_of(node.left)
        yield from refs_of(node.right)
    elif isinstance(node, Sum):
        for item in node.items:
            yield from refs_of(item)

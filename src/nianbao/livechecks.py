"""The checks a spreadsheet can compute while the clerk types: one model, rendered twice.

Every input of the format gets a *sheet state*, computed by Excel/WPS/LibreOffice with a formula
on the 检查 sheet and by Python (the template's cached values, and ``nianbao check`` when it
decides which of its findings the workbook showed live):

* ``BLANK``  – nothing typed (or only spaces);
* ``TEXT``   – text in a number cell ("无", "/", "６", "12" typed into a Text cell): the sheet's
  SUM ignores it, so the totals and rules around it cannot be trusted;
* ``WRONG``  – a number of the wrong kind (negative, a fraction in a count, more than 4 decimals
  in 万元);
* ``OK``.

A rule is only evaluated once every input it reads (through the totals) is a number; until then
it shows ``PENDING_TEXT``, never a difference computed from blanks.

Spreadsheet functions used, all present in Excel 2007+, WPS and LibreOffice (tests run the
LibreOffice side): IF, AND, OR, ISNUMBER, ISERROR, LEN, TRIM, INT, ROUND, COUNT, COUNTIF, SUMIF,
SUM, MAX. See docs/live-checks.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from nianbao.format.model import Cell, Format, RuleInstance
from nianbao.numbers import check_kind, parse_number
from nianbao.rules import FAIL_TEXT, PASS_TEXT, PRECISION, Ref, check, excel_condition, excel_difference

#: Every function the template's formulas may use: present in Excel 2007+, WPS and LibreOffice.
COMMON_FUNCTIONS = frozenset({"IF", "AND", "OR", "ISNUMBER", "ISERROR", "LEN", "TRIM", "INT", "ROUND", "ABS",
                              "COUNT", "COUNTIF", "SUMIF", "SUM", "MAX"})

# Ordered so that "pending" (blank or text) is every state from BLANK up.
OK, WRONG, BLANK, TEXT = 0, 1, 2, 3
#: The 检查 sheet's hidden state columns start here (0-based column, row).
STATE_COL, STATE_ROW = 12, 3
PENDING_TEXT = "待填写"

NameOf = Callable[[Ref], str]


# ----------------------------------------------------------------------------- one cell


def sheet_state(raw: object, kind: str) -> int:
    """What the spreadsheet sees in an input cell holding ``raw`` (the value as stored)."""
    if raw is None or (isinstance(raw, str) and not raw.strip(" ")):
        return BLANK
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
        return TEXT
    value = parse_number(raw).value
    # NaN/INF stored as a number: the sheet's formulas see an error, never a valid count.
    return WRONG if value is None or check_kind(value, kind) else OK


def state_formula(name: str, kind: str) -> str:
    """The Excel formula of :func:`sheet_state` for the input cell named ``name``."""
    x = name
    wrong = {"count": f"OR({x}<0,{x}<>INT({x}))",
             "signed_count": f"{x}<>INT({x})",
             "amount": f"OR({x}<0,ROUND({x},{PRECISION})<>{x})"}[kind]
    return (f"=IF(ISNUMBER({x}),IF({wrong},{WRONG},{OK}),"
            f"IF(ISERROR({x}),{TEXT},IF(LEN(TRIM({x}))=0,{BLANK},{TEXT})))")


def wrong_format_formula(a1: str, kind: str) -> str:
    """Conditional-format formula turning an input cell red while it holds text or a wrong number."""
    wrong = {"count": f"OR({a1}<0,{a1}<>INT({a1}))",
             "signed_count": f"{a1}<>INT({a1})",
             "amount": f"OR({a1}<0,ROUND({a1},{PRECISION})<>{a1})"}[kind]
    return f"=IF(ISNUMBER({a1}),{wrong},LEN(TRIM({a1}))>0)"


def text_state(text: object) -> int:
    """A narrative part or unit field: BLANK when nothing but spaces was written."""
    return BLANK if text is None or not str(text).strip(" ") else OK


def text_state_formula(name: str) -> str:
    return f"=IF(LEN(TRIM({name}))=0,{BLANK},{OK})"


# ----------------------------------------------------------------------------- rules


def rule_inputs(fmt: Format, rule: RuleInstance) -> tuple[str, ...]:
    """The input cells a rule reads, directly or through the formulas of totals (worked out once
    per format: ``Format.rule_inputs``)."""
    return fmt.rule_inputs[rule.key]


@dataclass(frozen=True)
class RuleState:
    text: str  # 通过 / 不通过 / 待填写
    diff: Decimal | None  # None while pending

    @property
    def failed(self) -> bool:
        return self.text == FAIL_TEXT


def rule_state(fmt: Format, rule: RuleInstance, states: Mapping[str, int],
               values: Mapping[str, Decimal | None]) -> RuleState:
    """The check cell's value: pending while an input is blank or text, else the rule's result."""
    if any(states.get(c, BLANK) in (BLANK, TEXT) for c in rule_inputs(fmt, rule)):
        return RuleState(PENDING_TEXT, None)
    outcome = check(rule, values)
    return RuleState(outcome.text, outcome.diff if outcome.ok is False or rule.compare.op == "==" else None)


def state_cells(fmt: Format) -> dict[str, tuple[int, int]]:
    """Where the 检查 sheet keeps each input's state: one hidden column per table, one row per
    input in definition order (0-based row, column). A pure function of the format, so the
    reader can rebuild the check formulas it expects."""
    places: dict[str, tuple[int, int]] = {}
    for col, table in enumerate(fmt.tables.values(), start=STATE_COL):
        for row, cell in enumerate(inputs_of_table(fmt, table.id), start=STATE_ROW):
            places[cell.id] = (row, col)
    return places


def _pending(fmt: Format, rule: RuleInstance) -> str:
    """True while any input the rule reads is blank or text: the largest of their states."""
    places = state_cells(fmt)
    refs = ",".join(_a1(*places[c]) for c in rule_inputs(fmt, rule))
    return f"MAX({refs})>={BLANK}"


def result_formula(fmt: Format, rule: RuleInstance, name_of: NameOf) -> str:
    return (f'=IF({_pending(fmt, rule)},"{PENDING_TEXT}",'
            f'IF({excel_condition(rule.compare, name_of)},"{PASS_TEXT}","{FAIL_TEXT}"))')


def difference_formula(result_a1: str, rule: RuleInstance, name_of: NameOf) -> str:
    """The difference, left blank while the rule is pending (its result cell says so); for a
    bound (<=, >=) only while it fails, as the distance to a limit means nothing to a clerk."""
    shown = f'{result_a1}="{PENDING_TEXT}"' if rule.compare.op == "==" else f'{result_a1}<>"{FAIL_TEXT}"'
    return f'=IF({shown},"",{excel_difference(rule.compare, name_of)})'


def _a1(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"${letters}${row + 1}"


# ----------------------------------------------------------------------------- what is left


def inputs_of_table(fmt: Format, table_id: str) -> list[Cell]:
    return [c for c in fmt.input_cells if c.table == table_id]


def blank_errors(blanks: int, inputs: int) -> int:
    """How many errors ``nianbao check`` reports for a table's blanks: one for a wholly blank table."""
    return 1 if blanks == inputs and inputs > 1 else blanks


def blank_errors_formula(count: str, inputs: int) -> str:
    return f"IF({count}={inputs},1,{count})" if inputs > 1 else count


__all__ = ["BLANK", "COMMON_FUNCTIONS", "STATE_COL", "STATE_ROW", "state_cells", "OK", "PENDING_TEXT", "TEXT", "WRONG", "RuleState", "blank_errors", "blank_errors_formula",
           "difference_formula", "inputs_of_table", "result_formula", "rule_inputs", "rule_state", "sheet_state",
           "state_formula", "text_state", "text_state_formula", "wrong_format_formula"]

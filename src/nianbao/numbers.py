"""The one normalising function for every number read from a workbook or a published report.

Design decision 6 and pitfalls §5: staff type full-width digits, thousands separators, stray
spaces, units ("12件") and placeholders ("/", "—", "无") into number cells, or type numbers into
Text-formatted cells.  :func:`parse_number` turns whatever a cell (or a report table) holds into
an exact :class:`~decimal.Decimal`, tells whether the cell was blank, and never coerces silently:

* ``blank``: ``None``, ``""`` or whitespace only.  What blank *means* (missing, 0, not
  applicable) is the caller's decision per field; this module does not guess.
* ``corrected``: a string had to be changed to be read (full-width characters, spaces,
  thousands separators, or simply a number stored as text).  The caller reports a warning that
  names the cell and shows ``original``; :meth:`ParsedNumber.describe_correction` phrases it.
* ``error``: the text is not a number; ``error`` is a precise Chinese sentence quoting the
  text and saying what to type instead.  ``value`` is then ``None``.

:func:`check_kind` then checks a parsed value against the kind of field ("count",
"signed_count", "amount").
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "AMOUNT_MAX_DECIMALS",
    "FIX_FULL_WIDTH",
    "FIX_SEPARATORS",
    "FIX_SPACES",
    "FIX_TEXT",
    "KINDS",
    "MAX_COUNT",
    "MAX_DIGITS",
    "MAX_MAGNITUDE",
    "ParsedNumber",
    "check_kind",
    "format_decimal",
    "parse_number",
]

#: Correction notes, in the order they are applied; stable so callers may filter on them
#: (an importer of published reports, where every number is text, may ignore ``FIX_TEXT``).
FIX_SPACES = "已去掉多余的空格"
FIX_FULL_WIDTH = "全角字符已按半角读取"
FIX_SEPARATORS = "已去掉千位分隔符"
FIX_TEXT = "数字是以文本形式填写的"

#: Kinds understood by :func:`check_kind`.
KINDS = ("count", "signed_count", "amount")
#: At most this many decimal places for kind "amount".
AMOUNT_MAX_DECIMALS = 4

#: Excel keeps 15 significant digits: a number needing more is not one a person typed.
MAX_DIGITS = 15
MAX_MAGNITUDE = Decimal(10) ** MAX_DIGITS
#: Larger than any figure of a real annual report (件数、人次、万元).
MAX_COUNT = Decimal(10) ** 9

# Longest original text quoted in a message; a cell may hold 32,767 characters.
_QUOTE_MAX = 20

# Characters that are invisible in Excel/WPS but come along with copy-and-paste.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGE_SPACE = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
_ANY_SPACE = re.compile(rf"[\s{_INVISIBLE}]")

# After NFKC: "－" U+FF0D and "﹣" U+FE63 become "-", but the minus sign U+2212 stays.
_MINUS_SIGN = "\u2212"

# ASCII digits only: ``\d`` and ``Decimal()`` both accept Arabic-Indic and other digits.
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
_HAS_DIGIT = re.compile(r"[0-9]")

# Text people put in a cell to say "none happened": dashes, slashes, crosses, dots, words.
_PLACEHOLDER_CHARS = frozenset("-\u2212\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2e3a\u2e3b"
                               "/\\|xX\u00d7*._~\u2026\u00b7\u3002\u3001\u2573\u25cb\u3007")
_PLACEHOLDER_WORDS = frozenset({
    "无", "没有", "暂无", "空", "空白", "无数据", "不适用", "不涉及", "未发生", "未涉及",
    "n/a", "na", "null", "none", "nil",
})
_CHINESE_NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟负点")


@dataclass(frozen=True)
class ParsedNumber:
    """What :func:`parse_number` made of one raw value.

    ``value`` is ``None`` exactly when ``blank`` or ``error``.  ``original`` is the raw value as
    text (the string itself; ``repr`` of a float; ``TRUE``/``FALSE`` for a bool) or ``None``
    for ``None``.  ``corrections`` lists the ``FIX_*`` notes behind ``corrected``.
    Values compare numerically (``Decimal("75.9260") == Decimal("75.926")``); the digits typed
    are kept.
    """

    value: Decimal | None
    blank: bool
    corrected: bool
    original: str | None
    error: str | None
    corrections: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when a number was read (not blank, no error)."""
        return self.value is not None

    def describe_correction(self) -> str | None:
        """Chinese warning text for a corrected value, without the cell name; else ``None``.

        e.g. ``“１，２３４”已按 1234 读取（全角字符已按半角读取；已去掉千位分隔符；…）``.
        """
        if not self.corrected or self.value is None:
            return None
        return (f"“{_quote(self.original or '')}”已按 {_show(self.value)} 读取"
                f"（{'；'.join(self.corrections)}）")


def format_decimal(value: Decimal) -> str:
    """Plain positional text of a Decimal (no exponent), as a user would write it."""
    return format(value, "f")


def parse_number(raw: object) -> ParsedNumber:
    """Normalise one raw cell value (or table text from a published report) to a Decimal.

    Accepts ``None``, ``str``, ``int``, ``float`` and ``Decimal``; anything else (``bool``,
    dates, ...) is an error with a Chinese explanation.  Never raises for any input.
    """
    if raw is None:
        return _blank(None)
    if isinstance(raw, bool):  # before int: bool is an int subclass
        text = "TRUE" if raw else "FALSE"
        return _error(text, f"“{text}”是逻辑值（是/否），不是数字：请填写阿拉伯数字")
    if isinstance(raw, int):
        small = type(raw) is int and -10**15 < raw < 10**15  # a cell's count, not a hostile giant
        return _parse_int(raw) if small else _parse_int.__wrapped__(raw)
    if isinstance(raw, float):
        return _from_float(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            return _error(str(raw), f"“{raw}”不是有效的数字：请填写阿拉伯数字")
        return ParsedNumber(_no_negative_zero(raw), False, False, str(raw), None)
    if isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
        text = raw.isoformat() if not isinstance(raw, _dt.timedelta) else str(raw)
        return _error(text, f"“{_quote(text)}”是日期或时间，不是数字：单元格格式可能被改成了"
                            "日期，请把格式改为“常规”后重新填写数字")
    if isinstance(raw, str):
        return _from_text(raw)
    try:
        text = str(raw)
    except Exception:  # a hostile __str__ must not escape
        text = type(raw).__name__
    return _error(text, f"“{_quote(text)}”不是数字：请只填写阿拉伯数字（如 12 或 3.5）")


def check_kind(value: Decimal, kind: str) -> str | None:
    """Chinese problem text when ``value`` does not fit ``kind``; ``None`` when it does.

    * ``count``: a non-negative integer (件数、人次);
    * ``signed_count``: an integer that may be negative (增减数);
    * ``amount``: non-negative, at most :data:`AMOUNT_MAX_DECIMALS` decimal places (金额).

    Trailing zeros do not count as decimals (``3.50000`` is fine for an amount).
    Raises ``ValueError`` for an unknown kind (a bug in the format definition, not user input).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r}; expected one of {KINDS}")
    if type(value) is Decimal and value.as_tuple().exponent == 0:  # a whole number as typed:
        return _whole_kind(value, kind)  # equal ones are written alike, so one answer serves all
    return _check_kind(value, kind)


# The hundreds of small counts of every file checked are worked out once per process.
@lru_cache(maxsize=8192)
def _parse_int(raw: int) -> ParsedNumber:
    value = Decimal(raw)  # str(raw) would refuse more than 4,300 digits
    return ParsedNumber(value, False, False, format_decimal(value), None)


@lru_cache(maxsize=8192)
def _whole_kind(value: Decimal, kind: str) -> str | None:
    return _check_kind(value, kind)


def _check_kind(value: Decimal, kind: str) -> str | None:
    if not isinstance(value, Decimal):
        try:
            value = Decimal(value)  # ints from callers; floats are not expected here
        except (TypeError, ValueError, ArithmeticError):  # None, text: not a number at all
            return "不是有效的数字"
    if not value.is_finite():
        return "不是有效的数字"
    if not _fits(value):
        return _TOO_MANY_DIGITS
    if abs(value) > MAX_COUNT:
        return f"数字过大（{_show(value)}），超过 10 亿，不像是年报中的数字，请核对后重新填写"
    decimals = _decimal_places(value)
    if kind == "count":
        if decimals:
            return f"应为整数，不能有小数（填的是 {_show(value)}）"
        if value < 0:
            return f"不能为负数（填的是 {_show(value)}）"
        return None
    if kind == "signed_count":
        if decimals:
            return f"应为整数，不能有小数（填的是 {_show(value)}）"
        return None
    # amount
    if value < 0:
        return f"金额不能为负数（填的是 {_show(value)}）"
    if decimals > AMOUNT_MAX_DECIMALS:
        return (f"小数位数过多：最多保留 {AMOUNT_MAX_DECIMALS} 位小数"
                f"（填的是 {_show(value)}）")
    return None


# --------------------------------------------------------------------------- internals


def _blank(original: str | None) -> ParsedNumber:
    return ParsedNumber(None, True, False, original, None)


def _error(original: str, message: str) -> ParsedNumber:
    return ParsedNumber(None, False, False, original, message)


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "…"


def _no_negative_zero(value: Decimal) -> Decimal:
    return -value if value.is_zero() and value.is_signed() else value


def _decimal_places(value: Decimal) -> int:
    if value.is_zero():
        return 0
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return max(0, -exponent)


_TOO_MANY_DIGITS = (f"数字过大或位数过多（超过 {MAX_DIGITS} 位有效数字，Excel 也无法准确保存），"
                    "不像是年报中的数字，请核对后重新填写")


def _show(value: Decimal) -> str:
    """A number for a message: as typed, or in scientific notation when that would be long."""
    text = format_decimal(value)
    return text if len(text) <= 2 * MAX_DIGITS else format(value, ".6E")


def _fits(value: Decimal) -> bool:
    """True for a finite number Excel can hold exactly (at most 15 significant digits)."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    digits = value.as_tuple().digits
    significant = len(bytes(digits).rstrip(b"\0"))  # trailing zeros are not significant
    return value.adjusted() < MAX_DIGITS and significant <= MAX_DIGITS


def _from_float(raw: float) -> ParsedNumber:
    text = repr(raw)
    if not math.isfinite(raw):
        return _error(text, f"“{text}”不是有效的数字：请填写阿拉伯数字")
    # repr() gives the shortest text that round-trips, i.e. what the user typed: 75.926, not
    # 75.9259999999999948840923025272786617279052734375.
    value = Decimal(text)
    if value == value.to_integral_value():
        value = Decimal(format(value.to_integral_value(), "f"))  # 3.0 -> 3, 1e+20 -> 10...0
    return ParsedNumber(_no_negative_zero(value), False, False, text, None)


def _from_text(raw: str) -> ParsedNumber:
    corrections: list[str] = []

    text = _EDGE_SPACE.sub("", raw)
    if not text:
        return _blank(raw)
    if text != raw:
        corrections.append(FIX_SPACES)

    normal = unicodedata.normalize("NFKC", text).replace(_MINUS_SIGN, "-")
    if normal != text:
        corrections.append(FIX_FULL_WIDTH)

    problem = _diagnose(normal)
    if problem is not None:
        return _error(raw, f"“{_quote(raw)}”不是数字：{problem}")
    odd = _unexpected_compatibility_char(text)
    if odd is not None:  # NFKC made a number of it, but not by mere full-width folding
        return _error(raw, f"“{_quote(raw)}”不是数字：含有特殊字符“{odd}”，"
                           "请只填写普通的阿拉伯数字")

    if "," in normal:
        normal = normal.replace(",", "")
        corrections.append(FIX_SEPARATORS)
    corrections.append(FIX_TEXT)
    try:
        value = Decimal(normal)
    except InvalidOperation:  # pragma: no cover - _diagnose admits only valid literals
        return _error(raw, f"“{_quote(raw)}”不是数字：请只填写阿拉伯数字（如 12 或 3.5）")
    return ParsedNumber(_no_negative_zero(value), False, True, raw, None, tuple(corrections))


def _diagnose(s: str) -> str | None:
    """``None`` when ``s`` (NFKC, edges stripped) is a number literal; else what is wrong."""
    if _PLAIN.fullmatch(s) or _GROUPED.fullmatch(s):
        return None
    squeezed = _ANY_SPACE.sub("", s)
    if squeezed.lower() in _PLACEHOLDER_WORDS or all(c in _PLACEHOLDER_CHARS for c in squeezed):
        return "没有发生的请填 0"
    if _HAS_DIGIT.search(s):
        if _SCIENTIFIC.fullmatch(s):
            return "请不要用科学计数法（如 1E5），填写完整的数字"
        if "%" in s or "\u2030" in s:
            return "请不要带百分号，只填写数字"
        if any(unicodedata.category(c).startswith("L") for c in s):
            return "请只填写阿拉伯数字，不要带单位或文字"
        if _ANY_SPACE.search(s):
            return "数字中间有空格或不可见字符，请删除后重新填写"
        if "\u3002" in s:
            return "小数点请用“.”"
        if "," in s and all(c in "0123456789,.+-" for c in s):
            return "逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"
        return "请只填写阿拉伯数字（如 12 或 3.5）"
    if all(c in _CHINESE_NUMERALS for c in squeezed):
        return "请改用阿拉伯数字填写（如 12）"
    return "请只填写阿拉伯数字（如 12 或 3.5）"


def _unexpected_compatibility_char(text: str) -> str | None:
    """First character that NFKC would change but that is not a full-width form or a space.

    NFKC also folds superscripts and circled numbers ("10⁵" → "105", "①" → "1"); reading
    those as digits would silently change the number, so they are errors instead.
    """
    for c in text:
        if c.isspace() or c in _INVISIBLE or "\uff01" <= c <= "\uff5e" or "\ufe50" <= c <= "\ufe6b":
            continue
        if unicodedata.normalize("NFKC", c) != c:
            return c
    return None

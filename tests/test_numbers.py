"""Tests for nianbao.numbers: the one normalising function for numbers read from workbooks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nianbao.numbers import (
    FIX_FULL_WIDTH,
    FIX_SEPARATORS,
    FIX_SPACES,
    FIX_TEXT,
    ParsedNumber,
    check_kind,
    parse_number,
)

FULL_WIDTH = str.maketrans("0123456789,.-+", "０１２３４５６７８９，．－＋")


# --------------------------------------------------------------------------- accepted text

ACCEPTED = [
    # raw, value, corrections
    ("123", "123", (FIX_TEXT,)),
    ("１２３", "123", (FIX_FULL_WIDTH, FIX_TEXT)),
    (" 1,234 ", "1234", (FIX_SPACES, FIX_SEPARATORS, FIX_TEXT)),
    ("1,234", "1234", (FIX_SEPARATORS, FIX_TEXT)),
    ("12,345,678", "12345678", (FIX_SEPARATORS, FIX_TEXT)),
    ("1,234.56", "1234.56", (FIX_SEPARATORS, FIX_TEXT)),
    ("１，２３４", "1234", (FIX_FULL_WIDTH, FIX_SEPARATORS, FIX_TEXT)),
    ("１，２３４．５", "1234.5", (FIX_FULL_WIDTH, FIX_SEPARATORS, FIX_TEXT)),
    ("－５", "-5", (FIX_FULL_WIDTH, FIX_TEXT)),
    ("-5", "-5", (FIX_TEXT,)),
    ("\u22125", "-5", (FIX_FULL_WIDTH, FIX_TEXT)),  # U+2212 MINUS SIGN
    ("+7", "7", (FIX_TEXT,)),
    ("＋７", "7", (FIX_FULL_WIDTH, FIX_TEXT)),
    ("75.9260", "75.9260", (FIX_TEXT,)),
    ("0.5", "0.5", (FIX_TEXT,)),
    (".5", "0.5", (FIX_TEXT,)),
    ("5.", "5", (FIX_TEXT,)),
    ("007", "7", (FIX_TEXT,)),
    ("\u00a0１２\u3000", "12", (FIX_SPACES, FIX_FULL_WIDTH, FIX_TEXT)),  # NBSP, ideographic space
    ("\t12\r\n", "12", (FIX_SPACES, FIX_TEXT)),
    ("\ufeff12\u200b", "12", (FIX_SPACES, FIX_TEXT)),  # BOM / zero-width space from pasting
    ("12345678901234567890123", "12345678901234567890123", (FIX_TEXT,)),  # > 15 digits exact
    ("0", "0", (FIX_TEXT,)),
]


@pytest.mark.parametrize(("raw", "value", "corrections"), ACCEPTED)
def test_text_that_is_a_number(raw: str, value: str, corrections: tuple[str, ...]) -> None:
    parsed = parse_number(raw)
    assert parsed.error is None
    assert parsed.value == Decimal(value)
    assert parsed.blank is False
    assert parsed.corrected is True  # any text had to be read as a number
    assert parsed.original == raw
    assert parsed.corrections == corrections
    assert parsed.ok


def test_digits_typed_are_kept() -> None:
    assert str(parse_number("75.9260").value) == "75.9260"
    assert str(parse_number(75.926).value) == "75.926"


def test_negative_zero_is_zero() -> None:
    for raw in ("-0", "－０", -0.0):
        value = parse_number(raw).value
        assert value == 0 and value is not None and not value.is_signed()


def test_correction_message_names_original_and_value() -> None:
    message = parse_number("１，２３４").describe_correction()
    assert message == ("“１，２３４”已按 1234 读取"
                       "（全角字符已按半角读取；已去掉千位分隔符；数字是以文本形式填写的）")
    assert parse_number(1234).describe_correction() is None
    assert parse_number("12件").describe_correction() is None


# --------------------------------------------------------------------------- blank

@pytest.mark.parametrize("raw", [None, "", " ", "\u3000", "\u00a0", " \t\r\n ", "\u3000\u3000"])
def test_blank(raw: object) -> None:
    parsed = parse_number(raw)
    assert parsed == ParsedNumber(None, True, False, raw if raw is not None else None, None)
    assert not parsed.ok


# --------------------------------------------------------------------------- rejected text

REJECTED = [
    # raw, exact error
    ("12件", "“12件”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
    ("12 件", "“12 件”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
    ("约12", "“约12”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
    ("1.5万", "“1.5万”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
    ("/", "“/”不是数字：没有发生的请填 0"),
    ("／", "“／”不是数字：没有发生的请填 0"),
    ("—", "“—”不是数字：没有发生的请填 0"),
    ("——", "“——”不是数字：没有发生的请填 0"),
    ("-", "“-”不是数字：没有发生的请填 0"),
    ("－", "“－”不是数字：没有发生的请填 0"),
    ("无", "“无”不是数字：没有发生的请填 0"),
    ("暂无", "“暂无”不是数字：没有发生的请填 0"),
    ("N/A", "“N/A”不是数字：没有发生的请填 0"),
    ("x", "“x”不是数字：没有发生的请填 0"),
    ("1　2", "“1　2”不是数字：数字中间有空格或不可见字符，请删除后重新填写"),
    ("1 234", "“1 234”不是数字：数字中间有空格或不可见字符，请删除后重新填写"),
    ("- 5", "“- 5”不是数字：数字中间有空格或不可见字符，请删除后重新填写"),
    ("1\u200b2", "“1\u200b2”不是数字：数字中间有空格或不可见字符，请删除后重新填写"),
    ("1,23", "“1,23”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    ("12,34,567", "“12,34,567”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    ("1,2345", "“1,2345”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    ("１，２３", "“１，２３”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    ("1.234,5", "“1.234,5”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    (",123", "“,123”不是数字：逗号位置不对（千位分隔符应每三位一个，小数点请用“.”）"),
    ("1e5", "“1e5”不是数字：请不要用科学计数法（如 1E5），填写完整的数字"),
    ("1.2E+15", "“1.2E+15”不是数字：请不要用科学计数法（如 1E5），填写完整的数字"),
    ("12%", "“12%”不是数字：请不要带百分号，只填写数字"),
    ("１２％", "“１２％”不是数字：请不要带百分号，只填写数字"),
    ("十二", "“十二”不是数字：请改用阿拉伯数字填写（如 12）"),
    ("1。5", "“1。5”不是数字：小数点请用“.”"),
    ("NaN", "“NaN”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("nan", "“nan”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("Infinity", "“Infinity”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("-inf", "“-inf”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("1.2.3", "“1.2.3”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("--5", "“--5”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("+-5", "“+-5”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("5-", "“5-”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("(5)", "“(5)”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("=A1+1", "“=A1+1”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
    ("\u0663", "“\u0663”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),  # Arabic-Indic three
    ("①", "“①”不是数字：含有特殊字符“①”，请只填写普通的阿拉伯数字"),
    ("10⁵", "“10⁵”不是数字：含有特殊字符“⁵”，请只填写普通的阿拉伯数字"),
    ("½", "“½”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
    ("１０⁵", "“１０⁵”不是数字：含有特殊字符“⁵”，请只填写普通的阿拉伯数字"),
    ("…", "“…”不是数字：没有发生的请填 0"),
    ("12㎡", "“12㎡”不是数字：请只填写阿拉伯数字，不要带单位或文字"),
]


@pytest.mark.parametrize(("raw", "error"), REJECTED)
def test_text_that_is_not_a_number(raw: str, error: str) -> None:
    parsed = parse_number(raw)
    assert parsed.error == error
    assert parsed.value is None
    assert parsed.blank is False
    assert parsed.corrected is False
    assert parsed.original == raw


def test_long_original_is_shortened_in_message() -> None:
    raw = "这一格填了很长很长的一段说明文字而不是数字" * 10
    error = parse_number(raw).error
    assert error is not None
    assert error.startswith("“" + raw[:20] + "…”不是数字：")
    assert parse_number(raw).original == raw  # the full text stays available


# --------------------------------------------------------------------------- non-text values

@pytest.mark.parametrize(("raw", "value", "original"), [
    (0, "0", "0"),
    (12, "12", "12"),
    (-3, "-3", "-3"),
    (10**40, "1" + "0" * 40, "1" + "0" * 40),
    (3.0, "3", "3.0"),
    (75.926, "75.926", "75.926"),
    (0.1, "0.1", "0.1"),
    (1234.5678, "1234.5678", "1234.5678"),
    (1e20, "100000000000000000000", "1e+20"),
    (-2.5, "-2.5", "-2.5"),
    (1e-7, "1E-7", "1e-07"),
    (Decimal("12.50"), "12.50", "12.50"),
])
def test_numbers_from_cells(raw: object, value: str, original: str) -> None:
    parsed = parse_number(raw)
    assert parsed.value == Decimal(value)
    assert parsed.corrected is False
    assert parsed.corrections == ()
    assert parsed.error is None
    assert parsed.original == original


def test_float_becomes_what_was_typed_not_binary_expansion() -> None:
    assert parse_number(75.926).value == Decimal("75.926")
    assert parse_number(75.926).value != Decimal(75.926)
    assert str(parse_number(3.0).value) == "3"
    assert str(parse_number(1e20).value) == "100000000000000000000"


@pytest.mark.parametrize(("raw", "error"), [
    (True, "“TRUE”是逻辑值（是/否），不是数字：请填写阿拉伯数字"),
    (False, "“FALSE”是逻辑值（是/否），不是数字：请填写阿拉伯数字"),
    (float("nan"), "“nan”不是有效的数字：请填写阿拉伯数字"),
    (float("inf"), "“inf”不是有效的数字：请填写阿拉伯数字"),
    (float("-inf"), "“-inf”不是有效的数字：请填写阿拉伯数字"),
    (Decimal("NaN"), "“NaN”不是有效的数字：请填写阿拉伯数字"),
    (dt.datetime(2024, 1, 2), "“2024-01-02T00:00:00”是日期或时间，不是数字：单元格格式可能被"
                              "改成了日期，请把格式改为“常规”后重新填写数字"),
    (dt.date(2024, 1, 2), "“2024-01-02”是日期或时间，不是数字：单元格格式可能被改成了日期，"
                          "请把格式改为“常规”后重新填写数字"),
    (dt.time(12, 0), "“12:00:00”是日期或时间，不是数字：单元格格式可能被改成了日期，"
                     "请把格式改为“常规”后重新填写数字"),
    ([1, 2], "“[1, 2]”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"),
])
def test_values_that_are_not_numbers(raw: object, error: str) -> None:
    parsed = parse_number(raw)
    assert parsed.error == error
    assert parsed.value is None
    assert not parsed.blank


def test_huge_int_and_odd_objects_never_raise() -> None:
    huge = 10**5000  # str() of this raises ValueError in Python >= 3.11
    assert parse_number(huge).value == Decimal(huge)

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert parse_number(Hostile()).error == "“Hostile”不是数字：请只填写阿拉伯数字（如 12 或 3.5）"


def test_bool_is_not_int() -> None:
    assert parse_number(True).value is None
    assert parse_number(1).value == 1


def test_parsed_number_is_frozen() -> None:
    parsed = parse_number("1")
    with pytest.raises(AttributeError):
        parsed.value = Decimal(2)  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

@given(st.integers(min_value=0, max_value=10**60))
def test_any_non_negative_int_as_text(n: int) -> None:
    plain = parse_number(str(n))
    assert plain.value == n and plain.corrected and plain.error is None
    full = parse_number(str(n).translate(FULL_WIDTH))
    assert full.value == n and full.corrected and full.error is None
    grouped = parse_number(f"{n:,}")
    assert grouped.value == n and grouped.error is None
    full_grouped = parse_number(f"{n:,}".translate(FULL_WIDTH))
    assert full_grouped.value == n and full_grouped.error is None
    assert parse_number(n).value == n


@given(st.integers(min_value=-(10**30), max_value=10**30),
       st.integers(min_value=0, max_value=9999))
def test_signed_decimal_text(whole: int, frac: int) -> None:
    text = f"{whole}.{frac:04d}"
    assert parse_number(text).value == Decimal(text)
    assert parse_number(text.translate(FULL_WIDTH)).value == Decimal(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float(f: float) -> None:
    parsed = parse_number(f)
    assert parsed.error is None
    assert parsed.value == Decimal(repr(f))
    assert float(parsed.value) == f


@given(st.text(max_size=40))
def test_never_raises_and_exactly_one_outcome(raw: str) -> None:
    parsed = parse_number(raw)
    outcomes = [parsed.value is not None, parsed.blank, parsed.error is not None]
    assert outcomes.count(True) == 1
    if parsed.value is not None:
        assert parsed.value.is_finite()
        assert parsed.corrected
    if parsed.error is not None:
        assert parsed.error.startswith("“")
        assert not parsed.corrected


# --------------------------------------------------------------------------- check_kind

@pytest.mark.parametrize(("value", "kind", "problem"), [
    ("0", "count", None),
    ("12", "count", None),
    ("12.0", "count", None),  # trailing zeros are not decimals
    ("1E+2", "count", None),
    ("-1", "count", "不能为负数（填的是 -1）"),
    ("1.5", "count", "应为整数，不能有小数（填的是 1.5）"),
    ("-1.5", "count", "应为整数，不能有小数（填的是 -1.5）"),
    ("-3", "signed_count", None),
    ("0", "signed_count", None),
    ("3", "signed_count", None),
    ("-3.5", "signed_count", "应为整数，不能有小数（填的是 -3.5）"),
    ("0", "amount", None),
    ("12.3456", "amount", None),
    ("12.34560000", "amount", None),
    ("75.9260", "amount", None),
    ("12.34567", "amount", "小数位数过多：最多保留 4 位小数（填的是 12.34567）"),
    ("-0.01", "amount", "金额不能为负数（填的是 -0.01）"),
])
def test_check_kind(value: str, kind: str, problem: str | None) -> None:
    assert check_kind(Decimal(value), kind) == problem


def test_check_kind_unknown_kind_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown number kind"):
        check_kind(Decimal(1), "percent")


def test_check_kind_accepts_parse_output() -> None:
    value = parse_number("１，２３４").value
    assert value is not None
    assert check_kind(value, "count") is None

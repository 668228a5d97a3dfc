"""Cells of the Google Sheet: what is read as a number, what is refused, and why."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel.numbers import format_decimal, get_decimal_symbol
from hypothesis import given
from hypothesis import strategies as st

from hub.sync.parse import Empty, Number, Problem, parse_cell, problem_note

D = Decimal
EMPTY = Empty()
NNBSP = "\u202f"
NBSP = "\u00a0"
THIN = "\u2009"

# (raw as the API returns it, unit, locale, number format, expected): a Decimal, EMPTY,
# or a fragment of the Problem's reason.
CELLS = [
    # numbers Sheets understood itself: exact, whatever the locale
    (12, "number", "en_US", None, D("12")),
    (-7, "number", "de_DE", "NUMBER", D("-7")),
    (0.1, "number", "en_US", None, D("0.1")),
    (1234.5, "number", "fr_FR", "NUMBER", D("1234.5")),
    (2.5e-7, "number", "en_US", "SCIENTIFIC", D("0.00000025")),
    (1e16, "number", "en_US", None, D("10000000000000000")),
    (12.0, "currency", "en_US", "CURRENCY", D("12")),
    (D("3.25"), "number", "en_US", None, D("3.25")),
    # percent KPIs: a PERCENT-formatted 0.12 is 12, a plain 12 is 12, a plain 0.12 is 0.12
    (0.12, "percent", "en_US", "PERCENT", D("12")),
    (0.125, "percent", "de_DE", "PERCENT", D("12.5")),
    (1, "percent", "en_US", "PERCENT", D("100")),
    (12, "percent", "en_US", None, D("12")),
    (12, "percent", "en_US", "NUMBER", D("12")),
    (0.12, "percent", "en_US", "NUMBER", D("0.12")),
    (0.12, "number", "en_US", "PERCENT", "not measured in percent"),
    # numbers that are not values
    (True, "number", "en_US", "BOOLEAN", "TRUE/FALSE is not a number"),
    (False, "percent", "en_US", None, "TRUE/FALSE is not a number"),
    (float("nan"), "number", "en_US", None, "not a finite number"),
    (float("inf"), "number", "en_US", None, "not a finite number"),
    (46000, "number", "en_US", "DATE", "date or time"),
    (0.5, "number", "en_US", "TIME", "date or time"),
    (10**24, "number", "en_US", None, "too large"),
    # formulas: what Sheets shows (15 significant digits), kept to 10 places
    (0.1 + 0.2, "number", "en_US", None, Decimal("0.3")),
    (1 / 3, "number", "en_US", None, Decimal("0.3333333333")),
    (2 / 3 * 100, "percent", "en_US", None, Decimal("66.6666666667")),
    (1e-12, "number", "en_US", None, "more than 10 decimal places"),
    # empty
    (None, "number", "en_US", None, EMPTY),
    ("", "number", "en_US", None, EMPTY),
    ("   ", "percent", "de_DE", None, EMPTY),
    (f"{NBSP}\u200b", "number", "en_US", None, EMPTY),
    # plain text numbers, en_US
    ("1234.5", "number", "en_US", None, D("1234.5")),
    ("  42  ", "number", "en_US", None, D("42")),
    ("1,234", "number", "en_US", None, D("1234")),
    ("1,234,567.25", "number", "en_US", None, D("1234567.25")),
    ("0.125", "number", "en_US", None, D("0.125")),
    ("+5", "number", "en_US", None, D("5")),
    ("-5", "number", "en_US", None, D("-5")),
    ("\u22125", "number", "en_US", None, D("-5")),
    ("\u20135", "number", "en_US", None, D("-5")),
    ("(1,234)", "number", "en_US", None, D("-1234")),
    ("(500)", "number", "en_US", None, D("-500")),
    (f"1{NBSP}234.5", "number", "en_US", None, D("1234.5")),
    (f"1{THIN}234", "number", "en_US", None, D("1234")),
    ("１２３", "number", "en_US", None, D("123")),
    # percent signs
    ("12%", "percent", "en_US", None, D("12")),
    ("12 %", "percent", "en_US", None, D("12")),
    ("12", "percent", "en_US", None, D("12")),
    ("0.12", "percent", "en_US", None, D("0.12")),
    ("-3.5%", "percent", "en_US", None, D("-3.5")),
    (f"12{NBSP}%", "percent", "fr_FR", None, D("12")),
    ("12,5 %", "percent", "de_DE", None, D("12.5")),
    ("12%", "number", "en_US", None, "not measured in percent; type the number without %"),
    ("12%", "currency", "en_US", None, "not measured in percent"),
    # k/M/B
    ("1.2k", "number", "en_US", None, D("1200")),
    ("1.2K", "number", "en_US", None, D("1200")),
    ("3M", "number", "en_US", None, D("3000000")),
    ("2.5 B", "number", "en_US", None, D("2500000000")),
    ("1,5k", "number", "de_DE", None, D("1500")),
    ("-4k", "number", "en_US", None, D("-4000")),
    ("12m", "number", "en_US", None, "words besides the number"),
    # currency
    ("$1.2k", "currency", "en_US", None, D("1200")),
    ("$1,234.50", "currency", "en_US", None, D("1234.5")),
    ("-$5", "currency", "en_US", None, D("-5")),
    ("($1,234)", "currency", "en_US", None, D("-1234")),
    ("1.234,50 €", "currency", "de_DE", None, D("1234.5")),
    ("EUR 1.234,50", "currency", "de_DE", None, D("1234.5")),
    ("£12", "currency", "en_US", None, D("12")),
    ("¥500", "currency", "en_US", None, D("500")),
    ("12 usd", "currency", "en_US", None, D("12")),
    ("₹12,34,567", "currency", "en_IN", None, D("1234567")),
    ("$12", "number", "en_US", None, "not measured in money"),
    ("EUR 12", "percent", "en_US", None, "not measured in money"),
    # de_DE: the comma marks decimals, dots group
    ("1.234,5", "number", "de_DE", None, D("1234.5")),
    ("1.234", "number", "de_DE", None, D("1234")),
    ("1.234.567", "number", "de_DE", None, D("1234567")),
    ("0,5", "number", "de_DE", None, D("0.5")),
    ("1234,567", "number", "de_DE", None, D("1234.567")),
    ("-1,5", "number", "de_DE", None, D("-1.5")),
    ("1,234", "number", "de_DE", None, "ambiguous"),
    ("-12,345", "number", "de_DE", None, "ambiguous"),
    ("1,234.5", "number", "de_DE", None, "uses a dot for decimals"),
    ("1.23", "number", "de_DE", None, "uses a dot for decimals"),
    # en_US given the other convention
    (
        "1.234,5",
        "number",
        "en_US",
        None,
        "'1.234,5' uses a comma for decimals, but this sheet's locale (en_US) uses a dot",
    ),
    ("1,5", "number", "en_US", None, "uses a comma for decimals"),
    ("1.234", "number", "en_US", None, "ambiguous"),
    ("1,234,5", "number", "en_US", None, "did you mean 12,345?"),
    ("1 234,567", "number", "en_US", None, "both spaces and commas"),
    # fr_FR: comma decimals, narrow no-break spaces group (plain, NBSP and thin ones too)
    (f"1{NNBSP}234,5", "number", "fr_FR", None, D("1234.5")),
    (f"1{NBSP}234,5", "number", "fr_FR", None, D("1234.5")),
    ("1 234 567", "number", "fr_FR", None, D("1234567")),
    (f"-1{THIN}234", "number", "fr_FR", None, D("-1234")),
    ("0,75", "number", "fr_FR", None, D("0.75")),
    ("1234.5", "number", "fr_FR", None, "uses a dot, but this sheet's locale (fr_FR)"),
    ("1,234", "number", "fr_FR", None, "ambiguous"),
    ("12 34", "number", "fr_FR", None, "several numbers"),
    # en_IN: lakh grouping
    ("12,34,567.5", "number", "en_IN", None, D("1234567.5")),
    ("1,23,456", "number", "en_IN", None, D("123456")),
    ("1,234", "number", "en_IN", None, D("1234")),
    ("1,234,567", "number", "en_IN", None, "did you mean 12,34,567?"),
    # text, several numbers, dates
    ("n/a", "number", "en_US", None, "'n/a' is text, not a number"),
    ("abc", "number", "de_DE", None, "text, not a number"),
    ("12 units", "number", "en_US", None, "words besides the number"),
    ("-", "number", "en_US", None, "no number in it"),
    ("—", "number", "en_US", None, "no number in it"),
    ("5-6", "number", "en_US", None, "several numbers"),
    ("10 - 20", "number", "en_US", None, "several numbers"),
    ("12 13", "number", "en_US", None, "several numbers"),
    ("1e5", "number", "en_US", None, "scientific notation"),
    ("1_000", "number", "en_US", None, "several numbers"),
    ("-(5)", "number", "en_US", None, "a sign and brackets"),
    ("2026-11-30", "number", "en_US", None, "looks like a date"),
    ("30.11.2026", "number", "de_DE", None, "looks like a date"),
    ("11/30/2026", "number", "en_US", None, "looks like a date"),
    ("5/6", "number", "en_US", None, "date or a fraction"),
    ("12:30", "number", "en_US", None, "looks like a time"),
    ("9:05:00 PM", "number", "en_US", None, "looks like a time"),
    # errors of the sheet
    ("#DIV/0!", "number", "en_US", None, "#DIV/0! is an error in the sheet"),
    ("#N/A", "number", "en_US", None, "#N/A is an error in the sheet"),
    ("#REF!", "number", "en_US", None, "#REF! is an error in the sheet"),
    ("#VALUE!", "percent", "en_US", None, "#VALUE! is an error in the sheet"),
    ("#NAME?", "number", "de_DE", None, "#NAME? is an error in the sheet"),
    ("#NUM!", "number", "en_US", None, "#NUM! is an error in the sheet"),
    ("#NULL!", "number", "en_US", None, "#NULL! is an error in the sheet"),
    ("#ERROR!", "number", "en_US", None, "#ERROR! is an error in the sheet"),
    # not finite, too large, too precise
    ("NaN", "number", "en_US", None, "not a finite number"),
    ("-Infinity", "number", "en_US", None, "not a finite number"),
    ("∞", "number", "en_US", None, "not a finite number"),
    ("1" + "0" * 24, "number", "en_US", None, "too large"),
    ("2B", "number", "en_US", None, D("2000000000")),
    ("0.12345678901", "number", "en_US", None, "more than 10 decimal places"),
    ("0.1234567891", "number", "en_US", None, D("0.1234567891")),
    ("1" * 70, "number", "en_US", None, "too long"),
    # locale the app does not know
    ("12", "number", "xx_YY", None, "locale (xx_YY) is unknown"),
]


@pytest.mark.parametrize(("raw", "unit", "locale", "number_format", "expected"), CELLS)
def test_parse_cell(
    raw: object, unit: str, locale: str, number_format: str | None, expected: object
) -> None:
    result = parse_cell(raw, unit=unit, locale=locale, number_format=number_format)
    if isinstance(expected, Decimal):
        assert result == Number(expected)
        assert isinstance(result, Number)
        assert str(result.value) == str(expected)  # canonical: 12, not 12.00 or 1.2E+1
    elif isinstance(expected, Empty):
        assert result == EMPTY
    else:
        assert isinstance(result, Problem), result
        assert str(expected) in result.reason


def test_the_table_is_large() -> None:
    assert len(CELLS) >= 60


def test_a_problem_keeps_the_text_as_typed() -> None:
    result = parse_cell(" n/a ", unit="number")
    assert result == Problem(" n/a ", "'n/a' is text, not a number")


def test_currency_of_the_kpi_is_checked_when_known() -> None:
    assert parse_cell("€12", unit="currency", currency="EUR") == Number(D("12"))
    result = parse_cell("$12", unit="currency", currency="EUR")
    assert isinstance(result, Problem)
    assert "not in EUR" in result.reason


def test_unknown_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        parse_cell("12", unit="apples")


def test_problem_note() -> None:
    problem = parse_cell("#DIV/0!", unit="number")
    assert isinstance(problem, Problem)
    assert problem_note(problem) == (
        "Strategy Hub could not read this cell: #DIV/0! is an error in the sheet. "
        "The app keeps its value until this is fixed."
    )


LOCALES = ["en_US", "de_DE", "fr_FR", "en_IN", "de_CH", "es_ES", "sv_SE", "pt_BR"]
UNITS = ["number", "percent", "currency", "duration"]

decimals_to_format = st.integers(min_value=0, max_value=10).flatmap(
    lambda places: st.decimals(
        min_value=D("-999999999999999.9999999999"),
        max_value=D("999999999999999.9999999999"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )
)


@given(number=decimals_to_format, locale=st.sampled_from(LOCALES))
def test_what_babel_formats_reads_back_exactly(number: Decimal, locale: str) -> None:
    text = format_decimal(number, locale=locale, decimal_quantization=False)
    result = parse_cell(text, unit="number", locale=locale)
    mark = re.escape(get_decimal_symbol(locale))
    if re.fullmatch(rf"-?[1-9][0-9]{{0,2}}{mark}[0-9]{{3}}", text) and mark in r"\.,":
        # "1,234" in de_DE is also how much of the world writes 1234: refused, not guessed.
        assert isinstance(result, Problem), (text, result)
        assert "ambiguous" in result.reason
    else:
        assert result == Number(number), (text, result)


@given(text=st.text(), unit=st.sampled_from(UNITS), locale=st.sampled_from(LOCALES))
def test_any_text_is_read_or_refused(text: str, unit: str, locale: str) -> None:
    result = parse_cell(text, unit=unit, locale=locale)
    assert isinstance(result, Empty | Number | Problem)
    if isinstance(result, Problem):
        assert result.text == text
        assert result.reason
        assert problem_note(result).endswith("until this is fixed.")


numberish = st.text(
    alphabet="0123456789.,,.. -+()%$€£kKMBEUR#/:eN\u00a0\u202f\u2009\u2212\u2013", max_size=20
)


@given(text=numberish, unit=st.sampled_from(UNITS), locale=st.sampled_from(LOCALES))
def test_any_number_like_text_is_read_or_refused(text: str, unit: str, locale: str) -> None:
    result = parse_cell(text, unit=unit, locale=locale)
    assert isinstance(result, Empty | Number | Problem)


@given(
    raw=st.one_of(st.floats(), st.integers(), st.booleans(), st.none()),
    unit=st.sampled_from(UNITS),
    number_format=st.sampled_from([None, "NUMBER", "PERCENT", "CURRENCY", "DATE", "TEXT"]),
)
def test_any_sheet_number_is_read_or_refused(
    raw: object, unit: str, number_format: str | None
) -> None:
    result = parse_cell(raw, unit=unit, number_format=number_format)
    assert isinstance(result, Empty | Number | Problem)
    if isinstance(raw, float) and isinstance(result, Number) and number_format != "PERCENT":
        exact = Decimal(repr(raw))
        if -exact.as_tuple().exponent <= 10:
            assert result.value == exact  # already as precise as the app keeps: untouched
        else:  # formula noise: what Sheets shows (15 significant digits), to 10 places
            assert abs(result.value - exact) <= max(abs(exact) * Decimal("1e-14"), Decimal("5e-11"))

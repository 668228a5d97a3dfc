"""Numbers as people type them into the web forms: what is read, what is refused, and why."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.formatting import format_value
from hub.domain.input_numbers import parse_number

D = Decimal

ACCEPTED = [
    # plain and signed decimals
    ("0", "number", D("0")),
    ("42", "number", D("42")),
    ("1234.5", "number", D("1234.5")),
    ("-3", "number", D("-3")),
    ("+3", "number", D("3")),
    ("- 3", "number", D("-3")),
    (".5", "number", D("0.5")),
    ("5.", "number", D("5")),
    ("-0", "number", D("0")),
    ("12.50", "number", D("12.5")),
    ("007", "number", D("7")),
    ("  42  ", "number", D("42")),
    ("\t42\n", "number", D("42")),
    # thousands separators
    ("1,234", "number", D("1234")),
    ("1,234,567.5", "number", D("1234567.5")),
    ("-1,234,567.25", "number", D("-1234567.25")),
    ("999,999", "number", D("999999")),
    # spaces of every kind as grouping
    ("1 234 567", "number", D("1234567")),
    ("1\u00a0234", "number", D("1234")),  # no-break space
    ("1\u202f234.5", "number", D("1234.5")),  # narrow no-break space (French)
    ("1\u2009234", "number", D("1234")),  # thin space
    ("1  234", "number", D("1234")),  # two spaces count as one
    # Unicode and typographic minus signs
    ("\u22125", "number", D("-5")),
    ("\u2212 1,234.5", "number", D("-1234.5")),
    ("\u20135", "number", D("-5")),  # en dash, as word processors "correct" a hyphen
    ("\uff0d5", "number", D("-5")),  # full-width hyphen-minus
    ("\uff11\uff12", "number", D("12")),  # full-width digits
    # accounting negatives
    ("(1,234)", "number", D("-1234")),
    ("( 1234.5 )", "number", D("-1234.5")),
    ("(0)", "number", D("0")),
    # percent units take a trailing %
    ("12.5%", "percent", D("12.5")),
    ("12.5 %", "percent", D("12.5")),
    ("-3%", "percent", D("-3")),
    ("(3%)", "percent", D("-3")),
    ("100", "percent", D("100")),
    ("0.125", "percent", D("0.125")),
    # currency units take a symbol or ISO code at either end
    ("$1,234", "currency", D("1234")),
    ("$ 1,234.50", "currency", D("1234.5")),
    ("1234$", "currency", D("1234")),
    ("€12", "currency", D("12")),
    ("12 €", "currency", D("12")),
    ("1 234 €", "currency", D("1234")),
    ("£99.99", "currency", D("99.99")),
    ("¥1,000", "currency", D("1000")),
    ("EUR 12", "currency", D("12")),
    ("12 EUR", "currency", D("12")),
    ("eur 12", "currency", D("12")),
    ("USD1,000", "currency", D("1000")),
    ("-$5", "currency", D("-5")),
    ("$-5", "currency", D("-5")),
    ("($5)", "currency", D("-5")),
    ("$(5)", "currency", D("-5")),
    ("(EUR 1,234)", "currency", D("-1234")),
    ("1234", "currency", D("1234")),
    # durations in hours
    ("4.5", "duration", D("4.5")),
    ("4.5h", "duration", D("4.5")),
    ("4.5 h", "duration", D("4.5")),
    ("4.5 H", "duration", D("4.5")),
    ("2 hrs", "duration", D("2")),
    ("1 hour", "duration", D("1")),
    ("1,200 hours", "duration", D("1200")),
    # the limits themselves
    ("0.0000000001", "number", D("1E-10")),
    ("999999999999999999999999", "number", D("999999999999999999999999")),
    ("-999,999,999,999,999,999,999,999", "number", D("-999999999999999999999999")),
    # 34 significant digits: more than Python's default 28, and none of them rounded
    (
        "123,456,789,012,345,678,901,234.1234567891",
        "number",
        D("123456789012345678901234.1234567891"),
    ),
    ("-123456789012345678901234.1234567891", "number", D("-123456789012345678901234.1234567891")),
]


@pytest.mark.parametrize(("text", "unit", "expected"), ACCEPTED)
def test_what_people_type_is_read_exactly(text: str, unit: str, expected: Decimal) -> None:
    value = parse_number(text, unit)
    assert value == expected
    assert isinstance(value, Decimal)


REFUSED = [
    # nothing, or nothing numeric
    ("", "number", "Enter a number."),
    ("   ", "number", "Enter a number."),
    ("\u00a0", "number", "Enter a number."),
    (".", "number", "“.” is not a number."),
    ("-", "number", "“-” is not a number."),
    ("()", "number", "“()” is not a number."),
    ("$", "currency", "“$” is not a number."),
    ("%", "percent", "“%” is not a number."),
    # letters
    ("abc", "number", "“abc” is not a number: type digits only, like 1234.5."),
    ("12 apples", "number", "“12 apples” is not a number: type digits only"),
    ("1e5", "number", "“1e5” is not a number: type digits only"),
    ("12h", "number", "“12h” is not a number: type digits only"),
    ("0x1F", "number", "is not a number: type digits only"),
    ("90 min", "duration", "“90 min” is not a number: type hours as a number, like 1.5."),
    ("12 abc", "currency", "is not a number: type digits only"),  # not a currency code
    # several numbers
    ("12 13", "number", "“12 13” looks like several numbers: enter one."),
    ("1 2 3", "number", "looks like several numbers"),
    ("5-6", "number", "looks like several numbers"),
    ("5–6", "number", "looks like several numbers"),  # an en dash between two numbers
    ("5/6", "number", "looks like several numbers"),
    ("12 345 6", "number", "looks like several numbers"),
    ("1,234 56", "number", "looks like several numbers"),
    # ambiguous or foreign grouping
    ("1,2,3", "number", "“1,2,3”: commas group thousands in threes, like 1,234,567."),
    ("12,34,567", "number", "commas group thousands in threes"),
    ("1,2345", "number", "could be read two ways"),
    ("12,5", "number", "“12,5” could be read two ways: use a dot for decimals"),
    ("1,23", "number", "could be read two ways"),
    ("1.234,5", "number", "“1.234,5”: use a dot for decimals, like 1234.5"),
    ("1.234.567,89", "number", "use a dot for decimals"),
    ("1 234,5", "number", "use a dot for decimals"),
    ("1\u202f234,5 €", "currency", "use a dot for decimals"),
    ("1.234.567", "number", "group thousands with commas or spaces and use one dot"),
    ("1.2.3", "number", "use one dot for decimals"),
    ("4:30", "duration", "type hours as a decimal number, like 1.5 for 1 h 30 min."),
    # signs
    ("--5", "number", "“--5” is not a number."),
    ("+-5", "number", "is not a number"),
    ("(-5)", "number", "with a minus sign or in brackets, not both"),
    ("-(5)", "number", "with a minus sign or in brackets, not both"),
    ("5-", "number", "is not a number"),
    # not finite
    ("NaN", "number", "“NaN” is not a number you can store: enter a finite number."),
    ("nan", "number", "enter a finite number"),
    ("Infinity", "number", "enter a finite number"),
    ("-inf", "number", "enter a finite number"),
    ("∞", "number", "enter a finite number"),
    # out of range
    ("1.12345678901", "number", "“1.12345678901” has more than 10 decimal places."),
    ("1,000,000,000,000,000,000,000,000", "number", "is too large (at most 24 digits"),
    ("-1000000000000000000000000", "number", "is too large"),
    ("9" * 70, "number", "That is too long to be a number."),
    # a mark of another unit
    ("12%", "number", "“12%”: this is not a percentage; type the number without %."),
    ("12%", "currency", "this is not a percentage"),
    ("$12", "number", "“$12”: this is not an amount of money; type the number without $."),
    ("EUR 12", "percent", "this is not an amount of money; type the number without EUR."),
    ("12 €", "duration", "this is not an amount of money"),
    ("4.5 h", "currency", "is not a number"),
    # more than one mark
    ("$$5", "currency", "is not a number"),
    ("12%%", "percent", "is not a number"),
]


@pytest.mark.parametrize(("text", "unit", "message"), REFUSED)
def test_what_cannot_be_read_is_refused_with_a_reason(text: str, unit: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_number(text, unit)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("$12", "USD", D("12")),
        ("$12", "CAD", D("12")),
        ("€12", "EUR", D("12")),
        ("EUR 12", "EUR", D("12")),
        ("12", "EUR", D("12")),
    ],
)
def test_a_currency_mark_matching_the_workspace_is_read(
    text: str, currency: str, expected: Decimal
) -> None:
    assert parse_number(text, "currency", currency=currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("$12", "EUR", "“$12”: amounts here are in EUR; type the number without $."),
        ("£12", "USD", "amounts here are in USD"),
        ("USD 12", "EUR", "amounts here are in EUR; type the number without USD."),
        ("12 chf", "EUR", "type the number without CHF"),
    ],
)
def test_a_currency_mark_of_another_currency_is_refused(
    text: str, currency: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_number(text, "currency", currency=currency)


def test_long_texts_are_shortened_in_messages() -> None:
    with pytest.raises(ValueError, match=re.escape("“" + "a" * 40 + "…”")):
        parse_number("a" * 60, "number")


def test_an_unknown_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown unit 'apples'"):
        parse_number("1", "apples")


def test_only_text_is_parsed() -> None:
    with pytest.raises(TypeError):
        parse_number(12, "number")  # type: ignore[arg-type]


@given(
    st.decimals(
        min_value=D("-1e23"), max_value=D("1e23"), places=4, allow_nan=False, allow_infinity=False
    ),
    st.sampled_from(["number", "percent", "currency", "duration"]),
)
def test_what_the_app_displays_reads_back_as_the_same_number(value: Decimal, unit: str) -> None:
    """Copying a number off a page into a form gives back the number shown."""
    shown = format_value(value, unit, 4, "USD")
    assert parse_number(shown, unit, currency="USD") == value


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=D("-1e23"), max_value=D("1e23"))
)
def test_plain_decimals_read_as_themselves(value: Decimal) -> None:
    text = format(value, "f")
    if "." in text and len(text.split(".")[1].rstrip("0")) > 10:
        return  # more than 10 places is refused, tested above
    assert parse_number(text, "number") == value


@given(st.text(max_size=30))
def test_any_text_is_read_or_refused_with_a_value_error(text: str) -> None:
    try:
        value = parse_number(text, "number")
    except ValueError as error:
        value, message = None, str(error)
    assert (value is None and message) or (value is not None and value.is_finite())

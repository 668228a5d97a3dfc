"""Values as people read them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.domain.formatting import format_value


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        ("91000", "number", 0, "91,000"),
        ("91000", "number", 1, "91,000.0"),
        ("91000.25", "number", 2, "91,000.25"),
        ("1234567.891", "number", 2, "1,234,567.89"),
        ("0.5", "number", 0, "1"),  # half up, not half even
        ("2.5", "number", 0, "3"),
        ("-2.5", "number", 0, "-3"),
        ("-0.04", "number", 1, "0.0"),  # no negative zero
        ("-91000", "number", 0, "-91,000"),
        ("1E+3", "number", 0, "1,000"),
        ("12.5", "percent", 1, "12.5%"),  # stored 12.5 means 12.5 %
        ("12.5", "percent", 0, "13%"),
        ("12", "percent", 0, "12%"),
        ("150", "percent", 2, "150.00%"),
        ("91000", "currency", 0, "$91,000"),
        ("91000.5", "currency", 0, "$91,001"),
        ("91000.5", "currency", 2, "$91,000.50"),
        ("-5", "currency", 0, "-$5"),
        ("4.5", "duration", 1, "4.5 h"),
        ("4.5", "duration", 0, "5 h"),
        ("1200", "duration", 0, "1,200 h"),
    ],
)
def test_format_value(value: str, unit: str, decimals: int, expected: str) -> None:
    assert format_value(Decimal(value), unit, decimals) == expected


@pytest.mark.parametrize("unit", ["number", "percent", "currency", "duration"])
def test_none_is_a_dash(unit: str) -> None:
    assert format_value(None, unit, 2) == "—"


def test_currency_code_and_locale() -> None:
    assert format_value(Decimal("91000"), "currency", 0, "EUR") == "€91,000"
    assert format_value(Decimal("91000"), "currency", 2, "GBP") == "£91,000.00"
    assert format_value(Decimal("91000.5"), "currency", 2, "EUR", "de_DE") == "91.000,50\xa0€"
    assert format_value(Decimal("12.5"), "percent", 1, locale="de_DE") == "12,5\xa0%"
    assert format_value(Decimal("91000"), "number", 1, locale="fr_FR") == "91\u202f000,0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((Decimal(1), "kg", 0), "unknown unit 'kg'"),
        ((Decimal(1), "number", -1), "decimals must be 0 to 10"),
        ((Decimal(1), "number", 11), "decimals must be 0 to 10"),
        ((1.5, "number", 0), "is not a finite Decimal"),
        ((Decimal("NaN"), "number", 0), "is not a finite Decimal"),
    ],
)
def test_format_value_refuses(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_value(*args)


def test_the_largest_accepted_values_format_without_overflow() -> None:
    big = Decimal("-99999999999999999999999.1234567891")
    assert format_value(big, "number", 10) == "-99,999,999,999,999,999,999,999.1234567891"
    assert format_value(big, "currency", 0, "EUR") == "-€99,999,999,999,999,999,999,999"

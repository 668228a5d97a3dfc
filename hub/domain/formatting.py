"""Numbers as people read them: a KPI value in its unit, locale and number of decimals."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern

__all__ = ["EMPTY", "MAX_DECIMALS", "UNITS", "format_value", "rounded"]

UNITS = ("number", "percent", "currency", "duration")
EMPTY = "—"
MAX_DECIMALS = 10


def rounded(value: Decimal, decimals: int) -> Decimal:
    """`value` rounded half up to `decimals` places, never showing a negative zero."""
    # Stored values have up to 24 digits before the point and 10 after: more than the
    # default 28-digit context holds, so round in a context wide enough for all of them.
    with localcontext(prec=60):
        result = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    # -0.04 rounded to one place is -0.0; nobody wants to read "-0.0".
    return abs(result) if result.is_zero() else result


def _pattern(base: NumberPattern, decimals: int) -> NumberPattern:
    # The locale's own pattern keeps its grouping, symbols and spacing; only the number of
    # fraction digits is the KPI's. Copied because babel caches the pattern objects.
    pattern = copy.copy(base)
    pattern.frac_prec = (decimals, decimals)
    return pattern


def format_value(
    value: Decimal | None,
    unit: str,
    decimals: int,
    currency: str = "USD",
    locale: str = "en_US",
) -> str:
    """A value as shown to people, e.g. "91,000", "12.5%", "$91,000", "4.5 h"; None → "—"."""
    if value is None:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(UNITS)})")
        if not 0 <= decimals <= MAX_DECIMALS:
            raise ValueError(f"decimals must be 0 to {MAX_DECIMALS}, not {decimals!r}")
        return EMPTY
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{value!r} is not a finite Decimal")
    # A scorecard formats the same few hundred numbers on every view, and babel is slow:
    # equal values give equal text (they are rounded first), so the result is cached.
    return _format_cached(value, unit, decimals, currency, locale)


@lru_cache(maxsize=8192)
def _format_cached(value: Decimal, unit: str, decimals: int, currency: str, locale: str) -> str:
    with localcontext(prec=60):  # babel rounds too: wide enough for any stored value
        return _format(value, unit, decimals, currency, locale)


def _format(value: Decimal, unit: str, decimals: int, currency: str, locale: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(UNITS)})")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be 0 to {MAX_DECIMALS}, not {decimals!r}")
    # Round here (half up, as people expect) so babel's own half-even rounding is a no-op.
    value = rounded(value, decimals)
    loc = Locale.parse(locale)
    if unit == "percent":
        # A percent KPI stores 12.5 for 12.5 %, while babel's percent pattern multiplies
        # by 100: shift the point first (exact for a Decimal).
        pattern = _pattern(loc.percent_formats[None], decimals)
        return pattern.apply(value.scaleb(-2), loc)
    if unit == "currency":
        pattern = _pattern(loc.currency_formats["standard"], decimals)
        return pattern.apply(value, loc, currency=currency, currency_digits=False)
    text = _pattern(loc.decimal_formats[None], decimals).apply(value, loc)
    return f"{text} h" if unit == "duration" else text

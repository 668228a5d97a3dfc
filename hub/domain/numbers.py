"""Numbers as the app stores them: exact decimals within a sane range."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.models.base import canonical_decimal

MAX_ABS = Decimal("1e24")
MAX_PLACES = 10


def checked_decimal(raw: object, *, what: str = "value") -> Decimal:
    """Turn a JSON/form number into a stored Decimal, or raise ValueError saying why.

    Accepts int, Decimal, finite float (via its shortest repr) and plain numeric strings;
    refuses booleans, NaN/Infinity, more than 10 decimal places and |x| ≥ 10^24 so a value
    is never silently rounded or overflowed by the database.
    """
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"{what} must be a number")
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, not {str(raw)[:40]!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number")
    if abs(value) >= MAX_ABS:
        raise ValueError(f"{what} is too large (at most 24 digits before the point)")
    value = canonical_decimal(value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_PLACES:
        raise ValueError(f"{what} has more than {MAX_PLACES} decimal places")
    return value


def optional_decimal(raw: object, *, what: str = "value") -> Decimal | None:
    """Like checked_decimal, but None (or an empty string) stays None."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return checked_decimal(raw, what=what)

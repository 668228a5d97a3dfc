"""Column types and helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

_WIDE = Context(prec=60)
_ONE, _ZERO = Decimal(1), Decimal(0)


def canonical_decimal(value: Decimal) -> Decimal:
    """The shortest exact form of a decimal: 12.50 -> 12.5, 1E+2 -> 100, -0 -> 0.

    Worked in a 60-digit context: stored values reach 34 significant digits (24 before
    the point, 10 after), more than the default context's 28, which would round them.
    """
    value = value.normalize(_WIDE)
    if value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = value.quantize(_ONE, context=_WIDE)
    return _WIDE.add(value, _ZERO)  # drops the sign of negative zero


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no offset, so values come back naive; this puts UTC back on them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use hub.models.base.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, canonical text on SQLite.

    SQLite has no decimal type (it would round-trip through float), so values are
    kept there as their exact string form.
    """

    impl = Numeric(38, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(38, 10))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if dialect.name == "sqlite":
            return format(canonical_decimal(value), "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(value)  # stored in canonical form already (process_bind_param)
        return canonical_decimal(Decimal(str(value)))

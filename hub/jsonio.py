"""JSON with exact decimals: numbers are read as Decimal and written without float rounding.

The standard library can only write a Decimal as a string or through a lossy float;
simplejson writes it as the JSON number it is, which is what the API and the workspace
documents promise.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import simplejson
from flask.json.provider import JSONProvider

from hub.models.base import canonical_decimal


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # StrEnum members
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _exact(value: Any) -> Any:
    """Canonical decimals everywhere (12.50 → 12.5, 1E+2 → 100), recursively."""
    if isinstance(value, Decimal):
        return canonical_decimal(value) if value.is_finite() else str(value)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Serialize to JSON, writing Decimals as exact JSON numbers."""
    kwargs.setdefault("ensure_ascii", False)
    return simplejson.dumps(_exact(value), use_decimal=True, default=_default, **kwargs)


def loads(text: str | bytes) -> Any:
    """Parse JSON, reading every non-integer number as a Decimal.

    NaN and Infinity are not JSON and are refused.
    """

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a valid JSON number")

    return simplejson.loads(text, use_decimal=True, parse_constant=refuse)


class ExactJSONProvider(JSONProvider):
    """Flask's JSON provider, exact for decimals (request.get_json gives Decimals)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)

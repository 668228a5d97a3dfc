"""One managed cell, both ways: what the sheet holds, read as a comparable string, and the
typed CellData the app writes (never USER_ENTERED: text stays text, `=…` included).

Every managed cell is compared as a string: "" for empty, the canonical decimal for a
number *as the sheet holds it* (a double: 15 significant digits), the text otherwise.
Comparing the app's value in the sheet's own precision is what keeps a 34-digit value
from looking changed on every cycle; the app's exact value is never replaced by it
unless someone typed a different number in the sheet.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

from hub.models.base import canonical_decimal
from hub.sync.parse import Number, Problem, parse_cell

__all__ = [
    "Cell",
    "Kind",
    "a1",
    "cell_data",
    "column_letters",
    "number_text",
    "quote_title",
    "read_cell",
]

SHEETS_EPOCH = date(1899, 12, 30)  # day 0 of a Sheets date serial number
RANGE_WORD = " to "  # a range KPI's bounds in one cell: "40 to 60", "to 60", "40 to"
_RANGE = re.compile(r"^(.*?)\s*\bto\b\s*(.*)$", re.IGNORECASE)


class Kind:
    """How a column's cells are read and written."""

    TEXT = "text"  # names, goal titles, units, IDs and statuses
    EMAIL = "email"  # owners: compared without case
    NUMBER = "number"  # values, targets, KR numbers (with the row's unit)
    BOUNDS = "bounds"  # Target / Red at: a number, or "low to high" for a range KPI
    INTEGER = "integer"  # confidence 0–10
    DATE = "date"  # due dates


class Cell(NamedTuple):
    """A cell as spreadsheets.get returns it with grid data (the fields the sync asks for).

    A named tuple: a large sheet makes tens of thousands of them per cycle.
    """

    value: Any  # effectiveValue: float, str, bool, None; an error as its "#…" text
    shown: str  # formattedValue ("" when empty)
    number_format: str  # effectiveFormat.numberFormat.type ("" when none)
    note: str

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Cell:
        data = data or {}
        effective = data.get("effectiveValue") or {}
        value: Any = None
        for kind in ("numberValue", "stringValue", "boolValue"):
            if kind in effective:
                value = effective[kind]
                break
        else:
            if "errorValue" in effective:
                value = data.get("formattedValue") or "#ERROR!"
        number_format = ((data.get("effectiveFormat") or {}).get("numberFormat") or {}).get(
            "type", ""
        )
        return cls(
            value, str(data.get("formattedValue") or ""), number_format, data.get("note", "")
        )


EMPTY = Cell(None, "", "", "")


def number_text(value: Decimal | None) -> str:
    """A number as the sheet will hold it once written (a double), as a canonical string."""
    if value is None:
        return ""
    return _number_text(value)


@lru_cache(maxsize=65536)
def _number_text(value: Decimal) -> str:
    read = parse_cell(float(value), unit="number")
    exact = canonical_decimal(read.value if isinstance(read, Number) else value)
    return format(exact, "f")


def decimal_text(value: Decimal) -> str:
    return format(canonical_decimal(value), "f")


def read_cell(
    cell: Cell, kind: str, *, unit: str = "number", locale: str = "en_US", currency: str = "USD"
) -> str | Problem:
    """What a managed cell holds, as the string the app compares, or the Problem with it."""
    if kind in (Kind.TEXT, Kind.EMAIL):
        text = cell.shown.strip() if cell.value is not None else ""
        return text.lower() if kind == Kind.EMAIL else text
    if kind == Kind.DATE:
        return _read_date(cell)
    raw = cell.value
    if isinstance(raw, float) and cell.number_format not in _SPECIAL_FORMATS:
        if kind in (Kind.NUMBER, Kind.BOUNDS):
            return _plain_number_text(raw, unit)  # most cells of a sheet: one lookup
    if kind == Kind.BOUNDS and isinstance(raw, str) and _RANGE.match(raw.strip()):
        return _read_range(raw.strip(), unit, locale, currency)
    read = _parse(raw, unit, locale, cell.number_format, currency)
    if isinstance(read, Problem):
        return read
    if not isinstance(read, Number):
        return ""
    if kind == Kind.INTEGER and read.value != read.value.to_integral_value():
        return Problem(
            cell.shown or str(cell.value), f"{cell.shown or cell.value} is not a whole number"
        )
    return decimal_text(read.value)


_SPECIAL_FORMATS = frozenset({"PERCENT", "DATE", "TIME", "DATE_TIME"})


@lru_cache(maxsize=65536)
def _plain_number_text(raw: float, unit: str) -> str | Problem:
    """A number cell without a percent or date format, read: the same float, the same
    answer, so a sheet's many equal numbers are read once."""
    read = parse_cell(raw, unit=unit)
    return decimal_text(read.value) if isinstance(read, Number) else read


def _parse(raw: Any, unit: str, locale: str, number_format: str, currency: str):
    if isinstance(raw, float) and number_format not in _SPECIAL_FORMATS:
        return _parse_plain_number(raw, unit)
    return parse_cell(raw, unit=unit, locale=locale, number_format=number_format, currency=currency)


@lru_cache(maxsize=65536)
def _parse_plain_number(raw: float, unit: str):
    return parse_cell(raw, unit=unit)


def _read_range(text: str, unit: str, locale: str, currency: str) -> str | Problem:
    match = _RANGE.match(text)
    assert match is not None  # noqa: S101  (checked by the caller)
    sides = []
    for side in match.groups():
        if not side.strip():
            sides.append("")
            continue
        read = parse_cell(side.strip(), unit=unit, locale=locale, currency=currency)
        if not isinstance(read, Number):
            reason = read.reason if isinstance(read, Problem) else "a side is empty"
            return Problem(text, f"a range is written 'low to high' ({reason})")
        sides.append(decimal_text(read.value))
    return range_text(*sides)


def range_text(low: str, high: str) -> str:
    """The one-cell form of a range's two bounds; "" when both are open."""
    if not low and not high:
        return ""
    return f"{low}{RANGE_WORD}{high}".strip()


def split_range(text: str) -> tuple[Decimal | None, Decimal | None]:
    """The two bounds of a range cell's string (as range_text writes it)."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a range; write it as 'low to high'")
    low, high = (side.strip() for side in match.groups())
    try:
        return (Decimal(low) if low else None, Decimal(high) if high else None)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a range; write it as 'low to high'") from None


def _read_date(cell: Cell) -> str | Problem:
    raw = cell.value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        if cell.number_format in ("DATE", "DATE_TIME") or float(raw).is_integer():
            try:
                return (SHEETS_EPOCH + timedelta(days=int(raw))).isoformat()
            except OverflowError:
                pass
        return Problem(cell.shown or str(raw), f"{cell.shown or raw} is not a date")
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    text = cell.shown or str(raw)
    return Problem(text, f"{text!r} is not a date; type it as YYYY-MM-DD")


def cell_data(kind: str, value: str) -> dict[str, Any]:
    """The CellData that writes `value` (a compared string) into a cell of `kind`.

    Numbers go in as numbers with the number format cleared (a cell someone formatted as
    PERCENT would otherwise show 12 as 1200 %); everything else as a string value, so a
    name like `=IMPORTXML(…)` stays text. An empty value clears the cell.
    """
    if value == "":
        return {}
    if kind in (Kind.NUMBER, Kind.INTEGER) or (
        kind == Kind.BOUNDS and RANGE_WORD.strip() not in value
    ):
        try:
            number = float(Decimal(value))
        except (InvalidOperation, ValueError):
            return {"userEnteredValue": {"stringValue": value}}
        return {"userEnteredValue": {"numberValue": number}}
    if kind == Kind.DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return {"userEnteredValue": {"stringValue": value}}
        return {
            "userEnteredValue": {"numberValue": (day - SHEETS_EPOCH).days},
            "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}},
        }
    return {"userEnteredValue": {"stringValue": value}}


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(row: int, column: int) -> str:
    """A1 name of a 0-based (row, column)."""
    return f"{column_letters(column)}{row + 1}"


def quote_title(title: str) -> str:
    """A tab title as A1 ranges need it: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"

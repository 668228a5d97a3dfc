"""A1 notation as the Sheets API reads it: `'Weekly KPIs'!A1:Z`, `Sheet1`, `B:B`, `2:5`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENDPOINT = re.compile(r"^\$?([A-Za-z]{1,3})?\$?([0-9]+)?$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$|^[Rr][0-9]*[Cc][0-9]*$")


class RangeError(ValueError):
    """A range the API would answer with "Unable to parse range"."""


@dataclass(frozen=True)
class Endpoint:
    """One side of `A1:B2`; None means open (whole column / whole row)."""

    col: int | None  # 0-based
    row: int | None  # 0-based


@dataclass(frozen=True)
class ParsedRange:
    """A parsed range: sheet title (None = first sheet) and optional cell part."""

    title: str | None
    start: Endpoint | None = None  # None = the whole sheet
    end: Endpoint | None = None


def column_index(letters: str) -> int:
    """`A` → 0, `Z` → 25, `AA` → 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(index: int) -> str:
    """0 → `A`, 26 → `AA`."""
    index += 1
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """(0, 0) → `A1`."""
    return f"{column_letters(col)}{row + 1}"


def quote_title(title: str) -> str:
    """Quote a sheet title the way the API echoes it in `range`."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _endpoint(text: str) -> Endpoint:
    m = _ENDPOINT.match(text)
    if not text or not m or (m.group(1) is None and m.group(2) is None):
        raise RangeError(text)
    col = column_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise RangeError(text)
    return Endpoint(col, row)


def parse_cells(text: str) -> tuple[Endpoint, Endpoint]:
    """`A1:B2`, `A1`, `A:B`, `2:3`, `A2:Z` → (start, end) endpoints."""
    parts = text.split(":")
    if len(parts) == 1:
        ep = _endpoint(parts[0])
        if ep.col is None or ep.row is None:
            raise RangeError(text)  # `A` or `3` alone is not a range
        return ep, ep
    if len(parts) != 2:
        raise RangeError(text)
    start, end = _endpoint(parts[0]), _endpoint(parts[1])
    # `A:5` mixes a whole column with a whole row; Google rejects it.
    if (start.col is None) != (end.col is None) and start.row is None and end.row is None:
        raise RangeError(text)
    return start, end


def parse_range(text: str, titles: list[str]) -> ParsedRange:
    """Split `'Tab'!A1:B2` into title and cells; a bare known title means the whole tab."""
    text = text.strip()
    if not text:
        raise RangeError(text)
    if text.startswith("'"):
        i, title = 1, ""
        while True:
            j = text.find("'", i)
            if j < 0:
                raise RangeError(text)
            title += text[i:j]
            if text[j + 1 : j + 2] == "'":
                title += "'"
                i = j + 2
                continue
            rest = text[j + 1 :]
            break
        if rest == "":
            return ParsedRange(title)
        if not rest.startswith("!"):
            raise RangeError(text)
        start, end = parse_cells(rest[1:])
        return ParsedRange(title, start, end)
    if text in titles:
        return ParsedRange(text)
    if "!" in text:
        title, _, cells = text.rpartition("!")
        if not cells:
            return ParsedRange(title)
        start, end = parse_cells(cells)
        return ParsedRange(title, start, end)
    start, end = parse_cells(text)
    return ParsedRange(None, start, end)

"""What a typed string becomes in Sheets, how a number is displayed, and trivial formulas."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol

EPOCH = dt.date(1899, 12, 30)  # serial number 0 in Sheets

ERROR_TEXT = {
    "ERROR": "#ERROR!",
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
}


@dataclass(frozen=True)
class FormulaError:
    """An `errorValue`: its type (`NAME`, `DIVIDE_BY_ZERO` …) and message."""

    type: str
    message: str

    @property
    def text(self) -> str:
        return ERROR_TEXT.get(self.type, "#ERROR!")


def symbols(locale: str) -> tuple[str, str]:
    """Decimal and group symbols of a Sheets locale such as `en_US` or `de_DE`."""
    return get_decimal_symbol(locale), get_group_symbol(locale)


# --- input -----------------------------------------------------------------------------


def _number(text: str, locale: str) -> tuple[float, dict | None] | None:
    decimal, group = symbols(locale)
    s = text.strip().replace("\u00a0", " ")
    sign = 1.0
    if s[:1] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    currency = s.startswith("$") and locale.startswith("en")
    if currency:
        s = s[1:]
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    g, d = re.escape(group.replace("\u00a0", " ")), re.escape(decimal)
    m = re.fullmatch(rf"(\d{{1,3}}(?:{g}\d{{3}})+|\d*)(?:{d}(\d*))?(?:[eE]([+-]?\d+))?", s)
    if not m or not (m.group(1) or m.group(2)):
        return None
    whole, frac, exp = m.group(1), m.group(2), m.group(3)
    value = float(f"{whole.replace(group, '').replace(' ', '') or '0'}.{frac or '0'}e{exp or 0}")
    value *= sign
    decimals = "." + "0" * 2 if frac else ""
    if percent:
        return value / 100, {"type": "PERCENT", "pattern": f"0{decimals}%"}
    if currency:
        return value, {"type": "CURRENCY", "pattern": '"$"#,##0.00'}
    if exp is not None:
        return value, {"type": "SCIENTIFIC", "pattern": "0.00E+00"}
    if group in whole or (group == "\u00a0" and " " in whole):
        return value, {"type": "NUMBER", "pattern": f"#,##0{decimals}"}
    return value, None


_DATES = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), "ymd", "yyyy-mm-dd"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "mdy", "M/d/yyyy"),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), "dmy", "d.M.yyyy"),
]


def _date(text: str, locale: str) -> tuple[float, dict] | None:
    for pattern, order, fmt in _DATES:
        m = pattern.fullmatch(text.strip())
        if not m or (order == "mdy" and not locale.startswith("en")):
            continue
        if order == "dmy" and locale.startswith("en"):
            continue
        parts = dict(zip(order, map(int, m.groups()), strict=True))
        try:
            day = dt.date(parts["y"], parts["m"], parts["d"])
        except ValueError:
            return None
        return float((day - EPOCH).days), {"type": "DATE", "pattern": fmt}
    return None


def user_entered(raw: Any, locale: str) -> tuple[dict | None, dict | None]:
    """`(userEnteredValue, implied numberFormat)` for a value typed into a cell.

    Strings are parsed as Sheets does for USER_ENTERED: formulas, booleans, numbers in the
    sheet's locale (with `%`, `$`, group separators), dates; `'` forces text.
    A None format means "leave the cell's format as it is".
    """
    if isinstance(raw, bool):
        return {"boolValue": raw}, None
    if isinstance(raw, int | float):
        return {"numberValue": float(raw)}, None
    text = str(raw)
    if text == "":
        return None, None
    if text.startswith("=") and len(text) > 1:
        return {"formulaValue": text}, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.strip().upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.strip().upper() == "TRUE"}, None
    for parse in (_number, _date):
        parsed = parse(text, locale)
        if parsed is not None:
            return {"numberValue": parsed[0]}, parsed[1]
    return {"stringValue": text}, None


def raw_entered(raw: Any) -> dict | None:
    """`userEnteredValue` for RAW input: strings stay strings, even `=IMPORTXML(…)`."""
    if isinstance(raw, bool):
        return {"boolValue": raw}
    if isinstance(raw, int | float):
        return {"numberValue": float(raw)}
    text = str(raw)
    return {"stringValue": text} if text != "" else None


# --- display -------------------------------------------------------------------------


def json_number(value: float) -> float | int:
    """Numbers as Google's JSON writes them: `12`, not `12.0`."""
    if value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _grouped(value: float, decimals: int, grouping: bool, locale: str) -> str:
    decimal, group = symbols(locale)
    text = f"{abs(value):,.{decimals}f}" if grouping else f"{abs(value):.{decimals}f}"
    text = text.replace(",", "\0").replace(".", decimal).replace("\0", group)
    return (
        "-" if value < 0 and float(text.replace(group, "").replace(decimal, ".")) else ""
    ) + text


def _general(value: float, locale: str) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(round(value, 10), ".15g")
    return text.replace(".", symbols(locale)[0])


def _decimals(pattern: str) -> int:
    m = re.search(r"\.(0+)", pattern)
    return len(m.group(1)) if m else 0


def format_number(value: float, fmt: dict | None, locale: str) -> str:
    """`formattedValue` of a number under a `numberFormat` (the common patterns only)."""
    kind = (fmt or {}).get("type")
    pattern = (fmt or {}).get("pattern", "")
    if kind == "PERCENT":
        return _grouped(value * 100, _decimals(pattern), False, locale) + "%"
    if kind == "CURRENCY":
        text = _grouped(abs(value), _decimals(pattern) if pattern else 2, True, locale)
        return ("-" if value < 0 else "") + "$" + text
    if kind == "NUMBER" and pattern:
        return _grouped(value, _decimals(pattern), "," in pattern, locale)
    if kind == "SCIENTIFIC":
        return f"{value:.2E}".replace(".", symbols(locale)[0])
    if kind in ("DATE", "DATE_TIME") and math.isfinite(value):
        day = EPOCH + dt.timedelta(days=int(value))
        pattern = pattern or "M/d/yyyy"
        out = pattern.replace("yyyy", f"{day.year:04d}")
        out = out.replace("mm", f"{day.month:02d}").replace("dd", f"{day.day:02d}")
        out = re.sub(r"(?<![Md])M(?!M)", str(day.month), out)
        return re.sub(r"(?<!d)d(?!d)", str(day.day), out)
    return _general(value, locale)


def display(value: Any, fmt: dict | None, locale: str) -> str:
    """`formattedValue` of an effective value."""
    if isinstance(value, FormulaError):
        return value.text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_number(value, fmt, locale)
    return str(value)


def as_extended(value: Any) -> dict:
    """An effective Python value as an ExtendedValue (`effectiveValue`)."""
    if isinstance(value, FormulaError):
        return {"errorValue": {"type": value.type, "message": value.message}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, float):
        return {"numberValue": json_number(value)}
    return {"stringValue": value}


# --- formulas --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)"
    r"|(?P<ref>\$?[A-Za-z]{1,3}\$?\d+)(?![A-Za-z0-9_(])"
    r"|(?P<func>[A-Za-z_][A-Za-z0-9_.]*)\s*\("
    r'|(?P<str>"(?:[^"]|"")*")'
    r"|(?P<op>[-+*/^&(),]))"
)


class _ParseError(Exception):
    pass


class _Formula:
    """Arithmetic, `&`, string literals and same-sheet cell references; no functions."""

    def __init__(self, text: str, lookup: Callable[[str], Any]) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _ParseError(text)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.lookup = lookup

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise _ParseError("end")
        self.i += 1
        return tok

    def evaluate(self) -> Any:
        value = self._binary(0)
        if self._peek() is not None:
            raise _ParseError("trailing")
        return value

    _LEVELS = (("&",), ("+", "-"), ("*", "/"), ("^",))

    def _binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while (tok := self._peek()) and tok[0] == "op" and tok[1] in self._LEVELS[level]:
            self._take()
            right = self._binary(level + 1)
            left = _apply(tok[1], left, right)
        return left

    def _unary(self) -> Any:
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in "+-":
            self._take()
            value = self._unary()
            return _apply("*", -1.0 if tok[1] == "-" else 1.0, value)
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            return self.lookup(text.replace("$", "").upper())
        if kind == "func":
            depth = 1  # skip the arguments: every function is unknown to the fake
            while depth:
                _, t = self._take()
                depth += {"(": 1, ")": -1}.get(t, 0)
            return FormulaError("NAME", f"Unknown function: '{text.upper()}'.")
        if (kind, text) == ("op", "("):
            value = self._binary(0)
            if self._take() != ("op", ")"):
                raise _ParseError(")")
            return value
        raise _ParseError(text)


def _to_number(value: Any) -> float | FormulaError:
    if isinstance(value, FormulaError | float):
        return value
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return FormulaError(
            "VALUE",
            f"Function ADD parameter expects number values. "
            f"But '{value}' is a text and cannot be coerced to a number.",
        )


def _apply(op: str, left: Any, right: Any) -> Any:
    if op == "&":
        for v in (left, right):
            if isinstance(v, FormulaError):
                return v
        return display_plain(left) + display_plain(right)
    a, b = _to_number(left), _to_number(right)
    for v in (a, b):
        if isinstance(v, FormulaError):
            return v
    assert isinstance(a, float)
    assert isinstance(b, float)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return FormulaError("DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
        return a / b
    try:
        return float(a**b)
    except (OverflowError, ZeroDivisionError):
        return FormulaError("NUM", "Result out of range.")


def display_plain(value: Any) -> str:
    if value is None:
        return ""
    return display(value, None, "en_US")


def evaluate_formula(formula: str, lookup: Callable[[str], Any]) -> Any:
    """Effective value of `=…`: float, str, bool or FormulaError."""
    try:
        value = _Formula(formula[1:], lookup).evaluate()
    except _ParseError:
        return FormulaError("ERROR", "Formula parse error.")
    if value is None:
        return 0.0
    if isinstance(value, float) and not math.isfinite(value):
        return FormulaError("NUM", "Result out of range.")
    return value

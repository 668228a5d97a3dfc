"""Numbers as people type them into the web forms: '1,234.5', '(1,234)', '12.5%', '€ 12'.

One pure function, `parse_number`, turns what someone typed into an exact Decimal or
refuses it with a message they can act on. It forgives what carries no doubt (thousands
separators, spaces of any kind, the unit's own sign, a Unicode minus, accounting
brackets) and refuses what could mean two things: "1.234,5" or "1,2" is a number in
some countries and a different one in others, so it is never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, localcontext
from functools import lru_cache

from babel.numbers import get_currency_name

from hub.domain.formatting import UNITS
from hub.domain.numbers import checked_decimal

__all__ = ["CURRENCY_SYMBOLS", "MAX_LENGTH", "parse_number"]

MAX_LENGTH = 64  # longer than any number the app can store, written with separators
_PRECISION = 60

# Signs that mean minus: the Unicode minus, figure dash, en dash and small/full-width
# hyphen-minus (word processors and phones put these in where people typed "-").
_MINUSES = str.maketrans(dict.fromkeys("\u2212\u2012\u2013\ufe63\uff0d", "-"))

# Which currencies each symbol may stand for; "$" is written for many dollars and pesos.
CURRENCY_SYMBOLS: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
}
_HOURS = ("hours", "hour", "hrs", "hr", "h")

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_COMMA_GROUPS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", re.ASCII)
_SPACE_GROUPS = re.compile(r"[0-9]{1,3}(?: [0-9]{3})+(?:\.[0-9]*)?", re.ASCII)
_NUMBER_CHARS = re.compile(r"[0-9., ]+", re.ASCII)
_LEADING_CODE = re.compile(r"([A-Za-z]{3}) *(?=[-+(.0-9])", re.ASCII)
_TRAILING_CODE = re.compile(r"(?<=[.)0-9]) *([A-Za-z]{3})$", re.ASCII)
_NOT_FINITE = {"nan", "snan", "inf", "infinity", "∞"}


def parse_number(text: str, unit: str, *, currency: str | None = None) -> Decimal:
    """The number someone typed for a value of `unit`, or ValueError saying what to fix.

    Accepts "1234.5", "-3", "+3", "1,234,567.5", "1 234 567" (any space), "−5" (Unicode
    minus), "(1,234)" (a negative, as accountants write it), "12.5%" for a percent unit,
    "$1,234", "1 234 €" or "EUR 12" for a currency unit (with `currency` given, the sign
    or code must be that currency's), "4.5 h" for a duration. Refuses an empty text,
    letters, several numbers, ambiguous grouping such as "1,2,3", a decimal comma
    ("1.234,5"), NaN or infinity, more than 10 decimal places and 10^24 or more.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(UNITS)})")
    if not isinstance(text, str):
        raise TypeError(f"expected the typed text, not {type(text).__name__}")
    shown = _quote(text)
    # NFKC turns no-break and thin spaces into plain ones and full-width digits into
    # ASCII; every run of blanks then counts as one space.
    typed = " ".join(unicodedata.normalize("NFKC", text).translate(_MINUSES).split())
    if not typed:
        raise ValueError("Enter a number.")
    if len(typed) > MAX_LENGTH:
        raise ValueError("That is too long to be a number.")
    if typed.lower().lstrip("+-") in _NOT_FINITE:
        raise ValueError(f"{shown} is not a number you can store: enter a finite number.")

    core, negative = _unwrap(typed, unit, currency, shown)
    number = _digits(core, unit, shown)
    # 24 digits before the point and 10 after are 34 significant digits: more than the
    # default context's 28, which would round them (negation and normalising included).
    with localcontext(prec=_PRECISION):
        try:
            return checked_decimal(-number if negative else number, what=shown)
        except ValueError as error:  # too large or too many places, said about what was typed
            raise ValueError(f"{error}.") from None


def _quote(text: str) -> str:
    text = text.strip()
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


def _unwrap(typed: str, unit: str, currency: str | None, shown: str) -> tuple[str, bool]:
    """Peel signs, accounting brackets and unit marks off both ends: (core, negative)."""
    core = typed
    sign: str | None = None
    brackets = False
    marked = False
    while True:
        core = core.strip()
        if core[:1] in ("+", "-") and sign is None:
            sign, core = core[0], core[1:]
        elif core[:1] == "(" and core[-1:] == ")" and not brackets:
            brackets, core = True, core[1:-1]
        elif not marked and (rest := _unit_mark(core, unit, currency, shown)) is not None:
            marked, core = True, rest
        else:
            break
    if brackets and sign is not None:
        raise ValueError(
            f"{shown}: write a negative number with a minus sign or in brackets, not both."
        )
    if brackets and not core:
        raise ValueError(f"{shown} is not a number.")
    return core, brackets or sign == "-"


def _unit_mark(core: str, unit: str, currency: str | None, shown: str) -> str | None:
    """`core` without the unit's mark at one end, None when it has none.

    A mark of another unit is refused here, with the reason, rather than later as
    "letters": "12%" on a money KPI is a mistake worth naming.
    """
    if core.endswith("%"):
        if unit != "percent":
            raise ValueError(f"{shown}: this is not a percentage; type the number without %.")
        return core[:-1]
    for symbol, currencies in CURRENCY_SYMBOLS.items():
        if core.startswith(symbol) or core.endswith(symbol):
            _check_currency(symbol, currencies, unit, currency, shown)
            return core.removeprefix(symbol) if core.startswith(symbol) else core[:-1]
    code = _LEADING_CODE.match(core) or _TRAILING_CODE.search(core)
    if code and _is_currency_code(code[1].upper()):
        _check_currency(code[1].upper(), {code[1].upper()}, unit, currency, shown)
        return core[: code.start()] + core[code.end() :]
    if unit == "duration":
        lowered = core.lower()
        for word in _HOURS:
            if lowered.endswith(word) and lowered[: -len(word)].rstrip()[-1:].isdigit():
                return core[: -len(word)]
    return None


def _check_currency(
    mark: str, currencies: set[str] | frozenset[str], unit: str, currency: str | None, shown: str
) -> None:
    if unit != "currency":
        raise ValueError(
            f"{shown}: this is not an amount of money; type the number without {mark}."
        )
    if currency is not None and currency not in currencies:
        raise ValueError(
            f"{shown}: amounts here are in {currency}; type the number without {mark}."
        )


@lru_cache(maxsize=512)
def _is_currency_code(code: str) -> bool:
    return get_currency_name(code, locale="en") != code


def _digits(core: str, unit: str, shown: str) -> Decimal:
    """The unsigned number in `core`, written plainly or with thousands separators."""
    for pattern in (_PLAIN, _COMMA_GROUPS, _SPACE_GROUPS):
        if pattern.fullmatch(core):
            return Decimal(core.replace(",", "").replace(" ", ""))
    raise ValueError(_why_not(core, unit, shown))


def _why_not(core: str, unit: str, shown: str) -> str:
    """What is wrong with a text that is not a number, in words that say what to type."""
    if any(c.isalpha() for c in core):
        if unit == "duration":
            return f"{shown} is not a number: type hours as a number, like 1.5."
        return f"{shown} is not a number: type digits only, like 1234.5."
    if not any(c.isdigit() for c in core):
        return f"{shown} is not a number."
    if ":" in core and unit == "duration":
        return f"{shown}: type hours as a decimal number, like 1.5 for 1 h 30 min."
    if not _NUMBER_CHARS.fullmatch(core) or re.search(r"[0-9.,] +[0-9]{1,2}(?![0-9])", core):
        # "5-6", "5/6", "12 13": two numbers where one was expected.
        if re.search(r"[0-9][^0-9.,]+[0-9]", core):
            return f"{shown} looks like several numbers: enter one."
        return f"{shown} is not a number."
    last_dot, last_comma = core.rfind("."), core.rfind(",")
    if last_comma > last_dot and (last_dot != -1 or " " in core):
        # "1.234,5" and "1 234,5": a decimal comma after grouped thousands.
        return f"{shown}: use a dot for decimals, like 1234.5 (commas group thousands)."
    if core.count(".") > 1:
        return (
            f"{shown}: group thousands with commas or spaces and use one dot for decimals, "
            "like 1,234,567.5."
        )
    if "," in core:
        if core.count(",") == 1 and last_dot == -1:
            return (
                f"{shown} could be read two ways: use a dot for decimals (like 1.5) and "
                "commas only between groups of three digits (like 1,234)."
            )
        return f"{shown}: commas group thousands in threes, like 1,234,567."
    return f"{shown} looks like several numbers: enter one."

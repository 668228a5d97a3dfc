"""Cells of the Google Sheet read as exact numbers, or refused with a reason a person can act on.

`parse_cell` takes what the Sheets API returns for a value cell with
`valueRenderOption=UNFORMATTED_VALUE` (int or float for what Sheets understood as a number,
bool for a checkbox, str for text, None or "" for nothing) together with the cell's number
format, and returns `Empty`, a `Number` in the unit the app stores (12 % is 12) or a
`Problem` naming the text and the reason. Text is read strictly in the sheet's locale by
babel's `parse_decimal(strict=True)`, after forgiving what carries no doubt: blanks of any
kind, Unicode minus signs, accounting brackets, the KPI's own `%` or currency, and k/M/B.
Whatever could mean two things ("1,234" where a comma marks decimals) is refused, never
guessed: a refused cell keeps the app's value, so a wrong guess is the only way to lose one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    get_decimal_symbol,
    get_group_symbol,
    is_currency,
    parse_decimal,
)

from hub.domain.formatting import UNITS
from hub.domain.input_numbers import CURRENCY_SYMBOLS
from hub.domain.numbers import MAX_PLACES, checked_decimal

__all__ = ["CellValue", "Empty", "Number", "Problem", "parse_cell", "problem_note"]


@dataclass(frozen=True, slots=True)
class Empty:
    """A cell with nothing in it, or only blanks."""


@dataclass(frozen=True, slots=True)
class Number:
    """A cell read as a number, in the unit the app stores (a percent KPI stores 12 % as 12)."""

    value: Decimal


@dataclass(frozen=True, slots=True)
class Problem:
    """A cell the app could not read: what it holds and why, in words for whoever typed it."""

    text: str
    reason: str


CellValue = Empty | Number | Problem

MAX_LENGTH = 64  # longer than any number the app can store, written with separators
_PRECISION = 60  # 24 digits before the point and 10 after, times 10^9 for "B", fit easily

# Signs that mean minus: the Unicode minus, hyphens, figure/en/em dashes and small and
# full-width hyphen-minus (word processors and phones put these in where people typed "-").
_TRANSLATIONS = str.maketrans(
    {
        **dict.fromkeys("\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe58\ufe63\uff0d", "-"),
        "\uff05": "%",
        "\ufe6a": "%",
        "\uff08": "(",
        "\uff09": ")",
    }
)
# Which currencies each sign may stand for ("$" is written for many dollars and pesos).
_CURRENCY_SIGNS: dict[str, frozenset[str]] = {**CURRENCY_SYMBOLS, "₹": frozenset({"INR"})}
_SUFFIXES = {"k": 1_000, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_SHEET_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"}
)
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity", "∞"})
_DATE_OR_TIME_FORMATS = frozenset({"DATE", "TIME", "DATE_TIME"})

_SHEET_ERROR = re.compile(r"#[A-Z][A-Z0-9/]*[!?]|#N/A", re.ASCII)
_DATES = (
    re.compile(r"[0-9]{4}-[0-9]{1,2}(?:-[0-9]{1,2})?(?:[ T][0-9:.]+)?", re.ASCII),
    re.compile(r"[0-9]{1,2}([-/.])[0-9]{1,2}\1[0-9]{2,4}(?: [0-9:.]+)?", re.ASCII),
    re.compile(r"[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}", re.ASCII),
)
_TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)? ?(?:[AaPp]\.?[Mm]\.?)?")
_FRACTION = re.compile(r"[0-9]+/[0-9]+", re.ASCII)
_SCIENTIFIC = re.compile(r"[0-9.,]*[0-9][eE][-+]?[0-9]+", re.ASCII)
_SUFFIX = re.compile(r"(?<=[0-9.]) ?([kKMB])$", re.ASCII)
_LEADING_CODE = re.compile(r"([A-Za-z]{3}) ?(?=[-+(.,0-9])", re.ASCII)
_TRAILING_CODE = re.compile(r"(?<=[.,)0-9]) ?([A-Za-z]{3})$", re.ASCII)
_SEVERAL = re.compile(r"[0-9][^0-9.,]+[0-9]", re.ASCII)
_MARK_NAMES = {".": "a dot", ",": "a comma", "'": "an apostrophe", "’": "an apostrophe"}
_GROUP_NAMES = {".": "dots", ",": "commas", "'": "apostrophes", "’": "apostrophes"}


class _Refused(Exception):
    """Raised inside this module with the reason a cell cannot be read."""


def parse_cell(
    raw: object,
    *,
    unit: str,
    locale: str = "en_US",
    number_format: str | None = None,
    currency: str | None = None,
) -> CellValue:
    """What a value cell holds, read for a KPI of `unit`: Empty, a Number or a Problem.

    `raw` is the cell as read with UNFORMATTED_VALUE, `locale` the spreadsheet's locale and
    `number_format` the cell's userEnteredFormat.numberFormat.type when known (a percent
    KPI's 0.12 formatted as PERCENT is 12; a plain 12 is 12 too; magnitude is never used).
    With `currency` given, a currency sign or code in the text must be that currency's.
    Never raises for any cell content; raises ValueError only for an unknown `unit`.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(UNITS)})")
    if raw is None:
        return Empty()
    if isinstance(raw, bool):  # before int: a checkbox is a bool, and bool is an int
        return Problem("TRUE" if raw else "FALSE", "TRUE/FALSE is not a number")
    if isinstance(raw, int | float | Decimal):
        return _read_number(raw, unit, (number_format or "").upper())
    if isinstance(raw, str):
        return _read_text(raw, unit, locale, currency)
    text = repr(raw)
    return Problem(text, f"{_quote(text)} is not a number")


def problem_note(problem: Problem) -> str:
    """The note the app attaches to a cell it could not read."""
    return (
        f"Strategy Hub could not read this cell: {problem.reason}. "
        "The app keeps its value until this is fixed."
    )


SHEETS_DIGITS = 15  # the significant digits Sheets shows of a number


def _read_number(raw: int | float | Decimal, unit: str, number_format: str) -> CellValue:
    """A cell that Sheets itself understood as a number."""
    if isinstance(raw, float):
        # repr is the shortest text that round-trips, so 0.1 stays 0.1 (no binary noise).
        number = Decimal(repr(raw))
    else:
        number = Decimal(raw)
    if not number.is_finite():
        text = str(raw)
        return Problem(text, f"{_quote(text)} is not a finite number")
    if isinstance(raw, float):
        number = _as_sheets_shows(number)
    with localcontext(prec=_PRECISION):
        text = f"{number:f}"
        if number_format in _DATE_OR_TIME_FORMATS:
            return Problem(
                text, "this cell holds a date or time (it is formatted as one), not a number"
            )
        if number_format == "PERCENT":
            # Sheets turns a typed "12%" into 0.12 shown with a percent format.
            number = number * 100
            if unit != "percent":
                return Problem(
                    text,
                    f"the cell shows {number.normalize():f}%, but this KPI is not measured "
                    "in percent; format the cell as a plain number",
                )
        return _checked(number, text, from_sheet_number=True)


def _read_text(raw: str, unit: str, locale: str, currency: str | None) -> CellValue:
    """A cell holding text: a number written in the sheet's locale, or a Problem."""
    # Format characters (zero-width spaces, direction marks, a BOM) are invisible: drop
    # them. Every kind of blank (no-break, narrow no-break, thin) counts as one space.
    visible = "".join(c for c in raw if unicodedata.category(c) != "Cf")
    text = " ".join(_ascii_digits(visible.translate(_TRANSLATIONS)).split())
    if not text:
        return Empty()
    shown = _quote(raw)
    try:
        if len(text) > MAX_LENGTH:
            raise _Refused(f"{shown} is too long to be a number")
        _refuse_non_numbers(text, shown)
        core, negative, factor = _unwrap(text, unit, currency, shown)
        number = _digits(core, locale, shown)
    except _Refused as refused:
        return Problem(raw, str(refused))
    with localcontext(prec=_PRECISION):
        number = number * factor
        return _checked(-number if negative else number, raw, from_sheet_number=False)


def _as_sheets_shows(number: Decimal) -> Decimal:
    """A number Sheets computed, at the precision Sheets itself has.

    Sheets keeps numbers as doubles and shows at most 15 significant digits, so a formula
    like =0.1+0.2 (0.30000000000000004) or =A1/B1 (0.3333333333333333) means what it
    shows: 0.3 and 0.333333333333333. That is then kept to the app's 10 decimal places,
    unless doing so would turn a tiny non-zero number into 0 (left for a Problem).
    Numbers with 10 places or fewer are exact already and kept as they are.
    """
    exponent = number.as_tuple().exponent
    if not (isinstance(exponent, int) and -exponent > MAX_PLACES):
        return number  # as exact as the app keeps it: nothing to round
    with localcontext(prec=SHEETS_DIGITS):
        shown = +number  # rounds to the context's precision
    exponent = shown.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_PLACES:
        kept = shown.quantize(Decimal(1).scaleb(-MAX_PLACES))
        if not kept.is_zero():
            return kept
    return shown


def _checked(number: Decimal, text: str, *, from_sheet_number: bool) -> CellValue:
    """`number` as the app stores it, or a Problem when it is too large or too precise."""
    shown = _quote(text)
    with localcontext(prec=_PRECISION):
        try:
            return Number(checked_decimal(number, what=shown))
        except ValueError as error:
            reason = str(error)
    if from_sheet_number and "decimal places" in reason:
        # Formulas such as =A1/B1 give 15-17 significant digits; say how to fix that.
        reason = (
            f"{shown} has more than {MAX_PLACES} decimal places; "
            "round it in the sheet, for example with the ROUND function"
        )
    return Problem(text, reason)


def _ascii_digits(text: str) -> str:
    """`text` with every decimal digit of any script (full-width, Arabic-Indic…) as 0-9."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


def _refuse_non_numbers(text: str, shown: str) -> None:
    """Refuse, by name, what a sheet holds that is plainly not a number."""
    if text.upper() in _SHEET_ERRORS or _SHEET_ERROR.fullmatch(text):
        raise _Refused(f"{text} is an error in the sheet")
    if text.lower().lstrip("+-") in _NOT_FINITE:
        raise _Refused(f"{shown} is not a finite number")
    if any(pattern.fullmatch(text) for pattern in _DATES):
        raise _Refused(f"{shown} looks like a date, not a number")
    if _TIME.fullmatch(text):
        raise _Refused(f"{shown} looks like a time, not a number")
    if _FRACTION.fullmatch(text):
        raise _Refused(f"{shown} looks like a date or a fraction, not a number")


def _unwrap(text: str, unit: str, currency: str | None, shown: str) -> tuple[str, bool, int]:
    """Peel signs, brackets, %, currency and k/M/B off both ends: (core, negative, factor)."""
    core = text
    sign: str | None = None
    brackets = percent = money = False
    factor = 1
    while True:
        core = core.strip()
        if core.startswith(("+", "-")) and sign is None:
            sign, core = core[0], core[1:]
        elif core.startswith("(") and core.endswith(")") and not brackets:
            brackets, core = True, core[1:-1]
        elif core.endswith("%") and not percent:
            if unit != "percent":
                raise _Refused(
                    f"{shown} is a percentage, but this KPI is not measured in percent; "
                    "type the number without %"
                )
            percent, core = True, core[:-1]
        elif not money and (rest := _without_money(core, unit, currency, shown)) is not None:
            money, core = True, rest
        elif factor == 1 and (suffix := _SUFFIX.search(core)):
            factor, core = _SUFFIXES[suffix[1]], core[: suffix.start()]
        else:
            break
    if brackets and sign is not None:
        raise _Refused(f"{shown} has a sign and brackets; write a negative number with one")
    if percent and factor != 1:
        raise _Refused(f"{shown} mixes % with {_suffix_letter(factor)}; type a plain percentage")
    return core, brackets or sign == "-", factor


def _suffix_letter(factor: int) -> str:
    """The letter that multiplies by `factor` (k, M or B)."""
    return next(letter for letter, value in _SUFFIXES.items() if value == factor)


def _without_money(core: str, unit: str, currency: str | None, shown: str) -> str | None:
    """`core` without a currency sign or ISO code at one end, None when it has none."""
    for sign, currencies in _CURRENCY_SIGNS.items():
        if core.startswith(sign) or core.endswith(sign):
            _check_money(sign, currencies, unit, currency, shown)
            return core.removeprefix(sign) if core.startswith(sign) else core[: -len(sign)]
    code = _LEADING_CODE.match(core) or _TRAILING_CODE.search(core)
    if code and is_currency(code[1].upper()):
        _check_money(code[1], frozenset({code[1].upper()}), unit, currency, shown)
        return core[: code.start()] + core[code.end() :]
    return None


def _check_money(
    mark: str, currencies: frozenset[str], unit: str, currency: str | None, shown: str
) -> None:
    if unit != "currency":
        raise _Refused(
            f"{shown} is an amount of money, but this KPI is not measured in money; "
            f"type the number without {mark}"
        )
    if currency is not None and currency not in currencies:
        raise _Refused(f"{shown} is not in {currency}, the currency of this KPI")


@lru_cache(maxsize=64)
def _symbols(locale: str) -> tuple[Locale, str, str]:
    """The babel locale, its decimal mark and its group mark (any blank as a space)."""
    parsed = Locale.parse(locale)
    group = get_group_symbol(parsed)
    return parsed, get_decimal_symbol(parsed), " " if group.isspace() else group


def _digits(core: str, locale: str, shown: str) -> Decimal:
    """The unsigned number written in `core`, read strictly in the sheet's locale."""
    try:
        parsed, decimal, group = _symbols(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        raise _Refused(f"this sheet's locale ({locale}) is unknown to the app") from None
    if not any(c in "0123456789" for c in core):
        raise _Refused(_why_no_digits(shown))
    if any(c not in "0123456789., " and c not in (decimal, group) for c in core):
        raise _Refused(_why_not(core, shown))
    if re.search(r"(?<![0-9]) | (?![0-9])", core):
        raise _Refused(f"{shown} is not one number")
    _refuse_other_convention(core, locale, decimal, group, shown)
    spaced = " " in core
    if " " in core and group != " ":
        if group in core:
            raise _Refused(
                f"{shown} groups digits with both spaces and {_group_name(group)}; use one"
            )
        core = core.replace(" ", group)  # "1 234.5" groups thousands as plainly as "1,234.5"
    try:
        return parse_decimal(core.replace(" ", get_group_symbol(parsed)), parsed, strict=True)
    except NumberFormatError as error:
        if spaced:
            raise _Refused(
                f"{shown} looks like several numbers, or digits grouped wrongly; enter one"
            ) from None
        if error.suggestions:
            meant = " or ".join(error.suggestions)
            raise _Refused(
                f"{shown} does not group digits the way this sheet's locale ({locale}) "
                f"does; did you mean {meant}?"
            ) from None
        raise _Refused(f"{shown} is not a number in this sheet's locale ({locale})") from None


def _refuse_other_convention(core: str, locale: str, decimal: str, group: str, shown: str) -> None:
    """Refuse decimals written the other way ("1.234,5" in en_US) and ambiguous "1,234"."""
    if decimal not in ".,":
        return
    other = "," if decimal == "." else "."
    if other in core:
        if group != other:
            raise _Refused(
                f"{shown} uses {_MARK_NAMES[other]}, but this sheet's locale ({locale}) "
                f"writes decimals with {_MARK_NAMES[decimal]} and groups digits with "
                f"{_group_name(group)}"
            )
        last = core.rfind(other)
        tail = core[last + 1 :]
        if decimal in core[:last] or (
            core.count(other) == 1 and decimal not in core and len(tail) != 3
        ):
            raise _Refused(
                f"{shown} uses {_MARK_NAMES[other]} for decimals, but this sheet's locale "
                f"({locale}) uses {_MARK_NAMES[decimal]}"
            )
    if re.fullmatch(rf"[1-9][0-9]{{0,2}}{re.escape(decimal)}[0-9]{{3}}", core):
        whole = core.replace(decimal, "")
        raise _Refused(
            f"{shown} is ambiguous: in this sheet's locale ({locale}) {_MARK_NAMES[decimal]} "
            f"marks decimals, but in many places it groups thousands; type {whole} if you "
            "mean a whole number, or enter the cell as a number rather than text"
        )


def _group_name(group: str) -> str:
    return "spaces" if group == " " else _GROUP_NAMES.get(group, f"'{group}'")


def _why_no_digits(shown: str) -> str:
    if any(c.isalpha() for c in shown):
        return f"{shown} is text, not a number"
    return f"{shown} has no number in it; clear the cell to leave it empty"


def _why_not(core: str, shown: str) -> str:
    """What is wrong with a text that has digits but is not a number."""
    if _SCIENTIFIC.fullmatch(core):
        return f"{shown} is in scientific notation; type the number in full"
    if any(c.isalpha() for c in core):
        return f"{shown} has words besides the number; type only the number"
    if _SEVERAL.search(core):
        return f"{shown} looks like several numbers; enter one"
    return f"{shown} is not a number"

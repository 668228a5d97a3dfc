"""Reporting periods: weeks, months and (fiscal) quarters, their keys and grace days.

A workspace's calendar is two numbers: `week_start` (0 = Monday … 6 = Sunday, as
`date.weekday()`) and `fy_start_month` (1 = January … 12). Every function here takes
them as keyword arguments so the same rules serve every workspace.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "GRACE_DAYS",
    "MAX_YEAR",
    "MIN_YEAR",
    "WEEKDAYS",
    "Cadence",
    "Period",
    "PeriodError",
    "grace_deadline",
    "is_valid_time_zone",
    "last_n_periods",
    "local_today",
    "next_period",
    "parse_period",
    "period_for",
    "periods_between",
    "previous_period",
    "quarter_bounds",
    "quarter_name",
]


class Cadence(StrEnum):
    """How often a KPI gets a value."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(calendar.month_name)[1:]  # English on purpose: messages are English

# Keys outside these years are refused when parsed; four-digit years keep keys sortable.
MIN_YEAR = 1900
MAX_YEAR = 9999

GRACE_DAYS: dict[Cadence, int] = {Cadence.WEEKLY: 2, Cadence.MONTHLY: 5, Cadence.QUARTERLY: 10}


class PeriodError(ValueError):
    """A period key that does not name a period of this cadence and calendar."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: first and last day (inclusive), its key and cadence."""

    start: date
    end: date
    key: str
    cadence: Cadence


def _check_calendar(week_start: int, fy_start_month: int) -> None:
    # These come from workspace settings, so a bad one is a programming error, not input.
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), not {week_start!r}")
    if not 1 <= fy_start_month <= 12:
        raise ValueError(f"fy_start_month must be 1 to 12, not {fy_start_month!r}")


def _month_index(year: int, month: int) -> int:
    """Months counted from year 0, so month arithmetic is integer arithmetic."""
    return year * 12 + month - 1


def _month_first_day(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def _month_last_day(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])


def period_for(
    day: date, cadence: Cadence | str, *, week_start: int = 0, fy_start_month: int = 1
) -> Period:
    """The period of this cadence that contains `day`."""
    cadence = Cadence(cadence)
    _check_calendar(week_start, fy_start_month)
    try:
        return _period_for(day, cadence, week_start, fy_start_month)
    except OverflowError:
        raise PeriodError(f"{day.isoformat()} is outside the supported calendar") from None


def _period_for(day: date, cadence: Cadence, week_start: int, fy_start_month: int) -> Period:
    if cadence is Cadence.WEEKLY:
        start = day - timedelta(days=(day.weekday() - week_start) % 7)
        return Period(start, start + timedelta(days=6), start.isoformat(), cadence)
    index = _month_index(day.year, day.month)
    if cadence is Cadence.MONTHLY:
        key = f"{day.year:04d}-{day.month:02d}"
        return Period(_month_first_day(index), _month_last_day(index), key, cadence)
    months_into_year = (day.month - fy_start_month) % 12
    quarter = months_into_year // 3 + 1
    first = index - months_into_year % 3
    if fy_start_month == 1:
        key = f"{day.year:04d}-Q{quarter}"
    else:
        # A fiscal year is named by the calendar year of its last month.
        fy_end_year = (index - months_into_year + 11) // 12
        key = f"FY{fy_end_year:04d}-Q{quarter}"
    return Period(_month_first_day(first), _month_last_day(first + 2), key, cadence)


_WEEK_KEY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH_KEY = re.compile(r"([0-9]{4})-([0-9]{2})")
_CALENDAR_QUARTER_KEY = re.compile(r"([0-9]{4})-Q([0-9])")
_FISCAL_QUARTER_KEY = re.compile(r"FY([0-9]{4})-Q([0-9])")


def _check_year(year: int, key: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"{key} is outside the supported years {MIN_YEAR}–{MAX_YEAR}")


def parse_period(
    key: str, cadence: Cadence | str, *, week_start: int = 0, fy_start_month: int = 1
) -> Period:
    """The period a key names, or PeriodError saying what is wrong with the key."""
    cadence = Cadence(cadence)
    _check_calendar(week_start, fy_start_month)
    if not isinstance(key, str):
        raise PeriodError(f"{key!r} is not a {cadence} period key")
    # Surrounding blanks come from sheets and forms and carry no meaning; nothing else
    # is forgiven, so a key always has exactly one spelling.
    text = key.strip()
    if cadence is Cadence.WEEKLY:
        return _parse_week(text, week_start)
    if cadence is Cadence.MONTHLY:
        return _parse_month(text)
    return _parse_quarter(text, fy_start_month)


def _parse_week(text: str, week_start: int) -> Period:
    match = _WEEK_KEY.fullmatch(text)
    if match is None:
        raise PeriodError(
            f"{text!r} is not a weekly period key (expected the week's start date, YYYY-MM-DD)"
        )
    year, month, day = (int(part) for part in match.groups())
    _check_year(year, text)
    try:
        start = date(year, month, day)
    except ValueError:
        raise PeriodError(f"{text} is not a date (expected YYYY-MM-DD)") from None
    if start.weekday() != week_start:
        raise PeriodError(
            f"{text} is a {WEEKDAYS[start.weekday()].title()}; "
            f"weekly periods start on {WEEKDAYS[week_start].title()}"
        )
    return period_for(start, Cadence.WEEKLY, week_start=week_start)


def _parse_month(text: str) -> Period:
    match = _MONTH_KEY.fullmatch(text)
    if match is None:
        raise PeriodError(f"{text!r} is not a monthly period key (expected YYYY-MM)")
    year, month = int(match[1]), int(match[2])
    _check_year(year, text)
    if not 1 <= month <= 12:
        raise PeriodError(f"{text} is not a month (expected YYYY-MM)")
    return period_for(date(year, month, 1), Cadence.MONTHLY)


def _parse_quarter(text: str, fy_start_month: int) -> Period:
    fiscal = fy_start_month != 1
    example = "FY2027-Q1" if fiscal else "2026-Q4"
    calendar_match = _CALENDAR_QUARTER_KEY.fullmatch(text)
    fiscal_match = _FISCAL_QUARTER_KEY.fullmatch(text)
    if calendar_match and fiscal:
        raise PeriodError(
            f"{text} is a calendar quarter but this workspace's fiscal year starts in "
            f"{MONTHS[fy_start_month - 1]} (expected {example} style)"
        )
    if fiscal_match and not fiscal:
        raise PeriodError(
            f"{text} is a fiscal quarter but this workspace's fiscal year starts in January "
            f"(expected {example} style)"
        )
    match = fiscal_match or calendar_match
    if match is None:
        raise PeriodError(f"{text!r} is not a quarterly period key (expected {example} style)")
    year, quarter = int(match[1]), int(match[2])
    _check_year(year, text)
    if not 1 <= quarter <= 4:
        raise PeriodError(f"{text} is not a quarter (expected Q1 to Q4)")
    if fiscal:
        # FY<year> ends in <year>, so (when it does not start in January) it began the
        # year before, in the workspace's fiscal start month.
        first = _month_index(year - 1, fy_start_month) + 3 * (quarter - 1)
    else:
        first = _month_index(year, 1) + 3 * (quarter - 1)
    return period_for(_month_first_day(first), Cadence.QUARTERLY, fy_start_month=fy_start_month)


def next_period(p: Period, *, week_start: int = 0, fy_start_month: int = 1) -> Period:
    """The period right after `p`, of the same cadence."""
    try:
        day = p.end + timedelta(days=1)
    except OverflowError:
        raise PeriodError(f"{p.key} is the last supported period") from None
    return period_for(day, p.cadence, week_start=week_start, fy_start_month=fy_start_month)


def previous_period(p: Period, *, week_start: int = 0, fy_start_month: int = 1) -> Period:
    """The period right before `p`, of the same cadence."""
    try:
        day = p.start - timedelta(days=1)
    except OverflowError:
        raise PeriodError(f"{p.key} is the first supported period") from None
    return period_for(day, p.cadence, week_start=week_start, fy_start_month=fy_start_month)


def periods_between(
    first: date,
    last: date,
    cadence: Cadence | str,
    *,
    week_start: int = 0,
    fy_start_month: int = 1,
) -> list[Period]:
    """Every period from the one containing `first` to the one containing `last`, in order.

    Empty when `last` falls in a period before the one containing `first`.
    """
    calendar_ = {"week_start": week_start, "fy_start_month": fy_start_month}
    current = period_for(first, cadence, **calendar_)
    final = period_for(last, cadence, **calendar_)
    periods = []
    while current.start <= final.start:
        periods.append(current)
        if current == final:
            break
        current = next_period(current, **calendar_)
    return periods


def last_n_periods(
    day: date, cadence: Cadence | str, n: int, *, week_start: int = 0, fy_start_month: int = 1
) -> list[Period]:
    """The `n` periods ending with the one containing `day`, oldest first."""
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    calendar_ = {"week_start": week_start, "fy_start_month": fy_start_month}
    periods: list[Period] = []
    if n == 0:
        return periods
    current = period_for(day, cadence, **calendar_)
    periods.append(current)
    for _ in range(n - 1):
        current = previous_period(current, **calendar_)
        periods.append(current)
    periods.reverse()
    return periods


def grace_deadline(p: Period) -> date:
    """The last day a value for `p` is on time; on any later day its grace has passed."""
    return p.end + timedelta(days=GRACE_DAYS[p.cadence])


def quarter_bounds(day: date, fy_start_month: int = 1) -> tuple[date, date]:
    """First and last day (inclusive) of the (fiscal) quarter containing `day`."""
    p = period_for(day, Cadence.QUARTERLY, fy_start_month=fy_start_month)
    return p.start, p.end


def quarter_name(day: date, fy_start_month: int = 1) -> str:
    """The key of the (fiscal) quarter containing `day`, e.g. "2026-Q4" or "FY2027-Q1"."""
    return period_for(day, Cadence.QUARTERLY, fy_start_month=fy_start_month).key


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    # The IANA list rather than "can ZoneInfo load it": ZoneInfo also accepts file paths
    # under the zoneinfo directories (e.g. "posixrules"), which are not zone names.
    return frozenset(available_timezones())


def is_valid_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone name such as "Europe/Paris"."""
    return isinstance(name, str) and name in _time_zones()


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date in the given IANA time zone (`now` defaults to the current instant)."""
    if not is_valid_time_zone(tz_name):
        raise ValueError(f"{tz_name!r} is not a known time zone")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        # A naive instant in this codebase is UTC (the database stores UTC).
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(tz_name)).date()

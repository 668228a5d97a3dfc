"""Periods: keys, parsing, navigation, grace and time zones."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.periods import (
    GRACE_DAYS,
    WEEKDAYS,
    Cadence,
    Period,
    PeriodError,
    grace_deadline,
    is_valid_time_zone,
    last_n_periods,
    local_today,
    next_period,
    parse_period,
    period_for,
    periods_between,
    previous_period,
    quarter_bounds,
    quarter_name,
)

W, M, Q = Cadence.WEEKLY, Cadence.MONTHLY, Cadence.QUARTERLY


def test_enumerations() -> None:
    assert [c.value for c in Cadence] == ["weekly", "monthly", "quarterly"]
    assert WEEKDAYS[0] == "monday"
    assert WEEKDAYS[6] == "sunday"
    assert len(WEEKDAYS) == 7
    assert WEEKDAYS[date(2026, 12, 3).weekday()] == "thursday"


def test_periods_order_by_start() -> None:
    later = period_for(date(2026, 12, 1), M)
    earlier = period_for(date(2026, 11, 1), M)
    assert sorted([later, earlier]) == [earlier, later]
    assert earlier < later


# --- weekly -------------------------------------------------------------------------


def test_weekly_period_monday_start() -> None:
    p = period_for(date(2026, 12, 3), W)
    assert p == Period(date(2026, 11, 30), date(2026, 12, 6), "2026-11-30", W)


@pytest.mark.parametrize("week_start", range(7))
@pytest.mark.parametrize("offset", range(14))
def test_weekly_period_for_every_week_start(week_start: int, offset: int) -> None:
    day = date(2026, 12, 25) + timedelta(days=offset)  # crosses the year end
    p = period_for(day, W, week_start=week_start)
    assert p.start.weekday() == week_start
    assert p.start <= day <= p.end
    assert p.end - p.start == timedelta(days=6)
    assert p.key == p.start.isoformat()
    assert parse_period(p.key, W, week_start=week_start) == p


def test_week_spanning_the_year_end_is_keyed_by_its_start() -> None:
    p = period_for(date(2027, 1, 1), W)
    assert (p.key, p.start, p.end) == ("2026-12-28", date(2026, 12, 28), date(2027, 1, 3))
    assert next_period(p).key == "2027-01-04"


def test_a_year_with_53_weeks() -> None:
    # 2026 starts on a Thursday: ISO week 53 is 2026-12-28 .. 2027-01-03.
    weeks = periods_between(date(2026, 1, 1), date(2026, 12, 31), W)
    assert len(weeks) == 53
    assert weeks[0].key == "2025-12-29"
    assert weeks[-1].key == "2026-12-28"
    assert date(2026, 12, 28).isocalendar().week == 53


@pytest.mark.parametrize(
    ("key", "week_start", "message"),
    [
        ("2026-12-01", 0, "2026-12-01 is a Tuesday; weekly periods start on Monday"),
        ("2026-11-30", 6, "2026-11-30 is a Monday; weekly periods start on Sunday"),
        ("2026-11-29", 0, "2026-11-29 is a Sunday; weekly periods start on Monday"),
        ("2026-02-30", 0, "2026-02-30 is not a date (expected YYYY-MM-DD)"),
        ("2025-02-29", 0, "2025-02-29 is not a date (expected YYYY-MM-DD)"),
        ("abc", 0, "'abc' is not a weekly period key (expected the week's start date, YYYY-MM-DD)"),
        ("2026-11", 0, "'2026-11' is not a weekly period key"),
        ("2026-W49", 0, "'2026-W49' is not a weekly period key"),
        ("20261130", 0, "'20261130' is not a weekly period key"),
        ("2026-11-30T00:00", 0, "is not a weekly period key"),
        ("2026-11-3", 0, "is not a weekly period key"),
        ("", 0, "'' is not a weekly period key"),
        ("1899-12-25", 0, "1899-12-25 is outside the supported years 1900–9999"),
    ],
)
def test_parse_weekly_errors(key: str, week_start: int, message: str) -> None:
    with pytest.raises(PeriodError, match=re.escape(message)):
        parse_period(key, W, week_start=week_start)


def test_parse_weekly_sunday_start_and_leap_day() -> None:
    assert parse_period("2026-11-29", W, week_start=6).end == date(2026, 12, 5)
    p = parse_period("2024-02-29", W, week_start=3)  # a Thursday
    assert (p.start, p.end) == (date(2024, 2, 29), date(2024, 3, 6))


# --- monthly ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end", "key"),
    [
        (date(2026, 11, 15), date(2026, 11, 1), date(2026, 11, 30), "2026-11"),
        (date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (date(2024, 2, 1), date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (date(2023, 2, 14), date(2023, 2, 1), date(2023, 2, 28), "2023-02"),
        (date(2000, 2, 10), date(2000, 2, 1), date(2000, 2, 29), "2000-02"),
        (date(1900, 2, 10), date(1900, 2, 1), date(1900, 2, 28), "1900-02"),
        (date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
    ],
)
def test_monthly_period(day: date, start: date, end: date, key: str) -> None:
    assert period_for(day, M) == Period(start, end, key, M)
    assert parse_period(key, M) == Period(start, end, key, M)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2026-13", "2026-13 is not a month (expected YYYY-MM)"),
        ("2026-00", "2026-00 is not a month (expected YYYY-MM)"),
        ("2026-1", "'2026-1' is not a monthly period key (expected YYYY-MM)"),
        ("2026-011", "'2026-011' is not a monthly period key"),
        ("2026/11", "'2026/11' is not a monthly period key"),
        ("26-11", "'26-11' is not a monthly period key"),
        ("2026-11-01", "'2026-11-01' is not a monthly period key"),
        ("Nov 2026", "'Nov 2026' is not a monthly period key"),
        ("٢٠٢٦-11", "is not a monthly period key"),  # non-ASCII digits
        ("1899-12", "1899-12 is outside the supported years 1900–9999"),
    ],
)
def test_parse_monthly_errors(key: str, message: str) -> None:
    with pytest.raises(PeriodError, match=re.escape(message)):
        parse_period(key, M)


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_period("  2026-11\t", M).key == "2026-11"
    assert parse_period(" 2026-11-30 ", W).key == "2026-11-30"
    assert parse_period("\nFY2027-Q1 ", Q, fy_start_month=4).key == "FY2027-Q1"


def test_non_string_key_is_a_period_error() -> None:
    with pytest.raises(PeriodError, match="is not a monthly period key"):
        parse_period(202611, M)  # type: ignore[arg-type]


def test_cadence_may_be_given_as_its_word() -> None:
    assert parse_period("2026-11", "monthly") == parse_period("2026-11", M)
    with pytest.raises(ValueError, match="'yearly' is not a valid Cadence"):
        period_for(date(2026, 1, 1), "yearly")


# --- quarterly ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "key", "start", "end"),
    [
        (1, "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        (3, "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        (4, "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        (8, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        (12, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_calendar_quarters(month: int, key: str, start: date, end: date) -> None:
    assert period_for(date(2026, month, 15), Q) == Period(start, end, key, Q)
    assert quarter_name(date(2026, month, 15)) == key
    assert quarter_bounds(date(2026, month, 15)) == (start, end)


@pytest.mark.parametrize(
    ("day", "fy", "key", "start", "end"),
    [
        (date(2026, 4, 1), 4, "FY2027-Q1", date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 6, 30), 4, "FY2027-Q1", date(2026, 4, 1), date(2026, 6, 30)),
        (date(2027, 3, 31), 4, "FY2027-Q4", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2026, 3, 31), 4, "FY2026-Q4", date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 7, 1), 7, "FY2027-Q1", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 6, 30), 7, "FY2026-Q4", date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 12, 31), 7, "FY2027-Q2", date(2026, 10, 1), date(2026, 12, 31)),
        (date(2026, 10, 1), 10, "FY2027-Q1", date(2026, 10, 1), date(2026, 12, 31)),
        # Quarters that straddle the calendar year, including a leap February.
        (date(2024, 2, 29), 12, "FY2024-Q1", date(2023, 12, 1), date(2024, 2, 29)),
        (date(2024, 1, 31), 11, "FY2024-Q1", date(2023, 11, 1), date(2024, 1, 31)),
        (date(2024, 2, 29), 11, "FY2024-Q2", date(2024, 2, 1), date(2024, 4, 30)),
        (date(2024, 2, 29), 2, "FY2025-Q1", date(2024, 2, 1), date(2024, 4, 30)),
        (date(2025, 1, 31), 2, "FY2025-Q4", date(2024, 11, 1), date(2025, 1, 31)),
        (date(2023, 2, 28), 12, "FY2023-Q1", date(2022, 12, 1), date(2023, 2, 28)),
    ],
)
def test_fiscal_quarters(day: date, fy: int, key: str, start: date, end: date) -> None:
    expected = Period(start, end, key, Q)
    assert period_for(day, Q, fy_start_month=fy) == expected
    assert parse_period(key, Q, fy_start_month=fy) == expected
    assert quarter_name(day, fy) == key
    assert quarter_bounds(day, fy) == (start, end)


@pytest.mark.parametrize("fy", range(1, 13))
def test_fiscal_year_in_every_start_month(fy: int) -> None:
    first_day = date(2026, fy, 1)
    quarters = [period_for(first_day, Q, fy_start_month=fy)]
    for _ in range(3):
        quarters.append(next_period(quarters[-1], fy_start_month=fy))
    assert quarters[0].start == first_day
    assert [q.key[-2:] for q in quarters] == ["Q1", "Q2", "Q3", "Q4"]
    # The year is named by the calendar year of its last day.
    end_year = quarters[-1].end.year
    prefix = f"{end_year}-" if fy == 1 else f"FY{end_year}-"
    assert all(q.key.startswith(prefix) for q in quarters)
    last_month = fy - 1 or 12
    assert (quarters[-1].end.year, quarters[-1].end.month) == (end_year, last_month)
    assert (quarters[-1].end + timedelta(days=1)).day == 1
    assert end_year == (2026 if fy == 1 else 2027)
    assert (quarters[-1].end - quarters[0].start).days + 1 in (365, 366)
    for a, b in zip(quarters, quarters[1:], strict=False):
        assert b.start == a.end + timedelta(days=1)


@pytest.mark.parametrize(
    ("key", "fy", "message"),
    [
        (
            "2026-Q4",
            4,
            "2026-Q4 is a calendar quarter but this workspace's fiscal year starts in April "
            "(expected FY2027-Q1 style)",
        ),
        (
            "FY2027-Q1",
            1,
            "FY2027-Q1 is a fiscal quarter but this workspace's fiscal year starts in January",
        ),
        ("2026-Q5", 1, "2026-Q5 is not a quarter (expected Q1 to Q4)"),
        ("2026-Q0", 1, "2026-Q0 is not a quarter"),
        ("FY2027-Q5", 7, "FY2027-Q5 is not a quarter"),
        ("2026-q4", 1, "'2026-q4' is not a quarterly period key (expected 2026-Q4 style)"),
        ("fy2027-q1", 4, "'fy2027-q1' is not a quarterly period key (expected FY2027-Q1 style)"),
        ("2026Q4", 1, "is not a quarterly period key"),
        ("Q4 2026", 1, "is not a quarterly period key"),
        ("2026-Q10", 1, "is not a quarterly period key"),
        ("FY27-Q1", 4, "is not a quarterly period key"),
        ("1899-Q4", 1, "1899-Q4 is outside the supported years 1900–9999"),
        ("FY1899-Q4", 4, "FY1899-Q4 is outside the supported years"),
    ],
)
def test_parse_quarterly_errors(key: str, fy: int, message: str) -> None:
    with pytest.raises(PeriodError, match=re.escape(message)):
        parse_period(key, Q, fy_start_month=fy)


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


@pytest.mark.parametrize(
    "kwargs", [{"week_start": 7}, {"week_start": -1}, {"fy_start_month": 0}, {"fy_start_month": 13}]
)
def test_invalid_calendar_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        period_for(date(2026, 1, 1), W, **kwargs)
    with pytest.raises(ValueError, match="must be"):
        parse_period("2026-01", M, **kwargs)


# --- navigation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "cadence", "fy", "following", "preceding"),
    [
        ("2026-12-28", W, 1, "2027-01-04", "2026-12-21"),
        ("2026-12", M, 1, "2027-01", "2026-11"),
        ("2024-02", M, 1, "2024-03", "2024-01"),
        ("2026-Q4", Q, 1, "2027-Q1", "2026-Q3"),
        ("2026-Q1", Q, 1, "2026-Q2", "2025-Q4"),
        ("FY2027-Q4", Q, 4, "FY2028-Q1", "FY2027-Q3"),
        ("FY2027-Q1", Q, 7, "FY2027-Q2", "FY2026-Q4"),
    ],
)
def test_next_and_previous(key: str, cadence: Cadence, fy: int, following: str, preceding: str):
    p = parse_period(key, cadence, fy_start_month=fy)
    assert next_period(p, fy_start_month=fy).key == following
    assert previous_period(p, fy_start_month=fy).key == preceding


def test_navigation_past_the_calendar_is_a_period_error() -> None:
    with pytest.raises(PeriodError, match="last supported period"):
        next_period(parse_period("9999-12", M))
    with pytest.raises(PeriodError, match="outside the supported calendar"):
        period_for(date(9999, 12, 31), W, week_start=0)


def test_periods_between() -> None:
    months = periods_between(date(2026, 10, 31), date(2027, 2, 1), M)
    assert [p.key for p in months] == ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02"]
    assert [p.key for p in periods_between(date(2026, 11, 3), date(2026, 11, 1), M)] == ["2026-11"]
    assert periods_between(date(2026, 12, 1), date(2026, 11, 1), M) == []
    weeks = periods_between(date(2026, 11, 30), date(2026, 12, 13), W, week_start=6)
    assert [p.key for p in weeks] == ["2026-11-29", "2026-12-06", "2026-12-13"]
    quarters = periods_between(date(2026, 1, 1), date(2026, 12, 31), Q, fy_start_month=4)
    assert [p.key for p in quarters] == ["FY2026-Q4", "FY2027-Q1", "FY2027-Q2", "FY2027-Q3"]


def test_last_n_periods() -> None:
    months = last_n_periods(date(2026, 11, 15), M, 13)
    assert len(months) == 13
    assert months[0].key == "2025-11"
    assert months[-1].key == "2026-11"
    assert months == sorted(months)
    assert last_n_periods(date(2026, 11, 15), M, 1) == [period_for(date(2026, 11, 15), M)]
    assert last_n_periods(date(2026, 11, 15), M, 0) == []
    weeks = last_n_periods(date(2027, 1, 2), W, 3, week_start=2)
    assert [p.key for p in weeks] == ["2026-12-16", "2026-12-23", "2026-12-30"]
    with pytest.raises(ValueError, match="must not be negative"):
        last_n_periods(date(2026, 11, 15), M, -1)


# --- grace --------------------------------------------------------------------------


def test_grace_days() -> None:
    assert GRACE_DAYS == {W: 2, M: 5, Q: 10}


@pytest.mark.parametrize(
    ("key", "cadence", "deadline"),
    [
        ("2026-11-30", W, date(2026, 12, 8)),
        ("2026-11", M, date(2026, 12, 5)),
        ("2024-02", M, date(2024, 3, 5)),
        ("2026-Q4", Q, date(2027, 1, 10)),
    ],
)
def test_grace_deadline(key: str, cadence: Cadence, deadline: date) -> None:
    assert grace_deadline(parse_period(key, cadence)) == deadline


# --- time zones ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", date(2026, 12, 4)),
        ("Pacific/Auckland", date(2026, 12, 5)),
        ("Europe/Paris", date(2026, 12, 5)),
        ("America/Los_Angeles", date(2026, 12, 4)),
        ("Asia/Kolkata", date(2026, 12, 5)),
    ],
)
def test_local_today(zone: str, expected: date) -> None:
    now = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert local_today(zone, now) == expected


def test_local_today_treats_naive_as_utc_and_defaults_to_now() -> None:
    assert local_today("Pacific/Auckland", datetime(2026, 12, 4, 23, 30)) == date(2026, 12, 5)
    assert abs(local_today("UTC") - datetime.now(UTC).date()) <= timedelta(days=1)


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "europe/paris", "../etc/passwd", "posixrules"]
)
def test_unknown_time_zones(zone: str) -> None:
    assert not is_valid_time_zone(zone)
    with pytest.raises(ValueError, match="is not a known time zone"):
        local_today(zone)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kathmandu"])
def test_known_time_zones(zone: str) -> None:
    assert is_valid_time_zone(zone)


# --- properties ---------------------------------------------------------------------

days = st.dates(min_value=date(1901, 1, 1), max_value=date(9998, 12, 31))
calendars = st.fixed_dictionaries(
    {"week_start": st.integers(0, 6), "fy_start_month": st.integers(1, 12)}
)
KEY_SHAPES = {
    W: re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    M: re.compile(r"[0-9]{4}-[0-9]{2}"),
    Q: re.compile(r"(FY)?[0-9]{4}-Q[1-4]"),
}


@settings(max_examples=300, deadline=None)
@given(day=days, cadence=st.sampled_from(Cadence), calendar=calendars)
def test_period_properties(day: date, cadence: Cadence, calendar: dict[str, int]) -> None:
    p = period_for(day, cadence, **calendar)
    assert p.start <= day <= p.end
    assert p.cadence == cadence
    assert KEY_SHAPES[cadence].fullmatch(p.key)
    assert p.key.startswith("FY") == (cadence == Q and calendar["fy_start_month"] != 1)
    assert parse_period(p.key, cadence, **calendar) == p
    assert period_for(p.start, cadence, **calendar) == p == period_for(p.end, cadence, **calendar)
    following = next_period(p, **calendar)
    preceding = previous_period(p, **calendar)
    assert following.start == p.end + timedelta(days=1)
    assert preceding.end == p.start - timedelta(days=1)
    assert previous_period(following, **calendar) == p == next_period(preceding, **calendar)
    assert preceding < p < following
    length = (p.end - p.start).days + 1
    assert {W: 7 <= length <= 7, M: 28 <= length <= 31, Q: 89 <= length <= 92}[cadence]

"""KPI status: bounds, colour and its why, the threshold form, lateness and roll-ups."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.periods import (
    GRACE_DAYS,
    Cadence,
    Period,
    grace_deadline,
    parse_period,
    period_for,
    previous_period,
)
from hub.domain.status import (
    NO_DATA_WHY,
    Bounds,
    Direction,
    Status,
    StatusResult,
    bounds_from_form,
    form_from_bounds,
    is_late,
    kpi_status,
    rollup,
    status_label,
)

D = Decimal
W, M, Q = Cadence.WEEKLY, Cadence.MONTHLY, Cadence.QUARTERLY

# Higher is better: target 100,000, red below 90,000 (the form's default red line).
UP = Bounds(green_min=D(100000), red_min=D(90000))
# Lower is better: target 5, red above 6.
DOWN = Bounds(green_max=D(5), red_max=D(6))
# Within a range: green 40–60, red below 30 or above 70.
RANGE = Bounds(green_min=D(40), green_max=D(60), red_min=D(30), red_max=D(70))


def status_of(value: str | None, bounds: Bounds, direction: str, **kwargs: object) -> StatusResult:
    return kpi_status(
        None if value is None else D(value),
        bounds,
        direction=direction,
        **kwargs,  # type: ignore[arg-type]
    )


# --- colour and why -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status", "why"),
    [
        ("120000", "green", "Green: 120,000 meets the 100,000 target"),
        ("100000", "green", "Green: 100,000 meets the 100,000 target"),  # on green_min
        (
            "91000",
            "amber",
            "Amber: 91,000 is under the 100,000 target but above the red line 90,000",
        ),
        # On the red line: not red (red is strictly past it).
        (
            "90000",
            "amber",
            "Amber: 90,000 is under the 100,000 target and right on the red line 90,000",
        ),
        ("89999", "red", "Red: 89,999 is below the red line 90,000"),
        ("-5", "red", "Red: -5 is below the red line 90,000"),
    ],
)
def test_higher_is_better(value: str, status: str, why: str) -> None:
    assert status_of(value, UP, "up") == StatusResult(Status(status), why)


@pytest.mark.parametrize(
    ("value", "status", "why"),
    [
        ("4.2", "green", "Green: 4.2 is at or under the 5.0 target"),
        ("5", "green", "Green: 5.0 is at or under the 5.0 target"),  # on green_max
        ("5.4", "amber", "Amber: 5.4 is over the 5.0 target but under the red line 6.0"),
        ("6", "amber", "Amber: 6.0 is over the 5.0 target and right on the red line 6.0"),
        ("6.1", "red", "Red: 6.1 is above the red line 6.0"),
        ("0", "green", "Green: 0.0 is at or under the 5.0 target"),
    ],
)
def test_lower_is_better(value: str, status: str, why: str) -> None:
    assert status_of(value, DOWN, "down", decimals=1) == StatusResult(Status(status), why)


@pytest.mark.parametrize(
    ("value", "status", "why"),
    [
        ("29", "red", "Red: 29 is below the red line 30"),
        ("30", "amber", "Amber: 30 is below the green zone 40–60 and right on the red line 30"),
        ("35", "amber", "Amber: 35 is below the green zone 40–60 but above the red line 30"),
        ("40", "green", "Green: 40 is within 40–60"),
        ("50", "green", "Green: 50 is within 40–60"),
        ("60", "green", "Green: 60 is within 40–60"),
        ("65", "amber", "Amber: 65 is above the green zone 40–60 but below the red line 70"),
        ("70", "amber", "Amber: 70 is above the green zone 40–60 and right on the red line 70"),
        ("71", "red", "Red: 71 is above the red line 70"),
    ],
)
def test_within_a_range(value: str, status: str, why: str) -> None:
    assert status_of(value, RANGE, "range") == StatusResult(Status(status), why)


def test_just_past_a_bound_by_less_than_the_kpi_decimals() -> None:
    # Each of these is a hair past a bound; the why shows as many places as it takes.
    assert status_of("39.99", RANGE, "range").why == (
        "Amber: 39.99 is below the green zone 40.00–60.00 but above the red line 30.00"
    )
    assert status_of("60.4", RANGE, "range").status is Status.AMBER
    assert status_of("70.01", RANGE, "range").why == "Red: 70.01 is above the red line 70.00"
    assert status_of("29.999", RANGE, "range").status is Status.RED
    assert status_of("99999.6", UP, "up").why == (
        "Amber: 99,999.6 is under the 100,000.0 target but above the red line 90,000.0"
    )


def test_higher_is_better_with_a_ceiling() -> None:
    capped = Bounds(green_min=D(100), green_max=D(120), red_min=D(90), red_max=D(150))
    assert status_of("95", capped, "up").why == (
        "Amber: 95 is below the green zone 100–120 but above the red line 90"
    )
    assert status_of("125", capped, "up").why == (
        "Amber: 125 is above the green zone 100–120 but below the red line 150"
    )
    assert status_of("120", capped, "up").why == "Green: 120 is within 100–120"
    assert status_of("151", capped, "up").why == "Red: 151 is above the red line 150"


@pytest.mark.parametrize(
    ("bounds", "direction", "value", "status", "why"),
    [
        # A target and no red line: never red.
        (Bounds(green_min=D(10)), "up", "10", "green", "Green: 10 meets the 10 target"),
        (Bounds(green_min=D(10)), "up", "-1000", "amber", "Amber: -1,000 is under the 10 target"),
        (Bounds(green_max=D(1)), "down", "5", "amber", "Amber: 5 is over the 1 target"),
        (Bounds(green_max=D(1)), "down", "1", "green", "Green: 1 is at or under the 1 target"),
        # A red line and no target: green until past the red line.
        (Bounds(red_min=D(10)), "up", "50", "green", "Green: 50 is at or above the red line 10"),
        (Bounds(red_min=D(10)), "up", "10", "green", "Green: 10 is at or above the red line 10"),
        (Bounds(red_min=D(10)), "up", "9", "red", "Red: 9 is below the red line 10"),
        (Bounds(red_max=D(10)), "down", "10", "green", "Green: 10 is at or below the red line 10"),
        (Bounds(red_max=D(10)), "down", "11", "red", "Red: 11 is above the red line 10"),
        (
            Bounds(red_min=D(1), red_max=D(10)),
            "range",
            "5",
            "green",
            "Green: 5 is within the red lines 1–10",
        ),
        # A range open on one side.
        (Bounds(green_min=D(40)), "range", "100", "green", "Green: 100 is at or above 40"),
        (
            Bounds(green_min=D(40)),
            "range",
            "30",
            "amber",
            "Amber: 30 is below the green zone (from 40 up)",
        ),
        (Bounds(green_max=D(60)), "range", "10", "green", "Green: 10 is at or below 60"),
        (
            Bounds(green_max=D(60)),
            "range",
            "70",
            "amber",
            "Amber: 70 is above the green zone (up to 60)",
        ),
        # A red line on the side whose green bound is open: past it is still red.
        (
            Bounds(green_max=D(60), red_min=D(30)),
            "range",
            "20",
            "red",
            "Red: 20 is below the red line 30",
        ),
        (
            Bounds(green_max=D(60), red_min=D(30)),
            "range",
            "45",
            "green",
            "Green: 45 is at or below 60",
        ),
        (
            Bounds(green_min=D(40), red_max=D(70)),
            "range",
            "75",
            "red",
            "Red: 75 is above the red line 70",
        ),
        (
            Bounds(green_min=D(40), red_max=D(70)),
            "range",
            "65",
            "green",
            "Green: 65 is at or above 40",
        ),
        # A target on the "wrong" side for the direction still reads as a zone.
        (Bounds(green_max=D(1)), "up", "5", "amber", "Amber: 5 is above the green zone (up to 1)"),
        (
            Bounds(green_min=D(10)),
            "down",
            "5",
            "amber",
            "Amber: 5 is below the green zone (from 10 up)",
        ),
    ],
)
def test_one_sided_and_partly_open_bounds(
    bounds: Bounds, direction: str, value: str, status: str, why: str
) -> None:
    assert status_of(value, bounds, direction) == StatusResult(Status(status), why)


@pytest.mark.parametrize("direction", ["up", "down", "range"])
def test_all_bounds_open_is_no_target(direction: str) -> None:
    result = status_of("91000", Bounds(), direction)
    assert result == StatusResult(Status.NONE, "No target set (latest 91,000)")


@pytest.mark.parametrize("bounds", [UP, DOWN, RANGE, Bounds()])
def test_no_value_is_no_data(bounds: Bounds) -> None:
    assert status_of(None, bounds, "up") == StatusResult(Status.NONE, "No data yet")
    assert NO_DATA_WHY == "No data yet"


@pytest.mark.parametrize(
    ("value", "bounds", "direction", "options", "why"),
    [
        (
            "14",
            Bounds(green_min=D(15), red_min=D("13.5")),
            "up",
            {"unit": "percent", "decimals": 1},
            "Amber: 14.0% is under the 15.0% target but above the red line 13.5%",
        ),
        (
            "12",
            Bounds(green_min=D(15), red_min=D("13.5")),
            "up",
            {"unit": "percent", "decimals": 0},
            "Red: 12% is below the red line 14%",  # 13.5 rounds half up
        ),
        (
            "91000",
            UP,
            "up",
            {"unit": "currency"},
            "Amber: $91,000 is under the $100,000 target but above the red line $90,000",
        ),
        (
            "91000",
            UP,
            "up",
            {"unit": "currency", "currency": "EUR", "decimals": 2},
            "Amber: €91,000.00 is under the €100,000.00 target but above the red line €90,000.00",
        ),
        (
            "4.5",
            Bounds(green_max=D(4), red_max=D("4.4")),
            "down",
            {"unit": "duration", "decimals": 1},
            "Red: 4.5 h is above the red line 4.4 h",
        ),
        (
            "1234.5",
            Bounds(green_min=D(1000)),
            "up",
            {"decimals": 2},
            "Green: 1,234.50 meets the 1,000.00 target",
        ),
        (
            "1234.5",
            Bounds(green_min=D(1000)),
            "up",
            {"decimals": 0},
            "Green: 1,235 meets the 1,000 target",  # half up, like everywhere else
        ),
        (
            "1234.5",
            Bounds(),
            "up",
            {"unit": "currency", "currency": "GBP"},
            "No target set (latest £1,235)",
        ),
    ],
)
def test_numbers_in_the_why_follow_unit_decimals_and_currency(
    value: str, bounds: Bounds, direction: str, options: dict[str, object], why: str
) -> None:
    assert status_of(value, bounds, direction, **options).why == why


def test_a_bound_the_why_does_not_mention_adds_no_decimals() -> None:
    # The red lines are not in a green sentence, so 39.6 must not force "50.0 … 40.0–60.0".
    bounds = Bounds(green_min=D(40), green_max=D(60), red_min=D("39.6"), red_max=D(70))
    assert status_of("50", bounds, "range").why == "Green: 50 is within 40–60"
    up = Bounds(green_min=D(100), red_min=D("99.99"))
    assert status_of("100", up, "up").why == "Green: 100 meets the 100 target"
    # When the red line is in the sentence it gets the places it needs.
    assert status_of("99.995", up, "up").why == (
        "Amber: 99.995 is under the 100.000 target but above the red line 99.990"
    )


def test_the_largest_stored_numbers_can_be_explained() -> None:
    # 24 digits before the point and 10 after: beyond the default 28-digit context.
    value = D("99999999999999999999999.9999999999")
    result = status_of(str(value), Bounds(green_min=D("1E+23")), "up")
    assert result.status is Status.AMBER
    assert result.why == (
        "Amber: 99,999,999,999,999,999,999,999.9999999999 is under the "
        "100,000,000,000,000,000,000,000.0000000000 target"
    )
    big = status_of("123456789012345678901234", Bounds(), "up", decimals=10)
    assert big.why == "No target set (latest 123,456,789,012,345,678,901,234.0000000000)"


def test_direction_and_unit_are_checked() -> None:
    with pytest.raises(ValueError, match="'sideways' is not a valid Direction"):
        status_of("1", UP, "sideways")
    with pytest.raises(ValueError, match="unknown unit 'kg'"):
        status_of("1", UP, "up", unit="kg")


# Bounds that keep red_min ≤ green_min ≤ green_max ≤ red_max, each possibly open.
_numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2)


@st.composite
def valid_bounds(draw: st.DrawFn) -> Bounds:
    red_min, green_min, green_max, red_max = sorted(
        draw(st.lists(_numbers, min_size=4, max_size=4))
    )
    kept = draw(st.lists(st.booleans(), min_size=4, max_size=4))
    return Bounds(
        green_min=green_min if kept[1] else None,
        green_max=green_max if kept[2] else None,
        red_min=red_min if kept[0] else None,
        red_max=red_max if kept[3] else None,
    )


@given(bounds=valid_bounds(), value=_numbers, direction=st.sampled_from(list(Direction)))
def test_status_follows_the_rules_for_any_valid_bounds(
    bounds: Bounds, value: Decimal, direction: Direction
) -> None:
    assert bounds.problems(direction) == []
    red = (bounds.red_min is not None and value < bounds.red_min) or (
        bounds.red_max is not None and value > bounds.red_max
    )
    green = (bounds.green_min is None or bounds.green_min <= value) and (
        bounds.green_max is None or value <= bounds.green_max
    )
    if bounds.is_open():
        expected = Status.NONE
    elif red:
        expected = Status.RED
    elif green:
        expected = Status.GREEN
    else:
        expected = Status.AMBER
    result = kpi_status(value, bounds, direction=direction, decimals=2)
    assert result.status is expected
    word = "No target set" if expected is Status.NONE else expected.value.title() + ":"
    assert result.why.startswith(word)


@given(bounds=valid_bounds(), data=st.data(), direction=st.sampled_from(list(Direction)))
def test_a_value_in_the_green_zone_is_green(
    bounds: Bounds, data: st.DataObject, direction: Direction
) -> None:
    low = bounds.green_min if bounds.green_min is not None else bounds.red_min
    high = bounds.green_max if bounds.green_max is not None else bounds.red_max
    inside = st.decimals(low, high, allow_nan=False, allow_infinity=False, places=2)
    value = data.draw(inside)
    expected = Status.NONE if bounds.is_open() else Status.GREEN
    assert kpi_status(value, bounds, direction=direction).status is expected


# --- bounds that contradict each other ----------------------------------------------


def test_is_open() -> None:
    assert Bounds().is_open()
    assert not Bounds(red_max=D(0)).is_open()
    assert not UP.is_open()


@pytest.mark.parametrize(
    "bounds",
    [
        UP,
        DOWN,
        RANGE,
        Bounds(),
        Bounds(green_min=D(5), green_max=D(5), red_min=D(5), red_max=D(5)),  # all equal
        Bounds(red_min=D(-10), red_max=D(-1)),
        Bounds(green_min=D(-10), red_min=D(-11)),
    ],
)
def test_valid_bounds_have_no_problems(bounds: Bounds) -> None:
    assert bounds.problems() == []


@pytest.mark.parametrize(
    ("bounds", "direction", "problems"),
    [
        (
            Bounds(green_min=D(100), red_min=D(110)),
            "up",
            ["the red line (110) must be at or below the target (100)"],
        ),
        (
            Bounds(green_max=D(10), red_max=D(9)),
            "down",
            ["the target (10) must be at or below the red line (9)"],
        ),
        (
            Bounds(green_min=D(60), green_max=D(40)),
            "range",
            [
                "the low end of the green range (60) must be at or below "
                "the high end of the green range (40)"
            ],
        ),
        (
            Bounds(green_max=D(40), red_min=D(50)),
            "range",
            ["the lower red line (50) must be at or below the high end of the green range (40)"],
        ),
        (
            Bounds(red_min=D(80), red_max=D(70)),
            "range",
            ["the lower red line (80) must be at or below the upper red line (70)"],
        ),
        (
            Bounds(green_min=D(40), green_max=D(60), red_min=D(30), red_max=D(55)),
            "range",
            ["the high end of the green range (60) must be at or below the upper red line (55)"],
        ),
        (
            # Two breaks, each named once: not also "red line above upper red line".
            Bounds(green_min=D(5), red_min=D(10), red_max=D(4)),
            "range",
            [
                "the lower red line (10) must be at or below the low end of the green range (5)",
                "the low end of the green range (5) must be at or below the upper red line (4)",
            ],
        ),
        (
            Bounds(green_min=D("100.00"), red_min=D("1.1E+2")),
            "up",
            ["the red line (110) must be at or below the target (100)"],  # numbers plainly
        ),
        (
            Bounds(green_min=D("12.50"), red_min=D("12.75")),
            "up",
            ["the red line (12.75) must be at or below the target (12.5)"],
        ),
    ],
)
def test_problems_name_the_bounds_in_the_forms_words(
    bounds: Bounds, direction: str, problems: list[str]
) -> None:
    assert bounds.problems(direction) == problems


@pytest.mark.parametrize(
    ("bounds", "problem"),
    [
        (
            Bounds(green_min=D(100), red_min=D(110)),
            "the red line (110) must be at or below the target",
        ),
        (
            Bounds(green_max=D(10), red_max=D(9)),
            "the target (10) must be at or below the red line (9)",
        ),
        (
            Bounds(green_min=D(60), green_max=D(40)),
            "the low end of the green range (60) must be at or below the high end",
        ),
    ],
)
def test_problems_guess_the_direction_from_the_bounds_set(bounds: Bounds, problem: str) -> None:
    [found] = bounds.problems()
    assert found.startswith(problem)


def test_problems_use_the_given_direction_over_the_guess() -> None:
    bounds = Bounds(green_min=D(100), red_min=D(110))
    assert bounds.problems("range") == [
        "the lower red line (110) must be at or below the low end of the green range (100)"
    ]


# --- the threshold form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "target", "red_line", "bounds"),
    [
        ("up", "100000", None, Bounds(green_min=D(100000), red_min=D(90000))),
        ("up", "100", "80", Bounds(green_min=D(100), red_min=D(80))),
        ("up", "12.5", None, Bounds(green_min=D("12.5"), red_min=D("11.25"))),
        ("up", "0", None, Bounds(green_min=D(0), red_min=D(0))),
        # A negative target keeps its red line on the bad side (below it, not 0.9·T = −9).
        ("up", "-10", None, Bounds(green_min=D(-10), red_min=D(-11))),
        ("down", "5", None, Bounds(green_max=D(5), red_max=D("5.5"))),
        ("down", "100", None, Bounds(green_max=D(100), red_max=D(110))),
        ("down", "100", "150", Bounds(green_max=D(100), red_max=D(150))),
        # Lower is better with a negative target: red above −9, not 1.1·T = −11.
        ("down", "-10", None, Bounds(green_max=D(-10), red_max=D(-9))),
        # No target: no colour at all, even with a red line typed.
        ("up", None, "80", Bounds()),
        ("down", None, None, Bounds()),
    ],
)
def test_bounds_from_form_up_and_down(
    direction: str, target: str | None, red_line: str | None, bounds: Bounds
) -> None:
    result = bounds_from_form(
        direction,
        None if target is None else D(target),
        None if red_line is None else D(red_line),
    )
    assert result == bounds
    assert result.problems(direction) == []


def test_default_red_lines_read_plainly() -> None:
    # 0.9 × 100,000 is 90000, not "9E+4" or "90000.0", wherever the bound is shown.
    assert str(bounds_from_form("up", D(100000)).red_min) == "90000"
    assert str(bounds_from_form("down", D(100)).red_max) == "110"
    assert str(bounds_from_form("up", D("1E+3")).red_min) == "900"


@pytest.mark.parametrize("target", ["-10", "-0.5", "-250000"])
def test_negative_targets_get_working_default_red_lines(target: str) -> None:
    t = D(target)
    up = bounds_from_form("up", t)
    assert kpi_status(t, up, direction="up").status is Status.GREEN
    assert kpi_status(t - abs(t) / 20, up, direction="up").status is Status.AMBER
    assert kpi_status(t - abs(t) / 5, up, direction="up").status is Status.RED
    down = bounds_from_form("down", t)
    assert kpi_status(t, down, direction="down").status is Status.GREEN
    assert kpi_status(t + abs(t) / 20, down, direction="down").status is Status.AMBER
    assert kpi_status(t + abs(t) / 5, down, direction="down").status is Status.RED


def test_bounds_from_form_range() -> None:
    assert bounds_from_form(
        "range", None, low=D(40), high=D(60), red_low=D(30), red_high=D(70)
    ) == (RANGE)
    assert bounds_from_form("range", None, low=D(40)) == Bounds(green_min=D(40))
    assert bounds_from_form("range", None, red_high=D(70)) == Bounds(red_max=D(70))
    # A target typed for another direction means nothing to a range.
    assert bounds_from_form(Direction.RANGE, D(5), D(4)) == Bounds()


@pytest.mark.parametrize(
    ("direction", "bounds", "form"),
    [
        ("up", UP, {"target": D(100000), "red_line": D(90000)}),
        ("down", DOWN, {"target": D(5), "red_line": D(6)}),
        (
            "range",
            RANGE,
            {"low": D(40), "high": D(60), "red_low": D(30), "red_high": D(70)},
        ),
        ("up", Bounds(), {"target": None, "red_line": None}),
        (
            "range",
            Bounds(green_max=D(60)),
            {"low": None, "high": D(60), "red_low": None, "red_high": None},
        ),
    ],
)
def test_form_from_bounds_and_back(direction: str, bounds: Bounds, form: dict) -> None:
    assert form_from_bounds(direction, bounds) == form
    assert bounds_from_form(direction, **form) == bounds


def test_form_direction_is_checked() -> None:
    with pytest.raises(ValueError, match="'higher' is not a valid Direction"):
        bounds_from_form("higher", D(1))
    with pytest.raises(ValueError, match="'higher' is not a valid Direction"):
        form_from_bounds("higher", UP)


@given(
    target=st.decimals(min_value=-(10**9), max_value=10**9, places=3),
    direction=st.sampled_from(["up", "down"]),
)
def test_default_red_line_is_ten_percent_on_the_bad_side(target: Decimal, direction: str) -> None:
    bounds = bounds_from_form(direction, target)
    assert bounds.problems(direction) == []
    red = bounds.red_min if direction == "up" else bounds.red_max
    assert red is not None
    assert abs(red - target) == abs(target) / 10
    assert kpi_status(target, bounds, direction=direction).status is Status.GREEN
    assert bounds_from_form(direction, **form_from_bounds(direction, bounds)) == bounds


# --- late ---------------------------------------------------------------------------


def _late(key: str | None, cadence: Cadence, today: date, **calendar: int) -> bool:
    last = None if key is None else parse_period(key, cadence, **calendar)
    return is_late(last, cadence, today, **calendar)


@pytest.mark.parametrize(
    ("cadence", "last", "today", "late"),
    [
        # Weekly, grace 2 days: week 2026-11-30..12-06 is due by Tuesday 12-08.
        (W, "2026-11-23", date(2026, 12, 8), False),  # on the deadline: still on time
        (W, "2026-11-23", date(2026, 12, 9), True),  # the day after
        (W, "2026-11-30", date(2026, 12, 9), False),
        (W, "2026-11-30", date(2026, 12, 15), False),  # next week due 12-15
        (W, "2026-11-30", date(2026, 12, 16), True),
        # Monthly, grace 5 days: November is due by 12-05.
        (M, "2026-10", date(2026, 12, 5), False),
        (M, "2026-10", date(2026, 12, 6), True),
        (M, "2026-11", date(2027, 1, 5), False),
        (M, "2026-11", date(2027, 1, 6), True),
        # Quarterly, grace 10 days: Q3 is due by 10-10.
        (Q, "2026-Q2", date(2026, 10, 10), False),
        (Q, "2026-Q2", date(2026, 10, 11), True),
        (Q, "2026-Q3", date(2026, 12, 31), False),
        (Q, "2026-Q3", date(2027, 1, 11), True),
        # A later period than the one due has a value: not late.
        (W, "2026-12-07", date(2026, 12, 9), False),
        (M, "2026-12", date(2026, 12, 6), False),
        (Q, "2026-Q4", date(2026, 10, 11), False),
        (W, "2027-03-01", date(2026, 12, 31), False),  # a value for a future period
        # Long silence.
        (M, "2025-01", date(2026, 12, 31), True),
        # Never any value: "No data", not late.
        (W, None, date(2026, 12, 31), False),
        (M, None, date(2026, 12, 31), False),
        (Q, None, date(2026, 12, 31), False),
    ],
)
def test_late(cadence: Cadence, last: str | None, today: date, late: bool) -> None:
    assert _late(last, cadence, today) is late


@pytest.mark.parametrize("cadence", list(Cadence))
@pytest.mark.parametrize("week_start", range(7))
def test_late_the_day_after_grace_for_every_cadence(cadence: Cadence, week_start: int) -> None:
    calendar = {"week_start": week_start, "fy_start_month": 1}
    due = period_for(date(2026, 6, 15), cadence, **calendar)
    before = previous_period(due, **calendar)
    deadline = grace_deadline(due)
    assert deadline == due.end + timedelta(days=GRACE_DAYS[cadence])
    assert not is_late(before, cadence, deadline, **calendar)
    assert is_late(before, cadence, deadline + timedelta(days=1), **calendar)
    assert not is_late(due, cadence, deadline + timedelta(days=1), **calendar)


def test_grace_days_per_cadence() -> None:
    assert GRACE_DAYS == {W: 2, M: 5, Q: 10}


def test_late_with_a_sunday_week_start() -> None:
    # Sunday weeks: 2026-11-29..12-05 is due by Monday 12-07.
    assert not _late("2026-11-22", W, date(2026, 12, 7), week_start=6)
    assert _late("2026-11-22", W, date(2026, 12, 8), week_start=6)
    # The same day with Monday weeks: 11-30..12-06 is not due until 12-08.
    assert not _late("2026-11-23", W, date(2026, 12, 8))


def test_late_with_fiscal_quarters() -> None:
    # Fiscal year from February: FY2027-Q2 is May–July 2026, due by 08-10.
    fiscal = {"fy_start_month": 2}
    assert parse_period("FY2027-Q2", Q, **fiscal).end == date(2026, 7, 31)
    assert not _late("FY2027-Q1", Q, date(2026, 8, 10), **fiscal)
    assert _late("FY2027-Q1", Q, date(2026, 8, 11), **fiscal)
    assert not _late("FY2027-Q2", Q, date(2026, 8, 11), **fiscal)
    # With calendar quarters Q2 (April–June) was already due by 07-10.
    assert _late("2026-Q1", Q, date(2026, 8, 10))


@pytest.mark.parametrize(
    ("status", "why", "late", "label"),
    [
        (Status.GREEN, "Green: …", False, "Green"),
        (Status.AMBER, "Amber: …", False, "Amber"),
        (Status.RED, "Red: …", False, "Red"),
        (Status.GREEN, "Green: …", True, "Late · last Green"),
        (Status.AMBER, "Amber: …", True, "Late · last Amber"),
        (Status.RED, "Red: …", True, "Late · last Red"),
        (Status.NONE, "No data yet", False, "No data"),
        (Status.NONE, "No target set (latest 5)", False, "No target"),
        (Status.NONE, "No target set (latest 5)", True, "Late"),
    ],
)
def test_status_label(status: Status, why: str, late: bool, label: str) -> None:
    assert status_label(StatusResult(status, why), late) == label


def test_status_label_of_real_results() -> None:
    assert status_label(status_of(None, UP, "up"), late=False) == "No data"
    assert status_label(status_of("1", Bounds(), "up"), late=False) == "No target"
    assert status_label(status_of("91000", UP, "up"), late=True) == "Late · last Amber"


# --- roll-ups -----------------------------------------------------------------------


def _weeks(*items: tuple[str, str], week_start: int = 0) -> list[tuple[Period, Decimal]]:
    return [(parse_period(key, W, week_start=week_start), D(value)) for key, value in items]


def _keyed(result: list[tuple[Period, Decimal]]) -> list[tuple[str, Decimal]]:
    return [(period.key, value) for period, value in result]


# Mon 03-23 is all March; Mon 03-30..04-05 has 5 days in April; Mon 04-06 is all April.
MARCH_APRIL = _weeks(("2026-03-23", "1"), ("2026-03-30", "2"), ("2026-04-06", "3"))


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("last", [("2026-03", D(1)), ("2026-04", D(3))]),
        ("sum", [("2026-03", D(1)), ("2026-04", D(5))]),
        ("average", [("2026-03", D(1)), ("2026-04", D("2.5"))]),
    ],
)
def test_weeks_roll_up_into_the_month_of_their_fourth_day(
    aggregation: str, expected: list[tuple[str, Decimal]]
) -> None:
    assert _keyed(rollup(MARCH_APRIL, aggregation, M)) == expected


@pytest.mark.parametrize(
    ("week", "month"),
    [
        ("2026-02-23", "2026-02"),  # 02-23..03-01: start + 3 = 02-26
        ("2026-04-27", "2026-04"),  # 04-27..05-03: 4 days in April
        ("2026-06-29", "2026-07"),  # 06-29..07-05: 5 days in July
        ("2026-12-28", "2026-12"),  # 12-28..01-03: 4 days in December
        ("2027-12-27", "2027-12"),  # 12-27..01-02: start + 3 = 12-30
        ("2024-02-26", "2024-02"),  # leap year: 02-26..03-03, start + 3 = 02-29
    ],
)
def test_the_month_a_week_belongs_to(week: str, month: str) -> None:
    [(period, value)] = rollup(_weeks((week, "7")), "sum", M)
    assert (period.key, value) == (month, D(7))


def test_sunday_weeks_roll_up_by_their_own_start() -> None:
    # Sunday 03-29..04-04: start + 3 = 04-01, so April (a Monday week 03-23 would be March).
    values = _weeks(("2026-03-22", "1"), ("2026-03-29", "2"), week_start=6)
    assert _keyed(rollup(values, "sum", M, week_start=6)) == [
        ("2026-03", D(1)),
        ("2026-04", D(2)),
    ]


def test_weeks_roll_up_into_quarters() -> None:
    values = _weeks(("2026-06-22", "10"), ("2026-06-29", "20"), ("2026-07-06", "30"))
    assert _keyed(rollup(values, "sum", Q)) == [("2026-Q2", D(10)), ("2026-Q3", D(50))]
    assert _keyed(rollup(values, "last", Q)) == [("2026-Q2", D(10)), ("2026-Q3", D(30))]
    assert _keyed(rollup(values, "average", Q)) == [("2026-Q2", D(10)), ("2026-Q3", D(25))]


def test_months_roll_up_into_fiscal_quarters() -> None:
    months = [
        (parse_period(key, M), D(value)) for key, value in [("2026-03", "1"), ("2026-04", "2")]
    ]
    assert _keyed(rollup(months, "sum", Q, fy_start_month=4)) == [
        ("FY2026-Q4", D(1)),
        ("FY2027-Q1", D(2)),
    ]
    assert _keyed(rollup(months, "sum", Q)) == [("2026-Q1", D(1)), ("2026-Q2", D(2))]


def test_last_is_the_latest_period_whatever_the_input_order() -> None:
    months = [
        (parse_period(key, M), D(value)) for key, value in [("2026-03", "9"), ("2026-01", "1")]
    ]
    assert _keyed(rollup(months, "last", Q)) == [("2026-Q1", D(9))]


def test_average_counts_only_the_periods_with_a_value() -> None:
    # Three of January's weeks reported; the missing one is not a zero.
    values = _weeks(("2026-01-05", "1"), ("2026-01-12", "1"), ("2026-01-26", "2"))
    [(month, average)] = rollup(values, "average", M)
    assert month.key == "2026-01"
    assert average == D(4) / 3


def test_rollup_of_nothing_is_nothing() -> None:
    for aggregation in ("last", "sum", "average"):
        assert rollup([], aggregation, M) == []


def test_rollup_to_the_same_cadence_sorts() -> None:
    values = list(reversed(MARCH_APRIL))
    assert rollup(values, "sum", W) == MARCH_APRIL


@pytest.mark.parametrize(
    ("values", "aggregation", "target", "message"),
    [
        (
            MARCH_APRIL,
            "median",
            M,
            "unknown aggregation 'median' (expected one of last, sum, average)",
        ),
        ([], "median", M, "unknown aggregation 'median'"),
        (
            [(parse_period("2026-03", M), D(1))],
            "sum",
            W,
            "cannot roll monthly values up into weekly periods",
        ),
        (
            [(parse_period("2026-03", M), D(1)), (parse_period("2026-Q1", Q), D(1))],
            "sum",
            Q,
            "cannot roll up values of different cadences together",
        ),
        (MARCH_APRIL + MARCH_APRIL[:1], "sum", M, "each period may have only one value"),
    ],
)
def test_rollup_refuses(values: list, aggregation: str, target: Cadence, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        rollup(values, aggregation, target)

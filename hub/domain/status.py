"""KPI status: thresholds as four bounds, the colour of a value and its one-line why.

Bounds follow PRODUCT.md §2: green zone `[green_min, green_max]`, red outside
`[red_min, red_max]`, any of them open (None: an open min is −∞, an open max +∞).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from itertools import combinations

from hub.domain.formatting import MAX_DECIMALS, format_value, rounded
from hub.domain.periods import (
    Cadence,
    Period,
    grace_deadline,
    period_for,
    previous_period,
)

__all__ = [
    "AGGREGATIONS",
    "NO_DATA_WHY",
    "Bounds",
    "Direction",
    "Status",
    "StatusResult",
    "bounds_from_form",
    "form_from_bounds",
    "is_late",
    "kpi_status",
    "rollup",
    "status_label",
]


class Status(StrEnum):
    """The colour of a KPI (or goal); NONE when there is nothing to judge."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"


class Direction(StrEnum):
    """Which way is good for a KPI."""

    UP = "up"
    DOWN = "down"
    RANGE = "range"


_Show = Callable[[Decimal], str]
# A week belongs to the month/quarter of its fourth day: the one holding 4 of its 7 days.
_MAJORITY_OFFSET = timedelta(days=3)
# Enough digits to round any stored number (24 before the point, 10 after) to 10 places:
# the default context's 28 would raise InvalidOperation.
_PRECISION = 50

# What each bound is called on the form of each direction, for messages people can act on.
_BOUND_NAMES: dict[Direction, dict[str, str]] = {
    Direction.UP: {
        "red_min": "the red line",
        "green_min": "the target",
        "green_max": "the top of the green zone",
        "red_max": "the upper red line",
    },
    Direction.DOWN: {
        "red_min": "the lower red line",
        "green_min": "the bottom of the green zone",
        "green_max": "the target",
        "red_max": "the red line",
    },
    Direction.RANGE: {
        "red_min": "the lower red line",
        "green_min": "the low end of the green range",
        "green_max": "the high end of the green range",
        "red_max": "the upper red line",
    },
}


def _plain(number: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 90.00 → "90", 1E+2 → "100"."""
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


@dataclass(frozen=True)
class Bounds:
    """The four threshold bounds of a KPI; None means open."""

    green_min: Decimal | None = None
    green_max: Decimal | None = None
    red_min: Decimal | None = None
    red_max: Decimal | None = None

    def is_open(self) -> bool:
        """Whether no bound is set at all (the KPI has no target)."""
        return all(getattr(self, f.name) is None for f in fields(self))

    def problems(self, direction: Direction | str | None = None) -> list[str]:
        """What breaks `red_min ≤ green_min ≤ green_max ≤ red_max`, in the form's words.

        Without a direction the wording is guessed from which bounds are set.
        """
        names = _BOUND_NAMES[Direction(direction) if direction else self._likely_direction()]
        chain = [
            ("red_min", self.red_min),
            ("green_min", self.green_min),
            ("green_max", self.green_max),
            ("red_max", self.red_max),
        ]
        problems = []
        for (i, (low_name, low)), (j, (high_name, high)) in combinations(enumerate(chain), 2):
            # Compare two bounds only when every bound between them is open: otherwise
            # the neighbouring pairs already catch (and name) the break, once.
            if low is None or high is None or any(v is not None for _, v in chain[i + 1 : j]):
                continue
            if low > high:
                problems.append(
                    f"{names[low_name]} ({_plain(low)}) must be at or below "
                    f"{names[high_name]} ({_plain(high)})"
                )
        return problems

    def _likely_direction(self) -> Direction:
        if self.green_max is None and self.red_max is None:
            return Direction.UP
        if self.green_min is None and self.red_min is None:
            return Direction.DOWN
        return Direction.RANGE


def _tidy(number: Decimal) -> Decimal:
    """Drop trailing zeros (0.9 × 100 = 90.0 → 90) without going to exponent form."""
    normal = number.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def _default_margin(target: Decimal) -> Decimal:
    # 10 % of the target's magnitude, so a negative target still gets its red line on
    # the bad side (0.9 × −10 = −9 would be above the target).
    return abs(target) / 10


def bounds_from_form(
    direction: Direction | str,
    target: Decimal | None = None,
    red_line: Decimal | None = None,
    low: Decimal | None = None,
    high: Decimal | None = None,
    red_low: Decimal | None = None,
    red_high: Decimal | None = None,
) -> Bounds:
    """The four bounds a threshold form means, per PRODUCT.md §2.

    Higher is better: target T, red below R (default T − 10 % of |T|). Lower is better:
    target T, red above R (default T + 10 % of |T|). Without a target, up and down KPIs
    have no thresholds at all (a red line alone is dropped: no colour without a target).
    Within a range: green between `low` and `high`, red below `red_low` or above
    `red_high`, each of them optional.
    """
    direction = Direction(direction)
    if direction is Direction.RANGE:
        return Bounds(green_min=low, green_max=high, red_min=red_low, red_max=red_high)
    if target is None:
        return Bounds()
    if direction is Direction.UP:
        red = red_line if red_line is not None else _tidy(target - _default_margin(target))
        return Bounds(green_min=target, red_min=red)
    red = red_line if red_line is not None else _tidy(target + _default_margin(target))
    return Bounds(green_max=target, red_max=red)


def form_from_bounds(direction: Direction | str, bounds: Bounds) -> dict[str, Decimal | None]:
    """The threshold form fields of a direction, filled from stored bounds."""
    direction = Direction(direction)
    if direction is Direction.UP:
        return {"target": bounds.green_min, "red_line": bounds.red_min}
    if direction is Direction.DOWN:
        return {"target": bounds.green_max, "red_line": bounds.red_max}
    return {
        "low": bounds.green_min,
        "high": bounds.green_max,
        "red_low": bounds.red_min,
        "red_high": bounds.red_max,
    }


@dataclass(frozen=True)
class StatusResult:
    """A status and the one line that explains it."""

    status: Status
    why: str


NO_DATA_WHY = "No data yet"
NO_TARGET_WHY = "No target set"


def _sentence_decimals(decimals: int, numbers: Sequence[Decimal]) -> int:
    """The fewest places (at least the KPI's) at which different numbers look different.

    Rounding to the KPI's decimals could otherwise print "Amber: 100,000 is under the
    100,000 target" for 99,999.6; one more place says what really happened.
    """
    for places in range(decimals, MAX_DECIMALS + 1):
        if all(
            rounded(a, places) != rounded(b, places) for a, b in combinations(numbers, 2) if a != b
        ):
            return places
    return MAX_DECIMALS


def kpi_status(
    value: Decimal | None,
    bounds: Bounds,
    *,
    direction: Direction | str,
    unit: str = "number",
    decimals: int = 0,
    currency: str = "USD",
) -> StatusResult:
    """The colour of a value against its bounds, with a one-line why.

    Red is checked first: when a red line is set but the green bound on that side is
    open, values past the red line are red and the rest of that side is green.
    A value on a green bound is green; on a red line it is not red (red is strictly past).
    """
    direction = Direction(direction)
    if value is None:
        return StatusResult(Status.NONE, NO_DATA_WHY)
    with localcontext(prec=_PRECISION):
        # A first pass only collects the numbers the sentence shows, so that a bound it
        # does not mention cannot add decimal places to it.
        shown: list[Decimal] = []

        def collect(number: Decimal) -> str:
            shown.append(number)
            return ""

        _judge(value, bounds, direction, collect)
        places = _sentence_decimals(decimals, shown)

        def show(number: Decimal) -> str:
            return format_value(number, unit, places, currency)

        return _judge(value, bounds, direction, show)


def _judge(value: Decimal, bounds: Bounds, direction: Direction, show: _Show) -> StatusResult:
    """The status of a (known) value and its why, numbers written with `show`."""
    if bounds.is_open():
        return StatusResult(Status.NONE, f"{NO_TARGET_WHY} (latest {show(value)})")

    g_min, g_max, r_min, r_max = bounds.green_min, bounds.green_max, bounds.red_min, bounds.red_max
    v = show(value)
    if r_min is not None and value < r_min:
        return StatusResult(Status.RED, f"Red: {v} is below the red line {show(r_min)}")
    if r_max is not None and value > r_max:
        return StatusResult(Status.RED, f"Red: {v} is above the red line {show(r_max)}")

    below = g_min is not None and value < g_min
    above = g_max is not None and value > g_max
    if not below and not above:
        return StatusResult(Status.GREEN, f"Green: {v} {_green_reason(bounds, direction, show)}")

    zone = _zone(g_min, g_max, show)
    if below:
        assert g_min is not None  # noqa: S101  (narrowing for the type checker)
        if direction is Direction.UP and g_max is None:
            reason = f"is under the {show(g_min)} target"
        else:
            reason = f"is below the green zone {zone}"
        if r_min is not None:
            word = "but above" if value > r_min else "and right on"
            reason += f" {word} the red line {show(r_min)}"
    else:
        assert g_max is not None  # noqa: S101  (narrowing for the type checker)
        if direction is Direction.DOWN and g_min is None:
            reason = f"is over the {show(g_max)} target"
        else:
            reason = f"is above the green zone {zone}"
        if r_max is not None:
            under = "under" if direction is Direction.DOWN else "below"
            word = f"but {under}" if value < r_max else "and right on"
            reason += f" {word} the red line {show(r_max)}"
    return StatusResult(Status.AMBER, f"Amber: {v} {reason}")


def _zone(low: Decimal | None, high: Decimal | None, show: _Show) -> str:
    if low is not None and high is not None:
        return f"{show(low)}–{show(high)}"
    if low is not None:
        return f"(from {show(low)} up)"
    assert high is not None  # noqa: S101  (only called with at least one side set)
    return f"(up to {show(high)})"


def _green_reason(bounds: Bounds, direction: Direction, show: _Show) -> str:
    g_min, g_max, r_min, r_max = bounds.green_min, bounds.green_max, bounds.red_min, bounds.red_max
    if g_min is not None and g_max is not None:
        return f"is within {show(g_min)}–{show(g_max)}"
    if g_min is not None:
        if direction is Direction.UP:
            return f"meets the {show(g_min)} target"
        return f"is at or above {show(g_min)}"
    if g_max is not None:
        if direction is Direction.DOWN:
            return f"is at or under the {show(g_max)} target"
        return f"is at or below {show(g_max)}"
    # No green zone set, only red lines: green means clear of them.
    if r_min is not None and r_max is not None:
        return f"is within the red lines {show(r_min)}–{show(r_max)}"
    if r_min is not None:
        return f"is at or above the red line {show(r_min)}"
    assert r_max is not None  # noqa: S101  (open bounds were handled by the caller)
    return f"is at or below the red line {show(r_max)}"


def is_late(
    last_value_period: Period | None,
    cadence: Cadence | str,
    today: date,
    *,
    week_start: int = 0,
    fy_start_month: int = 1,
) -> bool:
    """Whether a KPI is late: its latest value is older than the last period now past grace.

    `last_value_period` is the latest period that has a value. A KPI that never had one
    is not late but "No data", so None gives False. On the grace deadline itself a value
    is still on time; the day after, it is late.
    """
    if last_value_period is None:
        return False
    calendar_ = {"week_start": week_start, "fy_start_month": fy_start_month}
    due = period_for(today, cadence, **calendar_)
    # Walk back to the most recent period whose grace has passed (at most two steps:
    # grace is shorter than any period).
    while not today > grace_deadline(due):
        due = previous_period(due, **calendar_)
    return last_value_period.start < due.start


def status_label(result: StatusResult, late: bool) -> str:
    """The short label of a KPI: "Green", "Late · last Amber", "No data", "No target"."""
    if result.status is Status.NONE:
        if late:
            return "Late"
        return "No data" if result.why == NO_DATA_WHY else "No target"
    word = result.status.value.title()
    return f"Late · last {word}" if late else word


AGGREGATIONS = ("last", "sum", "average")
_FINENESS = {Cadence.WEEKLY: 0, Cadence.MONTHLY: 1, Cadence.QUARTERLY: 2}


def rollup(
    values: Sequence[tuple[Period, Decimal]],
    aggregation: str,
    target: Cadence | str,
    *,
    week_start: int = 0,
    fy_start_month: int = 1,
) -> list[tuple[Period, Decimal]]:
    """Values rolled up into a coarser cadence with the KPI's aggregation, sorted by period.

    A week belongs to the month or quarter holding most of its days (the one containing
    its fourth day); a month to the quarter it starts in. "average" is the mean of the
    values present (missing periods are not zeros). Rolling up to the same cadence
    returns the values sorted; to a finer one is a ValueError.
    """
    target = Cadence(target)
    if aggregation not in AGGREGATIONS:
        raise ValueError(
            f"unknown aggregation {aggregation!r} (expected one of {', '.join(AGGREGATIONS)})"
        )
    if not values:
        return []
    sources = {p.cadence for p, _ in values}
    if len(sources) > 1:
        raise ValueError("cannot roll up values of different cadences together")
    source = sources.pop()
    keys = [p.key for p, _ in values]
    if len(set(keys)) != len(keys):
        raise ValueError("each period may have only one value")
    ordered = sorted(values, key=lambda item: item[0])
    if _FINENESS[target] < _FINENESS[source]:
        raise ValueError(f"cannot roll {source} values up into {target} periods")
    if target == source:
        return ordered

    calendar_ = {"week_start": week_start, "fy_start_month": fy_start_month}
    buckets: dict[Period, list[Decimal]] = {}
    for period, value in ordered:
        anchor = period.start + _MAJORITY_OFFSET if source is Cadence.WEEKLY else period.start
        buckets.setdefault(period_for(anchor, target, **calendar_), []).append(value)

    result = []
    for bucket, items in sorted(buckets.items()):
        if aggregation == "last":
            total = items[-1]
        elif aggregation == "sum":
            total = sum(items, Decimal(0))
        else:
            total = sum(items, Decimal(0)) / len(items)
        result.append((bucket, total))
    return result

"""The demo workspace: Northwind Analytics, a 25-person software company, as a document.

`build_demo_document(today)` writes a `strategy-hub/v1` document (PRODUCT.md §4) whose
history ends at the last complete period before `today`, so the scorecard looks current
on any day: four goals, sixteen KPIs with six months of weekly or a year of monthly
values (trends with noise, from a seeded generator, so the same day gives the same
document), one KPI whose check-ins stopped a few weeks ago, an active cycle for the
current quarter with three objectives, and two long-running initiatives.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hub.domain.documents import FORMAT
from hub.domain.periods import Cadence, Period, period_for, previous_period, quarter_bounds
from hub.domain.periods import quarter_name as quarter_key

DEMO_SLUG = "demo"
DEMO_NAME = "Northwind Analytics"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105  (the published demo login)
DEMO_USER_NAME = "Dana Whitfield"
DEMO_TIME_ZONE = "America/New_York"
WEEKS = 26
MONTHS = 12
LATE_KPI = "K8"
LATE_BY_WEEKS = 3  # the late KPI's last value is this many weeks before the last complete one

_DANA, _PRIYA, _MARCUS = DEMO_EMAIL, "priya.natarajan@example.com", "marcus.oyelaran@example.com"
_SOFIA, _TOM, _JULES = (
    "sofia.lindqvist@example.com",
    "tom.becker@example.com",
    "jules.moreau@example.com",
)

MEMBERS = [
    {"email": _DANA, "role": "owner", "name": DEMO_USER_NAME},
    {"email": _PRIYA, "role": "editor", "name": "Priya Natarajan"},
    {"email": _MARCUS, "role": "editor", "name": "Marcus Oyelaran"},
    {"email": _SOFIA, "role": "updater", "name": "Sofia Lindqvist"},
    {"email": _TOM, "role": "updater", "name": "Tom Becker"},
    {"email": _JULES, "role": "viewer", "name": "Jules Moreau"},
]

_REVENUE = "Grow recurring revenue"
_CUSTOMERS = "Keep customers happy and growing"
_PRODUCT = "Ship a fast, reliable product"
_COMPANY = "Run a healthy, efficient company"

GOALS = [
    {
        "title": _REVENUE,
        "description": "Reach $3M ARR by year end, with self-serve carrying most new business.",
        "owner": _DANA,
        "archived": False,
    },
    {
        "title": _CUSTOMERS,
        "description": "Customers who get value fast stay, expand and refer others.",
        "owner": _SOFIA,
        "archived": False,
    },
    {
        "title": _PRODUCT,
        "description": "Dashboards that load fast and never lose data; releases nobody fears.",
        "owner": _MARCUS,
        "archived": False,
    },
    {
        "title": _COMPANY,
        "description": "Grow efficiently: 18+ months of runway and a team that wants to stay.",
        "owner": _TOM,
        "archived": False,
    },
]


@dataclass(frozen=True)
class _Series:
    """How a KPI's history moves: from `first` to `last` (the latest value, whose colour is
    chosen by design), along a curve (`shape` > 1 moves late), with noise of `noise`
    times the level, kept within [`floor`, `ceiling`]."""

    first: float
    last: float
    noise: float
    shape: float = 1.0
    floor: float = 0.0
    ceiling: float | None = None


@dataclass(frozen=True)
class _KpiSpec:
    key: str
    name: str
    goal: str
    unit: str
    decimals: int
    cadence: Cadence
    aggregation: str
    owner: str
    direction: str
    bounds: tuple[float | None, float | None, float | None, float | None]  # gmin gmax rmin rmax
    series: _Series
    description: str = ""
    # (periods before the latest, note, the value that period had or None for the series')
    notes: tuple[tuple[int, str, float | None], ...] = ()


W, M = Cadence.WEEKLY, Cadence.MONTHLY

KPIS = [
    _KpiSpec(
        "K1", "Monthly recurring revenue", _REVENUE, "currency", 0, M, "last", _TOM, "up",
        (250_000, None, 225_000, None), _Series(182_000, 253_400, 0.008, shape=1.1),
        "MRR at month end from Stripe, after discounts, before refunds.",
        ((0, "Crossed $250k for the first time", None),),
    ),
    _KpiSpec(
        "K2", "New MRR booked", _REVENUE, "currency", 0, W, "sum", _PRIYA, "up",
        (12_000, None, 9_000, None), _Series(8_200, 10_650, 0.12),
        "New and expansion MRR signed in the week.",
        ((0, "Two annual prepaid deals slipped into next week", None),),
    ),
    _KpiSpec(
        "K3", "Qualified pipeline created", _REVENUE, "currency", 0, W, "sum", _PRIYA, "up",
        (60_000, None, 45_000, None), _Series(41_000, 63_800, 0.15),
    ),
    _KpiSpec(
        "K4", "Trial-to-paid conversion", _REVENUE, "percent", 1, M, "average", _PRIYA, "up",
        (18, None, 14, None), _Series(15.8, 13.1, 0.03),
        "Trials started in the month that converted within 30 days.",
        ((0, "New pricing page since mid-month; watching it", None),),
    ),
    _KpiSpec(
        "K5", "Net revenue retention", _CUSTOMERS, "percent", 1, M, "last", _TOM, "up",
        (105, None, 98, None), _Series(101.2, 106.4, 0.006),
    ),
    _KpiSpec(
        "K6", "Logo churn", _CUSTOMERS, "percent", 1, M, "average", _SOFIA, "down",
        (None, 1.5, None, 2.5), _Series(1.2, 1.9, 0.1),
        "Share of paying customers at the start of the month who cancelled in it.",
    ),
    _KpiSpec(
        "K7", "Median first response time", _CUSTOMERS, "duration", 1, W, "average", _SOFIA,
        "down", (None, 4, None, 8), _Series(7.5, 3.2, 0.08, shape=0.8),
        "Hours from a ticket being opened to the first human answer.",
    ),
    _KpiSpec(
        "K8", "Customer satisfaction (CSAT)", _CUSTOMERS, "percent", 0, W, "average", _SOFIA,
        "up", (90, None, 85, None), _Series(91, 87, 0.012, ceiling=100),
        "Share of 'good' ratings on closed support tickets.",
    ),
    _KpiSpec(
        "K9", "Uptime", _PRODUCT, "percent", 2, W, "average", _MARCUS, "up",
        (99.9, None, 99.5, None), _Series(99.93, 99.95, 0.0003, ceiling=100),
        notes=((9, "Queue outage on Tuesday, 47 minutes", 99.53),),
    ),
    _KpiSpec(
        "K10", "Deploys to production", _PRODUCT, "number", 0, W, "sum", _MARCUS, "up",
        (15, None, 10, None), _Series(6, 17, 0.15),
    ),
    _KpiSpec(
        "K11", "Open P1 bugs", _PRODUCT, "number", 0, W, "last", _MARCUS, "down",
        (None, 3, None, 6), _Series(4, 8, 0.15, shape=2.5),
        notes=((0, "Export regressions after the 4.12 release", None),),
    ),
    _KpiSpec(
        "K12", "p95 dashboard load time (seconds)", _PRODUCT, "number", 1, W, "average",
        _MARCUS, "down", (None, 2, None, 3.5), _Series(4.1, 2.6, 0.05),
    ),
    _KpiSpec(
        "K13", "Engineering time on planned work", _COMPANY, "percent", 0, W, "average",
        _MARCUS, "range", (65, 80, 55, 90), _Series(58, 72, 0.05),
        "Below the range the roadmap stalls; above it, nobody fixes what customers hit.",
    ),
    _KpiSpec(
        "K14", "Cash runway (months)", _COMPANY, "number", 1, M, "last", _TOM, "up",
        (18, None, 12, None), _Series(22.5, 19.1, 0.01),
    ),
    _KpiSpec(
        "K15", "Employee NPS", _COMPANY, "number", 0, M, "last", _DANA, "up",
        (30, None, 10, None), _Series(34, 24, 0.12, floor=-100, ceiling=100),
    ),
    _KpiSpec(
        "K16", "Burn multiple", _COMPANY, "number", 2, M, "last", _TOM, "down",
        (None, 1.5, None, 2.5), _Series(2.6, 1.35, 0.05),
        "Net burn divided by net new ARR; lower is more efficient.",
    ),
]  # fmt: skip


def build_demo_document(today: date) -> dict[str, Any]:
    """The Northwind Analytics demo as of `today` (deterministic for a given day)."""
    cycle_start, cycle_end = quarter_bounds(today)
    histories = {spec.key: _history(spec, today) for spec in KPIS}
    return {
        "format": FORMAT,
        "workspace": {
            "slug": DEMO_SLUG,
            "name": DEMO_NAME,
            "mode": "both",
            "time_zone": DEMO_TIME_ZONE,
            "week_start": "monday",
            "fiscal_year_start_month": 1,
            "currency": "USD",
        },
        "members": [dict(member) for member in MEMBERS],
        "goals": [dict(goal) for goal in GOALS],
        "kpis": [_kpi(spec, histories[spec.key]) for spec in KPIS],
        "cycles": [
            {
                "name": quarter_key(today),
                "start": cycle_start.isoformat(),
                "end": cycle_end.isoformat(),
                "state": "active",
            }
        ],
        "initiatives": _objectives(today, quarter_key(today), cycle_start, cycle_end, histories)
        + _long_running(today),
    }


# ---------------------------------------------------------------------------- KPIs


def last_complete_period(today: date, cadence: Cadence) -> Period:
    """The most recent period that ended before `today` (the demo's calendar)."""
    return previous_period(period_for(today, cadence))


def _history(spec: _KpiSpec, today: date) -> list[tuple[Period, Decimal]]:
    """The KPI's values, oldest first, ending at the last complete period (or earlier for
    the late KPI)."""
    count = WEEKS if spec.cadence is W else MONTHS
    last = last_complete_period(today, spec.cadence)
    if spec.key == LATE_KPI:
        for _ in range(LATE_BY_WEEKS):
            last = previous_period(last)
        count -= LATE_BY_WEEKS
    periods = [last]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    periods.reverse()
    rng = random.Random(f"northwind/{spec.key}")  # noqa: S311  (demo data, not secrets)
    series = spec.series
    events = {count - 1 - ago: value for ago, _, value in spec.notes if value is not None}
    values = []
    for i, period in enumerate(periods):
        t = i / (count - 1)
        level = series.first + (series.last - series.first) * t**series.shape
        noisy = rng.gauss(level, abs(level) * series.noise)
        # No noise on the latest value: its colour is part of the design.
        raw = series.last if i == count - 1 else events.get(i, noisy)
        raw = max(series.floor, raw)
        if series.ceiling is not None:
            raw = min(series.ceiling, raw)
        values.append((period, _decimal(raw, spec.decimals)))
    return values


def _kpi(spec: _KpiSpec, history: list[tuple[Period, Decimal]]) -> dict[str, Any]:
    green_min, green_max, red_min, red_max = (
        None if bound is None else _decimal(bound, spec.decimals + 2) for bound in spec.bounds
    )
    notes = {ago: note for ago, note, _ in spec.notes}
    return {
        "key": spec.key,
        "name": spec.name,
        "description": spec.description,
        "goal": spec.goal,
        "unit": spec.unit,
        "decimals": spec.decimals,
        "cadence": spec.cadence.value,
        "aggregation": spec.aggregation,
        "owner": spec.owner,
        "direction": spec.direction,
        "green_min": green_min,
        "green_max": green_max,
        "red_min": red_min,
        "red_max": red_max,
        "archived": False,
        "values": [
            {"period": period.key, "value": value, "note": notes.get(len(history) - 1 - i, "")}
            for i, (period, value) in enumerate(history)
        ],
    }


def _decimal(number: float, places: int) -> Decimal:
    """A float rounded to `places` as an exact, canonical Decimal (90.0 → 90)."""
    value = Decimal(repr(round(number, places))).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


# ----------------------------------------------------------------------- the bets


def _objectives(
    today: date,
    cycle: str,
    start: date,
    end: date,
    histories: dict[str, list[tuple[Period, Decimal]]],
) -> list[dict[str, Any]]:
    """The quarter's three objectives; key results move with the share of the quarter gone,
    each at its own pace (1.0: exactly on schedule to reach the target)."""
    elapsed = min(max((today - start).days / max((end - start).days, 1), 0.0), 1.0)

    def kr(
        key: str, title: str, owner: str, first: float, target: float, pace: float, **extra: Any
    ) -> dict[str, Any]:
        places = extra.pop("places", 0)
        current = first + (target - first) * min(pace * elapsed, 1.0)
        return {
            "key": key,
            "title": title,
            "owner": owner,
            "start": _decimal(first, places),
            "target": _decimal(target, places),
            "current": _decimal(current, places),
            "unit": extra.pop("unit", "number"),
            "confidence": extra.pop("confidence", 5),
            "weight": _decimal(extra.pop("weight", 1), 2),
            "kpi": extra.pop("kpi", None),
        }

    # The response-time KR follows its KPI: it starts where the KPI stood when the
    # quarter began, and its current value is the KPI's latest (the scorecard reads it).
    response = histories["K7"]
    # (Six months of weeks always reach back past the start of the quarter.)
    at_start = next(value for period, value in reversed(response) if period.start <= start)
    linked = kr(
        "KR5", "Cut median first response time to 3 h", _SOFIA, float(at_start), 3, 0,
        places=1, unit="duration", kpi="K7", confidence=7,
    ) | {"current": response[-1][1]}  # fmt: skip

    def objective(key: str, title: str, goal: str, owner: str, **rest: Any) -> dict[str, Any]:
        return {
            "key": key,
            "title": title,
            "description": rest.pop("description", ""),
            "goal": goal,
            "cycle": cycle,
            "owner": owner,
            "start": start.isoformat(),
            "due": end.isoformat(),
            "percent_complete": None,
            "final_score": None,
            "final_score_manual": False,
            "archived": False,
            "gauges": rest.pop("gauges"),
            "key_results": rest.pop("key_results"),
        }

    return [
        objective(
            "I1",
            "Make self-serve the main way customers buy",
            _REVENUE,
            _PRIYA,
            description="Most new customers should never need a sales call to start paying.",
            gauges=["K2", "K4"],
            key_results=[
                kr("KR1", "Raise the self-serve share of new MRR from 22% to 45%", _PRIYA,
                   22, 45, 0.95, unit="percent", weight=2, confidence=7),
                kr("KR2", "Ship in-app checkout with annual plans to 100% of trials", _MARCUS,
                   0, 100, 1.05, unit="percent", confidence=8),
                kr("KR3", "Cut time to first dashboard from 40 to 10 minutes", _MARCUS,
                   40, 10, 0.8, confidence=6),
            ],
        ),
        objective(
            "I2",
            "Customers get answers without waiting on us",
            _CUSTOMERS,
            _SOFIA,
            gauges=["K6", "K7", "K8"],
            key_results=[
                kr("KR4", "Raise help-center deflection from 15% to 35%", _SOFIA,
                   15, 35, 0.5, unit="percent", places=1, confidence=4),
                linked,
                kr("KR6", "Onboarding checklist completed by 80% of new accounts (from 55%)",
                   _PRIYA, 55, 80, 0.45, unit="percent", confidence=5),
                kr("KR7", "Publish 40 new help articles", _SOFIA, 0, 40, 0.6,
                   weight=0.5, confidence=6),
            ],
        ),
        objective(
            "I3",
            "Make releases boring",
            _PRODUCT,
            _MARCUS,
            description="Small, frequent, reversible releases instead of big risky ones.",
            gauges=["K10", "K11"],
            key_results=[
                kr("KR8", "Raise automated test coverage of the API from 48% to 75%", _MARCUS,
                   48, 75, 0.35, unit="percent", confidence=3),
                kr("KR9", "Bring the change failure rate down from 18% to 8%", _MARCUS,
                   18, 8, 0.25, unit="percent", confidence=3),
                kr("KR10", "Cut deploy lead time from 72 h to 12 h", _MARCUS,
                   72, 12, 0.3, unit="duration", confidence=4),
            ],
        ),
    ]  # fmt: skip


def _long_running(today: date) -> list[dict[str, Any]]:
    """Two initiatives outside any cycle, tracked by hand with % complete."""

    def initiative(
        key: str,
        title: str,
        goal: str,
        owner: str,
        days: tuple[int, int],
        percent: int,
        **rest: Any,
    ) -> dict[str, Any]:
        return {
            "key": key,
            "title": title,
            "description": rest.pop("description", ""),
            "goal": goal,
            "cycle": None,
            "owner": owner,
            "start": (today - timedelta(days=days[0])).isoformat(),
            "due": (today + timedelta(days=days[1])).isoformat(),
            "percent_complete": Decimal(percent),
            "final_score": None,
            "final_score_manual": False,
            "archived": False,
            "gauges": rest.pop("gauges"),
            "key_results": [],
        }

    return [
        # 150 of 240 days gone (62.5 %), 58 % done: on track.
        initiative(
            "I4",
            "Move every customer to the new warehouse connector",
            _PRODUCT,
            _MARCUS,
            (150, 90),
            58,
            description="Retire the legacy sync workers; the new connector is 3x faster.",
            gauges=["K9", "K12"],
        ),
        # Half the time gone, 30 % done: at risk.
        initiative(
            "I5",
            "SOC 2 Type II certification",
            _REVENUE,
            _TOM,
            (120, 120),
            30,
            description="Enterprise buyers ask for it in every security review.",
            gauges=["K3"],
        ),
    ]

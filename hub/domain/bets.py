"""Bets vs gauges: are this cycle's initiatives moving the KPIs they target?

An initiative is a *bet*; the KPIs it is meant to move are its *gauges*. Each gauge's
movement is judged from the last value on or before the cycle start to its latest value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from hub.domain.scoring import InitiativeStatus
from hub.domain.status import Bounds, Direction, Status

__all__ = [
    "FLAT_THRESHOLD",
    "BetInput",
    "BetRow",
    "BetsReport",
    "Flag",
    "GaugeInput",
    "Movement",
    "bets_vs_gauges",
    "flag_message",
    "gauge_movement",
]

# A move smaller than this share of the baseline's magnitude is noise, not movement.
FLAT_THRESHOLD = Decimal("0.01")


class Movement(StrEnum):
    """Which way a gauge moved since the cycle started, judged by its direction."""

    IMPROVING = "improving"
    FLAT = "flat"
    WORSENING = "worsening"
    NO_DATA = "no_data"


def _distance_to_green(value: Decimal, bounds: Bounds) -> Decimal:
    # The zone kpi_status calls green: where a green bound is open, the red line on that
    # side (if any) is its edge; with neither, that side never ends.
    low = bounds.green_min if bounds.green_min is not None else bounds.red_min
    high = bounds.green_max if bounds.green_max is not None else bounds.red_max
    if low is not None and value < low:
        return low - value
    if high is not None and value > high:
        return value - high
    return Decimal(0)


def gauge_movement(
    baseline: Decimal | None, latest: Decimal | None, direction: Direction | str, bounds: Bounds
) -> Movement:
    """How a gauge moved from its baseline (last value on or before the cycle start).

    Flat when the move is under 1 % of the baseline's magnitude (exactly 1 % counts as a
    move) or there is none; from a baseline of 0 any move counts. Up: rising improves;
    down: falling improves; range: getting closer to the green zone improves (inside it
    the distance is 0, so moving about inside the zone is flat).
    """
    if baseline is None or latest is None:
        return Movement.NO_DATA
    direction = Direction(direction)
    move = latest - baseline
    if move == 0 or abs(move) < FLAT_THRESHOLD * abs(baseline):
        return Movement.FLAT
    if direction is Direction.RANGE:
        before, after = _distance_to_green(baseline, bounds), _distance_to_green(latest, bounds)
        if after == before:
            return Movement.FLAT
        return Movement.IMPROVING if after < before else Movement.WORSENING
    better = move > 0 if direction is Direction.UP else move < 0
    return Movement.IMPROVING if better else Movement.WORSENING


@dataclass(frozen=True)
class BetInput:
    """An initiative as the matrix needs it; `gauges` are the KPI keys it targets."""

    key: str
    title: str
    status: InitiativeStatus
    score: Decimal | None
    gauges: tuple[str, ...]


@dataclass(frozen=True)
class GaugeInput:
    """A KPI as the matrix needs it."""

    key: str
    name: str
    status: Status
    late: bool
    movement: Movement


class Flag(StrEnum):
    """Something in the matrix a manager should look at."""

    BET_NOT_MOVING_GAUGE = "bet_not_moving_gauge"
    GAUGE_WITHOUT_BET = "gauge_without_bet"
    BET_WITHOUT_GAUGE = "bet_without_gauge"


@dataclass(frozen=True)
class BetRow:
    """One (initiative, gauge) pair of the matrix, or an initiative with no gauge."""

    bet: BetInput
    gauge: GaugeInput | None
    flags: tuple[Flag, ...]


@dataclass
class BetsReport:
    """The matrix rows and the troubled gauges no bet targets."""

    rows: list[BetRow] = field(default_factory=list)
    unbet_gauges: list[GaugeInput] = field(default_factory=list)

    @property
    def flag_counts(self) -> dict[Flag, int]:
        """How many times each flag is raised (every flag present, zero included)."""
        counts = dict.fromkeys(Flag, 0)
        for row in self.rows:
            for flag in row.flags:
                counts[flag] += 1
        counts[Flag.GAUGE_WITHOUT_BET] += len(self.unbet_gauges)
        return counts


_CLAIMS_PROGRESS = frozenset({InitiativeStatus.ON_TRACK, InitiativeStatus.DONE})
_NOT_MOVING = frozenset({Movement.FLAT, Movement.WORSENING})


def _needs_a_bet(gauge: GaugeInput) -> bool:
    return gauge.status in {Status.RED, Status.AMBER} or gauge.late


def bets_vs_gauges(bets: Sequence[BetInput], gauges: Sequence[GaugeInput]) -> BetsReport:
    """The bets-vs-gauges matrix with its flags, bets and gauges in the order given.

    - One row per (bet, gauge) pair; a bet naming no known gauge gets one row with no
      gauge, flagged BET_WITHOUT_GAUGE. Gauge keys not in `gauges` are ignored (e.g. an
      archived KPI), and a key named twice makes one row.
    - BET_NOT_MOVING_GAUGE when the bet says it is on track (or done) but its gauge is
      flat or worsening. A gauge with no data is not flagged: nothing shows it stuck.
    - GAUGE_WITHOUT_BET for every red, amber or late gauge that no bet targets.
    """
    by_key = {gauge.key: gauge for gauge in gauges}
    targeted: set[str] = set()
    rows = []
    for bet in bets:
        keys = [key for key in dict.fromkeys(bet.gauges) if key in by_key]
        if not keys:
            rows.append(BetRow(bet, None, (Flag.BET_WITHOUT_GAUGE,)))
            continue
        for key in keys:
            gauge = by_key[key]
            targeted.add(key)
            stuck = bet.status in _CLAIMS_PROGRESS and gauge.movement in _NOT_MOVING
            rows.append(BetRow(bet, gauge, (Flag.BET_NOT_MOVING_GAUGE,) if stuck else ()))
    unbet = [g for g in gauges if g.key not in targeted and _needs_a_bet(g)]
    return BetsReport(rows=rows, unbet_gauges=unbet)


def _gauge_name(gauge: GaugeInput) -> str:
    return f"{gauge.key} {gauge.name}".strip()


def flag_message(
    flag: Flag | str, bet: BetInput | None = None, gauge: GaugeInput | None = None
) -> str:
    """A sentence for a flag, naming the bet and gauge when given."""
    flag = Flag(flag)
    if flag is Flag.BET_NOT_MOVING_GAUGE:
        if bet is None or gauge is None:
            return "Bet on track but its gauge is not moving."
        claim = "is done" if bet.status is InitiativeStatus.DONE else "is on track"
        moving = "is getting worse" if gauge.movement is Movement.WORSENING else "is not moving"
        return f"“{bet.title}” {claim} but {_gauge_name(gauge)} {moving}."
    if flag is Flag.GAUGE_WITHOUT_BET:
        if gauge is None:
            return "Red or amber gauge with no bet on it."
        state = [gauge.status.value] if gauge.status in {Status.RED, Status.AMBER} else []
        state += ["late"] if gauge.late else []
        if not state:
            return f"{_gauge_name(gauge)} has no bet on it."
        return f"{_gauge_name(gauge)} is {' and '.join(state)} and no bet targets it."
    if bet is None:
        return "Bet with no gauge: it names no KPI it is meant to move."
    return f"“{bet.title}” names no KPI it is meant to move."

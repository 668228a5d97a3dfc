"""OKR scoring: key result progress, initiative scores and statuses, goal health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from hub.domain.status import Status

__all__ = [
    "MAX_KEY_RESULTS_ADVISED",
    "GoalHealth",
    "InitiativeStatus",
    "close_grade",
    "elapsed_fraction",
    "goal_health",
    "hand_tracked_status",
    "initiative_score",
    "kr_progress",
    "kr_score",
    "scored_status",
]

MAX_KEY_RESULTS_ADVISED = 5

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
SUCCESS = Decimal("0.7")
PARTIAL = Decimal("0.4")


class InitiativeStatus(StrEnum):
    """Where an initiative (an Objective on OKR pages) stands."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"
    OVERDUE = "overdue"


def _clamp(x: Decimal) -> Decimal:
    return min(max(x, ZERO), ONE)


def kr_progress(start: Decimal, target: Decimal, current: Decimal | None) -> Decimal:
    """Progress of a key result from start to target, clamped to 0..1 (None current → 0).

    Works for decreasing targets too (start 10, target 4). When start equals target the
    KR is "hold the line": 1 while current is exactly the target, else 0 — with no
    distance to travel there is no partial credit, and no direction to call better.
    """
    if current is None:
        return ZERO
    if start == target:
        return ONE if current == target else ZERO
    return _clamp((current - start) / (target - start))


def kr_score(progress: Decimal) -> Decimal:
    """A key result's score: its progress rounded (half up) to 0.01."""
    return progress.quantize(CENT, rounding=ROUND_HALF_UP)


def initiative_score(krs: Sequence[tuple[Decimal, Decimal | None]]) -> Decimal | None:
    """Weighted mean of (score, weight) pairs to 0.01; None when there are no key results.

    If any weight is missing, zero or negative the weights are not meaningful as a set,
    so every key result counts equally instead (which is also the default: all 1).
    """
    if not krs:
        return None
    given = [weight for _, weight in krs]
    weights = [ONE] * len(krs)
    if all(w is not None and w > 0 for w in given):
        weights = [w for w in given if w is not None]
    total = sum((score * w for (score, _), w in zip(krs, weights, strict=True)), ZERO)
    return kr_score(total / sum(weights, ZERO))


def elapsed_fraction(start: date | None, end: date | None, today: date) -> Decimal:
    """How much of start→end has gone by on `today`, 0..1 (missing dates → 0).

    A window of no length (end on or before start) is all gone once `end` is reached.
    """
    if start is None or end is None:
        return ZERO
    if end <= start:
        return ONE if today >= end else ZERO
    return _clamp(Decimal((today - start).days) / Decimal((end - start).days))


def scored_status(score: Decimal, elapsed: Decimal) -> InitiativeStatus:
    """Status of an initiative with key results: score against 0.7 and 0.4 of time elapsed."""
    if score >= SUCCESS * elapsed:
        return InitiativeStatus.ON_TRACK
    if score >= PARTIAL * elapsed:
        return InitiativeStatus.AT_RISK
    return InitiativeStatus.OFF_TRACK


def close_grade(score: Decimal) -> Status:
    """The colour of a final score: ≥ 0.7 green (success), ≥ 0.4 amber, below that red."""
    if score >= SUCCESS:
        return Status.GREEN
    if score >= PARTIAL:
        return Status.AMBER
    return Status.RED


def hand_tracked_status(
    percent_complete: Decimal | None, elapsed: Decimal, due: date | None, today: date
) -> InitiativeStatus:
    """Status of an initiative without key results, from its % complete and time elapsed."""
    percent = percent_complete if percent_complete is not None else ZERO
    if percent >= 100:
        return InitiativeStatus.DONE
    if due is not None and today > due:
        return InitiativeStatus.OVERDUE
    progress = percent / 100
    if progress >= elapsed - Decimal("0.10"):
        return InitiativeStatus.ON_TRACK
    if progress >= elapsed - Decimal("0.25"):
        return InitiativeStatus.AT_RISK
    return InitiativeStatus.OFF_TRACK


@dataclass(frozen=True)
class GoalHealth:
    """A goal's status with how many of its KPIs are green, amber, red, none and late."""

    status: Status
    counts: dict[str, int]


_SEVERITY = {Status.NONE: 0, Status.GREEN: 1, Status.AMBER: 2, Status.RED: 3}


def goal_health(kpis: Sequence[tuple[Status, bool]]) -> GoalHealth:
    """The worst status among a goal's KPIs, given as (status, late) pairs.

    Late counts as amber: a late green (or late no-target) KPI makes the goal at least
    amber; a late red one stays red. KPIs without status only count when nothing else
    has a colour (then, as with no KPIs, the goal is NONE). The counts are of the KPIs'
    own statuses, plus how many are late.
    """
    counts = {status.value: 0 for status in Status} | {"late": 0}
    worst = Status.NONE
    for status, late in kpis:
        status = Status(status)
        counts[status.value] += 1
        counts["late"] += bool(late)
        effective = max(status, Status.AMBER, key=_SEVERITY.__getitem__) if late else status
        worst = max(worst, effective, key=_SEVERITY.__getitem__)
    return GoalHealth(worst, counts)

"""OKR scoring: key result progress and score, initiative score and status, goal health."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.scoring import (
    MAX_KEY_RESULTS_ADVISED,
    GoalHealth,
    InitiativeStatus,
    close_grade,
    elapsed_fraction,
    goal_health,
    hand_tracked_status,
    initiative_score,
    kr_progress,
    kr_score,
    scored_status,
)
from hub.domain.status import Status

D = Decimal
ON_TRACK, AT_RISK, OFF_TRACK = (
    InitiativeStatus.ON_TRACK,
    InitiativeStatus.AT_RISK,
    InitiativeStatus.OFF_TRACK,
)
DONE, OVERDUE = InitiativeStatus.DONE, InitiativeStatus.OVERDUE


def test_api_words() -> None:
    assert [s.value for s in InitiativeStatus] == [
        "on_track",
        "at_risk",
        "off_track",
        "done",
        "overdue",
    ]
    assert MAX_KEY_RESULTS_ADVISED == 5


# --- key results --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "current", "progress"),
    [
        # Increasing: 0 → 100.
        ("0", "100", "0", "0"),
        ("0", "100", "50", "0.5"),
        ("0", "100", "100", "1"),
        ("0", "100", "150", "1"),  # overshoot is clamped to 1
        ("0", "100", "-10", "0"),  # going backwards is clamped to 0
        ("20", "70", "45", "0.5"),
        # Decreasing: churn 10 → 4.
        ("10", "4", "10", "0"),
        ("10", "4", "7", "0.5"),
        ("10", "4", "4", "1"),
        ("10", "4", "2", "1"),
        ("10", "4", "12", "0"),
        ("100", "0", "25", "0.75"),
        # Across zero and below it.
        ("-20", "20", "0", "0.5"),
        ("-5", "-25", "-15", "0.5"),
        # Start equals target: hold the line, 1 only exactly on it.
        ("5", "5", "5", "1"),
        ("5", "5", "5.00", "1"),
        ("5", "5", "6", "0"),
        ("5", "5", "4", "0"),
        ("0", "0", "0", "1"),
    ],
)
def test_kr_progress(start: str, target: str, current: str, progress: str) -> None:
    assert kr_progress(D(start), D(target), D(current)) == D(progress)


@pytest.mark.parametrize(("start", "target"), [("0", "100"), ("10", "4"), ("5", "5")])
def test_kr_without_a_current_value_has_no_progress(start: str, target: str) -> None:
    assert kr_progress(D(start), D(target), None) == 0
    assert kr_score(kr_progress(D(start), D(target), None)) == D("0.00")


@pytest.mark.parametrize(
    ("progress", "score"),
    [
        ("0", "0.00"),
        ("1", "1.00"),
        ("0.5", "0.50"),
        # Half up, not the half-even rounding Decimal does by default.
        ("0.005", "0.01"),
        ("0.125", "0.13"),
        ("0.675", "0.68"),
        ("0.0049999", "0.00"),
        ("0.004", "0.00"),
        ("0.994", "0.99"),
        ("0.995", "1.00"),
        ("0.695", "0.70"),  # which is then a success at close
    ],
)
def test_kr_score_rounds_half_up_to_hundredths(progress: str, score: str) -> None:
    result = kr_score(D(progress))
    assert result == D(score)
    assert str(result) == score  # shown with two places


def test_kr_score_from_progress() -> None:
    assert kr_score(kr_progress(D(0), D(200), D(1))) == D("0.01")  # exactly 0.005
    assert kr_score(kr_progress(D(0), D(8), D(1))) == D("0.13")  # exactly 0.125
    assert kr_score(kr_progress(D(0), D(3), D(2))) == D("0.67")
    assert kr_score(kr_progress(D(0), D(3), D(1))) == D("0.33")
    assert kr_score(kr_progress(D(0), D(100), D(250))) == D("1.00")


_amounts = st.decimals(min_value=-(10**12), max_value=10**12, places=4)


@given(start=_amounts, target=_amounts, current=st.none() | _amounts)
def test_kr_progress_and_score_stay_between_0_and_1(
    start: Decimal, target: Decimal, current: Decimal | None
) -> None:
    progress = kr_progress(start, target, current)
    score = kr_score(progress)
    assert 0 <= progress <= 1
    assert 0 <= score <= 1
    assert abs(score - progress) <= D("0.005")
    if current is not None and current == target:
        assert progress == 1


@given(start=_amounts, target=_amounts, a=_amounts, b=_amounts)
def test_moving_toward_the_target_never_lowers_progress(
    start: Decimal, target: Decimal, a: Decimal, b: Decimal
) -> None:
    # Whichever way the target lies, a value further along scores at least as much.
    if start == target:
        return
    nearer, further = sorted([a, b]) if target > start else sorted([a, b], reverse=True)
    assert kr_progress(start, target, nearer) <= kr_progress(start, target, further)


# --- initiative score ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("krs", "score"),
    [
        ([], None),
        ([("0.64", 1)], "0.64"),
        # Equal weights: plain mean.
        ([("0.5", 1), ("1", 1)], "0.75"),
        ([("0.5", None), ("1", None)], "0.75"),  # weights not given: equal
        ([("0.7", 1), ("0.4", 1), ("1", 1)], "0.70"),
        # Weighted mean.
        ([("1", 3), ("0", 1)], "0.75"),
        ([("0.9", 2), ("0.3", 1)], "0.70"),
        ([("0.8", "0.5"), ("0.2", "1.5")], "0.35"),
        # Rounded to 0.01, half up.
        ([("1", 1), ("0", 2)], "0.33"),
        ([("1", 2), ("0", 1)], "0.67"),
        ([("0.33", 1), ("0.33", 1), ("0.34", 1)], "0.33"),
        ([("0.01", 1), ("0", 1)], "0.01"),  # 0.005 → 0.01
        # Weights that cannot be used as a set (zero total, zero, negative, missing):
        # every key result counts equally rather than dividing by zero.
        ([("0.4", 0), ("0.8", 0)], "0.60"),
        ([("1", 2), ("0", 0)], "0.50"),
        ([("1", 2), ("0", -1)], "0.50"),
        ([("1", 3), ("0", None)], "0.50"),
    ],
)
def test_initiative_score(krs: list[tuple[str, object]], score: str | None) -> None:
    pairs = [(D(s), None if w is None else D(w)) for s, w in krs]
    result = initiative_score(pairs)
    assert result == (None if score is None else D(score))


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=1, places=2),
            st.none() | st.decimals(min_value=0, max_value=100, places=2),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_initiative_score_lies_between_its_krs(krs: list[tuple[Decimal, Decimal | None]]) -> None:
    score = initiative_score(krs)
    assert score is not None
    assert min(s for s, _ in krs) <= score <= max(s for s, _ in krs)


# --- elapsed time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "today", "elapsed"),
    [
        # Q1 2026: Jan 1 → Mar 31 is 89 days.
        (date(2026, 1, 1), date(2026, 3, 31), date(2025, 12, 1), D(0)),  # before start
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 1, 1), D(0)),  # on start
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 2, 14), D(44) / 89),
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 3, 31), D(1)),  # on end
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 6, 30), D(1)),  # after end
        # Leap years: February has 29 days.
        (date(2024, 2, 1), date(2024, 3, 1), date(2024, 2, 29), D(28) / 29),
        (date(2023, 2, 1), date(2023, 3, 1), date(2023, 2, 28), D(27) / 28),
        (date(2024, 2, 28), date(2024, 3, 1), date(2024, 2, 29), D("0.5")),
        (date(2024, 1, 1), date(2024, 12, 31), date(2024, 7, 1), D(182) / 365),
        (date(2023, 1, 1), date(2023, 12, 31), date(2023, 7, 2), D(182) / 364),
        (date(2024, 2, 29), date(2025, 2, 28), date(2024, 8, 29), D(182) / 365),
        # Missing dates: no time has passed.
        (None, date(2026, 3, 31), date(2026, 2, 14), D(0)),
        (date(2026, 1, 1), None, date(2026, 2, 14), D(0)),
        (None, None, date(2026, 2, 14), D(0)),
        # A window of no length is all gone once its end is reached.
        (date(2026, 1, 1), date(2026, 1, 1), date(2025, 12, 31), D(0)),
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1), D(1)),
        (date(2026, 3, 1), date(2026, 1, 1), date(2026, 2, 1), D(1)),
    ],
)
def test_elapsed_fraction(
    start: date | None, end: date | None, today: date, elapsed: Decimal
) -> None:
    assert elapsed_fraction(start, end, today) == elapsed


# --- initiative status --------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "elapsed", "status"),
    [
        # At the end of the cycle: on track from 0.7, at risk from 0.4.
        ("1", "1", ON_TRACK),
        ("0.7", "1", ON_TRACK),
        ("0.69", "1", AT_RISK),
        ("0.4", "1", AT_RISK),
        ("0.39", "1", OFF_TRACK),
        ("0", "1", OFF_TRACK),
        # Halfway: 0.7·e = 0.35 and 0.4·e = 0.2.
        ("0.35", "0.5", ON_TRACK),
        ("0.34", "0.5", AT_RISK),
        ("0.2", "0.5", AT_RISK),
        ("0.19", "0.5", OFF_TRACK),
        # Nothing elapsed yet: nothing expected.
        ("0", "0", ON_TRACK),
    ],
)
def test_scored_status(score: str, elapsed: str, status: InitiativeStatus) -> None:
    assert scored_status(D(score), D(elapsed)) is status


def test_scored_status_from_real_dates() -> None:
    cycle = (date(2026, 1, 1), date(2026, 3, 31))
    halfway = elapsed_fraction(*cycle, date(2026, 2, 15))  # 45/89, a little over half
    assert scored_status(D("0.36"), halfway) is ON_TRACK
    assert scored_status(D("0.35"), halfway) is AT_RISK  # 0.7 × 45/89 ≈ 0.354
    assert scored_status(D("0.21"), halfway) is AT_RISK
    assert scored_status(D("0.2"), halfway) is OFF_TRACK  # 0.4 × 45/89 ≈ 0.202
    assert scored_status(D("0.2"), elapsed_fraction(*cycle, date(2026, 1, 20))) is ON_TRACK


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("1", Status.GREEN),
        ("0.7", Status.GREEN),
        ("0.69", Status.AMBER),
        ("0.4", Status.AMBER),
        ("0.39", Status.RED),
        ("0", Status.RED),
    ],
)
def test_close_grade(score: str, grade: Status) -> None:
    assert close_grade(D(score)) is grade


DUE = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("percent", "elapsed", "today", "status"),
    [
        # Done at 100 %, even after the due date.
        ("100", "0.5", date(2026, 5, 1), DONE),
        ("100", "1", date(2026, 7, 1), DONE),
        # Overdue the day after it was due, and not on the due date.
        ("99", "1", date(2026, 7, 1), OVERDUE),
        (None, "1", date(2026, 7, 1), OVERDUE),
        ("95", "1", DUE, ON_TRACK),
        ("80", "1", DUE, AT_RISK),
        # Halfway: on track from 40 %, at risk from 25 %.
        ("40", "0.5", date(2026, 5, 1), ON_TRACK),
        ("39", "0.5", date(2026, 5, 1), AT_RISK),
        ("39.99", "0.5", date(2026, 5, 1), AT_RISK),
        ("25", "0.5", date(2026, 5, 1), AT_RISK),
        ("24", "0.5", date(2026, 5, 1), OFF_TRACK),
        ("0", "0.5", date(2026, 5, 1), OFF_TRACK),
        # Early on a little behind is fine: 0 % at 10 % of the time is on track.
        ("0", "0.1", date(2026, 5, 1), ON_TRACK),
        (None, "0.2", date(2026, 5, 1), AT_RISK),
        (None, "0", date(2026, 5, 1), ON_TRACK),
    ],
)
def test_hand_tracked_status(
    percent: str | None, elapsed: str, today: date, status: InitiativeStatus
) -> None:
    value = None if percent is None else D(percent)
    assert hand_tracked_status(value, D(elapsed), DUE, today) is status


def test_hand_tracked_without_a_due_date_is_never_overdue() -> None:
    assert hand_tracked_status(D(10), D(1), None, date(2030, 1, 1)) is OFF_TRACK
    assert hand_tracked_status(D(95), D(1), None, date(2030, 1, 1)) is ON_TRACK


def test_hand_tracked_through_a_leap_february() -> None:
    start, due = date(2024, 2, 1), date(2024, 3, 1)
    elapsed = elapsed_fraction(start, due, date(2024, 2, 29))  # 28/29 ≈ 0.966
    assert hand_tracked_status(D(87), elapsed, due, date(2024, 2, 29)) is ON_TRACK
    assert hand_tracked_status(D(86), elapsed, due, date(2024, 2, 29)) is AT_RISK
    assert hand_tracked_status(D(86), D(1), due, date(2024, 3, 2)) is OVERDUE


# --- goal health --------------------------------------------------------------------


def _counts(green: int = 0, amber: int = 0, red: int = 0, none: int = 0, late: int = 0) -> dict:
    return {"green": green, "amber": amber, "red": red, "none": none, "late": late}


@pytest.mark.parametrize(
    ("kpis", "health"),
    [
        ([], GoalHealth(Status.NONE, _counts())),
        ([(Status.GREEN, False)], GoalHealth(Status.GREEN, _counts(green=1))),
        (
            [(Status.GREEN, False), (Status.GREEN, False)],
            GoalHealth(Status.GREEN, _counts(green=2)),
        ),
        (
            [(Status.GREEN, False), (Status.AMBER, False)],
            GoalHealth(Status.AMBER, _counts(green=1, amber=1)),
        ),
        (
            [(Status.RED, False), (Status.GREEN, False), (Status.AMBER, False)],
            GoalHealth(Status.RED, _counts(green=1, amber=1, red=1)),
        ),
        # Late counts as amber.
        ([(Status.GREEN, True)], GoalHealth(Status.AMBER, _counts(green=1, late=1))),
        (
            [(Status.GREEN, False), (Status.GREEN, True)],
            GoalHealth(Status.AMBER, _counts(green=2, late=1)),
        ),
        ([(Status.NONE, True)], GoalHealth(Status.AMBER, _counts(none=1, late=1))),
        # …but a late red KPI stays red.
        ([(Status.RED, True)], GoalHealth(Status.RED, _counts(red=1, late=1))),
        (
            [(Status.AMBER, True), (Status.RED, False)],
            GoalHealth(Status.RED, _counts(amber=1, red=1, late=1)),
        ),
        # KPIs without a status do not hide the others' colours.
        (
            [(Status.NONE, False), (Status.GREEN, False)],
            GoalHealth(Status.GREEN, _counts(green=1, none=1)),
        ),
        ([(Status.NONE, False)], GoalHealth(Status.NONE, _counts(none=1))),
        # Statuses as the API words.
        (
            [("amber", False), ("green", True)],
            GoalHealth(Status.AMBER, _counts(green=1, amber=1, late=1)),
        ),
    ],
)
def test_goal_health(kpis: list[tuple[Status, bool]], health: GoalHealth) -> None:
    assert goal_health(kpis) == health


_SEVERITY = [Status.NONE, Status.GREEN, Status.AMBER, Status.RED]


@given(st.lists(st.tuples(st.sampled_from(list(Status)), st.booleans()), max_size=12))
def test_goal_health_is_the_worst_status_with_late_as_amber(
    kpis: list[tuple[Status, bool]],
) -> None:
    health = goal_health(kpis)
    effective = [
        max(status, Status.AMBER, key=_SEVERITY.index) if late else status for status, late in kpis
    ]
    assert health.status is max(effective, key=_SEVERITY.index, default=Status.NONE)
    assert sum(health.counts[s.value] for s in Status) == len(kpis)
    assert health.counts["late"] == sum(late for _, late in kpis)

"""What is due for whom: the due-period rule, the labels, and the check-in loader."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hub.domain.due import (
    due_period,
    due_period_at,
    in_play,
    load_due,
    load_due_initiative,
    load_due_key_result,
    load_due_kpi,
    owned_by,
    period_label,
)
from hub.domain.periods import Cadence, parse_period
from hub.domain.status import Status
from hub.extensions import db
from hub.models import Initiative
from hub.models.base import utcnow
from tests.querycount import count_queries

W, M, Q = Cadence.WEEKLY, Cadence.MONTHLY, Cadence.QUARTERLY
WEDNESDAY = date(2026, 12, 2)


# ------------------------------------------------------------------ due_period


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 2), "2026-11-23"),  # Wednesday: last week is due
        (date(2026, 11, 30), "2026-11-23"),  # Monday: the week that ended yesterday
        (date(2026, 11, 29), "2026-11-16"),  # Sunday: this week has not ended yet
        (date(2027, 1, 1), "2026-12-21"),  # across the year end
    ],
)
def test_a_weekly_kpi_is_due_for_the_last_week_that_ended(today: date, expected: str) -> None:
    assert due_period(W, today).key == expected


@pytest.mark.parametrize(
    ("week_start", "expected"),
    [
        (0, "2026-11-23"),  # Monday
        (6, "2026-11-22"),  # Sunday: the week of 22–28 November ended on Saturday
        (2, "2026-11-25"),  # Wednesday: today starts a week, so the one before is due
        (3, "2026-11-19"),  # Thursday: 26 Nov–2 Dec is still running
    ],
)
def test_the_due_week_follows_the_week_start(week_start: int, expected: str) -> None:
    period = due_period(W, WEDNESDAY, week_start=week_start)
    assert period.key == expected
    assert period.start.weekday() == week_start
    assert period.end < WEDNESDAY


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 2), "2026-11"),
        (date(2026, 12, 31), "2026-11"),
        (date(2027, 1, 1), "2026-12"),
        (date(2026, 3, 1), "2026-02"),
    ],
)
def test_a_monthly_kpi_is_due_for_last_month(today: date, expected: str) -> None:
    assert due_period(M, today).key == expected


@pytest.mark.parametrize(
    ("today", "fy_start_month", "expected"),
    [
        (date(2026, 12, 2), 1, "2026-Q3"),
        (date(2026, 10, 1), 1, "2026-Q3"),
        (date(2026, 9, 30), 1, "2026-Q2"),
        (date(2027, 1, 5), 1, "2026-Q4"),
        # Fiscal year from July, named by the year it ends in: Oct–Dec 2026 is FY2027-Q2.
        (date(2026, 12, 2), 7, "FY2027-Q1"),
        (date(2026, 7, 1), 7, "FY2026-Q4"),
        # From April: Oct–Dec 2026 is FY2027-Q3, so Jul–Sep is due.
        (date(2026, 12, 2), 4, "FY2027-Q2"),
    ],
)
def test_a_quarterly_kpi_is_due_for_the_last_fiscal_quarter(
    today: date, fy_start_month: int, expected: str
) -> None:
    assert due_period(Q, today, fy_start_month=fy_start_month).key == expected


@pytest.mark.parametrize(
    ("now", "time_zone", "expected"),
    [
        # Sunday 23:30 in London is already Monday in Auckland: a new week is due there.
        (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "Europe/London", "2026-11-16"),
        (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "Pacific/Auckland", "2026-11-23"),
        # Monday 05:00 UTC is still Sunday evening in Los Angeles.
        (datetime(2026, 11, 30, 5, 0, tzinfo=UTC), "America/Los_Angeles", "2026-11-16"),
        (datetime(2026, 11, 30, 5, 0, tzinfo=UTC), "UTC", "2026-11-23"),
    ],
)
def test_the_due_period_is_judged_in_the_workspaces_time_zone(
    now: datetime, time_zone: str, expected: str
) -> None:
    assert due_period_at(now, W, time_zone=time_zone).key == expected


def test_the_month_due_changes_at_local_midnight() -> None:
    new_year_in_tokyo = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
    assert due_period_at(new_year_in_tokyo, M, time_zone="Asia/Tokyo").key == "2026-12"
    assert due_period_at(new_year_in_tokyo, M, time_zone="UTC").key == "2026-11"


@pytest.mark.parametrize(
    ("key", "cadence", "fy", "label"),
    [
        ("2026-11-23", W, 1, "week of 23 Nov 2026"),
        ("2026-01-05", W, 1, "week of 5 Jan 2026"),
        ("2026-11", M, 1, "November 2026"),
        ("2026-Q4", Q, 1, "Q4 2026"),
        ("FY2027-Q1", Q, 7, "Q1 FY2027"),
    ],
)
def test_periods_read_as_people_say_them(key: str, cadence: Cadence, fy: int, label: str) -> None:
    assert period_label(parse_period(key, cadence, fy_start_month=fy)) == label


def test_in_play_rules() -> None:
    long_running = Initiative(cycle_id=None)
    this_cycle = Initiative(cycle_id=7)
    assert in_play(long_running, None, uses_okrs=False)
    assert in_play(long_running, 7, uses_okrs=True)
    assert in_play(this_cycle, 7, uses_okrs=True)
    assert not in_play(this_cycle, 8, uses_okrs=True)  # another cycle
    assert not in_play(this_cycle, None, uses_okrs=True)  # no active cycle
    assert not in_play(this_cycle, 7, uses_okrs=False)  # a KPI-only workspace
    assert not in_play(Initiative(cycle_id=None, archived_at=utcnow()), None, uses_okrs=True)


def test_owned_by() -> None:
    assert owned_by(3, 3)
    assert not owned_by(4, 3)
    assert not owned_by(None, 3)
    assert owned_by(None, None)  # everyone's
    assert owned_by(4, None)


# ------------------------------------------------------------------ the loader

TODAY = date(2026, 12, 2)  # a Wednesday; the 2026-Q4 cycle is active


@pytest.fixture
def team(make):
    """Two people's KPIs, key results and initiatives in one workspace."""
    me = make.user("me@example.com", name="Mia")
    other = make.user("other@example.com", name="Omar")
    workspace = make.workspace(me, slug="team")
    make.member(workspace, "updater", other)
    cycle = make.cycle(workspace)
    mine = make.kpi(workspace, "K1", name="Revenue", owner=me, green_min=100, red_min=90)
    make.kpi(workspace, "K2", name="Churn", owner=other)
    make.kpi(workspace, "K3", name="Old metric", owner=me, archived_at=utcnow())
    monthly = make.kpi(workspace, "K4", name="MRR", owner=me, cadence="monthly")
    objective = make.initiative(workspace, "Win the quarter", cycle=cycle, owner=other)
    make.key_result(objective, "Reach 100 signups", key="KR1", owner=me, current=40)
    make.key_result(objective, "Keep churn low", key="KR2", owner=other, kpi=mine)
    make.initiative(workspace, "Hire a designer", key="I2", owner=me)  # long-running
    make.initiative(workspace, "Rebrand", key="I3", cycle=cycle, owner=me)
    make.initiative(workspace, "Archived", key="I4", owner=me, archived_at=utcnow())
    draft = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), state="draft")
    later = make.initiative(workspace, "Next quarter", key="I5", cycle=draft, owner=me)
    make.key_result(later, "Later KR", key="KR3", owner=me)
    return workspace, me, other, mine, monthly


def keys(due):
    return (
        [row.kpi.key for row in due.kpis],
        [row.kr.key for row in due.key_results],
        [row.initiative.key for row in due.initiatives],
    )


def test_my_items_are_due_for_me(team) -> None:
    workspace, me, other, mine, monthly = team
    due = load_due(workspace, me, today=TODAY)
    assert keys(due) == (["K1", "K4"], ["KR1"], ["I2", "I3"])
    assert [row.period.key for row in due.kpis] == ["2026-11-23", "2026-11"]
    assert due.cycle is not None
    assert not due.everyone
    assert not due.empty


def test_everyones_items(team) -> None:
    workspace, me, other, mine, monthly = team
    due = load_due(workspace, me, everyone=True, today=TODAY)
    # Archived KPIs and initiatives, scored initiatives and other cycles are never due.
    assert keys(due) == (["K1", "K2", "K4"], ["KR1", "KR2"], ["I2", "I3"])


def test_the_other_persons_items(team) -> None:
    workspace, me, other, mine, monthly = team
    assert keys(load_due(workspace, other, today=TODAY)) == (["K2"], ["KR2"], [])


def test_the_due_value_and_its_status(team, make) -> None:
    workspace, me, other, mine, monthly = team
    make.value(mine, "2026-11-16", 120)
    due = load_due(workspace, me, today=TODAY)
    row = due.kpis[0]
    assert not row.entered
    assert row.result.status is Status.NONE
    assert row.latest.period_key == "2026-11-16"
    assert due.kpis_entered == 0

    make.value(mine, "2026-11-23", 100, note="On target")
    make.value(mine, "2026-11-30", 80)  # this week, not due yet: does not count
    row = load_due(workspace, me, today=TODAY).kpis[0]
    assert row.entered
    assert row.value.value == Decimal(100)
    assert row.value.note == "On target"
    assert row.result.status is Status.GREEN  # exactly on the target
    assert row.result.why == "Green: 100 meets the 100 target"
    assert row.latest.period_key == "2026-11-30"


def test_a_late_kpi_is_flagged(team, make) -> None:
    workspace, me, other, mine, monthly = team
    make.value(mine, "2026-10-05", 95)
    row = load_due_kpi(workspace, mine, TODAY)
    assert row.late
    assert not row.entered


def test_key_results_carry_score_and_linked_values(team, make) -> None:
    workspace, me, other, mine, monthly = team
    make.value(mine, "2026-11-23", 75)
    due = load_due(workspace, me, everyone=True, today=TODAY)
    kr1, kr2 = due.key_results
    assert kr1.card.current == Decimal(40)
    assert kr1.card.score == Decimal("0.40")
    assert kr1.linked is None
    assert kr1.last_check_in is None
    assert kr2.linked.value == Decimal(75)  # follows its KPI
    assert kr2.card.current == Decimal(75)


def test_last_check_in_and_update_times(team, make, db) -> None:
    from hub.domain.checkins import record_check_in, set_percent_complete

    workspace, me, other, mine, monthly = team
    due = load_due(workspace, me, today=TODAY)
    record_check_in(due.key_results[0].kr, value=Decimal(50), user=me)
    set_percent_complete(due.initiatives[0].initiative, Decimal(30), user=me)
    db.session.commit()
    due = load_due(workspace, me, today=TODAY)
    assert due.key_results[0].last_check_in is not None
    assert due.key_results[0].last_check_in.tzinfo is not None
    assert due.initiatives[0].last_update is not None
    assert due.initiatives[0].card.percent == Decimal(30)


def test_single_rows_match_the_list(team) -> None:
    workspace, me, other, mine, monthly = team
    due = load_due(workspace, me, today=TODAY)
    kr = due.key_results[0].kr
    initiative = due.initiatives[0].initiative
    assert load_due_key_result(workspace, kr, TODAY).card == due.key_results[0].card
    assert load_due_initiative(workspace, initiative, TODAY).card == due.initiatives[0].card
    assert load_due_kpi(workspace, mine, TODAY).period == due.kpis[0].period


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("kpi", (["K1", "K4"], [], ["I2"])),  # only the long-running initiative
        ("okr", ([], ["KR1"], ["I2", "I3"])),
        ("both", (["K1", "K4"], ["KR1"], ["I2", "I3"])),
    ],
)
def test_what_is_due_follows_the_mode(team, mode, expected) -> None:
    workspace, me, other, mine, monthly = team
    workspace.mode = mode
    db.session.commit()
    assert keys(load_due(workspace, me, today=TODAY)) == expected


def test_without_an_active_cycle_only_long_running_work_is_due(team) -> None:
    workspace, me, other, mine, monthly = team
    cycle = load_due(workspace, me, today=TODAY).cycle
    cycle.state = "closed"
    db.session.commit()
    due = load_due(workspace, me, today=TODAY)
    assert due.cycle is None
    assert keys(due) == (["K1", "K4"], [], ["I2"])


def test_nothing_due_for_a_newcomer(team, make) -> None:
    workspace, *_ = team
    newcomer = make.member(workspace, "updater")
    due = load_due(workspace, newcomer, today=TODAY)
    assert due.empty
    assert due.kpis_entered == 0


def test_the_loader_needs_as_many_queries_for_more_items(make, db) -> None:
    counts = []
    for size in (1, 8):
        me = make.user()
        workspace = make.workspace(me)
        cycle = make.cycle(workspace)
        for n in range(size):
            kpi = make.kpi(workspace, owner=me, cadence=("weekly", "monthly")[n % 2])
            make.value(kpi, "2026-11" if n % 2 else "2026-11-23", 5)
            objective = make.initiative(workspace, f"O{n}", cycle=cycle, owner=me)
            make.key_result(objective, owner=me, kpi=kpi if n % 3 == 0 else None)
            make.initiative(workspace, f"Hand {n}", owner=me)
        db.session.expire_all()
        with count_queries() as queries:
            due = load_due(workspace, me, today=TODAY)
        assert len(due.kpis) == size
        counts.append(queries.count)
    assert counts[0] == counts[1], counts

"""Bets vs gauges: how each gauge moved, the matrix rows and their flags."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.bets import (
    FLAT_THRESHOLD,
    BetInput,
    BetRow,
    BetsReport,
    Flag,
    GaugeInput,
    Movement,
    bets_vs_gauges,
    flag_message,
    gauge_movement,
)
from hub.domain.scoring import InitiativeStatus
from hub.domain.status import Bounds, Direction, Status

D = Decimal
IMPROVING, FLAT, WORSENING, NO_DATA = (
    Movement.IMPROVING,
    Movement.FLAT,
    Movement.WORSENING,
    Movement.NO_DATA,
)
UP = Bounds(green_min=D(100), red_min=D(90))
DOWN = Bounds(green_max=D(5), red_max=D(6))
GREEN_40_60 = Bounds(green_min=D(40), green_max=D(60), red_min=D(30), red_max=D(70))


def test_api_words() -> None:
    assert [m.value for m in Movement] == ["improving", "flat", "worsening", "no_data"]
    assert [f.value for f in Flag] == [
        "bet_not_moving_gauge",
        "gauge_without_bet",
        "bet_without_gauge",
    ]
    assert FLAT_THRESHOLD == D("0.01")


# --- movement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "latest", "direction", "bounds", "movement"),
    [
        # Higher is better.
        ("100", "110", "up", UP, IMPROVING),
        ("100", "90", "up", UP, WORSENING),
        ("100", "100", "up", UP, FLAT),
        ("100", "101", "up", UP, IMPROVING),  # exactly 1 %: a move
        ("100", "100.99", "up", UP, FLAT),  # under 1 %: noise
        ("100", "99", "up", UP, WORSENING),
        ("100", "99.01", "up", UP, FLAT),
        # Lower is better.
        ("100", "90", "down", DOWN, IMPROVING),
        ("100", "110", "down", DOWN, WORSENING),
        ("100", "99.5", "down", DOWN, FLAT),
        ("100", "99", "down", DOWN, IMPROVING),
        ("5", "5", "down", DOWN, FLAT),
        # From a start of 0 any move counts.
        ("0", "0.001", "up", UP, IMPROVING),
        ("0", "-0.001", "up", UP, WORSENING),
        ("0", "0.001", "down", DOWN, WORSENING),
        ("0", "0", "up", UP, FLAT),
        # Negative values: 1 % of the start's magnitude.
        ("-200", "-198", "up", UP, IMPROVING),
        ("-200", "-198.5", "up", UP, FLAT),
        ("-200", "-202", "up", UP, WORSENING),
        ("-200", "-202", "down", DOWN, IMPROVING),
        ("-200", "-201.99", "down", DOWN, FLAT),
        ("-1", "1", "up", UP, IMPROVING),  # across zero
        # A range: toward the green zone 40–60 improves.
        ("30", "35", "range", GREEN_40_60, IMPROVING),
        ("35", "30", "range", GREEN_40_60, WORSENING),
        ("70", "65", "range", GREEN_40_60, IMPROVING),
        ("65", "75", "range", GREEN_40_60, WORSENING),
        ("30", "50", "range", GREEN_40_60, IMPROVING),  # into the zone
        ("50", "70", "range", GREEN_40_60, WORSENING),  # out of it
        ("50", "55", "range", GREEN_40_60, FLAT),  # staying inside is flat
        ("40", "60", "range", GREEN_40_60, FLAT),  # edge to edge, still inside
        ("30", "70", "range", GREEN_40_60, FLAT),  # jumped across, just as far away
        ("30", "75", "range", GREEN_40_60, WORSENING),  # jumped across, further away
        ("35", "62", "range", GREEN_40_60, IMPROVING),  # jumped across, nearer
        ("100", "99.5", "range", GREEN_40_60, FLAT),  # under 1 %, whatever the zone
        # A range open on one side: the open side is never outside.
        ("30", "50", "range", Bounds(green_min=D(40)), IMPROVING),
        ("50", "90", "range", Bounds(green_min=D(40)), FLAT),
        ("90", "70", "range", Bounds(green_max=D(60)), IMPROVING),
        # Where a green bound is open the red line on that side edges the green zone,
        # as it does for the status: red below 18 or above 24, green in between.
        ("15", "17", "range", Bounds(red_min=D(18), red_max=D(24)), IMPROVING),
        ("17", "15", "range", Bounds(red_min=D(18), red_max=D(24)), WORSENING),
        ("19", "23", "range", Bounds(red_min=D(18), red_max=D(24)), FLAT),
        ("25", "30", "range", Bounds(red_min=D(18), red_max=D(24)), WORSENING),
        ("90", "75", "range", Bounds(green_min=D(40), red_max=D(70)), IMPROVING),
        ("30", "35", "range", Bounds(green_max=D(60), red_min=D(40)), IMPROVING),
        ("50", "90", "range", Bounds(), FLAT),  # no zone at all: nothing to move toward
        # Direction as a word or an enum.
        ("100", "110", Direction.UP, UP, IMPROVING),
    ],
)
def test_gauge_movement(
    baseline: str, latest: str, direction: str, bounds: Bounds, movement: Movement
) -> None:
    assert gauge_movement(D(baseline), D(latest), direction, bounds) is movement


@pytest.mark.parametrize(("baseline", "latest"), [(None, D(5)), (D(5), None), (None, None)])
@pytest.mark.parametrize("direction", ["up", "down", "range"])
def test_no_start_or_no_latest_value_is_no_data(
    baseline: Decimal | None, latest: Decimal | None, direction: str
) -> None:
    assert gauge_movement(baseline, latest, direction, GREEN_40_60) is NO_DATA


_values = st.decimals(min_value=-(10**6), max_value=10**6, places=2)


@given(baseline=_values, latest=_values)
def test_up_and_down_judge_the_same_move_oppositely(baseline: Decimal, latest: Decimal) -> None:
    up = gauge_movement(baseline, latest, "up", Bounds())
    down = gauge_movement(baseline, latest, "down", Bounds())
    opposite = {IMPROVING: WORSENING, WORSENING: IMPROVING, FLAT: FLAT}
    assert down is opposite[up]
    small = abs(latest - baseline) < abs(baseline) / 100
    assert (up is FLAT) == (latest == baseline or small)


# --- the matrix ---------------------------------------------------------------------


def bet(
    key: str,
    *gauges: str,
    status: InitiativeStatus = InitiativeStatus.ON_TRACK,
    title: str | None = None,
) -> BetInput:
    return BetInput(key, title or f"Bet {key}", status, D("0.5"), gauges)


def gauge(
    key: str,
    status: Status = Status.GREEN,
    *,
    late: bool = False,
    movement: Movement = IMPROVING,
    name: str | None = None,
) -> GaugeInput:
    return GaugeInput(key, name or f"Gauge {key}", status, late, movement)


@pytest.mark.parametrize("movement", list(Movement))
@pytest.mark.parametrize("status", list(InitiativeStatus))
def test_bet_on_track_but_gauge_not_moving(status: InitiativeStatus, movement: Movement) -> None:
    k1 = gauge("K1", movement=movement)
    report = bets_vs_gauges([bet("I1", "K1", status=status)], [k1])
    claims_progress = status in {InitiativeStatus.ON_TRACK, InitiativeStatus.DONE}
    stuck = movement in {FLAT, WORSENING}
    flags = (Flag.BET_NOT_MOVING_GAUGE,) if claims_progress and stuck else ()
    assert report.rows == [BetRow(bet("I1", "K1", status=status), k1, flags)]


@pytest.mark.parametrize(
    ("status", "late", "flagged"),
    [
        (Status.RED, False, True),
        (Status.AMBER, False, True),
        (Status.GREEN, False, False),
        (Status.NONE, False, False),
        (Status.GREEN, True, True),  # late counts as amber
        (Status.NONE, True, True),
        (Status.RED, True, True),
    ],
)
def test_troubled_gauge_with_no_bet_on_it(status: Status, late: bool, flagged: bool) -> None:
    k1 = gauge("K1", status, late=late)
    report = bets_vs_gauges([bet("I1", "K2")], [k1, gauge("K2")])
    assert report.unbet_gauges == ([k1] if flagged else [])
    assert report.flag_counts[Flag.GAUGE_WITHOUT_BET] == int(flagged)
    # With a bet on it, even a failing one, it is not flagged.
    covered = bets_vs_gauges([bet("I1", "K1", status=InitiativeStatus.OFF_TRACK)], [k1])
    assert covered.unbet_gauges == []


@pytest.mark.parametrize("gauges", [(), ("K99",), ("K98", "K99")])
def test_bet_with_no_gauge(gauges: tuple[str, ...]) -> None:
    # No gauge named, or only KPIs not in play (e.g. archived): one row, flagged.
    i1 = bet("I1", *gauges)
    report = bets_vs_gauges([i1], [gauge("K1")])
    assert report.rows == [BetRow(i1, None, (Flag.BET_WITHOUT_GAUGE,))]
    assert report.flag_counts[Flag.BET_WITHOUT_GAUGE] == 1


def test_unknown_gauges_are_skipped_and_duplicates_make_one_row() -> None:
    k1, k2 = gauge("K1"), gauge("K2")
    i1 = bet("I1", "K2", "K99", "K1", "K2")
    report = bets_vs_gauges([i1], [k1, k2])
    assert [(row.bet.key, row.gauge.key if row.gauge else None) for row in report.rows] == [
        ("I1", "K2"),
        ("I1", "K1"),
    ]


def test_a_whole_cycle() -> None:
    revenue = gauge("K1", Status.GREEN, movement=IMPROVING, name="Revenue")
    churn = gauge("K2", Status.AMBER, movement=FLAT, name="Churn")
    nps = gauge("K3", Status.RED, movement=WORSENING, name="NPS")
    signups = gauge("K4", Status.GREEN, late=True, movement=NO_DATA, name="Signups")
    uptime = gauge("K5", Status.RED, movement=FLAT, name="Uptime")
    docs = gauge("K6", Status.GREEN, movement=FLAT, name="Docs visits")
    referral = bet("I1", "K1", "K2", title="Referral program")
    support = bet("I2", "K3", status=InitiativeStatus.DONE, title="Support revamp")
    pricing = bet("I3", "K2", status=InitiativeStatus.AT_RISK, title="New pricing")
    offsite = bet("I4", title="Team offsite")

    report = bets_vs_gauges(
        [referral, support, pricing, offsite], [revenue, churn, nps, signups, uptime, docs]
    )

    assert report.rows == [
        BetRow(referral, revenue, ()),
        BetRow(referral, churn, (Flag.BET_NOT_MOVING_GAUGE,)),
        BetRow(support, nps, (Flag.BET_NOT_MOVING_GAUGE,)),
        BetRow(pricing, churn, ()),  # at risk: it does not claim to be moving anything
        BetRow(offsite, None, (Flag.BET_WITHOUT_GAUGE,)),
    ]
    # K4 is late, K5 is red, and no bet targets them; K6 is green and fine alone.
    assert report.unbet_gauges == [signups, uptime]
    assert report.flag_counts == {
        Flag.BET_NOT_MOVING_GAUGE: 2,
        Flag.GAUGE_WITHOUT_BET: 2,
        Flag.BET_WITHOUT_GAUGE: 1,
    }


def test_an_empty_cycle() -> None:
    empty = bets_vs_gauges([], [])
    assert empty == BetsReport(rows=[], unbet_gauges=[])
    assert empty.flag_counts == dict.fromkeys(Flag, 0)
    # No bets at all: every troubled gauge is unbet.
    red, green = gauge("K1", Status.RED), gauge("K2", Status.GREEN)
    no_bets = bets_vs_gauges([], [red, green])
    assert no_bets.rows == []
    assert no_bets.unbet_gauges == [red]
    assert no_bets.flag_counts[Flag.GAUGE_WITHOUT_BET] == 1


def test_bets_without_kpis() -> None:
    report = bets_vs_gauges([bet("I1", "K1"), bet("I2")], [])
    assert [row.flags for row in report.rows] == [
        (Flag.BET_WITHOUT_GAUGE,),
        (Flag.BET_WITHOUT_GAUGE,),
    ]
    assert report.unbet_gauges == []


# --- messages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "the_bet", "the_gauge", "message"),
    [
        (
            Flag.BET_NOT_MOVING_GAUGE,
            bet("I1", title="Referral program"),
            gauge("K2", Status.AMBER, movement=FLAT, name="Churn"),
            "“Referral program” is on track but K2 Churn is not moving.",
        ),
        (
            Flag.BET_NOT_MOVING_GAUGE,
            bet("I2", status=InitiativeStatus.DONE, title="Support revamp"),
            gauge("K3", Status.RED, movement=WORSENING, name="NPS"),
            "“Support revamp” is done but K3 NPS is getting worse.",
        ),
        (Flag.BET_NOT_MOVING_GAUGE, None, None, "Bet on track but its gauge is not moving."),
        (
            Flag.GAUGE_WITHOUT_BET,
            None,
            gauge("K5", Status.RED, name="Uptime"),
            "K5 Uptime is red and no bet targets it.",
        ),
        (
            Flag.GAUGE_WITHOUT_BET,
            None,
            gauge("K2", Status.AMBER, late=True, name="Churn"),
            "K2 Churn is amber and late and no bet targets it.",
        ),
        (
            Flag.GAUGE_WITHOUT_BET,
            None,
            gauge("K4", Status.GREEN, late=True, name="Signups"),
            "K4 Signups is late and no bet targets it.",
        ),
        (
            Flag.GAUGE_WITHOUT_BET,
            None,
            gauge("K6", Status.GREEN, name="Docs visits"),
            "K6 Docs visits has no bet on it.",
        ),
        (Flag.GAUGE_WITHOUT_BET, None, None, "Red or amber gauge with no bet on it."),
        (
            Flag.BET_WITHOUT_GAUGE,
            bet("I4", title="Team offsite"),
            None,
            "“Team offsite” names no KPI it is meant to move.",
        ),
        (
            Flag.BET_WITHOUT_GAUGE,
            None,
            None,
            "Bet with no gauge: it names no KPI it is meant to move.",
        ),
        # Flags as the API words.
        ("gauge_without_bet", None, None, "Red or amber gauge with no bet on it."),
    ],
)
def test_flag_message(
    flag: Flag | str, the_bet: BetInput | None, the_gauge: GaugeInput | None, message: str
) -> None:
    assert flag_message(flag, the_bet, the_gauge) == message


def test_flag_message_of_an_unknown_flag() -> None:
    with pytest.raises(ValueError, match="'bogus' is not a valid Flag"):
        flag_message("bogus")


def test_every_flag_raised_in_a_report_has_a_message_naming_its_subject() -> None:
    churn = gauge("K2", Status.AMBER, movement=FLAT, name="Churn")
    uptime = gauge("K5", Status.RED, name="Uptime")
    report = bets_vs_gauges(
        [bet("I1", "K2", title="Referral program"), bet("I4", title="Team offsite")],
        [churn, uptime],
    )
    messages = [flag_message(f, row.bet, row.gauge) for row in report.rows for f in row.flags]
    messages += [flag_message(Flag.GAUGE_WITHOUT_BET, gauge=g) for g in report.unbet_gauges]
    assert messages == [
        "“Referral program” is on track but K2 Churn is not moving.",
        "“Team offsite” names no KPI it is meant to move.",
        "K5 Uptime is red and no bet targets it.",
    ]

"""PRODUCT.md §2, end to end: hand-written documents imported, then read back through the
JSON API scorecard — every KPI status, why and late flag, every KR score and every
initiative status as the rules say.

The clock is frozen at 2026-03-09 11:30 UTC, which is already Tuesday 10 March (00:30)
in Auckland, the workspace's time zone. The workspace's weeks start on Sunday and its
fiscal year in April, so on that day:

- the current week is 2026-03-08..14; the previous one, 2026-03-01..07, had its grace
  (end + 2 days = 9 March) pass yesterday, so it is the period a value is due for;
- February's grace (5 days) ended on 5 March, so February is due;
- the fiscal quarter is FY2026-Q4 (Jan–Mar 2026), and FY2026-Q3 (Oct–Dec 2025) is due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.domain import periods
from hub.domain.accounts import issue_api_token
from hub.domain.documents import import_document
from hub.extensions import db

NOW = datetime(2026, 3, 9, 11, 30, tzinfo=UTC)
TODAY = date(2026, 3, 10)  # in Pacific/Auckland
OWNER = "olive@example.com"

# Sunday-based weeks, named by their first day.
CURRENT_WEEK, DUE_WEEK, OVERDUE_WEEK = "2026-03-08", "2026-03-01", "2026-02-22"


class FrozenDateTime(datetime):
    """`datetime` whose now() is NOW: the scorecard's today comes from it."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206
        return NOW if tz is None else NOW.astimezone(tz)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(periods, "datetime", FrozenDateTime)


def workspace_doc(slug: str, time_zone: str = "Pacific/Auckland", **parts: Any) -> dict:
    return {
        "format": "strategy-hub/v1",
        "workspace": {
            "slug": slug,
            "name": f"Rules {slug}",
            "mode": "both",
            "time_zone": time_zone,
            "week_start": "sunday",
            "fiscal_year_start_month": 4,
            "currency": "EUR",
        },
        "members": [{"email": OWNER, "role": "owner"}],
        **parts,
    }


def kpi(key: str, *values: tuple[str, Any], **fields: Any) -> dict:
    """A weekly `number` KPI with no thresholds unless `fields` say otherwise."""
    return {
        "key": key,
        "name": f"Metric {key}",
        "cadence": "weekly",
        "direction": "up",
        "green_min": None,
        "green_max": None,
        "red_min": None,
        "red_max": None,
        **fields,
        "values": [{"period": period, "value": value} for period, value in values],
    }


def up(target, red=None, **more) -> dict:
    return {"direction": "up", "green_min": target, "red_min": red, **more}


def down(target, red=None, **more) -> dict:
    return {"direction": "down", "green_max": target, "red_max": red, **more}


def between(low, high, red_low=None, red_high=None, **more) -> dict:
    return {
        "direction": "range",
        "green_min": low,
        "green_max": high,
        "red_min": red_low,
        "red_max": red_high,
        **more,
    }


def scorecard(client, doc: dict) -> dict:
    """Import `doc` and fetch its scorecard as its owner, through the API."""
    import_document(doc)
    db.session.commit()
    from hub.domain.accounts import find_user

    token = issue_api_token(find_user(OWNER))
    db.session.commit()
    slug = doc["workspace"]["slug"]
    response = client.get(
        f"/api/v1/workspaces/{slug}/scorecard", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.json
    return response.json


def kpis_by_key(card: dict) -> dict[str, dict]:
    return {k["key"]: k for goal in card["goals"] for k in goal["kpis"]}


def initiatives_by_key(card: dict) -> dict[str, dict]:
    return {i["key"]: i for goal in card["goals"] for i in goal["initiatives"]}


# ------------------------------------------------------------------- KPI status


STATUS_CASES = [
    # Higher is better: green from the target up, red strictly below the red line.
    ("UP1", up(100, 90), 150, "green", "Green: 150 meets the 100 target"),
    ("UP2", up(100, 90), 100, "green", "Green: 100 meets the 100 target"),
    (
        "UP3",
        up(100, 90),
        99,
        "amber",
        "Amber: 99 is under the 100 target but above the red line 90",
    ),
    (
        "UP4",
        up(100, 90),
        90,
        "amber",
        "Amber: 90 is under the 100 target and right on the red line 90",
    ),
    ("UP5", up(100, 90), 89, "red", "Red: 89 is below the red line 90"),
    # Lower is better.
    ("DN1", down(4, 8), 4, "green", "Green: 4 is at or under the 4 target"),
    ("DN2", down(4, 8), 5, "amber", "Amber: 5 is over the 4 target but under the red line 8"),
    ("DN3", down(4, 8), 8, "amber", "Amber: 8 is over the 4 target and right on the red line 8"),
    ("DN4", down(4, 8), 9, "red", "Red: 9 is above the red line 8"),
    ("DN5", down(4, 8), -3, "green", "Green: -3 is at or under the 4 target"),
    # Within a range: both green ends are green, both red lines are amber.
    ("RG1", between(60, 75, 50, 85), 60, "green", "Green: 60 is within 60–75"),
    ("RG2", between(60, 75, 50, 85), 75, "green", "Green: 75 is within 60–75"),
    (
        "RG3",
        between(60, 75, 50, 85),
        50,
        "amber",
        "Amber: 50 is below the green zone 60–75 and right on the red line 50",
    ),
    ("RG4", between(60, 75, 50, 85), 49, "red", "Red: 49 is below the red line 50"),
    (
        "RG5",
        between(60, 75, 50, 85),
        80,
        "amber",
        "Amber: 80 is above the green zone 60–75 but below the red line 85",
    ),
    (
        "RG6",
        between(60, 75, 50, 85),
        85,
        "amber",
        "Amber: 85 is above the green zone 60–75 and right on the red line 85",
    ),
    ("RG7", between(60, 75, 50, 85), 86, "red", "Red: 86 is above the red line 85"),
    # Open bounds: an open min is −∞, an open max +∞.
    ("OP1", up(100), 10, "amber", "Amber: 10 is under the 100 target"),
    ("OP2", up(None, 90), 95, "green", "Green: 95 is at or above the red line 90"),
    ("OP3", up(None, 90), 89, "red", "Red: 89 is below the red line 90"),
    ("OP4", down(4), 1000, "amber", "Amber: 1,000 is over the 4 target"),
    ("OP5", between(60, None, 50, None), 1000, "green", "Green: 1,000 is at or above 60"),
    ("OP6", between(None, 75, None, 85), -1000, "green", "Green: -1,000 is at or below 75"),
    ("OP7", {}, 5, "none", "No target set (latest 5)"),
    # Units and decimals speak the KPI's language; exact decimals are compared exactly.
    (
        "UN1",
        up(100000, 90000, unit="currency"),
        91000,
        "amber",
        "Amber: €91,000 is under the €100,000 target but above the red line €90,000",
    ),
    (
        "UN2",
        up(Decimal("12.5"), 10, unit="percent", decimals=1),
        Decimal("12.5"),
        "green",
        "Green: 12.5% meets the 12.5% target",
    ),
    (
        "UN3",
        down(Decimal("0.1"), Decimal("0.2"), decimals=2),
        Decimal("0.1000000001"),
        "amber",
        "Amber: 0.1000000001 is over the 0.1000000000 target but under the red line 0.2000000000",
    ),
    (
        "UN4",
        down(24, 48, unit="duration", decimals=1),
        Decimal("48.5"),
        "red",
        "Red: 48.5 h is above the red line 48.0 h",
    ),
]


def test_kpi_status_and_why_follow_the_bounds(client):
    doc = workspace_doc(
        "status",
        kpis=[kpi(key, (DUE_WEEK, value), **fields) for key, fields, value, *_ in STATUS_CASES]
        + [kpi("NONE")],
    )
    cards = kpis_by_key(scorecard(client, doc))
    seen = {key: (cards[key]["status"], cards[key]["why"]) for key, *_ in STATUS_CASES}
    assert seen == {key: (status, why) for key, _, _, status, why in STATUS_CASES}
    assert not any(cards[key]["late"] for key, *_ in STATUS_CASES)
    assert cards["UP4"]["latest"] == {"period": DUE_WEEK, "value": 90}
    assert cards["UN3"]["latest"]["value"] == Decimal("0.1000000001")
    none = cards["NONE"]
    assert (none["status"], none["why"], none["late"], none["latest"]) == (
        "none",
        "No data yet",
        False,
        None,
    )


# ------------------------------------------------------------------------- late


def test_late_uses_grace_days_in_the_workspace_time_zone(client):
    amber = up(100, 90)
    doc = workspace_doc(
        "late",
        kpis=[
            # Weekly, Sunday weeks: the week of 1 March is due (its grace ended on the 9th).
            kpi("W1", (OVERDUE_WEEK, 120), (DUE_WEEK, 95), **amber),
            kpi("W2", ("2026-02-15", 120), (OVERDUE_WEEK, 95), **amber),
            kpi("W3", (CURRENT_WEEK, 120), **amber),  # only this week: ahead, not late
            # Monthly: February's grace (5 days) has passed, so February is due.
            kpi("M1", ("2026-01", 80), ("2026-02", 120), cadence="monthly", **amber),
            kpi("M2", ("2025-12", 120), ("2026-01", 80), cadence="monthly", **amber),
            # Quarterly, fiscal year from April: FY2026-Q3 (Oct–Dec 2025) is due.
            kpi("Q1", ("FY2026-Q3", 120), cadence="quarterly", **amber),
            kpi("Q2", ("FY2026-Q1", 120), ("FY2026-Q2", 95), cadence="quarterly", **amber),
            kpi("Q3", cadence="quarterly", **amber),  # never a value: No data, not late
        ],
    )
    card = scorecard(client, doc)
    assert card["as_of"] == TODAY.isoformat()
    cards = kpis_by_key(card)
    seen = {key: (c["late"], c["status"], c["latest"]) for key, c in cards.items()}
    assert seen == {
        "W1": (False, "amber", {"period": DUE_WEEK, "value": 95}),
        "W2": (True, "amber", {"period": OVERDUE_WEEK, "value": 95}),  # "Late · last Amber"
        "W3": (False, "green", {"period": CURRENT_WEEK, "value": 120}),
        "M1": (False, "green", {"period": "2026-02", "value": 120}),
        "M2": (True, "red", {"period": "2026-01", "value": 80}),
        "Q1": (False, "green", {"period": "FY2026-Q3", "value": 120}),
        "Q2": (True, "amber", {"period": "FY2026-Q2", "value": 95}),
        "Q3": (False, "none", None),
    }
    # The trend is the last 13 periods, ending with the current one.
    assert [p["period"] for p in cards["Q1"]["trend"]][-2:] == ["FY2026-Q3", "FY2026-Q4"]
    assert cards["W2"]["trend"][-1] == {"period": CURRENT_WEEK, "value": None}
    assert cards["W2"]["trend"][-3] == {"period": OVERDUE_WEEK, "value": 95}
    # A late KPI makes its goal at least amber; here there is no goal, so the loose bucket.
    [loose] = card["goals"]
    assert loose["health"]["counts"]["late"] == 3


@pytest.mark.parametrize(("time_zone", "late"), [("Pacific/Auckland", True), ("UTC", False)])
def test_late_depends_on_the_local_date(client, time_zone, late):
    """At 11:30 UTC on Monday 9 March, Auckland is already on the 10th: one day more."""
    doc = workspace_doc("tz", time_zone, kpis=[kpi("W1", (OVERDUE_WEEK, 95), **up(100, 90))])
    [card] = kpis_by_key(scorecard(client, doc)).values()
    assert card["late"] is late


def test_goal_health_is_the_worst_status_with_late_as_amber(client):
    doc = workspace_doc(
        "health",
        goals=[{"title": t} for t in ("All green", "Late green", "Red and late", "Empty")],
        kpis=[
            kpi("A1", (DUE_WEEK, 100), goal="All green", **up(100, 90)),
            kpi("A2", (DUE_WEEK, 5), goal="All green"),  # no target: no colour
            kpi("B1", (DUE_WEEK, 100), goal="Late green", **up(100, 90)),
            kpi("B2", (OVERDUE_WEEK, 100), goal="Late green", **up(100, 90)),
            kpi("C1", (OVERDUE_WEEK, 10), goal="Red and late", **up(100, 90)),
        ],
    )
    health = {g["title"]: g["health"] for g in scorecard(client, doc)["goals"]}
    assert {title: h["status"] for title, h in health.items()} == {
        "All green": "green",
        "Late green": "amber",
        "Red and late": "red",
        "Empty": "none",
    }
    assert health["Late green"]["counts"] == {
        "green": 2,
        "amber": 0,
        "red": 0,
        "none": 0,
        "late": 1,
    }


# ------------------------------------------------------------ key results, bets

# The active cycle runs 50 days either side of today: half of it has gone (e = 0.5), so
# a scored bet is on track from 0.35, at risk from 0.20; a hand-tracked one on track from
# 40 %, at risk from 25 %.
CYCLE = {"name": "Bets", "start": "2026-01-19", "end": "2026-04-29", "state": "active"}


def kr(key: str, start, target, current, **fields: Any) -> dict:
    return {
        "key": key,
        "title": f"Key result {key}",
        "start": start,
        "target": target,
        "current": current,
        **fields,
    }


def bet(key: str, *key_results: dict, **fields: Any) -> dict:
    return {
        "key": key,
        "title": f"Bet {key}",
        "cycle": "Bets",
        **fields,
        "key_results": list(key_results),
    }


def test_key_result_scores_and_initiative_statuses(client):
    doc = workspace_doc(
        "bets",
        kpis=[kpi("K1", (OVERDUE_WEEK, 80), (DUE_WEEK, 90))],
        cycles=[
            CYCLE,
            {"name": "Last", "start": "2025-10-01", "end": "2025-12-31", "state": "closed"},
            {"name": "Next", "start": "2026-05-01", "end": "2026-07-31", "state": "draft"},
        ],
        initiatives=[
            bet("I1", kr("KR1", 0, 100, 35)),  # 0.35 = 0.7 e: on track, just
            bet("I2", kr("KR2", 10, 4, 7), kr("KR3", 0, 10, 0)),  # decreasing 0.5, and 0
            bet("I3", kr("KR4", 0, 100, 20)),  # 0.20 = 0.4 e: at risk, just
            bet("I4", kr("KR5", 0, 100, 19)),  # off track
            bet(  # weights 3 : 1 → 0.75 (equal weights would say 0.5)
                "I5", kr("KR6", 0, 100, 100, weight=3), kr("KR7", 0, 100, 0, weight=1)
            ),
            bet(  # start == target: "hold the line", 1 exactly on it, else 0
                "I6", kr("KR8", 50, 50, 50), kr("KR9", 50, 50, 49), kr("KR10", 50, 50, 51)
            ),
            bet(  # clamped to 0..1; no current value counts as no progress
                "I7", kr("KR11", 0, 100, 150), kr("KR12", 0, 100, -20), kr("KR13", 0, 100, None)
            ),
            bet("I8", kr("KR14", 0, 8, 1)),  # 0.125 rounds half up to 0.13
            bet("I9", kr("KR15", 80, 100, 0, kpi="K1")),  # follows K1's latest, 90: 0.5
            bet("I10", kr("KR16", 0, 3, 1), kr("KR17", 0, 3, 2)),  # 0.33 and 0.67 → 0.5
            bet("I11", kr("KR18", 0, 100, 100), cycle="Last"),  # closed: not on the card
            bet("I12", kr("KR19", 0, 100, 0), cycle="Next"),  # draft: not on the card
        ],
    )
    card = scorecard(client, doc)
    assert card["active_cycle"] == {
        "name": "Bets",
        "start": "2026-01-19",
        "end": "2026-04-29",
        "state": "active",
    }
    bets = initiatives_by_key(card)
    assert set(bets) == {f"I{n}" for n in range(1, 11)}
    scores = {kr["key"]: kr["score"] for b in bets.values() for kr in b["key_results"]}
    assert scores == {
        "KR1": Decimal("0.35"),
        "KR2": Decimal("0.5"),
        "KR3": 0,
        "KR4": Decimal("0.2"),
        "KR5": Decimal("0.19"),
        "KR6": 1,
        "KR7": 0,
        "KR8": 1,
        "KR9": 0,
        "KR10": 0,
        "KR11": 1,
        "KR12": 0,
        "KR13": 0,
        "KR14": Decimal("0.13"),
        "KR15": Decimal("0.5"),
        "KR16": Decimal("0.33"),
        "KR17": Decimal("0.67"),
    }
    seen = {key: (b["progress"]["score"], b["status"]) for key, b in bets.items()}
    assert seen == {
        "I1": (Decimal("0.35"), "on_track"),
        "I2": (Decimal("0.25"), "at_risk"),
        "I3": (Decimal("0.2"), "at_risk"),
        "I4": (Decimal("0.19"), "off_track"),
        "I5": (Decimal("0.75"), "on_track"),
        "I6": (Decimal("0.33"), "at_risk"),
        "I7": (Decimal("0.33"), "at_risk"),
        "I8": (Decimal("0.13"), "off_track"),
        "I9": (Decimal("0.5"), "on_track"),
        "I10": (Decimal("0.5"), "on_track"),
    }
    assert bets["I5"]["progress"]["percent_complete"] == 75
    linked = bets["I9"]["key_results"][0]
    assert (linked["kpi"], linked["current"], linked["progress"]) == ("K1", 90, Decimal("0.5"))


def test_hand_tracked_initiatives(client):
    def tracked(key: str, percent, **fields: Any) -> dict:
        return {"key": key, "title": f"Bet {key}", "percent_complete": percent, **fields}

    doc = workspace_doc(
        "tracked",
        cycles=[CYCLE],
        initiatives=[
            # In the cycle (e = 0.5): on track from 40 %, at risk from 25 %.
            tracked("H1", 40, cycle="Bets"),
            tracked("H2", Decimal("39.9"), cycle="Bets"),
            tracked("H3", 25, cycle="Bets"),
            tracked("H4", 24, cycle="Bets"),
            tracked("H5", 100, cycle="Bets"),
            # Long-running, judged on start → due.
            tracked("L1", 80, start="2026-02-08", due="2026-03-09"),  # due yesterday: overdue
            tracked("L2", 95, start="2026-02-08", due="2026-03-10"),  # due today: not yet
            tracked("L3", 100, start="2026-02-08", due="2026-03-01"),  # done beats overdue
            tracked("L4", None),  # no dates, no progress: nothing is late yet
            tracked(
                "L5", 10, start="2026-02-28", due="2026-04-09"
            ),  # e = 0.25: 10 % < 15 % but ≥ 0 %: at risk
        ],
    )
    bets = initiatives_by_key(scorecard(client, doc))
    seen = {key: (b["progress"]["percent_complete"], b["status"]) for key, b in bets.items()}
    assert seen == {
        "H1": (40, "on_track"),
        "H2": (Decimal("39.9"), "at_risk"),
        "H3": (25, "at_risk"),
        "H4": (24, "off_track"),
        "H5": (100, "done"),
        "L1": (80, "overdue"),
        "L2": (95, "on_track"),
        "L3": (100, "done"),
        "L4": (0, "on_track"),
        "L5": (10, "at_risk"),
    }
    assert all(b["progress"]["score"] is None for b in bets.values())


def test_scored_long_running_initiative_uses_its_own_dates(client):
    doc = workspace_doc(
        "long",
        initiatives=[
            # 10 of 40 days gone (e = 0.25): on track from 0.175, at risk from 0.10.
            {
                **bet("S1", kr("KR1", 0, 100, 18)),
                "cycle": None,
                "start": "2026-02-28",
                "due": "2026-04-09",
            },
            {
                **bet("S2", kr("KR2", 0, 100, 17)),
                "cycle": None,
                "start": "2026-02-28",
                "due": "2026-04-09",
            },
            {
                **bet("S3", kr("KR3", 0, 100, 9)),
                "cycle": None,
                "start": "2026-02-28",
                "due": "2026-04-09",
            },
        ],
    )
    bets = initiatives_by_key(scorecard(client, doc))
    assert {key: b["status"] for key, b in bets.items()} == {
        "S1": "on_track",
        "S2": "at_risk",
        "S3": "off_track",
    }

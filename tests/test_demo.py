"""The demo document: valid, deterministic, current on any day, and shaped as designed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from statistics import mean

import pytest

from hub.demo import DEMO_EMAIL, KPIS, LATE_BY_WEEKS, LATE_KPI, build_demo_document
from hub.domain.documents import document_json, import_document, validate_document
from hub.domain.periods import Cadence, period_for, previous_period, quarter_bounds, quarter_name
from hub.domain.scorecard import build_scorecard
from hub.extensions import db

# A Thursday that starts a quarter, a Monday mid-quarter, a Sunday, the last day of a
# quarter and a leap day: the days most likely to trip period arithmetic.
DAYS = [date(2026, 1, 1), date(2026, 5, 18), date(2026, 8, 9), date(2026, 9, 30), date(2028, 2, 29)]

# The colour of each KPI's latest value, by design (K8 is also late).
DESIGNED = {
    "K1": "green", "K2": "amber", "K3": "green", "K4": "red", "K5": "green", "K6": "amber",
    "K7": "green", "K8": "amber", "K9": "green", "K10": "green", "K11": "red", "K12": "amber",
    "K13": "green", "K14": "green", "K15": "amber", "K16": "green",
}  # fmt: skip


def every_day(first: date, days: int, step: int = 1) -> list[date]:
    return [first + timedelta(days=n) for n in range(0, days, step)]


# Every day of a year (and one leap day): the shape of the demo must hold on each.
YEAR = [*every_day(date(2026, 1, 1), 365), date(2028, 2, 29)]


def test_the_same_day_gives_the_same_document():
    today = date(2026, 5, 18)
    assert document_json(build_demo_document(today)) == document_json(build_demo_document(today))
    assert build_demo_document(today) != build_demo_document(today + timedelta(days=7))


def test_the_demo_is_a_valid_document_on_any_day(app):
    problems = {
        day: validate_document(build_demo_document(day)) for day in every_day(YEAR[0], 366, 3)
    }
    assert {day: found for day, found in problems.items() if found} == {}


def test_history_ends_at_the_last_complete_period_on_every_day():
    for today in YEAR:
        for kpi in build_demo_document(today)["kpis"]:
            cadence = Cadence(kpi["cadence"])
            last = previous_period(period_for(today, cadence))
            count = 26 if cadence is Cadence.WEEKLY else 12
            if kpi["key"] == LATE_KPI:
                for _ in range(LATE_BY_WEEKS):
                    last = previous_period(last)
                count -= LATE_BY_WEEKS
            keys = [value["period"] for value in kpi["values"]]
            where = f"{kpi['key']} on {today}"
            assert (len(keys), keys[-1]) == (count, last.key), where
            assert keys == sorted(set(keys)), where


def test_the_cycle_is_the_current_quarter_with_sound_key_results_on_every_day():
    for today in YEAR:
        doc = build_demo_document(today)
        start, end = quarter_bounds(today)
        assert doc["cycles"] == [
            {
                "name": quarter_name(today),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "state": "active",
            }
        ]
        objectives = [i for i in doc["initiatives"] if i["cycle"]]
        assert len(objectives) == 3
        assert all(3 <= len(o["key_results"]) <= 4 and o["gauges"] for o in objectives)
        krs = [kr for objective in objectives for kr in objective["key_results"]]
        for kr in krs:
            assert kr["start"] != kr["target"], f"{kr['key']} on {today}"
            low, high = sorted([kr["start"], kr["target"]])
            if kr["kpi"] is None:  # a linked KR's current is its KPI's, which may overshoot
                assert low <= kr["current"] <= high, f"{kr['key']} on {today}"
        [linked] = [kr for kr in krs if kr["kpi"]]
        # It starts where its KPI stood when the quarter began, above its 3 h target.
        assert linked["start"] > linked["target"], today


def test_the_demo_has_what_it_promises():
    doc = build_demo_document(date(2026, 5, 18))
    assert doc["workspace"]["slug"] == "demo"
    assert doc["workspace"]["name"] == "Northwind Analytics"
    assert doc["workspace"]["mode"] == "both"
    assert len(doc["goals"]) == 4
    kpis = doc["kpis"]
    assert len(kpis) >= 12
    assert {k["cadence"] for k in kpis} >= {"weekly", "monthly"}
    assert {k["direction"] for k in kpis} == {"up", "down", "range"}
    assert {k["unit"] for k in kpis} == {"number", "percent", "currency", "duration"}
    roles = {m["email"]: m["role"] for m in doc["members"]}
    assert roles[DEMO_EMAIL] == "owner"
    assert {"editor", "updater", "viewer"} <= set(roles.values())
    long_running = [i for i in doc["initiatives"] if i["cycle"] is None]
    assert len(long_running) == 2
    for initiative in long_running:
        assert initiative["gauges"]
        assert 0 < initiative["percent_complete"] < 100
        assert initiative["key_results"] == []
        assert initiative["start"] < initiative["due"]
    weights = {kr["weight"] for i in doc["initiatives"] for kr in i["key_results"]}
    assert len(weights) > 1


def test_values_look_like_business_numbers():
    doc = build_demo_document(date(2026, 5, 18))
    for spec, kpi in zip(KPIS, doc["kpis"], strict=True):
        values = [value["value"] for value in kpi["values"]]
        assert all(isinstance(v, Decimal) for v in values)
        # Rounded to the KPI's decimals, as people type them.
        assert all(-v.as_tuple().exponent <= kpi["decimals"] for v in values), kpi["key"]
        assert len(set(values)) >= 4, f"{kpi['key']} barely moves"
        if kpi["unit"] == "percent" and kpi["key"] != "K5":  # retention may pass 100 %
            assert all(0 <= v <= 100 for v in values)
        if kpi["key"] != "K15":  # eNPS may go negative; nothing else may
            assert all(v >= 0 for v in values)
        # The trend goes the designed way: compare the first and last quarter of it.
        quarter = max(len(values) // 4, 2)
        rise = mean(values[-quarter:]) - mean(values[:quarter])
        assert (rise > 0) == (spec.series.last > spec.series.first), kpi["key"]
        # …with noise: not a straight line.
        steps = [b - a for a, b in zip(values, values[1:], strict=False)]
        assert len(set(steps)) > 2


@pytest.mark.parametrize("today", DAYS)
def test_the_scorecard_shows_the_designed_picture(app, today):
    workspace = import_document(build_demo_document(today))
    db.session.commit()
    card = build_scorecard(workspace, today)
    kpis = {c.kpi.key: c for c in card.kpis}
    assert {key: c.status.value for key, c in kpis.items()} == DESIGNED
    assert [key for key, c in kpis.items() if c.late] == [LATE_KPI]
    assert card.cycle is not None
    assert card.cycle.name == quarter_name(today)
    bets = {c.initiative.key: c for c in card.initiatives}
    assert set(bets) == {"I1", "I2", "I3", "I4", "I5"}
    assert bets["I4"].status.value == "on_track"
    assert bets["I5"].status.value == "at_risk"
    [linked] = [kr for c in card.initiatives for kr in c.key_results if kr.kr.kpi_id]
    assert linked.current == kpis["K7"].latest.value

"""JSON API v1: auth, scoping, the scorecard and value entry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.accounts import issue_api_token
from hub.domain.periods import Cadence, period_for
from hub.extensions import db
from hub.models import KpiValue, ValueChange


@pytest.fixture
def world(make):
    owner = make.user("owner@example.com", name="Olive Owner")
    ws = make.workspace(owner, slug="acme", name="Acme")
    other = make.workspace(make.user("stranger@example.com"), slug="other", name="Other")
    goal = make.goal(ws, "Grow revenue")
    kpi = make.kpi(
        ws, "K1", name="New MRR", goal=goal, green_min=100000, red_min=90000, owner=owner
    )
    return {"owner": owner, "ws": ws, "other": other, "kpi": kpi}


def bearer(user, db_=db) -> dict[str, str]:
    token = issue_api_token(user)
    db_.session.commit()
    return {"Authorization": f"Bearer {token}"}


def this_week() -> str:
    return period_for(date.today() - timedelta(days=7), Cadence.WEEKLY).key


def test_requires_a_valid_bearer_token(client, world):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/workspaces", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_is_not_enough(client, login, world):
    login(world["owner"])
    assert client.get("/api/v1/workspaces").status_code == 401


def test_revoked_token_is_refused(client, world):
    from hub.models import ApiToken
    from hub.models.base import utcnow

    headers = bearer(world["owner"])
    assert client.get("/api/v1/workspaces", headers=headers).status_code == 200
    for token in db.session.scalars(db.select(ApiToken)):
        token.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/workspaces", headers=headers).status_code == 401


def test_lists_only_my_workspaces_with_counts(client, world, make):
    make.value(world["kpi"], this_week(), 95000)
    response = client.get("/api/v1/workspaces", headers=bearer(world["owner"]))
    assert response.status_code == 200
    [ws] = response.json["workspaces"]
    assert ws["slug"] == "acme"
    assert ws["role"] == "owner"
    assert ws["counts"]["amber"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces/other/scorecard",
        "/api/v1/workspaces/other/kpis/K1/values",
        "/api/v1/workspaces/other/bets",
        "/api/v1/workspaces/nope/scorecard",
    ],
)
def test_other_workspaces_answer_404(client, world, path):
    response = client.get(path, headers=bearer(world["owner"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_put_into_another_workspace_is_404_and_writes_nothing(client, world, make):
    make.kpi(world["other"], "K1")
    response = client.put(
        f"/api/v1/workspaces/other/kpis/K1/values/{this_week()}",
        json={"value": 5},
        headers=bearer(world["owner"]),
    )
    assert response.status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(KpiValue)) == 0


def test_scorecard_has_status_why_and_trend(client, world, make):
    make.value(world["kpi"], this_week(), 91000)
    response = client.get("/api/v1/workspaces/acme/scorecard", headers=bearer(world["owner"]))
    assert response.status_code == 200
    [goal] = response.json["goals"]
    [kpi] = goal["kpis"]
    assert kpi["status"] == "amber"
    assert kpi["why"].startswith("Amber: 91,000")
    assert kpi["latest"] == {"period": this_week(), "value": 91000}
    assert kpi["bounds"] == {
        "green_min": 100000,
        "green_max": None,
        "red_min": 90000,
        "red_max": None,
    }
    assert len(kpi["trend"]) == 13
    assert kpi["owner"] == "Olive Owner"
    assert goal["health"]["status"] == "amber"


@pytest.mark.parametrize(
    ("role", "expected"), [("viewer", 403), ("updater", 200), ("editor", 200), ("owner", 200)]
)
def test_put_value_needs_updater(client, world, make, role, expected):
    user = world["owner"] if role == "owner" else make.member(world["ws"], role)
    response = client.put(
        f"/api/v1/workspaces/acme/kpis/K1/values/{this_week()}",
        json={"value": 101000.5, "note": "from the CRM"},
        headers=bearer(user),
    )
    assert response.status_code == expected
    if expected == 200:
        assert response.json["status"] == "green"
        row = db.session.scalar(db.select(KpiValue))
        assert row.value == Decimal("101000.5")
        assert row.source == "api"
        assert row.note == "from the CRM"
        change = db.session.scalar(db.select(ValueChange))
        assert (change.old_value, change.new_value, change.source) == (
            None,
            Decimal("101000.5"),
            "api",
        )
    else:
        assert response.json["error"]["code"] == "forbidden"


def test_put_keeps_exact_decimals(client, world):
    response = client.put(
        f"/api/v1/workspaces/acme/kpis/K1/values/{this_week()}",
        data='{"value": 0.1000000001}',
        content_type="application/json",
        headers=bearer(world["owner"]),
    )
    assert response.status_code == 200
    assert db.session.scalar(db.select(KpiValue.value)) == Decimal("0.1000000001")
    assert b'"value": 0.1000000001' in response.data


@pytest.mark.parametrize(
    ("body", "period", "message"),
    [
        ('{"value": "12"}', None, "must be a JSON number"),
        ('{"value": true}', None, "must be a number"),
        ('{"value": 1e400}', None, "too large"),
        ('{"value": NaN}', None, "JSON object"),
        ('{"value": 1.00000000001}', None, "decimal places"),
        ('{"note": "x"}', None, "JSON object"),
        ('{"value": 1, "extra": 2}', None, "Unknown fields"),
        ('{"value": 1, "note": 5}', None, "note must be a string"),
        ("[1]", None, "JSON object"),
        ("not json", None, "JSON object"),
        ('{"value": 1}', "2026-12-01", "Tuesday"),
        ('{"value": 1}', "2026-W49", "weekly"),
        ('{"value": 1}', "2026-11", "weekly"),
    ],
)
def test_put_rejects_bad_input_and_changes_nothing(client, world, body, period, message):
    response = client.put(
        f"/api/v1/workspaces/acme/kpis/K1/values/{period or this_week()}",
        data=body,
        content_type="application/json",
        headers=bearer(world["owner"]),
    )
    assert response.status_code == 400
    assert message in response.json["error"]["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(ValueChange)) == 0


def test_put_null_clears_and_keeps_history(client, world, make):
    make.value(world["kpi"], this_week(), 5)
    response = client.put(
        f"/api/v1/workspaces/acme/kpis/K1/values/{this_week()}",
        json={"value": None},
        headers=bearer(world["owner"]),
    )
    assert response.status_code == 200
    assert db.session.scalar(db.select(KpiValue)) is None
    history = db.session.scalars(db.select(ValueChange).order_by(ValueChange.id)).all()
    assert [(c.old_value, c.new_value) for c in history] == [(None, 5), (5, None)]


def test_unknown_kpi_is_404(client, world):
    response = client.put(
        f"/api/v1/workspaces/acme/kpis/K99/values/{this_week()}",
        json={"value": 1},
        headers=bearer(world["owner"]),
    )
    assert response.status_code == 404
    assert "K99" in response.json["error"]["message"]


def test_values_list_has_provenance(client, world, make):
    make.value(world["kpi"], this_week(), 7, user=world["owner"], note="typed")
    response = client.get("/api/v1/workspaces/acme/kpis/K1/values", headers=bearer(world["owner"]))
    [value] = response.json["values"]
    assert value["source"] == "web"
    assert value["updated_by"] == "Olive Owner"
    assert value["note"] == "typed"
    assert "@" not in str(response.json)


def test_unknown_api_route_is_json_404(client, world):
    response = client.get("/api/v1/nothing", headers=bearer(world["owner"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client, world):
    response = client.delete("/api/v1/workspaces", headers=bearer(world["owner"]))
    assert response.status_code == 405
    assert "error" in response.json


def test_bets_lists_rows_and_flags(client, world, make):
    cycle = make.cycle(
        world["ws"], start=date.today() - timedelta(days=30), end=date.today() + timedelta(days=60)
    )
    make.initiative(world["ws"], "Outbound push", cycle=cycle, gauges=[world["kpi"]])
    make.initiative(world["ws"], "Rebrand", cycle=cycle)
    response = client.get("/api/v1/workspaces/acme/bets", headers=bearer(world["owner"]))
    assert response.status_code == 200
    body = response.json
    assert body["active_cycle"]["name"] == "2026-Q4"
    titles = {row["initiative"]["title"]: row for row in body["rows"]}
    assert titles["Rebrand"]["gauge"] is None
    assert "bet_without_gauge" in titles["Rebrand"]["flags"]
    assert titles["Outbound push"]["gauge"]["key"] == "K1"

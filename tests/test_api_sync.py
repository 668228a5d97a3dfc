"""JSON API v1 for the sync: start one, read the connection, runs, conflicts, problems."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub.domain.accounts import issue_api_token
from hub.domain.periods import Cadence, period_for
from hub.extensions import db
from hub.models import RunState
from hub.sync import service
from tests.fake_google import FakeGoogle
from tests.fake_google.a1 import cell_name

SYNC = "/api/v1/workspaces/acme/sync"


def bearer(user) -> dict[str, str]:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def last_week() -> str:
    return period_for(date.today() - timedelta(days=7), Cadence.WEEKLY).key


@pytest.fixture
def world(make, fake_google: FakeGoogle):
    owner = make.user("owner@example.com")
    ws = make.workspace(owner, slug="acme", mode="kpi")
    kpi = make.kpi(ws, "K1", name="Revenue")
    make.workspace(make.user("stranger@example.com"), slug="other")
    sid = fake_google.create_spreadsheet("Client sheet", {"Sheet1": [[]]})
    return {"owner": owner, "ws": ws, "kpi": kpi, "sid": sid, "fake": fake_google}


@pytest.fixture
def connected(world):
    service.connect(world["ws"], world["sid"], user=world["owner"])
    db.session.commit()
    return world


def k1_cell(world) -> str:
    grid = world["fake"].values(world["sid"], "Weekly KPIs")
    return cell_name(1, grid[0].index(last_week()))


def test_status_without_a_sheet(client, world):
    response = client.get(SYNC, headers=bearer(world["owner"]))
    assert response.status_code == 200
    assert response.json == {"connection": None, "runs": [], "conflicts": [], "problems": []}


def test_status_of_a_connected_workspace(client, connected):
    response = client.get(SYNC, headers=bearer(connected["owner"]))
    assert response.status_code == 200
    body = response.json
    connection = body["connection"]
    assert connection["state"] == "ok"
    assert connection["spreadsheet_id"] == connected["sid"]
    assert connection["url"] == f"https://docs.google.com/spreadsheets/d/{connected['sid']}/edit"
    assert connection["title"] == "Client sheet"
    assert connection["last_sync_at"].endswith("Z")
    assert set(connection) >= {"message", "service_account_email"}
    [run] = body["runs"]
    assert (run["trigger"], run["state"], run["pulled"]) == ("connect", "done", 0)
    assert run["pushed"] > 0
    assert run["summary"] == (
        f"pulled 0, pushed {run['pushed']}, conflicts 0, problems 0, API calls {run['api_calls']}"
    )
    assert set(run) >= {"id", "requested_at", "started_at", "finished_at", "message"}


def test_post_starts_a_sync(client, connected, make):
    make.value(connected["kpi"], last_week(), 42)
    response = client.post(SYNC, headers=bearer(connected["owner"]))
    assert response.status_code == 202
    assert response.headers["Location"].endswith(SYNC)
    sync = response.json["sync"]
    assert sync["trigger"] == "api"
    assert sync["state"] == RunState.DONE  # the tests' runner syncs before answering
    assert sync["pushed"] >= 1
    assert connected["fake"].value(connected["sid"], "Weekly KPIs", k1_cell(connected)) == 42
    runs = client.get(SYNC, headers=bearer(connected["owner"])).json["runs"]
    assert runs[0]["id"] == sync["id"]


def test_post_without_a_sheet_is_409(client, world):
    response = client.post(SYNC, headers=bearer(world["owner"]))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_connected"
    assert "no Google Sheet" in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("viewer", 200, 403),
        ("updater", 200, 403),
        ("editor", 200, 202),
        ("owner", 200, 202),
        ("outsider", 404, 404),
    ],
)
def test_roles(client, connected, make, role, get, post):
    if role == "owner":
        user = connected["owner"]
    elif role == "outsider":
        user = make.user()
    else:
        user = make.member(connected["ws"], role)
    headers = bearer(user)
    assert client.get(SYNC, headers=headers).status_code == get
    response = client.post(SYNC, headers=headers)
    assert response.status_code == post
    if post == 403:
        assert response.json["error"]["code"] == "forbidden"
    if post == 404:
        assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_and_other_workspaces_are_404(client, connected, method):
    headers = bearer(connected["owner"])
    for slug in ("nope", "other"):
        response = getattr(client, method)(f"/api/v1/workspaces/{slug}/sync", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_needs_a_token(client, connected):
    assert client.get(SYNC).status_code == 401
    assert client.post(SYNC).status_code == 401


def test_open_conflicts_and_problems(client, connected, make):
    fake, sid = connected["fake"], connected["sid"]
    cell = k1_cell(connected)
    # Both sides changed K1's value differently since the last sync: the sheet wins.
    make.value(connected["kpi"], last_week(), 5)
    fake.type(sid, "Weekly KPIs", cell, "7")
    service.run_sync(connected["ws"].id)
    # Then someone types words where a number belongs.
    fake.type(sid, "Weekly KPIs", cell, "n/a")
    service.run_sync(connected["ws"].id)

    body = client.get(SYNC, headers=bearer(connected["owner"])).json
    [conflict] = body["conflicts"]
    assert conflict["tab"] == "Weekly KPIs"
    assert conflict["cell"] == cell
    assert conflict["label"].startswith("K1 Revenue")
    assert (conflict["sheet_value"], conflict["app_value"], conflict["winner"]) == (
        "7",
        "5",
        "sheet",
    )
    assert set(conflict) == {
        "id",
        "tab",
        "cell",
        "label",
        "sheet_value",
        "app_value",
        "winner",
        "created_at",
    }
    [problem] = body["problems"]
    assert (problem["tab"], problem["cell"], problem["text"]) == ("Weekly KPIs", cell, "n/a")
    assert problem["reason"]
    assert problem["label"].startswith("K1 Revenue")
    assert set(problem) == {"tab", "cell", "label", "text", "reason", "opened_at"}
    assert [run["problems"] for run in body["runs"][:2]] == [1, 0]

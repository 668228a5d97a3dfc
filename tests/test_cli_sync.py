"""`flask hub connect-sheet` and `flask hub sync`, against the fake Google."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from hub.domain.periods import Cadence, period_for
from hub.extensions import db
from hub.models import Kpi, SheetConnection, SyncRun
from hub.sync import service
from tests.fake_google import FakeGoogle


def hub(runner, *args: str):
    return runner.invoke(args=["hub", *args])


def connections() -> int:
    return db.session.scalar(select(func.count()).select_from(SheetConnection))


@pytest.fixture
def acme(make):
    owner = make.user("owner@example.com")
    ws = make.workspace(owner, slug="acme", mode="kpi")
    make.kpi(ws, "K1", name="Revenue")
    return ws


@pytest.fixture
def sheet(fake_google: FakeGoogle) -> str:
    return fake_google.create_spreadsheet("Client sheet", {"Sheet1": [[]]})


def test_hub_lists_the_sync_commands(runner):
    result = hub(runner, "--help")
    assert "connect-sheet" in result.output
    assert "sync" in result.output


def test_connect_sheet_fills_the_sheet_and_prints_the_first_sync(runner, acme, sheet, fake_google):
    url = f"https://docs.google.com/spreadsheets/d/{sheet}/edit#gid=0"
    result = hub(runner, "connect-sheet", "acme", url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Connected acme to the sheet 'Client sheet': "
        f"https://docs.google.com/spreadsheets/d/{sheet}/edit"
    )
    assert lines[1] == "Tabs: Weekly KPIs"
    assert lines[2].startswith("First sync: done — pulled 0, pushed ")
    assert lines[2].endswith(", conflicts 0, problems 0, API calls " + lines[2].split()[-1])
    assert fake_google.values(sheet, "Weekly KPIs")[1][:2] == ["K1", "Revenue"]
    assert connections() == 1


@pytest.mark.parametrize(
    ("slug", "ref", "message"),
    [
        ("nope", "SHEET", "There is no workspace 'nope'."),
        ("acme", "https://example.com/x", "is not a Google Sheet address or id"),
        ("acme", "short", "paste the sheet's address"),
    ],
)
def test_connect_sheet_refuses_bad_input(runner, acme, sheet, slug, ref, message):
    result = hub(runner, "connect-sheet", slug, sheet if ref == "SHEET" else ref)
    assert result.exit_code == 1
    assert message in result.stderr
    assert connections() == 0


def test_connect_sheet_says_what_google_refused(runner, acme, sheet, fake_google):
    fake_google.set_shared(sheet, False)
    result = hub(runner, "connect-sheet", "acme", sheet)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "share" in result.stderr.lower()
    assert connections() == 0


def test_connect_sheet_twice_is_refused(runner, acme, sheet):
    assert hub(runner, "connect-sheet", "acme", sheet).exit_code == 0
    result = hub(runner, "connect-sheet", "acme", sheet)
    assert result.exit_code == 1
    assert "already has a sheet" in result.stderr


def test_sync_with_nothing_connected_says_so(runner, acme):
    result = hub(runner, "sync")
    assert result.exit_code == 0
    assert result.stdout == "No workspace has a Google Sheet connected.\n"


def test_sync_runs_every_connected_workspace_and_prints_a_line_each(
    runner, make, acme, fake_google
):
    other = make.workspace(make.user(), slug="beta", mode="kpi")
    make.workspace(make.user(), slug="gamma")  # no sheet: not listed
    for ws in (acme, other):
        sid = fake_google.create_spreadsheet(f"{ws.slug} sheet")
        service.connect(ws, sid, user=None)
    db.session.commit()
    week = period_for(date.today() - timedelta(days=7), Cadence.WEEKLY).key
    make.value(db.session.scalar(select(Kpi).where(Kpi.workspace_id == acme.id)), week, 12)
    result = hub(runner, "sync")
    assert result.exit_code == 0, result.output
    acme_line, beta_line = result.stdout.splitlines()
    assert acme_line.startswith("acme: done — pulled 0, pushed ")
    assert "pushed 0" not in acme_line
    # beta is unchanged on both sides: one Drive call and nothing else.
    assert beta_line == "beta: done — pulled 0, pushed 0, conflicts 0, problems 0, API calls 1"
    assert {run.trigger for run in db.session.scalars(select(SyncRun))} >= {"cli"}


def test_sync_one_workspace(runner, make, acme, sheet, fake_google):
    other = make.workspace(make.user(), slug="beta", mode="kpi")
    for ws, sid in ((acme, sheet), (other, fake_google.create_spreadsheet("Beta"))):
        service.connect(ws, sid, user=None)
    db.session.commit()
    result = hub(runner, "sync", "acme")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("acme: done — ")
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("slug", "message"),
    [("nope", "There is no workspace 'nope'."), ("acme", "has no Google Sheet connected")],
)
def test_sync_refuses_unknown_or_unconnected_workspaces(runner, acme, slug, message):
    result = hub(runner, "sync", slug)
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_failed_sync_prints_why_and_exits_1(runner, acme, sheet, fake_google):
    assert hub(runner, "connect-sheet", "acme", sheet).exit_code == 0
    fake_google.set_shared(sheet, False)
    result = hub(runner, "sync")
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("acme: failed — pulled 0, pushed 0, conflicts 0, problems 0, ")
    assert "(" in line  # followed by Google's refusal in words
    assert "1 of 1 syncs failed." in result.stderr


def test_the_scheduler_syncs_what_is_due_and_only_that(runner, acme, sheet):
    assert hub(runner, "connect-sheet", "acme", sheet).exit_code == 0
    result = hub(runner, "scheduler", "--once")
    assert (result.exit_code, result.output) == (0, "")  # just synced: nothing due
    connection = service.connection_of(acme)
    connection.last_sync_at -= timedelta(hours=1)
    db.session.commit()
    result = hub(runner, "scheduler", "--once")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("acme: interval — done — ")

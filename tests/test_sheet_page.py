"""The Sheet page: connect, status, Sync now with live progress, the sync log, conflicts,
import problems, the pause, disconnect, and the sync chip on the scorecard and portfolio."""

import html as htmllib
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.periods import Cadence, last_n_periods, local_today
from hub.domain.values import current_value
from hub.extensions import db
from hub.models import (
    ImportProblem,
    KpiValue,
    RunState,
    SheetConnection,
    SheetState,
    SyncConflict,
    SyncRun,
    Workspace,
)
from hub.models.base import utcnow
from hub.routes.sheet import sheet_chips
from hub.sync.cells import column_letters
from hub.templating import time_ago
from tests.querycount import count_queries
from tests.test_auth import another_app, log_in_as
from tests.test_layout import assert_accessible

HTMX = {"HX-Request": "true"}
EMAIL = "strategy-hub@acme-project.iam.gserviceaccount.com"
WEEKLY = "Weekly KPIs"


@pytest.fixture
def acme(make):
    """A workspace with an owner and one weekly KPI."""
    owner = make.user("olivia@example.com", name="Olivia")
    workspace = make.workspace(owner, name="Acme", slug="acme")
    kpi = make.kpi(workspace, name="Signups", cadence="weekly", green_min=100, red_min=90)
    return workspace, owner, kpi


@pytest.fixture
def service_account(app, tmp_path, monkeypatch):
    """A service-account key file, so the page can say whom to share the sheet with."""
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": EMAIL}))
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", str(key))
    return EMAIL


@pytest.fixture
def no_google(app, monkeypatch):
    """A server with nothing set up to reach Google."""
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "HUB_GOOGLE_API_URL", "HUB_SHEETS_SESSION"):
        monkeypatch.setitem(app.config, name, None)


def connect_directly(workspace, **kw):
    """A connection row made by hand (no Google involved)."""
    connection = SheetConnection(
        workspace_id=workspace.id,
        spreadsheet_id=kw.pop("spreadsheet_id", "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"),
        title=kw.pop("title", "Acme numbers"),
        tracking_start=kw.pop("tracking_start", date(2026, 9, 1)),
        **kw,
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def add_run(workspace, state=RunState.DONE, **kw):
    finished = state in RunState.FINISHED
    run = SyncRun(
        workspace_id=workspace.id,
        trigger=kw.pop("trigger", "manual"),
        state=state,
        finished_at=utcnow() if finished else None,
        **kw,
    )
    db.session.add(run)
    db.session.commit()
    return run


def add_conflict(workspace, **kw):
    values = {
        "tab_kind": "weekly",
        "row_key": "K1",
        "column": "2026-11-30",
        "cell": "'Weekly KPIs'!J2",
        "label": "K1 Signups · 2026-11-30",
        "sheet_value": "120",
        "app_value": "95",
        "winner": "sheet",
    }
    values.update(kw)
    conflict = SyncConflict(workspace_id=workspace.id, **values)
    db.session.add(conflict)
    db.session.commit()
    return conflict


def add_problem(workspace, **kw):
    values = {
        "tab_kind": "weekly",
        "row_key": "K1",
        "column": "2026-11-30",
        "tab_title": WEEKLY,
        "cell": "J2",
        "label": "K1 Signups · 2026-11-30",
        "text": "12 apples",
        "reason": "'12 apples' is not a number",
    }
    values.update(kw)
    problem = ImportProblem(workspace_id=workspace.id, **values)
    db.session.add(problem)
    db.session.commit()
    return problem


def text_of(response) -> str:
    """The page's text, tags stripped and spaces collapsed: what a user reads."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def this_week():
    return last_n_periods(local_today("UTC"), Cadence.WEEKLY, 1)[0].key


def cell_of(fake, sid, kpi_key, period):
    """The A1 address of a KPI's period cell in the Weekly KPIs tab of the fake."""
    rows = fake.values(sid, WEEKLY)
    col = rows[0].index(period)
    row = next(i for i, line in enumerate(rows) if line and line[0] == kpi_key)
    return f"{column_letters(col)}{row + 1}"


@pytest.fixture
def connected(acme, fake_google, login, client):
    """Acme connected, through the page, to a sheet in the fake Google; the owner is
    logged in. Yields (workspace, owner, kpi, spreadsheet id)."""
    workspace, owner, kpi = acme
    sid = fake_google.create_spreadsheet("Acme numbers", {"Sheet1": [[]]})
    login(owner)
    response = client.post(
        "/w/acme/sheet/connect",
        data={"sheet": f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"},
    )
    assert response.status_code == 303, text_of(response)
    return workspace, owner, kpi, sid


# --- access ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "updater", "editor", "owner"])
def test_every_member_sees_the_page_and_its_nav_link(client, login, make, acme, role):
    workspace, owner, _ = acme
    connect_directly(workspace)
    add_run(workspace)
    user = owner if role == "owner" else make.member(workspace, role)
    login(user)
    response = client.get("/w/acme/sheet")
    assert response.status_code == 200
    page = text_of(response)
    assert "Sync log" in page
    assert 'href="/w/acme/sheet" aria-current="page"' in response.get_data(as_text=True)
    assert (">Sync now</button>" in response.get_data(as_text=True)) == (
        role in ("editor", "owner")
    )
    assert ("Disconnect" in page) == (role == "owner")


@pytest.mark.parametrize("mode", ["kpi", "okr", "both"])
def test_the_page_exists_in_every_mode(client, login, make, mode):
    owner = make.user()
    make.workspace(owner, slug="modal", mode=mode)
    login(owner)
    assert client.get("/w/modal/sheet").status_code == 200
    assert 'href="/w/modal/sheet"' in client.get("/w/modal/scorecard").get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "updater"])
def test_viewers_and_updaters_cannot_sync_or_resolve(client, login, make, acme, role):
    workspace, _, _ = acme
    connect_directly(workspace)
    conflict = add_conflict(workspace)
    login(make.member(workspace, role))
    assert client.post("/w/acme/sheet/sync").status_code == 403
    assert client.post(f"/w/acme/sheet/conflicts/{conflict.id}/use").status_code == 403
    assert client.post(f"/w/acme/sheet/conflicts/{conflict.id}/keep").status_code == 403
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 0
    page = text_of(client.get("/w/acme/sheet"))
    assert "120" in page
    assert "Use this instead" not in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/w/acme/sheet/connect"),
        ("post", "/w/acme/sheet/resume"),
        ("get", "/w/acme/sheet/disconnect"),
        ("post", "/w/acme/sheet/disconnect"),
    ],
)
def test_only_owners_manage_the_connection(client, login, make, acme, method, path):
    workspace, _, _ = acme
    connect_directly(workspace, state=SheetState.PAUSED)
    login(make.member(workspace, "editor"))
    assert getattr(client, method)(path, data={"choice": "apply"}).status_code == 403
    assert db.session.scalar(db.select(SheetConnection.state)) == SheetState.PAUSED


def test_outsiders_get_404(client, login, make, acme):
    workspace, _, _ = acme
    connect_directly(workspace)
    run = add_run(workspace)
    login(make.user())
    assert client.get("/w/acme/sheet").status_code == 404
    assert client.get(f"/w/acme/sheet/runs/{run.id}", headers=HTMX).status_code == 404


def test_another_workspaces_run_and_conflict_answer_404(client, login, make, acme):
    workspace, owner, _ = acme
    other = make.workspace(owner, slug="other")
    connect_directly(workspace)
    run = add_run(other)
    conflict = add_conflict(other)
    login(owner)
    assert client.get(f"/w/acme/sheet/runs/{run.id}", headers=HTMX).status_code == 404
    assert client.post(f"/w/acme/sheet/conflicts/{conflict.id}/keep").status_code == 404
    assert db.session.get(SyncConflict, conflict.id).resolved_at is None


# --- not connected ---------------------------------------------------------------------


def test_not_connected_shows_whom_to_share_with_and_the_form(client, login, acme, service_account):
    _, owner, _ = acme
    login(owner)
    response = client.get("/w/acme/sheet")
    page = text_of(response)
    assert "Connect a Google Sheet" in page
    assert f'id="service-account-email">{EMAIL}</code>' in response.get_data(as_text=True)
    assert "Editor" in page
    assert "Paste the sheet's address" in page
    assert 'name="sheet"' in response.get_data(as_text=True)
    assert "Sync log" not in page


def test_not_connected_without_google_says_what_to_configure(client, login, acme, no_google):
    _, owner, _ = acme
    login(owner)
    page = text_of(client.get("/w/acme/sheet"))
    assert "GOOGLE_APPLICATION_CREDENTIALS" in page
    assert "HUB_GOOGLE_API_URL" in page
    assert "docs/sync.md" in page
    assert "Paste the sheet's address" not in page


def test_members_who_are_not_owners_are_told_to_ask_an_owner(
    client, login, make, acme, service_account
):
    workspace, _, _ = acme
    login(make.member(workspace, "editor"))
    response = client.get("/w/acme/sheet")
    assert EMAIL in text_of(response)
    assert "Only an owner" in text_of(response)
    assert 'name="sheet"' not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Paste the sheet's address or its id."),
        ("https://example.com/not-a-sheet", "paste the sheet's address from the browser"),
        ("my sheet", "paste the sheet's address from the browser"),
    ],
)
def test_a_bad_address_is_refused_inline_and_nothing_is_created(
    client, login, acme, fake_google, typed, message
):
    _, owner, _ = acme
    login(owner)
    response = client.post("/w/acme/sheet/connect", data={"sheet": typed})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert 'aria-invalid="true"' in html
    assert f'value="{typed}"' in html or not typed
    assert db.session.scalar(db.select(db.func.count(SheetConnection.id))) == 0
    assert fake_google.log.ops() == []


def test_a_sheet_google_does_not_know_is_refused_inline(client, login, acme, fake_google):
    _, owner, _ = acme
    login(owner)
    response = client.post(
        "/w/acme/sheet/connect", data={"sheet": "1NoSuchSheet000000000000000000000000000000"}
    )
    assert response.status_code == 422
    assert "share it with" in text_of(response).lower() or "no sheet" in text_of(response)
    assert db.session.scalar(db.select(db.func.count(SheetConnection.id))) == 0


# --- connected -------------------------------------------------------------------------


def test_connecting_fills_the_sheet_and_shows_the_status(client, connected, fake_google):
    workspace, _, kpi, sid = connected
    tabs = [sheet.title for sheet in fake_google.book(sid).sheets]
    assert WEEKLY in tabs
    assert "OKRs" in tabs
    assert "Initiatives" in tabs
    assert fake_google.values(sid, WEEKLY)[0][:2] == ["ID", "KPI"]
    response = client.get("/w/acme/sheet")
    page = text_of(response)
    assert "Sheet connected" in page  # the flash
    assert "Syncing" in page
    assert f"https://docs.google.com/spreadsheets/d/{sid}/edit" in response.get_data(as_text=True)
    assert 'rel="noopener noreferrer"' in response.get_data(as_text=True)
    assert "Connecting" in page  # the first run's trigger, in the log
    assert "Connect a Google Sheet" not in page


def test_sync_now_with_htmx_returns_the_finished_progress_and_refreshes_the_rest(
    client, connected, fake_google
):
    workspace, _, kpi, sid = connected
    fake_google.type(sid, WEEKLY, cell_of(fake_google, sid, "K1", this_week()), 104)
    response = client.post("/w/acme/sheet/sync", headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="sync-progress"')
    assert "hx-trigger" not in html.split('id="sheet-status"')[0]  # no more polling
    assert "Sync finished" in html
    assert "pulled 1" in html
    assert 'id="sheet-status" class="card sheet-status"' in html
    assert re.search(r'id="sheet-status"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'id="sheet-records"[^>]*hx-swap-oob="true"', html)
    assert "<html" not in html
    assert current_value(kpi, this_week()).value == Decimal("104")


def test_sync_now_without_javascript_redirects_back_to_the_page(client, connected):
    response = client.post("/w/acme/sheet/sync")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/sheet")
    page = text_of(client.get("/w/acme/sheet"))
    assert "Sync finished" in page
    assert "Sync now" in page


def test_sync_now_when_not_connected_says_so(client, login, acme):
    _, owner, _ = acme
    login(owner)
    response = client.post("/w/acme/sheet/sync", follow_redirects=True)
    assert "no Google Sheet connected" in text_of(response)


def test_the_progress_fragment_polls_itself_while_queued_or_running_then_stops(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    run = add_run(workspace, RunState.QUEUED)
    login(owner)
    url = f"/w/acme/sheet/runs/{run.id}"

    response = client.get(url, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="load delay:1s"' in html
    assert 'hx-swap="outerHTML"' in html
    assert "Waiting to start" in html
    assert "hx-swap-oob" not in html

    run.state, run.started_at, run.progress = RunState.RUNNING, utcnow(), "Reading the sheet"
    db.session.commit()
    html = client.get(url, headers=HTMX).get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in html
    assert "Syncing… Reading the sheet" in text_of(client.get(url, headers=HTMX))

    run.state, run.finished_at, run.pulled, run.pushed = RunState.DONE, utcnow(), 2, 3
    run.events = ["K7 Revenue was created from a new row in Weekly KPIs"]
    db.session.commit()
    html = client.get(url, headers=HTMX).get_data(as_text=True)
    progress = html.split('id="sheet-status"')[0]
    assert "hx-trigger" not in progress
    assert "hx-get" not in progress
    assert "pulled 2, pushed 3" in progress
    assert "K7 Revenue was created" in progress


def test_the_progress_region_is_a_live_region(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    add_run(workspace, RunState.RUNNING, progress="Writing 3 cells to the sheet")
    login(owner)
    html = client.get("/w/acme/sheet").get_data(as_text=True)
    assert re.search(r'role="status" aria-live="polite">\s*<div id="sync-progress"', html)
    assert 'hx-trigger="load delay:1s"' in html  # a run already going is followed on load
    assert "Writing 3 cells to the sheet" in html


def test_polling_after_a_disconnect_reloads_the_page(client, login, acme):
    workspace, owner, _ = acme
    run = add_run(workspace, RunState.RUNNING)
    login(owner)
    response = client.get(f"/w/acme/sheet/runs/{run.id}", headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/w/acme/sheet"


def test_the_run_url_without_htmx_is_the_whole_page(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    run = add_run(workspace, pulled=4)
    login(owner)
    response = client.get(f"/w/acme/sheet/runs/{run.id}")
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
    assert "Sync finished" in text_of(response)


def test_status_and_log_show_what_the_syncs_did(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    add_run(workspace, trigger="interval", message="Nothing changed on either side.")
    add_run(
        workspace,
        trigger="edit",
        pulled=1,
        pushed=2,
        events=["Row 5 of Weekly KPIs was deleted in the sheet; it was restored."],
    )
    add_run(workspace, RunState.FAILED, message="Google Sheets did not answer after 5 tries.")
    login(owner)
    page = text_of(client.get("/w/acme/sheet"))
    assert "Last sync" in page
    assert "Failed" in page
    assert "Google Sheets did not answer after 5 tries." in page
    assert "pulled 1, pushed 2, conflicts 0, problems 0" in page
    assert "it was restored" in page
    assert "Regular check" in page
    assert "After an edit" in page
    assert "Nothing changed on either side." in page


def test_needs_attention_says_whom_to_share_with(client, login, acme, service_account):
    workspace, owner, _ = acme
    connect_directly(
        workspace,
        state=SheetState.ATTENTION,
        state_message=f"Google refused access to the sheet. Share it with {EMAIL} as Editor.",
    )
    login(owner)
    page = text_of(client.get("/w/acme/sheet"))
    assert "Needs attention" in page
    assert f"Share it with {EMAIL} as Editor." in page


# --- conflicts -------------------------------------------------------------------------


def test_conflicts_show_both_values_and_which_won(client, login, make, acme):
    workspace, _, _ = acme
    connect_directly(workspace)
    add_conflict(workspace)
    login(make.member(workspace, "editor"))
    response = client.get("/w/acme/sheet")
    page = text_of(response)
    assert "Conflicts (1)" in page
    assert "K1 Signups · 2026-11-30" in page
    assert "'Weekly KPIs'!J2" in page
    row = re.search(r'<tr id="conflict-\d+".*?</tr>', response.get_data(as_text=True), re.S)[0]
    sheet_cell, app_cell = re.findall(r'<td class="conflict-value.*?</td>', row, re.S)
    assert "120" in sheet_cell
    assert "In use" in sheet_cell
    assert ">Keep" in sheet_cell
    assert "95" in app_cell
    assert "Not applied" in app_cell
    assert "Use this instead" in app_cell


def test_keep_closes_the_conflict_and_swaps_its_row(client, login, make, acme):
    workspace, _, _ = acme
    connect_directly(workspace)
    conflict = add_conflict(workspace)
    editor = make.member(workspace, "editor")
    login(editor)
    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/keep", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="conflict-{conflict.id}"')
    assert "Kept “120”" in html
    assert "<html" not in html
    db.session.expire_all()
    kept = db.session.get(SyncConflict, conflict.id)
    assert kept.resolution == "kept"
    assert kept.resolved_by_id == editor.id
    assert "No open conflicts" in text_of(client.get("/w/acme/sheet"))


def test_keep_without_javascript_redirects_to_the_conflicts(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    conflict = add_conflict(workspace)
    login(owner)
    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/keep")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/sheet#conflicts")


def test_use_this_instead_makes_the_losing_value_current_and_pushes_it(
    client, connected, fake_google, make
):
    workspace, owner, kpi, sid = connected
    period = this_week()
    cell = cell_of(fake_google, sid, "K1", period)
    # Both sides change the same cell differently: the sheet wins a value cell.
    make.value(kpi, period, 95)
    fake_google.type(sid, WEEKLY, cell, 120)
    client.post("/w/acme/sheet/sync")
    conflict = db.session.scalar(db.select(SyncConflict))
    assert conflict is not None
    assert conflict.winner == "sheet"
    assert current_value(kpi, period).value == Decimal("120")

    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/use", headers=HTMX)
    assert response.status_code == 200
    assert "Now using “95”" in response.get_data(as_text=True)
    assert "The next sync writes it to the sheet." in response.get_data(as_text=True)
    db.session.expire_all()
    assert current_value(kpi, period).value == Decimal("95")
    client.post("/w/acme/sheet/sync")
    assert fake_google.value(sid, WEEKLY, cell) == 95


def test_using_an_already_resolved_conflict_changes_nothing(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    conflict = add_conflict(workspace, resolved_at=utcnow(), resolution="kept")
    login(owner)
    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/use", headers=HTMX)
    assert response.status_code == 200
    assert db.session.scalar(db.select(db.func.count(KpiValue.id))) == 0


def test_a_conflict_that_cannot_be_switched_says_why_in_its_row(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    conflict = add_conflict(workspace, row_key="K99", label="K99 Gone · 2026-11-30")
    login(owner)
    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/use", headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="conflict-{conflict.id}"')
    assert 'role="alert"' in html
    assert "K99 Gone · 2026-11-30 is no longer in the sheet" in text_of(response)
    db.session.expire_all()
    assert db.session.get(SyncConflict, conflict.id).resolved_at is None
    response = client.post(f"/w/acme/sheet/conflicts/{conflict.id}/use", follow_redirects=True)
    assert "is no longer in the sheet" in text_of(response)


# --- import problems -------------------------------------------------------------------


def test_import_problems_are_listed_with_what_to_do(client, login, make, acme):
    workspace, _, _ = acme
    connect_directly(workspace)
    add_problem(workspace)
    add_problem(workspace, cell="K2", text="1.234,5", reason="not a number in English (US)")
    add_problem(workspace, cell="L2", text="fixed-long-ago", closed_at=utcnow())
    login(make.member(workspace, "viewer"))
    page = text_of(client.get("/w/acme/sheet"))
    assert "Import problems (2)" in page
    assert "J2" in page
    assert "12 apples" in page
    assert "'12 apples' is not a number" in page
    assert "1.234,5" in page
    assert "not a number in English (US)" in page
    assert "fixed-long-ago" not in page
    assert "kept its own value" in page
    assert "closes by itself" in page


def test_text_typed_in_the_sheet_becomes_a_problem_on_the_page(client, connected, fake_google):
    workspace, _, kpi, sid = connected
    cell = cell_of(fake_google, sid, "K1", this_week())
    fake_google.type(sid, WEEKLY, cell, "n/a")
    client.post("/w/acme/sheet/sync")
    page = text_of(client.get("/w/acme/sheet"))
    assert "Import problems (1)" in page
    assert cell in page
    assert "n/a" in page
    fake_google.type(sid, WEEKLY, cell, 101)
    client.post("/w/acme/sheet/sync")
    assert "Import problems (0)" in text_of(client.get("/w/acme/sheet"))


# --- paused ----------------------------------------------------------------------------

PAUSE = {
    "reason": "The sheet would clear 12 values at once.",
    "cleared": [
        {"tab": WEEKLY, "cell": "J2", "label": "K1 Signups · 2026-11-30", "value": "104"},
    ],
    "mismatched": [
        {"tab": WEEKLY, "cell": "A3", "id": "K2", "sheet_name": "Churn", "app_name": "Revenue"},
    ],
}


def test_a_paused_sync_explains_why_and_offers_the_two_ways_out(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(
        workspace,
        state=SheetState.PAUSED,
        state_message="Paused: The sheet would clear 12 values at once. Nothing was applied.",
        pause_details=PAUSE,
    )
    login(owner)
    page = text_of(client.get("/w/acme/sheet"))
    assert "Paused" in page
    assert "The sheet would clear 12 values at once." in page
    assert "K1 Signups · 2026-11-30" in page
    assert "104" in page
    assert "Churn" in page
    assert "Revenue" in page
    assert "Apply the sheet anyway" in page
    assert "Restore the sheet from the app" in page


def test_editors_see_the_pause_but_not_the_choice(client, login, make, acme):
    workspace, _, _ = acme
    connect_directly(workspace, state=SheetState.PAUSED, pause_details=PAUSE)
    login(make.member(workspace, "editor"))
    page = text_of(client.get("/w/acme/sheet"))
    assert "The sheet would clear 12 values at once." in page
    assert "Apply the sheet anyway" not in page
    assert "An owner of Acme decides what wins" in page


@pytest.mark.parametrize("choice", ["apply", "restore"])
def test_resuming_runs_a_sync_and_leaves_the_pause(client, connected, choice):
    workspace, _, _, _ = connected
    connection = db.session.scalar(db.select(SheetConnection))
    connection.state, connection.pause_details = SheetState.PAUSED, PAUSE
    db.session.commit()
    response = client.post("/w/acme/sheet/resume", data={"choice": choice}, headers=HTMX)
    assert response.status_code == 200
    assert "Sync finished" in response.get_data(as_text=True)
    assert re.search(r'id="sheet-status"[^>]*hx-swap-oob', response.get_data(as_text=True))
    db.session.expire_all()
    connection = db.session.scalar(db.select(SheetConnection))
    assert connection.state == SheetState.OK
    assert connection.pause_details == {}


def test_resume_refuses_an_unknown_choice_and_when_not_paused(client, login, acme):
    workspace, owner, _ = acme
    connect_directly(workspace)
    login(owner)
    response = client.post("/w/acme/sheet/resume", data={"choice": "guess"})
    assert response.status_code == 303
    response = client.post("/w/acme/sheet/resume", data={"choice": "apply"}, follow_redirects=True)
    assert "The sync is not paused." in text_of(response)
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 0


# --- disconnect ------------------------------------------------------------------------


def test_disconnect_asks_first_then_keeps_everything_in_the_app(client, connected, make):
    workspace, _, kpi, _ = connected
    make.value(kpi, this_week(), 77)
    page = text_of(client.get("/w/acme/sheet/disconnect"))
    assert "Disconnect the Google Sheet?" in page
    assert "Everything stays in the app" in page
    assert db.session.scalar(db.select(db.func.count(SheetConnection.id))) == 1

    response = client.post("/w/acme/sheet/disconnect")
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count(SheetConnection.id))) == 0
    assert current_value(kpi, this_week()).value == Decimal("77")
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) >= 1
    page = text_of(client.get("/w/acme/sheet"))
    assert "The sheet is disconnected" in page
    assert "Connect a Google Sheet" in page


def test_disconnect_when_not_connected_goes_back_to_the_page(client, login, acme):
    _, owner, _ = acme
    login(owner)
    assert client.get("/w/acme/sheet/disconnect").status_code == 303
    assert client.post("/w/acme/sheet/disconnect").status_code == 303


# --- accessibility ---------------------------------------------------------------------


def everything_at_once(workspace):
    """A connection with something in every part of the page."""
    connect_directly(workspace, state=SheetState.PAUSED, pause_details=PAUSE)
    add_run(workspace, pulled=1, events=["A row was restored."])
    add_run(workspace, RunState.RUNNING, progress="Reading the sheet")
    add_conflict(workspace)
    add_conflict(workspace, winner="app", label="K1 Signups · Target")
    add_problem(workspace)


@pytest.mark.parametrize(
    ("state", "path"),
    [
        ("none", "/w/acme/sheet"),
        ("everything", "/w/acme/sheet"),
        ("everything", "/w/acme/sheet/disconnect"),
    ],
)
def test_the_pages_are_accessible_with_their_csrf_fields(app, acme, service_account, state, path):
    """As in production (CSRF on): unique ids, labelled controls, headings in order."""
    workspace, owner, _ = acme
    if state == "everything":
        everything_at_once(workspace)
    with another_app(app, WTF_CSRF_ENABLED=True, HUB_SYNC_RUNNER="inline") as strict:
        client = log_in_as(strict.test_client(), owner)
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        main = html.split("<main", 1)[1]
        assert main.count("<form") == main.count('name="csrf_token"')
        assert_accessible(html)


def test_a_refused_address_stays_accessible(client, login, acme, fake_google):
    _, owner, _ = acme
    login(owner)
    response = client.post("/w/acme/sheet/connect", data={"sheet": "nope"})
    assert_accessible(response.get_data(as_text=True))


# --- the chip --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"last_success_at": timedelta(minutes=3)}, "Sheet: synced 3 min ago"),
        ({}, "Sheet: not synced yet"),
        ({"state": SheetState.PAUSED}, "Sheet: paused"),
        ({"state": SheetState.ATTENTION}, "Sheet: needs attention"),
        ({"problems": 2}, "Sheet: 2 problems"),
        ({"conflicts": 1}, "Sheet: 1 conflict"),
    ],
)
def test_the_chip_on_the_scorecard_and_the_portfolio(client, login, acme, setup, words):
    workspace, owner, _ = acme
    setup = dict(setup)
    ago = setup.pop("last_success_at", None)
    problems, conflicts = setup.pop("problems", 0), setup.pop("conflicts", 0)
    connect_directly(workspace, last_success_at=utcnow() - ago if ago else None, **setup)
    for n in range(problems):
        add_problem(workspace, cell=f"J{n + 2}")
    for _ in range(conflicts):
        add_conflict(workspace)
    login(owner)
    for url in ("/w/acme/scorecard", "/"):
        response = client.get(url)
        assert words in text_of(response), url
        assert re.search(
            r'<a class="sheet-chip[^"]*" href="/w/acme/sheet">', response.get_data(as_text=True)
        )


def test_no_chip_when_not_connected_nor_on_a_shared_link(client, login, acme):
    from hub.domain import sharing

    workspace, owner, _ = acme
    login(owner)
    assert "Sheet:" not in text_of(client.get("/w/acme/scorecard"))
    assert "Sheet:" not in text_of(client.get("/"))
    connect_directly(workspace, last_success_at=utcnow())
    _, token = sharing.create_share_link(workspace, owner, label="", days=None)
    db.session.commit()
    client.post("/logout")
    assert "Sheet:" not in text_of(client.get(f"/s/{token}"))


def test_the_chips_of_many_workspaces_take_one_query(make):
    owner = make.user()
    workspaces = [make.workspace(owner) for _ in range(6)]
    for workspace in workspaces[::2]:
        connect_directly(workspace, last_success_at=utcnow())
        add_problem(workspace)
    ids = [w.id for w in workspaces]
    workspaces = db.session.scalars(db.select(Workspace).where(Workspace.id.in_(ids))).all()
    with count_queries() as queries:
        chips = sheet_chips(workspaces)
    assert queries.count == 1
    assert set(chips) == {w.id for w in workspaces[::2]}
    assert all(chip.problems == 1 and chip.kind == "problems" for chip in chips.values())
    assert sheet_chips([]) == {}


def test_the_portfolio_asks_for_the_chips_once_whatever_the_number_of_workspaces(
    client, login, make
):
    owner = make.user()
    for _ in range(2):
        connect_directly(make.workspace(owner))
    login(owner)
    client.get("/")
    with count_queries() as few:
        client.get("/")
    for _ in range(3):
        connect_directly(make.workspace(owner))
    with count_queries() as many:
        client.get("/")
    chip_queries = [s for s in many.statements if "sheet_connections" in s]
    assert len(chip_queries) == 1, chip_queries
    assert len([s for s in few.statements if "sheet_connections" in s]) == 1


def test_time_ago_reads_like_a_person_would_say_it():
    now = utcnow()
    assert time_ago(now - timedelta(seconds=20), now) == "just now"
    assert time_ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert time_ago(now - timedelta(hours=1, minutes=5), now) == "1 hour ago"
    assert time_ago(now - timedelta(days=2), now) == "2 days ago"
    assert time_ago(None, now) == "never"

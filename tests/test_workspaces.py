"""Creating workspaces, the portfolio, settings and deleting a workspace."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from hub.domain import workspaces as workspace_ops
from hub.domain.errors import Invalid
from hub.domain.periods import Cadence, last_n_periods, local_today, quarter_bounds
from hub.extensions import db
from hub.models import Membership, Role, Workspace

HTMX_SETTINGS = {"HX-Request": "true", "HX-Target": "settings-form"}


def workspace_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Acme Corp",
        "slug": "",
        "mode": "both",
        "time_zone": "Europe/Paris",
        "week_start": "monday",
        "fiscal_year_start_month": "1",
        "currency": "EUR",
    }
    data.update(overrides)
    return data


def workspace(slug: str) -> Workspace | None:
    db.session.expire_all()
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug))


def error_beside(page: str, field: str) -> str:
    """The error message shown beside a field ('' when none), checking its ARIA wiring."""
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    if not match:
        return ""
    described = re.search(rf"<(?:input|select|fieldset)\b[^>]*{field}-error[^>]*>", page)
    assert described, f"nothing points at {field}-error with aria-describedby"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# ------------------------------------------------------------------------- create


def test_the_new_workspace_page_needs_login(client):
    response = client.get("/workspaces/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_new_workspace_form_offers_the_settings_with_defaults(client, login, make):
    login(make.user())
    page = client.get("/workspaces/new").get_data(as_text=True)
    assert "<h1>New workspace</h1>" in page
    assert re.search(r'<input[^>]*id="time_zone"[^>]*list="time_zone-datalist"', page)
    assert '<option selected value="monday">Monday</option>' in page
    assert '<option selected value="1">January</option>' in page
    assert 'value="USD"' in page
    assert re.search(r'<input checked id="mode-0" name="mode" type="radio" value="both">', page)
    assert "(optional)" in page  # the address may be left blank


def test_creating_a_workspace_makes_its_creator_owner(client, login, make):
    user = make.user()
    login(user)
    response = client.post("/workspaces/new", data=workspace_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme-corp/sheet?setup=1"
    created = workspace("acme-corp")
    assert created.name == "Acme Corp"
    assert created.time_zone == "Europe/Paris"
    assert created.currency == "EUR"
    role = db.session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == created.id, Membership.user_id == user.id
        )
    )
    assert role == Role.OWNER
    next_step = client.get("/w/acme-corp/sheet?setup=1").get_data(as_text=True)
    assert "Acme Corp is ready" in next_step
    assert "Skip: invite your team" in next_step
    assert "/w/acme-corp/members" in next_step


def test_the_address_is_made_from_the_name_and_kept_unique(client, login, make):
    login(make.user())
    make.workspace(make.user(), slug="acme-corp")
    client.post("/workspaces/new", data=workspace_form(name="Acme Corp"))
    client.post("/workspaces/new", data=workspace_form(name="ACME corp!"))
    client.post("/workspaces/new", data=workspace_form(name="Ünïcode & Co."))
    client.post("/workspaces/new", data=workspace_form(name="!!!"))
    slugs = set(db.session.scalars(select(Workspace.slug)))
    assert {"acme-corp", "acme-corp-2", "acme-corp-3", "unicode-co", "workspace"} <= slugs


def test_a_typed_address_is_lowercased(client, login, make):
    login(make.user())
    response = client.post("/workspaces/new", data=workspace_form(slug=" Big-Client "))
    assert response.status_code == 303
    assert workspace("big-client") is not None


def test_a_taken_address_is_refused_beside_the_field(client, login, make):
    make.workspace(make.user(), slug="taken", name="Someone else's")
    login(make.user())
    response = client.post("/workspaces/new", data=workspace_form(slug="taken"))
    assert response.status_code == 422
    assert "already taken" in error_beside(response.get_data(as_text=True), "slug")
    assert workspace("taken").name == "Someone else's"
    assert db.session.scalar(select(db.func.count(Workspace.id))) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Give the workspace a name."),
        ({"name": "x" * 121}, "name", "120 characters"),
        ({"slug": "-acme"}, "slug", "not starting or ending with a dash"),
        ({"slug": "acme corp"}, "slug", "For example: acme-corp"),
        ({"slug": "a" * 65}, "slug", "1–64"),
        ({"mode": "everything"}, "mode", "Choose what this workspace will track."),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "not a time zone we know"),
        ({"time_zone": ""}, "time_zone", "Choose a time zone."),
        ({"currency": "ZZZ"}, "currency", "not a currency code we know"),
        ({"currency": "EURO"}, "currency", "not a currency code we know"),
        ({"currency": ""}, "currency", "Choose a currency."),
        ({"week_start": "funday"}, "week_start", "Choose a day of the week."),
        ({"fiscal_year_start_month": "0"}, "fiscal_year_start_month", "January to December"),
        ({"fiscal_year_start_month": "13"}, "fiscal_year_start_month", "January to December"),
        ({"fiscal_year_start_month": "July"}, "fiscal_year_start_month", "January to December"),
    ],
)
def test_invalid_settings_are_refused_beside_their_field(
    client, login, make, overrides, field, message
):
    login(make.user())
    response = client.post("/workspaces/new", data=workspace_form(**overrides))
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), field)
    assert db.session.scalar(select(db.func.count(Workspace.id))) == 0


def test_every_problem_is_shown_at_once(client, login, make):
    login(make.user())
    response = client.post(
        "/workspaces/new",
        data=workspace_form(name="", time_zone="Nowhere", currency="ABC", week_start="x"),
    )
    page = response.get_data(as_text=True)
    for field in ("name", "time_zone", "currency", "week_start"):
        assert error_beside(page, field), field
    # What was typed stays in the form.
    assert 'value="Nowhere"' in page
    assert 'value="ABC"' in page


def test_settings_are_read_leniently(client, login, make):
    login(make.user())
    response = client.post(
        "/workspaces/new",
        data=workspace_form(
            slug="lenient",
            time_zone=" america/new_york ",
            currency="gbp",
            week_start="sunday",
            fiscal_year_start_month="7",
            mode="okr",
        ),
    )
    assert response.status_code == 303
    created = workspace("lenient")
    assert created.time_zone == "America/New_York"
    assert created.currency == "GBP"
    assert created.week_start == 6
    assert created.fiscal_year_start_month == 7
    assert created.mode == "okr"


# ---------------------------------------------------------------------- portfolio


def test_the_portfolio_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_portfolio_lists_only_my_workspaces_with_my_role(client, login, make):
    me = make.user()
    mine = make.workspace(me, name="Mine Ltd", slug="mine")
    theirs = make.workspace(make.user(), name="Joined Inc", slug="joined")
    make.member(theirs, "viewer", me)
    make.workspace(make.user(), name="Secret Co", slug="secret")
    make.member(mine, "editor")
    login(me)
    response = client.get("/")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows[1:]]
    assert cells == [
        "Joined Inc /joined Viewer KPIs and OKRs none yet — 2",
        "Mine Ltd /mine Owner KPIs and OKRs none yet — 2",
    ]
    assert "Secret Co" not in page
    assert 'href="/w/mine/"' in page


def test_the_portfolio_shows_kpi_colours_late_and_the_cycle_score(client, login, make):
    me = make.user()
    workspace = make.workspace(me, name="Acme", slug="acme")
    periods = last_n_periods(local_today("UTC"), Cadence.WEEKLY, 8)
    green = make.kpi(workspace, green_min=10)
    make.value(green, periods[-2].key, 12)
    red = make.kpi(workspace, green_min=10, red_min=5)
    make.value(red, periods[-2].key, 1)
    late = make.kpi(workspace, green_min=10)
    make.value(late, periods[0].key, 12)  # nothing for weeks: late
    start, end = quarter_bounds(local_today("UTC"))
    cycle = make.cycle(workspace, "This quarter", start, end, "active")
    scored = make.initiative(workspace, "Scored", cycle=cycle)
    make.key_result(scored, start=0, target=10, current=8)  # 0.8
    make.initiative(workspace, "By hand", cycle=cycle, percent_complete=Decimal(40))  # 0.4
    make.initiative(workspace, "Long-running", percent_complete=Decimal(0))  # not counted
    login(me)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get("/").get_data(as_text=True)).split())
    assert "✓ 2 Green ✕ 1 Red 1 late" in page
    assert "This quarter · average score 0.60" in page


def test_an_empty_portfolio_says_how_to_start(client, login, make):
    login(make.user())
    page = client.get("/").get_data(as_text=True)
    assert "You have no workspaces yet" in page
    assert 'href="/workspaces/new"' in page


# ----------------------------------------------------------------------- settings


def settings_form(ws: Workspace, **overrides: str) -> dict[str, str]:
    data = {
        "name": ws.name,
        "slug": ws.slug,
        "mode": ws.mode,
        "time_zone": ws.time_zone,
        "week_start": "monday",
        "fiscal_year_start_month": str(ws.fiscal_year_start_month),
        "currency": ws.currency,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_the_workspace_home_is_its_scorecard(client, login, make, role):
    workspace = make.workspace(make.user(), slug="acme")
    login(make.member(workspace, role) if role != "owner" else workspace.memberships[0].user)
    response = client.get("/w/acme/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/w/acme/scorecard"
    assert client.get("/w/acme/scorecard").status_code == 200


@pytest.mark.parametrize("role", ["viewer", "updater", "editor"])
def test_members_below_owner_see_the_settings_read_only(client, login, make, role):
    ws = make.workspace(make.user(), slug="acme", name="Acme", fiscal_year_start_month=7)
    login(make.member(ws, role))
    response = client.get("/w/acme/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Only owners change these settings." in page
    assert "<dt>Fiscal year starts in</dt><dd>July</dd>" in page
    assert "<form" not in page.split("<main", 1)[1]
    assert "Delete this workspace" not in page


@pytest.mark.parametrize("role", ["viewer", "updater", "editor"])
def test_members_below_owner_cannot_change_or_delete(client, login, make, role):
    ws = make.workspace(make.user(), slug="acme", name="Acme")
    login(make.member(ws, role))
    response = client.post("/w/acme/settings", data=settings_form(ws, name="Hijacked"))
    assert response.status_code == 403
    assert client.post("/w/acme/delete", data={"delete-confirm_slug": "acme"}).status_code == 403
    assert workspace("acme").name == "Acme"


def test_the_owner_edits_the_settings(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme", name="Acme")
    login(owner)
    page = client.get("/w/acme/settings").get_data(as_text=True)
    assert 'id="settings-form"' in page
    assert 'value="Acme"' in page
    response = client.post(
        "/w/acme/settings",
        data=settings_form(ws, name="Acme Group", currency="chf", fiscal_year_start_month="4"),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/settings"
    changed = workspace("acme")
    assert (changed.name, changed.currency, changed.fiscal_year_start_month) == (
        "Acme Group",
        "CHF",
        4,
    )
    assert "Settings saved." in client.get("/w/acme/settings").get_data(as_text=True)


def test_changing_the_address_moves_the_workspace(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme")
    login(owner)
    response = client.post("/w/acme/settings", data=settings_form(ws, slug="acme-group"))
    assert response.headers["Location"] == "/w/acme-group/settings"
    assert client.get("/w/acme-group/settings").status_code == 200
    assert client.get("/w/acme/settings").status_code == 404


def test_an_address_taken_by_another_workspace_is_refused(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme")
    make.workspace(make.user(), slug="other")
    login(owner)
    response = client.post("/w/acme/settings", data=settings_form(ws, slug="other"))
    assert response.status_code == 422
    assert "already taken" in error_beside(response.get_data(as_text=True), "slug")
    assert workspace("acme") is not None


def test_settings_errors_re_render_the_whole_page(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme", name="Acme")
    login(owner)
    response = client.post(
        "/w/acme/settings", data=settings_form(ws, name="", time_zone="Moon/Base")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "Give the workspace a name." in error_beside(page, "name")
    assert "not a time zone we know" in error_beside(page, "time_zone")
    assert workspace("acme").name == "Acme"


def test_settings_errors_come_back_as_the_form_alone_for_htmx(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme", name="Acme")
    login(owner)
    response = client.post(
        "/w/acme/settings", data=settings_form(ws, currency="NOPE"), headers=HTMX_SETTINGS
    )
    assert response.status_code == 422
    assert "HX-Request" in response.headers["Vary"]
    fragment = response.get_data(as_text=True).strip()
    assert fragment.startswith('<form id="settings-form"')
    assert fragment.endswith("</form>")
    assert "<html" not in fragment
    assert "not a currency code we know" in error_beside(fragment, "currency")


def test_saving_the_settings_with_htmx_navigates(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme")
    login(owner)
    response = client.post(
        "/w/acme/settings", data=settings_form(ws, name="Renamed"), headers=HTMX_SETTINGS
    )
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/w/acme/settings"
    assert workspace("acme").name == "Renamed"


# ------------------------------------------------------------------------- delete


def test_the_owner_sees_the_delete_form_asking_for_the_address(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="acme")
    login(owner)
    page = client.get("/w/acme/settings").get_data(as_text=True)
    assert '<form method="post" action="/w/acme/delete"' in page
    assert 'id="delete-confirm_slug"' in page
    assert "Type acme to confirm." in page


@pytest.mark.parametrize("typed", ["", "acm", "ACME ", "other"])
def test_deleting_needs_the_address_typed_exactly(client, login, make, typed):
    owner = make.user()
    make.workspace(owner, slug="acme")
    login(owner)
    response = client.post("/w/acme/delete", data={"delete-confirm_slug": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_beside(page, "delete-confirm_slug")
    assert workspace("acme") is not None


def test_the_owner_deletes_the_workspace(client, login, make):
    owner = make.user()
    ws = make.workspace(owner, slug="acme", name="Acme")
    make.member(ws, "editor")
    make.kpi(ws, "K1")
    login(owner)
    response = client.post("/w/acme/delete", data={"delete-confirm_slug": "acme"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert workspace("acme") is None
    assert db.session.scalar(select(db.func.count(Membership.id))) == 0
    assert "Acme and everything in it were deleted." in client.get("/").get_data(as_text=True)
    assert client.get("/w/acme/settings").status_code == 404


def test_deleting_is_post_only(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="acme")
    login(owner)
    assert client.get("/w/acme/delete").status_code == 405
    assert workspace("acme") is not None


def test_the_week_start_cannot_change_once_weekly_values_exist(make, db):
    owner = make.user()
    workspace = make.workspace(owner)
    kpi = make.kpi(workspace, cadence="weekly")
    make.value(kpi, "2026-11-30", 5)
    changed = workspace_ops.settings_of(workspace)
    changed.week_start = "sunday"
    with pytest.raises(Invalid, match="week start cannot change"):
        workspace_ops.update_settings(workspace, changed)
    db.session.rollback()
    assert workspace.week_start == 0
    # A monthly KPI's values do not depend on the week start; nor on the fiscal year.
    other = make.workspace(owner)
    make.value(make.kpi(other, cadence="monthly"), "2026-11", 5)
    changed = workspace_ops.settings_of(other)
    changed.week_start, changed.fiscal_year_start_month = "sunday", 4
    workspace_ops.update_settings(other, changed)
    assert (other.week_start, other.fiscal_year_start_month) == (6, 4)


def test_the_fiscal_year_start_cannot_change_once_quarterly_values_exist(make, db):
    owner = make.user()
    workspace = make.workspace(owner)
    make.value(make.kpi(workspace, cadence="quarterly"), "2026-Q4", 5)
    changed = workspace_ops.settings_of(workspace)
    changed.fiscal_year_start_month = 4
    with pytest.raises(Invalid, match="fiscal year start cannot change"):
        workspace_ops.update_settings(workspace, changed)


def test_deleting_a_workspace_deletes_everything_in_it(make, db):
    from hub.domain import sharing
    from hub.models import Goal, Kpi, KpiValue, ShareLink

    owner = make.user()
    workspace = make.workspace(owner)
    kpi = make.kpi(workspace, goal=make.goal(workspace))
    make.value(kpi, "2026-11-30", 5)
    sharing.create_share_link(workspace, owner)
    workspace_ops.delete_workspace(workspace)
    db.session.commit()
    for model in (Goal, Kpi, KpiValue, ShareLink, Membership):
        assert db.session.scalar(select(db.func.count()).select_from(model)) == 0, model

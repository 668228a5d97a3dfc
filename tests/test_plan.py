"""The Plan page: goals and KPIs created, edited, reordered, archived and restored."""

import re
from decimal import Decimal

import pytest

from hub.domain import plan
from hub.domain.errors import Invalid
from hub.domain.periods import Cadence, last_n_periods, local_today
from hub.domain.workspaces import memberships, remove_member
from hub.extensions import db
from hub.models import Goal, Kpi, KpiValue, Role

HTMX = {"HX-Request": "true"}


def weeks_back(n, time_zone="UTC"):
    """The key of the weekly period n weeks before the current one."""
    return last_n_periods(local_today(time_zone), Cadence.WEEKLY, n + 1)[0].key


@pytest.fixture
def acme(make):
    """A workspace with two goals, KPIs under them and none, and an initiative."""
    owner = make.user("owner@example.com", name="Olivia Owner")
    workspace = make.workspace(owner, name="Acme", slug="acme", currency="EUR")
    growth = make.goal(workspace, "Grow revenue", position=0, owner=owner)
    quality = make.goal(workspace, "Happy customers", position=1)
    make.kpi(
        workspace,
        name="Revenue",
        unit="currency",
        goal=growth,
        owner=owner,
        green_min=100000,
        red_min=90000,
    )
    make.kpi(
        workspace,
        name="Churn",
        unit="percent",
        decimals=1,
        direction="down",
        goal=quality,
        green_max=2,
        red_max=3,
    )
    make.kpi(workspace, name="Stock", direction="range", green_min=40, green_max=60)
    return workspace, owner


def goal_titled(title):
    return db.session.scalar(db.select(Goal).where(Goal.title == title))


def kpi_keyed(key):
    return db.session.scalar(db.select(Kpi).where(Kpi.key == key))


def kpi_data(**overrides):
    """A complete KPI form submission (every field a browser would send)."""
    data = {
        "name": "Signups",
        "description": "",
        "goal": "",
        "unit": "number",
        "decimals": "0",
        "cadence": "weekly",
        "aggregation": "last",
        "owner": "",
        "direction": "up",
        "up_target": "",
        "up_red_line": "",
        "down_target": "",
        "down_red_line": "",
        "range_low": "",
        "range_high": "",
        "range_red_low": "",
        "range_red_high": "",
    }
    data.update(overrides)
    return data


def bounds(kpi):
    db.session.refresh(kpi)
    return (kpi.green_min, kpi.green_max, kpi.red_min, kpi.red_max)


# --- the page ---------------------------------------------------------------------------


def test_the_plan_lists_goals_kpis_by_goal_initiatives_and_the_archive(client, login, make, acme):
    workspace, owner = acme
    cycle = make.cycle(workspace, "2026-Q4")
    make.initiative(workspace, "Self-serve onboarding", goal=goal_titled("Grow revenue"))
    make.initiative(workspace, "Quarterly push", cycle=cycle, owner=owner)
    login(owner)
    response = client.get("/w/acme/plan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Grow revenue" in html
    assert "Owner: Olivia Owner" in html
    assert "Happy customers" in html
    # KPIs under their goals, with direction words and target text.
    assert "K1</span> Revenue" in html
    assert "Higher is better" in html
    assert "Lower is better" in html
    assert "Within a range" in html
    assert "≥ €100,000 (red &lt; €90,000)" in html
    assert "≤ 2.0% (red &gt; 3.0%)" in html
    assert "40–60" in html
    assert "Not linked to a goal" in html
    # Initiatives: cycle or long-running.
    assert "Self-serve onboarding" in html
    assert "Long-running" in html
    assert "2026-Q4" in html
    assert "Nothing is archived" in html
    # Editors' controls.
    assert "Add a goal" in html
    assert "/w/acme/plan/kpis/K1/edit" in html
    assert "Move Revenue up" not in html  # KPIs are named with their key
    assert "Move K1 Revenue down" in html


def test_kpis_follow_the_goal_order_and_their_own(client, login, make, acme):
    workspace, owner = acme
    login(owner)
    html = client.get("/w/acme/plan").get_data(as_text=True)
    kpis = html[html.index('id="plan-kpis"') :]
    assert kpis.index("Grow revenue") < kpis.index("Happy customers") < kpis.index("Not linked")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.UPDATER])
def test_readers_see_the_plan_without_edit_controls(client, login, make, acme, role):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    plan.archive_goal(goal)
    db.session.commit()
    login(make.member(workspace, role))
    response = client.get("/w/acme/plan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Revenue" in html
    assert "Grow revenue" in html  # in the archive, without a Restore button
    for control in ("Add a goal", "/edit", "/move", "/archive", "/restore", "New KPI"):
        assert control not in html, control


def test_an_okr_workspace_has_no_kpi_section_and_says_objectives(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="bets", mode="okr")
    make.kpi(workspace, name="Hidden gauge")
    make.initiative(workspace, "Win the market")
    login(owner)
    html = client.get("/w/bets/plan").get_data(as_text=True)
    assert 'id="plan-kpis"' not in html
    assert "Hidden gauge" not in html
    assert "New KPI" not in html
    assert "Objectives" in html
    assert "Win the market" in html
    assert client.get("/w/bets/plan/kpis/new").status_code == 404
    assert client.get("/w/bets/plan/kpis/K1/edit").status_code == 404
    assert client.post("/w/bets/plan/kpis/K1/archive").status_code == 404


def test_a_kpi_workspace_without_initiatives_has_no_initiative_section(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="gauges", mode="kpi")
    login(owner)
    html = client.get("/w/gauges/plan").get_data(as_text=True)
    assert 'id="plan-initiatives"' not in html
    assert "No goals yet" in html
    assert "No KPIs yet" in html


def test_initiative_links_appear_only_when_those_pages_exist(client, login, make, acme):
    workspace, owner = acme
    make.initiative(workspace, "Launch")
    login(owner)
    html = client.get("/w/acme/plan").get_data(as_text=True)
    endpoints = set(client.application.view_functions)
    assert ("/w/acme/initiatives/new" in html) == ("okrs.initiative_new" in endpoints)
    assert ("/w/acme/initiatives/I1/edit" in html) == ("okrs.initiative_edit" in endpoints)


# --- roles --------------------------------------------------------------------------------

WRITES = [
    ("post", "/w/acme/plan/goals/new", {"new-goal-title": "Sneaky"}),
    ("get", "/w/acme/plan/goals/new", None),
    ("post", "/w/acme/plan/goals/{goal}/edit", {"goal-{goal}-title": "Sneaky"}),
    ("get", "/w/acme/plan/goals/{goal}/edit", None),
    ("post", "/w/acme/plan/goals/{goal}/archive", {}),
    ("post", "/w/acme/plan/goals/{goal}/restore", {}),
    ("post", "/w/acme/plan/goals/{goal}/move", {"direction": "down"}),
    ("post", "/w/acme/plan/kpis/new", kpi_data(name="Sneaky")),
    ("get", "/w/acme/plan/kpis/new", None),
    ("post", "/w/acme/plan/kpis/K1/edit", kpi_data(name="Sneaky")),
    ("get", "/w/acme/plan/kpis/K1/edit", None),
    ("post", "/w/acme/plan/kpis/K1/archive", {}),
    ("post", "/w/acme/plan/kpis/K1/restore", {}),
    ("post", "/w/acme/plan/kpis/K1/move", {"direction": "down"}),
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.UPDATER])
@pytest.mark.parametrize(("method", "url", "data"), WRITES)
def test_viewers_and_updaters_cannot_change_the_plan(
    client, login, make, acme, role, method, url, data
):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(make.member(workspace, role))
    url = url.format(goal=goal.id)
    data = {k.format(goal=goal.id): v for k, v in (data or {}).items()}
    response = getattr(client, method)(url, data=data, headers=HTMX)
    assert response.status_code == 403
    assert goal_titled("Sneaky") is None
    assert db.session.scalar(db.select(db.func.count(Kpi.id))) == 3
    assert goal.archived_at is None
    assert kpi_keyed("K1").name == "Revenue"


@pytest.mark.parametrize("role", [Role.EDITOR, Role.OWNER])
def test_editors_and_owners_change_the_plan(client, login, make, acme, role):
    workspace, owner = acme
    user = owner if role is Role.OWNER else make.member(workspace, role)
    login(user)
    response = client.post("/w/acme/plan/goals/new", data={"new-goal-title": "Expand"})
    assert response.status_code == 303
    assert goal_titled("Expand") is not None


def test_another_workspaces_goals_and_kpis_answer_404(client, login, make, acme):
    workspace, owner = acme
    other = make.workspace(make.user(), slug="other")
    foreign_goal = make.goal(other, "Theirs")
    make.kpi(other, "K9", name="Their KPI")
    login(owner)
    assert client.get(f"/w/acme/plan/goals/{foreign_goal.id}/edit").status_code == 404
    assert client.post(f"/w/acme/plan/goals/{foreign_goal.id}/archive").status_code == 404
    assert client.post(f"/w/acme/plan/goals/{foreign_goal.id}/move").status_code == 404
    assert client.get(f"/w/acme/plan/goals/{foreign_goal.id}", headers=HTMX).status_code == 404
    assert client.get("/w/acme/plan/kpis/K9/edit").status_code == 404
    assert client.post("/w/acme/plan/kpis/K9/archive").status_code == 404
    # Nor can a form point a KPI at another workspace's goal.
    response = client.post("/w/acme/plan/kpis/new", data=kpi_data(goal=str(foreign_goal.id)))
    assert response.status_code == 422
    assert "Choose one of the plan&#39;s goals" in response.get_data(as_text=True)
    assert foreign_goal.archived_at is None


# --- goals ----------------------------------------------------------------------------------


def test_a_goal_is_created_at_the_end_of_the_plan(client, login, acme):
    workspace, owner = acme
    login(owner)
    response = client.post(
        "/w/acme/plan/goals/new",
        data={
            "new-goal-title": "  Expand to Spain ",
            "new-goal-description": "New market",
            "new-goal-owner": str(owner.id),
        },
    )
    assert response.status_code == 303
    goal = goal_titled("Expand to Spain")
    assert response.headers["Location"].endswith(f"/w/acme/plan#goal-{goal.id}")
    assert (goal.description, goal.owner_id) == ("New market", owner.id)
    html = client.get("/w/acme/plan").get_data(as_text=True)
    assert "Goal &#39;Expand to Spain&#39; added." in html
    goals = html[html.index('id="plan-goals"') : html.index('id="plan-kpis"')]
    assert goals.index("Happy customers") < goals.index("Expand to Spain")


def test_creating_a_goal_with_htmx_returns_the_goal_list(client, login, acme):
    workspace, owner = acme
    login(owner)
    response = client.post(
        "/w/acme/plan/goals/new", data={"new-goal-title": "Expand"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="plan-goals"')
    assert "<html" not in html
    assert "Expand" in html
    assert "Added" in html
    assert 'name="new-goal-title" required type="text" value=""' in html  # a fresh form


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Give the goal a title."),
        ("   ", "Give the goal a title."),
        ("x" * 201, "Keep the title to 200 characters."),
        ("grow REVENUE", "there is already a goal called &#39;grow REVENUE&#39;"),
    ],
)
def test_a_bad_goal_title_is_refused_and_nothing_is_saved(client, login, acme, title, message):
    workspace, owner = acme
    login(owner)
    response = client.post("/w/acme/plan/goals/new", data={"new-goal-title": title})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html  # a whole page without htmx
    assert message in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(db.select(db.func.count(Goal.id))) == 2
    # With htmx: the goal list with the form and its message, and nothing saved.
    response = client.post("/w/acme/plan/goals/new", data={"new-goal-title": title}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="plan-goals"')
    assert message in html
    assert db.session.scalar(db.select(db.func.count(Goal.id))) == 2


def test_the_new_goal_page_works_without_javascript(client, login, acme):
    workspace, owner = acme
    login(owner)
    html = client.get("/w/acme/plan/goals/new").get_data(as_text=True)
    assert "<h1>New goal</h1>" in html
    assert 'name="new-goal-title"' in html
    assert "hx-post" not in html[html.index("<h1>") :]


def test_editing_a_goal_inline_swaps_the_row_for_its_form_and_back(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    response = client.get(f"/w/acme/plan/goals/{goal.id}/edit", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith(f'<li id="goal-{goal.id}"')
    assert "<html" not in html
    assert f'hx-post="/w/acme/plan/goals/{goal.id}/edit"' in html
    assert 'value="Grow revenue"' in html
    assert "autofocus" in html
    # Cancel puts the row back.
    response = client.get(f"/w/acme/plan/goals/{goal.id}", headers=HTMX)
    row = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert row.lstrip().startswith(f'<li id="goal-{goal.id}" class="plan-item">')
    assert "Grow revenue" in row
    assert '<form class="plan-goal-form"' not in row


def test_saving_a_goal_inline_returns_its_row_and_updates_the_kpi_headings(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    prefix = f"goal-{goal.id}"
    response = client.post(
        f"/w/acme/plan/goals/{goal.id}/edit",
        data={f"{prefix}-title": "Grow ARR", f"{prefix}-description": "", f"{prefix}-owner": ""},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="goal-{goal.id}" class="plan-item">')
    assert "Saved" in html
    assert "Owner: nobody yet" in html
    # The KPI groups carry the goal's title too: swapped out of band.
    oob = '<section id="plan-kpis" class="plan-section" aria-labelledby="kpis-heading" '
    assert oob + 'hx-swap-oob="true">' in html
    assert html.count("Grow ARR") >= 2
    db.session.refresh(goal)
    assert (goal.title, goal.owner_id) == ("Grow ARR", None)


def test_a_goal_edit_with_errors_comes_back_as_its_form(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    data = {f"goal-{goal.id}-title": "Happy Customers"}
    response = client.post(f"/w/acme/plan/goals/{goal.id}/edit", data=data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith(f'<li id="goal-{goal.id}"')
    assert "there is already a goal called &#39;Happy customers&#39;" in html
    db.session.refresh(goal)
    assert goal.title == "Grow revenue"


def test_editing_a_goal_without_javascript_is_a_page_and_a_redirect(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    html = client.get(f"/w/acme/plan/goals/{goal.id}/edit").get_data(as_text=True)
    assert "<h1>Edit goal</h1>" in html
    assert "hx-post" not in html[html.index("<h1>") :]
    response = client.post(
        f"/w/acme/plan/goals/{goal.id}/edit", data={f"goal-{goal.id}-title": "Grow ARR"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/acme/plan#goal-{goal.id}")
    assert "Goal &#39;Grow ARR&#39; saved." in client.get("/w/acme/plan").get_data(as_text=True)
    # The row URL without htmx leads to the plan at that goal.
    response = client.get(f"/w/acme/plan/goals/{goal.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/w/acme/plan#goal-{goal.id}")
    assert "HX-Request" in response.headers["Vary"]


def test_a_goal_is_archived_and_restored_with_its_kpis(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    response = client.post(f"/w/acme/plan/goals/{goal.id}/archive")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/plan#plan-archived")
    assert goal.archived_at is not None
    html = client.get("/w/acme/plan").get_data(as_text=True)
    goals = html[html.index('id="plan-goals"') : html.index('id="plan-kpis"')]
    assert "Grow revenue" not in goals
    archived = html[html.index('id="plan-archived"') :]
    assert "Grow revenue" in archived
    assert f"/w/acme/plan/goals/{goal.id}/restore" in archived
    # Its KPI stays live, under the archived goal's name.
    assert "Archived goal" in html
    assert kpi_keyed("K1").goal_id == goal.id
    scorecard = client.get("/w/acme/scorecard").get_data(as_text=True)
    assert "Grow revenue" not in scorecard
    response = client.post(f"/w/acme/plan/goals/{goal.id}/restore")
    assert response.status_code == 303
    assert goal.archived_at is None
    assert "Grow revenue" in client.get("/w/acme/scorecard").get_data(as_text=True)


def test_a_new_goal_cannot_take_an_archived_goals_title(client, login, acme):
    workspace, owner = acme
    plan.archive_goal(goal_titled("Grow revenue"))
    db.session.commit()
    login(owner)
    response = client.post("/w/acme/plan/goals/new", data={"new-goal-title": "Grow revenue"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "there is already an archived goal called &#39;Grow revenue&#39;: restore it, or "
        "rename it under Archived" in html
    )
    assert db.session.scalar(db.select(db.func.count(Goal.id))) == 2
    # Renaming the archived one (its form page is linked from Archived) frees the title.
    goal = goal_titled("Grow revenue")
    page = client.get("/w/acme/plan").get_data(as_text=True)
    assert f"/w/acme/plan/goals/{goal.id}/edit" in page[page.index('id="plan-archived"') :]
    response = client.post(
        f"/w/acme/plan/goals/{goal.id}/edit", data={f"goal-{goal.id}-title": "Grow revenue 2025"}
    )
    assert response.headers["Location"].endswith("/w/acme/plan#plan-archived")
    assert goal.archived_at is not None
    response = client.post("/w/acme/plan/goals/new", data={"new-goal-title": "Grow revenue"})
    assert response.status_code == 303


def test_goals_move_up_and_down(client, login, make, acme):
    workspace, owner = acme
    make.goal(workspace, "Third", position=2)
    login(owner)

    def order():
        return [
            g.title
            for g in db.session.scalars(
                db.select(Goal).where(Goal.archived_at.is_(None)).order_by(Goal.position, Goal.id)
            )
        ]

    third = goal_titled("Third")
    response = client.post(f"/w/acme/plan/goals/{third.id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert order() == ["Grow revenue", "Third", "Happy customers"]
    response = client.post(
        f"/w/acme/plan/goals/{third.id}/move", data={"direction": "up"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="plan-goals"')
    assert order() == ["Third", "Grow revenue", "Happy customers"]
    assert html.index("Third") < html.index("Grow revenue")
    # The KPI groups follow the goal order: they come along out of band.
    assert 'id="plan-kpis"' in html
    assert 'hx-swap-oob="true"' in html
    # The first cannot go further up: its button is disabled, and a forced move is a no-op.
    assert f'id="goal-{third.id}-up" class="button button-secondary button-small" disabled' in html
    client.post(f"/w/acme/plan/goals/{third.id}/move", data={"direction": "up"})
    assert order() == ["Third", "Grow revenue", "Happy customers"]


def test_a_bad_move_is_refused_with_a_message(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Grow revenue")
    login(owner)
    response = client.post(f"/w/acme/plan/goals/{goal.id}/move", data={"direction": "sideways"})
    assert response.status_code == 303
    html = client.get("/w/acme/plan").get_data(as_text=True)
    assert "Choose whether to move it up or down." in html
    response = client.post(
        f"/w/acme/plan/goals/{goal.id}/move", data={"direction": "sideways"}, headers=HTMX
    )
    assert response.status_code == 422


def test_moving_ignores_archived_goals_and_renumbers_ties(make, acme):
    workspace, owner = acme
    tied = [make.goal(workspace, f"Tied {n}", position=5) for n in range(3)]
    plan.archive_goal(tied[1])
    assert plan.move_goal(tied[2], -1)
    live = plan.plan_overview(workspace).goals
    assert [g.title for g in live] == ["Grow revenue", "Happy customers", "Tied 2", "Tied 0"]
    assert not plan.move_goal(tied[1], -1)  # archived: nowhere to move
    positions = [g.position for g in db.session.scalars(db.select(Goal).order_by(Goal.position))]
    assert positions == sorted(set(positions))


# --- KPIs -----------------------------------------------------------------------------------


def test_the_new_kpi_page_speaks_the_users_language(client, login, acme):
    workspace, owner = acme
    goal = goal_titled("Happy customers")
    login(owner)
    html = client.get(f"/w/acme/plan/kpis/new?goal={goal.id}").get_data(as_text=True)
    assert "<h1>New KPI</h1>" in html
    for words in (
        "Higher is better",
        "Lower is better",
        "Within a range",
        "Red below",
        "Red above",
        "Empty: 10 % under the target.",
        "Sum — a month adds up its weeks",
        "Olivia Owner",
    ):
        assert words in html, words
    assert f'<option selected value="{goal.id}">Happy customers</option>' in html
    # Without the script every direction's fields show, each under its legend.
    assert html.count('class="thresholds"') == 3
    assert "data-direction=" not in html[html.index('<form id="kpi-form"') :].split(">")[0]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"direction": "up", "up_target": "100"}, (100, None, 90, None)),
        ({"direction": "up", "up_target": "100", "up_red_line": "80"}, (100, None, 80, None)),
        ({"direction": "up", "up_target": "-10"}, (-10, None, -11, None)),
        ({"direction": "down", "down_target": "2"}, (None, 2, None, Decimal("2.2"))),
        ({"direction": "down", "down_target": "-10"}, (None, -10, None, -9)),
        ({"direction": "down", "down_target": "2", "down_red_line": "3"}, (None, 2, None, 3)),
        (
            {
                "direction": "range",
                "range_low": "40",
                "range_high": "60",
                "range_red_low": "30",
                "range_red_high": "70",
            },
            (40, 60, 30, 70),
        ),
        ({"direction": "range", "range_high": "60"}, (None, 60, None, None)),
        ({"direction": "up"}, (None, None, None, None)),
        (
            {"direction": "up", "up_target": "1,200,000.5"},
            (Decimal("1200000.5"), None, Decimal("1080000.45"), None),
        ),
    ],
)
def test_a_kpi_is_created_with_bounds_from_the_users_words(client, login, acme, fields, expected):
    workspace, owner = acme
    login(owner)
    response = client.post("/w/acme/plan/kpis/new", data=kpi_data(**fields))
    assert response.status_code == 303
    kpi = kpi_keyed("K4")
    assert response.headers["Location"].endswith("/w/acme/plan#kpi-K4")
    assert bounds(kpi) == tuple(None if v is None else Decimal(v) for v in expected)
    assert kpi.direction == fields["direction"]


def test_a_kpi_gets_every_field_the_form_sets(client, login, make, acme):
    workspace, owner = acme
    editor = make.member(workspace, Role.EDITOR)
    goal = goal_titled("Happy customers")
    login(editor)
    client.post(
        "/w/acme/plan/kpis/new",
        data=kpi_data(
            name=" NPS ",
            description="Survey",
            goal=str(goal.id),
            unit="percent",
            decimals="1",
            cadence="monthly",
            aggregation="average",
            owner=str(owner.id),
            up_target="40",
        ),
    )
    kpi = kpi_keyed("K4")
    assert (kpi.name, kpi.description, kpi.goal_id, kpi.owner_id) == (
        "NPS",
        "Survey",
        goal.id,
        owner.id,
    )
    assert (kpi.unit, kpi.decimals, kpi.cadence, kpi.aggregation) == (
        "percent",
        1,
        "monthly",
        "average",
    )
    html = client.get("/w/acme/plan").get_data(as_text=True)
    assert "KPI K4 · NPS created." in html
    assert "Monthly" in html
    assert "averaged" in html


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"direction": "up", "up_target": "80", "up_red_line": "90"},
            "up_red_line",
            "The red line (90) must be at or below the target (80) for higher is better.",
        ),
        (
            {"direction": "down", "down_target": "5", "down_red_line": "3"},
            "down_red_line",
            "The target (5) must be at or below the red line (3) for lower is better.",
        ),
        (
            {"direction": "range", "range_low": "60", "range_high": "40"},
            "range_high",
            "The low end of the green range (60) must be at or below the high end of the "
            "green range (40).",
        ),
        (
            {"direction": "range", "range_low": "40", "range_red_low": "50"},
            "range_red_low",
            "The lower red line (50) must be at or below the low end of the green range (40)",
        ),
        ({"direction": "up", "up_target": "NaN"}, "up_target", "Target must be a number"),
        ({"direction": "up", "up_target": "inf"}, "up_target", "Target must be a number"),
        ({"direction": "up", "up_target": "1e5"}, "up_target", "Target must be a number"),
        ({"direction": "up", "up_target": "1,00"}, "up_target", "use a point for decimals"),
        ({"direction": "up", "up_target": "1" * 25}, "up_target", "Target is too large"),
        (
            {"direction": "up", "up_red_line": "90"},
            "up_red_line",
            "A red line needs a target",
        ),
        (
            {"direction": "up", "down_target": "3"},
            "direction",
            "You filled in the numbers for &#39;Lower is better&#39; but chose &#39;Higher is "
            "better&#39;",
        ),
        ({"name": ""}, "name", "Give the KPI a name."),
        ({"unit": "furlongs"}, "unit", "Choose number, percent, money or duration."),
        ({"decimals": "7"}, "decimals", "Choose from 0 to 6 decimal places."),
        ({"decimals": "1.5"}, "decimals", "Choose from 0 to 6 decimal places."),
        ({"cadence": "daily"}, "cadence", "Choose weekly, monthly or quarterly."),
        ({"aggregation": "max"}, "aggregation", "Choose last value, sum or average."),
        ({"direction": "sideways"}, "direction", "Choose higher is better, lower is better"),
        ({"owner": "999999"}, "owner", "Choose one of the workspace&#39;s members"),
    ],
)
def test_a_bad_kpi_is_refused_beside_its_field_and_nothing_is_saved(
    client, login, acme, fields, field, message
):
    workspace, owner = acme
    login(owner)
    response = client.post("/w/acme/plan/kpis/new", data=kpi_data(**fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html
    assert message in html
    assert f'id="{field}-error"' in html
    assert db.session.scalar(db.select(db.func.count(Kpi.id))) == 3
    db.session.refresh(workspace)
    assert workspace.next_kpi_number == 4
    # With htmx only the form comes back, to be swapped in place.
    response = client.post("/w/acme/plan/kpis/new", data=kpi_data(**fields), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<form id="kpi-form"')
    assert message in html
    assert db.session.scalar(db.select(db.func.count(Kpi.id))) == 3


def test_numbers_of_a_direction_not_chosen_are_ignored(client, login, acme):
    workspace, owner = acme
    login(owner)
    response = client.post(
        "/w/acme/plan/kpis/new",
        data=kpi_data(direction="down", down_target="5", up_target="garbage", range_low="x"),
    )
    assert response.status_code == 303
    assert bounds(kpi_keyed("K4")) == (None, Decimal(5), None, Decimal("5.5"))


def test_a_created_kpi_with_htmx_navigates_to_the_plan(client, login, acme):
    workspace, owner = acme
    login(owner)
    response = client.post("/w/acme/plan/kpis/new", data=kpi_data(), headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/w/acme/plan#kpi-K4"


def test_keys_are_assigned_in_order_and_never_reused_after_archiving(client, login, acme):
    workspace, owner = acme
    login(owner)
    client.post("/w/acme/plan/kpis/new", data=kpi_data(name="Fourth"))
    assert kpi_keyed("K4").name == "Fourth"
    client.post("/w/acme/plan/kpis/K4/archive")
    assert kpi_keyed("K4").archived_at is not None
    client.post("/w/acme/plan/kpis/new", data=kpi_data(name="Fifth"))
    assert kpi_keyed("K5").name == "Fifth"
    assert kpi_keyed("K4").name == "Fourth"


def test_the_edit_form_shows_the_kpis_thresholds_in_its_directions_words(client, login, acme):
    workspace, owner = acme
    login(owner)
    html = client.get("/w/acme/plan/kpis/K2/edit").get_data(as_text=True)
    assert 'Edit <span class="plan-key">K2</span> Churn' in html
    assert 'id="direction-1" name="direction" type="radio" value="down"' in html
    assert 'checked id="direction-1"' in html
    assert re.search(r'name="down_target"[^>]* value="2"', html)
    assert re.search(r'name="down_red_line"[^>]* value="3"', html)
    assert re.search(r'name="up_target"[^>]* value=""', html)


def test_editing_a_kpi_changes_it_but_never_its_key(client, login, acme):
    workspace, owner = acme
    login(owner)
    response = client.post(
        "/w/acme/plan/kpis/K1/edit",
        data=kpi_data(name="Net revenue", unit="currency", up_target="120000", key="K99"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/plan#kpi-K1")
    kpi = kpi_keyed("K1")
    assert kpi.name == "Net revenue"
    assert bounds(kpi) == (Decimal(120000), None, Decimal(108000), None)
    assert kpi_keyed("K99") is None
    assert "KPI K1 · Net revenue saved." in client.get("/w/acme/plan").get_data(as_text=True)


def test_an_edited_target_shows_on_the_scorecard_at_once(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="live")
    kpi = make.kpi(workspace, name="Output", green_min=100, red_min=90)
    make.value(kpi, weeks_back(1), 95)
    login(owner)
    html = client.get("/w/live/scorecard").get_data(as_text=True)
    assert "Amber: 95 is under the 100 target but above the red line 90" in html
    response = client.post(
        "/w/live/plan/kpis/K1/edit", data=kpi_data(name="Output", up_target="90")
    )
    assert response.status_code == 303
    html = client.get("/w/live/scorecard").get_data(as_text=True)
    assert "Green: 95 meets the 90 target" in html
    assert "≥ 90 (red &lt; 81)" in html


def test_a_bad_kpi_edit_changes_nothing(client, login, acme):
    workspace, owner = acme
    login(owner)
    before = bounds(kpi_keyed("K1"))
    response = client.post(
        "/w/acme/plan/kpis/K1/edit",
        data=kpi_data(name="Changed", up_target="80", up_red_line="90"),
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="kpi-form"')
    assert "The red line (90) must be at or below the target (80)" in html
    kpi = kpi_keyed("K1")
    assert kpi.name == "Revenue"
    assert bounds(kpi) == before


def test_the_cadence_of_a_kpi_with_values_cannot_change(client, login, make, acme):
    workspace, owner = acme
    kpi = kpi_keyed("K1")
    make.value(kpi, weeks_back(1), 95000)
    login(owner)
    html = client.get("/w/acme/plan/kpis/K1/edit").get_data(as_text=True)
    assert "K1 has 1 value, so its cadence stays weekly" in html
    response = client.post(
        "/w/acme/plan/kpis/K1/edit",
        data=kpi_data(name="Revenue", cadence="monthly", up_target="100000"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "K1 already has 1 weekly value, and they would not fit monthly periods" in html
    assert 'id="cadence-error"' in html
    assert kpi_keyed("K1").cadence == "weekly"
    # Without values it may change.
    response = client.post(
        "/w/acme/plan/kpis/K2/edit", data=kpi_data(name="Churn", cadence="monthly")
    )
    assert response.status_code == 303
    assert kpi_keyed("K2").cadence == "monthly"


def test_a_kpi_is_archived_and_restored_with_its_values(client, login, make, acme):
    workspace, owner = acme
    kpi = kpi_keyed("K1")
    make.value(kpi, weeks_back(1), 95000)
    login(owner)
    response = client.post("/w/acme/plan/kpis/K1/archive")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/plan#plan-archived")
    html = client.get("/w/acme/plan").get_data(as_text=True)
    assert "KPI K1 · Revenue archived. Its values are kept" in html
    assert 'id="kpi-K1"' not in html
    assert 'id="archived-kpi-K1"' in html
    assert "Revenue" not in client.get("/w/acme/scorecard").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(KpiValue.id))) == 1
    response = client.post("/w/acme/plan/kpis/K1/restore")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/plan#kpi-K1")
    assert kpi_keyed("K1").archived_at is None
    assert "€95,000" in client.get("/w/acme/scorecard").get_data(as_text=True)


def test_kpis_move_within_their_goal(client, login, make, acme):
    workspace, owner = acme
    growth = goal_titled("Grow revenue")
    make.kpi(workspace, name="Bookings", goal=growth)  # K4, after K1 under the same goal
    login(owner)
    response = client.post("/w/acme/plan/kpis/K4/move", data={"direction": "up"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="plan-kpis"')
    assert "<html" not in html
    assert html.index("Bookings") < html.index("K1</span> Revenue")
    assert 'id="kpi-K4-up" class="button button-secondary button-small" disabled' in html
    # Churn is alone under its goal: it cannot move, whatever the button says.
    response = client.post("/w/acme/plan/kpis/K2/move", data={"direction": "up"})
    assert response.status_code == 303
    ordered = db.session.scalars(
        db.select(Kpi.key).where(Kpi.goal_id == growth.id).order_by(Kpi.position, Kpi.id)
    ).all()
    assert ordered == ["K4", "K1"]
    # The scorecard shows them in the same order.
    scorecard = client.get("/w/acme/scorecard").get_data(as_text=True)
    assert scorecard.index("Bookings") < scorecard.index("Revenue")


# --- domain operations --------------------------------------------------------------------


def test_update_goal_refuses_a_new_owner_who_is_not_a_member(make, acme):
    workspace, owner = acme
    stranger = make.user()
    goal = goal_titled("Grow revenue")
    with pytest.raises(Invalid, match="owner: .* is not a member"):
        plan.update_goal(goal, plan.GoalFields(title="Grow revenue", owner=stranger))
    assert goal.owner_id == owner.id


def test_update_kpi_refuses_archived_goals_and_key_changes(make, acme):
    workspace, owner = acme
    quality = goal_titled("Happy customers")
    plan.archive_goal(quality)
    kpi = kpi_keyed("K1")
    fields = plan.KpiFields(name="Revenue", key="K7", goal=quality)
    with pytest.raises(Invalid) as refused:
        plan.update_kpi(kpi, fields)
    assert "key: a KPI's key never changes (K1)" in refused.value.problems
    assert "goal: 'Happy customers' is archived; restore it first" in refused.value.problems
    assert kpi.goal_id == goal_titled("Grow revenue").id


def test_a_kpi_may_keep_its_archived_goal_and_departed_owner(make, acme, db):
    workspace, owner = acme
    leaver = make.member(workspace, Role.EDITOR)
    quality = goal_titled("Happy customers")
    kpi = kpi_keyed("K2")
    kpi.owner = leaver
    plan.archive_goal(quality)
    remove_member(workspace, next(m for m in memberships(workspace) if m.user_id == leaver.id))
    db.session.commit()
    fields = plan.KpiFields(name="Churn renamed", goal=quality, owner=leaver, direction="down")
    plan.update_kpi(kpi, fields)
    assert (kpi.name, kpi.goal_id, kpi.owner_id) == ("Churn renamed", quality.id, leaver.id)


def test_archive_and_restore_twice_are_harmless(acme):
    workspace, owner = acme
    kpi = kpi_keyed("K1")
    assert plan.archive_kpi(kpi) is True
    assert plan.archive_kpi(kpi) is False
    assert plan.restore_kpi(kpi) is True
    assert plan.restore_kpi(kpi) is False

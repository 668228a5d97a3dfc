"""The scorecard page, its filters and its read-only share links."""

import re
from datetime import timedelta

import pytest

from hub.domain import sharing
from hub.domain.periods import Cadence, last_n_periods, local_today
from hub.extensions import db
from hub.models import Goal, Role, ShareLink
from hub.models.base import utcnow


def weeks_back(n, time_zone="UTC"):
    """The key of the weekly period n weeks before the current one."""
    return last_n_periods(local_today(time_zone), Cadence.WEEKLY, n + 1)[0].key


@pytest.fixture
def board(make):
    """A workspace with two goals, KPIs in every colour, one late, and an initiative."""
    owner = make.user("owner@example.com", name="Olivia Owner")
    workspace = make.workspace(owner, name="Northwind", slug="northwind", currency="EUR")
    growth = make.goal(workspace, "Grow revenue", position=0)
    quality = make.goal(workspace, "Happy customers", position=1)
    revenue = make.kpi(
        workspace,
        name="Revenue",
        unit="currency",
        goal=growth,
        owner=owner,
        green_min=100000,
        red_min=90000,
    )
    make.value(revenue, weeks_back(1), 91000)
    churn = make.kpi(
        workspace,
        name="Churn",
        unit="percent",
        decimals=1,
        direction="down",
        goal=quality,
        green_max=2,
        red_max=3,
    )
    make.value(churn, weeks_back(1), "3.5")
    nps = make.kpi(workspace, name="NPS", goal=quality, green_min=40, red_min=20)
    make.value(nps, weeks_back(6), 45)  # weeks without a value since: late
    make.initiative(workspace, "Self-serve onboarding", goal=growth, owner=owner)
    return workspace, owner


def test_the_scorecard_shows_status_why_target_and_late(client, login, board):
    workspace, owner = board
    login(owner)
    html = client.get("/w/northwind/scorecard").get_data(as_text=True)
    assert "Grow revenue" in html
    assert "Happy customers" in html
    assert "€91,000" in html
    assert "Amber: €91,000 is under the €100,000 target but above the red line €90,000" in html
    assert "≥ €100,000 (red &lt; €90,000)" in html
    assert "Red: 3.5% is above the red line 3.0%" in html
    assert "Late · last Green" in html
    assert "Self-serve onboarding" in html
    assert 'class="sparkline"' in html


def test_filtering_by_goal_returns_only_the_fragment_for_htmx(client, login, board):
    workspace, owner = board
    login(owner)
    quality = db.session.scalar(db.select(Goal).where(Goal.title == "Happy customers"))
    response = client.get(
        f"/w/northwind/scorecard?goal={quality.id}", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="scorecard-body"')
    assert "<html" not in html
    assert "Churn" in html
    assert "Revenue" not in html


def test_filtering_by_owner_without_javascript_is_a_plain_page(client, login, board):
    workspace, owner = board
    login(owner)
    html = client.get(f"/w/northwind/scorecard?owner={owner.id}").get_data(as_text=True)
    assert "<html" in html
    assert "Revenue" in html
    assert "Churn" not in html  # owned by nobody


@pytest.mark.parametrize("query", ["goal=abc", "owner=-1", "goal=99999999999999999999", "goal="])
def test_nonsense_filters_show_everything_or_nothing_but_never_fail(client, login, board, query):
    workspace, owner = board
    login(owner)
    assert client.get(f"/w/northwind/scorecard?{query}").status_code == 200


def test_a_filter_matching_nothing_says_so(client, login, board):
    workspace, owner = board
    login(owner)
    html = client.get("/w/northwind/scorecard?owner=424242").get_data(as_text=True)
    assert "Nothing matches these filters" in html


def test_an_empty_workspace_says_what_to_do(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="empty")
    login(owner)
    assert "Nothing to show yet" in client.get("/w/empty/scorecard").get_data(as_text=True)


def share(client, slug="northwind", **data):
    client.post(f"/w/{slug}/scorecard/share-links", data={"label": "Board", "days": 30, **data})
    html = client.get(f"/w/{slug}/scorecard").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/s/[^"]+)"', html)
    return match.group(1) if match else None


def test_a_share_link_opens_the_scorecard_without_an_account(app, client, login, board):
    workspace, owner = board
    login(owner)
    path = share(client)
    assert path
    # Shown once: the next visit no longer has it.
    assert "/s/" not in client.get("/w/northwind/scorecard").get_data(as_text=True)
    stranger = app.test_client()
    response = stranger.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Revenue" in html
    assert "Olivia Owner" in html  # owners' display names only
    assert "owner@example.com" not in html
    assert "Share a read-only link" not in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_revoked_share_link_answers_404(app, client, login, board):
    workspace, owner = board
    login(owner)
    path = share(client)
    link = db.session.scalar(db.select(ShareLink))
    response = client.post(f"/w/northwind/scorecard/share-links/{link.id}/revoke")
    assert response.status_code == 303
    assert app.test_client().get(path).status_code == 404


def test_an_expired_share_link_answers_404(app, board):
    workspace, owner = board
    link, token = sharing.create_share_link(workspace, owner, days=1)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(f"/s/{token}").status_code == 404


@pytest.mark.parametrize("token", ["nope", "shr_" + "x" * 43, "x" * 5000])
def test_unknown_share_tokens_answer_404(app, token):
    assert app.test_client().get(f"/s/{token}").status_code == 404


def test_only_owners_create_or_revoke_share_links(client, login, make, board):
    workspace, owner = board
    editor = make.member(workspace, Role.EDITOR)
    link, _ = sharing.create_share_link(workspace, owner)
    db.session.commit()
    login(editor)
    assert "Share a read-only link" not in client.get("/w/northwind/scorecard").get_data(
        as_text=True
    )
    assert client.post("/w/northwind/scorecard/share-links", data={"days": 7}).status_code == 403
    assert client.post(f"/w/northwind/scorecard/share-links/{link.id}/revoke").status_code == 403
    assert link.revoked_at is None


def test_another_workspaces_link_cannot_be_revoked(client, login, make, board):
    workspace, owner = board
    other = make.workspace(make.user())
    link, token = sharing.create_share_link(other, None)
    db.session.commit()
    login(owner)
    response = client.post(f"/w/northwind/scorecard/share-links/{link.id}/revoke")
    assert response.status_code == 404
    db.session.refresh(link)
    assert link.revoked_at is None


def test_a_bad_share_lifetime_is_refused_with_a_message(client, login, board):
    workspace, owner = board
    login(owner)
    client.post("/w/northwind/scorecard/share-links", data={"days": 5000})
    html = client.get("/w/northwind/scorecard").get_data(as_text=True)
    assert "Not a valid choice" in html
    assert db.session.scalar(db.select(db.func.count(ShareLink.id))) == 0


def test_share_link_operations_validate_input(board):
    workspace, owner = board
    with pytest.raises(Exception, match="1 to 365 days"):
        sharing.create_share_link(workspace, owner, days=400)
    with pytest.raises(Exception, match="at most 120"):
        sharing.create_share_link(workspace, owner, label="x" * 121)


def test_kpi_names_link_to_their_detail_page_except_on_a_share_link(app, client, login, board):
    workspace, owner = board
    login(owner)
    assert 'href="/w/northwind/kpis/K1"' in client.get("/w/northwind/scorecard").get_data(
        as_text=True
    )
    link, token = sharing.create_share_link(workspace, owner)
    db.session.commit()
    assert "/kpis/K1" not in app.test_client().get(f"/s/{token}").get_data(as_text=True)

"""The bets-vs-gauges page: movement since the cycle start and the three flags."""

from datetime import date, timedelta

from hub.domain.periods import Cadence, last_n_periods, period_for, quarter_bounds
from hub.extensions import db
from hub.models import Cycle, Mode


def test_the_matrix_shows_movement_and_flags(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme")
    today = date.today()
    start, end = quarter_bounds(today)
    make.cycle(workspace, "This quarter", start, end, "active")
    cycle = workspace_cycle(workspace)
    signups = make.kpi(workspace, name="Signups", green_min=100, red_min=50)
    before = period_for(start - timedelta(days=7), Cadence.WEEKLY).key
    make.value(signups, before, 80)
    latest = last_n_periods(today, Cadence.WEEKLY, 2)[0].key
    make.value(signups, latest, 80)  # on track bet, flat gauge
    churn = make.kpi(workspace, name="Churn", direction="down", green_max=2, red_max=3)
    make.value(churn, latest, 5)  # red, and nobody bets on it
    bet = make.initiative(workspace, "Launch referrals", cycle=cycle, gauges=[signups])
    make.key_result(bet, start=0, target=10, current=10)
    make.initiative(workspace, "Rewrite the docs", cycle=cycle)  # no gauge
    login(owner)
    html = client.get("/w/acme/bets").get_data(as_text=True)
    assert "Launch referrals" in html
    assert "80 → 80" in html
    assert "Flat" in html
    assert "but K1 Signups is not moving" in html
    assert "Rewrite the docs” names no KPI" in html
    assert "K2 Churn is red and no bet targets it" in html


def workspace_cycle(workspace):
    return db.session.scalar(db.select(Cycle).where(Cycle.workspace_id == workspace.id))


def test_without_an_active_cycle_the_page_says_what_to_do(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="acme")
    login(owner)
    assert "No active OKR cycle" in client.get("/w/acme/bets").get_data(as_text=True)


def test_the_page_is_hidden_unless_the_workspace_uses_both_kpis_and_okrs(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="kpionly", mode=Mode.KPI.value)
    make.workspace(owner, slug="okronly", mode=Mode.OKR.value)
    login(owner)
    assert client.get("/w/kpionly/bets").status_code == 404
    assert client.get("/w/okronly/bets").status_code == 404

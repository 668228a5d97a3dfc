"""The KPI detail page: status and why, chart and range picker, roll-ups, values,
history with revert, and the form that sets or clears any period's value."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain import values
from hub.domain.input_numbers import parse_number
from hub.domain.periods import Cadence, last_n_periods, local_today, period_for
from hub.extensions import db
from hub.models import KpiValue, Role, ValueChange
from hub.models.base import utcnow
from hub.routes.kpi_forms import input_text


def week(n: int) -> str:
    """The key of the weekly period n weeks before the current one (UTC, Monday starts)."""
    return last_n_periods(local_today("UTC"), Cadence.WEEKLY, n + 1)[0].key


def month(n: int) -> str:
    return last_n_periods(local_today("UTC"), Cadence.MONTHLY, n + 1)[0].key


@pytest.fixture
def acme(make):
    """A EUR workspace with a weekly revenue KPI owned by Olivia, and one value."""
    owner = make.user("owner@example.com", name="Olivia Owner")
    workspace = make.workspace(owner, name="Acme", slug="acme", currency="EUR")
    goal = make.goal(workspace, "Grow revenue")
    revenue = make.kpi(
        workspace,
        "K1",
        name="Revenue",
        unit="currency",
        goal=goal,
        owner=owner,
        green_min=100000,
        red_min=90000,
    )
    make.value(revenue, week(1), 91000, user=owner)
    return workspace, owner, revenue


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def stored(kpi, period_key):
    db.session.expire_all()
    return values.current_value(kpi, period_key)


# ------------------------------------------------------------------ what it shows


def test_the_page_shows_the_kpi_its_status_and_why(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    response = client.get("/w/acme/kpis/K1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Revenue" in html
    assert "KPI K1 · Grow revenue" in html
    assert "Olivia Owner" in html
    assert "Higher is better" in html
    assert "≥ €100,000 (red &lt; €90,000)" in html
    assert "€91,000" in html
    assert "Amber" in html
    assert "Amber: €91,000 is under the €100,000 target but above the red line €90,000" in html
    assert "kpis.css" in html


def test_a_late_kpi_says_late_and_its_last_colour(client, login, make, acme):
    workspace, owner, revenue = acme
    nps = make.kpi(workspace, "K2", name="NPS", green_min=40, red_min=20)
    make.value(nps, week(6), 45)
    login(owner)
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    assert "Late · last Green" in html
    assert "Green: 45 meets the 40 target" in html


def test_a_kpi_without_values_says_so(client, login, make, acme):
    workspace, owner, revenue = acme
    make.kpi(workspace, "K2", name="NPS")
    login(owner)
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    assert "No data" in html
    assert "No values yet." in html
    assert "No changes yet." in html
    assert "Nobody yet" in html  # no owner
    assert "No target" in html


def test_an_archived_kpi_is_still_viewable_but_read_only(client, login, make, acme):
    workspace, owner, revenue = acme
    revenue.archived_at = utcnow()
    db.session.commit()
    login(owner)
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert "Archived" in html
    assert "This KPI is archived" in html
    assert "Set or clear a value" not in html
    assert ">Revert<" not in html
    response = client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": "1"})
    assert response.status_code == 422
    assert "archived, so its values are read-only" in response.get_data(as_text=True)
    change = db.session.scalar(db.select(ValueChange))
    response = client.post(f"/w/acme/kpis/K1/history/{change.id}/revert")
    assert response.status_code == 303
    assert stored(revenue, week(1)).value == Decimal(91000)


@pytest.mark.parametrize("path", ["/w/acme/kpis/K404", "/w/acme/kpis/k1", "/w/acme/kpis/K2"])
def test_unknown_or_foreign_kpi_keys_answer_404(client, login, make, acme, path):
    workspace, owner, revenue = acme
    other = make.workspace(make.user(), slug="other")
    make.kpi(other, "K2", name="Someone else's secret")
    login(owner)
    response = client.get(path)
    assert response.status_code == 404
    assert b"secret" not in response.data


def test_a_workspace_without_kpis_has_no_kpi_pages(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="okr-only", mode="okr")
    make.kpi(workspace, "K1")
    login(owner)
    assert client.get("/w/okr-only/kpis/K1").status_code == 404


# ------------------------------------------------------------------ the chart


def test_the_chart_draws_values_over_their_zones(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert 'class="kpi-chart"' in html
    assert 'class="zone zone-green"' in html
    assert 'class="zone zone-red"' in html
    assert f"{week(1)}: €91,000" in html  # the chart's text alternative
    assert "13 weeks" in html
    assert re.search(r'range=13"[^>]*aria-current="true"', html)


@pytest.mark.parametrize(("chosen", "shown"), [("26", 26), ("52", 52), ("bogus", 13), ("", 13)])
def test_the_range_picker_chooses_how_many_periods(client, login, acme, chosen, shown):
    workspace, owner, revenue = acme
    login(owner)
    html = client.get(f"/w/acme/kpis/K1?range={chosen}").get_data(as_text=True)
    assert f"{shown} weeks, {week(shown - 1)} to {week(0)}" in html


def test_all_starts_at_the_first_value(client, login, make, acme):
    workspace, owner, revenue = acme
    make.value(revenue, week(80), 50000)
    login(owner)
    html = client.get("/w/acme/kpis/K1?range=all").get_data(as_text=True)
    assert f"81 weeks, {week(80)} to {week(0)}" in html


def test_all_is_capped_however_far_apart_the_values_are(client, login, make, acme):
    workspace, owner, revenue = acme
    far = period_for(date(9999, 6, 1), Cadence.WEEKLY)
    make.value(revenue, far.key, 1)
    make.value(revenue, "1950-01-02", 2)
    login(owner)
    html = client.get("/w/acme/kpis/K1?range=all").get_data(as_text=True)
    assert "520 weeks, " in html
    assert f"to {far.key}" in html


def test_the_range_picker_swaps_only_the_chart_with_htmx(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    response = client.get(
        "/w/acme/kpis/K1?range=26", headers={"HX-Request": "true", "HX-Target": "kpi-chart"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="kpi-chart"')
    assert "<html" not in html
    assert "Set or clear a value" not in html
    assert "26 weeks" in html
    assert 'hx-target="#kpi-chart"' in html


def test_a_plain_request_for_a_range_is_a_whole_page(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    response = client.get("/w/acme/kpis/K1?range=52")
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


# ------------------------------------------------------------------ roll-ups


def test_a_weekly_kpi_rolls_up_by_month_and_quarter(client, login, make, acme):
    workspace, owner, revenue = acme
    visits = make.kpi(workspace, "K2", name="Visits", aggregation="sum", green_min=100, red_min=50)
    # The four weeks of October 2026 (a week counts in the month of its fourth day).
    for key, number in [("2026-10-05", 10), ("2026-10-12", 20), ("2026-10-19", 30)]:
        make.value(visits, key, number)
    make.value(visits, "2026-10-26", 40)
    login(owner)
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    assert "Roll-ups" in html
    assert '<caption id="rollup-monthly">Monthly</caption>' in html
    assert '<caption id="rollup-quarterly">Quarterly</caption>' in html
    monthly = html[html.index("rollup-monthly") : html.index("rollup-quarterly")]
    assert "2026-10" in monthly
    # 10 + 20 + 30 + 40 is exactly the target: green, while each week alone is red.
    assert "Green: 100 meets the 100 target" in monthly
    assert "the sum of the values" in html


def test_an_average_roll_up_is_judged_against_the_bounds(client, login, make, acme):
    workspace, owner, revenue = acme
    speed = make.kpi(workspace, "K2", name="Speed", aggregation="average", green_min=30, red_min=20)
    for key, number in [("2026-10-05", 10), ("2026-10-12", 20), ("2026-10-19", 30)]:
        make.value(speed, key, number)
    login(owner)
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    monthly = html[html.index("rollup-monthly") : html.index("rollup-quarterly")]
    assert "Amber: 20 is under the 30 target and right on the red line 20" in monthly


def test_a_monthly_kpi_rolls_up_by_quarter_only(client, login, make, acme):
    workspace, owner, revenue = acme
    mrr = make.kpi(workspace, "K2", name="MRR", cadence="monthly", aggregation="last")
    make.value(mrr, "2026-07", 5)
    make.value(mrr, "2026-08", 7)
    login(owner)
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    assert "rollup-quarterly" in html
    assert "rollup-monthly" not in html
    assert "2026-Q3" in html


def test_a_quarterly_kpi_has_no_roll_ups(client, login, make, acme):
    workspace, owner, revenue = acme
    make.kpi(workspace, "K2", name="NRR", cadence="quarterly")
    login(owner)
    assert "Roll-ups" not in client.get("/w/acme/kpis/K2").get_data(as_text=True)


# ------------------------------------------------------------------ values and history


def test_values_and_history_show_their_provenance(client, login, make, acme):
    workspace, owner, revenue = acme
    values.set_value(
        revenue,
        week(2),
        Decimal(88000),
        source="sheet",
        source_ref="Weekly KPIs!J7",
        note="From the board pack",
    )
    db.session.commit()
    make.value(revenue, week(1), 95000, user=owner, note="Big deal closed")
    login(owner)
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    values_table = html[html.index('id="values"') : html.index('id="history"')]
    assert "€88,000" in values_table
    assert "From the board pack" in values_table
    assert "Weekly KPIs!J7" in values_table
    assert "Sheet" in values_table
    assert "Olivia Owner" in values_table
    history = html[html.index('id="history"') :]
    assert 'History of changes <span class="count">(3)</span>' in history
    assert re.search(r"€91,000</span>.*→.*<strong>€95,000</strong>", history, re.S)
    assert "empty</span>" in history  # the first value of a period had nothing before
    assert "Big deal closed" in history
    assert history.count(">Revert<") == 3


def test_viewers_see_no_forms_and_cannot_post(client, login, make, acme):
    workspace, owner, revenue = acme
    viewer = make.member(workspace, Role.VIEWER)
    change = db.session.scalar(db.select(ValueChange))
    login(viewer)
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert "Set or clear a value" not in html
    assert ">Revert<" not in html
    response = client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": "5"})
    assert response.status_code == 403
    assert client.post(f"/w/acme/kpis/K1/history/{change.id}/revert").status_code == 403
    assert stored(revenue, week(1)).value == Decimal(91000)
    assert count(ValueChange) == 1


# ------------------------------------------------------------------ revert


def test_revert_restores_the_old_value_as_a_new_change(client, login, make, acme):
    workspace, owner, revenue = acme
    updater = make.member(workspace, Role.UPDATER)
    change = make.value(revenue, week(1), 95000, user=owner)
    login(updater)
    response = client.post(f"/w/acme/kpis/K1/history/{change.id}/revert")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/kpis/K1#history")
    assert stored(revenue, week(1)).value == Decimal(91000)
    newest = values.value_history(revenue)[0]
    assert newest.reverts_id == change.id
    assert (newest.old_value, newest.new_value) == (Decimal(95000), Decimal(91000))
    assert newest.user_id == updater.id
    assert newest.source == "web"
    assert count(ValueChange) == 3
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert "Reverted: Revenue is €91,000 for week of" in html
    assert ">Revert</span>" in html  # the new entry is marked as a revert


def test_reverting_the_first_change_clears_the_value(client, login, acme):
    workspace, owner, revenue = acme
    first = db.session.scalar(db.select(ValueChange))
    login(owner)
    client.post(f"/w/acme/kpis/K1/history/{first.id}/revert")
    assert stored(revenue, week(1)) is None
    assert values.value_history(revenue)[0].new_value is None
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert "Revenue has no value for week of" in html


def test_reverting_twice_changes_nothing_the_second_time(client, login, make, acme):
    workspace, owner, revenue = acme
    change = make.value(revenue, week(1), 95000, user=owner)
    login(owner)
    client.post(f"/w/acme/kpis/K1/history/{change.id}/revert")
    client.post(f"/w/acme/kpis/K1/history/{change.id}/revert")
    assert count(ValueChange) == 3
    assert "Nothing to revert" in client.get("/w/acme/kpis/K1").get_data(as_text=True)


def test_changes_of_another_kpi_or_workspace_cannot_be_reverted(client, login, make, acme):
    workspace, owner, revenue = acme
    churn = make.kpi(workspace, "K2", name="Churn")
    churn_change = make.value(churn, week(1), 3)
    other = make.workspace(make.user(), slug="other")
    foreign = make.kpi(other, "K1", name="Foreign")
    foreign_change = make.value(foreign, week(1), 7)
    login(owner)
    for change_id in (churn_change.id, foreign_change.id, 999999):
        response = client.post(f"/w/acme/kpis/K1/history/{change_id}/revert")
        assert response.status_code == 404
    assert client.post(f"/w/other/kpis/K1/history/{foreign_change.id}/revert").status_code == 404
    assert count(ValueChange) == 3
    assert stored(churn, week(1)).value == Decimal(3)


# ------------------------------------------------------------------ setting a value


def test_the_form_is_prefilled_with_the_period_due(client, login, make, acme):
    workspace, owner, revenue = acme
    make.kpi(workspace, "K2", name="MRR", cadence="monthly")
    login(owner)
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert f'name="period" required spellcheck="false" type="text" value="{week(1)}"' in html
    assert 'name="value" type="text" value="91,000"' in html
    html = client.get("/w/acme/kpis/K2").get_data(as_text=True)
    assert f'type="text" value="{month(1)}"' in html
    assert "Year and month, like 2026-11." in html


def test_a_change_link_prefills_another_period(client, login, make, acme):
    workspace, owner, revenue = acme
    make.value(revenue, week(3), 87500, note="Slow week")
    login(owner)
    html = client.get(f"/w/acme/kpis/K1?period={week(3)}").get_data(as_text=True)
    assert f'value="{week(3)}"' in html
    assert 'value="87,500"' in html
    assert 'value="Slow week"' in html


def test_setting_a_value_saves_it_with_its_provenance(client, login, make, acme):
    workspace, owner, revenue = acme
    updater = make.member(workspace, Role.UPDATER, make.user(name="Uma Updater"))
    login(updater)
    response = client.post(
        "/w/acme/kpis/K1/values",
        data={"period": week(1), "value": "100,000", "note": " Big deal "},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/kpis/K1")
    row = stored(revenue, week(1))
    assert row.value == Decimal(100000)
    assert row.note == "Big deal"
    assert row.source == "web"
    assert row.updated_by_id == updater.id
    html = client.get("/w/acme/kpis/K1").get_data(as_text=True)
    assert "Revenue: €100,000 saved for week of" in html
    # Exactly on the target is green.
    assert "Green: €100,000 meets the €100,000 target" in html


def test_an_empty_value_clears_the_period(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    response = client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": ""})
    assert response.status_code == 303
    assert stored(revenue, week(1)) is None
    assert values.value_history(revenue)[0].new_value is None
    assert "was cleared" in client.get("/w/acme/kpis/K1").get_data(as_text=True)


def test_saving_the_same_value_says_nothing_changed(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": "91000"})
    assert count(ValueChange) == 1
    assert "Nothing changed" in client.get("/w/acme/kpis/K1").get_data(as_text=True)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-12-01", "2026-12-01 is a Tuesday; weekly periods start on Monday"),
        ("2026-11", "is not a weekly period key (expected the week&#39;s start date"),
        ("2026-02-30", "2026-02-30 is not a date"),
        ("", "Enter the period, like 2026-11-30."),
    ],
)
def test_a_period_that_is_not_one_of_the_kpis_is_refused(client, login, acme, period, message):
    workspace, owner, revenue = acme
    login(owner)
    response = client.post("/w/acme/kpis/K1/values", data={"period": period, "value": "5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'aria-invalid="true"' in html
    assert count(ValueChange) == 1
    assert count(KpiValue) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1.234,5", "use a dot for decimals"),
        ("12 apples", "is not a number: type digits only"),
        ("1,2,3", "commas group thousands in threes"),
        ("$5", "amounts here are in EUR; type the number without $."),
        ("12%", "this is not a percentage"),
        ("NaN", "enter a finite number"),
        ("1e30", "is not a number"),
    ],
)
def test_a_number_that_cannot_be_read_is_refused_and_kept(client, login, acme, typed, message):
    workspace, owner, revenue = acme
    login(owner)
    response = client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'aria-describedby="value-help value-error"' in html
    assert f'value="{typed}"' in html  # what was typed is kept to correct it
    assert stored(revenue, week(1)).value == Decimal(91000)
    assert count(ValueChange) == 1


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("(1,234)", Decimal(-1234)),
        ("€ 95,000", Decimal(95000)),
        ("95 000 €", Decimal(95000)),
        ("95\u202f000", Decimal(95000)),
        ("EUR 95000.50", Decimal("95000.5")),
        ("\u22125", Decimal(-5)),
    ],
)
def test_numbers_typed_the_way_people_write_them_are_saved(client, login, acme, typed, expected):
    workspace, owner, revenue = acme
    login(owner)
    response = client.post("/w/acme/kpis/K1/values", data={"period": week(1), "value": typed})
    assert response.status_code == 303
    assert stored(revenue, week(1)).value == expected


def test_a_percent_kpi_takes_a_percent_sign(client, login, make, acme):
    workspace, owner, revenue = acme
    churn = make.kpi(workspace, "K2", name="Churn", unit="percent", decimals=1)
    login(owner)
    client.post("/w/acme/kpis/K2/values", data={"period": week(1), "value": "2.5%"})
    assert stored(churn, week(1)).value == Decimal("2.5")


def test_a_note_longer_than_allowed_is_refused(client, login, acme):
    workspace, owner, revenue = acme
    login(owner)
    response = client.post(
        "/w/acme/kpis/K1/values", data={"period": week(1), "value": "5", "note": "x" * 501}
    )
    assert response.status_code == 422
    assert count(ValueChange) == 1


def test_another_workspaces_kpi_cannot_be_set(client, login, make, acme):
    workspace, owner, revenue = acme
    other = make.workspace(make.user(), slug="other")
    foreign = make.kpi(other, "K9", name="Foreign")
    login(owner)
    response = client.post("/w/acme/kpis/K9/values", data={"period": week(1), "value": "5"})
    assert response.status_code == 404
    assert client.post("/w/other/kpis/K9/values", data={"period": week(1)}).status_code == 404
    assert stored(foreign, week(1)) is None


@given(st.decimals(min_value=-(10**23), max_value=10**23, places=10, allow_nan=False))
def test_what_the_form_shows_reads_back_exactly(number):
    assert parse_number(input_text(number), "number") == number

"""The check-in: one screen with everything due for me, saved row by row, with and
without JavaScript."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from hub.domain import values
from hub.domain.checkins import check_in_history, progress_history
from hub.domain.periods import Cadence, last_n_periods, local_today
from hub.extensions import db
from hub.models import CheckIn, KeyResult, KpiValue, ProgressUpdate, Role, ValueChange
from hub.models.base import utcnow

HTMX = {"HX-Request": "true"}


def week(n: int) -> str:
    """The key of the weekly period n weeks before the current one (UTC, Monday starts)."""
    return last_n_periods(local_today("UTC"), Cadence.WEEKLY, n + 1)[0].key


def month(n: int) -> str:
    return last_n_periods(local_today("UTC"), Cadence.MONTHLY, n + 1)[0].key


def current_cycle_dates() -> tuple[date, date]:
    today = local_today("UTC")
    return date(today.year, 1, 1), date(today.year, 12, 31)


@pytest.fixture
def team(make):
    """Uma (an updater) and Omar each own a KPI, a key result and an initiative."""
    owner = make.user("owner@example.com", name="Olivia")
    uma = make.user("uma@example.com", name="Uma")
    omar = make.user("omar@example.com", name="Omar")
    workspace = make.workspace(owner, name="Acme", slug="acme", currency="EUR")
    make.member(workspace, Role.UPDATER, uma)
    make.member(workspace, Role.EDITOR, omar)
    start, end = current_cycle_dates()
    cycle = make.cycle(workspace, "This year", start, end)
    revenue = make.kpi(
        workspace,
        "K1",
        name="Revenue",
        unit="currency",
        owner=uma,
        green_min=100000,
        red_min=90000,
    )
    make.kpi(workspace, "K2", name="Churn", unit="percent", owner=omar)
    objective = make.initiative(workspace, "Win the year", key="I1", cycle=cycle, owner=omar)
    signups = make.key_result(
        objective, "Reach 100 signups", key="KR1", owner=uma, start=0, target=100, current=20
    )
    make.key_result(objective, "Revenue at target", key="KR2", owner=omar, kpi=revenue)
    hiring = make.initiative(workspace, "Hire a designer", key="I2", owner=uma)
    make.initiative(workspace, "Move office", key="I3", owner=omar)
    return workspace, uma, omar, revenue, signups, hiring


def page(client, path="/w/acme/check-in"):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ the screen


def test_the_check_in_shows_only_my_items_by_default(client, login, team):
    workspace, uma, omar, *_ = team
    login(uma)
    html = page(client)
    assert "Everything due for you in Acme" in html
    assert "Revenue" in html
    assert "Reach 100 signups" in html
    assert "Hire a designer" in html
    assert "Churn" not in html
    assert "Revenue at target" not in html
    assert "Move office" not in html
    assert re.search(r'href="/w/acme/check-in" aria-current="page">Mine', html)


def test_everyones_items_with_the_toggle(client, login, team):
    workspace, uma, omar, *_ = team
    login(uma)
    html = page(client, "/w/acme/check-in?who=all")
    for name in ("Revenue", "Churn", "Reach 100 signups", "Revenue at target", "Move office"):
        assert name in html
    assert 'id="initiative-I1"' not in html  # scored by its key results: no % to type
    assert 'aria-current="page">Everyone' in html
    assert 'name="kpi-K1-who" type="hidden" value="all"' in html


def test_each_kpi_asks_for_its_due_period(client, login, make, team):
    workspace, uma, omar, revenue, *_ = team
    make.kpi(workspace, "K3", name="MRR", cadence="monthly", owner=uma)
    make.value(revenue, week(1), 100000)
    login(uma)
    html = page(client)
    assert f'name="kpi-K1-period" type="hidden" value="{week(1)}"' in html
    assert f'name="kpi-K3-period" type="hidden" value="{month(1)}"' in html
    assert 'name="kpi-K1-value" size="10" type="text" value="100,000"' in html
    assert "Green: €100,000 meets the €100,000 target" in html
    assert "(1 of 2 entered)" in html
    assert "Not entered" in html


def test_a_kpi_not_entered_shows_its_last_value(client, login, make, team):
    workspace, uma, omar, revenue, *_ = team
    make.value(revenue, week(5), 95000)
    login(uma)
    html = page(client)
    assert "Not entered" in html
    assert f"Last value: €95,000 for {week(5)}" in html
    assert "Late" in html


def test_archived_kpis_are_not_due(client, login, team):
    workspace, uma, omar, revenue, *_ = team
    revenue.archived_at = utcnow()
    db.session.commit()
    login(uma)
    html = page(client, "/w/acme/check-in?who=all")
    assert 'id="kpi-K1"' not in html
    assert 'id="kpi-K2"' in html
    response = client.post(
        "/w/acme/check-in/kpis/K1", data={"kpi-K1-period": week(1), "kpi-K1-value": "5"}
    )
    assert response.status_code == 404
    assert values.current_value(revenue, week(1)) is None


def test_a_linked_key_result_shows_its_kpi_value_read_only(client, login, make, team):
    workspace, uma, omar, revenue, *_ = team
    make.value(revenue, week(1), 93000)
    login(omar)
    html = page(client)
    row = html[html.index('id="kr-KR2"') :]
    row = row[: row.index("</form>")]
    assert "€93,000" in row
    assert 'href="/w/acme/kpis/K1">K1</a>' in row
    assert 'name="kr-KR2-value"' not in row
    assert 'name="kr-KR2-confidence"' in row


def test_the_mode_hides_what_it_does_not_use(client, login, make, team):
    workspace, uma, *_ = team
    login(uma)
    workspace.mode = "okr"
    db.session.commit()
    html = page(client)
    assert 'id="kpi-K1"' not in html
    assert 'id="kr-KR1"' in html
    workspace.mode = "kpi"
    db.session.commit()
    html = page(client)
    assert 'id="kpi-K1"' in html
    assert 'id="kr-KR1"' not in html  # its objective belongs to a cycle
    assert 'id="initiative-I2"' in html  # long-running: still due
    assert client.post("/w/acme/check-in/key-results/KR1", data={}).status_code == 404


def test_an_empty_check_in_says_what_to_do(client, login, make, team):
    workspace, *_ = team
    newcomer = make.member(workspace, Role.UPDATER)
    login(newcomer)
    html = page(client)
    assert "Nothing is due for you this week" in html
    assert "Owners are set on the" in html
    assert 'href="/w/acme/check-in?who=all"' in html


def test_an_empty_workspace_says_so_for_everyone(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="empty")
    login(owner)
    html = page(client, "/w/empty/check-in?who=all")
    assert "Nothing is due in this workspace" in html
    assert "no OKR cycle is active" in html


def test_viewers_cannot_check_in(client, login, make, team):
    workspace, uma, omar, revenue, signups, hiring = team
    viewer = make.member(workspace, Role.VIEWER)
    login(viewer)
    assert client.get("/w/acme/check-in").status_code == 403
    for path in (
        "/w/acme/check-in/kpis/K1",
        "/w/acme/check-in/key-results/KR1",
        "/w/acme/check-in/initiatives/I2",
    ):
        assert client.post(path, data={}).status_code == 403
        assert client.post(path, data={}, headers=HTMX).status_code == 403
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0
    assert db.session.scalar(db.select(db.func.count(ProgressUpdate.id))) == 0


def test_another_workspaces_items_answer_404(client, login, make, team):
    workspace, uma, *_ = team
    other = make.workspace(make.user(), slug="other")
    foreign = make.kpi(other, "K7", name="Foreign")
    objective = make.initiative(other, "Foreign objective", key="I9")
    make.key_result(objective, key="KR9")
    login(uma)
    data = {"kpi-K7-period": week(1), "kpi-K7-value": "5"}
    assert client.post("/w/acme/check-in/kpis/K7", data=data).status_code == 404
    assert client.post("/w/acme/check-in/key-results/KR9", data={}).status_code == 404
    assert client.post("/w/acme/check-in/initiatives/I9", data={}).status_code == 404
    assert client.post("/w/other/check-in/kpis/K7", data=data).status_code == 404
    assert values.current_value(foreign, week(1)) is None


# ------------------------------------------------------------------ saving a KPI


def test_saving_a_kpi_without_javascript_comes_back_to_the_page(client, login, team):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": "95,000", "kpi-K1-note": "Good week"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/check-in#kpi-K1")
    row = values.current_value(revenue, week(1))
    assert row.value == Decimal(95000)
    assert row.note == "Good week"
    assert row.source == "web"
    assert row.updated_by_id == uma.id
    html = page(client)
    assert "Revenue: €95,000 saved for week of" in html
    assert "Amber: €95,000 is under the €100,000 target" in html


def test_saving_from_everyones_list_returns_to_it(client, login, team):
    workspace, uma, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K2",
        data={"kpi-K2-period": week(1), "kpi-K2-value": "2.5%", "kpi-K2-who": "all"},
    )
    assert response.headers["Location"].endswith("/w/acme/check-in?who=all#kpi-K2")


def test_saving_a_kpi_with_htmx_returns_only_its_row(client, login, team):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": "100000"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<form id="kpi-K1"')
    assert html.rstrip().endswith("</form>")
    assert "<html" not in html
    assert "Reach 100 signups" not in html
    assert 'hx-target="#kpi-K1"' in html
    assert 'hx-swap="outerHTML"' in html
    # A value exactly on the target is green, with its why.
    assert "Green: €100,000 meets the €100,000 target" in html
    assert 'role="status"' in html
    assert "Revenue: €100,000 saved for week of" in html
    assert values.current_value(revenue, week(1)).value == Decimal(100000)
    # No flash waits for the next page: htmx already showed the confirmation.
    assert "saved for week" not in page(client).split('id="flashes"')[1].split("</div>")[0]


def test_a_kpi_row_can_be_cleared(client, login, make, team):
    workspace, uma, omar, revenue, *_ = team
    make.value(revenue, week(1), 95000)
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": ""},
        headers=HTMX,
    )
    assert "value for week of" in response.get_data(as_text=True)
    assert "cleared" in response.get_data(as_text=True)
    assert values.current_value(revenue, week(1)) is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1.234,5", "use a dot for decimals"),
        ("12 13", "looks like several numbers: enter one."),
        ("lots", "is not a number: type digits only"),
        ("$100", "amounts here are in EUR"),
    ],
)
def test_an_unreadable_number_comes_back_in_its_row_and_saves_nothing(
    client, login, team, typed, message
):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": typed},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    # A 200, so htmx swaps the row and keeps the focus in the input being corrected.
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="kpi-K1"')
    assert '<p class="checkin-not-saved" role="alert">' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="kpi-K1-value-error"' in html
    assert 'id="kpi-K1-value-error"' in html
    assert f'value="{typed}"' in html
    assert "checkin-row-invalid" in html
    assert 'role="status"' not in html
    assert values.current_value(revenue, week(1)) is None
    assert db.session.scalar(db.select(db.func.count(ValueChange.id))) == 0


def test_an_unreadable_number_without_javascript_reshows_the_page(client, login, team):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": "1,2,3"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html
    assert "commas group thousands in threes" in html
    assert 'value="1,2,3"' in html
    assert "Reach 100 signups" in html  # the rest of the check-in is still there
    assert db.session.scalar(db.select(db.func.count(KpiValue.id))) == 0


def test_a_tampered_period_is_refused(client, login, team):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": "2026-12-01", "kpi-K1-value": "5"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "is a Tuesday" in response.get_data(as_text=True)
    assert "Not saved" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(KpiValue.id))) == 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("(500)", Decimal(-500)), ("€1 234.5", Decimal("1234.5")), ("EUR 99", Decimal(99))],
)
def test_locale_ish_numbers_are_saved(client, login, team, typed, expected):
    workspace, uma, omar, revenue, *_ = team
    login(uma)
    client.post(
        "/w/acme/check-in/kpis/K1",
        data={"kpi-K1-period": week(1), "kpi-K1-value": typed},
        headers=HTMX,
    )
    assert values.current_value(revenue, week(1)).value == expected


# ------------------------------------------------------------------ key results


def test_checking_in_a_key_result_records_value_confidence_and_note(client, login, team):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/key-results/KR1",
        data={"kr-KR1-value": "45", "kr-KR1-confidence": "7", "kr-KR1-note": "Launch went well"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="kr-KR1"')
    assert "0.45" in html  # the new score
    assert "45% of the way · confidence 7/10" in html
    assert "Reach 100 signups: checked in." in html
    assert 'name="kr-KR1-note" type="text" value=""' in html  # a note is per check-in
    [entry] = check_in_history(signups)
    assert (entry.value, entry.confidence, entry.note, entry.user_id) == (
        Decimal(45),
        7,
        "Launch went well",
        uma.id,
    )


def test_a_linked_key_result_takes_only_confidence(client, login, make, team):
    workspace, uma, omar, revenue, *_ = team
    make.value(revenue, week(1), 93000)
    login(omar)
    response = client.post(
        "/w/acme/check-in/key-results/KR2",
        data={"kr-KR2-value": "5", "kr-KR2-confidence": "8"},
    )
    assert response.status_code == 303
    kr = db.session.scalar(db.select(KeyResult).where(KeyResult.key == "KR2"))
    assert kr.confidence == 8
    assert kr.current_value is None  # it follows the KPI; the typed value is ignored
    [entry] = check_in_history(kr)
    assert entry.confidence == 8
    assert "Revenue at target: checked in." in page(client)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kr-KR1-confidence": "11"}, "confidence", "Confidence is a whole number from 0"),
        ({"kr-KR1-confidence": "-1"}, "confidence", "Confidence is a whole number from 0"),
        ({"kr-KR1-confidence": "seven"}, "confidence", "Confidence is a whole number from 0"),
        ({"kr-KR1-value": "4,5"}, "value", "could be read two ways"),
        ({"kr-KR1-note": "x" * 281}, "note", "Field cannot be longer than 280 characters."),
    ],
)
def test_a_bad_check_in_is_refused_in_its_row(client, login, team, data, field, message):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post("/w/acme/check-in/key-results/KR1", data=data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'role="alert">.*Not saved<span class="visually-hidden">: [^<]+</span>', html)
    assert message in html
    assert f'aria-describedby="kr-KR1-{field}-error"' in html
    assert check_in_history(signups) == []
    assert signups.current_value == Decimal(20)


def test_an_unchanged_check_in_records_nothing(client, login, team):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/key-results/KR1",
        data={"kr-KR1-value": "20", "kr-KR1-confidence": "5"},
        headers=HTMX,
    )
    assert "Reach 100 signups: no change." in response.get_data(as_text=True)
    assert check_in_history(signups) == []


def test_key_results_of_a_cycle_not_active_cannot_be_checked_in(client, login, make, team):
    workspace, uma, *_ = team
    draft = make.cycle(workspace, "Next", date(2099, 1, 1), date(2099, 3, 31), state="draft")
    later = make.initiative(workspace, "Later", key="I8", cycle=draft, owner=uma)
    make.key_result(later, "Later KR", key="KR8", owner=uma)
    login(uma)
    assert 'id="kr-KR8"' not in page(client)
    response = client.post("/w/acme/check-in/key-results/KR8", data={"kr-KR8-confidence": "3"})
    assert response.status_code == 404
    assert client.post("/w/acme/check-in/initiatives/I8", data={}).status_code == 404


# ------------------------------------------------------------------ initiatives


def test_percent_complete_is_saved_with_htmx(client, login, team):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/initiatives/I2",
        data={"initiative-I2-percent_complete": "40%"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="initiative-I2"')
    assert "40% complete" in html
    assert 'aria-valuenow="40"' in html
    assert "Hire a designer: saved." in html
    assert hiring.percent_complete == Decimal(40)
    [update] = progress_history(hiring)
    assert (update.new_percent, update.user_id) == (Decimal(40), uma.id)


def test_percent_complete_without_javascript(client, login, team):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/initiatives/I2", data={"initiative-I2-percent_complete": "100"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/check-in#initiative-I2")
    html = page(client)
    assert "Hire a designer: saved." in html
    assert "Done" in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [("150", "% complete is from 0 to 100."), ("-5", "from 0 to 100"), ("half", "not a number")],
)
def test_a_bad_percent_is_refused(client, login, team, typed, message):
    workspace, uma, omar, revenue, signups, hiring = team
    login(uma)
    response = client.post(
        "/w/acme/check-in/initiatives/I2",
        data={"initiative-I2-percent_complete": typed},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert f'value="{typed}"' in html
    assert hiring.percent_complete is None
    assert progress_history(hiring) == []


def test_a_scored_initiative_has_no_percent_to_type(client, login, team):
    workspace, uma, omar, *_ = team
    login(omar)
    assert 'id="initiative-I1"' not in page(client, "/w/acme/check-in?who=all")
    response = client.post(
        "/w/acme/check-in/initiatives/I1", data={"initiative-I1-percent_complete": "50"}
    )
    assert response.status_code == 404

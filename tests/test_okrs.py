"""The OKRs page: cycles, objectives with key results, inline check-ins, close-out, carry-over."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.periods import Cadence, last_n_periods
from hub.extensions import db
from hub.models import CheckIn, Cycle, Initiative, KeyResult, Role

TODAY = date.today()


def halfway_cycle(make, workspace, name="2026-Q4", state="active"):
    """A cycle half gone today, so a score of 0.35 is the on-track line."""
    start, end = TODAY - timedelta(days=45), TODAY + timedelta(days=45)
    return make.cycle(workspace, name, start, end, state)


@pytest.fixture
def okr(make):
    """An OKR-mode workspace with an active cycle, one objective and two key results."""
    owner = make.user("olivia@example.com", name="Olivia Owner")
    workspace = make.workspace(owner, slug="acme", mode="okr", currency="EUR")
    cycle = halfway_cycle(make, workspace)
    objective = make.initiative(
        workspace, "Win the mid-market", cycle=cycle, owner=owner, due_date=TODAY
    )
    signed = make.key_result(objective, "Sign customers", start=0, target=10, current=1)
    churn = make.key_result(
        objective, "Cut churn", start=10, target=4, current=7, unit="percent", confidence=3
    )
    return workspace, owner, cycle, objective, signed, churn


def squeeze(html):
    """The HTML with every run of whitespace as one space, as a reader sees the text."""
    return " ".join(html.split())


def page(client, url="/w/acme/okrs", **kw):
    response = client.get(url, **kw)
    return response, squeeze(response.get_data(as_text=True))


# ----------------------------------------------------------------------------- the page


def test_okr_mode_shows_objectives_with_key_results_scores_and_confidence(client, login, okr):
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    response, html = page(client)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "Objectives and their key results" in html
    assert "2026-Q4" in html
    assert "Active" in html
    assert "Win the mid-market" in html
    assert "Owner: Olivia Owner" in html
    # KR scores: (1-0)/(10-0) = 0.10; decreasing (7-10)/(4-10) = 0.50; the mean 0.30
    assert "0.10" in html
    assert "0.50" in html
    assert "0.30" in html
    assert "30% complete" in html
    assert "At risk" in html  # 0.30 < 0.7 × 0.5 but ≥ 0.4 × 0.5
    assert "10.0%" in html or "10%" in html  # the percent KR, formatted in its unit
    assert "Confidence 3/10" in html
    assert "Check in" in html  # the owner may check in
    assert "okrs.css" in html


def test_both_mode_calls_them_initiatives_and_shows_gauges(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="both")
    cycle = halfway_cycle(make, workspace)
    revenue = make.kpi(workspace, "K1", name="Revenue")
    make.initiative(workspace, "Launch referrals", cycle=cycle, gauges=[revenue])
    login(owner)
    html = page(client)[1]
    assert "Initiatives and their key results" in html
    assert 'title="Revenue">K1</span>' in html


def test_okr_mode_shows_no_gauges(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="okr")
    cycle = halfway_cycle(make, workspace)
    revenue = make.kpi(workspace, "K1", name="Revenue")
    make.initiative(workspace, "Launch referrals", cycle=cycle, gauges=[revenue])
    login(owner)
    assert "Gauges:" not in page(client)[1]


def test_kpi_mode_has_no_okrs_page(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="acme", mode="kpi")
    login(owner)
    assert client.get("/w/acme/okrs").status_code == 404
    assert client.get("/w/acme/okrs/cycles/new").status_code == 404


def test_the_page_opens_on_the_active_cycle_else_the_newest(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="okr")
    make.cycle(workspace, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "closed")
    make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    login(owner)
    assert "<h2>2027-Q1" in page(client)[1]  # no active cycle: the newest
    make.cycle(workspace, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "active")
    assert "<h2>2026-Q4" in page(client)[1]


def test_the_cycle_picker_swaps_only_the_cycle_for_htmx(client, login, okr, make):
    workspace, owner, cycle, *_ = okr
    older = make.cycle(workspace, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "closed")
    make.initiative(workspace, "Old bet", cycle=older)
    login(owner)
    response, html = page(client, f"/w/acme/okrs?cycle={older.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="cycle-body"')
    assert "<html" not in html
    assert "Old bet" in html
    assert "Win the mid-market" not in html
    # Without JavaScript the same choice is a whole page.
    response, html = page(client, f"/w/acme/okrs?cycle={older.id}")
    assert "<html" in html
    assert "Old bet" in html


def test_long_running_objectives_have_their_own_view(client, login, okr, make):
    workspace, owner, *_ = okr
    make.initiative(workspace, "Keep the lights on")
    login(owner)
    html = page(client, "/w/acme/okrs?cycle=none")[1]
    assert "Long-running objectives" in html
    assert "Keep the lights on" in html
    assert "Win the mid-market" not in html


def test_another_workspaces_cycle_is_not_found(client, login, okr, make):
    workspace, owner, *_ = okr
    other = make.workspace(make.user(), mode="okr")
    theirs = make.cycle(other, "Secret cycle")
    login(owner)
    assert client.get(f"/w/acme/okrs?cycle={theirs.id}").status_code == 404


@pytest.mark.parametrize("query", ["cycle=abc", "cycle=", "cycle=-1"])
def test_nonsense_cycle_choices_show_the_default(client, login, okr, query):
    workspace, owner, *_ = okr
    login(owner)
    response, html = page(client, f"/w/acme/okrs?{query}")
    assert response.status_code == 200
    assert "Win the mid-market" in html


def test_no_cycles_yet_says_what_to_do(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="okr")
    viewer = make.member(workspace, Role.VIEWER)
    login(owner)
    html = page(client)[1]
    assert "No OKR cycles yet" in html
    assert "Create the first cycle" in html
    login(viewer)
    html = page(client)[1]
    assert "Ask an editor or owner" in html
    assert "Create the first cycle" not in html


def test_an_empty_cycle_offers_to_add_the_first_objective(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="okr")
    cycle = halfway_cycle(make, workspace)
    login(owner)
    html = page(client)[1]
    assert "No objectives in 2026-Q4 yet" in html
    assert f"/w/acme/initiatives/new?cycle={cycle.id}" in html


def test_more_than_five_key_results_are_warned_about(client, login, okr, make):
    workspace, owner, cycle, objective, *_ = okr
    login(owner)
    for n in range(3):
        make.key_result(objective, f"Extra {n}")
    assert "consider splitting" not in page(client)[1]  # five is fine
    make.key_result(objective, "One too many")
    assert "More than 5 key results: consider splitting this objective" in page(client)[1]


def test_a_kr_linked_to_a_kpi_shows_its_latest_value_read_only(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="both")
    cycle = halfway_cycle(make, workspace)
    mrr = make.kpi(workspace, "K1", name="MRR", unit="currency")
    week = last_n_periods(TODAY, Cadence.WEEKLY, 2)[0].key
    make.value(mrr, week, 5000)
    objective = make.initiative(workspace, "Grow", cycle=cycle)
    kr = make.key_result(objective, "MRR to 10k", start=0, target=10000, kpi=mrr, unit="currency")
    login(owner)
    html = page(client)[1]
    assert "Follows KPI K1 (MRR)" in html
    assert f"$5,000 for {week}" in html
    assert "0.50" in html
    assert f'id="checkin-{kr.key}-value"' not in html  # no value field, confidence only
    assert f'id="checkin-{kr.key}-confidence"' in html


def test_check_in_history_is_listed_newest_first(client, login, okr):
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    url = f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/check-in"
    client.post(
        url, data={f"checkin-{signed.key}-value": "2", f"checkin-{signed.key}-note": "first"}
    )
    client.post(
        url, data={f"checkin-{signed.key}-value": "3", f"checkin-{signed.key}-note": "second"}
    )
    html = page(client)[1]
    assert 'Check-in history <span class="count">(2)</span>' in html
    assert html.index("second") < html.index("first")
    assert "Olivia Owner" in html


# --------------------------------------------------------------------------- check-ins


def test_an_htmx_check_in_swaps_the_objective_with_its_new_score_and_status(client, login, okr):
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    before = page(client)[1]
    assert "At risk" in before
    response = client.post(
        f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/check-in",
        data={
            f"checkin-{signed.key}-value": "9",
            f"checkin-{signed.key}-confidence": "8",
            f"checkin-{signed.key}-note": "Two big deals closed",
        },
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith(
        f'<article class="okr-objective" id="objective-{objective.key}"'
    )
    assert "<html" not in html
    # (0.90 + 0.50) / 2 = 0.70 ≥ 0.7 × 0.5 elapsed: on track
    assert "0.90" in html
    assert "0.70" in html
    assert "On track" in html
    assert f"Checked in on {signed.key}" in html
    assert "Two big deals closed" in html
    db.session.refresh(signed)
    assert signed.current_value == Decimal(9)
    assert signed.confidence == 8
    [entry] = signed.check_ins
    assert (entry.value, entry.confidence, entry.note, entry.user_id) == (
        Decimal(9),
        8,
        "Two big deals closed",
        owner.id,
    )


def test_a_check_in_without_javascript_redirects_back_with_303(client, login, okr):
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    response = client.post(
        f"/w/acme/initiatives/{objective.key}/key-results/{churn.key}/check-in",
        data={f"checkin-{churn.key}-value": "5.5%"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/acme/okrs?cycle={cycle.id}#kr-{churn.key}")
    db.session.refresh(churn)
    assert churn.current_value == Decimal("5.5")
    html = page(client)[1]
    assert f"Checked in on {churn.key}" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "lots"}, "is not a number"),
        ({"value": "NaN"}, "not a number you can store"),
        ({"confidence": "11"}, "Must be from 0 to 10."),
        ({"confidence": "2.5"}, "Enter a whole number"),
        ({"note": "x" * 281}, "At most 280 characters."),
        ({"value": "1" + "0" * 27}, "too large"),
    ],
)
def test_a_bad_check_in_is_refused_beside_its_field_and_changes_nothing(
    client, login, okr, data, message
):
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    url = f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/check-in"
    form = {f"checkin-{signed.key}-{name}": value for name, value in data.items()}
    response = client.post(url, data=form, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith("<article")
    assert message in html
    assert 'aria-invalid="true"' in html
    # Without JavaScript: the whole page, with the same message.
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    db.session.refresh(signed)
    assert signed.current_value == Decimal(1)
    assert signed.confidence == 5
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0


def test_a_kr_linked_to_a_kpi_takes_confidence_only(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="both")
    cycle = halfway_cycle(make, workspace)
    mrr = make.kpi(workspace, "K1", name="MRR")
    objective = make.initiative(workspace, "Grow", cycle=cycle)
    kr = make.key_result(objective, "MRR to 10k", start=0, target=10000, kpi=mrr)
    login(owner)
    response = client.post(
        f"/w/acme/initiatives/{objective.key}/key-results/{kr.key}/check-in",
        data={f"checkin-{kr.key}-value": "9999", f"checkin-{kr.key}-confidence": "9"},
    )
    assert response.status_code == 303
    db.session.refresh(kr)
    assert kr.current_value is None  # the typed value is not a field of this form
    assert kr.confidence == 9


def test_updaters_check_in_but_viewers_cannot(client, login, okr, make):
    workspace, owner, cycle, objective, signed, churn = okr
    updater = make.member(workspace, Role.UPDATER)
    viewer = make.member(workspace, Role.VIEWER)
    url = f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/check-in"
    login(viewer)
    html = page(client)[1]
    assert "Check in" not in html
    assert "Edit<span" not in html
    assert client.post(url, data={f"checkin-{signed.key}-value": "4"}).status_code == 403
    login(updater)
    html = page(client)[1]
    assert "Check in" in html
    assert "Edit<span" not in html  # editing the plan is for editors
    assert "New cycle" not in html
    assert client.post(url, data={f"checkin-{signed.key}-value": "4"}).status_code == 303
    db.session.refresh(signed)
    assert signed.current_value == Decimal(4)


def test_another_workspaces_key_result_is_not_found(client, login, okr, make):
    workspace, owner, cycle, objective, signed, churn = okr
    other = make.workspace(make.user(), mode="okr")
    theirs = make.initiative(other, "Theirs", key="I77")
    their_kr = make.key_result(theirs, key="KR77")
    login(owner)
    response = client.post(
        f"/w/acme/initiatives/I77/key-results/{their_kr.key}/check-in",
        data={"checkin-KR77-value": "4"},
    )
    assert response.status_code == 404
    # A KR of this workspace under the wrong objective is not found either.
    other_objective = make.initiative(workspace, "Second")
    response = client.post(
        f"/w/acme/initiatives/{other_objective.key}/key-results/{signed.key}/check-in",
        data={f"checkin-{signed.key}-value": "4"},
    )
    assert response.status_code == 404
    db.session.refresh(signed)
    assert signed.current_value == Decimal(1)


# ------------------------------------------------------------------------------ cycles


def test_a_new_cycle_defaults_to_the_next_quarter(client, login, okr):
    workspace, owner, *_ = okr
    login(owner)
    html = page(client, "/w/acme/okrs/cycles/new")[1]
    # Today is in 2026-Q4 (the fixture's cycle has that name too): next is 2027-Q1.
    q = (TODAY.month - 1) // 3
    year = TODAY.year + (q == 3)
    expected = f"{year}-Q{(q + 1) % 4 + 1}"
    assert f'value="{expected}"' in html


def test_a_new_cycle_defaults_to_the_next_fiscal_quarter(client, login, make):
    owner = make.user()
    make.workspace(owner, slug="acme", mode="okr", fiscal_year_start_month=4)
    login(owner)
    html = page(client, "/w/acme/okrs/cycles/new")[1]
    # A fiscal year from April, named by the year it ends in: Dec 2026 is in FY2027-Q3.
    if date(2026, 10, 1) <= TODAY <= date(2026, 12, 31):
        assert 'value="FY2027-Q4"' in html
        assert 'value="2027-01-01"' in html
        assert 'value="2027-03-31"' in html
    else:
        assert 'value="FY' in html


def test_creating_a_cycle_makes_a_draft(client, login, okr):
    workspace, owner, *_ = okr
    login(owner)
    response = client.post(
        "/w/acme/okrs/cycles/new",
        data={"name": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31"},
    )
    assert response.status_code == 303
    cycle = db.session.scalar(db.select(Cycle).where(Cycle.name == "2027-Q1"))
    assert cycle.state == "draft"
    assert response.headers["Location"].endswith(f"/w/acme/okrs?cycle={cycle.id}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Give the cycle a name"),
        ({"name": "2026-q4"}, "there is already a cycle called"),
        ({"end": "2026-12-31"}, "Must be on or after the start."),
        ({"start": "next week"}, "Not a valid date value."),
        ({"name": "x" * 61}, "Field cannot be longer than 60 characters."),
    ],
)
def test_a_bad_cycle_is_refused_and_nothing_is_created(client, login, okr, data, message):
    workspace, owner, *_ = okr
    login(owner)
    form = {"name": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31", **data}
    response = client.post("/w/acme/okrs/cycles/new", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Cycle.id))) == 1


def test_a_draft_cycle_can_be_edited_but_an_active_one_cannot(client, login, okr, make):
    workspace, owner, cycle, *_ = okr
    draft = make.cycle(workspace, "Next", date(2027, 1, 1), date(2027, 3, 31), "draft")
    login(owner)
    response = client.post(
        f"/w/acme/okrs/cycles/{draft.id}/edit",
        data={"name": "2027-Q1", "start": "2027-01-04", "end": "2027-03-31"},
    )
    assert response.status_code == 303
    db.session.refresh(draft)
    assert (draft.name, draft.start) == ("2027-Q1", date(2027, 1, 4))
    response = client.post(
        f"/w/acme/okrs/cycles/{cycle.id}/edit",
        data={"name": "Renamed", "start": "2026-10-01", "end": "2026-12-31"},
    )
    assert response.status_code == 303
    db.session.refresh(cycle)
    assert cycle.name == "2026-Q4"
    assert "only a draft cycle can be edited" in page(client)[1]


def test_only_one_cycle_is_active_at_a_time(client, login, okr, make):
    workspace, owner, cycle, *_ = okr
    draft = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    login(owner)
    html = page(client, f"/w/acme/okrs?cycle={draft.id}")[1]
    assert "Close 2026-Q4 first" in html  # said before trying, too
    response = client.post(f"/w/acme/okrs/cycles/{draft.id}/activate")
    assert response.status_code == 303
    html = page(client, response.headers["Location"])[1]
    assert "Close 2026-Q4 first" in html
    db.session.refresh(draft)
    assert draft.state == "draft"
    cycle.state = "closed"
    db.session.commit()
    client.post(f"/w/acme/okrs/cycles/{draft.id}/activate")
    db.session.refresh(draft)
    assert draft.state == "active"


# --------------------------------------------------------------------------- close-out


def test_the_close_out_page_shows_each_computed_score(client, login, okr, make):
    workspace, owner, cycle, objective, signed, churn = okr
    hand = make.initiative(workspace, "Hire a CFO", cycle=cycle, percent_complete=Decimal(40))
    login(owner)
    html = page(client, f"/w/acme/okrs/cycles/{cycle.id}/close")[1]
    assert "Close 2026-Q4" in html
    assert "Win the mid-market" in html
    assert "0.30" in html
    assert "Hire a CFO" in html
    assert "0.40" in html
    assert f'name="{hand.key}"' in html


def test_closing_records_final_scores_with_a_manual_override_flagged(client, login, okr, make):
    workspace, owner, cycle, objective, signed, churn = okr
    second = make.initiative(workspace, "Ship v2", cycle=cycle)
    make.key_result(second, "Features", start=0, target=4, current=4)
    login(owner)
    response = client.post(
        f"/w/acme/okrs/cycles/{cycle.id}/close", data={objective.key: "0.65", second.key: ""}
    )
    assert response.status_code == 303
    db.session.refresh(cycle)
    db.session.refresh(objective)
    db.session.refresh(second)
    assert cycle.state == "closed"
    assert cycle.closed_at is not None
    assert (objective.final_score, objective.final_score_manual) == (Decimal("0.65"), True)
    assert (second.final_score, second.final_score_manual) == (Decimal(1), False)
    html = page(client, response.headers["Location"])[1]
    assert "2026-Q4 is closed: final scores recorded for 2 objectives (1 set by hand)" in html
    assert "0.65" in html
    assert "manual</span>" in html
    assert html.count("manual</span>") == 1
    assert "Partial" in html  # 0.65: amber
    assert "Success" in html  # 1.00: green
    assert "read-only" in html


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("1.5", "Must be from 0 to 1"),
        ("-0.1", "Must be from 0 to 1"),
        ("0.655", "two decimals"),
        ("high", "is not a number"),
    ],
)
def test_a_bad_manual_score_is_refused_and_the_cycle_stays_open(client, login, okr, score, message):
    workspace, owner, cycle, objective, *_ = okr
    login(owner)
    response = client.post(f"/w/acme/okrs/cycles/{cycle.id}/close", data={objective.key: score})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(cycle)
    db.session.refresh(objective)
    assert cycle.state == "active"
    assert objective.final_score is None


def test_only_an_active_cycle_can_be_closed(client, login, okr, make):
    workspace, owner, *_ = okr
    draft = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    login(owner)
    response = client.get(f"/w/acme/okrs/cycles/{draft.id}/close")
    assert response.status_code == 303
    assert "only the active cycle can be closed" in page(client, response.headers["Location"])[1]
    client.post(f"/w/acme/okrs/cycles/{draft.id}/close")
    db.session.refresh(draft)
    assert draft.state == "draft"


@pytest.fixture
def closed(okr, client, login):
    """The fixture's cycle, closed with no manual score."""
    workspace, owner, cycle, objective, signed, churn = okr
    login(owner)
    assert client.post(f"/w/acme/okrs/cycles/{cycle.id}/close").status_code == 303
    return okr


def test_a_closed_cycle_is_read_only(client, login, closed, make):
    workspace, owner, cycle, objective, signed, churn = closed
    html = page(client)[1]
    assert "is closed: its objectives and key results are read-only" in html
    assert "Check in" not in html
    response = client.post(
        f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/check-in",
        data={f"checkin-{signed.key}-value": "10"},
    )
    assert response.status_code == 303
    assert (
        "2026-Q4 is closed: its objectives and key results are read-only"
        in page(client, response.headers["Location"])[1]
    )
    for url in (
        f"/w/acme/initiatives/{objective.key}/edit",
        f"/w/acme/initiatives/{objective.key}/key-results/new",
        f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/edit",
        f"/w/acme/initiatives/{objective.key}/key-results/{signed.key}/delete",
    ):
        response = client.post(url, data={"title": "Changed", "start": "0", "target": "1"})
        assert response.status_code == 303, url
    assert "read-only" in page(client, response.headers["Location"])[1]
    db.session.refresh(signed)
    db.session.refresh(objective)
    assert signed.current_value == Decimal(1)
    assert objective.title == "Win the mid-market"
    assert len(objective.key_results) == 2


def test_carry_over_copies_unfinished_key_results_into_a_new_quarter(client, login, closed):
    workspace, owner, cycle, objective, signed, churn = closed
    html = page(client)[1]
    assert "Carry over unfinished key results" in html
    assert "2 key results of 1 objective scored below 1.0" in html
    assert "A new cycle, " in html
    response = client.post(f"/w/acme/okrs/cycles/{cycle.id}/carry-over", data={"target": "new"})
    assert response.status_code == 303
    target = db.session.scalar(db.select(Cycle).where(Cycle.id != cycle.id))
    assert target.state == "draft"
    # the quarter holding the day after the closed cycle (which need not end with a quarter)
    assert target.start <= cycle.end + timedelta(days=1) <= target.end
    html = page(client, response.headers["Location"])[1]
    assert f"Carried over 2 key results of 1 objective into {target.name}" in html
    copy = db.session.scalar(db.select(Initiative).where(Initiative.cycle_id == target.id))
    assert copy.title == objective.title
    assert copy.key != objective.key
    assert copy.owner_id == owner.id
    copies = {kr.carried_from_id: kr for kr in copy.key_results}
    assert copies[signed.id].start_value == Decimal(1)  # starts where the last one ended
    assert copies[churn.id].start_value == Decimal(7)
    assert copies[churn.id].target_value == Decimal(4)
    assert copies[churn.id].confidence == 5
    assert f"Carried over from {signed.key}" in html


def test_carrying_over_twice_duplicates_nothing(client, login, closed, make):
    workspace, owner, cycle, objective, signed, churn = closed
    target = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    html = page(client, f"/w/acme/okrs?cycle={cycle.id}")[1]
    assert "2027-Q1 (draft)" in html
    assert "A new cycle" not in html
    url = f"/w/acme/okrs/cycles/{cycle.id}/carry-over"
    client.post(url, data={"target": target.id})
    response = client.post(url, data={"target": target.id})
    assert "Nothing new to carry over" in page(client, response.headers["Location"])[1]
    assert (
        db.session.scalar(
            db.select(db.func.count(KeyResult.id)).where(KeyResult.carried_from_id.is_not(None))
        )
        == 2
    )
    assert (
        db.session.scalar(
            db.select(db.func.count(Initiative.id)).where(Initiative.cycle_id == target.id)
        )
        == 1
    )


def test_finished_key_results_stay_behind(client, login, okr, make):
    workspace, owner, cycle, objective, signed, churn = okr
    done = make.initiative(workspace, "Done deal", cycle=cycle)
    make.key_result(done, "Hit it", start=0, target=1, current=1)
    signed.current_value = Decimal(10)
    db.session.commit()
    login(owner)
    client.post(f"/w/acme/okrs/cycles/{cycle.id}/close")
    html = page(client)[1]
    assert "1 key result of 1 objective scored below 1.0" in html
    response = client.post(f"/w/acme/okrs/cycles/{cycle.id}/carry-over", data={"target": "new"})
    html = page(client, response.headers["Location"])[1]
    assert "Carried over 1 key result of 1 objective into" in html
    assert "Done deal" not in html


def test_carry_over_refuses_an_open_cycle_and_a_bad_target(client, login, okr, make):
    workspace, owner, cycle, *_ = okr
    login(owner)
    response = client.post(f"/w/acme/okrs/cycles/{cycle.id}/carry-over", data={"target": "new"})
    assert response.status_code == 303
    assert "close 2026-Q4 before carrying" in page(client, response.headers["Location"])[1]
    other = make.workspace(make.user(), mode="okr")
    theirs = make.cycle(other, "Theirs", state="draft")
    cycle.state = "closed"
    db.session.commit()
    response = client.post(f"/w/acme/okrs/cycles/{cycle.id}/carry-over", data={"target": theirs.id})
    assert "Choose a draft or active cycle" in page(client, response.headers["Location"])[1]
    assert db.session.scalar(db.select(db.func.count(Cycle.id))) == 2


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/w/acme/okrs/cycles/new"),
        ("post", "/w/acme/okrs/cycles/{cycle}/activate"),
        ("get", "/w/acme/okrs/cycles/{cycle}/close"),
        ("post", "/w/acme/okrs/cycles/{cycle}/close"),
        ("post", "/w/acme/okrs/cycles/{cycle}/carry-over"),
    ],
)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.UPDATER])
def test_cycles_are_managed_by_editors_only(client, login, okr, make, method, url, role):
    workspace, owner, cycle, *_ = okr
    login(make.member(workspace, role))
    response = getattr(client, method)(url.format(cycle=cycle.id))
    assert response.status_code == 403
    db.session.refresh(cycle)
    assert cycle.state == "active"

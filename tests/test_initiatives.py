"""Initiatives (Objectives on OKR pages) and their key results: create, edit, archive, order."""

from datetime import date
from decimal import Decimal

import pytest

from hub.domain.checkins import progress_history
from hub.extensions import db
from hub.models import CheckIn, Initiative, KeyResult, Role
from hub.models.base import utcnow


def squeeze(html):
    return " ".join(html.split())


def text_of(response):
    return squeeze(response.get_data(as_text=True))


@pytest.fixture
def okr(make):
    owner = make.user("olivia@example.com", name="Olivia Owner")
    workspace = make.workspace(owner, slug="acme", mode="okr")
    cycle = make.cycle(workspace, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "active")
    return workspace, owner, cycle


def objective_count():
    return db.session.scalar(db.select(db.func.count(Initiative.id)))


# ------------------------------------------------------------------------ initiatives


def test_a_new_objective_is_created_in_the_preselected_cycle(client, login, okr, make):
    workspace, owner, cycle = okr
    goal = make.goal(workspace, "Grow revenue")
    login(owner)
    html = text_of(client.get(f"/w/acme/initiatives/new?cycle={cycle.id}"))
    assert "New objective" in html
    assert f'<option selected value="{cycle.id}">2026-Q4 (active)</option>' in html
    assert "None — long-running" in html
    assert "Gauges" not in html  # okr mode: no KPIs
    response = client.post(
        "/w/acme/initiatives/new",
        data={
            "title": "  Win the mid-market ",
            "description": "Land five logos.",
            "goal": goal.id,
            "cycle": cycle.id,
            "owner": owner.id,
            "start": "2026-10-01",
            "due": "2026-12-31",
        },
    )
    assert response.status_code == 303
    initiative = db.session.scalar(db.select(Initiative))
    assert initiative.key == "I1"
    assert (initiative.title, initiative.goal_id, initiative.cycle_id, initiative.owner_id) == (
        "Win the mid-market",
        goal.id,
        cycle.id,
        owner.id,
    )
    assert response.headers["Location"].endswith(f"/w/acme/okrs?cycle={cycle.id}#objective-I1")
    assert "Objective I1 created" in text_of(client.get(response.headers["Location"]))


def test_keys_come_from_the_counter_and_are_never_reused(client, login, okr, make):
    workspace, owner, cycle = okr
    make.initiative(workspace, "Made by hand", key="I7")
    workspace.next_initiative_number = 8
    db.session.commit()
    login(owner)
    client.post("/w/acme/initiatives/new", data={"title": "One"})
    client.post("/w/acme/initiatives/new", data={"title": "Two"})
    keys = set(db.session.scalars(db.select(Initiative.key)))
    assert keys == {"I7", "I8", "I9"}


def test_kpi_mode_makes_long_running_initiatives_with_gauges(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="kpi")
    revenue = make.kpi(workspace, "K1", name="Revenue")
    churn = make.kpi(workspace, "K2", name="Churn")
    make.kpi(workspace, "K3", name="Old metric", archived_at=utcnow())
    login(owner)
    assert client.get("/w/acme/okrs").status_code == 404
    html = text_of(client.get("/w/acme/initiatives/new"))
    assert "New initiative" in html
    assert "None — long-running" not in html  # no cycles in KPI mode
    assert "K1 · Revenue" in html
    assert "K2 · Churn" in html
    assert "Old metric" not in html
    response = client.post(
        "/w/acme/initiatives/new",
        data={
            "title": "Self-serve onboarding",
            "gauges": [revenue.id, churn.id],
            "percent_complete": "20%",
        },
    )
    assert response.status_code == 303
    assert "/w/acme/okrs" not in response.headers["Location"]
    initiative = db.session.scalar(db.select(Initiative))
    assert initiative.cycle_id is None
    assert [k.key for k in initiative.gauges] == ["K1", "K2"]
    assert initiative.percent_complete == Decimal(20)
    [update] = progress_history(initiative)
    assert (update.old_percent, update.new_percent, update.user_id) == (None, Decimal(20), owner.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Give it a title."),
        ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"start": "2026-12-01", "due": "2026-11-01"}, "Must be on or after the start date."),
        ({"percent_complete": "150"}, "Must be from 0 to 100."),
        ({"percent_complete": "lots"}, "is not a number"),
        ({"owner": "999999"}, "Not a valid choice."),
        ({"goal": "abc"}, "Invalid Choice: could not coerce."),
        ({"cycle": "999999"}, "Not a valid choice."),
        ({"due": "31/12/2026"}, "Not a valid date value."),
    ],
)
def test_a_bad_objective_is_refused_beside_its_field_and_nothing_is_saved(
    client, login, okr, data, message
):
    workspace, owner, cycle = okr
    login(owner)
    response = client.post("/w/acme/initiatives/new", data={"title": "Valid", **data})
    assert response.status_code == 422
    html = text_of(response)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert objective_count() == 0
    assert workspace.next_initiative_number == 1


def test_another_workspaces_goal_owner_or_cycle_cannot_be_chosen(client, login, okr, make):
    workspace, owner, cycle = okr
    stranger = make.user()
    other = make.workspace(stranger, mode="okr")
    their_goal = make.goal(other, "Theirs")
    their_cycle = make.cycle(other, "Theirs", state="draft")
    login(owner)
    for data in ({"goal": their_goal.id}, {"cycle": their_cycle.id}, {"owner": stranger.id}):
        response = client.post("/w/acme/initiatives/new", data={"title": "Sneaky", **data})
        assert response.status_code == 422
        assert "Not a valid choice." in text_of(response)
    assert objective_count() == 0


def test_a_closed_cycle_is_not_offered_for_new_objectives(client, login, okr, make):
    workspace, owner, cycle = okr
    old = make.cycle(workspace, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "closed")
    login(owner)
    assert "2026-Q3" not in text_of(client.get("/w/acme/initiatives/new"))
    response = client.post("/w/acme/initiatives/new", data={"title": "Late", "cycle": old.id})
    assert response.status_code == 422
    assert objective_count() == 0


def test_editing_an_objective_keeps_its_key_and_records_percent_changes(client, login, okr, make):
    workspace, owner, cycle = okr
    initiative = make.initiative(workspace, "Hire a CFO", cycle=cycle)
    login(owner)
    html = text_of(client.get(f"/w/acme/initiatives/{initiative.key}/edit"))
    assert 'value="Hire a CFO"' in html
    assert "% complete" in html
    response = client.post(
        f"/w/acme/initiatives/{initiative.key}/edit",
        data={"title": "Hire a CFO and a CTO", "cycle": "", "percent_complete": "35"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/acme/okrs?cycle=none#objective-I1")
    db.session.refresh(initiative)
    assert (initiative.key, initiative.title, initiative.cycle_id) == (
        "I1",
        "Hire a CFO and a CTO",
        None,
    )
    assert initiative.percent_complete == Decimal(35)
    assert len(progress_history(initiative)) == 1


def test_an_objective_with_key_results_has_no_percent_field(client, login, okr, make):
    workspace, owner, cycle = okr
    initiative = make.initiative(workspace, "Grow", cycle=cycle)
    make.key_result(initiative, "Signups", start=0, target=10, current=5)
    login(owner)
    html = text_of(client.get(f"/w/acme/initiatives/{initiative.key}/edit"))
    assert 'name="percent_complete"' not in html
    assert "% complete comes from the key results" in html
    client.post(
        f"/w/acme/initiatives/{initiative.key}/edit",
        data={"title": "Grow", "cycle": cycle.id, "percent_complete": "90"},
    )
    db.session.refresh(initiative)
    assert initiative.percent_complete is None


def test_editing_keeps_gauges_hidden_by_the_mode(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="both")
    revenue = make.kpi(workspace, "K1", name="Revenue")
    initiative = make.initiative(workspace, "Grow", gauges=[revenue])
    workspace.mode = "okr"
    db.session.commit()
    login(owner)
    client.post(f"/w/acme/initiatives/{initiative.key}/edit", data={"title": "Grow more"})
    db.session.refresh(initiative)
    assert initiative.title == "Grow more"
    assert [k.key for k in initiative.gauges] == ["K1"]


def test_unticking_every_gauge_removes_them(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="kpi")
    revenue = make.kpi(workspace, "K1", name="Revenue")
    initiative = make.initiative(workspace, "Grow", gauges=[revenue])
    login(owner)
    client.post(f"/w/acme/initiatives/{initiative.key}/edit", data={"title": "Grow"})
    db.session.refresh(initiative)
    assert initiative.gauges == []


def test_another_workspaces_objective_is_not_found(client, login, okr, make):
    workspace, owner, cycle = okr
    other = make.workspace(make.user(), mode="okr")
    theirs = make.initiative(other, "Theirs", key="I42")
    make.key_result(theirs, key="KR42")
    login(owner)
    for url in (
        "/w/acme/initiatives/I42/edit",
        "/w/acme/initiatives/I42/key-results/new",
        "/w/acme/initiatives/I42/key-results/KR42/edit",
        "/w/acme/initiatives/I42/key-results/KR42/delete",
    ):
        assert client.get(url).status_code == 404, url
    for action in ("archive", "restore", "move"):
        assert client.post(f"/w/acme/initiatives/I42/{action}").status_code == 404
    db.session.refresh(theirs)
    assert theirs.archived_at is None


def test_archive_and_restore(client, login, okr, make):
    workspace, owner, cycle = okr
    initiative = make.initiative(workspace, "Side quest", cycle=cycle)
    login(owner)
    response = client.post(f"/w/acme/initiatives/{initiative.key}/archive")
    assert response.status_code == 303
    db.session.refresh(initiative)
    assert initiative.archived_at is not None
    html = text_of(client.get(response.headers["Location"]))
    assert "I1 archived" in html
    assert "Archived objectives" in html
    assert f'id="objective-{initiative.key}"' not in html
    client.post(f"/w/acme/initiatives/{initiative.key}/restore")
    db.session.refresh(initiative)
    assert initiative.archived_at is None
    assert f'id="objective-{initiative.key}"' in text_of(client.get("/w/acme/okrs"))


def test_objectives_move_up_and_down(client, login, okr, make):
    workspace, owner, cycle = okr
    first = make.initiative(workspace, "First", cycle=cycle, position=0)
    second = make.initiative(workspace, "Second", cycle=cycle, position=0)
    third = make.initiative(workspace, "Third", cycle=cycle, position=0)
    login(owner)

    def order():
        html = text_of(client.get("/w/acme/okrs"))
        return sorted(("First", "Second", "Third"), key=html.index)

    assert order() == ["First", "Second", "Third"]
    client.post(f"/w/acme/initiatives/{third.key}/move", data={"direction": "up"})
    assert order() == ["First", "Third", "Second"]
    client.post(f"/w/acme/initiatives/{first.key}/move", data={"direction": "down"})
    assert order() == ["Third", "First", "Second"]
    client.post(f"/w/acme/initiatives/{third.key}/move", data={"direction": "up"})  # already first
    assert order() == ["Third", "First", "Second"]
    assert (
        client.post(
            f"/w/acme/initiatives/{second.key}/move", data={"direction": "sideways"}
        ).status_code
        == 303
    )
    assert order() == ["Third", "First", "Second"]


# ------------------------------------------------------------------------ key results


@pytest.fixture
def objective(okr, make):
    workspace, owner, cycle = okr
    return make.initiative(workspace, "Win the mid-market", cycle=cycle)


def kr_url(objective, suffix="new"):
    return f"/w/acme/initiatives/{objective.key}/key-results/{suffix}"


def test_a_key_result_is_added_with_defaults(client, login, okr, objective):
    workspace, owner, cycle = okr
    login(owner)
    html = text_of(client.get(kr_url(objective)))
    assert 'name="confidence"' in html
    assert 'value="5"' in html
    assert 'name="weight"' in html
    assert 'value="1"' in html
    assert 'name="kpi"' not in html  # a linked KPI only in both mode
    response = client.post(
        kr_url(objective),
        data={
            "title": "Sign customers",
            "owner": owner.id,
            "start": "0",
            "target": "1,000",
            "unit": "number",
            "confidence": "5",
            "weight": "1",
        },
    )
    assert response.status_code == 303
    kr = db.session.scalar(db.select(KeyResult))
    assert (kr.key, kr.title, kr.start_value, kr.target_value, kr.current_value) == (
        "KR1",
        "Sign customers",
        Decimal(0),
        Decimal(1000),
        None,
    )
    assert (kr.confidence, kr.weight, kr.owner_id) == (5, Decimal(1), owner.id)
    assert "Key result KR1 added to I1" in text_of(client.get(response.headers["Location"]))


def test_start_equal_to_target_is_allowed_and_scores_only_on_target(client, login, okr, objective):
    workspace, owner, cycle = okr
    login(owner)
    response = client.post(
        kr_url(objective),
        data={
            "title": "Hold NPS at 50",
            "start": "50",
            "target": "50",
            "current": "49",
            "unit": "number",
            "confidence": "5",
            "weight": "1",
        },
    )
    assert response.status_code == 303
    html = text_of(client.get(f"/w/acme/okrs?cycle={cycle.id}"))
    assert "0.00</span> score" in html
    kr = db.session.scalar(db.select(KeyResult))
    client.post(
        f"/w/acme/initiatives/{objective.key}/key-results/{kr.key}/check-in",
        data={f"checkin-{kr.key}-value": "50"},
    )
    assert "1.00</span> score" in text_of(client.get(f"/w/acme/okrs?cycle={cycle.id}"))


def test_a_percent_key_result_takes_percent_signs(client, login, okr, objective):
    workspace, owner, cycle = okr
    login(owner)
    client.post(
        kr_url(objective),
        data={
            "title": "Cut churn",
            "start": "10%",
            "target": "4%",
            "unit": "percent",
            "confidence": "5",
            "weight": "1",
        },
    )
    kr = db.session.scalar(db.select(KeyResult))
    assert (kr.start_value, kr.target_value, kr.unit) == (Decimal(10), Decimal(4), "percent")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Say what will be measured."),
        ({"start": ""}, "Enter a number."),
        ({"target": "ten"}, "is not a number"),
        ({"confidence": "11"}, "Must be from 0 to 10."),
        ({"confidence": ""}, "Enter a number."),
        ({"weight": "0"}, "Must be above 0"),
        ({"weight": "-2"}, "Must be above 0"),
        ({"unit": "furlongs"}, "Not a valid choice."),
        ({"owner": "424242"}, "Not a valid choice."),
        ({"target": "12%"}, "this is not a percentage"),
    ],
)
def test_a_bad_key_result_is_refused_beside_its_field(client, login, okr, objective, data, message):
    workspace, owner, cycle = okr
    login(owner)
    form = {
        "title": "Valid",
        "start": "0",
        "target": "10",
        "unit": "number",
        "confidence": "5",
        "weight": "1",
        **data,
    }
    response = client.post(kr_url(objective), data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalar(db.select(db.func.count(KeyResult.id))) == 0
    assert workspace.next_key_result_number == 1


def test_a_key_result_can_follow_a_kpi_in_both_mode(client, login, make):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme", mode="both")
    mrr = make.kpi(workspace, "K1", name="MRR")
    objective = make.initiative(workspace, "Grow")
    login(owner)
    assert "K1 · MRR" in text_of(client.get(kr_url(objective)))
    client.post(
        kr_url(objective),
        data={
            "title": "MRR to 10k",
            "start": "0",
            "target": "10000",
            "current": "77",
            "kpi": mrr.id,
            "unit": "number",
            "confidence": "5",
            "weight": "1",
        },
    )
    kr = db.session.scalar(db.select(KeyResult))
    assert kr.kpi_id == mrr.id
    other = make.workspace(make.user())
    theirs = make.kpi(other, "K9")
    response = client.post(
        kr_url(objective),
        data={
            "title": "Sneaky",
            "start": "0",
            "target": "1",
            "kpi": theirs.id,
            "unit": "number",
            "confidence": "5",
            "weight": "1",
        },
    )
    assert response.status_code == 422
    assert "Not a valid choice." in text_of(response)


def test_editing_a_key_result_keeps_value_changes_in_its_history(
    client, login, okr, objective, make
):
    workspace, owner, cycle = okr
    kr = make.key_result(objective, "Signups", start=0, target=100, current=10)
    login(owner)
    html = text_of(client.get(kr_url(objective, f"{kr.key}/edit")))
    assert 'value="Signups"' in html
    assert 'value="10"' in html
    response = client.post(
        kr_url(objective, f"{kr.key}/edit"),
        data={
            "title": "Weekly signups",
            "start": "0",
            "target": "120",
            "current": "30",
            "unit": "number",
            "confidence": "7",
            "weight": "2",
        },
    )
    assert response.status_code == 303
    db.session.refresh(kr)
    assert (kr.title, kr.target_value, kr.current_value, kr.confidence, kr.weight) == (
        "Weekly signups",
        Decimal(120),
        Decimal(30),
        7,
        Decimal(2),
    )
    [entry] = kr.check_ins
    assert (entry.value, entry.confidence, entry.user_id) == (Decimal(30), 7, owner.id)
    client.post(
        kr_url(objective, f"{kr.key}/edit"),
        data={
            "title": "Weekly signups",
            "start": "0",
            "target": "120",
            "current": "",
            "unit": "number",
            "confidence": "7",
            "weight": "2",
        },
    )
    db.session.refresh(kr)
    assert kr.current_value is None
    assert [c.value for c in kr.check_ins] == [Decimal(30), None]


def test_deleting_a_key_result_asks_first_and_takes_its_check_ins(
    client, login, okr, objective, make
):
    workspace, owner, cycle = okr
    kr = make.key_result(objective, "Signups", start=0, target=100, current=10)
    keep = make.key_result(objective, "Revenue")
    db.session.add(CheckIn(key_result=kr, value=Decimal(10), confidence=5))
    db.session.commit()
    login(owner)
    html = text_of(client.get(kr_url(objective, f"{kr.key}/delete")))
    assert f"Delete key result {kr.key}?" in html
    assert "1 check-in." in html
    assert db.session.get(KeyResult, kr.id) is not None  # asking deletes nothing
    response = client.post(kr_url(objective, f"{kr.key}/delete"))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(KeyResult, kr.id) is None
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0
    assert db.session.get(KeyResult, keep.id) is not None
    html = text_of(client.get(response.headers["Location"]))
    assert f"Key result {kr.key} deleted with its 1 check-in" in html


def test_key_results_move_within_their_objective(client, login, okr, objective, make):
    workspace, owner, cycle = okr
    a = make.key_result(objective, "Alpha", position=0)
    b = make.key_result(objective, "Bravo", position=1)
    login(owner)
    response = client.post(kr_url(objective, f"{b.key}/move"), data={"direction": "up"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/initiatives/{objective.key}/edit#key-results")
    db.session.refresh(a)
    db.session.refresh(b)
    assert b.position < a.position
    html = text_of(client.get(f"/w/acme/okrs?cycle={cycle.id}"))
    assert html.index("Bravo") < html.index("Alpha")


def test_the_edit_page_lists_key_results_and_warns_above_five(client, login, okr, objective, make):
    workspace, owner, cycle = okr
    for n in range(6):
        make.key_result(objective, f"Result {n}")
    login(owner)
    html = text_of(client.get(f"/w/acme/initiatives/{objective.key}/edit"))
    assert 'Key results <span class="count">(6)</span>' in html
    assert "More than 5 key results: consider splitting this objective" in html


ROUTES = [
    ("get", "/w/acme/initiatives/new"),
    ("post", "/w/acme/initiatives/new"),
    ("get", "/w/acme/initiatives/{key}/edit"),
    ("post", "/w/acme/initiatives/{key}/edit"),
    ("post", "/w/acme/initiatives/{key}/archive"),
    ("post", "/w/acme/initiatives/{key}/restore"),
    ("post", "/w/acme/initiatives/{key}/move"),
    ("get", "/w/acme/initiatives/{key}/key-results/new"),
    ("post", "/w/acme/initiatives/{key}/key-results/new"),
    ("get", "/w/acme/initiatives/{key}/key-results/{kr}/edit"),
    ("post", "/w/acme/initiatives/{key}/key-results/{kr}/edit"),
    ("get", "/w/acme/initiatives/{key}/key-results/{kr}/delete"),
    ("post", "/w/acme/initiatives/{key}/key-results/{kr}/delete"),
    ("post", "/w/acme/initiatives/{key}/key-results/{kr}/move"),
]


@pytest.mark.parametrize(("method", "url"), ROUTES)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.UPDATER])
def test_only_editors_change_objectives_and_key_results(
    client, login, okr, objective, make, method, url, role
):
    workspace, owner, cycle = okr
    kr = make.key_result(objective, "Signups")
    login(make.member(workspace, role))
    response = getattr(client, method)(
        url.format(key=objective.key, kr=kr.key), data={"title": "Changed", "direction": "up"}
    )
    assert response.status_code == 403
    db.session.refresh(objective)
    assert objective.title == "Win the mid-market"
    assert objective.archived_at is None
    assert db.session.get(KeyResult, kr.id).title == "Signups"


def test_editors_may_do_it(client, login, okr, objective, make):
    workspace, owner, cycle = okr
    login(make.member(workspace, Role.EDITOR))
    response = client.post(f"/w/acme/initiatives/{objective.key}/edit", data={"title": "Edited"})
    assert response.status_code == 303
    db.session.refresh(objective)
    assert objective.title == "Edited"


def test_adding_a_sixth_key_result_is_warned_about(client, login, okr, objective, make):
    workspace, owner, cycle = okr
    for n in range(4):
        make.key_result(objective, f"Result {n}")
    login(owner)
    assert "consider splitting" not in text_of(client.get(kr_url(objective)))
    make.key_result(objective, "Fifth")
    html = text_of(client.get(kr_url(objective)))
    assert "I1 already has 5 key results" in html
    assert "consider splitting this objective" in html

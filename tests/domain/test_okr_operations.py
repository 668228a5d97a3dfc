"""OKR operations: cycle states, close-out, carry-over, initiative and key-result changes."""

from datetime import date
from decimal import Decimal

import pytest

from hub.domain import okrs
from hub.domain.checkins import progress_history
from hub.domain.errors import Invalid
from hub.domain.plan import CycleFields, InitiativeFields, KeyResultFields
from hub.extensions import db
from hub.models import Cycle, Initiative, KeyResult, Membership
from hub.models.base import utcnow

TODAY = date(2026, 11, 15)


@pytest.fixture
def ws(make):
    owner = make.user()
    workspace = make.workspace(owner, mode="okr")
    return workspace, owner


def problems(refused):
    return refused.value.problems


# ------------------------------------------------------------------------------ cycles


@pytest.mark.parametrize(
    ("fy_start", "today", "name", "start", "end"),
    [
        (1, date(2026, 11, 15), "2027-Q1", date(2027, 1, 1), date(2027, 3, 31)),
        (1, date(2026, 3, 31), "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        (4, date(2026, 11, 15), "FY2027-Q4", date(2027, 1, 1), date(2027, 3, 31)),
        (4, date(2026, 5, 2), "FY2027-Q2", date(2026, 7, 1), date(2026, 9, 30)),
        (7, date(2026, 8, 20), "FY2027-Q2", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_a_new_cycle_defaults_to_the_next_fiscal_quarter(make, fy_start, today, name, start, end):
    workspace = make.workspace(make.user(), fiscal_year_start_month=fy_start)
    defaults = okrs.new_cycle_defaults(workspace, today)
    assert (defaults.name, defaults.start, defaults.end, defaults.state) == (
        name,
        start,
        end,
        "draft",
    )


def test_the_default_skips_quarters_that_already_have_a_cycle(ws, make):
    workspace, _ = ws
    make.cycle(workspace, "2027-q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    assert okrs.new_cycle_defaults(workspace, TODAY).name == "2027-Q2"


def test_a_created_cycle_is_always_a_draft(ws):
    workspace, _ = ws
    cycle = okrs.create_cycle(
        workspace, CycleFields("2027-Q1", date(2027, 1, 1), date(2027, 3, 31), state="active")
    )
    assert cycle.state == "draft"


def test_only_a_draft_cycle_is_edited_and_names_stay_unique(ws, make):
    workspace, _ = ws
    draft = make.cycle(workspace, "Next", date(2027, 1, 1), date(2027, 3, 31), "draft")
    make.cycle(workspace, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "active")
    okrs.update_cycle(draft, CycleFields(" Next ", date(2027, 1, 4), date(2027, 3, 28)))
    assert (draft.name, draft.start, draft.end) == ("Next", date(2027, 1, 4), date(2027, 3, 28))
    with pytest.raises(Invalid) as refused:
        okrs.update_cycle(draft, CycleFields("2026-q4", date(2027, 1, 5), date(2027, 1, 1)))
    assert "name: there is already a cycle called '2026-q4'" in problems(refused)
    assert any(p.startswith("end: must be on or after the start") for p in problems(refused))
    assert (draft.name, draft.start) == ("Next", date(2027, 1, 4))
    draft.state = "active"
    with pytest.raises(Invalid, match="only a draft cycle can be edited"):
        okrs.update_cycle(draft, CycleFields("Renamed", draft.start, draft.end))


def test_one_active_cycle_at_a_time_and_closed_stays_closed(ws, make):
    workspace, _ = ws
    active = make.cycle(workspace, "2026-Q4", state="active")
    draft = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    with pytest.raises(Invalid) as refused:
        okrs.activate_cycle(draft)
    assert problems(refused) == [
        "state: Close 2026-Q4 first: only one cycle can be active at a time"
    ]
    assert draft.state == "draft"
    okrs.activate_cycle(active)  # already active: nothing to do
    active.state = "closed"
    okrs.activate_cycle(draft)
    assert draft.state == "active"
    with pytest.raises(Invalid, match="cannot be reopened"):
        okrs.activate_cycle(active)


def test_cycles_are_listed_newest_first_and_default_to_the_active_one(ws, make):
    workspace, _ = ws
    assert okrs.default_cycle(okrs.cycles_of(workspace)) is None
    q3 = make.cycle(workspace, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "active")
    q1 = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    assert okrs.cycles_of(workspace) == [q1, q3]
    assert okrs.default_cycle(okrs.cycles_of(workspace)) == q3
    q3.state = "closed"
    assert okrs.default_cycle(okrs.cycles_of(workspace)) == q1


# --------------------------------------------------------------------------- the board


def test_the_board_scores_decreasing_and_hold_the_line_key_results(ws, make):
    workspace, _ = ws
    cycle = make.cycle(workspace, state="active")
    objective = make.initiative(workspace, "Leaner", cycle=cycle)
    make.key_result(objective, "Churn 10 → 4", start=10, target=4, current=7)
    make.key_result(objective, "Overshoot", start=10, target=4, current=2)
    make.key_result(objective, "Hold 50", start=50, target=50, current=50)
    make.key_result(objective, "Missed hold", start=50, target=50, current=51)
    [card] = okrs.okr_board(workspace, cycle, TODAY).cards
    assert [k.score for k in card.key_results] == [
        Decimal("0.50"),
        Decimal("1.00"),
        Decimal("1.00"),
        Decimal("0.00"),
    ]
    assert card.score == Decimal("0.63")  # (0.5 + 1 + 1 + 0) / 4 = 0.625, half up


def test_the_board_separates_archived_and_other_cycles(ws, make):
    workspace, _ = ws
    cycle = make.cycle(workspace, state="active")
    live = make.initiative(workspace, "Live", cycle=cycle)
    gone = make.initiative(workspace, "Gone", cycle=cycle, archived_at=utcnow())
    loose = make.initiative(workspace, "Long-running")
    board = okrs.okr_board(workspace, cycle, TODAY)
    assert [c.initiative for c in board.cards] == [live]
    assert board.archived == [gone]
    assert [c.initiative for c in okrs.okr_board(workspace, None, TODAY).cards] == [loose]


# --------------------------------------------------------------------------- close-out


@pytest.fixture
def quarter(ws, make):
    """An active cycle with a scored objective (0.30), a hand-tracked one (40 %)."""
    workspace, owner = ws
    cycle = make.cycle(workspace, "2026-Q4", state="active")
    scored = make.initiative(workspace, "Scored", cycle=cycle, owner=owner)
    signed = make.key_result(scored, "Signed", start=0, target=10, current=1)
    churn = make.key_result(scored, "Churn", start=10, target=4, current=7)
    hand = make.initiative(workspace, "By hand", cycle=cycle, percent_complete=Decimal(40))
    return workspace, owner, cycle, scored, signed, churn, hand


def test_close_out_rows_show_computed_scores(quarter):
    workspace, owner, cycle, scored, signed, churn, hand = quarter
    rows = {row.initiative.key: row for row in okrs.close_out_rows(cycle, TODAY)}
    assert (rows[scored.key].score, rows[scored.key].scored) == (Decimal("0.30"), True)
    assert (rows[hand.key].score, rows[hand.key].scored) == (Decimal("0.40"), False)


def test_closing_records_computed_and_manual_final_scores(quarter):
    workspace, owner, cycle, scored, signed, churn, hand = quarter
    okrs.close_cycle(cycle, {scored.key: None, hand.key: Decimal("0.55")}, TODAY)
    assert cycle.state == "closed"
    assert cycle.closed_at is not None
    assert (scored.final_score, scored.final_score_manual) == (Decimal("0.30"), False)
    assert (hand.final_score, hand.final_score_manual) == (Decimal("0.55"), True)


@pytest.mark.parametrize(
    ("score", "problem"),
    [
        (Decimal("1.01"), "the final score must be from 0 to 1"),
        (Decimal("-0.5"), "the final score must be from 0 to 1"),
        (Decimal("0.123"), "the final score has at most two decimals"),
    ],
)
def test_a_bad_manual_score_closes_nothing(quarter, score, problem):
    workspace, owner, cycle, scored, signed, churn, hand = quarter
    with pytest.raises(Invalid) as refused:
        okrs.close_cycle(cycle, {scored.key: score}, TODAY)
    assert any(p.startswith(f"{scored.key}: {problem}") for p in problems(refused))
    assert cycle.state == "active"
    assert scored.final_score is None
    assert hand.final_score is None


def test_only_the_active_cycle_closes(ws, make):
    workspace, _ = ws
    draft = make.cycle(workspace, "2027-Q1", state="draft")
    with pytest.raises(Invalid, match="only the active cycle is closed"):
        okrs.close_cycle(draft, {}, TODAY)
    assert draft.state == "draft"


def test_a_kr_following_a_kpi_keeps_its_value_at_close(make):
    owner = make.user()
    workspace = make.workspace(owner, mode="both")
    cycle = make.cycle(workspace, state="active")
    mrr = make.kpi(workspace, "K1", name="MRR")
    make.value(mrr, "2026-11-09", 60)
    objective = make.initiative(workspace, "Grow", cycle=cycle)
    kr = make.key_result(objective, "MRR to 100", start=0, target=100, kpi=mrr)
    okrs.close_cycle(cycle, {}, TODAY)
    db.session.commit()
    assert kr.current_value == Decimal(60)
    assert objective.final_score == Decimal("0.60")
    make.value(mrr, "2026-11-16", 100)  # the KPI moves on; the closed cycle does not
    [card] = okrs.okr_board(workspace, cycle, TODAY).cards
    assert card.key_results[0].score == Decimal("0.60")
    assert card.score == Decimal("0.60")


# --------------------------------------------------------------------------- carry-over


@pytest.fixture
def closed(quarter):
    workspace, owner, cycle, scored, signed, churn, hand = quarter
    done = make_done = Initiative(workspace=workspace, key="I90", title="Done", cycle=cycle)
    db.session.add(make_done)
    db.session.add(
        KeyResult(
            workspace_id=workspace.id,
            initiative=done,
            key="KR90",
            title="Hit",
            start_value=Decimal(0),
            target_value=Decimal(1),
            current_value=Decimal(1),
        )
    )
    db.session.flush()
    okrs.close_cycle(cycle, {}, TODAY)
    db.session.commit()
    return quarter


def test_carry_over_copies_unfinished_key_results(closed, make):
    workspace, owner, cycle, scored, signed, churn, hand = closed
    target = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    scored.description = "Land five logos."
    churn.confidence = 2
    churn.weight = Decimal(3)
    db.session.commit()
    done = okrs.carry_over(cycle, target, TODAY)
    assert (done.target, done.key_results, done.objectives, done.created_cycle) == (
        target,
        2,
        1,
        False,
    )
    [copy] = db.session.scalars(db.select(Initiative).where(Initiative.cycle_id == target.id))
    assert (copy.title, copy.description, copy.owner_id) == (
        "Scored",
        "Land five logos.",
        owner.id,
    )
    assert copy.key not in (scored.key, hand.key)
    krs = {kr.carried_from_id: kr for kr in copy.key_results}
    assert set(krs) == {signed.id, churn.id}
    assert (krs[signed.id].start_value, krs[signed.id].target_value) == (Decimal(1), Decimal(10))
    assert krs[signed.id].current_value == Decimal(1)
    assert (krs[churn.id].start_value, krs[churn.id].target_value) == (Decimal(7), Decimal(4))
    assert (krs[churn.id].confidence, krs[churn.id].weight) == (5, Decimal(3))
    assert krs[churn.id].key not in (signed.key, churn.key)


def test_carry_over_is_idempotent_and_fills_gaps_into_the_same_copy(closed, make):
    workspace, owner, cycle, scored, signed, churn, hand = closed
    target = make.cycle(workspace, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "draft")
    okrs.carry_over(cycle, target, TODAY)
    again = okrs.carry_over(cycle, target, TODAY)
    assert (again.key_results, again.objectives) == (0, 0)
    [copy] = db.session.scalars(db.select(Initiative).where(Initiative.cycle_id == target.id))
    assert len(copy.key_results) == 2
    # One copied KR deleted by hand: carrying again brings back only that one, same objective.
    lost = next(kr for kr in copy.key_results if kr.carried_from_id == churn.id)
    okrs.delete_key_result(lost)
    refill = okrs.carry_over(cycle, target, TODAY)
    assert (refill.key_results, refill.objectives) == (1, 1)
    assert (
        db.session.scalar(
            db.select(db.func.count(Initiative.id)).where(Initiative.cycle_id == target.id)
        )
        == 1
    )
    assert {kr.carried_from_id for kr in copy.key_results} == {signed.id, churn.id}


def test_carry_over_can_create_the_next_quarter(closed):
    workspace, owner, cycle, scored, signed, churn, hand = closed
    done = okrs.carry_over(cycle, None, TODAY)
    assert done.created_cycle
    assert (done.target.name, done.target.state) == ("2027-Q1", "draft")
    assert (done.target.start, done.target.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert done.key_results == 2


def test_carry_over_refusals(quarter, make):
    workspace, owner, cycle, scored, signed, churn, hand = quarter
    with pytest.raises(Invalid, match="close 2026-Q4 before carrying"):
        okrs.carry_over(cycle, None, TODAY)
    cycle.state = "closed"
    old = make.cycle(workspace, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "closed")
    with pytest.raises(Invalid, match="2026-Q3 is closed; choose a draft or active cycle"):
        okrs.carry_over(cycle, old, TODAY)
    with pytest.raises(Invalid, match="another cycle"):
        okrs.carry_over(cycle, cycle, TODAY)
    theirs = make.cycle(make.workspace(make.user()), "Theirs", state="draft")
    with pytest.raises(Invalid, match="not a cycle of this workspace"):
        okrs.carry_over(cycle, theirs, TODAY)
    assert db.session.scalar(db.select(db.func.count(KeyResult.id))) == 2


def test_carry_over_drops_owners_who_left_and_archived_gauges(make):
    owner = make.user()
    workspace = make.workspace(owner, mode="both")
    leaver = make.member(workspace, "editor")
    cycle = make.cycle(workspace, state="active")
    live_kpi = make.kpi(workspace, "K1")
    old_kpi = make.kpi(workspace, "K2", archived_at=utcnow())
    objective = make.initiative(
        workspace, "Grow", cycle=cycle, owner=leaver, gauges=[live_kpi, old_kpi]
    )
    make.key_result(objective, "More", start=0, target=10, current=3, owner=leaver)
    okrs.close_cycle(cycle, {}, TODAY)
    db.session.execute(db.delete(Membership).where(Membership.user_id == leaver.id))
    db.session.commit()
    done = okrs.carry_over(cycle, None, TODAY)
    [copy] = db.session.scalars(db.select(Initiative).where(Initiative.cycle_id == done.target.id))
    assert copy.owner_id is None
    assert [k.key for k in copy.gauges] == ["K1"]
    assert copy.key_results[0].owner_id is None


def test_a_carried_kr_following_a_kpi_starts_from_its_latest_value(make):
    owner = make.user()
    workspace = make.workspace(owner, mode="both")
    cycle = make.cycle(workspace, state="active")
    mrr = make.kpi(workspace, "K1")
    make.value(mrr, "2026-11-09", 30)
    objective = make.initiative(workspace, "Grow", cycle=cycle)
    make.key_result(objective, "MRR", start=0, target=100, kpi=mrr)
    okrs.close_cycle(cycle, {}, TODAY)
    make.value(mrr, "2026-11-16", 45)
    done = okrs.carry_over(cycle, None, TODAY)
    copy = db.session.scalar(db.select(KeyResult).where(KeyResult.carried_from_id.is_not(None)))
    assert done.key_results == 1
    assert (copy.start_value, copy.current_value, copy.kpi_id) == (Decimal(45), None, mrr.id)


# ------------------------------------------------------------------------ initiatives


def test_add_initiative_puts_a_typed_percent_into_the_history(ws):
    workspace, owner = ws
    initiative = okrs.add_initiative(
        workspace, InitiativeFields("Hire", percent_complete=Decimal(25)), owner
    )
    assert initiative.percent_complete == Decimal(25)
    assert [u.new_percent for u in progress_history(initiative)] == [Decimal(25)]


def test_no_objective_is_added_to_a_closed_cycle(ws, make):
    workspace, owner = ws
    closed = make.cycle(workspace, state="closed")
    with pytest.raises(Invalid, match="2026-Q4 is closed"):
        okrs.add_initiative(workspace, InitiativeFields("Late", cycle=closed), owner)
    assert db.session.scalar(db.select(db.func.count(Initiative.id))) == 0


def test_update_initiative_checks_everything_before_changing_anything(ws, make):
    workspace, owner = ws
    stranger = make.user()
    initiative = make.initiative(workspace, "Grow", owner=owner)
    make.key_result(initiative, "KR")
    fields = InitiativeFields(
        "",
        owner=stranger,
        start=date(2026, 12, 1),
        due=date(2026, 11, 1),
        percent_complete=Decimal(50),
    )
    with pytest.raises(Invalid) as refused:
        okrs.update_initiative(initiative, fields, owner)
    assert "title: must not be empty" in problems(refused)
    assert f"owner: {stranger.email} is not a member of this workspace" in problems(refused)
    assert any(p.startswith("due: must be on or after the start") for p in problems(refused))
    assert any(
        p.startswith("percent_complete: this initiative is scored") for p in problems(refused)
    )
    assert (initiative.title, initiative.owner_id, initiative.due_date) == ("Grow", owner.id, None)


def test_an_objective_of_a_closed_cycle_is_read_only(ws, make):
    workspace, owner = ws
    closed = make.cycle(workspace, state="closed")
    initiative = make.initiative(workspace, "Old", cycle=closed)
    kr = make.key_result(initiative, current=3)
    with pytest.raises(Invalid, match="read-only"):
        okrs.update_initiative(initiative, InitiativeFields("New", cycle=closed), owner)
    with pytest.raises(Invalid, match="read-only"):
        okrs.check_in(kr, value=Decimal(9), confidence=None, note="", user=owner)
    with pytest.raises(Invalid, match="read-only"):
        okrs.add_key_result(initiative, KeyResultFields("More", Decimal(0), Decimal(1)))
    with pytest.raises(Invalid, match="read-only"):
        okrs.update_key_result(kr, KeyResultFields("Changed", Decimal(0), Decimal(1)), owner)
    with pytest.raises(Invalid, match="read-only"):
        okrs.delete_key_result(kr)
    assert (initiative.title, kr.current_value, kr.title) == ("Old", Decimal(3), kr.title)


def test_moving_an_objective_into_a_closed_cycle_is_refused(ws, make):
    workspace, owner = ws
    closed = make.cycle(workspace, "Old", state="closed")
    initiative = make.initiative(workspace, "Loose")
    with pytest.raises(Invalid, match="Old is closed"):
        okrs.update_initiative(initiative, InitiativeFields("Loose", cycle=closed), owner)
    assert initiative.cycle_id is None


def test_archive_restore_and_move(ws, make):
    workspace, owner = ws
    a = make.initiative(workspace, "A", position=5)
    b = make.initiative(workspace, "B", position=5)
    c = make.initiative(workspace, "C", position=9)
    okrs.archive_initiative(b)
    assert b.archived_at is not None
    assert okrs.move_initiative(c, -1)  # b is archived: c moves above a
    assert [i.title for i in sorted((a, c), key=lambda i: (i.position, i.id))] == ["C", "A"]
    assert not okrs.move_initiative(c, -1)
    assert not okrs.move_initiative(b, 1)  # archived ones are not ordered
    okrs.restore_initiative(b)
    assert b.archived_at is None


# ------------------------------------------------------------------------ key results


def test_update_key_result_records_value_and_confidence_changes(ws, make):
    workspace, owner = ws
    initiative = make.initiative(workspace, "Grow")
    kr = make.key_result(initiative, "Signups", start=0, target=10, current=2)
    okrs.update_key_result(
        kr,
        KeyResultFields("Signups", Decimal(0), Decimal(12), current=Decimal(4), confidence=8),
        owner,
    )
    assert (kr.target_value, kr.current_value, kr.confidence) == (Decimal(12), Decimal(4), 8)
    assert [(c.value, c.confidence) for c in kr.check_ins] == [(Decimal(4), 8)]
    okrs.update_key_result(
        kr,
        KeyResultFields("Signups!", Decimal(0), Decimal(12), current=Decimal(4), confidence=8),
        owner,
    )
    assert len(kr.check_ins) == 1  # only the title changed: no check-in


def test_update_key_result_refuses_bad_fields_and_strangers(ws, make):
    workspace, owner = ws
    initiative = make.initiative(workspace, "Grow")
    kr = make.key_result(initiative, "Signups")
    theirs = make.kpi(make.workspace(make.user()), "K1")
    fields = KeyResultFields(
        " ", Decimal(0), Decimal(1), owner=make.user(), confidence=12, weight=Decimal(0), kpi=theirs
    )
    with pytest.raises(Invalid) as refused:
        okrs.update_key_result(kr, fields, owner)
    found = problems(refused)
    for start in ("title:", "owner:", "confidence:", "weight:", "kpi:"):
        assert any(p.startswith(start) for p in found), (start, found)
    assert kr.title == "Signups"


def test_deleting_a_key_result_unlinks_its_carried_copies(ws, make):
    workspace, owner = ws
    first = make.initiative(workspace, "First")
    second = make.initiative(workspace, "Second")
    source = make.key_result(first, "Source")
    copy = make.key_result(second, "Copy", carried_from_id=source.id)
    okrs.delete_key_result(source)
    db.session.commit()
    assert db.session.get(KeyResult, source.id) is None
    assert copy.carried_from_id is None
    assert first.key_results == []


def test_key_results_move_within_their_objective(ws, make):
    workspace, owner = ws
    initiative = make.initiative(workspace, "Grow")
    a = make.key_result(initiative, "A", position=0)
    b = make.key_result(initiative, "B", position=0)
    assert okrs.move_key_result(b, -1)
    assert b.position < a.position
    assert not okrs.move_key_result(b, -1)
    assert okrs.move_key_result(b, 1)
    assert a.position < b.position


def test_check_in_goes_through_the_history(ws, make):
    workspace, owner = ws
    cycle = make.cycle(workspace, state="active")
    kr = make.key_result(make.initiative(workspace, "Grow", cycle=cycle), current=1)
    entry = okrs.check_in(kr, value=Decimal(3), confidence=6, note="Up", user=owner)
    assert (entry.value, entry.confidence, entry.note) == (Decimal(3), 6, "Up")
    assert kr.current_value == Decimal(3)


def test_look_ups_stay_in_their_workspace(ws, make):
    workspace, owner = ws
    other = make.workspace(make.user())
    cycle = make.cycle(other)
    theirs = make.initiative(other, "Theirs", key="I5")
    with pytest.raises(Exception, match="no such cycle"):
        okrs.find_cycle(workspace, cycle.id)
    with pytest.raises(Exception, match="no initiative 'I5'"):
        okrs.find_initiative(workspace, "I5")
    assert okrs.find_initiative(other, "I5") == theirs
    assert db.session.scalar(db.select(db.func.count(Cycle.id))) == 1

"""Key-result check-ins and hand-tracked % complete, with their history."""

from decimal import Decimal

import pytest

from hub.domain.checkins import (
    check_in_history,
    progress_history,
    record_check_in,
    set_percent_complete,
)
from hub.domain.errors import Invalid


@pytest.fixture
def okr(make):
    owner = make.user()
    workspace = make.workspace(owner)
    initiative = make.initiative(workspace, "Launch referrals")
    return owner, workspace, initiative


def test_a_check_in_updates_the_kr_and_is_kept(okr, make, db):
    owner, workspace, initiative = okr
    kr = make.key_result(initiative, start=0, target=100, current=10)
    record_check_in(kr, value=Decimal("42.5"), confidence=7, note="Good week", user=owner)
    db.session.commit()
    assert kr.current_value == Decimal("42.5")
    assert kr.confidence == 7
    [entry] = check_in_history(kr)
    assert (entry.value, entry.confidence, entry.note, entry.user_id) == (
        Decimal("42.5"),
        7,
        "Good week",
        owner.id,
    )


def test_nothing_changed_records_nothing(okr, make):
    owner, workspace, initiative = okr
    kr = make.key_result(initiative, current=10)
    assert record_check_in(kr, value=Decimal(10), confidence=5, user=owner) is None
    assert check_in_history(kr) == []


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"value": Decimal("NaN")}, "value: value must be a finite number"),
        ({"value": Decimal("1e30")}, "value: value is too large"),
        ({"confidence": 11}, "confidence: must be a whole number from 0 to 10"),
        ({"confidence": -1}, "confidence: must be a whole number from 0 to 10"),
        ({"confidence": True}, "confidence: must be a whole number from 0 to 10"),
        ({"note": "x" * 281}, "note: must be at most 280 characters"),
    ],
)
def test_bad_check_ins_are_refused_and_change_nothing(okr, make, kwargs, problem):
    owner, workspace, initiative = okr
    kr = make.key_result(initiative, current=10)
    with pytest.raises(Invalid) as refused:
        record_check_in(kr, **{"value": None, **kwargs}, user=owner)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert kr.current_value == Decimal(10)
    assert kr.confidence == 5
    assert check_in_history(kr) == []


def test_a_kr_linked_to_a_kpi_takes_confidence_only(okr, make):
    owner, workspace, initiative = okr
    kpi = make.kpi(workspace)
    kr = make.key_result(initiative, kpi=kpi)
    with pytest.raises(Invalid, match="follows its KPI"):
        record_check_in(kr, value=Decimal(5), user=owner)
    assert record_check_in(kr, value=None, confidence=8, user=owner).confidence == 8


def test_percent_complete_is_kept_with_its_history(okr, db):
    owner, workspace, initiative = okr
    set_percent_complete(initiative, Decimal(30), user=owner)
    set_percent_complete(initiative, Decimal("30.0"), user=owner)  # the same: no entry
    set_percent_complete(initiative, Decimal(55), user=owner)
    db.session.commit()
    history = progress_history(initiative)
    assert [(u.old_percent, u.new_percent) for u in history] == [
        (Decimal(30), Decimal(55)),
        (None, Decimal(30)),
    ]


@pytest.mark.parametrize("percent", [Decimal(-1), Decimal("100.01"), Decimal("Infinity")])
def test_percent_outside_0_to_100_is_refused(okr, percent):
    owner, workspace, initiative = okr
    with pytest.raises(Invalid):
        set_percent_complete(initiative, percent, user=owner)
    assert initiative.percent_complete is None


def test_a_scored_initiative_has_no_hand_typed_percent(okr, make):
    owner, workspace, initiative = okr
    make.key_result(initiative)
    with pytest.raises(Invalid, match="scored by its key results"):
        set_percent_complete(initiative, Decimal(50), user=owner)

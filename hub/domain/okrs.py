"""OKR operations: cycle states, close-out, carry-over, and changes to initiatives and KRs.

A cycle goes draft → active → closed, with at most one active cycle per workspace. A
closed cycle is read-only: its objectives keep the final score recorded at close (a
manual override is flagged), and its unfinished key results can be carried over into a
draft or active cycle. Creating things goes through hub.domain.plan; every KR value
change goes through hub.domain.checkins so it is kept in the history. Operations flush;
the caller commits. Refusals are `Invalid` with every problem as "field: reason".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.domain import plan
from hub.domain.checkins import clear_current, record_check_in, set_percent_complete
from hub.domain.errors import Invalid, NotFound
from hub.domain.lifecycle import move_among, set_archived
from hub.domain.periods import quarter_bounds, quarter_name
from hub.domain.scorecard import InitiativeCard, initiative_cards, latest_values
from hub.extensions import db
from hub.models import (
    CheckIn,
    Cycle,
    CycleState,
    Goal,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    Membership,
    User,
    Workspace,
)
from hub.models.base import utcnow

ONE = Decimal(1)
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------- look-ups


def cycles_of(workspace: Workspace) -> list[Cycle]:
    """The workspace's cycles, newest (latest start) first."""
    return list(
        db.session.scalars(
            select(Cycle)
            .where(Cycle.workspace_id == workspace.id)
            .order_by(Cycle.start.desc(), Cycle.id.desc())
        )
    )


def default_cycle(cycles: list[Cycle]) -> Cycle | None:
    """The cycle a page opens on: the active one, else the newest."""
    active = [c for c in cycles if c.state == CycleState.ACTIVE]
    return (active or cycles or [None])[0]


def find_cycle(workspace: Workspace, cycle_id: int) -> Cycle:
    """The workspace's cycle with this id, or NotFound (another workspace's too)."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None or cycle.workspace_id != workspace.id:
        raise NotFound("There is no such cycle in this workspace.")
    return cycle


def find_initiative(workspace: Workspace, key: str) -> Initiative:
    """The workspace's initiative with this key, or NotFound."""
    initiative = db.session.scalar(
        select(Initiative).where(Initiative.workspace_id == workspace.id, Initiative.key == key)
    )
    if initiative is None:
        raise NotFound(f"There is no initiative {key[:40]!r} in this workspace.")
    return initiative


def find_key_result(initiative: Initiative, key: str) -> KeyResult:
    """The initiative's key result with this key, or NotFound."""
    kr = db.session.scalar(
        select(KeyResult).where(KeyResult.initiative_id == initiative.id, KeyResult.key == key)
    )
    if kr is None:
        raise NotFound(f"There is no key result {key[:40]!r} in {initiative.key}.")
    return kr


def member_users(workspace: Workspace) -> list[User]:
    """The workspace's members, by display name: the people who may own things."""
    users = db.session.scalars(
        select(User).join(Membership).where(Membership.workspace_id == workspace.id)
    ).all()
    return sorted(users, key=lambda user: (user.display_name.casefold(), user.email))


def live_goals(workspace: Workspace) -> list[Goal]:
    """Goals that are not archived, in plan order."""
    return list(
        db.session.scalars(
            select(Goal)
            .where(Goal.workspace_id == workspace.id, Goal.archived_at.is_(None))
            .order_by(Goal.position, Goal.id)
        )
    )


def live_kpis(workspace: Workspace) -> list[Kpi]:
    """KPIs that are not archived, in plan order: the ones a bet may target or follow."""
    return list(
        db.session.scalars(
            select(Kpi)
            .where(Kpi.workspace_id == workspace.id, Kpi.archived_at.is_(None))
            .order_by(Kpi.position, Kpi.id)
        )
    )


# ------------------------------------------------------------------------ read model


@dataclass
class OkrBoard:
    """One cycle's objectives (or the long-running ones, `cycle=None`) as the page shows them."""

    workspace: Workspace
    cycle: Cycle | None
    cards: list[InitiativeCard]
    archived: list[Initiative]
    kpi_latest: dict[int, KpiValue]
    # KR id → key of the KR it was carried over from
    carried_from: dict[int, str] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.cycle is not None and self.cycle.state == CycleState.CLOSED

    def unfinished(self) -> list[tuple[Initiative, list[KeyResult]]]:
        """Objectives with key results scored below 1, and those key results."""
        found = []
        for card in self.cards:
            krs = [k.kr for k in card.key_results if k.score < ONE]
            if krs:
                found.append((card.initiative, krs))
        return found


def _initiatives_query(workspace: Workspace, cycle: Cycle | None) -> Any:
    return (
        select(Initiative)
        .where(
            Initiative.workspace_id == workspace.id,
            Initiative.cycle_id.is_(None) if cycle is None else Initiative.cycle_id == cycle.id,
        )
        .options(
            selectinload(Initiative.owner),
            selectinload(Initiative.goal),
            selectinload(Initiative.cycle),
            selectinload(Initiative.gauges),
            selectinload(Initiative.key_results).selectinload(KeyResult.owner),
            selectinload(Initiative.key_results).selectinload(KeyResult.kpi),
            selectinload(Initiative.key_results)
            .selectinload(KeyResult.check_ins)
            .selectinload(CheckIn.user),
        )
        .order_by(Initiative.position, Initiative.id)
    )


def okr_board(workspace: Workspace, cycle: Cycle | None, today: date) -> OkrBoard:
    """A cycle's objectives with scores, statuses and KRs, in a fixed number of queries.

    In a closed cycle a KR linked to a KPI keeps the value it had at close (stored then),
    so its score no longer moves with the KPI.
    """
    initiatives = db.session.scalars(_initiatives_query(workspace, cycle)).all()
    live = [i for i in initiatives if i.archived_at is None]
    archived = [i for i in initiatives if i.archived_at is not None]
    closed = cycle is not None and cycle.state == CycleState.CLOSED
    linked = sorted({kr.kpi_id for i in live for kr in i.key_results if kr.kpi_id})
    kpi_latest = latest_values(linked) if linked else {}
    cards = initiative_cards(live, {} if closed else kpi_latest, today)
    sources = [kr.carried_from_id for i in live for kr in i.key_results if kr.carried_from_id]
    carried_from = {}
    if sources:
        rows = db.session.execute(
            select(KeyResult.id, KeyResult.key).where(KeyResult.id.in_(sources))
        ).all()
        keys = {kr_id: key for kr_id, key in rows}
        carried_from = {
            kr.id: keys[kr.carried_from_id]
            for i in live
            for kr in i.key_results
            if kr.carried_from_id in keys
        }
    return OkrBoard(workspace, cycle, cards, archived, kpi_latest, carried_from)


# ----------------------------------------------------------------------------- cycles


def next_quarter(workspace: Workspace, after: date) -> plan.CycleFields:
    """A draft cycle for the first (fiscal) quarter after `after` whose name is free."""
    day = after + timedelta(days=1)
    taken = {
        name.lower()
        for name in db.session.scalars(select(Cycle.name).where(Cycle.workspace_id == workspace.id))
    }
    fy_start = workspace.fiscal_year_start_month
    while True:
        start, end = quarter_bounds(day, fy_start)
        name = quarter_name(day, fy_start)
        if name.lower() not in taken:
            return plan.CycleFields(name=name, start=start, end=end)
        day = end + timedelta(days=1)


def new_cycle_defaults(workspace: Workspace, today: date) -> plan.CycleFields:
    """What the new-cycle form suggests: the next quarter after today's that is free."""
    return next_quarter(workspace, quarter_bounds(today, workspace.fiscal_year_start_month)[1])


def create_cycle(workspace: Workspace, fields: plan.CycleFields) -> Cycle:
    """A new draft cycle (it is activated separately, when the previous one is closed)."""
    return plan.create_cycle(workspace, replace(fields, state=CycleState.DRAFT))


def update_cycle(cycle: Cycle, fields: plan.CycleFields) -> None:
    """Rename a draft cycle or change its dates; active and closed cycles keep theirs."""
    problems = []
    if cycle.state != CycleState.DRAFT:
        problems.append(f"name: {cycle.name} is {cycle.state}; only a draft cycle can be edited")
    problems += plan.CycleFields(fields.name, fields.start, fields.end).problems()
    taken = db.session.scalar(
        select(Cycle.id).where(
            Cycle.workspace_id == cycle.workspace_id,
            func.lower(Cycle.name) == fields.name.strip().lower(),
            Cycle.id != cycle.id,
        )
    )
    if taken is not None:
        problems.append(f"name: there is already a cycle called {fields.name.strip()!r}")
    _refuse(problems)
    cycle.name = fields.name.strip()
    cycle.start = fields.start
    cycle.end = fields.end
    db.session.flush()


def activate_cycle(cycle: Cycle) -> None:
    """Make a draft cycle the active one; refused while another cycle is active."""
    if cycle.state == CycleState.ACTIVE:
        return
    if cycle.state == CycleState.CLOSED:
        raise Invalid([f"state: {cycle.name} is closed; a closed cycle cannot be reopened"])
    active = db.session.scalar(
        select(Cycle).where(
            Cycle.workspace_id == cycle.workspace_id, Cycle.state == CycleState.ACTIVE
        )
    )
    if active is not None:
        raise Invalid([f"state: Close {active.name} first: only one cycle can be active at a time"])
    cycle.state = CycleState.ACTIVE
    db.session.flush()


@dataclass(frozen=True)
class CloseOutRow:
    """An objective as the close-out page shows it: the score it would close with."""

    initiative: Initiative
    score: Decimal  # computed: weighted KR score, or % complete / 100 when hand-tracked
    scored: bool  # True when the score comes from key results


def close_out_rows(cycle: Cycle, today: date) -> list[CloseOutRow]:
    """Each live objective of the cycle with its computed score (what closing records)."""
    return _close_out_rows(okr_board(cycle.workspace, cycle, today))


def _close_out_rows(board: OkrBoard) -> list[CloseOutRow]:
    rows = []
    for card in board.cards:
        if card.score is not None:
            score = card.score
        else:
            score = (card.percent / 100).quantize(CENT)
        rows.append(CloseOutRow(card.initiative, min(max(score, Decimal(0)), ONE), card.scored))
    return rows


def final_score_problems(key: str, score: Decimal | None) -> list[str]:
    """A manual final score must be from 0 to 1 with at most two decimals."""
    if score is None:
        return []
    if not score.is_finite() or not Decimal(0) <= score <= ONE:
        return [f"{key}: the final score must be from 0 to 1, not {score}"]
    if score != score.quantize(CENT):
        return [f"{key}: the final score has at most two decimals, like 0.65"]
    return []


def close_cycle(cycle: Cycle, manual: dict[str, Decimal | None], today: date) -> list[CloseOutRow]:
    """Close an active cycle: record each objective's final score, computed or manual.

    `manual` maps objective keys to an override (None: use the computed score). A KR
    linked to a KPI keeps the KPI's latest value as its own, so the closed cycle no
    longer moves. Returns the rows as closed.
    """
    problems = []
    if cycle.state != CycleState.ACTIVE:
        problems.append(f"state: {cycle.name} is {cycle.state}; only the active cycle is closed")
    board = okr_board(cycle.workspace, cycle, today)
    rows = _close_out_rows(board)
    keys = {row.initiative.key for row in rows}
    for key, score in manual.items():
        if key not in keys and score is not None:
            problems.append(f"{key}: not an objective of {cycle.name}")
        problems += final_score_problems(key, score)
    _refuse(problems)
    for card in board.cards:
        for kr_card in card.key_results:
            if kr_card.kr.kpi_id is not None and kr_card.current is not None:
                kr_card.kr.current_value = kr_card.current
    for row in rows:
        override = manual.get(row.initiative.key)
        row.initiative.final_score = row.score if override is None else override
        row.initiative.final_score_manual = override is not None
    cycle.state = CycleState.CLOSED
    cycle.closed_at = utcnow()
    db.session.flush()
    return rows


@dataclass(frozen=True)
class CarryOver:
    """What a carry-over did: how many key results of how many objectives, into which cycle."""

    target: Cycle
    key_results: int
    objectives: int
    created_cycle: bool = False


def carry_targets(cycle: Cycle) -> list[Cycle]:
    """The cycles a closed cycle's unfinished key results can go to: draft or active ones."""
    return [
        c
        for c in cycles_of(cycle.workspace)
        if c.id != cycle.id and c.state in (CycleState.DRAFT, CycleState.ACTIVE)
    ]


def carry_over(source: Cycle, target: Cycle | None, today: date) -> CarryOver:
    """Copy a closed cycle's unfinished key results (score < 1) into a draft or active cycle.

    `target=None` creates the next free quarter after the source as a draft first. Each
    objective with unfinished KRs gets a copy in the target (same title, description,
    goal, owner, live gauges; a new key) holding copies of those KRs: start at their
    current value, same target, confidence back to 5, `carried_from_id` set. Idempotent:
    a KR already carried into the target is not copied again, and more KRs of the same
    objective join the copy made before.
    """
    workspace = source.workspace
    problems = []
    if source.state != CycleState.CLOSED:
        problems.append(f"cycle: close {source.name} before carrying its key results over")
    if target is not None:
        if target.workspace_id != workspace.id:
            problems.append("target: not a cycle of this workspace")
        elif target.id == source.id:
            problems.append("target: choose another cycle than the one being closed")
        elif target.state == CycleState.CLOSED:
            problems.append(f"target: {target.name} is closed; choose a draft or active cycle")
    _refuse(problems)
    created = target is None
    if target is None:
        target = create_cycle(workspace, next_quarter(workspace, source.end))

    board = okr_board(workspace, source, today)
    already = _carried_into(target)  # source KR id → the target KR copied from it
    members = {user.id for user in member_users(workspace)}
    live_latest = _live_latest(board)
    krs_done = objectives_done = 0
    for initiative, unfinished in board.unfinished():
        todo = [kr for kr in unfinished if kr.id not in already]
        if not todo:
            continue
        copies = [already[kr.id] for kr in unfinished if kr.id in already]
        home = copies[0].initiative if copies else None
        if home is None:
            home = plan.create_initiative(
                workspace,
                plan.InitiativeFields(
                    title=initiative.title,
                    description=initiative.description,
                    goal=initiative.goal,
                    cycle=target,
                    owner=initiative.owner if initiative.owner_id in members else None,
                    gauges=[kpi for kpi in initiative.gauges if kpi.archived_at is None],
                ),
            )
        for kr in todo:
            current = live_latest.get(kr.kpi_id) if kr.kpi_id else None
            if current is None:
                current = kr.current_value
            start = kr.start_value if current is None else current
            copy = plan.create_key_result(
                home,
                plan.KeyResultFields(
                    title=kr.title,
                    start=start,
                    target=kr.target_value,
                    owner=kr.owner if kr.owner_id in members else None,
                    current=None if kr.kpi_id else start,
                    unit=kr.unit,
                    confidence=5,
                    weight=kr.weight,
                    kpi=kr.kpi,
                ),
            )
            copy.carried_from_id = kr.id
            krs_done += 1
        objectives_done += 1
    db.session.flush()
    return CarryOver(target, krs_done, objectives_done, created)


def _carried_into(target: Cycle) -> dict[int, KeyResult]:
    rows = db.session.scalars(
        select(KeyResult)
        .join(Initiative, KeyResult.initiative_id == Initiative.id)
        .where(Initiative.cycle_id == target.id, KeyResult.carried_from_id.is_not(None))
        .options(selectinload(KeyResult.initiative))
    )
    return {kr.carried_from_id: kr for kr in rows if kr.carried_from_id is not None}


def _live_latest(board: OkrBoard) -> dict[int | None, Decimal]:
    """Linked KPIs' latest values now: a carried KR linked to a KPI starts from there."""
    return {kpi_id: value.value for kpi_id, value in board.kpi_latest.items()}


# ------------------------------------------------------------------------ initiatives


def _closed_cycle_problems(cycle: Cycle | None, what: str = "cycle") -> list[str]:
    if cycle is not None and cycle.state == CycleState.CLOSED:
        return [f"{what}: {cycle.name} is closed; its objectives are read-only"]
    return []


def _member_problems(workspace: Workspace, user: User | None) -> list[str]:
    # plan's own check, run before anything is changed so nothing is half-saved
    if user is None:
        return []
    is_member = db.session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    return [] if is_member else [f"owner: {user.email} is not a member of this workspace"]


def add_initiative(
    workspace: Workspace, fields: plan.InitiativeFields, user: User | None
) -> Initiative:
    """A new initiative (next `I{n}` key); a typed % complete goes into its history."""
    problems = _closed_cycle_problems(fields.cycle)
    problems += plan.range_problems("percent_complete", fields.percent_complete, 0, 100)
    _refuse(problems)
    percent = fields.percent_complete
    initiative = plan.create_initiative(workspace, replace(fields, key=None, percent_complete=None))
    if percent is not None:
        set_percent_complete(initiative, percent, user=user)
    return initiative


def update_initiative(
    initiative: Initiative, fields: plan.InitiativeFields, user: User | None
) -> None:
    """Change an initiative's fields; its key, history and key results stay.

    Refused for an initiative of a closed cycle, or moved into one. A typed % complete
    is only for initiatives without key results, and goes into the history.
    """
    workspace = initiative.workspace
    problems = _closed_cycle_problems(initiative.cycle)
    if fields.cycle is not None and fields.cycle.id != initiative.cycle_id:
        problems += _closed_cycle_problems(fields.cycle)
        if fields.cycle.workspace_id != workspace.id:
            problems.append("cycle: not a cycle of this workspace")
    problems += replace(fields, key=None, final_score=None, final_score_manual=False).problems()
    problems += _member_problems(workspace, fields.owner)
    if fields.goal is not None and fields.goal.workspace_id != workspace.id:
        problems.append("goal: not a goal of this workspace")
    if any(kpi.workspace_id != workspace.id for kpi in fields.gauges):
        problems.append("gauges: every gauge must be a KPI of this workspace")
    changes_percent = fields.percent_complete != initiative.percent_complete
    if initiative.key_results and fields.percent_complete is not None and changes_percent:
        problems.append(
            "percent_complete: this initiative is scored by its key results; "
            "check in on them instead"
        )
    _refuse(problems)
    initiative.title = fields.title.strip()
    initiative.description = fields.description.strip()
    initiative.goal = fields.goal
    initiative.cycle = fields.cycle
    initiative.owner = fields.owner
    initiative.start_date = fields.start
    initiative.due_date = fields.due
    initiative.gauges = list(dict.fromkeys(fields.gauges))
    if not initiative.key_results and changes_percent:
        set_percent_complete(initiative, fields.percent_complete, user=user)
    db.session.flush()


def archive_initiative(initiative: Initiative) -> None:
    """Hide an initiative from pages and roll-ups; it keeps its key results and history."""
    set_archived(initiative, True)


def restore_initiative(initiative: Initiative) -> None:
    """Bring an archived initiative back."""
    set_archived(initiative, False)


def move_initiative(initiative: Initiative, step: int) -> bool:
    """Move an initiative one place up (-1) or down (+1) among its cycle's live initiatives.

    Returns False when it is already first or last.
    """
    everything = list(
        db.session.scalars(
            select(Initiative)
            .where(Initiative.workspace_id == initiative.workspace_id)
            .order_by(Initiative.position, Initiative.id)
        )
    )
    return move_among(
        everything,
        initiative,
        step,
        lambda other: other.archived_at is None and other.cycle_id == initiative.cycle_id,
    )


# ------------------------------------------------------------------------ key results


def add_key_result(initiative: Initiative, fields: plan.KeyResultFields) -> KeyResult:
    """A new key result (next `KR{n}` key); refused in a closed cycle."""
    _refuse(_closed_cycle_problems(initiative.cycle))
    return plan.create_key_result(initiative, replace(fields, key=None))


def update_key_result(kr: KeyResult, fields: plan.KeyResultFields, user: User | None) -> None:
    """Change a key result; a new current value or confidence goes into its check-ins.

    A KR linked to a KPI follows the KPI's latest value, so its typed current is ignored.
    """
    workspace = kr.initiative.workspace
    problems = _closed_cycle_problems(kr.initiative.cycle)
    problems += replace(fields, key=None).problems()
    problems += _member_problems(workspace, fields.owner)
    if fields.kpi is not None and fields.kpi.workspace_id != workspace.id:
        problems.append("kpi: not a KPI of this workspace")
    _refuse(problems)
    kr.title = fields.title.strip()
    kr.owner = fields.owner
    kr.start_value = fields.start
    kr.target_value = fields.target
    kr.unit = fields.unit
    kr.weight = fields.weight
    kr.kpi = fields.kpi
    # kpi_id would only follow the relationship at the next flush; record_check_in reads it
    kr.kpi_id = fields.kpi.id if fields.kpi is not None else None
    if kr.kpi_id is None and fields.current is None and kr.current_value is not None:
        clear_current(kr, confidence=fields.confidence, user=user)
    else:
        value = None if kr.kpi_id is not None else fields.current
        record_check_in(kr, value=value, confidence=fields.confidence, user=user)
    db.session.flush()


def delete_key_result(kr: KeyResult) -> None:
    """Delete a key result with its check-ins; copies carried from it forget their source."""
    _refuse(_closed_cycle_problems(kr.initiative.cycle))
    for copy in db.session.scalars(select(KeyResult).where(KeyResult.carried_from_id == kr.id)):
        copy.carried_from_id = None
    # Taken out of its objective, the KR is an orphan: the cascade deletes it and its
    # check-ins, and the objective's loaded list of KRs stays true.
    kr.initiative.key_results.remove(kr)
    db.session.flush()


def move_key_result(kr: KeyResult, step: int) -> bool:
    """Move a key result one place up (-1) or down (+1) within its objective."""
    _refuse(_closed_cycle_problems(kr.initiative.cycle))
    siblings = sorted(kr.initiative.key_results, key=lambda k: (k.position, k.id))
    return move_among(siblings, kr, step)


def check_in(
    kr: KeyResult,
    *,
    value: Decimal | None,
    confidence: int | None,
    note: str,
    user: User | None,
) -> CheckIn | None:
    """A web check-in on a KR (value, confidence, note); refused in a closed cycle."""
    _refuse(_closed_cycle_problems(kr.initiative.cycle, "value"))
    return record_check_in(kr, value=value, confidence=confidence, note=note, user=user)


def unfinished_counts(board: OkrBoard) -> tuple[int, int]:
    """(key results, objectives) still below a score of 1 on the board."""
    found = board.unfinished()
    return sum(len(krs) for _, krs in found), len(found)


def _refuse(problems: list[str]) -> None:
    if problems:
        raise Invalid(problems)


__all__ = [
    "CarryOver",
    "CloseOutRow",
    "OkrBoard",
    "activate_cycle",
    "add_initiative",
    "add_key_result",
    "archive_initiative",
    "carry_over",
    "carry_targets",
    "check_in",
    "close_cycle",
    "close_out_rows",
    "create_cycle",
    "cycles_of",
    "default_cycle",
    "delete_key_result",
    "find_cycle",
    "find_initiative",
    "find_key_result",
    "live_goals",
    "live_kpis",
    "member_users",
    "move_initiative",
    "move_key_result",
    "new_cycle_defaults",
    "next_quarter",
    "okr_board",
    "restore_initiative",
    "unfinished_counts",
    "update_cycle",
    "update_initiative",
]

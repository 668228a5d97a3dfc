"""Operations that build a workspace's plan: goals, KPIs, cycles, initiatives, key results.

Each operation takes a `…Fields` dataclass (what a form or a document says), checks every
rule, adds the rows and flushes; the caller commits. Problems come back together in
`Invalid` as "field: reason", so a form can show them beside its fields and a document
import can prefix them with a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.domain.errors import Invalid, NotFound
from hub.domain.lifecycle import move_among, set_archived
from hub.domain.periods import Cadence
from hub.domain.status import Bounds, Direction
from hub.extensions import db
from hub.models import (
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

KEY_RE = re.compile(r"^[A-Z][A-Z0-9_-]{0,19}$")
UNITS = ("number", "percent", "currency", "duration")
CADENCES = tuple(cadence.value for cadence in Cadence)
AGGREGATIONS = ("last", "sum", "average")
DIRECTIONS = tuple(direction.value for direction in Direction)
MAX_DECIMALS = 6
MAX_CONFIDENCE = 10
TITLE_LENGTH = 200
CYCLE_NAME_LENGTH = 60


@dataclass
class GoalFields:
    """What a goal is made of, as typed by a user or read from a document."""

    title: str
    description: str = ""
    owner: User | None = None
    archived: bool = False

    def problems(self) -> list[str]:
        """Every problem with these fields, as 'field: reason'."""
        return text_problems("title", self.title, TITLE_LENGTH)


@dataclass
class KpiFields:
    """What a KPI is made of; `key=None` means the next free `K{n}`."""

    name: str
    key: str | None = None
    description: str = ""
    goal: Goal | None = None
    unit: str = "number"
    decimals: int = 0
    cadence: str = Cadence.WEEKLY.value
    aggregation: str = "last"
    owner: User | None = None
    direction: str = Direction.UP.value
    green_min: Decimal | None = None
    green_max: Decimal | None = None
    red_min: Decimal | None = None
    red_max: Decimal | None = None
    archived: bool = False

    @property
    def bounds(self) -> Bounds:
        return Bounds(
            green_min=self.green_min,
            green_max=self.green_max,
            red_min=self.red_min,
            red_max=self.red_max,
        )

    def problems(self) -> list[str]:
        """Every problem with these fields, as 'field: reason'."""
        found = key_problems(self.key) + text_problems("name", self.name, TITLE_LENGTH)
        found += choice_problems("unit", self.unit, UNITS)
        found += choice_problems("cadence", self.cadence, CADENCES)
        found += choice_problems("aggregation", self.aggregation, AGGREGATIONS)
        found += choice_problems("direction", self.direction, DIRECTIONS)
        if not _is_int(self.decimals) or not 0 <= self.decimals <= MAX_DECIMALS:
            found.append(f"decimals: must be a whole number from 0 to {MAX_DECIMALS}")
        direction = self.direction if self.direction in DIRECTIONS else None
        return found + bounds_problems(self.bounds, direction)


@dataclass
class CycleFields:
    """An OKR cycle: a named span of days and its state."""

    name: str
    start: date
    end: date
    state: str = CycleState.DRAFT

    def problems(self) -> list[str]:
        """Every problem with these fields, as 'field: reason'."""
        found = text_problems("name", self.name, CYCLE_NAME_LENGTH)
        found += choice_problems("state", self.state, CycleState.ALL)
        if self.end < self.start:
            found.append(f"end: must be on or after the start ({self.end} < {self.start})")
        return found


@dataclass
class InitiativeFields:
    """What an initiative (an Objective on OKR pages) is made of; `key=None`: next `I{n}`."""

    title: str
    key: str | None = None
    description: str = ""
    goal: Goal | None = None
    cycle: Cycle | None = None
    owner: User | None = None
    start: date | None = None
    due: date | None = None
    percent_complete: Decimal | None = None
    gauges: list[Kpi] = field(default_factory=list)
    # Recorded when a cycle closes; `final_score_manual` flags an override.
    final_score: Decimal | None = None
    final_score_manual: bool = False
    archived: bool = False

    def problems(self) -> list[str]:
        """Every problem with these fields, as 'field: reason'."""
        found = key_problems(self.key) + text_problems("title", self.title, TITLE_LENGTH)
        if self.start and self.due and self.due < self.start:
            found.append(f"due: must be on or after the start ({self.due} < {self.start})")
        found += range_problems("percent_complete", self.percent_complete, 0, 100)
        found += range_problems("final_score", self.final_score, 0, 1)
        if self.final_score_manual and self.final_score is None:
            found.append("final_score_manual: a manual final score needs a final_score")
        return found


@dataclass
class KeyResultFields:
    """What a key result is made of; `key=None` means the next free `KR{n}`."""

    title: str
    start: Decimal
    target: Decimal
    key: str | None = None
    owner: User | None = None
    current: Decimal | None = None
    unit: str = "number"
    confidence: int = 5
    weight: Decimal = Decimal(1)
    kpi: Kpi | None = None

    def problems(self) -> list[str]:
        """Every problem with these fields, as 'field: reason'."""
        found = key_problems(self.key) + text_problems("title", self.title, TITLE_LENGTH)
        # target == start is allowed: a "hold the line" key result (scoring.kr_progress).
        found += choice_problems("unit", self.unit, UNITS)
        if not _is_int(self.confidence) or not 0 <= self.confidence <= MAX_CONFIDENCE:
            found.append(f"confidence: must be a whole number from 0 to {MAX_CONFIDENCE}")
        if self.weight <= 0:
            found.append(f"weight: must be above 0, not {self.weight}")
        return found


def text_problems(name: str, value: str, max_length: int) -> list[str]:
    """Problems with a required one-line text: blank or too long."""
    if not value.strip():
        return [f"{name}: must not be empty"]
    if len(value.strip()) > max_length:
        return [f"{name}: at most {max_length} characters ({len(value.strip())} given)"]
    return []


_BOUND_ORDER = ("red_min", "green_min", "green_max", "red_max")


def bounds_problems(bounds: Bounds, direction: str | None = None) -> list[str]:
    """Bounds out of order (`red_min ≤ green_min ≤ green_max ≤ red_max`), as 'field: reason'.

    Two bounds are compared when every bound between them is open, so each break is
    reported once. It is charged to the red line when a red and a green bound clash (the
    target is what people set first), else to the upper bound of the two.
    """
    if direction is None:  # word the message as the form that most likely set these
        if bounds.green_max is None and bounds.red_max is None:
            direction = Direction.UP.value
        elif bounds.green_min is None and bounds.red_min is None:
            direction = Direction.DOWN.value
        else:
            direction = Direction.RANGE.value
    found = []
    for i, j in combinations(range(len(_BOUND_ORDER)), 2):
        low_name, high_name = _BOUND_ORDER[i], _BOUND_ORDER[j]
        low, high = getattr(bounds, low_name), getattr(bounds, high_name)
        if low is None or high is None or low <= high:
            continue
        if any(getattr(bounds, name) is not None for name in _BOUND_ORDER[i + 1 : j]):
            continue
        pair = Bounds(**{low_name: low, high_name: high})
        red = [name for name in (low_name, high_name) if name.startswith("red")]
        culprit = red[0] if len(red) == 1 else high_name
        found += [f"{culprit}: {reason}" for reason in pair.problems(direction)]
    return found


def key_problems(key: str | None) -> list[str]:
    """Problems with an explicit key such as K12 (None means 'assign one')."""
    if key is None or KEY_RE.match(key):
        return []
    return [
        f"key: {key[:40]!r} is not a key: use up to 20 capital letters, digits, '-' or '_', "
        "starting with a letter (like K12)"
    ]


def choice_problems(name: str, value: str, choices: tuple[str, ...]) -> list[str]:
    """Problems with a word that must be one of `choices`."""
    if value in choices:
        return []
    return [f"{name}: must be one of {', '.join(choices)}, not {str(value)[:40]!r}"]


def range_problems(name: str, value: Decimal | None, low: int, high: int) -> list[str]:
    """Problems with an optional number that must lie in [low, high]."""
    if value is None or low <= value <= high:
        return []
    return [f"{name}: must be from {low} to {high}, not {value}"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def create_goal(workspace: Workspace, fields: GoalFields) -> Goal:
    """A new goal at the end of the workspace's plan."""
    problems = fields.problems() + _owner_problems(workspace, fields.owner)
    if not problems and _title_taken(Goal, Goal.title, workspace, fields.title):
        problems.append(f"title: there is already a goal called {fields.title.strip()!r}")
    _refuse(problems)
    goal = Goal(
        workspace=workspace,
        title=fields.title.strip(),
        description=fields.description.strip(),
        owner=fields.owner,
        position=_next_position(Goal, workspace),
        archived_at=utcnow() if fields.archived else None,
    )
    db.session.add(goal)
    db.session.flush()
    return goal


def create_kpi(workspace: Workspace, fields: KpiFields) -> Kpi:
    """A new KPI with the given key or the next free `K{n}`."""
    problems = fields.problems() + _owner_problems(workspace, fields.owner)
    problems += _goal_problems(workspace, fields.goal)
    if fields.key is not None and _key_taken(Kpi, workspace, fields.key):
        problems.append(f"key: {fields.key} is already used by another KPI")
    _refuse(problems)
    kpi = Kpi(
        workspace=workspace,
        key=_claim_key(workspace, Kpi, "K", "next_kpi_number", fields.key),
        name=fields.name.strip(),
        description=fields.description.strip(),
        goal=fields.goal,
        unit=fields.unit,
        decimals=fields.decimals,
        cadence=fields.cadence,
        aggregation=fields.aggregation,
        owner=fields.owner,
        direction=fields.direction,
        green_min=fields.green_min,
        green_max=fields.green_max,
        red_min=fields.red_min,
        red_max=fields.red_max,
        position=_next_position(Kpi, workspace),
        archived_at=utcnow() if fields.archived else None,
    )
    db.session.add(kpi)
    db.session.flush()
    return kpi


def create_cycle(workspace: Workspace, fields: CycleFields) -> Cycle:
    """A new OKR cycle; a workspace has at most one active cycle."""
    problems = fields.problems()
    if not problems and _title_taken(Cycle, Cycle.name, workspace, fields.name):
        problems.append(f"name: there is already a cycle called {fields.name.strip()!r}")
    if fields.state == CycleState.ACTIVE:
        active = db.session.scalar(
            select(Cycle.name).where(
                Cycle.workspace_id == workspace.id, Cycle.state == CycleState.ACTIVE
            )
        )
        if active is not None:
            problems.append(f"state: {active!r} is already the active cycle; close it first")
    _refuse(problems)
    cycle = Cycle(
        workspace=workspace,
        name=fields.name.strip(),
        start=fields.start,
        end=fields.end,
        state=fields.state,
        closed_at=utcnow() if fields.state == CycleState.CLOSED else None,
    )
    db.session.add(cycle)
    db.session.flush()
    return cycle


def create_initiative(workspace: Workspace, fields: InitiativeFields) -> Initiative:
    """A new initiative with the given key or the next free `I{n}`."""
    problems = fields.problems() + _owner_problems(workspace, fields.owner)
    problems += _goal_problems(workspace, fields.goal)
    if fields.cycle is not None and fields.cycle.workspace_id != workspace.id:
        problems.append("cycle: not a cycle of this workspace")
    if any(kpi.workspace_id != workspace.id for kpi in fields.gauges):
        problems.append("gauges: every gauge must be a KPI of this workspace")
    if fields.key is not None and _key_taken(Initiative, workspace, fields.key):
        problems.append(f"key: {fields.key} is already used by another initiative")
    _refuse(problems)
    initiative = Initiative(
        workspace=workspace,
        key=_claim_key(workspace, Initiative, "I", "next_initiative_number", fields.key),
        title=fields.title.strip(),
        description=fields.description.strip(),
        goal=fields.goal,
        cycle=fields.cycle,
        owner=fields.owner,
        start_date=fields.start,
        due_date=fields.due,
        percent_complete=fields.percent_complete,
        final_score=fields.final_score,
        final_score_manual=fields.final_score_manual,
        position=_next_position(Initiative, workspace),
        archived_at=utcnow() if fields.archived else None,
    )
    initiative.gauges = list(dict.fromkeys(fields.gauges))
    db.session.add(initiative)
    db.session.flush()
    return initiative


def create_key_result(initiative: Initiative, fields: KeyResultFields) -> KeyResult:
    """A new key result of an initiative, with the given key or the next free `KR{n}`."""
    workspace = initiative.workspace
    problems = fields.problems() + _owner_problems(workspace, fields.owner)
    if fields.kpi is not None and fields.kpi.workspace_id != workspace.id:
        problems.append("kpi: not a KPI of this workspace")
    if fields.key is not None and _key_taken(KeyResult, workspace, fields.key):
        problems.append(f"key: {fields.key} is already used by another key result")
    _refuse(problems)
    position = db.session.scalar(
        select(func.coalesce(func.max(KeyResult.position) + 1, 0)).where(
            KeyResult.initiative_id == initiative.id
        )
    )
    kr = KeyResult(
        workspace_id=workspace.id,
        initiative=initiative,
        key=_claim_key(workspace, KeyResult, "KR", "next_key_result_number", fields.key),
        title=fields.title.strip(),
        owner=fields.owner,
        start_value=fields.start,
        target_value=fields.target,
        current_value=fields.current,
        unit=fields.unit,
        confidence=fields.confidence,
        weight=fields.weight,
        kpi=fields.kpi,
        position=position,
    )
    db.session.add(kr)
    db.session.flush()
    return kr


def _refuse(problems: list[str]) -> None:
    if problems:
        raise Invalid(problems)


def _owner_problems(workspace: Workspace, owner: User | None) -> list[str]:
    """An owner must be a member, so everyone named in a plan can see it."""
    if owner is None:
        return []
    member = db.session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace.id, Membership.user_id == owner.id
        )
    )
    return [] if member is not None else [f"owner: {owner.email} is not a member of this workspace"]


def _goal_problems(workspace: Workspace, goal: Goal | None) -> list[str]:
    if goal is None or goal.workspace_id == workspace.id:
        return []
    return ["goal: not a goal of this workspace"]


def _title_taken(model: type[Any], column: Any, workspace: Workspace, title: str) -> bool:
    """Titles differing only in case would be ambiguous references, so they clash."""
    return (
        db.session.scalar(
            select(model.id).where(
                model.workspace_id == workspace.id,
                func.lower(column) == title.strip().lower(),
            )
        )
        is not None
    )


def _key_taken(model: type[Any], workspace: Workspace, key: str) -> bool:
    return (
        db.session.scalar(
            select(model.id).where(model.workspace_id == workspace.id, model.key == key)
        )
        is not None
    )


def _claim_key(
    workspace: Workspace, model: type[Any], prefix: str, counter: str, key: str | None
) -> str:
    """The given key, or the next `{prefix}{n}` that is free; the counter only grows.

    An explicit key like K12 moves the counter past 12, so a key that was once used (and
    perhaps deleted since) is never handed out again.
    """
    if key is None:
        key = f"{prefix}{getattr(workspace, counter)}"
        while _key_taken(model, workspace, key):  # only after keys were set by hand
            setattr(workspace, counter, getattr(workspace, counter) + 1)
            key = f"{prefix}{getattr(workspace, counter)}"
    number = _key_number(prefix, key)
    if number is not None and number >= getattr(workspace, counter):
        setattr(workspace, counter, number + 1)
    return key


def _key_number(prefix: str, key: str) -> int | None:
    """12 for `K12` with prefix K; None for keys of another shape (`KR3`, `MRR`)."""
    match = re.fullmatch(rf"{prefix}(\d{{1,9}})", key)
    return int(match.group(1)) if match else None


def _next_position(model: type[Any], workspace: Workspace) -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(model.position) + 1, 0)).where(
            model.workspace_id == workspace.id
        )
    )


# --- Editing the plan: goals and KPIs after they exist (the Plan page) ---------------


def find_goal(workspace: Workspace, goal_id: int) -> Goal:
    """The workspace's goal with this id, live or archived, or NotFound."""
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.workspace_id != workspace.id:
        raise NotFound("There is no such goal in this workspace.")
    return goal


def add_goal(workspace: Workspace, fields: GoalFields) -> Goal:
    """`create_goal`, saying so when the title belongs to an archived goal (the plan does
    not list those among its goals, so "already a goal called …" alone would puzzle)."""
    clash = _goal_titled(workspace, fields.title) if not fields.problems() else None
    if clash is not None and clash.archived_at is not None:
        raise Invalid(
            [
                f"title: there is already an archived goal called {clash.title!r}: restore "
                "it, or rename it under Archived"
            ]
        )
    return create_goal(workspace, fields)


def update_goal(goal: Goal, fields: GoalFields) -> Goal:
    """Change a goal's title, description and owner (archiving has its own operations).

    Titles stay unique among all the workspace's goals, archived ones included: a
    workspace document names goals by title, and restoring must never make two alike.
    """
    workspace = goal.workspace
    problems = fields.problems()
    if fields.owner is not None and fields.owner.id != goal.owner_id:
        # An owner who has left stays until someone picks another; a new one must be in.
        problems += _owner_problems(workspace, fields.owner)
    if not problems:
        clash = _goal_titled(workspace, fields.title, other_than=goal)
        if clash is not None:
            kind = "an archived goal" if clash.archived_at else "a goal"
            problems.append(f"title: there is already {kind} called {clash.title!r}")
    _refuse(problems)
    goal.title = fields.title.strip()
    goal.description = fields.description.strip()
    goal.owner = fields.owner
    db.session.flush()
    return goal


def archive_goal(goal: Goal) -> bool:
    """Hide a goal from the plan and scorecard; its KPIs and initiatives keep their link.

    Returns whether anything changed (archiving twice is harmless).
    """
    return set_archived(goal, True)


def restore_goal(goal: Goal) -> bool:
    """Bring an archived goal back, in its old place. Returns whether anything changed."""
    return set_archived(goal, False)


def move_goal(goal: Goal, offset: int) -> bool:
    """Move a live goal `offset` places (−1 up, +1 down) among the live goals.

    Returns False when it cannot move (archived, or already first/last).
    """
    everything = list(
        db.session.scalars(
            select(Goal)
            .where(Goal.workspace_id == goal.workspace_id)
            .order_by(Goal.position, Goal.id)
        )
    )
    return move_among(everything, goal, offset, lambda other: other.archived_at is None)


def update_kpi(kpi: Kpi, fields: KpiFields) -> Kpi:
    """Change a KPI's definition and thresholds; its key never changes.

    The cadence is fixed once the KPI has values: their periods would not be periods of
    the new cadence. A new goal must be a live goal of the workspace, a new owner a
    member (a goal or owner the KPI already has may stay as it is).
    """
    workspace = kpi.workspace
    problems = fields.problems()
    if fields.key is not None and fields.key != kpi.key:
        problems.append(f"key: a KPI's key never changes ({kpi.key})")
    if fields.owner is not None and fields.owner.id != kpi.owner_id:
        problems += _owner_problems(workspace, fields.owner)
    if fields.goal is not None and fields.goal.id != kpi.goal_id:
        problems += _goal_problems(workspace, fields.goal)
        if fields.goal.archived_at is not None:
            problems.append(f"goal: {fields.goal.title!r} is archived; restore it first")
    if fields.cadence != kpi.cadence and fields.cadence in CADENCES:
        count = value_count(kpi)
        if count:
            problems.append(
                f"cadence: {kpi.key} already has {count} {kpi.cadence} "
                f"value{'s' if count != 1 else ''}, and they would not fit "
                f"{fields.cadence} periods. Keep it {kpi.cadence}, or create a new KPI "
                f"for {fields.cadence} numbers."
            )
    _refuse(problems)
    kpi.name = fields.name.strip()
    kpi.description = fields.description.strip()
    kpi.goal = fields.goal
    kpi.unit = fields.unit
    kpi.decimals = fields.decimals
    kpi.cadence = fields.cadence
    kpi.aggregation = fields.aggregation
    kpi.owner = fields.owner
    kpi.direction = fields.direction
    kpi.green_min = fields.green_min
    kpi.green_max = fields.green_max
    kpi.red_min = fields.red_min
    kpi.red_max = fields.red_max
    db.session.flush()
    return kpi


def value_count(kpi: Kpi) -> int:
    """How many periods of this KPI have a value."""
    return db.session.scalar(select(func.count(KpiValue.id)).where(KpiValue.kpi_id == kpi.id)) or 0


def archive_kpi(kpi: Kpi) -> bool:
    """Hide a KPI from the scorecard, check-in and sheet; its values and key are kept.

    Returns whether anything changed (archiving twice is harmless).
    """
    return set_archived(kpi, True)


def restore_kpi(kpi: Kpi) -> bool:
    """Bring an archived KPI back, with its values, key and place. Returns whether it changed."""
    return set_archived(kpi, False)


def move_kpi(kpi: Kpi, offset: int) -> bool:
    """Move a live KPI `offset` places (−1 up, +1 down) among the live KPIs of its goal.

    The plan lists KPIs under their goal, so that is the list they move in. Returns
    False when it cannot move (archived, or already first/last under its goal).
    """
    everything = list(
        db.session.scalars(
            select(Kpi).where(Kpi.workspace_id == kpi.workspace_id).order_by(Kpi.position, Kpi.id)
        )
    )
    return move_among(
        everything,
        kpi,
        offset,
        lambda other: other.archived_at is None and other.goal_id == kpi.goal_id,
    )


def _goal_titled(
    workspace: Workspace, title: str, *, other_than: Goal | None = None
) -> Goal | None:
    """The goal (live or archived) with this title, ignoring case."""
    query = select(Goal).where(
        Goal.workspace_id == workspace.id, func.lower(Goal.title) == title.strip().lower()
    )
    if other_than is not None:
        query = query.where(Goal.id != other_than.id)
    return db.session.scalars(query.limit(1)).first()


@dataclass
class KpiGroup:
    """The live KPIs under one goal (or under none), in their order."""

    goal: Goal | None
    kpis: list[Kpi] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.goal.title if self.goal else "Not linked to a goal"


@dataclass
class PlanOverview:
    """What the Plan page lists: live goals, KPIs by goal, initiatives, and the archive."""

    goals: list[Goal]
    kpi_groups: list[KpiGroup]
    initiatives: list[Initiative]
    archived_goals: list[Goal]
    archived_kpis: list[Kpi]

    def kpi_count(self, goal: Goal) -> int:
        """How many live KPIs hang under a goal."""
        return sum(len(group.kpis) for group in self.kpi_groups if group.goal is goal)

    def goal_place(self, goal: Goal) -> tuple[bool, bool]:
        """(is first, is last) among the live goals: which moves make sense."""
        return _place(self.goals, goal)

    def kpi_place(self, kpi: Kpi) -> tuple[bool, bool]:
        """(is first, is last) among the live KPIs of its goal."""
        for group in self.kpi_groups:
            if kpi in group.kpis:
                return _place(group.kpis, kpi)
        return (True, True)

    @property
    def kpis(self) -> list[Kpi]:
        return [kpi for group in self.kpi_groups for kpi in group.kpis]


def _place(items: list[Any], item: Any) -> tuple[bool, bool]:
    if item not in items:
        return (True, True)
    return (items[0] is item, items[-1] is item)


def plan_overview(workspace: Workspace, *, with_kpis: bool = True) -> PlanOverview:
    """The workspace's plan as the Plan page shows it, in a fixed number of queries.

    KPIs are grouped under their live goals in goal order, then under archived goals
    (their KPIs stay live, and move back with the goal when it is restored), then those
    linked to no goal.
    """
    goals = list(
        db.session.scalars(
            select(Goal)
            .where(Goal.workspace_id == workspace.id)
            .options(selectinload(Goal.owner))
            .order_by(Goal.position, Goal.id)
        )
    )
    kpis = (
        list(
            db.session.scalars(
                select(Kpi)
                .where(Kpi.workspace_id == workspace.id)
                .options(selectinload(Kpi.owner))
                .order_by(Kpi.position, Kpi.id)
            )
        )
        if with_kpis
        else []
    )
    initiatives = list(
        db.session.scalars(
            select(Initiative)
            .where(Initiative.workspace_id == workspace.id, Initiative.archived_at.is_(None))
            .options(
                selectinload(Initiative.owner),
                selectinload(Initiative.cycle),
                selectinload(Initiative.goal),
            )
            .order_by(Initiative.position, Initiative.id)
        )
    )
    live_goals = [goal for goal in goals if goal.archived_at is None]
    archived_goals = [goal for goal in goals if goal.archived_at is not None]
    groups = {goal.id: KpiGroup(goal) for goal in [*live_goals, *archived_goals]}
    loose = KpiGroup(None)
    for kpi in kpis:
        if kpi.archived_at is None:
            groups.get(kpi.goal_id, loose).kpis.append(kpi)
    kpi_groups = [group for group in groups.values() if group.kpis]
    if loose.kpis:
        kpi_groups.append(loose)
    return PlanOverview(
        goals=live_goals,
        kpi_groups=kpi_groups,
        initiatives=initiatives,
        archived_goals=archived_goals,
        archived_kpis=[kpi for kpi in kpis if kpi.archived_at is not None],
    )

"""The scorecard read model: everything a manager sees, in a constant number of queries.

`build_scorecard` loads a workspace's goals, KPIs, values, cycle, initiatives and key
results with a fixed set of queries (it never queries per KPI or per initiative) and
applies the pure rules of status, late, scoring and goal health to them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from hub.domain import scoring
from hub.domain.periods import Cadence, Period, last_n_periods, local_today, parse_period
from hub.domain.status import Bounds, Direction, Status, StatusResult, is_late, kpi_status
from hub.extensions import db
from hub.models import Cycle, CycleState, Goal, Initiative, KeyResult, Kpi, KpiValue, Workspace

TREND_LENGTH = 13


@dataclass(frozen=True)
class KpiCard:
    """A KPI as the scorecard shows it."""

    kpi: Kpi
    latest: KpiValue | None
    result: StatusResult
    late: bool
    trend: list[tuple[Period, Decimal | None]]

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def bounds(self) -> Bounds:
        return bounds_of(self.kpi)


@dataclass(frozen=True)
class KeyResultCard:
    """A key result with its current value (a linked KPI's latest), progress and score."""

    kr: KeyResult
    current: Decimal | None
    progress: Decimal
    score: Decimal


@dataclass(frozen=True)
class InitiativeCard:
    """An initiative (an Objective on OKR pages) with its progress and status."""

    initiative: Initiative
    key_results: list[KeyResultCard]
    score: Decimal | None  # None when hand-tracked
    percent: Decimal  # 0–100, scored or typed by hand
    status: scoring.InitiativeStatus
    elapsed: Decimal

    @property
    def scored(self) -> bool:
        return bool(self.key_results)


@dataclass
class GoalCard:
    """A goal (or the 'no goal' bucket) with its KPIs, initiatives and health."""

    goal: Goal | None
    kpis: list[KpiCard] = field(default_factory=list)
    initiatives: list[InitiativeCard] = field(default_factory=list)
    health: scoring.GoalHealth | None = None

    @property
    def title(self) -> str:
        return self.goal.title if self.goal else "Not linked to a goal"


@dataclass
class Scorecard:
    """The whole scorecard of one workspace on one day."""

    workspace: Workspace
    today: date
    cycle: Cycle | None
    goals: list[GoalCard]

    @property
    def kpis(self) -> list[KpiCard]:
        return [card for goal in self.goals for card in goal.kpis]

    @property
    def initiatives(self) -> list[InitiativeCard]:
        return [card for goal in self.goals for card in goal.initiatives]

    def status_counts(self) -> dict[str, int]:
        """How many KPIs are green, amber, red, none, and late."""
        counts = {s.value: 0 for s in Status} | {"late": 0}
        for card in self.kpis:
            counts[card.status.value] += 1
            counts["late"] += card.late
        return counts


def bounds_of(kpi: Kpi) -> Bounds:
    """The four threshold bounds of a KPI."""
    return Bounds(
        green_min=kpi.green_min, green_max=kpi.green_max, red_min=kpi.red_min, red_max=kpi.red_max
    )


def kpi_result(kpi: Kpi, value: Decimal | None, workspace: Workspace) -> StatusResult:
    """The status and why of one value of a KPI."""
    return kpi_status(
        value,
        bounds_of(kpi),
        direction=Direction(kpi.direction),
        unit=kpi.unit,
        decimals=kpi.decimals,
        currency=workspace.currency,
    )


def active_cycle(workspace: Workspace) -> Cycle | None:
    """The workspace's active OKR cycle, if any."""
    return db.session.scalar(
        select(Cycle).where(Cycle.workspace_id == workspace.id, Cycle.state == CycleState.ACTIVE)
    )


def latest_values(
    kpi_ids: Sequence[int], *, on_or_before: date | None = None
) -> dict[int, KpiValue]:
    """Each KPI's most recent value (optionally the last one starting on or before a day)."""
    if not kpi_ids:
        return {}
    latest = select(KpiValue.kpi_id, func.max(KpiValue.period_start).label("start")).where(
        KpiValue.kpi_id.in_(kpi_ids)
    )
    if on_or_before is not None:
        latest = latest.where(KpiValue.period_start <= on_or_before)
    latest = latest.group_by(KpiValue.kpi_id).subquery()
    rows = db.session.scalars(
        select(KpiValue).join(
            latest,
            and_(KpiValue.kpi_id == latest.c.kpi_id, KpiValue.period_start == latest.c.start),
        )
    )
    return {row.kpi_id: row for row in rows}


def _calendar(workspace: Workspace) -> dict[str, int]:
    return {"week_start": workspace.week_start, "fy_start_month": workspace.fiscal_year_start_month}


def kpi_cards(workspace: Workspace, kpis: Sequence[Kpi], today: date) -> list[KpiCard]:
    """Status, late flag and trend of each KPI, with two queries whatever their number."""
    calendar = _calendar(workspace)
    windows = {
        cadence: last_n_periods(today, cadence, TREND_LENGTH, **calendar) for cadence in Cadence
    }
    used = {Cadence(kpi.cadence) for kpi in kpis}
    earliest = min((windows[c][0].start for c in used), default=today)
    ids = [kpi.id for kpi in kpis]
    latest = latest_values(ids)
    recent: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if ids:
        for kpi_id, key, value in db.session.execute(
            select(KpiValue.kpi_id, KpiValue.period_key, KpiValue.value).where(
                KpiValue.kpi_id.in_(ids), KpiValue.period_start >= earliest
            )
        ):
            recent[kpi_id][key] = value

    cards = []
    for kpi in kpis:
        cadence = Cadence(kpi.cadence)
        row = latest.get(kpi.id)
        last_period = parse_period(row.period_key, cadence, **calendar) if row else None
        cards.append(
            KpiCard(
                kpi=kpi,
                latest=row,
                result=kpi_result(kpi, row.value if row else None, workspace),
                late=is_late(last_period, cadence, today, **calendar),
                trend=[(p, recent[kpi.id].get(p.key)) for p in windows[cadence]],
            )
        )
    return cards


def initiative_cards(
    initiatives: Iterable[Initiative], kpi_latest: dict[int, KpiValue], today: date
) -> list[InitiativeCard]:
    """Progress and status of each initiative (KRs and gauges must be loaded already)."""
    cards = []
    for initiative in initiatives:
        krs = []
        for kr in initiative.key_results:
            linked = kpi_latest.get(kr.kpi_id) if kr.kpi_id else None
            current = linked.value if linked is not None else kr.current_value
            progress = scoring.kr_progress(kr.start_value, kr.target_value, current)
            krs.append(KeyResultCard(kr, current, progress, scoring.kr_score(progress)))
        cycle = initiative.cycle
        if cycle is not None:
            elapsed = scoring.elapsed_fraction(cycle.start, cycle.end, today)
        else:
            elapsed = scoring.elapsed_fraction(initiative.start_date, initiative.due_date, today)
        if krs:
            score = scoring.initiative_score([(c.score, c.kr.weight) for c in krs])
            assert score is not None  # noqa: S101  (krs is not empty)
            if (
                cycle is not None
                and cycle.state == CycleState.CLOSED
                and initiative.final_score is not None
            ):
                score = initiative.final_score
            status = scoring.scored_status(score, elapsed)
            percent = (score * 100).quantize(Decimal(1))
        else:
            score = None
            percent = initiative.percent_complete or Decimal(0)
            status = scoring.hand_tracked_status(
                initiative.percent_complete, elapsed, initiative.due_date, today
            )
        cards.append(InitiativeCard(initiative, krs, score, percent, status, elapsed))
    return cards


def build_scorecard(workspace: Workspace, today: date | None = None) -> Scorecard:
    """The scorecard of a workspace, in a constant number of queries."""
    today = today or local_today(workspace.time_zone)
    goals = db.session.scalars(
        select(Goal)
        .where(Goal.workspace_id == workspace.id, Goal.archived_at.is_(None))
        .options(selectinload(Goal.owner))
        .order_by(Goal.position, Goal.id)
    ).all()
    kpis = (
        db.session.scalars(
            select(Kpi)
            .where(Kpi.workspace_id == workspace.id, Kpi.archived_at.is_(None))
            .options(selectinload(Kpi.owner))
            .order_by(Kpi.position, Kpi.id)
        ).all()
        if workspace.uses_kpis
        else []
    )
    cycle = active_cycle(workspace)
    initiatives = db.session.scalars(
        select(Initiative)
        .where(
            Initiative.workspace_id == workspace.id,
            Initiative.archived_at.is_(None),
            (Initiative.cycle_id.is_(None))
            if cycle is None
            else (Initiative.cycle_id.is_(None) | (Initiative.cycle_id == cycle.id)),
        )
        .options(
            selectinload(Initiative.owner),
            selectinload(Initiative.cycle),
            selectinload(Initiative.gauges),
            selectinload(Initiative.key_results),
        )
        .order_by(Initiative.position, Initiative.id)
    ).all()
    linked_ids = {kr.kpi_id for i in initiatives for kr in i.key_results if kr.kpi_id}
    kcards = kpi_cards(workspace, kpis, today)
    kpi_latest = {c.kpi.id: c.latest for c in kcards if c.latest is not None}
    missing = sorted(linked_ids - kpi_latest.keys())
    kpi_latest |= latest_values(missing) if missing else {}
    icards = initiative_cards(initiatives, kpi_latest, today)

    by_goal: dict[int | None, GoalCard] = {goal.id: GoalCard(goal) for goal in goals}
    loose = GoalCard(None)
    for card in kcards:
        by_goal.get(card.kpi.goal_id, loose).kpis.append(card)
    for card in icards:
        by_goal.get(card.initiative.goal_id, loose).initiatives.append(card)
    goal_cards = list(by_goal.values()) + ([loose] if loose.kpis or loose.initiatives else [])
    for goal_card in goal_cards:
        goal_card.health = scoring.goal_health([(c.status, c.late) for c in goal_card.kpis])
    return Scorecard(workspace=workspace, today=today, cycle=cycle, goals=goal_cards)


@dataclass(frozen=True)
class ScorecardFilter:
    """Which goal and owner a reader narrowed the scorecard to (None: all)."""

    goal: int | None = None  # a goal id, or NO_GOAL for things linked to no goal
    owner: int | None = None  # a user id

    @property
    def active(self) -> bool:
        return self.goal is not None or self.owner is not None


NO_GOAL = 0


def filtered(scorecard: Scorecard, chosen: ScorecardFilter) -> Scorecard:
    """The scorecard narrowed to one goal and/or one owner; goal health is recomputed."""
    if not chosen.active:
        return scorecard
    goals = []
    for card in scorecard.goals:
        goal_id = card.goal.id if card.goal else NO_GOAL
        if chosen.goal is not None and goal_id != chosen.goal:
            continue
        kpis = [c for c in card.kpis if chosen.owner in (None, c.kpi.owner_id)]
        initiatives = [c for c in card.initiatives if chosen.owner in (None, c.initiative.owner_id)]
        if chosen.owner is not None and not kpis and not initiatives:
            continue
        health = scoring.goal_health([(c.status, c.late) for c in kpis])
        goals.append(GoalCard(card.goal, kpis, initiatives, health))
    return Scorecard(scorecard.workspace, scorecard.today, scorecard.cycle, goals)


def owners(scorecard: Scorecard) -> list[tuple[int, str]]:
    """Everyone who owns a KPI or initiative on the scorecard, as (id, display name)."""
    people = {c.kpi.owner.id: c.kpi.owner.display_name for c in scorecard.kpis if c.kpi.owner}
    people |= {
        c.initiative.owner.id: c.initiative.owner.display_name
        for c in scorecard.initiatives
        if c.initiative.owner
    }
    return sorted(people.items(), key=lambda item: item[1].casefold())

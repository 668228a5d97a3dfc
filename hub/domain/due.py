"""What is due for whom: the check-in's read model.

A KPI is due for the most recent period that has *ended* in the workspace's calendar
(time zone, week start, fiscal year): on Wednesday 2 December 2026, with weeks starting
on Monday, a weekly KPI asks for the week of 23–29 November, a monthly one for November
and a quarterly one for Q3. Key results and hand-tracked initiatives are due whenever
they are in play: those of the active cycle (when the workspace uses OKRs) and
long-running ones (no cycle).

The rules are pure functions; `load_due` applies them to one workspace in a fixed
number of queries, whatever the number of KPIs, key results and initiatives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from hub.domain.periods import (
    MONTHS,
    Cadence,
    Period,
    local_today,
    period_for,
    previous_period,
)
from hub.domain.scorecard import (
    InitiativeCard,
    KeyResultCard,
    active_cycle,
    initiative_cards,
    kpi_cards,
    kpi_result,
    latest_values,
)
from hub.domain.status import StatusResult
from hub.extensions import db
from hub.models import (
    CheckIn,
    Cycle,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    ProgressUpdate,
    User,
    Workspace,
)

__all__ = [
    "DueInitiative",
    "DueKeyResult",
    "DueKpi",
    "DueList",
    "due_period",
    "due_period_at",
    "in_play",
    "is_in_play",
    "load_due",
    "load_due_initiative",
    "load_due_key_result",
    "load_due_kpi",
    "owned_by",
    "period_label",
]


# ------------------------------------------------------------------ pure rules


def due_period(
    cadence: Cadence | str, today: date, *, week_start: int = 0, fy_start_month: int = 1
) -> Period:
    """The most recent period of this cadence that has ended by `today` (local date).

    The period containing today is still running, so the one before it is due.
    """
    calendar_ = {"week_start": week_start, "fy_start_month": fy_start_month}
    return previous_period(period_for(today, cadence, **calendar_), **calendar_)


def due_period_at(
    now: datetime,
    cadence: Cadence | str,
    *,
    time_zone: str,
    week_start: int = 0,
    fy_start_month: int = 1,
) -> Period:
    """The period due at the instant `now`, judged by the date in `time_zone`."""
    today = local_today(time_zone, now)
    return due_period(cadence, today, week_start=week_start, fy_start_month=fy_start_month)


def period_label(period: Period) -> str:
    """A period as people say it: 'week of 23 Nov 2026', 'November 2026', 'Q4 2026'."""
    if period.cadence is Cadence.WEEKLY:
        return f"week of {period.start.day} {period.start:%b %Y}"
    if period.cadence is Cadence.MONTHLY:
        return f"{MONTHS[period.start.month - 1]} {period.start.year}"
    year, quarter = period.key.split("-Q")
    return f"Q{quarter} {year}"


def in_play(initiative: Initiative, cycle_id: int | None, *, uses_okrs: bool) -> bool:
    """Whether an initiative (and its key results) asks for check-ins now.

    Long-running initiatives (no cycle) always do; those of a cycle only while it is the
    active one and the workspace uses OKRs. Archived ones never do.
    """
    if initiative.archived_at is not None:
        return False
    if initiative.cycle_id is None:
        return True
    return uses_okrs and cycle_id is not None and initiative.cycle_id == cycle_id


def owned_by(owner_id: int | None, user_id: int | None) -> bool:
    """Whether something is the user's to check in; `user_id=None` means everyone's."""
    return user_id is None or owner_id == user_id


# ------------------------------------------------------------------ read model


@dataclass(frozen=True)
class DueKpi:
    """A KPI on the check-in: the period due, its value if entered, and its status."""

    kpi: Kpi
    period: Period
    value: KpiValue | None  # the due period's value
    latest: KpiValue | None  # the most recent value of any period
    result: StatusResult  # of the due period's value
    late: bool

    @property
    def entered(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class DueKeyResult:
    """A key result on the check-in, with its score and last check-in."""

    card: KeyResultCard
    initiative: Initiative
    linked: KpiValue | None  # the linked KPI's latest value, when linked
    last_check_in: datetime | None

    @property
    def kr(self) -> KeyResult:
        return self.card.kr


@dataclass(frozen=True)
class DueInitiative:
    """A hand-tracked initiative on the check-in, with its % complete and status."""

    card: InitiativeCard
    last_update: datetime | None

    @property
    def initiative(self) -> Initiative:
        return self.card.initiative


@dataclass(frozen=True)
class DueList:
    """Everything due for one person (or everyone) in a workspace on one day."""

    workspace: Workspace
    today: date
    everyone: bool
    cycle: Cycle | None
    kpis: list[DueKpi]
    key_results: list[DueKeyResult]
    initiatives: list[DueInitiative]

    @property
    def empty(self) -> bool:
        return not (self.kpis or self.key_results or self.initiatives)

    @property
    def kpis_entered(self) -> int:
        return sum(row.entered for row in self.kpis)


def _calendar(workspace: Workspace) -> dict[str, int]:
    return {"week_start": workspace.week_start, "fy_start_month": workspace.fiscal_year_start_month}


def due_kpis(workspace: Workspace, kpis: Sequence[Kpi], today: date) -> list[DueKpi]:
    """Each KPI with its due period, that period's value and status (three queries)."""
    calendar = _calendar(workspace)
    periods = {kpi.id: due_period(kpi.cadence, today, **calendar) for kpi in kpis}
    values: dict[int, KpiValue] = {}
    if kpis:
        keys = {period.key for period in periods.values()}
        for row in db.session.scalars(
            select(KpiValue).where(
                KpiValue.kpi_id.in_(list(periods)), KpiValue.period_key.in_(sorted(keys))
            )
        ):
            if row.period_key == periods[row.kpi_id].key:
                values[row.kpi_id] = row
    rows = []
    for card in kpi_cards(workspace, kpis, today):
        value = values.get(card.kpi.id)
        rows.append(
            DueKpi(
                kpi=card.kpi,
                period=periods[card.kpi.id],
                value=value,
                latest=card.latest,
                result=kpi_result(card.kpi, value.value if value else None, workspace),
                late=card.late,
            )
        )
    return rows


def due_okrs(
    initiatives: Sequence[Initiative], user_id: int | None, today: date
) -> tuple[list[DueKeyResult], list[DueInitiative]]:
    """The key results and hand-tracked initiatives (of those given) owned by the user.

    The initiatives' key results must be loaded already; three queries at most.
    """
    linked_ids = sorted({kr.kpi_id for i in initiatives for kr in i.key_results if kr.kpi_id})
    linked = latest_values(linked_ids)
    cards = initiative_cards(initiatives, linked, today)
    kr_rows = [
        (kr_card, card.initiative)
        for card in cards
        for kr_card in card.key_results
        if owned_by(kr_card.kr.owner_id, user_id)
    ]
    hand_tracked = [
        card for card in cards if not card.scored and owned_by(card.initiative.owner_id, user_id)
    ]
    check_ins = _latest_times(CheckIn.key_result_id, CheckIn, [c.kr.id for c, _ in kr_rows])
    updates = _latest_times(
        ProgressUpdate.initiative_id, ProgressUpdate, [c.initiative.id for c in hand_tracked]
    )
    key_results = [
        DueKeyResult(
            card=kr_card,
            initiative=initiative,
            linked=linked.get(kr_card.kr.kpi_id) if kr_card.kr.kpi_id else None,
            last_check_in=check_ins.get(kr_card.kr.id),
        )
        for kr_card, initiative in kr_rows
    ]
    initiative_rows = [
        DueInitiative(card=card, last_update=updates.get(card.initiative.id))
        for card in hand_tracked
    ]
    return key_results, initiative_rows


def _latest_times(
    column: InstrumentedAttribute[int],
    model: type[CheckIn] | type[ProgressUpdate],
    ids: Iterable[int],
) -> dict[int, datetime]:
    """The time of the newest row of `model` for each id (check-ins, progress updates)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(column, func.max(model.created_at)).where(column.in_(ids)).group_by(column)
    )
    return {item_id: latest for item_id, latest in rows}


def _initiatives_in_play(workspace: Workspace, cycle: Cycle | None) -> list[Initiative]:
    in_cycle = Initiative.cycle_id.is_(None)
    if cycle is not None:
        in_cycle = in_cycle | (Initiative.cycle_id == cycle.id)
    return list(
        db.session.scalars(
            select(Initiative)
            .where(
                Initiative.workspace_id == workspace.id,
                Initiative.archived_at.is_(None),
                in_cycle,
            )
            .options(
                selectinload(Initiative.owner),
                selectinload(Initiative.cycle),
                selectinload(Initiative.key_results).selectinload(KeyResult.owner),
                selectinload(Initiative.key_results).selectinload(KeyResult.kpi),
            )
            .order_by(Initiative.position, Initiative.id)
        )
    )


def load_due(
    workspace: Workspace,
    user: User,
    *,
    everyone: bool = False,
    today: date | None = None,
) -> DueList:
    """Everything due for `user` (or, with `everyone`, for all) in the workspace.

    KPIs only when the workspace uses KPIs; key results and initiatives of the active
    cycle only when it uses OKRs; archived things never.
    """
    today = today or local_today(workspace.time_zone)
    user_id = None if everyone else user.id
    kpis: list[Kpi] = []
    if workspace.uses_kpis:
        query = select(Kpi).where(Kpi.workspace_id == workspace.id, Kpi.archived_at.is_(None))
        if user_id is not None:
            query = query.where(Kpi.owner_id == user_id)
        kpis = list(
            db.session.scalars(
                query.options(selectinload(Kpi.owner)).order_by(Kpi.position, Kpi.id)
            )
        )
    cycle = active_cycle(workspace) if workspace.uses_okrs else None
    key_results, initiatives = due_okrs(_initiatives_in_play(workspace, cycle), user_id, today)
    return DueList(
        workspace=workspace,
        today=today,
        everyone=everyone,
        cycle=cycle,
        kpis=due_kpis(workspace, kpis, today),
        key_results=key_results,
        initiatives=initiatives,
    )


def load_due_kpi(workspace: Workspace, kpi: Kpi, today: date | None = None) -> DueKpi:
    """One KPI's check-in row, as `load_due` would show it."""
    today = today or local_today(workspace.time_zone)
    return due_kpis(workspace, [kpi], today)[0]


def load_due_key_result(
    workspace: Workspace, kr: KeyResult, today: date | None = None
) -> DueKeyResult:
    """One key result's check-in row, as `load_due` would show it."""
    today = today or local_today(workspace.time_zone)
    key_results, _ = due_okrs([kr.initiative], None, today)
    return next(row for row in key_results if row.kr.id == kr.id)


def load_due_initiative(
    workspace: Workspace, initiative: Initiative, today: date | None = None
) -> DueInitiative:
    """One hand-tracked initiative's check-in row, as `load_due` would show it."""
    today = today or local_today(workspace.time_zone)
    _, initiatives = due_okrs([initiative], None, today)
    return initiatives[0]


def is_in_play(workspace: Workspace, initiative: Initiative) -> bool:
    """Whether the check-in may take values for this initiative or its key results now."""
    cycle = active_cycle(workspace) if workspace.uses_okrs and initiative.cycle_id else None
    return in_play(initiative, cycle.id if cycle else None, uses_okrs=workspace.uses_okrs)

"""The tabs of SHEETS.md §1 as the app sees them: rows, columns, each managed cell's value,
who owns it, and how a value read from the sheet is applied through the domain.

`build_tabs` reads the app in a fixed number of queries whatever the workspace's size.
`apply` changes the app exactly as the web forms would (same domain operations, same
validation), with provenance `sheet`; it raises DomainError or ValueError with a reason
a person can act on, which the sync turns into an import problem.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.domain import okrs, plan
from hub.domain.checkins import clear_current, record_check_in
from hub.domain.errors import DomainError
from hub.domain.periods import Cadence, last_n_periods, periods_between
from hub.domain.scorecard import active_cycle, initiative_cards, kpi_cards, latest_values
from hub.domain.status import Direction, bounds_from_form, form_from_bounds, status_label
from hub.domain.values import set_value, set_values
from hub.extensions import db
from hub.models import (
    Goal,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    Membership,
    TabKind,
    User,
    Workspace,
)
from hub.sync.cells import Kind, decimal_text, number_text, range_text, split_range
from hub.sync.merge import APP, SHEET

__all__ = ["Column", "Row", "Tab", "apply", "build_tabs", "tab_kinds"]

# Who wins a conflict on a column (SHEETS.md §1): people type values, the app defines.
COMPUTED = "computed"  # rewritten by the app, never read: ID, Status, Score

TRACKED_PERIODS = 12  # period columns before the connection's period, by default


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    owner: str
    kind: str
    unit: str | None = None  # how its numbers read; None: the row's (the KPI's, the KR's)


@dataclass(slots=True)
class Row:
    """One managed row: the app's value of each managed cell, as compared strings."""

    key: str  # what the ID column holds
    label: str  # "K3 Revenue", for the log and the conflict list
    entity: Any
    values: dict[str, str]
    unit: str = "number"
    computed: frozenset[str] = frozenset()  # columns the app owns on this row only


@dataclass
class Tab:
    kind: str
    columns: list[Column]
    rows: list[Row]
    cadence: str | None = None
    by_key: dict[str, Row] = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {row.key: row for row in self.rows}

    @property
    def title(self) -> str:
        return TabKind.TITLES[self.kind]

    def column(self, header: str) -> Column | None:
        return next((c for c in self.columns if c.header == header), None)

    def owner(self, row: Row, column: Column) -> str:
        return COMPUTED if column.header in row.computed else column.owner


KPI_COLUMNS = [
    Column("ID", COMPUTED, Kind.TEXT),
    Column("KPI", APP, Kind.TEXT),
    Column("Goal", APP, Kind.TEXT),
    Column("Unit", APP, Kind.TEXT),
    Column("Owner", APP, Kind.EMAIL),
    Column("Target", APP, Kind.BOUNDS),
    Column("Red at", APP, Kind.BOUNDS),
    Column("Status", COMPUTED, Kind.TEXT),
]
OKR_COLUMNS = [
    Column("ID", COMPUTED, Kind.TEXT),
    Column("Objective", APP, Kind.TEXT),
    Column("Key result", APP, Kind.TEXT),
    Column("Owner", APP, Kind.EMAIL),
    Column("Start", APP, Kind.NUMBER),
    Column("Target", APP, Kind.NUMBER),
    Column("Current", SHEET, Kind.NUMBER),
    Column("Confidence", SHEET, Kind.INTEGER, "number"),
    Column("Score", COMPUTED, Kind.NUMBER, "number"),
    Column("Status", COMPUTED, Kind.TEXT),
]
INITIATIVE_COLUMNS = [
    Column("ID", COMPUTED, Kind.TEXT),
    Column("Initiative", APP, Kind.TEXT),
    Column("Goal", APP, Kind.TEXT),
    Column("Owner", APP, Kind.EMAIL),
    Column("Due", APP, Kind.DATE),
    Column("% complete", SHEET, Kind.NUMBER, "percent"),
    Column("Status", COMPUTED, Kind.TEXT),
]
NAME_COLUMN = {
    TabKind.WEEKLY: "KPI",
    TabKind.MONTHLY: "KPI",
    TabKind.QUARTERLY: "KPI",
    TabKind.OKRS: "Key result",
    TabKind.INITIATIVES: "Initiative",
}


def tab_kinds(workspace: Workspace) -> list[str]:
    """The tabs the workspace's mode and cadences need, in sheet order."""
    kinds: list[str] = []
    if workspace.uses_kpis:
        used = set(
            db.session.scalars(
                select(Kpi.cadence)
                .where(Kpi.workspace_id == workspace.id, Kpi.archived_at.is_(None))
                .distinct()
            )
        )
        kinds += [kind for kind in TabKind.KPI_TABS if kind in used] or [TabKind.WEEKLY]
    if workspace.uses_okrs:
        kinds += [TabKind.OKRS, TabKind.INITIATIVES]
    return kinds


def periods_of(workspace: Workspace, cadence: str, since: date, today: date) -> list[str]:
    """Period keys of a KPI tab: from 12 periods before the connection to the current one."""
    calendar = {
        "week_start": workspace.week_start,
        "fy_start_month": workspace.fiscal_year_start_month,
    }
    first = last_n_periods(since, cadence, TRACKED_PERIODS + 1, **calendar)[0]
    return [p.key for p in periods_between(first.start, max(today, since), cadence, **calendar)]


def build_tabs(workspace: Workspace, kinds: list[str], since: date, today: date) -> dict[str, Tab]:
    """Every managed tab of `kinds`, read from the app."""
    tabs: dict[str, Tab] = {}
    kpi_kinds = [k for k in kinds if k in TabKind.KPI_TABS]
    if kpi_kinds:
        tabs.update(_kpi_tabs(workspace, kpi_kinds, since, today))
    if TabKind.OKRS in kinds or TabKind.INITIATIVES in kinds:
        tabs.update(_okr_tabs(workspace, today))
    return {kind: tabs[kind] for kind in kinds if kind in tabs}


def _kpi_tabs(workspace: Workspace, kinds: list[str], since: date, today: date) -> dict[str, Tab]:
    kpis = list(
        db.session.scalars(
            select(Kpi)
            .where(
                Kpi.workspace_id == workspace.id,
                Kpi.archived_at.is_(None),
                Kpi.cadence.in_(kinds),
            )
            .options(selectinload(Kpi.goal), selectinload(Kpi.owner))
            .order_by(Kpi.position, Kpi.id)
        )
    )
    periods = {kind: periods_of(workspace, kind, since, today) for kind in kinds}
    values: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if kpis:
        wanted = {key for keys in periods.values() for key in keys}
        for kpi_id, key, value in db.session.execute(
            select(KpiValue.kpi_id, KpiValue.period_key, KpiValue.value).where(
                KpiValue.kpi_id.in_([k.id for k in kpis]), KpiValue.period_key.in_(wanted)
            )
        ):
            values[kpi_id][key] = value
    cards = {card.kpi.id: card for card in kpi_cards(workspace, kpis, today)}
    rows: dict[str, list[Row]] = defaultdict(list)
    for kpi in kpis:
        card = cards[kpi.id]
        target, red = bounds_texts(kpi)
        cells = {
            "ID": kpi.key,
            "KPI": kpi.name,
            "Goal": kpi.goal.title if kpi.goal else "",
            "Unit": kpi.unit,
            "Owner": kpi.owner.email.lower() if kpi.owner else "",
            "Target": target,
            "Red at": red,
            "Status": status_label(card.result, card.late),
        }
        mine = values[kpi.id]
        for key in periods[kpi.cadence]:
            cells[key] = number_text(mine.get(key))
        rows[kpi.cadence].append(Row(kpi.key, f"{kpi.key} {kpi.name}", kpi, cells, kpi.unit))
    return {
        kind: Tab(
            kind,
            KPI_COLUMNS + [Column(key, SHEET, Kind.NUMBER) for key in periods[kind]],
            rows[kind],
            cadence=kind,
        )
        for kind in kinds
    }


def bounds_texts(kpi: Kpi) -> tuple[str, str]:
    """The Target and Red at cells of a KPI."""
    form = form_from_bounds(kpi.direction, _bounds(kpi))
    if kpi.direction == Direction.RANGE:
        return (
            range_text(_text(form["low"]), _text(form["high"])),
            range_text(_text(form["red_low"]), _text(form["red_high"])),
        )
    return number_text(form["target"]), number_text(form["red_line"])


def _bounds(kpi: Kpi):
    from hub.domain.scorecard import bounds_of

    return bounds_of(kpi)


def _text(value: Decimal | None) -> str:
    return "" if value is None else number_text(value)


def _okr_tabs(workspace: Workspace, today: date) -> dict[str, Tab]:
    cycle = active_cycle(workspace)
    query = (
        select(Initiative)
        .where(Initiative.workspace_id == workspace.id, Initiative.archived_at.is_(None))
        .options(
            selectinload(Initiative.owner),
            selectinload(Initiative.goal),
            selectinload(Initiative.cycle),
            selectinload(Initiative.key_results).selectinload(KeyResult.owner),
        )
        .order_by(Initiative.position, Initiative.id)
    )
    if cycle is not None:
        query = query.where(Initiative.cycle_id == cycle.id)
    else:
        query = query.where(Initiative.cycle_id.is_(None))
    initiatives = list(db.session.scalars(query))
    linked = [kr.kpi_id for i in initiatives for kr in i.key_results if kr.kpi_id]
    cards = initiative_cards(initiatives, latest_values(linked), today)
    okr_rows, initiative_rows = [], []
    for card in cards:
        initiative = card.initiative
        status = card.status.value.replace("_", " ").capitalize()
        initiative_rows.append(
            Row(
                initiative.key,
                f"{initiative.key} {initiative.title}",
                initiative,
                {
                    "ID": initiative.key,
                    "Initiative": initiative.title,
                    "Goal": initiative.goal.title if initiative.goal else "",
                    "Owner": initiative.owner.email.lower() if initiative.owner else "",
                    "Due": initiative.due_date.isoformat() if initiative.due_date else "",
                    "% complete": number_text(
                        card.percent if card.scored else initiative.percent_complete
                    ),
                    "Status": status,
                },
                "percent",
                frozenset({"% complete"}) if card.scored else frozenset(),
            )
        )
        for kr_card in card.key_results:
            kr = kr_card.kr
            okr_rows.append(
                Row(
                    kr.key,
                    f"{kr.key} {kr.title}",
                    kr,
                    {
                        "ID": kr.key,
                        "Objective": initiative.title,
                        "Key result": kr.title,
                        "Owner": kr.owner.email.lower() if kr.owner else "",
                        "Start": number_text(kr.start_value),
                        "Target": number_text(kr.target_value),
                        "Current": number_text(kr_card.current),
                        "Confidence": str(kr.confidence),
                        "Score": decimal_text(kr_card.score.quantize(Decimal("0.01"))),
                        "Status": status,
                    },
                    kr.unit,
                    frozenset({"Current"}) if kr.kpi_id else frozenset(),
                )
            )
    return {
        TabKind.OKRS: Tab(TabKind.OKRS, list(OKR_COLUMNS), okr_rows),
        TabKind.INITIATIVES: Tab(TabKind.INITIATIVES, list(INITIATIVE_COLUMNS), initiative_rows),
    }


# ------------------------------------------------------------------ applying sheet values


def apply(
    workspace: Workspace,
    tab: Tab,
    row: Row,
    header: str,
    value: str,
    *,
    source: str,
    ref: str,
    user: User | None = None,
) -> None:
    """Set one managed field of the app to `value` (a compared string) as the sheet has it.

    Raises DomainError/ValueError with the reason when the app refuses the value; the
    caller runs this in a savepoint, so a refusal changes nothing.
    """
    if tab.kind in TabKind.KPI_TABS:
        _apply_kpi(workspace, row.entity, header, value, source=source, ref=ref, user=user)
    elif tab.kind == TabKind.OKRS:
        _apply_key_result(workspace, row.entity, header, value, source=source, user=user)
    else:
        _apply_initiative(workspace, row.entity, header, value, source=source, user=user)


def is_period_value(tab: Tab, header: str) -> bool:
    """Whether a column of a tab holds KPI values (one per period)."""
    return tab.cadence is not None and all(c.header != header for c in KPI_COLUMNS)


def apply_values(items: list[tuple[Kpi, str, str, str]], *, source: str) -> None:
    """Many KPI values at once — (kpi, period key, value, cell) each — as `apply` would."""
    set_values([(kpi, key, _number(value), ref) for kpi, key, value, ref in items], source=source)


def refresh_statuses(workspace: Workspace, rows: list[tuple[Tab, Row]], today: date) -> None:
    """Recompute the Status of KPI rows whose values were just applied (2 queries)."""
    kpi_rows = {row.entity.id: row for tab, row in rows if tab.cadence is not None}
    if not kpi_rows:
        return
    kpis = [row.entity for row in kpi_rows.values()]
    for card in kpi_cards(workspace, kpis, today):
        kpi_rows[card.kpi.id].values["Status"] = status_label(card.result, card.late)


def _number(value: str) -> Decimal | None:
    return Decimal(value) if value != "" else None


def _apply_kpi(
    workspace: Workspace,
    kpi: Kpi,
    header: str,
    value: str,
    *,
    source: str,
    ref: str,
    user: User | None,
) -> None:
    if header not in {c.header for c in KPI_COLUMNS}:
        set_value(kpi, header, _number(value), source=source, source_ref=ref, user=user)
        return
    fields = kpi_fields(kpi)
    if header == "KPI":
        fields.name = value
    elif header == "Goal":
        fields.goal = goal_titled(workspace, value)
    elif header == "Unit":
        fields.unit = value.lower()
    elif header == "Owner":
        fields.owner = member_with_email(workspace, value)
    elif header in ("Target", "Red at"):
        fields = _with_bounds(kpi, fields, header, value)
    else:
        raise ValueError(f"{header} is written by the app")
    plan.update_kpi(kpi, fields)


def kpi_fields(kpi: Kpi) -> plan.KpiFields:
    return plan.KpiFields(
        name=kpi.name,
        key=kpi.key,
        description=kpi.description,
        goal=kpi.goal,
        unit=kpi.unit,
        decimals=kpi.decimals,
        cadence=kpi.cadence,
        aggregation=kpi.aggregation,
        owner=kpi.owner,
        direction=kpi.direction,
        green_min=kpi.green_min,
        green_max=kpi.green_max,
        red_min=kpi.red_min,
        red_max=kpi.red_max,
    )


def _with_bounds(kpi: Kpi, fields: plan.KpiFields, header: str, value: str) -> plan.KpiFields:
    form = form_from_bounds(kpi.direction, _bounds(kpi))
    if kpi.direction == Direction.RANGE:
        low, high = split_range(value) if value else (None, None)
        if header == "Target":
            form["low"], form["high"] = low, high
        else:
            form["red_low"], form["red_high"] = low, high
    else:
        if value and " to " in value:
            raise ValueError(f"{kpi.key} is not a range KPI: type one number")
        form["target" if header == "Target" else "red_line"] = _number(value)
        if form.get("target") is None and form.get("red_line") is not None:
            raise ValueError("a red line needs a target: type the Target first")
    bounds = bounds_from_form(kpi.direction, **form)
    return replace(
        fields,
        green_min=bounds.green_min,
        green_max=bounds.green_max,
        red_min=bounds.red_min,
        red_max=bounds.red_max,
    )


def goal_titled(workspace: Workspace, title: str) -> Goal | None:
    if not title:
        return None
    goal = db.session.scalar(
        select(Goal).where(
            Goal.workspace_id == workspace.id,
            func.lower(Goal.title) == title.lower(),
            Goal.archived_at.is_(None),
        )
    )
    if goal is None:
        raise DomainError(f"there is no goal titled {title!r}; goals are added in the app")
    return goal


def member_with_email(workspace: Workspace, email: str) -> User | None:
    if not email:
        return None
    user = db.session.scalar(
        select(User)
        .join(Membership)
        .where(Membership.workspace_id == workspace.id, func.lower(User.email) == email.lower())
    )
    if user is None:
        raise DomainError(f"{email} is not a member of this workspace")
    return user


def _apply_key_result(
    workspace: Workspace, kr: KeyResult, header: str, value: str, *, source: str, user: User | None
) -> None:
    if header == "Current":
        if value == "":
            clear_current(kr, user=user, source=source)
        else:
            record_check_in(kr, value=Decimal(value), user=user, source=source)
        return
    if header == "Confidence":
        if value == "":
            raise ValueError("confidence cannot be empty: type a whole number from 0 to 10")
        record_check_in(kr, value=None, confidence=int(Decimal(value)), user=user, source=source)
        return
    if header == "Objective":
        _apply_initiative(workspace, kr.initiative, "Initiative", value, source=source, user=user)
        return
    fields = plan.KeyResultFields(
        title=kr.title,
        start=kr.start_value,
        target=kr.target_value,
        key=kr.key,
        owner=kr.owner,
        current=kr.current_value,
        unit=kr.unit,
        confidence=kr.confidence,
        weight=kr.weight,
        kpi=kr.kpi,
    )
    if header == "Key result":
        fields.title = value
    elif header == "Owner":
        fields.owner = member_with_email(workspace, value)
    elif header in ("Start", "Target"):
        if value == "":
            raise ValueError(f"a key result needs a {header.lower()} value")
        setattr(fields, header.lower(), Decimal(value))
    else:
        raise ValueError(f"{header} is written by the app")
    okrs.update_key_result(kr, fields, user)


def _apply_initiative(
    workspace: Workspace,
    initiative: Initiative,
    header: str,
    value: str,
    *,
    source: str,
    user: User | None,
) -> None:
    from hub.domain.checkins import set_percent_complete

    if header == "% complete":
        set_percent_complete(initiative, _number(value), user=user, source=source)
        return
    fields = plan.InitiativeFields(
        title=initiative.title,
        key=initiative.key,
        description=initiative.description,
        goal=initiative.goal,
        cycle=initiative.cycle,
        owner=initiative.owner,
        start=initiative.start_date,
        due=initiative.due_date,
        percent_complete=initiative.percent_complete,
        gauges=list(initiative.gauges),
    )
    if header == "Initiative":
        fields.title = value
    elif header == "Goal":
        fields.goal = goal_titled(workspace, value)
    elif header == "Owner":
        fields.owner = member_with_email(workspace, value)
    elif header == "Due":
        fields.due = date.fromisoformat(value) if value else None
    else:
        raise ValueError(f"{header} is written by the app")
    okrs.update_initiative(initiative, fields, user)


def new_kpi(workspace: Workspace, cadence: str, cells: dict[str, str]) -> Kpi:
    """A KPI typed as a new row of a KPI tab: its name, and unit/goal/owner when valid."""
    fields = plan.KpiFields(name=cells.get("KPI", ""), cadence=Cadence(cadence).value)
    unit = cells.get("Unit", "").lower()
    if unit in ("number", "percent", "currency", "duration"):
        fields.unit = unit
    for header, finder, attr in (
        ("Goal", goal_titled, "goal"),
        ("Owner", member_with_email, "owner"),
    ):
        try:
            setattr(fields, attr, finder(workspace, cells.get(header, "")))
        except DomainError:
            pass
    return plan.create_kpi(workspace, fields)


Applier = Callable[..., None]

"""Operations on KPI values: every change goes through here and into the history."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, tuple_

from hub.domain.errors import DomainError, NotFound
from hub.domain.periods import Cadence, Period, PeriodError, parse_period
from hub.extensions import db
from hub.models import Kpi, KpiValue, User, ValueChange, Workspace
from hub.models.base import utcnow

SOURCES = ("web", "sheet", "api", "import")
MAX_NOTE = 500


def kpi_period(kpi: Kpi, period_key: str, workspace: Workspace | None = None) -> Period:
    """Parse a period key for this KPI's cadence and workspace calendar, or DomainError."""
    workspace = workspace or kpi.workspace
    try:
        return parse_period(
            period_key,
            Cadence(kpi.cadence),
            week_start=workspace.week_start,
            fy_start_month=workspace.fiscal_year_start_month,
        )
    except PeriodError as error:
        raise DomainError(str(error), field="period") from None


def find_kpi(workspace: Workspace, key: str) -> Kpi:
    """The workspace's KPI with this key, or NotFound."""
    kpi = db.session.scalar(select(Kpi).where(Kpi.workspace_id == workspace.id, Kpi.key == key))
    if kpi is None:
        raise NotFound(f"There is no KPI {key!r} in this workspace.")
    return kpi


def current_value(kpi: Kpi, period_key: str) -> KpiValue | None:
    return db.session.scalar(
        select(KpiValue).where(KpiValue.kpi_id == kpi.id, KpiValue.period_key == period_key)
    )


def set_value(
    kpi: Kpi,
    period_key: str,
    value: Decimal | None,
    *,
    source: str,
    user: User | None = None,
    note: str | None = None,
    source_ref: str = "",
    reverts: ValueChange | None = None,
) -> ValueChange | None:
    """Set (or, with None, clear) a KPI's value for a period, recording the change.

    Returns the history entry, or None when nothing changed. A note of None keeps the
    note the value already has.
    """
    period = kpi_period(kpi, period_key)
    change = _set(
        kpi,
        period,
        value,
        current_value(kpi, period.key),
        source=source,
        user=user,
        note=note,
        source_ref=source_ref,
        reverts=reverts,
    )
    db.session.flush()
    return change


def set_values(
    items: list[tuple[Kpi, str, Decimal | None, str]], *, source: str, user: User | None = None
) -> list[ValueChange]:
    """Many `set_value`s at once — (kpi, period key, value, source_ref) each — with the
    current values read in one query: what a sync cycle applies from the sheet.

    Every period is checked before anything changes; DomainError names the first bad one.
    """
    periods = [kpi_period(kpi, key) for kpi, key, _, _ in items]
    pairs = {(kpi.id, period.key) for (kpi, *_), period in zip(items, periods, strict=True)}
    rows: dict[tuple[int, str], KpiValue] = {}
    if pairs:
        for row in db.session.scalars(
            select(KpiValue).where(tuple_(KpiValue.kpi_id, KpiValue.period_key).in_(pairs))
        ):
            rows[(row.kpi_id, row.period_key)] = row
    changes = []
    for (kpi, _, value, ref), period in zip(items, periods, strict=True):
        row = rows.get((kpi.id, period.key))
        change = _set(kpi, period, value, row, source=source, user=user, source_ref=ref)
        if change is not None:
            changes.append(change)
    db.session.flush()
    return changes


def _set(
    kpi: Kpi,
    period: Period,
    value: Decimal | None,
    row: KpiValue | None,
    *,
    source: str,
    user: User | None,
    note: str | None = None,
    source_ref: str = "",
    reverts: ValueChange | None = None,
) -> ValueChange | None:
    if source not in SOURCES:
        raise ValueError(f"unknown value source {source!r}")
    if note is not None and len(note) > MAX_NOTE:
        raise DomainError(f"A note is at most {MAX_NOTE} characters.", field="note")
    old_value = row.value if row else None
    old_note = row.note if row else ""
    new_note = "" if value is None else (old_note if note is None else note.strip())
    if old_value == value and old_note == new_note:
        return None
    change = ValueChange(
        kpi=kpi,
        period_key=period.key,
        old_value=old_value,
        new_value=value,
        old_note=old_note,
        new_note=new_note,
        source=source,
        source_ref=source_ref,
        user=user,
        reverts_id=reverts.id if reverts else None,
    )
    db.session.add(change)
    if value is None:
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = KpiValue(kpi=kpi, period_key=period.key, period_start=period.start)
            db.session.add(row)
        row.value = value
        row.note = new_note
        row.source = source
        row.source_ref = source_ref
        row.updated_by = user
        row.updated_at = utcnow()
    return change


def revert_change(kpi: Kpi, change_id: int, user: User | None) -> ValueChange | None:
    """Put a value back to what it was before the given change (itself a new change)."""
    change = db.session.get(ValueChange, change_id)
    if change is None or change.kpi_id != kpi.id:
        raise NotFound("No such change for this KPI.")
    return set_value(
        kpi,
        change.period_key,
        change.old_value,
        note=change.old_note,
        source="web",
        user=user,
        reverts=change,
    )


def value_history(kpi: Kpi, period_key: str | None = None) -> list[ValueChange]:
    """The KPI's changes, newest first (optionally for one period)."""
    query = select(ValueChange).where(ValueChange.kpi_id == kpi.id)
    if period_key is not None:
        query = query.where(ValueChange.period_key == period_key)
    return list(db.session.scalars(query.order_by(ValueChange.id.desc())))

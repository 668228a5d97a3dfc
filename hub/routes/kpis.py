"""The KPI detail page: values vs thresholds over time, roll-ups, history and revert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, request, url_for

from hub.auth import Access, workspace_route
from hub.domain import values
from hub.domain.due import due_period, period_label
from hub.domain.errors import DomainError, NotFound
from hub.domain.periods import (
    Cadence,
    Period,
    PeriodError,
    last_n_periods,
    local_today,
    parse_period,
    period_for,
)
from hub.domain.scorecard import KpiCard, kpi_cards, kpi_result
from hub.domain.status import StatusResult, rollup, status_label
from hub.extensions import db
from hub.models import Kpi, KpiValue, Role, ValueChange, Workspace
from hub.presenters import kpi_value
from hub.rendering import render, see_other
from hub.routes.forms import UNPROCESSABLE, ConfirmForm, show_problems
from hub.routes.kpi_forms import KpiValueForm, input_text

bp = Blueprint("kpis", __name__)

# The chart's range picker: how many periods back, None for every value there is.
RANGES = {"13": 13, "26": 26, "52": 52, "all": None}
DEFAULT_RANGE = "13"
# "All" of a weekly KPI with decades of values would draw thousands of points.
MAX_CHART_PERIODS = 520
ROLLUP_ROWS = 12
ROLLUPS = {
    Cadence.WEEKLY: (Cadence.MONTHLY, Cadence.QUARTERLY),
    Cadence.MONTHLY: (Cadence.QUARTERLY,),
    Cadence.QUARTERLY: (),
}
ARCHIVED_MESSAGE = (
    "This KPI is archived, so its values are read-only. Restore it on the Plan page to change them."
)


@dataclass(frozen=True)
class Rollup:
    """One month or quarter of a KPI's values, aggregated, with its status."""

    period: Period
    value: Decimal
    result: StatusResult
    in_progress: bool


@dataclass(frozen=True)
class KpiPage:
    """Everything the detail page shows about one KPI."""

    card: KpiCard
    today: date
    chart: list[tuple[Period, Decimal | None]]
    rollups: dict[Cadence, list[Rollup]]
    rows: list[KpiValue]  # newest first
    history: list[ValueChange]  # newest first

    @property
    def label(self) -> str:
        return status_label(self.card.result, self.card.late)


def _kpi_or_404(workspace: Workspace, key: str) -> Kpi:
    try:
        return values.find_kpi(workspace, key)
    except NotFound:
        abort(404)


def _calendar(workspace: Workspace) -> dict[str, int]:
    return {"week_start": workspace.week_start, "fy_start_month": workspace.fiscal_year_start_month}


def _dated(kpi: Kpi, rows: list[KpiValue], workspace: Workspace) -> list[tuple[Period, Decimal]]:
    """The values with their periods; a key the calendar no longer reads (the week start
    changed since) is left out of charts and roll-ups, but stays in the tables."""
    dated = []
    for row in rows:
        try:
            dated.append(
                (parse_period(row.period_key, kpi.cadence, **_calendar(workspace)), row.value)
            )
        except PeriodError:
            continue
    return dated


def _chart_periods(
    kpi: Kpi, dated: list[tuple[Period, Decimal]], today: date, count: int | None, calendar
) -> list[Period]:
    """The periods the chart shows: the last `count`, or (None) from the first value on."""
    if count is not None:
        return last_n_periods(today, kpi.cadence, count, **calendar)
    if not dated:
        return last_n_periods(today, kpi.cadence, 1, **calendar)
    first, last = dated[0][0], max(today, dated[-1][0].start)
    # Counted back from the end, so a value typed for the year 9999 costs no more.
    window = last_n_periods(last, kpi.cadence, MAX_CHART_PERIODS, **calendar)
    return [period for period in window if period.start >= first.start]


def build_page(workspace: Workspace, kpi: Kpi, count: int | None) -> KpiPage:
    """The detail page's read model: status, chart window, roll-ups and history."""
    today = local_today(workspace.time_zone)
    calendar = _calendar(workspace)
    rows = list(kpi.values)  # oldest first
    dated = sorted(_dated(kpi, rows, workspace))
    by_key = {period.key: value for period, value in dated}
    chart = [(p, by_key.get(p.key)) for p in _chart_periods(kpi, dated, today, count, calendar)]
    rollups = {}
    for cadence in ROLLUPS[Cadence(kpi.cadence)]:
        totals = rollup(dated, kpi.aggregation, cadence, **calendar)[-ROLLUP_ROWS:]
        current = period_for(today, cadence, **calendar)
        rollups[cadence] = [
            Rollup(period, total, kpi_result(kpi, total, workspace), period >= current)
            for period, total in reversed(totals)
        ]
    return KpiPage(
        card=kpi_cards(workspace, [kpi], today)[0],
        today=today,
        chart=chart,
        rollups=rollups,
        rows=rows[::-1],
        history=values.value_history(kpi),
    )


def _value_form(access: Access, kpi: Kpi, period_key: str | None = None) -> KpiValueForm | None:
    """A fresh form for the period asked for (or the one due), or None if not allowed."""
    if not access.can(Role.UPDATER) or kpi.archived_at is not None:
        return None
    workspace = access.workspace
    if not period_key:
        today = local_today(workspace.time_zone)
        period_key = due_period(kpi.cadence, today, **_calendar(workspace)).key
    current = values.current_value(kpi, period_key)
    return KpiValueForm(
        formdata=None,
        kpi=kpi,
        workspace=workspace,
        data={
            "period": period_key,
            "value": input_text(current.value) if current else "",
            "note": current.note if current else "",
        },
    )


def _page(access: Access, kpi: Kpi, form: KpiValueForm | None, *, status: int = 200):
    chosen = request.args.get("range", DEFAULT_RANGE)
    chosen = chosen if chosen in RANGES else DEFAULT_RANGE
    workspace = access.workspace
    # The range picker swaps only the chart; everything else is a whole page.
    block = "chart" if request.htmx and request.htmx.target == "kpi-chart" else None
    return render(
        "kpis/detail.html",
        block=block,
        status=status,
        workspace=workspace,
        access=access,
        kpi=kpi,
        page=build_page(workspace, kpi, RANGES[chosen]),
        ranges=RANGES,
        chosen_range=chosen,
        form=form,
        can_update=access.can(Role.UPDATER) and kpi.archived_at is None,
        revert_form=ConfirmForm(formdata=None),
        period_label=period_label,
        ROLLUP_ROWS=ROLLUP_ROWS,
    )


@bp.get("/w/<slug>/kpis/<key>")
@workspace_route(Role.VIEWER, uses="kpis")
def detail(access: Access, key: str):
    """One KPI: latest status and why, chart over its zones, roll-ups, values, history."""
    kpi = _kpi_or_404(access.workspace, key)
    return _page(access, kpi, _value_form(access, kpi, request.args.get("period", "")[:20]))


@bp.post("/w/<slug>/kpis/<key>/values")
@workspace_route(Role.UPDATER, uses="kpis")
def set_value(access: Access, key: str):
    """Set or clear the value of any period; a refusal re-renders the form with why."""
    kpi = _kpi_or_404(access.workspace, key)
    form = KpiValueForm(kpi=kpi, workspace=access.workspace)
    if kpi.archived_at is not None:
        form.form_errors.append(ARCHIVED_MESSAGE)
    elif form.validate_on_submit() and form.chosen_period is not None:
        try:
            change = values.set_value(
                kpi,
                form.chosen_period.key,
                form.number,
                source="web",
                user=access.user,
                note=form.note.data or "",
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(*_saved_message(kpi, access.workspace, form.chosen_period, change))
            return see_other(url_for("kpis.detail", slug=access.workspace.slug, key=kpi.key))
    return _page(access, kpi, form, status=UNPROCESSABLE)


def _saved_message(
    kpi: Kpi, workspace: Workspace, period: Period, change: ValueChange | None
) -> tuple[str, str]:
    when = period_label(period)
    if change is None:
        return (f"Nothing changed: {kpi.name} already had that for {when}.", "info")
    if change.new_value is None:
        return (f"{kpi.name}: the value for {when} was cleared.", "success")
    value = kpi_value(change.new_value, kpi, workspace)
    return (f"{kpi.name}: {value} saved for {when}.", "success")


@bp.post("/w/<slug>/kpis/<key>/history/<int:change_id>/revert")
@workspace_route(Role.UPDATER, uses="kpis")
def revert(access: Access, key: str, change_id: int):
    """Put a period's value back to what it was before a change (itself a new change)."""
    kpi = _kpi_or_404(access.workspace, key)
    back = url_for("kpis.detail", slug=access.workspace.slug, key=kpi.key) + "#history"
    if not ConfirmForm().validate_on_submit():
        flash("Your form expired. Reload the page and try again.", "error")
        return see_other(back)
    if kpi.archived_at is not None:
        flash(ARCHIVED_MESSAGE, "error")
        return see_other(back)
    try:
        change = values.revert_change(kpi, change_id, access.user)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
        return see_other(back)
    db.session.commit()
    if change is None:
        flash("Nothing to revert: the value is already what it was before that change.", "info")
    else:
        when = period_label(values.kpi_period(kpi, change.period_key, access.workspace))
        if change.new_value is None:
            flash(f"Reverted: {kpi.name} has no value for {when} again.", "success")
        else:
            shown = kpi_value(change.new_value, kpi, access.workspace)
            flash(f"Reverted: {kpi.name} is {shown} for {when} again.", "success")
    return see_other(back)

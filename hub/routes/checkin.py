"""The check-in: one screen with everything due for me, saved row by row.

Each row is its own small form. Without JavaScript it posts and comes back to the page
(303) with a flash; with htmx it posts and gets only its own row back, with the new
status and why (KPI) or score and progress (key result, initiative).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from hub.auth import Access, workspace_route
from hub.domain import checkins, values
from hub.domain.due import (
    DueInitiative,
    DueKeyResult,
    DueKpi,
    DueList,
    is_in_play,
    load_due,
    load_due_initiative,
    load_due_key_result,
    load_due_kpi,
    period_label,
)
from hub.domain.errors import DomainError, NotFound
from hub.domain.formatting import MAX_DECIMALS, format_value
from hub.extensions import db
from hub.models import Initiative, KeyResult, Kpi, Role, Workspace
from hub.presenters import kpi_value
from hub.rendering import render, see_other
from hub.routes.forms import UNPROCESSABLE, show_problems
from hub.routes.kpi_forms import (
    CheckInInitiativeForm,
    CheckInKeyResultForm,
    CheckInKpiForm,
    input_text,
)

bp = Blueprint("checkin", __name__)

EVERYONE = "all"
TEMPLATE = "checkin/index.html"


# ------------------------------------------------------------------ forms of each row


def kr_value(value: Decimal | None, kr: KeyResult, workspace: Workspace) -> str:
    """A key result's number in its unit, with as many decimals as it has: '42.5%'."""
    if value is None:
        return format_value(None, kr.unit, 0)
    exponent = value.normalize().as_tuple().exponent
    places = min(max(-exponent, 0), MAX_DECIMALS) if isinstance(exponent, int) else 0
    return format_value(value, kr.unit, places, workspace.currency)


@dataclass(frozen=True)
class Saved:
    """What a row says after a save: the message, and whether anything changed."""

    message: str
    changed: bool = True


def kpi_form(row: DueKpi, who: str, workspace: Workspace) -> CheckInKpiForm:
    """The row's form, filled with the due period's value and note."""
    return CheckInKpiForm(
        formdata=None,
        prefix=f"kpi-{row.kpi.key}",
        kpi=row.kpi,
        workspace=workspace,
        data={
            "period": row.period.key,
            "value": input_text(row.value.value) if row.value else "",
            "note": row.value.note if row.value else "",
            "who": who,
        },
    )


def kr_form(row: DueKeyResult, who: str, workspace: Workspace) -> CheckInKeyResultForm:
    """The row's form: current value (unless linked to a KPI) and confidence."""
    return CheckInKeyResultForm(
        formdata=None,
        prefix=f"kr-{row.kr.key}",
        kr=row.kr,
        workspace=workspace,
        data={
            "value": input_text(row.kr.current_value),
            "confidence": str(row.kr.confidence),
            "note": "",
            "who": who,
        },
    )


def initiative_form(row: DueInitiative, who: str) -> CheckInInitiativeForm:
    """The row's form: % complete as typed by hand."""
    return CheckInInitiativeForm(
        formdata=None,
        prefix=f"initiative-{row.initiative.key}",
        initiative=row.initiative,
        data={"percent_complete": input_text(row.initiative.percent_complete), "who": who},
    )


def not_saved_reason(form: FlaskForm) -> str:
    """The first problem of a refused row, for the alert that says it was not saved."""
    for messages in form.errors.values():
        if messages:
            return str(messages[0])
    return "check the row"


def helpers() -> dict[str, object]:
    """What the check-in's rows call to say periods, key-result values and refusals."""
    return {
        "period_label": period_label,
        "kr_value": kr_value,
        "not_saved_reason": not_saved_reason,
    }


def _who(form: FlaskForm | None = None) -> str:
    raw = form.who.data if form is not None else request.args.get("who")
    return EVERYONE if raw == EVERYONE else ""


def _back(workspace: Workspace, who: str, anchor: str) -> str:
    args = {"who": who} if who else {}
    return url_for("checkin.index", slug=workspace.slug, **args) + f"#{anchor}"


def _page(access: Access, due: DueList, failed: tuple[str, FlaskForm] | None = None):
    """The whole check-in; `failed` is a row id and its refused form, shown with errors."""
    who = EVERYONE if due.everyone else ""
    workspace = access.workspace
    forms: dict[str, FlaskForm] = {}
    for row in due.kpis:
        forms[f"kpi-{row.kpi.key}"] = kpi_form(row, who, workspace)
    for row in due.key_results:
        forms[f"kr-{row.kr.key}"] = kr_form(row, who, workspace)
    for row in due.initiatives:
        forms[f"initiative-{row.initiative.key}"] = initiative_form(row, who)
    if failed is not None:
        forms[failed[0]] = failed[1]
    plan = "plan.index" in current_app.view_functions
    return render(
        TEMPLATE,
        status=UNPROCESSABLE if failed else 200,
        workspace=workspace,
        access=access,
        due=due,
        forms=forms,
        who=who,
        everyone=due.everyone,
        plan_url=url_for("plan.index", slug=workspace.slug) if plan else None,
        **helpers(),
    )


def _row(access: Access, block: str, name: str, row, form: FlaskForm, saved: Saved | None):
    """After a save: the row alone for htmx; otherwise back to the page (or the page
    with the refused row, 422).

    A refused row goes back to htmx as a 200, not a 422: htmx keeps the focus in the
    input the person was typing in (same id), while app.js moves the focus after a 422
    to the first invalid field of the whole page, which may be another row's.
    """
    everyone = _who(form) == EVERYONE
    if request.htmx:
        return render(
            TEMPLATE,
            block=block,
            workspace=access.workspace,
            row=row,
            forms={name: form},
            saved=saved,
            everyone=everyone,
            **helpers(),
        )
    if form.errors:
        due = load_due(access.workspace, access.user, everyone=everyone)
        return _page(access, due, failed=(name, form))
    if saved is not None:
        flash(saved.message, "success" if saved.changed else "info")
    return see_other(_back(access.workspace, _who(form), name))


# ------------------------------------------------------------------ routes


@bp.get("/w/<slug>/check-in")
@workspace_route(Role.UPDATER)
def index(access: Access):
    """Everything due for me this period (or, with ?who=all, for everyone)."""
    everyone = request.args.get("who") == EVERYONE
    return _page(access, load_due(access.workspace, access.user, everyone=everyone))


@bp.post("/w/<slug>/check-in/kpis/<key>")
@workspace_route(Role.UPDATER, uses="kpis")
def save_kpi(access: Access, key: str):
    """Save (or clear) a KPI's value for the period due."""
    kpi = _kpi_or_404(access.workspace, key)
    form = CheckInKpiForm(prefix=f"kpi-{kpi.key}", kpi=kpi, workspace=access.workspace)
    saved = None
    if form.validate_on_submit() and form.chosen_period is not None:
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
            saved = _kpi_saved(kpi, access.workspace, form, change is not None)
    row = load_due_kpi(access.workspace, kpi)
    if not form.errors:
        form = kpi_form(row, _who(form), access.workspace)
    return _row(access, "kpi_row", f"kpi-{kpi.key}", row, form, saved)


def _kpi_saved(kpi: Kpi, workspace: Workspace, form: CheckInKpiForm, changed: bool) -> Saved:
    assert form.chosen_period is not None  # noqa: S101  (validated)
    when = period_label(form.chosen_period)
    if not changed:
        return Saved(f"{kpi.name}: no change for {when}.", changed=False)
    if form.number is None:
        return Saved(f"{kpi.name}: value for {when} cleared.")
    return Saved(f"{kpi.name}: {kpi_value(form.number, kpi, workspace)} saved for {when}.")


@bp.post("/w/<slug>/check-in/key-results/<key>")
@workspace_route(Role.UPDATER)
def save_kr(access: Access, key: str):
    """Record a key result check-in: value (unless linked), confidence, note."""
    kr = _in_play_or_404(access.workspace, KeyResult, key)
    form = CheckInKeyResultForm(prefix=f"kr-{kr.key}", kr=kr, workspace=access.workspace)
    saved = None
    if form.validate_on_submit():
        try:
            check_in = checkins.record_check_in(
                kr,
                value=form.number,
                confidence=form.confidence_level,
                note=form.note.data or "",
                user=access.user,
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            saved = (
                Saved(f"{kr.title}: checked in.")
                if check_in
                else Saved(f"{kr.title}: no change.", changed=False)
            )
    row = load_due_key_result(access.workspace, kr)
    if not form.errors:
        form = kr_form(row, _who(form), access.workspace)
    return _row(access, "kr_row", f"kr-{kr.key}", row, form, saved)


@bp.post("/w/<slug>/check-in/initiatives/<key>")
@workspace_route(Role.UPDATER)
def save_initiative(access: Access, key: str):
    """Set a hand-tracked initiative's % complete."""
    initiative = _in_play_or_404(access.workspace, Initiative, key)
    if initiative.key_results:
        abort(404)  # scored by its key results: nothing to type by hand
    form = CheckInInitiativeForm(prefix=f"initiative-{initiative.key}", initiative=initiative)
    saved = None
    if form.validate_on_submit():
        try:
            update = checkins.set_percent_complete(initiative, form.number, user=access.user)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            saved = (
                Saved(f"{initiative.title}: saved.")
                if update
                else Saved(f"{initiative.title}: no change.", changed=False)
            )
    row = load_due_initiative(access.workspace, initiative)
    if not form.errors:
        form = initiative_form(row, _who(form))
    return _row(access, "initiative_row", f"initiative-{initiative.key}", row, form, saved)


# ------------------------------------------------------------------ lookups


def _kpi_or_404(workspace: Workspace, key: str) -> Kpi:
    try:
        kpi = values.find_kpi(workspace, key)
    except NotFound:
        abort(404)
    if kpi.archived_at is not None:
        abort(404)  # archived KPIs are not due
    return kpi


def _in_play_or_404(workspace: Workspace, model, key: str):
    """The workspace's key result or initiative with this key, if it is in play now."""
    found = db.session.scalar(
        select(model).where(model.workspace_id == workspace.id, model.key == key)
    )
    if found is None:
        abort(404)
    initiative = found if isinstance(found, Initiative) else found.initiative
    if not is_in_play(workspace, initiative):
        abort(404)
    return found

"""The Plan page: goals, KPIs and initiatives — create, edit, reorder, archive, restore.

Every member reads the plan; editors and owners change it. Goals are edited inline (the
row swaps for its form with htmx, or the form is a page of its own without it); KPIs
have a form page; moves swap the list they change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from jinja2_fragments.flask import render_block

from hub.auth import Access, workspace_route
from hub.domain import plan
from hub.domain.errors import DomainError, NotFound
from hub.domain.values import find_kpi
from hub.domain.workspaces import memberships
from hub.extensions import db
from hub.models import Goal, Kpi, Role
from hub.rendering import render, see_other
from hub.routes.forms import ConfirmForm, show_problems, status_for
from hub.routes.plan_forms import (
    CADENCE_LABELS,
    GoalForm,
    KpiForm,
    MoveForm,
    place_problems,
)

bp = Blueprint("plan", __name__)

UNIT_WORDS = {
    "number": "Number",
    "percent": "Percent",
    "currency": "Money",
    "duration": "Hours",
}
# How a KPI rolls up into months and quarters, beside its cadence ("Weekly · summed").
AGGREGATION_WORDS = {"last": "last value", "sum": "summed", "average": "averaged"}
NEW_GOAL = "new-goal"  # the prefix of the add-a-goal form (the page also holds edit forms)
PLAN_PAGE = "plan/index.html"


@bp.get("/w/<slug>/plan")
@workspace_route(Role.VIEWER)
def index(access: Access):
    """Goals, KPIs by goal, initiatives and the archive; editors also change them here."""
    return render(PLAN_PAGE, **_page(access, goal_form=_new_goal_form(access, formdata=None)))


@bp.route("/w/<slug>/plan/goals/new", methods=["GET", "POST"])
@workspace_route(Role.EDITOR)
def goal_new(access: Access):
    """Add a goal at the end of the plan."""
    form = _new_goal_form(access)
    if form.validate_on_submit():
        try:
            goal = plan.add_goal(access.workspace, form.fields())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            if request.htmx:
                fresh = _new_goal_form(access, formdata=None)
                return _goals_section(access, goal_form=fresh, added_goal_id=goal.id)
            flash(f"Goal '{goal.title}' added.", "success")
            return see_other(_plan_url(access, f"goal-{goal.id}"))
    if request.htmx and request.method == "POST":
        return _goals_section(access, goal_form=form, status=status_for(form))
    return render(
        "plan/goal_form.html", status=status_for(form), **_form_page(access, form, goal=None)
    )


@bp.get("/w/<slug>/plan/goals/<int:goal_id>")
@workspace_route(Role.VIEWER)
def goal(access: Access, goal_id: int):
    """One goal's row (htmx: what Cancel puts back); without htmx, the plan at that goal."""
    found = _goal_or_404(access, goal_id)
    if not request.htmx:
        response = redirect(_plan_url(access, f"goal-{found.id}"))
        response.vary.add("HX-Request")
        return response
    return render(PLAN_PAGE, block="goal_row", **_page(access, goal=found))


@bp.route("/w/<slug>/plan/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@workspace_route(Role.EDITOR)
def goal_edit(access: Access, goal_id: int):
    """Edit a goal: inline in its row with htmx, as a page of its own without."""
    found = _goal_or_404(access, goal_id)
    form = GoalForm(prefix=f"goal-{found.id}", members=memberships(access.workspace), goal=found)
    if form.validate_on_submit():
        try:
            plan.update_goal(found, form.fields())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            if request.htmx:
                return _goal_saved(access, found)
            flash(f"Goal '{found.title}' saved.", "success")
            anchor = f"goal-{found.id}" if found.archived_at is None else "plan-archived"
            return see_other(_plan_url(access, anchor))
    return render(
        "plan/goal_form.html",
        block="goal_form",
        status=status_for(form),
        **_form_page(access, form, goal=found),
    )


@bp.post("/w/<slug>/plan/goals/<int:goal_id>/archive")
@workspace_route(Role.EDITOR)
def goal_archive(access: Access, goal_id: int):
    """Archive a goal: hidden from the plan and scorecard, restorable, nothing deleted."""
    found = _goal_or_404(access, goal_id)
    if ConfirmForm().validate_on_submit() and plan.archive_goal(found):
        db.session.commit()
        flash(
            f"Goal '{found.title}' archived. Its KPIs keep their link to it; restore it "
            "from Archived at any time.",
            "success",
        )
    return see_other(_plan_url(access, "plan-archived"))


@bp.post("/w/<slug>/plan/goals/<int:goal_id>/restore")
@workspace_route(Role.EDITOR)
def goal_restore(access: Access, goal_id: int):
    """Bring an archived goal back to the plan, in its old place."""
    found = _goal_or_404(access, goal_id)
    if ConfirmForm().validate_on_submit() and plan.restore_goal(found):
        db.session.commit()
        flash(f"Goal '{found.title}' restored.", "success")
    return see_other(_plan_url(access, f"goal-{found.id}"))


@bp.post("/w/<slug>/plan/goals/<int:goal_id>/move")
@workspace_route(Role.EDITOR)
def goal_move(access: Access, goal_id: int):
    """Move a goal up or down; with htmx, the goal list (and the KPIs grouped by it) return."""
    found = _goal_or_404(access, goal_id)
    form = MoveForm()
    if form.validate_on_submit() and plan.move_goal(found, form.offset):
        db.session.commit()
    if request.htmx:
        return _goals_section(access, status=status_for(form), also=("kpis_section",))
    _flash_errors(form)
    return see_other(_plan_url(access, f"goal-{found.id}"))


@bp.route("/w/<slug>/plan/kpis/new", methods=["GET", "POST"])
@workspace_route(Role.EDITOR, uses="kpis")
def kpi_new(access: Access):
    """Create a KPI; its key (K1, K2…) is assigned on saving and never reused."""
    form = _kpi_form(access)
    if request.method == "GET":
        wanted = request.args.get("goal", "")
        if wanted in {choice[0] for choice in form.goal.iter_choices()}:
            form.goal.data = wanted  # "Add a KPI to this goal" from the plan
    if form.validate_on_submit():
        try:
            kpi = plan.create_kpi(access.workspace, form.fields())
        except DomainError as error:
            place_problems(form, error)
        else:
            db.session.commit()
            flash(f"KPI {kpi.key} · {kpi.name} created.", "success")
            return see_other(_plan_url(access, f"kpi-{kpi.key}"))
    return _kpi_page(access, form, kpi=None)


@bp.route("/w/<slug>/plan/kpis/<key>/edit", methods=["GET", "POST"])
@workspace_route(Role.EDITOR, uses="kpis")
def kpi_edit(access: Access, key: str):
    """Edit a KPI's definition and thresholds; the scorecard follows at once."""
    kpi = _kpi_or_404(access, key)
    form = _kpi_form(access, kpi=kpi)
    if form.validate_on_submit():
        try:
            plan.update_kpi(kpi, form.fields())
        except DomainError as error:
            place_problems(form, error)
        else:
            db.session.commit()
            flash(f"KPI {kpi.key} · {kpi.name} saved.", "success")
            return see_other(_plan_url(access, f"kpi-{kpi.key}"))
    return _kpi_page(access, form, kpi=kpi)


@bp.post("/w/<slug>/plan/kpis/<key>/archive")
@workspace_route(Role.EDITOR, uses="kpis")
def kpi_archive(access: Access, key: str):
    """Archive a KPI: off the scorecard, check-in and sheet; values and key kept."""
    kpi = _kpi_or_404(access, key)
    if ConfirmForm().validate_on_submit() and plan.archive_kpi(kpi):
        db.session.commit()
        flash(
            f"KPI {kpi.key} · {kpi.name} archived. Its values are kept; restore it from "
            "Archived at any time.",
            "success",
        )
    return see_other(_plan_url(access, "plan-archived"))


@bp.post("/w/<slug>/plan/kpis/<key>/restore")
@workspace_route(Role.EDITOR, uses="kpis")
def kpi_restore(access: Access, key: str):
    """Bring an archived KPI back, with its values."""
    kpi = _kpi_or_404(access, key)
    if ConfirmForm().validate_on_submit() and plan.restore_kpi(kpi):
        db.session.commit()
        flash(f"KPI {kpi.key} · {kpi.name} restored.", "success")
    return see_other(_plan_url(access, f"kpi-{kpi.key}"))


@bp.post("/w/<slug>/plan/kpis/<key>/move")
@workspace_route(Role.EDITOR, uses="kpis")
def kpi_move(access: Access, key: str):
    """Move a KPI up or down under its goal; with htmx, the KPI list returns."""
    kpi = _kpi_or_404(access, key)
    form = MoveForm()
    if form.validate_on_submit() and plan.move_kpi(kpi, form.offset):
        db.session.commit()
    if request.htmx:
        return render(PLAN_PAGE, block="kpis_section", status=status_for(form), **_page(access))
    _flash_errors(form)
    return see_other(_plan_url(access, f"kpi-{kpi.key}"))


# --- helpers -------------------------------------------------------------------------


def _page(access: Access, **extra: Any) -> dict[str, Any]:
    """What the plan page and its blocks need."""
    workspace = access.workspace
    return {
        "access": access,
        "workspace": workspace,
        "can_edit": access.can(Role.EDITOR),
        "plan": plan.plan_overview(workspace, with_kpis=workspace.uses_kpis),
        # Other areas' pages are linked only once they exist.
        "endpoints": set(current_app.view_functions),
        "UNIT_WORDS": UNIT_WORDS,
        "CADENCE_WORDS": CADENCE_LABELS,
        "AGGREGATION_WORDS": AGGREGATION_WORDS,
        **extra,
    }


def _goals_section(access: Access, *, status: int = 200, also: tuple[str, ...] = (), **extra):
    """The goal list block for htmx, with the other blocks that show goals swapped too."""
    context = _page(access, goal_form=extra.pop("goal_form", None), **extra)
    if context["goal_form"] is None and context["can_edit"]:
        context["goal_form"] = _new_goal_form(access, formdata=None)
    response = render(PLAN_PAGE, block="goals_section", status=status, **context)
    return _with_out_of_band(response, access, also, context)


def _goal_saved(access: Access, goal: Goal):
    """A saved goal's row, plus the blocks that show its title elsewhere on the page."""
    context = _page(access, goal=goal, saved_goal_id=goal.id)
    response = render(PLAN_PAGE, block="goal_row", **context)
    return _with_out_of_band(response, access, ("kpis_section", "initiatives_section"), context)


def _with_out_of_band(response, access: Access, blocks: tuple[str, ...], context: dict):
    """Append blocks as htmx out-of-band swaps (each block's root carries hx-swap-oob)."""
    workspace = access.workspace
    shown = {
        "kpis_section": workspace.uses_kpis,
        "initiatives_section": workspace.uses_okrs or bool(context["plan"].initiatives),
    }
    for block in blocks:
        if not shown.get(block, True):
            continue  # not on the page: nothing to swap
        extra = render_block(PLAN_PAGE, block, **{**context, "oob_swap": True})
        response.set_data(response.get_data(as_text=True) + extra)
    return response


def _new_goal_form(access: Access, **kwargs) -> GoalForm | None:
    if not access.can(Role.EDITOR):
        return None
    return GoalForm(prefix=NEW_GOAL, members=memberships(access.workspace), **kwargs)


def _form_page(access: Access, form: GoalForm, *, goal: Goal | None) -> dict[str, Any]:
    return {
        "access": access,
        "workspace": access.workspace,
        "form": form,
        "goal": goal,
        # The form is a row of the plan page when htmx asked for it; a page otherwise.
        "inline": bool(request.htmx) and goal is not None,
    }


def _kpi_form(access: Access, kpi: Kpi | None = None) -> KpiForm:
    overview_goals = db.session.scalars(
        db.select(Goal)
        .where(Goal.workspace_id == access.workspace.id, Goal.archived_at.is_(None))
        .order_by(Goal.position, Goal.id)
    ).all()
    return KpiForm(members=memberships(access.workspace), goals=list(overview_goals), kpi=kpi)


def _kpi_page(access: Access, form: KpiForm, *, kpi: Kpi | None):
    return render(
        "plan/kpi_form.html",
        block="kpi_form",
        status=status_for(form),
        access=access,
        workspace=access.workspace,
        form=form,
        kpi=kpi,
        value_count=plan.value_count(kpi) if kpi is not None else 0,
    )


def _goal_or_404(access: Access, goal_id: int) -> Goal:
    try:
        return plan.find_goal(access.workspace, goal_id)
    except NotFound:
        abort(404)


def _kpi_or_404(access: Access, key: str) -> Kpi:
    try:
        return find_kpi(access.workspace, key)
    except NotFound:
        abort(404)


def _plan_url(access: Access, anchor: str = "") -> str:
    url = url_for("plan.index", slug=access.workspace.slug)
    return f"{url}#{anchor}" if anchor else url


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")

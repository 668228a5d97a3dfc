"""Initiatives (Objectives on OKR pages) and their key results: create, edit, archive, order.

Usable in every mode: in KPI mode initiatives are long-running bets with gauges; with
OKRs they may belong to a cycle. The views are on the `okrs` blueprint (hub.routes.okrs
adds everything in ROUTES), so their endpoints read okrs.initiative_new and so on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, request, url_for
from werkzeug.wrappers import Response

from hub.auth import Access, workspace_route
from hub.domain import okrs
from hub.domain.errors import DomainError, NotFound
from hub.extensions import db
from hub.models import CycleState, Initiative, KeyResult, Role, Workspace
from hub.presenters import vocabulary
from hub.rendering import render, see_other
from hub.routes.forms import ConfirmForm, show_problems, status_for
from hub.routes.okr_forms import InitiativeForm, KeyResultForm, MoveForm

ROUTES: list[tuple[str, Callable[..., Any], list[str]]] = []


def route(rule: str, methods: tuple[str, ...] = ("GET",)) -> Callable[..., Any]:
    """Collect a view for the okrs blueprint (registered there, so names stay okrs.*)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append((rule, view, list(methods)))
        return view

    return decorator


# ------------------------------------------------------------------ shared helpers


def initiative_or_404(workspace: Workspace, key: str) -> Initiative:
    """The workspace's initiative `key`; another workspace's answers 404 like a missing one."""
    try:
        return okrs.find_initiative(workspace, key)
    except NotFound:
        abort(404)


def key_result_or_404(initiative: Initiative, kr_key: str) -> KeyResult:
    try:
        return okrs.find_key_result(initiative, kr_key)
    except NotFound:
        abort(404)


def board_url(workspace: Workspace, cycle_id: int | None, anchor: str = "") -> str:
    """The OKRs page on a cycle (None: the long-running initiatives)."""
    url = url_for("okrs.index", slug=workspace.slug, cycle=cycle_id or "none")
    return url + (f"#{anchor}" if anchor else "")


def back_to(initiative: Initiative) -> str:
    """Where an initiative is seen after a change: the OKRs page, or in KPI mode the plan."""
    workspace = initiative.workspace
    if workspace.uses_okrs:
        return board_url(workspace, initiative.cycle_id, f"objective-{initiative.key}")
    page = "plan.index" if "plan.index" in current_app.view_functions else "scorecard.index"
    return url_for(page, slug=workspace.slug) + f"#initiative-{initiative.key}"


def closed_refusal(initiative: Initiative) -> Response | None:
    """A redirect saying so, when the initiative belongs to a closed (read-only) cycle."""
    cycle = initiative.cycle
    if cycle is None or cycle.state != CycleState.CLOSED:
        return None
    flash(f"{cycle.name} is closed: its objectives and key results are read-only.", "error")
    return see_other(back_to(initiative))


# ----------------------------------------------------------------------- initiatives


def _choices(workspace: Workspace, initiative: Initiative | None = None) -> dict[str, list]:
    """Everything the initiative form offers; an initiative's current picks stay offered."""
    goals = okrs.live_goals(workspace)
    kpis = okrs.live_kpis(workspace)
    if initiative is not None:
        if initiative.goal is not None and initiative.goal not in goals:
            goals.append(initiative.goal)
        kpis += [kpi for kpi in initiative.gauges if kpi not in kpis]
    return {
        "goals": goals,
        "cycles": okrs.cycles_of(workspace) if workspace.uses_okrs else [],
        "people": okrs.member_users(workspace),
        "kpis": kpis,
    }


def _form_page(
    access: Access, form: InitiativeForm, initiative: Initiative | None, cycle_id: int | None = None
):
    workspace = access.workspace
    if initiative is not None:
        back = back_to(initiative)
    elif workspace.uses_okrs:
        back = (
            board_url(workspace, cycle_id)
            if cycle_id
            else url_for("okrs.index", slug=workspace.slug)
        )
    else:
        back = url_for("workspaces.home", slug=workspace.slug)
    return render(
        "okrs/initiative_form.html",
        status=status_for(form),
        access=access,
        workspace=access.workspace,
        words=vocabulary(access.workspace),
        form=form,
        initiative=initiative,
        confirm_form=ConfirmForm(formdata=None),
        move_form=MoveForm(formdata=None),
        back=back,
    )


@route("/w/<slug>/initiatives/new", methods=("GET", "POST"))
@workspace_route(Role.EDITOR)
def initiative_new(access: Access):
    """Create an initiative (an Objective in OKR mode); `?cycle=<id>` preselects a cycle."""
    workspace = access.workspace
    choices = _choices(workspace)
    asked = request.args.get("cycle", "")
    preselect = next((c.id for c in choices["cycles"] if str(c.id) == asked), None)
    form = InitiativeForm.for_workspace(workspace, **choices, data={"cycle": preselect})
    if form.validate_on_submit():
        try:
            initiative = okrs.add_initiative(workspace, form.fields(None), access.user)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            word = vocabulary(workspace)["initiative"]
            flash(f"{word} {initiative.key} created: {initiative.title}.", "success")
            return see_other(back_to(initiative))
    return _form_page(access, form, None, preselect)


@route("/w/<slug>/initiatives/<key>/edit", methods=("GET", "POST"))
@workspace_route(Role.EDITOR)
def initiative_edit(access: Access, key: str):
    """Edit an initiative's fields; lists its key results to add, edit, order and delete."""
    workspace = access.workspace
    initiative = initiative_or_404(workspace, key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    choices = _choices(workspace, initiative)
    form = InitiativeForm.for_workspace(
        workspace, **choices, initiative=initiative, data=InitiativeForm.data_of(initiative)
    )
    if form.validate_on_submit():
        try:
            okrs.update_initiative(initiative, form.fields(initiative), access.user)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(f"{initiative.key} saved.", "success")
            return see_other(back_to(initiative))
    return _form_page(access, form, initiative)


@route("/w/<slug>/initiatives/<key>/archive", methods=("POST",))
@workspace_route(Role.EDITOR)
def initiative_archive(access: Access, key: str):
    """Archive an initiative: hidden from pages and roll-ups, kept with its history."""
    initiative = initiative_or_404(access.workspace, key)
    if ConfirmForm().validate_on_submit():
        okrs.archive_initiative(initiative)
        db.session.commit()
        flash(f"{initiative.key} archived. Restore it from the archived list.", "info")
    return see_other(back_to(initiative))


@route("/w/<slug>/initiatives/<key>/restore", methods=("POST",))
@workspace_route(Role.EDITOR)
def initiative_restore(access: Access, key: str):
    """Bring an archived initiative back."""
    initiative = initiative_or_404(access.workspace, key)
    if ConfirmForm().validate_on_submit():
        okrs.restore_initiative(initiative)
        db.session.commit()
        flash(f"{initiative.key} restored.", "success")
    return see_other(back_to(initiative))


@route("/w/<slug>/initiatives/<key>/move", methods=("POST",))
@workspace_route(Role.EDITOR)
def initiative_move(access: Access, key: str):
    """Move an initiative one place up or down in its list."""
    initiative = initiative_or_404(access.workspace, key)
    form = MoveForm()
    if form.validate_on_submit():
        okrs.move_initiative(initiative, form.step)
        db.session.commit()
    return see_other(back_to(initiative))


# ----------------------------------------------------------------------- key results


def _kr_form(workspace: Workspace, kr: KeyResult | None, **kwargs: Any) -> KeyResultForm:
    kpis = okrs.live_kpis(workspace)
    if kr is not None and kr.kpi is not None and kr.kpi not in kpis:
        kpis.append(kr.kpi)
    return KeyResultForm.for_workspace(
        workspace, people=okrs.member_users(workspace), kpis=kpis, **kwargs
    )


def _kr_page(access: Access, form: KeyResultForm, initiative: Initiative, kr: KeyResult | None):
    return render(
        "okrs/key_result_form.html",
        status=status_for(form),
        access=access,
        workspace=access.workspace,
        words=vocabulary(access.workspace),
        form=form,
        initiative=initiative,
        kr=kr,
    )


@route("/w/<slug>/initiatives/<key>/key-results/new", methods=("GET", "POST"))
@workspace_route(Role.EDITOR)
def key_result_new(access: Access, key: str):
    """Add a key result to an initiative."""
    workspace = access.workspace
    initiative = initiative_or_404(workspace, key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    form = _kr_form(workspace, None)
    if form.validate_on_submit():
        try:
            kr = okrs.add_key_result(initiative, form.fields())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(f"Key result {kr.key} added to {initiative.key}.", "success")
            return see_other(back_to(initiative))
    return _kr_page(access, form, initiative, None)


@route("/w/<slug>/initiatives/<key>/key-results/<kr_key>/edit", methods=("GET", "POST"))
@workspace_route(Role.EDITOR)
def key_result_edit(access: Access, key: str, kr_key: str):
    """Edit a key result; a changed current value or confidence is kept as a check-in."""
    workspace = access.workspace
    initiative = initiative_or_404(workspace, key)
    kr = key_result_or_404(initiative, kr_key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    form = _kr_form(workspace, kr, data=KeyResultForm.data_of(kr))
    if form.validate_on_submit():
        try:
            okrs.update_key_result(kr, form.fields(), access.user)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(f"Key result {kr.key} saved.", "success")
            return see_other(back_to(initiative))
    return _kr_page(access, form, initiative, kr)


@route("/w/<slug>/initiatives/<key>/key-results/<kr_key>/delete", methods=("GET", "POST"))
@workspace_route(Role.EDITOR)
def key_result_delete(access: Access, key: str, kr_key: str):
    """Ask, then delete a key result with its check-ins (key results are not archived)."""
    initiative = initiative_or_404(access.workspace, key)
    kr = key_result_or_404(initiative, kr_key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    form = ConfirmForm()
    if form.validate_on_submit():
        check_ins = len(kr.check_ins)
        okrs.delete_key_result(kr)
        db.session.commit()
        plural = "" if check_ins == 1 else "s"
        flash(f"Key result {kr.key} deleted with its {check_ins} check-in{plural}.", "info")
        return see_other(back_to(initiative))
    return render(
        "okrs/key_result_delete.html",
        access=access,
        workspace=access.workspace,
        initiative=initiative,
        kr=kr,
        form=form,
    )


@route("/w/<slug>/initiatives/<key>/key-results/<kr_key>/move", methods=("POST",))
@workspace_route(Role.EDITOR)
def key_result_move(access: Access, key: str, kr_key: str):
    """Move a key result one place up or down within its objective."""
    initiative = initiative_or_404(access.workspace, key)
    kr = key_result_or_404(initiative, kr_key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    form = MoveForm()
    if form.validate_on_submit():
        okrs.move_key_result(kr, form.step)
        db.session.commit()
    edit = url_for("okrs.initiative_edit", slug=access.workspace.slug, key=initiative.key)
    return see_other(edit + "#key-results")

"""The OKRs page: cycles, their objectives and key results, check-ins, close-out, carry-over.

Initiative and key-result editing lives in hub.routes.initiatives, on this blueprint.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, request

from hub.auth import Access, workspace_route
from hub.domain import okrs
from hub.domain.errors import DomainError, Invalid, NotFound
from hub.domain.formatting import format_value
from hub.domain.periods import local_today
from hub.domain.scoring import MAX_KEY_RESULTS_ADVISED, close_grade
from hub.extensions import db
from hub.models import Cycle, CycleState, Initiative, Role, Workspace
from hub.presenters import vocabulary
from hub.rendering import render, see_other
from hub.routes import initiatives
from hub.routes.forms import UNPROCESSABLE, ConfirmForm, show_problems, status_for
from hub.routes.initiatives import (
    board_url,
    closed_refusal,
    initiative_or_404,
    key_result_or_404,
)
from hub.routes.okr_forms import (
    NEW_CYCLE,
    CarryOverForm,
    CheckInForm,
    CycleForm,
    MoveForm,
    close_form,
)

bp = Blueprint("okrs", __name__)
for _rule, _view, _methods in initiatives.ROUTES:
    bp.add_url_rule(_rule, view_func=_view, methods=_methods)

GRADE_WORDS = {"green": ("✓", "Success"), "amber": ("!", "Partial"), "red": ("✕", "Missed")}
STATE_WORDS = {
    CycleState.DRAFT: "Draft",
    CycleState.ACTIVE: "Active",
    CycleState.CLOSED: "Closed",
}


def kr_number(value: Decimal | None, unit: str, workspace: Workspace) -> str:
    """A key result's number in its unit, with the decimals it was typed with (up to 4)."""
    if value is None:
        return format_value(None, unit, 0)
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_value(value, unit, min(places, 4), workspace.currency)


def final_grade(score: Decimal) -> tuple[str, str, str]:
    """(icon, word, colour) of a final score: success ≥ 0.7, partial ≥ 0.4, else missed."""
    colour = close_grade(score).value
    return (*GRADE_WORDS[colour], colour)


def _cycle_or_404(workspace: Workspace, cycle_id: int) -> Cycle:
    try:
        return okrs.find_cycle(workspace, cycle_id)
    except NotFound:
        abort(404)


def _chosen(cycles: list[Cycle], asked: str) -> tuple[Cycle | None, str]:
    """The cycle asked for (an id, or 'none' for long-running), else the default one."""
    if asked == "none":
        return None, "none"
    if asked.isdigit() and len(asked) < 12:
        cycle = next((c for c in cycles if c.id == int(asked)), None)
        if cycle is None:
            abort(404)
        return cycle, str(cycle.id)
    cycle = okrs.default_cycle(cycles)
    return cycle, str(cycle.id) if cycle else "none"


def _context(access: Access, board: okrs.OkrBoard, **extra: Any) -> dict[str, Any]:
    """What the page and its fragments (the cycle, one objective) need to render."""
    workspace = access.workspace
    can_check_in = access.can(Role.UPDATER) and not board.closed
    forms = {}
    if can_check_in:
        forms = {
            k.kr.id: CheckInForm.for_key_result(k.kr, formdata=None)
            for card in board.cards
            for k in card.key_results
        }
    forms |= extra.pop("checkin_forms", {})
    return {
        "access": access,
        "workspace": workspace,
        "words": vocabulary(workspace),
        "board": board,
        "today": local_today(workspace.time_zone),
        "can_edit": access.can(Role.EDITOR),
        "can_check_in": can_check_in,
        "checkin_forms": forms,
        "confirm_form": ConfirmForm(formdata=None),
        "move_form": MoveForm(formdata=None),
        "kr_number": kr_number,
        "final_grade": final_grade,
        "STATE_WORDS": STATE_WORDS,
        "MAX_KRS": MAX_KEY_RESULTS_ADVISED,
        **extra,
    }


def _carry_form(cycle: Cycle, **kwargs: Any) -> CarryOverForm:
    upcoming = okrs.next_quarter(cycle.workspace, cycle.end)
    return CarryOverForm.for_cycle(okrs.carry_targets(cycle), upcoming, **kwargs)


def _closed_context(board: okrs.OkrBoard) -> dict[str, Any]:
    """A closed cycle's carry-over form, and how much is left to carry."""
    if not board.closed or board.cycle is None:
        return {}
    return {
        "carry_form": _carry_form(board.cycle, formdata=None),
        "unfinished": okrs.unfinished_counts(board),
    }


@bp.get("/w/<slug>/okrs")
@workspace_route(Role.VIEWER, uses="okrs")
def index(access: Access):
    """A cycle's objectives with their key results, scores, confidence and check-ins."""
    return _page(access, request.args.get("cycle", ""))


def _page(access: Access, asked: str, status: int = 200, **extra: Any):
    workspace = access.workspace
    cycles = okrs.cycles_of(workspace)
    cycle, chosen = _chosen(cycles, asked)
    board = okrs.okr_board(workspace, cycle, local_today(workspace.time_zone))
    return render(
        "okrs/index.html",
        block="cycle_body",
        status=status,
        cycles=cycles,
        chosen=chosen,
        **_closed_context(board),
        **_context(access, board, **extra),
    )


@bp.route("/w/<slug>/okrs/cycles/new", methods=["GET", "POST"])
@workspace_route(Role.EDITOR, uses="okrs")
def cycle_new(access: Access):
    """Create a draft cycle, by default the next free (fiscal) quarter."""
    workspace = access.workspace
    defaults = okrs.new_cycle_defaults(workspace, local_today(workspace.time_zone))
    form = CycleForm(data={"name": defaults.name, "start": defaults.start, "end": defaults.end})
    if form.validate_on_submit():
        try:
            cycle = okrs.create_cycle(workspace, form.fields())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(
                f"{cycle.name} created as a draft: add its objectives, then activate it.", "success"
            )
            return see_other(board_url(workspace, cycle.id))
    return render(
        "okrs/cycle_form.html",
        status=status_for(form),
        access=access,
        workspace=workspace,
        form=form,
    )


@bp.route("/w/<slug>/okrs/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@workspace_route(Role.EDITOR, uses="okrs")
def cycle_edit(access: Access, cycle_id: int):
    """Rename a draft cycle or change its dates."""
    workspace = access.workspace
    cycle = _cycle_or_404(workspace, cycle_id)
    if cycle.state != CycleState.DRAFT:
        flash(f"{cycle.name} is {cycle.state}: only a draft cycle can be edited.", "error")
        return see_other(board_url(workspace, cycle.id))
    form = CycleForm(data={"name": cycle.name, "start": cycle.start, "end": cycle.end})
    if form.validate_on_submit():
        try:
            okrs.update_cycle(cycle, form.fields())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash(f"{cycle.name} saved.", "success")
            return see_other(board_url(workspace, cycle.id))
    return render(
        "okrs/cycle_form.html",
        status=status_for(form),
        access=access,
        workspace=workspace,
        form=form,
        cycle=cycle,
    )


@bp.post("/w/<slug>/okrs/cycles/<int:cycle_id>/activate")
@workspace_route(Role.EDITOR, uses="okrs")
def cycle_activate(access: Access, cycle_id: int):
    """Make a draft cycle the active one (refused while another is active)."""
    cycle = _cycle_or_404(access.workspace, cycle_id)
    if ConfirmForm().validate_on_submit():
        try:
            okrs.activate_cycle(cycle)
        except Invalid as error:
            flash(" ".join(p.split(": ", 1)[-1] for p in error.problems), "error")
        else:
            db.session.commit()
            flash(f"{cycle.name} is now the active cycle.", "success")
    return see_other(board_url(access.workspace, cycle.id))


@bp.route("/w/<slug>/okrs/cycles/<int:cycle_id>/close", methods=["GET", "POST"])
@workspace_route(Role.EDITOR, uses="okrs")
def close(access: Access, cycle_id: int):
    """Close the active cycle, recording each objective's final score (computed or manual)."""
    workspace = access.workspace
    cycle = _cycle_or_404(workspace, cycle_id)
    if cycle.state != CycleState.ACTIVE:
        flash(f"{cycle.name} is {cycle.state}: only the active cycle can be closed.", "error")
        return see_other(board_url(workspace, cycle.id))
    today = local_today(workspace.time_zone)
    rows = okrs.close_out_rows(cycle, today)
    form = close_form([row.initiative.key for row in rows])
    if form.validate_on_submit():
        manual = {row.initiative.key: form[row.initiative.key].number for row in rows}
        try:
            okrs.close_cycle(cycle, manual, today)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            by_hand = sum(score is not None for score in manual.values())
            word = vocabulary(workspace)["initiatives"].lower()
            flash(
                f"{cycle.name} is closed: final scores recorded for {len(rows)} {word}"
                f" ({by_hand} set by hand). It is read-only now.",
                "success",
            )
            return see_other(board_url(workspace, cycle.id))
    return render(
        "okrs/close.html",
        status=status_for(form),
        access=access,
        workspace=workspace,
        words=vocabulary(workspace),
        cycle=cycle,
        rows=rows,
        form=form,
        final_grade=final_grade,
    )


@bp.post("/w/<slug>/okrs/cycles/<int:cycle_id>/carry-over")
@workspace_route(Role.EDITOR, uses="okrs")
def carry_over(access: Access, cycle_id: int):
    """Carry a closed cycle's unfinished key results into a draft or active cycle."""
    workspace = access.workspace
    source = _cycle_or_404(workspace, cycle_id)
    form = _carry_form(source)
    if not form.validate_on_submit():
        flash(" ".join(form.target.errors) or "Choose a cycle to carry over into.", "error")
        return see_other(board_url(workspace, source.id, "carry-over"))
    target = None
    if form.target.data != NEW_CYCLE:
        target = _cycle_or_404(workspace, int(form.target.data))
    try:
        done = okrs.carry_over(source, target, local_today(workspace.time_zone))
    except Invalid as error:
        flash(" ".join(p.split(": ", 1)[-1] for p in error.problems), "error")
        return see_other(board_url(workspace, source.id, "carry-over"))
    db.session.commit()
    flash(_carry_message(workspace, done), "success" if done.key_results else "info")
    return see_other(board_url(workspace, done.target.id))


def _carry_message(workspace: Workspace, done: okrs.CarryOver) -> str:
    words = vocabulary(workspace)
    if not done.key_results:
        return (
            f"Nothing new to carry over: {done.target.name} already has every unfinished "
            "key result."
        )
    krs = f"{done.key_results} key result{'' if done.key_results == 1 else 's'}"
    noun = words["initiative"] if done.objectives == 1 else words["initiatives"]
    created = " (created as a draft)" if done.created_cycle else ""
    return (
        f"Carried over {krs} of {done.objectives} {noun.lower()} into {done.target.name}{created}."
    )


@bp.post("/w/<slug>/initiatives/<key>/key-results/<kr_key>/check-in")
@workspace_route(Role.UPDATER, uses="okrs")
def check_in(access: Access, key: str, kr_key: str):
    """Check in on a key result; with htmx the objective comes back with its new score."""
    workspace = access.workspace
    initiative = initiative_or_404(workspace, key)
    kr = key_result_or_404(initiative, kr_key)
    if (refused := closed_refusal(initiative)) is not None:
        return refused
    form = CheckInForm.for_key_result(kr)
    saved, entry = False, None
    if form.validate_on_submit():
        try:
            entry = okrs.check_in(
                kr,
                value=form.value_number,
                confidence=form.confidence.number,
                note=form.note.data or "",
                user=access.user,
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            saved = True
    status = UNPROCESSABLE if form.errors or form.form_errors else 200
    if request.htmx:
        if not saved:
            return _objective(access, initiative, status, checkin_forms={kr.id: form})
        said = f"Checked in on {kr.key}" if entry else f"Nothing changed on {kr.key}"
        return _objective(access, initiative, status, saved_kr=kr.id, saved_text=said)
    if saved:
        flash(f"Checked in on {kr.key}: {kr.title}." if entry else "Nothing changed.", "success")
        return see_other(board_url(workspace, initiative.cycle_id, f"kr-{kr.key}"))
    # Without JavaScript: the whole page of this KR's cycle, its form showing the problem.
    asked = str(initiative.cycle_id or "none")
    return _page(access, asked, status=status, checkin_forms={kr.id: form})


def _objective(access: Access, initiative: Initiative, status: int, **extra: Any):
    """One objective's block, as the page shows it now (the htmx answer to a check-in)."""
    workspace = access.workspace
    board = okrs.okr_board(workspace, initiative.cycle, local_today(workspace.time_zone))
    card = next((c for c in board.cards if c.initiative.id == initiative.id), None)
    if card is None:  # archived meanwhile: nothing to swap in, show the cycle instead
        return see_other(board_url(workspace, initiative.cycle_id))
    context = _context(access, board, **extra)
    return render("okrs/index.html", block="objective", status=status, card=card, **context)

"""The Sheet page: connect a Google Sheet, watch it sync, resolve what the sync found.

Who does what: every member sees the connection, the sync log, conflicts and import
problems (they explain where a number came from). Editors may run a sync now and pick
the other value of a conflict, as they may edit values anyway. Only owners connect,
disconnect and decide what wins after a guard rail paused the sync.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, abort, current_app, flash, make_response, request, url_for
from jinja2_fragments.flask import render_blocks

from hub.auth import Access, workspace_route
from hub.domain.errors import DomainError, Invalid
from hub.extensions import db
from hub.models import (
    Role,
    RunState,
    SyncConflict,
    SyncRun,
    Workspace,
)
from hub.rendering import render, see_other
from hub.routes.forms import UNPROCESSABLE, ConfirmForm, show_problems
from hub.routes.sheet_forms import ConnectForm, ResumeForm
from hub.sync import service

bp = Blueprint("sheet", __name__)

PAGE = "sheet/index.html"
# What a finished run refreshes besides its own progress: the status card and the
# conflicts, problems and log below it (swapped out of band).
FINISHED_BLOCKS = ["sync_progress", "sheet_status", "sheet_records"]
FINISHED_WORDS = {
    RunState.DONE: ("Sync finished", "success"),
    RunState.PAUSED: ("Sync paused", "warning"),
    RunState.FAILED: ("Sync failed", "error"),
    RunState.SKIPPED: ("Sync skipped", "info"),
}


@bp.get("/w/<slug>/sheet")
@workspace_route(Role.VIEWER)
def index(access: Access):
    """The connection, the sync's state and log, open conflicts and import problems."""
    setup = request.args.get("setup") == "1" and access.can(Role.OWNER)
    return render(PAGE, **_page(access, connect_form=ConnectForm(formdata=None), setup=setup))


@bp.post("/w/<slug>/sheet/connect")
@workspace_route(Role.OWNER)
def connect(access: Access):
    """Connect a sheet and fill it now; a refusal is shown beside the address, and
    nothing is kept."""
    if service.connection_of(access.workspace) is not None:
        flash("A sheet is already connected. Disconnect it first to connect another.", "error")
        return see_other(_page_url(access))
    form = ConnectForm()
    if form.validate_on_submit():
        try:
            run = service.connect(access.workspace, form.sheet.data, user=access.user)
        except Invalid as error:
            db.session.rollback()
            show_problems(form, error)
        except DomainError as error:  # service.SheetError: Google refused, or not set up
            db.session.rollback()
            form.sheet.errors = [*form.sheet.errors, error.message]
        else:
            db.session.commit()
            summary = run.summary()
            flash(f"Sheet connected: its tabs are in place and filled in ({summary}).", "success")
            return see_other(_page_url(access))
    return render(PAGE, status=UNPROCESSABLE, **_page(access, connect_form=form))


@bp.post("/w/<slug>/sheet/sync")
@workspace_route(Role.EDITOR)
def sync_now(access: Access):
    """Start a sync (or join the one waiting); htmx gets the live progress fragment."""
    if not ConfirmForm().validate_on_submit():
        return see_other(_page_url(access))
    try:
        run = service.request_sync(access.workspace, trigger="manual", user=access.user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return see_other(_page_url(access))
    return _started(access, run)


@bp.get("/w/<slug>/sheet/runs/<int:run_id>")
@workspace_route(Role.VIEWER)
def run(access: Access, run_id: int):
    """One sync's progress: htmx polls this while it runs; without htmx, the page."""
    found = db.session.get(SyncRun, run_id)
    if found is None or found.workspace_id != access.workspace.id:
        abort(404)
    return _progress(access, found)


@bp.post("/w/<slug>/sheet/resume")
@workspace_route(Role.OWNER)
def resume(access: Access):
    """Leave the pause: apply the sheet anyway, or restore the sheet from the app."""
    form = ResumeForm()
    if not form.validate_on_submit():
        flash("Choose whether the sheet or the app wins.", "error")
        return see_other(_page_url(access))
    try:
        run = service.resume(access.workspace, form.choice.data, user=access.user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return see_other(_page_url(access))
    return _started(access, run)


@bp.post("/w/<slug>/sheet/conflicts/<int:conflict_id>/use")
@workspace_route(Role.EDITOR)
def use_instead(access: Access, conflict_id: int):
    """Make a conflict's losing value the current one; the next sync writes it out."""
    conflict = _conflict_or_404(access, conflict_id)
    chosen = conflict.loser_value
    if ConfirmForm().validate_on_submit() and conflict.resolved_at is None:
        try:
            service.use_instead(conflict, user=access.user)
        except DomainError as error:
            db.session.rollback()
            return _conflict_answer(access, conflict, error=error.message)
        db.session.commit()
    return _conflict_answer(access, conflict, note=f"Now using {_shown(chosen)}.")


@bp.post("/w/<slug>/sheet/conflicts/<int:conflict_id>/keep")
@workspace_route(Role.EDITOR)
def keep(access: Access, conflict_id: int):
    """Keep a conflict's winning value and take the conflict off the open list."""
    conflict = _conflict_or_404(access, conflict_id)
    if ConfirmForm().validate_on_submit():
        service.dismiss_conflict(conflict, user=access.user)
        db.session.commit()
    return _conflict_answer(access, conflict, note=f"Kept {_shown(conflict.winner_value)}.")


@bp.route("/w/<slug>/sheet/disconnect", methods=["GET", "POST"])
@workspace_route(Role.OWNER)
def disconnect(access: Access):
    """Ask, then forget the sheet; everything stays in the app."""
    form = ConfirmForm()
    if form.validate_on_submit():
        if service.disconnect(access.workspace):
            db.session.commit()
            flash(
                "The sheet is disconnected. Every value, its history and the sync log stay "
                "in the app; the sheet keeps what it had.",
                "info",
            )
        return see_other(_page_url(access))
    connection = service.connection_of(access.workspace)
    if connection is None:
        return see_other(_page_url(access))
    return render(
        "sheet/disconnect.html",
        access=access,
        workspace=access.workspace,
        connection=connection,
        form=form,
    )


# --- the sync chip (scorecard header, portfolio rows) -----------------------------------


@bp.app_template_global()
def sheet_chips(workspaces: Iterable[Workspace]) -> dict[int, service.SyncChip]:
    """The sheet chip of each connected workspace among `workspaces`, by id (one query)."""
    return service.sync_chips([workspace.id for workspace in workspaces])


# --- helpers --------------------------------------------------------------------------


def _page_url(access: Access, anchor: str = "") -> str:
    url = url_for("sheet.index", slug=access.workspace.slug)
    return f"{url}#{anchor}" if anchor else url


def _google_setup(email: str | None) -> str:
    """How this server reaches Google: "service_account" (with an address to share the
    sheet with), "unreadable" (a key file that gives no address), "emulator" (an
    emulator or test double: no sharing), or "missing" (nothing set up)."""
    config = current_app.config
    if email:
        return "service_account"
    if config.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return "unreadable"
    if config.get("HUB_GOOGLE_API_URL") or config.get("HUB_SHEETS_SESSION"):
        return "emulator"
    return "missing"


def _page(access: Access, **context):
    """Everything the page and its fragments show."""
    sync = context.pop("sync", None) or service.sync_status(access.workspace)
    context.setdefault("progress_run", sync.running)
    return {
        "access": access,
        "workspace": access.workspace,
        "sync": sync,
        "google": _google_setup(sync.service_account_email),
        "interval": current_app.config.get("HUB_SYNC_INTERVAL", 60),
        "can_sync": access.can(Role.EDITOR),
        "can_manage": access.can(Role.OWNER),
        "oob": False,
        "setup": False,
        **context,
    }


def _started(access: Access, run: SyncRun):
    """After a sync was asked for: its progress (htmx), or back to the page."""
    if request.htmx:
        return _progress(access, run)
    db.session.refresh(run)
    if run.active:
        flash("Sync started. This page shows its result once it has finished.", "info")
    else:
        word, kind = FINISHED_WORDS.get(run.state, ("Sync finished", "info"))
        flash(f"{word}: {run.message or run.summary()}", kind)
    return see_other(_page_url(access))


def _progress(access: Access, run: SyncRun):
    """The progress fragment: polling itself while the run is queued or running; once it
    has finished, its result, with the status card and the records refreshed around it."""
    db.session.refresh(run)
    sync = service.sync_status(access.workspace)
    if run.state == RunState.SKIPPED and sync.running is not None:
        run = sync.running  # another cycle was already at work: follow that one
    if not sync.connected and request.htmx:
        return see_other(_page_url(access))  # disconnected meanwhile: show the page anew
    context = _page(access, sync=sync, progress_run=run)
    if not request.htmx or run.active:
        return render(PAGE, block="sync_progress", **context)
    body = render_blocks(PAGE, FINISHED_BLOCKS, **{**context, "oob": True})
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def _conflict_or_404(access: Access, conflict_id: int) -> SyncConflict:
    conflict = db.session.get(SyncConflict, conflict_id)
    if conflict is None or conflict.workspace_id != access.workspace.id:
        abort(404)
    return conflict


def _conflict_answer(access: Access, conflict: SyncConflict, *, note: str = "", error: str = ""):
    """The conflict's row (htmx), or back to the page's conflicts."""
    if request.htmx:
        return render(
            PAGE,
            block="conflict_row",
            status=UNPROCESSABLE if error else 200,
            workspace=access.workspace,
            conflict=conflict,
            can_sync=access.can(Role.EDITOR),
            note=note,
            error=error,
        )
    flash(error or note, "error" if error else "success")
    return see_other(_page_url(access, "conflicts"))


def _shown(value: str) -> str:
    return f"“{value}”" if value != "" else "an empty cell"

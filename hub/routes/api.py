"""JSON API v1: bearer-token access to scorecards, values and bets (PRODUCT.md §4)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, g, jsonify, request, url_for
from sqlalchemy import select

from hub.auth import Access, find_access
from hub.domain.accounts import user_for_api_token
from hub.domain.errors import DomainError, NotFound
from hub.domain.numbers import optional_decimal
from hub.domain.values import MAX_NOTE, find_kpi, set_value
from hub.extensions import csrf, db
from hub.models import ImportProblem, Membership, Role, SyncConflict, SyncRun, TabKind, Workspace
from hub.routes import api_views
from hub.sync import service

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens, not cookies, authenticate here, so there is no CSRF to forge.
csrf.exempt(bp)


def error(status: int, code: str, message: str, **headers: str):
    """A JSON error response: {"error": {"code", "message"}}."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.before_request
def authenticate():
    """Every API call needs `Authorization: Bearer <token>`; session cookies do not count."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        return error(
            401,
            "unauthorized",
            "Send a valid personal API token as 'Authorization: Bearer <token>' "
            "(create one with `flask --app wsgi hub token EMAIL`).",
            **{"WWW-Authenticate": 'Bearer realm="strategy-hub"'},
        )
    g.api_user = user
    db.session.commit()  # records the token's last use


def api_workspace(minimum: Role = Role.VIEWER) -> Callable[..., Any]:
    """Resolve `slug` for the token's user: 404 when not a member, 403 below `minimum`."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(slug: str, **kwargs: Any) -> Any:
            access = find_access(g.api_user, slug)
            if access is None:
                abort(404)
            if not access.can(minimum):
                return error(
                    403,
                    "forbidden",
                    f"Your role ({access.role}) cannot do this; it needs {minimum} or above.",
                )
            return view(access, **kwargs)

        wrapped.minimum_role_for = lambda method: minimum  # type: ignore[attr-defined]
        return wrapped

    return decorator


@bp.get("/workspaces")
def workspaces():
    """The workspaces the token's user belongs to, with KPI counts by status."""
    rows = db.session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == g.api_user.id)
        .order_by(Workspace.name)
    ).all()
    return jsonify(
        workspaces=[api_views.workspace_summary(workspace, Role(role)) for workspace, role in rows]
    )


@bp.get("/workspaces/<slug>/scorecard")
@api_workspace()
def scorecard(access: Access):
    """Goals with their KPIs and initiatives, statuses and whys, and the active cycle."""
    return jsonify(api_views.scorecard(access.workspace))


@bp.get("/workspaces/<slug>/kpis/<key>/values")
@api_workspace()
def kpi_values(access: Access, key: str):
    """Every value of a KPI, oldest first, with its provenance."""
    try:
        kpi = find_kpi(access.workspace, key)
    except NotFound as exc:
        return error(404, "not_found", exc.message)
    return jsonify(api_views.kpi_values(access.workspace, kpi))


@bp.put("/workspaces/<slug>/kpis/<key>/values/<period>")
@api_workspace(Role.UPDATER)
def put_kpi_value(access: Access, key: str, period: str):
    """Set (or with `"value": null`, clear) one period's value; recorded with source api."""
    try:
        kpi = find_kpi(access.workspace, key)
    except NotFound as exc:
        return error(404, "not_found", exc.message)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "value" not in body:
        return error(400, "bad_request", 'Send a JSON object like {"value": 12.5, "note": ""}.')
    unknown = sorted(set(body) - {"value", "note"})
    if unknown:
        return error(400, "bad_request", f"Unknown fields: {', '.join(unknown)}.")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        return error(400, "bad_request", "note must be a string.")
    if note is not None and len(note) > MAX_NOTE:
        return error(400, "bad_request", f"note is at most {MAX_NOTE} characters.")
    raw = body["value"]
    if isinstance(raw, str):
        return error(400, "bad_request", "value must be a JSON number (or null to clear).")
    if kpi.archived_at is not None:
        return error(409, "archived", f"KPI {kpi.key} is archived; restore it to enter values.")
    try:
        value = optional_decimal(raw)
        set_value(kpi, period, value, note=note, source="api", user=g.api_user)
    except ValueError as exc:
        db.session.rollback()
        return error(400, "bad_request", str(exc).capitalize() + ".")
    except DomainError as exc:
        db.session.rollback()
        return error(400, "bad_request", exc.message)
    db.session.commit()
    return jsonify(api_views.kpi_card(access.workspace, kpi))


@bp.get("/workspaces/<slug>/bets")
@api_workspace()
def bets(access: Access):
    """Bets vs gauges for the active cycle: rows, gauges without a bet, and flags."""
    return jsonify(api_views.bets(access.workspace))


@bp.post("/workspaces/<slug>/sync")
@api_workspace(Role.EDITOR)
def start_sync(access: Access):
    """Start a sync with the workspace's Google Sheet (or join the one already queued)."""
    try:
        run = service.request_sync(access.workspace, trigger="api", user=g.api_user)
    except service.SheetError as exc:
        return error(409, "not_connected", exc.message)
    response = jsonify(sync=_run_json(run))
    response.status_code = 202
    response.headers["Location"] = url_for("api.sync_status", slug=access.workspace.slug)
    return response


@bp.get("/workspaces/<slug>/sync")
@api_workspace()
def sync_status(access: Access):
    """The sheet connection, the last cycles, open conflicts and open import problems."""
    status = service.sync_status(access.workspace)
    connection = status.connection
    return jsonify(
        connection=None
        if connection is None
        else {
            "state": status.state,
            "message": status.message,
            "spreadsheet_id": connection.spreadsheet_id,
            "title": connection.title,
            "url": connection.url,
            "last_sync_at": connection.last_sync_at,
            "last_success_at": connection.last_success_at,
            "service_account_email": status.service_account_email,
        },
        runs=[_run_json(run) for run in status.runs],
        conflicts=[_conflict_json(conflict) for conflict in status.conflicts],
        problems=[_problem_json(problem) for problem in status.problems],
    )


def _run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "state": run.state,
        "trigger": run.trigger,
        "requested_at": run.requested_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "progress": run.progress,
        "message": run.message,
        "pulled": run.pulled,
        "pushed": run.pushed,
        "conflicts": run.conflicts,
        "problems": run.problems,
        "api_calls": run.api_calls,
        "summary": run.summary(),
    }


def _conflict_json(conflict: SyncConflict) -> dict[str, Any]:
    # Stored as "'Weekly KPIs'!J7": the tab and the cell apart, as for import problems.
    tab, _, cell = conflict.cell.rpartition("!")
    tab = tab[1:-1].replace("''", "'") if tab.startswith("'") else tab
    return {
        "id": conflict.id,
        "tab": tab or TabKind.TITLES.get(conflict.tab_kind, conflict.tab_kind),
        "cell": cell,
        "label": conflict.label,
        "sheet_value": conflict.sheet_value,
        "app_value": conflict.app_value,
        "winner": conflict.winner,
        "created_at": conflict.created_at,
    }


def _problem_json(problem: ImportProblem) -> dict[str, Any]:
    return {
        "tab": problem.tab_title or TabKind.TITLES.get(problem.tab_kind, problem.tab_kind),
        "cell": problem.cell,
        "label": problem.label,
        "text": problem.text,
        "reason": problem.reason,
        "opened_at": problem.opened_at,
    }

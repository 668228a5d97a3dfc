"""Running sync cycles (the cycle itself is `hub.sync.cycle`): one at a time per workspace
through a lease in the database, the run's record, connecting a sheet, "use this instead".

A cycle is safe to stop anywhere. Values taken from the sheet are committed together with
their new bases; cells written to the sheet get their bases only after Google confirmed the
write; a write that timed out is never retried blindly (the next cycle re-reads and finds
either the old value, written again, or the new one, whose base then simply advances).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from hub.domain.periods import local_today
from hub.extensions import db
from hub.models import (
    ImportProblem,
    RunState,
    SheetConnection,
    SheetState,
    SheetTab,
    SyncConflict,
    SyncRun,
    TabKind,
    User,
    Workspace,
)
from hub.models.base import utcnow
from hub.sync import client as sheets
from hub.sync import layout, merge
from hub.sync.cycle import NOTHING_CHANGED, Cycle, PauseCycle
from hub.sync.grid import META_FIELDS

__all__ = ["connect", "run_cycle", "use_instead"]

LEASE = timedelta(minutes=10)
QUIET_TRIGGERS = ("interval", "edit")  # a quiet run of these is not kept in the log


# ------------------------------------------------------------------------- entry points


def acquire(connection: SheetConnection) -> str | None:
    """Take the workspace's sync lease in the database; None when another holds it."""
    token = secrets.token_hex(16)
    now = utcnow()
    result = db.session.execute(
        update(SheetConnection)
        .where(
            SheetConnection.id == connection.id,
            or_(SheetConnection.lock_until.is_(None), SheetConnection.lock_until < now),
        )
        .values(lock_token=token, lock_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def release(connection_id: int, token: str) -> None:
    db.session.execute(
        update(SheetConnection)
        .where(SheetConnection.id == connection_id, SheetConnection.lock_token == token)
        .values(lock_token=None, lock_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_cycle(workspace_id: int, *, trigger: str, run_id: int | None = None) -> SyncRun:
    """One cycle of one workspace, now; the returned run says what happened."""
    run = db.session.get(SyncRun, run_id) if run_id is not None else None
    if run is None:
        run = SyncRun(workspace_id=workspace_id, trigger=trigger)
        db.session.add(run)
        db.session.commit()
    workspace = db.session.get(Workspace, workspace_id)
    connection = db.session.scalar(
        select(SheetConnection).where(SheetConnection.workspace_id == workspace_id)
    )
    if workspace is None or connection is None:
        return _finish(run, RunState.FAILED, "This workspace has no Google Sheet connected.")
    if connection.state == SheetState.PAUSED and not connection.resume:
        return _finish(run, RunState.PAUSED, "Paused: choose on the Sheet page what wins.")
    token = acquire(connection)
    if token is None:
        return _finish(run, RunState.SKIPPED, "Another sync of this workspace was running.")
    connection_id, run_id = connection.id, run.id
    cycle: Cycle | None = None
    db.session.info["hub.sync"] = True  # the edit hook must not queue a push for this
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        run.state, run.started_at = RunState.RUNNING, utcnow()
        app_edited, connection.push_after = connection.push_after is not None, None
        db.session.commit()
        cycle = Cycle(workspace, connection, run)
        cycle.execute(app_edited=app_edited)
        connection.last_sync_at = connection.last_success_at = utcnow()
        if connection.state == SheetState.ATTENTION:
            connection.state = SheetState.OK
        connection.state_message = ""
        state, message = RunState.DONE, run.message
    except PauseCycle as pause:
        db.session.rollback()
        state, message = RunState.PAUSED, _pause(connection_id, pause.details)
    except sheets.SheetsError as error:
        db.session.rollback()
        state, message = RunState.FAILED, _refused(connection_id, error)
    except Exception as error:  # the background job must outlive any bug; it is logged
        db.session.rollback()
        current_app.logger.exception("sync of workspace %s failed", workspace_id)
        state, message = RunState.FAILED, f"The sync stopped on an internal error: {error}"
    finally:
        # The cycle holds the lease, so nothing it loaded went stale under it: committing
        # without expiring spares reloading every KPI after each commit.
        session.expire_on_commit = expire_on_commit
        db.session.info.pop("hub.sync", None)
        release(connection_id, token)
    run = db.session.get(SyncRun, run_id)
    if cycle is not None:
        calls = cycle.client.calls
        run.drive_calls, run.read_calls, run.write_calls = calls.drive, calls.reads, calls.writes
    if state == RunState.DONE and message == NOTHING_CHANGED:
        # The sheet was not read: its unreadable cells are the ones still open.
        run.problems = db.session.scalar(
            select(func.count(ImportProblem.id)).where(
                ImportProblem.workspace_id == run.workspace_id, ImportProblem.closed_at.is_(None)
            )
        )
        if run.trigger in QUIET_TRIGGERS:
            _forget_quiet_runs(run)
    return _finish(run, state, message)


def _forget_quiet_runs(run: SyncRun) -> None:
    """Keep only the latest scheduled "nothing changed" run: a minute's check of a quiet
    sheet would otherwise bury the log under 1,440 of them a day."""
    db.session.execute(
        delete(SyncRun).where(
            SyncRun.workspace_id == run.workspace_id,
            SyncRun.id < run.id,
            SyncRun.state == RunState.DONE,
            SyncRun.trigger.in_(QUIET_TRIGGERS),
            SyncRun.message == NOTHING_CHANGED,
        )
    )


def _pause(connection_id: int, details: dict[str, Any]) -> str:
    connection = db.session.get(SheetConnection, connection_id)
    connection.state = SheetState.PAUSED
    connection.state_message = f"Paused: {details['reason']} Nothing was applied."
    connection.pause_details = details
    connection.last_sync_at = utcnow()
    return connection.state_message


def _refused(connection_id: int, error: sheets.SheetsError) -> str:
    connection = db.session.get(SheetConnection, connection_id)
    if isinstance(error, sheets.AccessDenied):
        connection.state = SheetState.ATTENTION
        connection.state_message = error.message
    connection.last_sync_at = utcnow()
    return error.message


def _finish(run: SyncRun, state: str, message: str) -> SyncRun:
    run.state = state
    run.message = message
    run.progress = ""
    run.finished_at = utcnow()
    if run.started_at is None:
        run.started_at = run.finished_at
    db.session.commit()
    return run


def connect(workspace: Workspace, spreadsheet_id: str, *, user: User | None) -> SyncRun:
    """Connect a sheet: check access, then the first cycle makes and fills the tabs."""
    from hub.sync.service import SheetError, connection_of

    if connection_of(workspace) is not None:
        raise SheetError("This workspace already has a sheet; disconnect it first.")
    client = sheets.make_client()
    try:
        client.drive_file(spreadsheet_id)
        meta = client.get(spreadsheet_id, fields=META_FIELDS)
    except sheets.SheetsError as error:
        raise SheetError(error.message) from None
    connection = SheetConnection(
        workspace_id=workspace.id,
        spreadsheet_id=spreadsheet_id,
        title=(meta.get("properties") or {}).get("title", ""),
        locale=(meta.get("properties") or {}).get("locale", "en_US"),
        tracking_start=local_today(workspace.time_zone),
        connected_by=user,
    )
    db.session.add(connection)
    # Tabs already there with the app's titles (a sheet connected before) are adopted.
    for entry in meta.get("sheets") or []:
        props = entry.get("properties") or {}
        for kind, title in TabKind.TITLES.items():
            if props.get("title") == title and connection.tab(kind) is None:
                connection.tabs.append(
                    SheetTab(kind=kind, gid=props["sheetId"], title=title, bases={})
                )
    db.session.commit()
    run = run_cycle(workspace.id, trigger="connect")
    if run.state == RunState.FAILED:
        run_message = run.message
        db.session.delete(connection)
        db.session.commit()
        raise SheetError(f"The sheet could not be filled: {run_message}")
    return run


def use_instead(conflict: SyncConflict, *, user: User | None) -> None:
    """Make the conflict's losing value the app's; the next push writes it to the sheet."""
    from hub.sync.service import SheetError, connection_of

    if conflict.resolved_at is not None:
        raise SheetError("This conflict is already resolved.")
    workspace = db.session.get(Workspace, conflict.workspace_id)
    connection = connection_of(workspace)
    since = connection.tracking_start if connection else date.today()
    tabs = layout.build_tabs(
        workspace, [conflict.tab_kind], since, local_today(workspace.time_zone)
    )
    tab = tabs.get(conflict.tab_kind)
    row = tab.by_key.get(conflict.row_key) if tab else None
    if tab is None or row is None:
        raise SheetError(f"{conflict.label} is no longer in the sheet's tabs.")
    source = "sheet" if conflict.winner == merge.APP else "web"
    with db.session.begin_nested():
        layout.apply(
            workspace,
            tab,
            row,
            conflict.column,
            conflict.loser_value,
            source=source,
            ref=conflict.cell if source == "sheet" else "",
            user=user,
        )
    conflict.resolved_at = utcnow()
    conflict.resolved_by = user
    conflict.resolution = "swapped"
    db.session.flush()
    if connection is not None:
        from hub.sync.service import note_app_edit

        note_app_edit(workspace.id)

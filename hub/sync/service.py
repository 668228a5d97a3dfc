"""What the rest of the app asks of the sync: connect, run, show, resolve (SHEETS.md).

Routes, the API, the CLI and the job runner call only these functions; the cycle itself
is in `hub.sync.engine`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from hub.domain.errors import DomainError, Invalid
from hub.extensions import db
from hub.models import (
    ImportProblem,
    RunState,
    SheetConnection,
    SheetState,
    SyncConflict,
    SyncRun,
    User,
    Workspace,
)
from hub.models.base import utcnow

__all__ = [
    "DISCONNECTED",
    "EDIT_DEBOUNCE",
    "SheetError",
    "SyncChip",
    "SyncStatus",
    "connect",
    "disconnect",
    "dismiss_conflict",
    "due_workspaces",
    "note_app_edit",
    "parse_spreadsheet_ref",
    "request_sync",
    "resume",
    "run_sync",
    "sync_chips",
    "sync_status",
    "use_instead",
]

DISCONNECTED = "disconnected"
EDIT_DEBOUNCE = timedelta(seconds=3)  # app edits reach the sheet within 10 s
RECENT_RUNS = 20

_SHEET_URL = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")
_SHEET_ID = re.compile(r"[a-zA-Z0-9_-]{10,128}")


class SheetError(DomainError):
    """Google refused, or the sheet cannot be used: the message says what to do."""


@dataclass
class SyncStatus:
    """Everything the Sheet page, the chip and the API show about a workspace's sync."""

    state: str  # DISCONNECTED or a SheetState
    message: str
    connection: SheetConnection | None = None
    running: SyncRun | None = None  # queued or running
    last_run: SyncRun | None = None  # the last finished run
    runs: list[SyncRun] = field(default_factory=list)  # newest first
    conflicts: list[SyncConflict] = field(default_factory=list)  # open, newest first
    problems: list[ImportProblem] = field(default_factory=list)  # open, by tab and cell
    service_account_email: str | None = None

    @property
    def connected(self) -> bool:
        return self.connection is not None


@dataclass(frozen=True)
class SyncChip:
    """What the small sheet status beside a workspace says (scorecard, portfolio)."""

    state: str
    synced_at: datetime | None
    problems: int
    conflicts: int

    @property
    def kind(self) -> str:
        """The one thing worth saying, worst first."""
        if self.state in (SheetState.PAUSED, SheetState.ATTENTION):
            return self.state
        if self.problems:
            return "problems"
        if self.conflicts:
            return "conflicts"
        return "synced" if self.synced_at else "waiting"


def sync_chips(workspace_ids: list[int]) -> dict[int, SyncChip]:
    """The chip of every connected workspace among `workspace_ids`, in one query whatever
    their number (an unconnected workspace has none)."""
    if not workspace_ids:
        return {}
    owner = SheetConnection.workspace_id
    problems = (
        select(func.count(ImportProblem.id))
        .where(ImportProblem.workspace_id == owner, ImportProblem.closed_at.is_(None))
        .scalar_subquery()
    )
    conflicts = (
        select(func.count(SyncConflict.id))
        .where(SyncConflict.workspace_id == owner, SyncConflict.resolved_at.is_(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            owner, SheetConnection.state, SheetConnection.last_success_at, problems, conflicts
        ).where(owner.in_(workspace_ids))
    )
    return {row[0]: SyncChip(row[1], row[2], row[3] or 0, row[4] or 0) for row in rows}


def parse_spreadsheet_ref(text: str) -> str:
    """The spreadsheet id in a pasted sheet URL, or the id itself; Invalid otherwise."""
    text = (text or "").strip()
    match = _SHEET_URL.search(text)
    if match:
        return match.group(1)
    if _SHEET_ID.fullmatch(text):
        return text
    raise Invalid(
        [
            "sheet: paste the sheet's address from the browser "
            "(https://docs.google.com/spreadsheets/d/…/edit) or its id"
        ]
    )


def connection_of(workspace: Workspace) -> SheetConnection | None:
    return db.session.scalar(
        select(SheetConnection).where(SheetConnection.workspace_id == workspace.id)
    )


def connect(workspace: Workspace, ref: str, *, user: User | None) -> SyncRun:
    """Connect the workspace to a sheet and fill it, now; raises Invalid or SheetError."""
    from hub.sync import engine

    return engine.connect(workspace, parse_spreadsheet_ref(ref), user=user)


def disconnect(workspace: Workspace) -> bool:
    """Forget the sheet; everything stays in the app (values, history, conflicts)."""
    connection = connection_of(workspace)
    if connection is None:
        return False
    db.session.delete(connection)
    db.session.flush()
    return True


def active_run(workspace: Workspace) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.workspace_id == workspace.id, SyncRun.state.in_(RunState.ACTIVE))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def request_sync(workspace: Workspace, *, trigger: str, user: User | None = None) -> SyncRun:
    """Queue a cycle (or return the one already queued or running) and hand it to the jobs.

    Commits: a job in another process must see the run.
    """
    from hub.sync import jobs

    if connection_of(workspace) is None:
        raise SheetError("This workspace has no Google Sheet connected.")
    run = active_run(workspace)
    if run is not None and run.state == RunState.QUEUED:
        return run
    run = SyncRun(workspace_id=workspace.id, trigger=trigger, requested_by=user)
    db.session.add(run)
    db.session.commit()
    jobs.enqueue(run)
    return run


def run_sync(workspace_id: int, *, trigger: str = "cli", run_id: int | None = None) -> SyncRun:
    """Run one cycle now, in this process (CLI, jobs). Never raises for Google's errors:
    the returned run says what happened (state, message, counts)."""
    from hub.sync import engine

    return engine.run_cycle(workspace_id, trigger=trigger, run_id=run_id)


def sync_status(workspace: Workspace) -> SyncStatus:
    from hub.sync import client

    connection = connection_of(workspace)
    email = client.service_account_email()
    if connection is None:
        return SyncStatus(DISCONNECTED, "No Google Sheet connected.", service_account_email=email)
    runs = list(
        db.session.scalars(
            select(SyncRun)
            .where(SyncRun.workspace_id == workspace.id)
            .order_by(SyncRun.id.desc())
            .limit(RECENT_RUNS)
        )
    )
    running = next((r for r in runs if r.state in RunState.ACTIVE), None)
    last = next((r for r in runs if r.state in RunState.FINISHED), None)
    conflicts = list(
        db.session.scalars(
            select(SyncConflict)
            .where(SyncConflict.workspace_id == workspace.id, SyncConflict.resolved_at.is_(None))
            .order_by(SyncConflict.id.desc())
        )
    )
    problems = list(
        db.session.scalars(
            select(ImportProblem)
            .where(ImportProblem.workspace_id == workspace.id, ImportProblem.closed_at.is_(None))
            .order_by(ImportProblem.tab_kind, ImportProblem.id)
        )
    )
    message = connection.state_message or {
        SheetState.OK: "Syncing.",
        SheetState.ATTENTION: "Google refused access to the sheet.",
        SheetState.PAUSED: "Paused: the sheet changed too much at once.",
    }.get(connection.state, "")
    return SyncStatus(
        connection.state,
        message,
        connection,
        running,
        last,
        runs,
        conflicts,
        problems,
        email,
    )


def use_instead(conflict: SyncConflict, *, user: User | None) -> None:
    """Make the conflict's losing value the current one, in the app; the next push
    writes it to the sheet."""
    from hub.sync import engine

    engine.use_instead(conflict, user=user)


def dismiss_conflict(conflict: SyncConflict, *, user: User | None) -> None:
    """Keep the winner; the conflict leaves the open list (it stays in the record)."""
    if conflict.resolved_at is None:
        conflict.resolved_at = utcnow()
        conflict.resolved_by = user
        conflict.resolution = "kept"
        db.session.flush()


def resume(workspace: Workspace, choice: str, *, user: User | None) -> SyncRun:
    """Leave the paused state: "apply" the sheet anyway, or "restore" the sheet from the app."""
    connection = connection_of(workspace)
    if connection is None:
        raise SheetError("This workspace has no Google Sheet connected.")
    if choice not in ("apply", "restore"):
        raise Invalid([f"choice: must be apply or restore, not {choice!r}"])
    if connection.state != SheetState.PAUSED:
        raise SheetError("The sync is not paused.")
    connection.resume = choice
    db.session.flush()
    return request_sync(workspace, trigger="manual", user=user)


def note_app_edit(workspace_id: int, now: datetime | None = None) -> None:
    """An app edit happened: push it within seconds (debounced)."""
    moment = (now or utcnow()) + EDIT_DEBOUNCE
    db.session.execute(
        SheetConnection.__table__.update()
        .where(
            SheetConnection.workspace_id == workspace_id,
            SheetConnection.push_after.is_(None),
        )
        .values(push_after=moment)
    )


def due_workspaces(now: datetime, interval: timedelta) -> list[tuple[int, str]]:
    """(workspace id, trigger) of every connection due a cycle: a debounced push whose
    time has come ("edit"), or no cycle for `interval` ("interval")."""
    due = []
    for connection in db.session.scalars(select(SheetConnection)):
        if connection.push_after is not None and connection.push_after <= now:
            due.append((connection.workspace_id, "edit"))
        elif connection.last_sync_at is None or connection.last_sync_at + interval <= now:
            due.append((connection.workspace_id, "interval"))
    return due

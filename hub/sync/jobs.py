"""Where and when sync cycles run (SHEETS.md §2 "When it runs", PRODUCT.md §5).

- `enqueue(run)` hands a queued run to the configured runner: "inline" (now, in the
  caller: tests), "thread" (a background thread of this process: the embedded default)
  or "rq" (a job on Redis for `rq worker hub-sync`: the web tier only enqueues).
- `tick()` is one scheduler pass: a cycle for every workspace with a debounced app edit
  due, or none for `HUB_SYNC_INTERVAL` seconds. Web processes run it every two seconds in
  one daemon thread, started by their first request. Several processes may each run one:
  the engine's per-workspace lease in the database makes duplicates harmless.
- The edit hook: a commit that changed plan or OKR data marks its workspace's sheet
  connection for a push (`push_after`), unless the sync itself made the change (the
  engine sets `session.info["hub.sync"]` while it applies sheet values).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from hub.extensions import db
from hub.models import (
    CheckIn,
    Cycle,
    Goal,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    ProgressUpdate,
    RunState,
    SheetConnection,
    SheetState,
    SyncRun,
    Workspace,
)
from hub.models.base import utcnow
from hub.sync import service

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

__all__ = ["QUEUE", "RUNNERS", "enqueue", "init_app", "perform", "sync_queue", "tick"]

log = logging.getLogger(__name__)

RUNNERS = ("inline", "thread", "rq")
QUEUE = "hub-sync"
JOB_TIMEOUT = 600  # seconds; a cycle is a handful of requests, this only stops a hung one
# A run still queued or running this long after it started never finishes: its process
# died. The scheduler closes it so the workspace syncs again.
LOST_AFTER = timedelta(seconds=JOB_TIMEOUT * 3 // 2)
TICK_SECONDS = 2.0  # edits are debounced 3 s and must reach the sheet within 10 s
SYNC_FLAG = "hub.sync"  # session.info: the engine is applying sheet values
_EDITS = "hub.sync.edits"  # session.info: what this transaction changed, until it commits

# Where an edited row's workspace is: its own column, or its parent's.
_OWN_WORKSPACE: tuple[type, ...] = (Goal, Kpi, Cycle, Initiative, KeyResult)
_PARENT: dict[type, tuple[str, type]] = {
    KpiValue: ("kpi_id", Kpi),
    CheckIn: ("key_result_id", KeyResult),
    ProgressUpdate: ("initiative_id", Initiative),
}


# --- running a cycle -------------------------------------------------------------------


def enqueue(run: SyncRun) -> None:
    """Start the queued `run` on the configured runner (HUB_SYNC_RUNNER)."""
    runner = current_app.config["HUB_SYNC_RUNNER"]
    workspace_id, run_id, trigger = run.workspace_id, run.id, run.trigger
    if runner == "inline":
        service.run_sync(workspace_id, trigger=trigger, run_id=run_id)
    elif runner == "thread":
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        _thread_pool().submit(_perform_in, app, workspace_id, run_id, trigger)
    elif runner == "rq":
        from redis.exceptions import RedisError

        try:
            sync_queue().enqueue(
                "hub.sync.jobs.perform",
                workspace_id,
                run_id,
                trigger,
                job_timeout=JOB_TIMEOUT,
            )
        except RedisError:
            log.exception("Could not queue sync run %s on Redis", run_id)
            _close_run(run_id, "The job queue (Redis) did not answer; the sync did not start.")
    else:  # init_app refuses other values; this only catches config changed later
        raise RuntimeError(f"HUB_SYNC_RUNNER must be one of {', '.join(RUNNERS)}, not {runner!r}")


def perform(workspace_id: int, run_id: int, trigger: str = "manual") -> None:
    """The RQ job (`rq worker hub-sync`): run one queued cycle in this worker process."""
    if has_app_context():  # a SimpleWorker inside a running app (tests, embedded workers)
        _perform(workspace_id, run_id, trigger)
        return
    _perform_in(_worker_app(), workspace_id, run_id, trigger)


def sync_queue(redis_url: str | None = None) -> Queue:
    """The RQ queue sync jobs go to (on REDIS_URL unless given)."""
    from rq import Queue

    url = redis_url or current_app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("HUB_SYNC_RUNNER=rq needs REDIS_URL.")
    return Queue(QUEUE, connection=_redis(url))


@cache
def _redis(url: str) -> Redis:
    from redis import Redis

    return Redis.from_url(url)


@cache
def _worker_app() -> Flask:
    """One app per worker process (RQ's forking workers start a fresh process per job)."""
    from hub import create_app

    return create_app()


def _thread_pool() -> ThreadPoolExecutor:
    return _process_thread_pool(os.getpid())  # a pool made before a fork has no thread


@cache
def _process_thread_pool(_pid: int) -> ThreadPoolExecutor:
    # One worker: cycles of different workspaces queue up behind each other, which keeps
    # an embedded SQLite to one writer and Google's quota to one caller.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-sync")


def _perform_in(app: Flask, workspace_id: int, run_id: int, trigger: str) -> None:
    with app.app_context():
        try:
            _perform(workspace_id, run_id, trigger)
        finally:
            db.session.remove()


def _perform(workspace_id: int, run_id: int, trigger: str) -> None:
    try:
        service.run_sync(workspace_id, trigger=trigger, run_id=run_id)
    except Exception:
        # run_sync reports Google's refusals in the run; anything else is a bug, and the
        # run must not stay "running" for the page to poll forever.
        log.exception("Sync run %s of workspace %s crashed", run_id, workspace_id)
        db.session.rollback()
        _close_run(run_id, "The sync stopped on an unexpected error; the next one retries.")
        raise


def _close_run(run_id: int, message: str) -> None:
    """Mark a run that will never finish as failed (if nothing else finished it)."""
    try:
        db.session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.state.in_(RunState.ACTIVE))
            .values(state=RunState.FAILED, message=message, finished_at=utcnow())
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Could not close sync run %s", run_id)


# --- the scheduler ---------------------------------------------------------------------


def tick(now: datetime | None = None) -> list[SyncRun]:
    """One scheduler pass: request a cycle for every workspace due one; returns the runs."""
    now = now or utcnow()
    interval = timedelta(seconds=current_app.config["HUB_SYNC_INTERVAL"])
    due = dict(service.due_workspaces(now, interval))
    if not due:
        return []
    connections = db.session.scalars(
        select(SheetConnection).where(SheetConnection.workspace_id.in_(due))
    )
    paused = {c.workspace_id for c in connections if c.state == SheetState.PAUSED}
    busy = set()
    for run in db.session.scalars(
        select(SyncRun).where(SyncRun.workspace_id.in_(due), SyncRun.state.in_(RunState.ACTIVE))
    ):
        if (run.started_at or run.requested_at) + LOST_AFTER < now:
            _close_run(run.id, "The sync did not finish (its worker stopped); a new one started.")
        else:
            busy.add(run.workspace_id)
    runs = []
    for workspace_id, trigger in due.items():
        if workspace_id in paused or workspace_id in busy:
            continue
        workspace = db.session.get(Workspace, workspace_id)
        if workspace is not None:
            runs.append(service.request_sync(workspace, trigger=trigger))
    return runs


def _schedule_forever(app: Flask) -> None:
    while True:
        time.sleep(TICK_SECONDS)
        with app.app_context():
            try:
                tick()
            except Exception:
                log.exception("A sync scheduler pass failed; the next one tries again")
            finally:
                db.session.remove()


def _start_scheduler(app: Flask) -> None:
    """Start this process's scheduler thread, once (and again in a forked child)."""
    state = app.extensions["hub.sync"]
    if state.get("scheduler_pid") == os.getpid():
        return
    with state["lock"]:
        if state.get("scheduler_pid") == os.getpid():
            return
        threading.Thread(
            target=_schedule_forever, args=(app,), name="hub-sync-scheduler", daemon=True
        ).start()
        state["scheduler_pid"] = os.getpid()


# --- the edit hook ---------------------------------------------------------------------


def _edit_target(obj: object) -> tuple[type, int] | None:
    """(Workspace, id) or (parent model, id) of a plan or OKR row; None for other rows."""
    cls = type(obj)
    if cls in _OWN_WORKSPACE:
        column, owner = "workspace_id", Workspace
    elif cls in _PARENT:
        column, owner = _PARENT[cls]
    else:
        return None
    value = inspect(obj).dict.get(column)  # never loads: deleted rows are gone
    return (owner, value) if value is not None else None


def _collect_edits(session: Session, _flush_context: Any) -> None:
    if session.info.get(SYNC_FLAG):
        return
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if session.is_modified(obj)]
    edits: dict[type, set[int]] = session.info.setdefault(_EDITS, {})
    for obj in changed:
        target = _edit_target(obj)
        if target is not None:
            edits.setdefault(target[0], set()).add(target[1])


def _forget_edits(session: Session, *_args: Any) -> None:
    session.info.pop(_EDITS, None)


def _note_edits(session: Session) -> None:
    edits = session.info.pop(_EDITS, None)
    if not edits or session.info.get(SYNC_FLAG):
        return
    # The committing session can send no SQL now: a short transaction of its own.
    try:
        with db.engine.begin() as connection:
            connection.execute(_mark_for_push(edits, utcnow()))
    except SQLAlchemyError:
        # The edit is saved; only its quick push is lost: the interval sync carries it.
        log.warning("Could not mark an app edit for the sheet", exc_info=True)


def _mark_for_push(edits: dict[type, set[int]], now: datetime) -> Update:
    """service.note_app_edit for every workspace the edits touched, in one UPDATE;
    workspaces without a sheet match no row."""
    owners = [
        SheetConnection.workspace_id.in_(ids)
        if owner is Workspace
        else SheetConnection.workspace_id.in_(
            select(owner.workspace_id).where(owner.id.in_(ids))  # type: ignore[attr-defined]
        )
        for owner, ids in edits.items()
    ]
    return (
        update(SheetConnection)
        .where(SheetConnection.push_after.is_(None), or_(*owners))
        .values(push_after=now + service.EDIT_DEBOUNCE)
    )


# --- wiring ----------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Install the edit hook, and in web processes the scheduler (on the first request,
    so the reloader's parent, `flask hub …` commands and RQ workers never start one)."""
    runner = app.config.setdefault("HUB_SYNC_RUNNER", "thread")
    if runner not in RUNNERS:
        raise RuntimeError(f"HUB_SYNC_RUNNER must be one of {', '.join(RUNNERS)}, not {runner!r}")
    if runner == "rq" and not app.config.get("REDIS_URL"):
        raise RuntimeError("HUB_SYNC_RUNNER=rq needs REDIS_URL (the Redis the workers use).")
    _listen("after_flush", _collect_edits)
    _listen("after_commit", _note_edits)
    _listen("after_rollback", _forget_edits)
    app.extensions["hub.sync"] = {"lock": threading.Lock()}
    if app.testing or runner == "inline":
        return

    @app.before_request
    def start_sync_scheduler() -> None:
        _start_scheduler(app)


def _listen(name: str, handler: Callable[..., None]) -> None:
    # On Flask-SQLAlchemy's session class: every app's sessions, registered once.
    if not event.contains(db.session, name, handler):
        event.listen(db.session, name, handler)

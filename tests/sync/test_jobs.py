"""Where and when syncs run: the edit hook, the scheduler's pass, the three runners, and
one cycle per workspace at a time whatever runs them (threads, RQ workers, processes).

Redis tests use HUB_TEST_REDIS_URL (CI sets it; they skip without it) and a queue of
their own, so they never touch another run's jobs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import select

from hub import create_app
from hub.config import from_environment
from hub.domain.accounts import issue_api_token
from hub.domain.periods import Cadence, period_for
from hub.extensions import db
from hub.models import Goal, KpiValue, RunState, SheetConnection, SheetState, SyncRun
from hub.models.base import utcnow
from hub.sync import jobs, service
from tests.conftest import IN_CI
from tests.fake_google import FakeGoogle, serve
from tests.fake_google.a1 import cell_name

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "").strip()
WAIT = 30.0  # seconds a background cycle may take before a test gives up on it


# --- helpers ---------------------------------------------------------------------------


def last_week() -> str:
    return period_for(date.today() - timedelta(days=7), Cadence.WEEKLY).key


def connection_of(workspace) -> SheetConnection:
    db.session.expire_all()
    return service.connection_of(workspace)


def sheet_cell(fake: FakeGoogle, sid: str, key: str, header: str, tab="Weekly KPIs") -> str:
    """The A1 name of row `key`'s cell in column `header`."""
    grid = fake.values(sid, tab)
    row = next(i for i, line in enumerate(grid) if line and line[0] == key)
    return cell_name(row, grid[0].index(header))


def wait_for(run_id: int, timeout: float = WAIT) -> SyncRun:
    """The run once it finished (polled from this thread's session)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        run = db.session.get(SyncRun, run_id)
        if run.state in RunState.FINISHED or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def wait_for_thread_runner() -> None:
    """Until the background runner finished its current job (it has one thread)."""
    jobs._thread_pool().submit(lambda: None).result(timeout=WAIT)


@pytest.fixture
def world(make, fake_google: FakeGoogle) -> SimpleNamespace:
    """Workspace `acme` (KPIs only, K1 weekly) connected to a fresh sheet."""
    owner = make.user("owner@example.com")
    ws = make.workspace(owner, slug="acme", mode="kpi")
    kpi = make.kpi(ws, "K1", name="Revenue")
    sid = fake_google.create_spreadsheet("Client sheet", {"Sheet1": [[]]})
    run = service.connect(ws, sid, user=owner)
    db.session.commit()
    assert run.state == RunState.DONE, run.message
    fake_google.log.clear()
    return SimpleNamespace(owner=owner, ws=ws, kpi=kpi, sid=sid, fake=fake_google)


@pytest.fixture
def requests_by_thread(fake_google: FakeGoogle, monkeypatch) -> list[tuple[str, float, float]]:
    """Slow the fake down (so concurrent cycles would overlap) and record, per request,
    the thread that sent it and when it started and ended."""
    seen: list[tuple[str, float, float]] = []
    handle = fake_google.handle

    def slow_handle(request):
        start = time.monotonic()
        time.sleep(0.2)
        try:
            return handle(request)
        finally:
            seen.append((threading.current_thread().name, start, time.monotonic()))

    monkeypatch.setattr(fake_google, "handle", slow_handle)
    return seen


def assert_one_cycle_at_a_time(seen: list[tuple[str, float, float]]) -> None:
    """Each thread's requests form one block: no request of another thread in between."""
    seen = sorted(seen, key=lambda r: r[1])
    blocks = [name for i, (name, _, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != name]
    assert len(blocks) == len(set(blocks)), blocks
    for (_, _, end), (_, start, _) in zip(seen, seen[1:], strict=False):
        assert end <= start


def in_threads(app: Flask, count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads, each in its own app context, all released at
    once; their results in order (an exception fails the test)."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=WAIT)
                results[i] = work(i)
            except BaseException as error:  # noqa: BLE001 - reported to the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,), name=f"worker-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT * 2)
    assert not errors, errors
    return results


# --- the edit hook ---------------------------------------------------------------------


def test_a_web_edit_marks_the_connected_workspace_for_a_push(world, make):
    assert connection_of(world.ws).push_after is None
    before = utcnow()
    make.value(world.kpi, last_week(), 42, source="web")
    push_after = connection_of(world.ws).push_after
    assert push_after is not None
    assert before + service.EDIT_DEBOUNCE <= push_after <= utcnow() + service.EDIT_DEBOUNCE


def test_later_edits_do_not_postpone_the_push(world, make):
    make.value(world.kpi, last_week(), 42)
    first = connection_of(world.ws).push_after
    time.sleep(0.01)
    make.value(world.kpi, last_week(), 43)
    assert connection_of(world.ws).push_after == first


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda w: setattr(w.kpi, "name", "Net revenue"), id="kpi"),
        pytest.param(lambda w: db.session.add(Goal(workspace=w.ws, title="Grow")), id="goal"),
        pytest.param(
            lambda w: db.session.delete(
                db.session.scalar(select(KpiValue).where(KpiValue.kpi_id == w.kpi.id))
            ),
            id="value-deleted",
        ),
    ],
)
def test_every_kind_of_plan_edit_marks_a_push(world, make, edit):
    make.value(world.kpi, last_week(), 42)
    db.session.execute(
        SheetConnection.__table__.update().values(push_after=None)
    )  # as the cycle leaves it
    db.session.commit()
    edit(world)
    db.session.commit()
    assert connection_of(world.ws).push_after is not None


def test_edits_elsewhere_and_rolled_back_edits_mark_nothing(world, make):
    other = make.workspace(world.owner, slug="other")
    make.value(make.kpi(other, "K1"), last_week(), 1)  # a workspace without a sheet
    world.kpi.name = "Renamed"
    db.session.flush()
    db.session.rollback()
    make.user()  # a later commit does not carry the rolled-back edit
    assert connection_of(world.ws).push_after is None


def test_values_pulled_from_the_sheet_do_not_trigger_a_push(world):
    cell = sheet_cell(world.fake, world.sid, "K1", last_week())
    world.fake.type(world.sid, "Weekly KPIs", cell, "42")
    run = service.run_sync(world.ws.id, trigger="interval")
    assert (run.state, run.pulled) == (RunState.DONE, 1)
    value = db.session.scalar(select(KpiValue).where(KpiValue.kpi_id == world.kpi.id))
    assert (value.value, value.source) == (42, "sheet")
    assert connection_of(world.ws).push_after is None


# --- the scheduler ---------------------------------------------------------------------


def test_tick_pushes_an_edit_once_its_debounce_is_over(world, make):
    make.value(world.kpi, last_week(), 42)
    push_after = connection_of(world.ws).push_after
    assert jobs.tick(push_after - timedelta(seconds=1)) == []
    assert world.fake.log == []
    [run] = jobs.tick(push_after + timedelta(seconds=1))
    assert (run.trigger, run.state) == ("edit", RunState.DONE)
    assert run.pushed >= 1  # the value, and its KPI's status
    cell = sheet_cell(world.fake, world.sid, "K1", last_week())
    assert world.fake.value(world.sid, "Weekly KPIs", cell) == 42
    assert connection_of(world.ws).push_after is None


def test_tick_checks_each_sheet_once_an_interval(world, app):
    last = connection_of(world.ws).last_sync_at
    interval = timedelta(seconds=app.config["HUB_SYNC_INTERVAL"])
    assert jobs.tick(last + interval - timedelta(seconds=1)) == []
    [run] = jobs.tick(last + interval + timedelta(seconds=1))
    assert (run.trigger, run.state) == ("interval", RunState.DONE)
    # Nothing changed on either side: one Drive call, no Sheets call.
    assert (run.api_calls, world.fake.log.drive) == (1, 1)


def test_tick_leaves_paused_and_busy_workspaces_alone(world, make, app):
    later = connection_of(world.ws).last_sync_at + timedelta(
        seconds=app.config["HUB_SYNC_INTERVAL"] + 1
    )
    queued = SyncRun(workspace_id=world.ws.id, trigger="manual")
    db.session.add(queued)
    db.session.commit()
    assert jobs.tick(later) == []
    db.session.delete(queued)
    connection_of(world.ws).state = SheetState.PAUSED
    db.session.commit()
    assert jobs.tick(later) == []
    assert world.fake.log == []


def test_tick_closes_a_run_whose_worker_died_and_starts_another(world, app):
    later = connection_of(world.ws).last_sync_at + timedelta(
        seconds=app.config["HUB_SYNC_INTERVAL"] + 1
    )
    lost = SyncRun(
        workspace_id=world.ws.id,
        trigger="manual",
        state=RunState.RUNNING,
        requested_at=later - jobs.LOST_AFTER - timedelta(minutes=1),
    )
    lost.started_at = lost.requested_at
    db.session.add(lost)
    db.session.commit()
    [run] = jobs.tick(later)
    assert run.state == RunState.DONE
    db.session.refresh(lost)
    assert lost.state == RunState.FAILED
    assert "did not finish" in lost.message


# --- the runners -----------------------------------------------------------------------


def test_inline_runner_runs_the_cycle_in_the_caller(world, make):
    make.value(world.kpi, last_week(), 42)
    run = service.request_sync(world.ws, trigger="manual", user=world.owner)
    assert (run.state, run.requested_by) == (RunState.DONE, world.owner)
    assert run.pushed >= 1


def test_thread_runner_runs_the_cycle_in_a_background_thread(
    world, make, monkeypatch, app, requests_by_thread
):
    monkeypatch.setitem(app.config, "HUB_SYNC_RUNNER", "thread")
    make.value(world.kpi, last_week(), 42)
    run = service.request_sync(world.ws, trigger="manual")
    assert run.state in RunState.ACTIVE  # the request returns before Google is asked
    run = wait_for(run.id)
    wait_for_thread_runner()
    assert (run.state, run.pushed > 0) == (RunState.DONE, True), run.message
    threads = {name for name, _, _ in requests_by_thread}
    assert len(threads) == 1
    assert threads.pop().startswith("hub-sync")


def test_a_crashing_cycle_is_closed_not_left_running(world, monkeypatch, app):
    monkeypatch.setitem(app.config, "HUB_SYNC_RUNNER", "thread")

    def crash(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(service, "run_sync", crash)
    run = service.request_sync(world.ws, trigger="manual")
    wait_for_thread_runner()
    run = wait_for(run.id, timeout=1)
    assert run.state == RunState.FAILED
    assert "unexpected error" in run.message


def test_two_threads_syncing_one_workspace_never_overlap(world, make, app, requests_by_thread):
    make.value(world.kpi, last_week(), 42)  # so the cycle has work: several requests
    workspace_id = world.ws.id

    def sync(_i: int) -> tuple[str, int]:
        run = service.run_sync(workspace_id, trigger="cli")
        return run.state, run.pushed > 0

    results = in_threads(app, 2, sync)
    assert sorted(results) == [(RunState.DONE, True), (RunState.SKIPPED, False)]
    assert_one_cycle_at_a_time(requests_by_thread)
    assert connection_of(world.ws).lock_token is None


def test_unknown_runners_and_rq_without_redis_are_refused_at_startup():
    with pytest.raises(RuntimeError, match="HUB_SYNC_RUNNER must be one of"):
        create_app({"TESTING": True, "HUB_SYNC_RUNNER": "celery"})
    with pytest.raises(RuntimeError, match="needs REDIS_URL"):
        create_app({"TESTING": True, "HUB_SYNC_RUNNER": "rq", "REDIS_URL": None})


# --- RQ --------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    """HUB_TEST_REDIS_URL, answering; skipped without it (failed in CI when it is down)."""
    if not REDIS_URL:
        pytest.skip("set HUB_TEST_REDIS_URL to run the RQ tests")
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL).ping()
    except RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis must answer in CI: {REDIS_URL}: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def rq_queue(app, redis_url, monkeypatch) -> Iterator[object]:
    """The app on the "rq" runner, with a queue of this test's own (emptied after)."""
    monkeypatch.setitem(app.config, "HUB_SYNC_RUNNER", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setattr(jobs, "QUEUE", f"hub-sync-test-{uuid.uuid4().hex[:12]}")
    queue = jobs.sync_queue()
    yield queue
    drop_queue(queue)


def drop_queue(queue) -> None:
    """Delete a test queue with its jobs, their results and its registries."""
    redis = queue.connection
    registries = (queue.finished_job_registry, queue.failed_job_registry)
    for job_id in {*queue.job_ids, *(i for r in registries for i in r.get_job_ids())}:
        redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
    queue.delete(delete_jobs=True)
    for key in redis.scan_iter(f"*{queue.name}*"):
        redis.delete(key)


class QuietWorker(Worker):
    """RQ's worker without its command channel (kill, stop), which a burst worker does
    not need: one that ends before Redis confirmed the subscription waits 60 s to stop."""

    def subscribe(self) -> None:
        self.pubsub = self.pubsub_thread = None


class ThreadWorker(SimpleWorker):
    """An in-process RQ worker that can run in any thread."""

    death_penalty_class = TimerDeathPenalty
    subscribe = QuietWorker.subscribe

    def _install_signal_handlers(self) -> None:
        pass  # only the main thread may install them, and pytest owns those


def rq_worker(queue) -> ThreadWorker:
    return ThreadWorker([queue], connection=queue.connection)


def test_rq_runner_only_enqueues_and_a_worker_runs_the_job(world, make, rq_queue):
    make.value(world.kpi, last_week(), 42)
    run = service.request_sync(world.ws, trigger="manual")
    assert run.state == RunState.QUEUED
    assert rq_queue.count == 1
    assert world.fake.log == []  # the web tier asked Google nothing
    assert rq_worker(rq_queue).work(burst=True)
    run = wait_for(run.id, timeout=0)
    assert (run.state, run.pushed > 0) == (RunState.DONE, True), run.message


def test_two_rq_workers_on_one_queue_never_overlap(world, make, app, rq_queue, requests_by_thread):
    make.value(world.kpi, last_week(), 42)
    runs = [SyncRun(workspace_id=world.ws.id, trigger="manual") for _ in range(2)]
    db.session.add_all(runs)
    db.session.commit()
    for run in runs:
        jobs.enqueue(run)
    assert rq_queue.count == 2
    in_threads(app, 2, lambda _i: rq_worker(rq_queue).work(burst=True, max_jobs=1))
    states = sorted(wait_for(run.id, timeout=0).state for run in runs)
    assert states == [RunState.DONE, RunState.SKIPPED]
    assert_one_cycle_at_a_time(requests_by_thread)


def test_an_rq_worker_process_builds_its_own_app(world, make, rq_queue, redis_url):
    """The production path: `rq worker` in another process, the app from the environment,
    Google (the fake) over HTTP."""
    served = serve(world.fake)
    try:
        make.value(world.kpi, last_week(), 42)
        run = service.request_sync(world.ws, trigger="manual")
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "HUB_GOOGLE_API_URL": served.url,
            "HUB_SHEETS_QUOTA": "1000000",
            "GOOGLE_APPLICATION_CREDENTIALS": "",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        rq = Path(sys.executable).with_name("rq")
        worker = f"{QuietWorker.__module__}.{QuietWorker.__qualname__}"
        done = subprocess.run(  # noqa: S603 - our own venv's rq, fixed arguments
            [str(rq), "worker", "--burst", "-w", worker, "--url", redis_url, rq_queue.name],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        run = wait_for(run.id, timeout=0)
        assert (run.state, run.pushed > 0) == (RunState.DONE, True), (run.message, done.stderr)
    finally:
        served.stop()


# --- with and without Redis ------------------------------------------------------------


def test_a_sync_started_through_the_api_runs_where_the_environment_says(
    world, make, app, client, monkeypatch
):
    """The runner production would pick from this environment: the embedded thread
    without REDIS_URL, RQ jobs with it (CI runs this both ways)."""
    settings = from_environment(app.instance_path)
    monkeypatch.setitem(app.config, "HUB_SYNC_RUNNER", settings["HUB_SYNC_RUNNER"])
    monkeypatch.setitem(app.config, "REDIS_URL", settings["REDIS_URL"])
    queue = None
    if settings["HUB_SYNC_RUNNER"] == "rq":
        monkeypatch.setattr(jobs, "QUEUE", f"hub-sync-test-{uuid.uuid4().hex[:12]}")
        queue = jobs.sync_queue()
    try:
        make.value(world.kpi, last_week(), 42)
        token = issue_api_token(world.owner)
        db.session.commit()
        response = client.post(
            "/api/v1/workspaces/acme/sync", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 202
        run_id = response.json["sync"]["id"]
        if queue is not None:
            assert response.json["sync"]["state"] == RunState.QUEUED
            assert rq_worker(queue).work(burst=True)
        run = wait_for(run_id)
        if queue is None:
            wait_for_thread_runner()
        assert (run.state, run.pushed > 0) == (RunState.DONE, True), run.message
        cell = sheet_cell(world.fake, world.sid, "K1", last_week())
        assert world.fake.value(world.sid, "Weekly KPIs", cell) == 42
    finally:
        if queue is not None:
            drop_queue(queue)

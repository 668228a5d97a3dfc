"""Time of one Google Sheets sync cycle, and the API calls it makes, on a large sheet.

Run with `make bench` (after bench/pages.py). Builds a throw-away SQLite database (or uses
DATABASE_URL) with a `kpi`-mode workspace of 500 weekly KPIs, connects it to the project's
in-process fake of Google (tests/fake_google, reached through the real gspread client) and
fills its `Weekly KPIs` tab: 52 period columns. Then, for each measured cycle, changes 1 %
of the value cells in the sheet (a person pasting numbers) and another 1 % in the app (web
edits), outside the timed part, and times `hub.sync.service.run_sync`.

"Excluding network": the fake runs in this process, so its work (answering, copying the
spreadsheet on every write) is inside a cycle's wall time. Every request is timed where it
leaves the client (the requests transport adapter, the part a network call replaces) and
inside the fake's handler; the cycle minus the transport time is the app's own work: the
database, the merge, gspread, JSON, the quota limiter.

Also times the unchanged cycle; checks the API calls of both against SHEETS.md's budget
(unchanged: 1 Drive call, 0 Sheets calls; changed: at most 2 reads and 2 writes, and the
Drive check plus one version check after the write), that every change reached the other
side and that both sides hold the same values at the end; exits non-zero when a check
fails. A median over the 1 s target is reported, not failed (machines differ).
BENCH_SYNC_PROFILE=1 prints a cProfile of the last changed cycle; BENCH_SYNC_PROFILE=FILE
also saves it there.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

KPIS = int(os.environ.get("BENCH_SYNC_KPIS", "500"))
WEEKS = 52  # period columns of the weekly tab
RUNS = int(os.environ.get("BENCH_SYNC_RUNS", "7"))
SHARE = 0.01  # of the value cells, changed on each side before every measured cycle
FILLED = 0.95  # of the value cells holding a value before the measured cycles
TARGET_MS = 1000.0  # median of a changed cycle, excluding the network
UNCHANGED_BUDGET = {"drive": 1, "reads": 0, "writes": 0}  # exactly this
CHANGED_BUDGET = {"drive": 2, "reads": 2, "writes": 2}  # at most this
TAB = "Weekly KPIs"


class Stopwatch:
    """Time spent inside the wrapped calls, summed until reset."""

    def __init__(self) -> None:
        self.seconds = self.cpu = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.cpu += time.process_time() - cpu

        return timed

    def reset(self) -> None:
        self.seconds = self.cpu = 0.0


@dataclass
class Cycle:
    """One timed cycle: wall time, where it went, and what it did."""

    total_ms: float
    transport_ms: float  # inside the requests adapter: the fake and the in-process plumbing
    handler_ms: float  # inside the fake's handler only
    cpu_ms: float  # CPU time of this process (steadier than wall time on a busy machine)
    transport_cpu_ms: float
    queries: int
    calls: dict[str, int]
    state: str
    pulled: int
    pushed: int
    conflicts: int
    problems: int

    @property
    def app_ms(self) -> float:
        """The cycle without the fake: what remains when Google is across a network."""
        return self.total_ms - self.transport_ms

    @property
    def app_cpu_ms(self) -> float:
        return self.cpu_ms - self.transport_cpu_ms


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-sync-"))
    os.environ.setdefault("SECRET_KEY", "bench")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url

    import requests
    from flask_migrate import upgrade

    from hub import create_app
    from hub.extensions import db
    from tests.fake_google import FakeGoogle, FakeGoogleAdapter

    fake = FakeGoogle(seed=11)
    transport, handler = Stopwatch(), Stopwatch()
    fake.handle = handler.wrap(fake.handle)  # type: ignore[method-assign]

    class TimedAdapter(FakeGoogleAdapter):
        send = transport.wrap(FakeGoogleAdapter.send)  # type: ignore[assignment]

    def session() -> requests.Session:
        """What fake.session() gives, with every request timed at the transport."""
        timed = requests.Session()
        adapter = TimedAdapter(fake.wsgi_app)
        for prefix in ("https://", "http://"):
            timed.mount(prefix, adapter)
        return timed

    # Cycles run in this thread, and Google's quota never makes one wait.
    app = create_app(
        {"HUB_SYNC_RUNNER": "inline", "HUB_SHEETS_QUOTA": 1_000_000, "HUB_SHEETS_SESSION": session}
    )
    with app.app_context():
        db.drop_all()
        upgrade(directory=app.extensions["migrate"].directory)
        bench = SyncBench(fake, transport, handler)
        bench.run(url)
    return 1 if bench.failures else 0


class SyncBench:
    def __init__(self, fake: Any, transport: Stopwatch, handler: Stopwatch) -> None:
        self.fake = fake
        self.transport = transport
        self.handler = handler
        self.rng = random.Random(7)  # noqa: S311 - a repeatable workload, not secrets
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)
            print(f"FAILED: {what}")

    def cycle(self, trigger: str = "interval") -> Cycle:
        """Run one cycle of the workspace now, and measure it."""
        from hub.sync import service
        from tests.querycount import count_queries

        self.fake.log.clear()
        self.transport.reset()
        self.handler.reset()
        with count_queries() as queries:
            start, cpu = time.perf_counter(), time.process_time()
            run = service.run_sync(self.workspace_id, trigger=trigger)
            total, cpu = time.perf_counter() - start, time.process_time() - cpu
        log = self.fake.log
        return Cycle(
            total * 1000,
            self.transport.seconds * 1000,
            self.handler.seconds * 1000,
            cpu * 1000,
            self.transport.cpu * 1000,
            queries.count,
            {"drive": log.drive, "reads": log.reads, "writes": log.writes},
            run.state,
            run.pulled,
            run.pushed,
            run.conflicts,
            run.problems,
        )

    # --- setting up -------------------------------------------------------------------
    def run(self, url: str) -> None:
        from hub.sync import layout, service

        owner, kpis = self.build_workspace()
        self.owner, self.kpis = owner, {kpi.key: kpi for kpi in kpis}
        self.sid = self.fake.create_spreadsheet("Sync bench", {"Sheet1": [[]]})
        start = time.perf_counter()
        run = service.connect(self.workspace, self.sid, user=owner)
        connect_ms = (time.perf_counter() - start) * 1000
        self.check(run.state == "done", f"connect: {run.state} {run.message}")
        self.periods = self.widen_tracking()
        filled = self.fill_values(kpis)
        # The fill was bulk-inserted behind the edit hook's back: ask for a full check.
        fill = self.cycle("manual")
        self.check(fill.state == "done", f"first fill: {fill.state}")
        after_fill = self.cycle()
        self.check(
            after_fill.calls == UNCHANGED_BUDGET, f"cycle after the fill: {after_fill.calls}"
        )
        self.locate_cells()

        cells = len(self.kpis) * len(self.periods)
        per_side = round(cells * SHARE)
        print(
            f"Workspace: {len(self.kpis)} weekly KPIs × {len(self.periods)} weekly columns = "
            f"{cells:,} value cells ({filled:,} filled); per cycle {per_side} cells changed "
            f"in the sheet and {per_side} others in the app; {RUNS} cycles after a warm-up"
        )
        print(f"Database: {url.split(':', 1)[0]}; Python {sys.version.split()[0]}")
        print(
            f"Connect (tab made: {len(self.kpis)} rows, {layout.TRACKED_PERIODS + 1} periods): "
            f"{connect_ms:.0f} ms; first fill of {len(self.periods)} periods: "
            f"{fill.total_ms:.0f} ms, {fill.pushed:,} cells pushed in "
            f"{fill.calls['writes']} write"
        )

        changed, unchanged = [], []
        profile = os.environ.get("BENCH_SYNC_PROFILE", "")
        for number in range(RUNS + 1):
            typed, entered = self.change_both_sides(per_side)
            profiler = cProfile.Profile() if profile and number == RUNS else None
            if profiler:
                profiler.enable()
            cycle = self.cycle()
            if profiler:
                profiler.disable()
                self.print_profile(profiler, profile)
            self.check_changed(number, cycle, typed, entered, per_side)
            idle = self.cycle()
            self.check(idle.calls == UNCHANGED_BUDGET, f"unchanged cycle {number}: {idle.calls}")
            if number:  # the first pair warms caches up
                changed.append(cycle)
                unchanged.append(idle)
        self.check_converged()
        self.report(changed, unchanged)

    def build_workspace(self) -> tuple[Any, list[Any]]:
        """A `kpi`-mode workspace of weekly KPIs: a third each up, down and range."""
        from hub.domain import workspaces
        from hub.extensions import db
        from hub.models import Goal, Kpi
        from tests.factories import Factory

        owner = Factory().user("bench@example.com")
        workspace = workspaces.create_workspace(
            workspaces.WorkspaceSettings(name="Sync bench", slug="sync-bench", mode="kpi"), owner
        )
        goals = [Goal(workspace=workspace, title=f"Goal {n + 1}", position=n) for n in range(4)]
        db.session.add_all(goals)
        bounds = [
            {"green_min": Decimal(100), "red_min": Decimal(90)},
            {"green_max": Decimal(100), "red_max": Decimal(110)},
            {
                "green_min": Decimal(95),
                "green_max": Decimal(105),
                "red_min": Decimal(85),
                "red_max": Decimal(115),
            },
        ]
        kpis = [
            Kpi(
                workspace=workspace,
                key=f"K{n + 1}",
                name=f"Metric {n + 1}",
                goal=goals[n % 4],
                owner=owner,
                cadence="weekly",
                direction=("up", "down", "range")[n % 3],
                decimals=1,
                position=n,
                **bounds[n % 3],
            )
            for n in range(KPIS)
        ]
        workspace.next_kpi_number = KPIS + 1
        db.session.add_all(kpis)
        db.session.commit()
        self.workspace, self.workspace_id = workspace, workspace.id
        return owner, kpis

    def widen_tracking(self) -> list[str]:
        """Move the connection's tracking start back so the tab has WEEKS period columns
        (12 before the connection's week, the connection's, and the ones since)."""
        from hub.domain.periods import local_today
        from hub.extensions import db
        from hub.sync import layout, service

        connection = service.connection_of(self.workspace)
        connection.tracking_start -= timedelta(weeks=WEEKS - layout.TRACKED_PERIODS - 1)
        db.session.commit()
        today = local_today(self.workspace.time_zone)
        periods = layout.periods_of(self.workspace, "weekly", connection.tracking_start, today)
        self.check(len(periods) == WEEKS, f"{len(periods)} period columns, not {WEEKS}")
        return periods

    def fill_values(self, kpis: list[Any]) -> int:
        """Values for most (KPI, period) cells, inserted in bulk with their history."""
        from sqlalchemy import insert

        from hub.domain.periods import Cadence, parse_period
        from hub.extensions import db
        from hub.models import KpiValue, ValueChange
        from hub.models.base import utcnow

        now = utcnow()
        starts = {key: parse_period(key, Cadence.WEEKLY).start for key in self.periods}
        values, history = [], []
        for kpi in kpis:
            level = 100.0
            for key in self.periods:
                level += self.rng.uniform(-3, 3)
                if self.rng.random() >= FILLED:
                    continue
                value = Decimal(f"{level:.1f}")
                common = {"kpi_id": kpi.id, "period_key": key, "source": "web", "source_ref": ""}
                values.append(
                    {**common, "period_start": starts[key], "value": value, "updated_at": now}
                )
                history.append({**common, "old_value": None, "new_value": value, "created_at": now})
        db.session.execute(insert(KpiValue), values)
        db.session.execute(insert(ValueChange), history)
        db.session.commit()
        return len(values)

    def locate_cells(self) -> None:
        """Where each KPI's row and each period's column are in the sheet, as filled."""
        grid = self.fake.values(self.sid, TAB)
        header = grid[0]
        self.column_of = {key: header.index(key) for key in self.periods}
        self.row_of = {line[0]: index for index, line in enumerate(grid) if index and line}
        self.check(set(self.row_of) == set(self.kpis), f"{len(self.row_of)} KPI rows in the sheet")

    # --- one measured cycle -------------------------------------------------------------
    def change_both_sides(
        self, per_side: int
    ) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
        """A person pastes `per_side` numbers into the sheet (one change of the
        spreadsheet); people edit `per_side` other values in the app."""
        from hub.domain.values import set_value
        from hub.extensions import db
        from hub.sync.cells import column_letters

        everything = [(key, period) for key in self.kpis for period in self.periods]
        chosen = self.rng.sample(everything, 2 * per_side)
        first = self.column_of[self.periods[0]]
        block: list[list[Any]] = [[None] * len(self.periods) for _ in self.kpis]
        typed = {}
        for key, period in chosen[:per_side]:
            value = Decimal(self.rng.randrange(100, 300_000)) / 100
            typed[(key, period)] = value
            # One in five typed with a thousands separator, as people do ("1,234.50").
            text = f"{value:,.2f}" if self.rng.random() < 0.2 else str(value)
            block[self.row_of[key] - 1][self.column_of[period] - first] = text
        self.fake.type_rows(self.sid, TAB, f"{column_letters(first)}2", block)
        entered = {}
        for key, period in chosen[per_side:]:
            value = Decimal(self.rng.randrange(100, 300_000)) / 100
            entered[(key, period)] = value
            set_value(self.kpis[key], period, value, source="web", user=self.owner)
        db.session.commit()
        return typed, entered

    def check_changed(
        self,
        number: int,
        cycle: Cycle,
        typed: dict[tuple[str, str], Decimal],
        entered: dict[tuple[str, str], Decimal],
        per_side: int,
    ) -> None:
        """Within the budget, nothing refused, and each change reached the other side."""
        from hub.sync.cells import column_letters

        name = f"changed cycle {number}"
        self.check(cycle.state == "done", f"{name}: {cycle.state}")
        within = all(cycle.calls[kind] <= most for kind, most in CHANGED_BUDGET.items())
        self.check(within, f"{name}: {calls_text(cycle.calls)}, over the budget")
        self.check(cycle.pulled == per_side, f"{name}: pulled {cycle.pulled}, not {per_side}")
        # Pushed: the app's edits, and the Status of rows whose latest value changed.
        self.check(cycle.pushed >= per_side, f"{name}: pushed {cycle.pushed} < {per_side}")
        self.check(
            cycle.conflicts == 0 and cycle.problems == 0,
            f"{name}: {cycle.conflicts} conflicts, {cycle.problems} problems",
        )
        current = self.app_values()
        lost = [cell for cell, value in typed.items() if current.get(cell) != value]
        self.check(not lost, f"{name}: {len(lost)} sheet values are not in the app")
        lost = [
            (key, period)
            for (key, period), value in entered.items()
            if as_decimal(
                self.fake.value(
                    self.sid,
                    TAB,
                    f"{column_letters(self.column_of[period])}{self.row_of[key] + 1}",
                )
            )
            != value
        ]
        self.check(not lost, f"{name}: {len(lost)} app values are not in the sheet")

    def app_values(self) -> dict[tuple[str, str], Decimal]:
        from sqlalchemy import select

        from hub.extensions import db
        from hub.models import Kpi, KpiValue

        db.session.expire_all()
        return {
            (key, period): value
            for key, period, value in db.session.execute(
                select(Kpi.key, KpiValue.period_key, KpiValue.value)
                .join(KpiValue, KpiValue.kpi_id == Kpi.id)
                .where(Kpi.workspace_id == self.workspace_id)
            )
        }

    def check_converged(self) -> None:
        """Every value cell of the sheet holds the app's value for it."""
        sheet = self.fake.values(self.sid, TAB, "UNFORMATTED_VALUE")
        current = self.app_values()
        differ = 0
        for key, row in self.row_of.items():
            line = sheet[row]
            for period, column in self.column_of.items():
                seen = as_decimal(line[column] if column < len(line) else None)
                differ += seen != current.get((key, period))
        self.check(differ == 0, f"{differ} value cells differ between the sheet and the app")

    # --- reporting -------------------------------------------------------------------------
    def print_profile(self, profiler: cProfile.Profile, where: str) -> None:
        if where != "1":
            profiler.dump_stats(where)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())

    def report(self, changed: list[Cycle], unchanged: list[Cycle]) -> None:
        print()
        print(
            f"{'cycle':42} {'median ms':>10} {'max ms':>8} {'CPU ms':>8} {'queries':>8}  API calls"
        )
        lines: list[tuple[str, list[float], list[float], list[Cycle] | None]] = [
            (
                "changed: excluding the fake (network)",
                [c.app_ms for c in changed],
                [c.app_cpu_ms for c in changed],
                changed,
            ),
            (
                "changed: total, fake in process",
                [c.total_ms for c in changed],
                [c.cpu_ms for c in changed],
                None,
            ),
            (
                "  of which in the fake's transport",
                [c.transport_ms for c in changed],
                [c.transport_cpu_ms for c in changed],
                None,
            ),
            ("  of which in the fake's handler", [c.handler_ms for c in changed], [], None),
            (
                "unchanged: total",
                [c.total_ms for c in unchanged],
                [c.cpu_ms for c in unchanged],
                unchanged,
            ),
        ]
        for name, timings, cpu, cycles in lines:
            extra = ""
            if cycles:
                queries = statistics.median(c.queries for c in cycles)
                extra = f"{queries:8.0f}  {calls_text(most_calls(cycles))}"
            cpu_text = f"{statistics.median(cpu):8.1f}" if cpu else f"{'':8}"
            print(
                f"{name:42} {statistics.median(timings):10.1f} {max(timings):8.1f} "
                f"{cpu_text} {extra}"
            )
        app = statistics.median(c.app_ms for c in changed)
        app_cpu = statistics.median(c.app_cpu_ms for c in changed)
        total = statistics.median(c.total_ms for c in changed)
        print()
        print(
            f"Changed cycle excluding network: median {app:.0f} ms "
            f"({app / TARGET_MS:.2f}× the {TARGET_MS:.0f} ms target; {app_cpu:.0f} ms of CPU); "
            f"the fake is {1 - app / total:.0%} of the total. Each pulled "
            f"{changed[-1].pulled}, pushed {changed[-1].pushed}, conflicts "
            f"{changed[-1].conflicts}."
        )
        print(
            f"API calls per cycle: unchanged {calls_text(most_calls(unchanged))} "
            f"(budget 1 Drive, 0 Sheets); changed {calls_text(most_calls(changed))} "
            "(budget ≤ 2 reads + ≤ 2 writes)"
        )
        if app > TARGET_MS:
            print(f"OVER TARGET: the median changed cycle took {app:.0f} ms (target < 1 s).")
        if self.failures:
            print(f"{len(self.failures)} checks failed:")
            for failure in self.failures:
                print(f"  {failure}")


def as_decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def calls_text(calls: dict[str, int]) -> str:
    return f"{calls['drive']} Drive, {calls['reads']} reads, {calls['writes']} writes"


def most_calls(cycles: list[Cycle]) -> dict[str, int]:
    return {kind: max(c.calls[kind] for c in cycles) for kind in ("drive", "reads", "writes")}


if __name__ == "__main__":
    sys.exit(main())

"""Both sides converge, nothing typed is lost, and the API budget holds, whatever people,
the app and Google do in between (SHEETS.md §2 and §4).

A hypothesis state machine drives a `kpi`-mode workspace with four weekly KPIs connected to
a fresh fake sheet. Rules interleave what people do in the sheet (type numbers in several
spellings, clear cells or a whole column, type junk, insert/delete/move/sort whole rows,
rename or delete the tab, delete a period column), app edits through the domain
(`set_value`, set and clear), cycles with injected faults (429, 503, timeouts with or
without the write landing, a crash right after Google confirmed the write) and clean
cycles. It checks:

1. converged: every KPI row and period column holds the app's value in the sheet (junk text
   the app refused stays in the sheet, with an open import problem naming it);
2. nothing lost: every value set in the app, and every value a cycle read from the sheet,
   is the app's current value, in the value history, or in the conflict log;
3. budget: a clean cycle makes ≤ 2 Sheets reads and ≤ 2 writes (every try counted, as in
   the run's own counts); the cycle right after a converged one makes exactly one Drive
   call and no Sheets call;
4. structure: each KPI row exactly once (deleted rows are back, none duplicated), each
   period column once (a deleted one is back with the app's values), the tab found by its
   gid whatever its title (a deleted tab is made again, and only then gets a new gid);
5. who wins, cell by cell (§2's table, people's column): against the model's own bases, a
   value changed in the sheet wins, an unchanged or refused sheet cell takes the app's
   value, a deleted cell is restored from the app. The model's bases follow what each
   cycle is known to have done (finished: everything agreed; failed or crashed after its
   read: what came from the sheet was applied, what was to be written keeps its base).

Checks 1, 2, 4 and 5 run after every cycle that finished (clean or not), check 3 after
the clean ones. A guard rail pausing a clean cycle is answered as a person would, with
"apply the sheet anyway" or "restore the sheet from the app" (then the app wins every cell,
and what people typed is kept in the conflict log).

Example tests below cover the fault paths one by one. Google's retry backoff never
really sleeps here: `make_client` is wrapped so that the client records its sleeps.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from flask import Flask, current_app
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event, select

from hub.domain.accounts import create_user
from hub.domain.values import set_value
from hub.extensions import db
from hub.models import (
    ImportProblem,
    Kpi,
    KpiValue,
    RunState,
    SheetConnection,
    SyncConflict,
    SyncRun,
    User,
    ValueChange,
    Workspace,
)
from hub.sync import client as sheets
from hub.sync import service
from tests.factories import Factory
from tests.fake_google import FakeGoogle, LoggedRequest
from tests.fake_google.a1 import cell_name, column_letters

TAB = "weekly"
HOT = 3  # people and the app edit the newest periods only, so edits meet often
KPIS = (  # name, unit
    ("Revenue", "number"),
    ("Churn", "percent"),
    ("Signups", "number"),
    ("NPS", "number"),
)
JUNK = ("n/a", "TBD", "12 units", "1.234,5", "=1/0")
TAB_TITLES = ("KPIs", "Weekly numbers", "Q4 'wins'")
SETTINGS = settings(
    # More for a bug hunt: HUB_SYNC_FUZZ_EXAMPLES=500 HUB_SYNC_FUZZ_STEPS=30 (~10 minutes).
    max_examples=int(os.environ.get("HUB_SYNC_FUZZ_EXAMPLES", "30")),
    stateful_step_count=int(os.environ.get("HUB_SYNC_FUZZ_STEPS", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- the client


class Crash(BaseException):  # noqa: N818 - it stands for the process dying
    """The process died right after Google confirmed the write, before the bases moved."""


@dataclass
class Hooks:
    """How the wrapped `make_client` builds the next cycle's client."""

    sleeps: list[float] = field(default_factory=list)
    crash_after_write: bool = False
    before_write: Callable[[], None] | None = None  # a person typing between read and write


HOOKS = Hooks()


@pytest.fixture
def quick_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    """Clients that never really sleep between retries (and can crash after a write)."""
    real = sheets.make_client

    def make_client() -> sheets.SheetsClient:
        client = real()
        client.sleep = HOOKS.sleeps.append
        write = client.batch_update

        def batch_update(*args: Any, **kwargs: Any) -> dict[str, Any]:
            if HOOKS.before_write is not None:
                HOOKS.before_write()
            result = write(*args, **kwargs)
            if HOOKS.crash_after_write:
                raise Crash("the process died after the write")
            return result

        client.batch_update = batch_update  # type: ignore[method-assign]
        return client

    monkeypatch.setattr(sheets, "make_client", make_client)
    HOOKS.sleeps.clear()
    HOOKS.crash_after_write, HOOKS.before_write = False, None
    yield HOOKS
    HOOKS.crash_after_write, HOOKS.before_write = False, None


@pytest.fixture
def fast_sqlite(app: Flask) -> Iterator[None]:
    """SQLite without fsync for these tests: the sync commits often, durability is moot."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def no_fsync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    db.session.remove()
    engine.dispose()
    event.listen(engine, "connect", no_fsync)
    try:
        yield
    finally:
        db.session.remove()
        event.remove(engine, "connect", no_fsync)
        engine.dispose()


# ------------------------------------------------------------------------ the world


@dataclass(frozen=True)
class Junk:
    """A cell holding text that is no number (the app must refuse it)."""

    text: str


class _Missing:
    """A cell whose row or column is not in the sheet."""

    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()
Meaning = Decimal | Junk | None
CellKey = tuple[str, str]  # (KPI key, period key)


@dataclass
class Layout:
    """Where things are in the tab right now (found as the sync finds them)."""

    headers: dict[str, list[int]]  # header text → columns holding it
    rows: dict[str, list[int]]  # ID → rows holding it

    def column(self, header: str) -> int | None:
        found = self.headers.get(header)
        return found[0] if found else None

    def row(self, key: str) -> int | None:
        found = self.rows.get(key)
        return found[0] if found else None


@dataclass
class Cycle:
    """One sync cycle as Google saw it."""

    run: SyncRun | None
    log: list[LoggedRequest]

    def count(self, kind: str) -> int:
        return sum(1 for r in self.log if r.kind == kind)

    @property
    def grid_read(self) -> bool:
        """The cycle read the tab's values (a spreadsheets.get with grid data succeeded)."""
        return any(
            r.op == "spreadsheets.get"
            and r.fault is None
            and r.status == 200
            and r.query.get("includeGridData") == ["true"]
            for r in self.log
        )

    def describe(self) -> str:
        run = f"{self.run.state}: {self.run.message}" if self.run else "crashed"
        calls = [r.op + (f"!{r.fault}" if r.fault else "") for r in self.log]
        return f"{run} {calls}"


@dataclass
class World:
    """A kpi-mode workspace with its weekly KPIs, connected to a fresh fake sheet."""

    fake: FakeGoogle
    owner: User
    workspace: Workspace
    kpis: dict[str, Kpi]
    sid: str
    gid: int
    periods: list[str]
    # Texts people typed that Sheets kept as text but that mean a number (say "(500)").
    texts: dict[str, Decimal] = field(default_factory=dict)

    @property
    def hot(self) -> list[str]:
        return self.periods[-HOT:]

    def cells(self) -> list[CellKey]:
        return [(key, period) for key in self.kpis for period in self.periods]

    # -- the sheet ---------------------------------------------------------------
    def has_tab(self) -> bool:
        return any(t.sheet_id == self.gid for t in self.fake.book(self.sid).sheets)

    def layout(self) -> Layout:
        """Headers and IDs as the sync finds them (formatted, stripped; first one wins)."""
        if not self.has_tab():
            return Layout({}, {})
        book = self.fake.book(self.sid)
        tab = book.sheet(self.gid)

        def shown(row: int, col: int) -> str:
            return str(book.render(tab, row, col, "FORMATTED_VALUE", "SERIAL_NUMBER") or "").strip()

        headers: dict[str, list[int]] = defaultdict(list)
        for col in sorted(tab.rows[0] if tab.rows else {}):
            if shown(0, col):
                headers[shown(0, col)].append(col)
        rows: dict[str, list[int]] = defaultdict(list)
        id_col = headers.get("ID", [None])[0]
        for index in range(1, len(tab.rows)):
            if id_col is not None and id_col in tab.rows[index] and shown(index, id_col):
                rows[shown(index, id_col)].append(index)
        return Layout(dict(headers), dict(rows))

    def a1(self, layout: Layout, key: str, header: str) -> str | None:
        row, col = layout.row(key), layout.column(header)
        if row is None or col is None:
            return None
        return cell_name(row, col)

    def sheet_values(self) -> dict[CellKey, Meaning]:
        """What every managed value cell present in the sheet means."""
        layout = self.layout()
        if not layout.headers:
            return {}
        book = self.fake.book(self.sid)
        tab = book.sheet(self.gid)
        found: dict[CellKey, Meaning] = {}
        for key, kpi in self.kpis.items():
            row = layout.row(key)
            if row is None:
                continue
            for period in self.periods:
                col = layout.column(period)
                if col is not None:
                    found[(key, period)] = self.meaning(book.cell_data(tab, row, col), kpi.unit)
        return found

    def meaning(self, data: dict[str, Any], unit: str) -> Meaning:
        """A cell as a person reads it (independently of the sync's parser)."""
        effective = data.get("effectiveValue") or {}
        if "numberValue" in effective:
            number = Decimal(format(float(effective["numberValue"]), ".15g"))
            number_format = (data.get("effectiveFormat") or {}).get("numberFormat") or {}
            if number_format.get("type") == "PERCENT":
                assert unit == "percent", f"a % in a {unit} KPI's cell: {data}"
                number *= 100
            return number
        if "stringValue" in effective:
            text = effective["stringValue"]
            if not text.strip():
                return None
            return self.texts[text] if text in self.texts else Junk(text)
        if effective:  # an error or a checkbox
            return Junk(data.get("formattedValue", ""))
        return None

    # -- the app -----------------------------------------------------------------
    def app_values(self) -> dict[CellKey, Decimal]:
        db.session.expire_all()
        rows = db.session.execute(
            select(Kpi.key, KpiValue.period_key, KpiValue.value)
            .join(KpiValue, KpiValue.kpi_id == Kpi.id)
            .where(Kpi.workspace_id == self.workspace.id, KpiValue.period_key.in_(self.periods))
        )
        return {(key, period): value for key, period, value in rows}

    def open_problems(self) -> dict[CellKey, ImportProblem]:
        return {
            (p.row_key, p.column): p
            for p in db.session.scalars(
                select(ImportProblem).where(
                    ImportProblem.workspace_id == self.workspace.id,
                    ImportProblem.closed_at.is_(None),
                )
            )
        }

    def connection(self) -> SheetConnection:
        db.session.expire_all()
        connection = service.connection_of(self.workspace)
        assert connection is not None
        return connection

    def set(self, key: str, period: str, value: Decimal | None) -> None:
        set_value(self.kpis[key], period, value, source="web", user=self.owner)
        db.session.commit()

    # -- cycles ------------------------------------------------------------------
    def sync(self, action: Callable[[], SyncRun] | None = None) -> Cycle:
        start = len(self.fake.log)
        run = (action or (lambda: service.run_sync(self.workspace.id)))()
        return Cycle(run, list(self.fake.log[start:]))

    def resume(self, choice: str = "apply") -> Cycle:
        return self.sync(lambda: service.resume(self.workspace, choice, user=self.owner))


_owners = itertools.count(1)


def build_world(fake: FakeGoogle) -> World:
    """Four weekly KPIs (one in percent), a few values, connected to a fresh sheet."""
    make = Factory()
    owner = create_user(f"owner-{next(_owners)}@example.com")  # no password: no slow hash
    workspace = make.workspace(owner, mode="kpi")
    kpis = {}
    for name, unit in KPIS:
        kpi = make.kpi(workspace, name=name, cadence="weekly", unit=unit)
        kpis[kpi.key] = kpi
    sid = fake.create_spreadsheet("Client numbers", {"Sheet1": [[]]})
    run = service.connect(workspace, sid, user=owner)
    assert run.state == RunState.DONE, run.message
    connection = service.connection_of(workspace)
    gid = connection.tab(TAB).gid
    world = World(fake, owner, workspace, kpis, sid, gid, [])
    headers = world.layout().headers
    world.periods = sorted((h for h in headers if h[:2] == "20"), key=headers.__getitem__)
    assert len(world.periods) == 13, world.periods  # 12 weeks before this one, and this one
    return world


def empty_database() -> None:
    """As conftest does after every test: every table emptied."""
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


# ------------------------------------------------------------------- the invariants


def assert_converged(world: World) -> None:
    """Invariants 1 and 4: one row per KPI, every period column, the same values."""
    layout = world.layout()
    for key in world.kpis:
        assert len(layout.rows.get(key, [])) == 1, f"{key} is in rows {layout.rows.get(key)}"
    for header in ("ID", "KPI", *world.periods):
        assert len(layout.headers.get(header, [])) == 1, f"column {header}: {layout.headers}"
    tabs = world.fake.book(world.sid).sheets
    assert [t.sheet_id for t in tabs].count(world.gid) == 1
    assert len(tabs) == 2, f"the sync added a tab: {[t.title for t in tabs]}"
    connection = world.connection()
    assert connection.tab(TAB).gid == world.gid
    sheet, app, problems = world.sheet_values(), world.app_values(), world.open_problems()
    for cell in world.cells():
        seen = sheet[cell]
        if isinstance(seen, Junk):
            problem = problems.get(cell)
            assert problem is not None, f"{cell}: {seen} in the sheet, and no import problem"
            assert problem.text == seen.text, (cell, problem.text, seen)
            continue
        assert seen == app.get(cell), f"{cell}: sheet {seen}, app {app.get(cell)}"
        assert cell not in problems, f"{cell}: fixed, but {problems[cell].text!r} stays open"


def as_decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text not in (None, "") else None
    except InvalidOperation:
        return None


def assert_nothing_lost(world: World, ever: dict[CellKey, set[Decimal]]) -> None:
    """Invariant 2: every value ever set or seen is current, in history, or a conflict."""
    ids = {kpi.id: key for key, kpi in world.kpis.items()}
    app = world.app_values()
    kept: dict[CellKey, set[Decimal]] = defaultdict(set)
    for change in db.session.scalars(select(ValueChange).where(ValueChange.kpi_id.in_(ids))):
        for value in (change.old_value, change.new_value):
            if value is not None:
                kept[(ids[change.kpi_id], change.period_key)].add(value)
    for conflict in db.session.scalars(
        select(SyncConflict).where(SyncConflict.workspace_id == world.workspace.id)
    ):
        for text in (conflict.sheet_value, conflict.app_value):
            value = as_decimal(text)
            if value is not None:
                kept[(conflict.row_key, conflict.column)].add(value)
    for cell, values in ever.items():
        for value in values:
            assert value == app.get(cell) or value in kept[cell], (
                f"{value} of {cell} was lost: app {app.get(cell)}, kept {sorted(kept[cell])}"
            )


def assert_within_budget(cycle: Cycle) -> None:
    """Invariant 3 for a cycle without faults."""
    assert not any(r.fault for r in cycle.log), cycle.describe()
    assert cycle.count("read") <= 2, cycle.describe()
    assert cycle.count("write") <= 2, cycle.describe()
    assert cycle.count("drive") <= 2, cycle.describe()
    assert not any(r.op == "values.append" for r in cycle.log)
    run = cycle.run
    assert run is not None
    assert (run.drive_calls, run.read_calls, run.write_calls) == (
        cycle.count("drive"),
        cycle.count("read"),
        cycle.count("write"),
    ), cycle.describe()


def assert_quiet(cycle: Cycle) -> None:
    """Invariant 3: after a converged cycle, one Drive call and no Sheets call."""
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert [r.op for r in cycle.log] == ["files.get"], cycle.describe()
    assert (cycle.run.pulled, cycle.run.pushed, cycle.run.conflicts) == (0, 0, 0)


# ---------------------------------------------------------------- the state machine

values = st.one_of(
    st.sampled_from([Decimal(0), Decimal(1), Decimal(12), Decimal("1234.5")]),
    st.builds(
        lambda n, places: Decimal(n).scaleb(-places), st.integers(0, 99_999), st.integers(0, 2)
    ),
)
FAULTS = (
    "429 read",
    "429 write",
    "503 drive",
    "503 read x5",
    "503 write x5",
    "timeout after write",
    "timeout before write",
)
FORMS = ("plain", "number", "grouped", "nbsp", "percent", "brackets", "minus", "k", "formula")


def spell(value: Decimal, form: str, unit: str) -> tuple[Any, Decimal]:
    """What a person types for `value` in `form`, and the number it means."""
    if form == "number":
        return float(value), value
    if form == "grouped":
        return f"{value:,}", value
    if form == "nbsp":
        return f"\u00a0{value}\u00a0", value
    if form == "percent" and unit == "percent":
        return f"{value}%", value
    if form == "brackets" and value:
        return f"({value})", -value
    if form == "minus" and value:
        return f"\u2212{value}", -value
    if form == "k" and unit == "number" and value < 1000:
        return f"{value}k", value * 1000
    if form == "formula":
        return f"={value}*1", value
    return str(value), value


CYCLE_STEPS = {"sync_with_fault", "sync_with_work_and_fault", "crash_after_write", "clean_sync"}


def guarded(step: Callable[..., None]) -> Callable[..., None]:
    """A step that, when it fails, leaves the machine `broken` (no final check then)."""

    @functools.wraps(step)
    def run(self: SyncMachine, **kwargs: Any) -> None:
        self.broken = True
        if step.__name__ not in CYCLE_STEPS:
            self.dirty = True  # something may have changed on one side
        step(self, **kwargs)
        self.broken = False

    return run


class SyncMachine(RuleBasedStateMachine):
    """People, the app and Google in any order; see the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeGoogle()
        current_app.config["HUB_SHEETS_SESSION"] = self.fake.session
        self.broken = True  # until __init__, and then each step, finishes
        self.dirty = True
        self.tab_deleted = False
        self.choice = "apply"  # or "restore", while resuming a paused cycle that way
        self.world = world = build_world(self.fake)
        for (key, back), value in {("K1", 1): "120", ("K2", 1): "12.5", ("K3", 2): "7"}.items():
            world.set(key, world.periods[-back], Decimal(value))
        # Every value set in the app or read by the sync from the sheet (invariant 2).
        self.ever: dict[CellKey, set[Decimal]] = defaultdict(set)
        for cell, value in world.app_values().items():
            self.ever[cell].add(value)
        # The model's own bases: what both sides last agreed on, per cell (§2), kept from
        # what each cycle is known to have done; never read from the app's bases.
        self.base: dict[CellKey, Decimal | None] = {}
        self.sync_and_check()
        self.broken = False

    def teardown(self) -> None:
        try:
            if not self.broken:
                self.broken = True
                self.clean_sync()
        finally:
            current_app.config.pop("HUB_SHEETS_SESSION", None)
            empty_database()

    # -- the model -----------------------------------------------------------------------
    def key(self, index: int) -> str:
        keys = list(self.world.kpis)
        return keys[index % len(keys)]

    def expected(
        self, sheet: dict[CellKey, Meaning], app: dict[CellKey, Decimal]
    ) -> dict[CellKey, tuple[Decimal | None, str]]:
        """§2's table for value cells (people's column: the sheet wins), with the reason."""
        out = {}
        for cell in self.world.cells():
            seen = sheet.get(cell, MISSING)
            if self.choice == "restore":
                out[cell] = (app.get(cell), "the sheet restored from the app")
            elif seen is MISSING:
                out[cell] = (app.get(cell), "row or column deleted in the sheet: restored")
            elif isinstance(seen, Junk):
                out[cell] = (app.get(cell), f"{seen} refused: the app keeps its value")
            elif seen == self.base.get(cell, MISSING):
                out[cell] = (app.get(cell), "unchanged in the sheet: the app's value")
            else:
                out[cell] = (seen, "changed in the sheet: it wins")
        return out

    def after_cycle(
        self, sheet: dict[CellKey, Meaning], app: dict[CellKey, Decimal], cycle: Cycle
    ) -> None:
        """Update the model from what the cycle did; check it when it finished."""
        run = cycle.run
        read = cycle.grid_read and (run is None or run.state != RunState.PAUSED)
        if read:  # what the sync read is the app's (or in its record) from now on
            for cell, seen in sheet.items():
                if isinstance(seen, Decimal):
                    self.ever[cell].add(seen)
        if run is not None and run.state == RunState.DONE:
            assert_converged(self.world)
            assert_nothing_lost(self.world, self.ever)
            after = self.world.app_values()
            if self.base:  # (the first cycle has nothing to compare)
                for cell, (value, why) in self.expected(sheet, app).items():
                    assert after.get(cell) == value, (
                        f"{cell}: {why}; base {self.base.get(cell)}, sheet "
                        f"{sheet.get(cell, MISSING)}, app {app.get(cell)} → {after.get(cell)}, "
                        f"expected {value}"
                    )
            for cell in self.world.cells():
                # A refused cell keeps its base (unless the sheet was restored from the app).
                if self.choice == "restore" or not isinstance(sheet.get(cell), Junk):
                    self.base[cell] = after.get(cell)
        elif read:
            # Failed or crashed after reading: what came from the sheet was applied (and its
            # base advanced) before the write; what was to be written keeps its base.
            for cell, seen in sheet.items():
                if not isinstance(seen, Junk) and seen != self.base.get(cell, MISSING):
                    self.base[cell] = seen

    def sync_and_check(self, cycle: Callable[[], Cycle] | None = None) -> Cycle:
        world = self.world
        sheet, app = world.sheet_values(), world.app_values()
        done = (cycle or world.sync)()
        gid = world.connection().tab(TAB).gid
        if gid != world.gid:  # a deleted tab is made again (with a new gid), nothing else
            assert self.tab_deleted, f"the tab's gid went from {world.gid} to {gid}"
            world.gid = gid
        if world.has_tab():
            self.tab_deleted = False
        self.after_cycle(sheet, app, done)
        if done.run is not None and done.run.state == RunState.DONE:
            self.dirty = False
        return done

    # -- people in the sheet -------------------------------------------------------------
    @rule(k=st.integers(0, 3), p=st.integers(0, HOT - 1), value=values, form=st.sampled_from(FORMS))
    @guarded
    def type_number(self, k: int, p: int, value: Decimal, form: str) -> None:
        self._type(k, p, value, form)

    def _type(self, k: int, p: int, value: Decimal, form: str) -> None:
        world = self.world
        key, period = self.key(k), world.hot[p]
        where = world.a1(world.layout(), key, period)
        if where is None:
            return
        typed, meant = spell(value, form, world.kpis[key].unit)
        world.fake.type(world.sid, world.gid, where, typed)
        stored = world.fake.cell(world.sid, world.gid, where)
        effective = stored.get("effectiveValue") or {}
        if "stringValue" in effective:
            world.texts[effective["stringValue"]] = meant
        elif stored.get("effectiveFormat", {}).get("numberFormat", {}).get("type") == "PERCENT":
            if not str(typed).endswith("%"):
                # The cell kept the % format of an earlier "12%": Sheets shows 1 as 100 %.
                meant *= 100
        assert world.sheet_values()[(key, period)] == meant, (typed, stored)

    @rule(
        k=st.integers(0, 3),
        p=st.integers(0, HOT - 1),
        typed=values,
        form=st.sampled_from(FORMS),
        value=st.none() | values,
    )
    @guarded
    def edit_both_sides(
        self, k: int, p: int, typed: Decimal, form: str, value: Decimal | None
    ) -> None:
        """The same cell changed in the sheet and in the app before a cycle (a conflict)."""
        self._type(k, p, typed, form)
        self._app_edit(k, p, value)

    @rule(k=st.integers(0, 3), p=st.integers(0, HOT - 1), junk=st.sampled_from(JUNK))
    @guarded
    def type_junk(self, k: int, p: int, junk: str) -> None:
        world = self.world
        where = world.a1(world.layout(), self.key(k), world.hot[p])
        if where is not None:
            world.fake.type(world.sid, world.gid, where, junk)

    @rule(k=st.integers(0, 3), p=st.integers(0, HOT - 1))
    @guarded
    def clear_cell(self, k: int, p: int) -> None:
        world = self.world
        where = world.a1(world.layout(), self.key(k), world.hot[p])
        if where is not None:
            world.fake.type(world.sid, world.gid, where, "")

    @rule(p=st.integers(0, HOT - 1))
    @guarded
    def clear_column(self, p: int) -> None:
        """Someone selects a period's cells and presses Delete (a guard rail may pause)."""
        world = self.world
        layout = world.layout()
        for key in world.kpis:
            where = world.a1(layout, key, world.hot[p])
            if where is not None:
                world.fake.type(world.sid, world.gid, where, "")

    @rule(at=st.integers(2, 6), count=st.integers(1, 2))
    @guarded
    def insert_rows(self, at: int, count: int) -> None:
        if self.world.has_tab():
            self.world.fake.insert_rows(self.world.sid, self.world.gid, at, count)

    @rule(k=st.integers(0, 3))
    @guarded
    def delete_row(self, k: int) -> None:
        world = self.world
        row = world.layout().row(self.key(k))
        if row is not None:
            world.fake.delete_rows(world.sid, world.gid, row + 1)

    @rule(k=st.integers(0, 3), before=st.integers(2, 7))
    @guarded
    def move_row(self, k: int, before: int) -> None:
        world = self.world
        row = world.layout().row(self.key(k))
        if row is not None and before != row + 1:
            world.fake.move_rows(world.sid, world.gid, row + 1, 1, before)

    @rule(p=st.integers(0, HOT - 1), descending=st.booleans())
    @guarded
    def sort_rows(self, p: int, descending: bool) -> None:
        """Data → Sort range on whole rows (IDs move with their rows: harmless)."""
        world = self.world
        col = world.layout().column(world.hot[p])
        if col is not None:
            world.fake.sort_rows(
                world.sid, world.gid, column_letters(col), first_row=2, descending=descending
            )

    @rule(title=st.sampled_from(TAB_TITLES))
    @guarded
    def rename_tab(self, title: str) -> None:
        world = self.world
        if world.has_tab() and world.fake.tab(world.sid, world.gid).title != title:
            world.fake.rename_tab(world.sid, world.gid, title)

    @rule()
    @guarded
    def delete_tab(self) -> None:
        """Someone deletes the whole tab: the next push makes it again from the app."""
        world = self.world
        if world.has_tab():
            world.fake.delete_tab(world.sid, world.gid)
            self.tab_deleted = True

    @rule(p=st.integers(0, HOT))
    @guarded
    def delete_value_column(self, p: int) -> None:
        world = self.world
        col = world.layout().column(world.periods[-1 - p])
        if col is not None:
            world.fake.delete_columns(world.sid, world.gid, column_letters(col))

    # -- the app -------------------------------------------------------------------------
    @rule(k=st.integers(0, 3), p=st.integers(0, HOT - 1), value=st.none() | values)
    @guarded
    def app_edit(self, k: int, p: int, value: Decimal | None) -> None:
        self._app_edit(k, p, value)

    def _app_edit(self, k: int, p: int, value: Decimal | None) -> None:
        key, period = self.key(k), self.world.hot[p]
        self.world.set(key, period, value)
        if value is not None:
            self.ever[(key, period)].add(value)

    # -- cycles --------------------------------------------------------------------------
    @rule(fault=st.sampled_from(FAULTS))
    @guarded
    def sync_with_fault(self, fault: str) -> None:
        self._sync_with(fault)

    @precondition(lambda self: self.dirty)
    @rule(fault=st.sampled_from(FAULTS))
    @guarded
    def sync_with_work_and_fault(self, fault: str) -> None:
        """A fault in a cycle that has something to do (most faults miss an idle cycle)."""
        self._sync_with(fault)

    def _sync_with(self, fault: str) -> None:
        fake = self.world.fake
        status, _, rest = fault.partition(" ")
        match, _, times = rest.partition(" x")
        if status == "timeout":
            fake.timeout(after_write=match == "after write", match="write")
        else:
            fake.fail(int(status), match=match, retry_after=0, times=int(times or 1))
        cycle = self.sync_and_check()
        fake.faults.clear()  # a fault the cycle never reached (nothing to write) goes too
        if not times and status != "timeout":  # one 429/503, then success: the cycle goes on
            assert cycle.run.state in (RunState.DONE, RunState.PAUSED), cycle.describe()

    @precondition(lambda self: self.dirty)
    @rule()
    @guarded
    def crash_after_write(self) -> None:
        world = self.world

        def crashing() -> Cycle:
            start = len(world.fake.log)
            HOOKS.crash_after_write = True
            try:
                run = service.run_sync(world.workspace.id)
            except Crash:
                db.session.rollback()  # what the dead process had not committed is gone
                run = None
            finally:
                HOOKS.crash_after_write = False
            return Cycle(run, list(world.fake.log[start:]))

        self.sync_and_check(crashing)

    @rule(choice=st.sampled_from(["apply", "restore"]))
    @guarded
    def clean_sync(self, choice: str = "apply") -> None:
        world = self.world
        cycle = self.sync_and_check()
        assert_within_budget(cycle)
        if cycle.run.state == RunState.PAUSED:  # a guard rail: a person chooses what wins
            assert cycle.count("write") == 0, cycle.describe()
            self.choice = choice
            try:
                cycle = self.sync_and_check(lambda: world.resume(choice))
            finally:
                self.choice = "apply"
            assert_within_budget(cycle)
        assert cycle.run.state == RunState.DONE, cycle.describe()
        assert_quiet(world.sync())


def test_sheet_and_app_converge(app: Flask, fast_sqlite: None, quick_client: Hooks) -> None:
    run_state_machine_as_test(SyncMachine, settings=SETTINGS)


# ------------------------------------------------------------------ the fault paths


@pytest.fixture
def world(app: Flask, fast_sqlite: None, quick_client: Hooks, fake_google: FakeGoogle) -> World:
    """K1…K4 connected, with K1 = 120 in the newest week and K2 = 12.5 a week before."""
    fake = fake_google
    built = build_world(fake)
    built.set("K1", built.periods[-1], Decimal(120))
    built.set("K2", built.periods[-2], Decimal("12.5"))
    assert built.sync().run.state == RunState.DONE
    assert_converged(built)
    return built


def where(world: World, key: str, period: str) -> str:
    found = world.a1(world.layout(), key, period)
    assert found is not None, (key, period)
    return found


def conflicts(world: World) -> list[SyncConflict]:
    return list(
        db.session.scalars(
            select(SyncConflict).where(SyncConflict.workspace_id == world.workspace.id)
        )
    )


def test_an_unchanged_sheet_costs_one_drive_call(world: World) -> None:
    assert_quiet(world.sync())
    assert_quiet(world.sync())


@pytest.mark.parametrize("retry_after", [0, 2])
def test_a_429_is_retried_within_the_cycle(world: World, quick_client: Hooks, retry_after: int):
    week = world.periods[-1]
    world.fake.type(world.sid, world.gid, where(world, "K3", week), "1,234.5")
    world.fake.fail(429, match="read", retry_after=retry_after)
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert [r.fault for r in cycle.log if r.fault] == ["http-429"]
    assert cycle.count("read") == 3  # the throttled try, its retry, and the grid
    assert cycle.run.read_calls == 3  # every try counts against the quota
    assert len(quick_client.sleeps) == 1
    assert quick_client.sleeps[0] >= retry_after  # Retry-After honoured (never really slept)
    assert world.app_values()[("K3", week)] == Decimal("1234.5")
    assert_converged(world)
    assert_quiet(world.sync())


def test_a_503_on_every_try_fails_the_cycle_and_the_next_one_catches_up(
    world: World, quick_client: Hooks
) -> None:
    week = world.periods[-1]
    world.fake.type(world.sid, world.gid, where(world, "K3", week), "7")
    world.fake.fail(503, match="read", times=5)
    cycle = world.sync()
    assert cycle.run.state == RunState.FAILED, cycle.describe()
    assert cycle.count("read") == 5  # bounded: five tries, then the cycle gives up
    assert len(quick_client.sleeps) == 4
    assert world.connection().state == "ok"  # Google being busy needs no person
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert world.app_values()[("K3", week)] == Decimal(7)
    assert_converged(world)


def test_a_write_that_timed_out_after_landing_is_not_written_again(world: World) -> None:
    """The write landed, the client saw a timeout: the next cycle finds the cells written
    and only advances their bases (no second write, no duplicated row, no conflict)."""
    week, before = world.periods[-1], world.periods[-2]
    world.set("K1", week, Decimal(42))
    world.fake.delete_rows(world.sid, world.gid, world.layout().row("K3") + 1)
    column = world.layout().column(before)
    world.fake.delete_columns(world.sid, world.gid, column_letters(column))
    world.fake.timeout(after_write=True, match="write")
    cycle = world.sync()
    assert cycle.run.state == RunState.FAILED, cycle.describe()
    assert [r.op for r in cycle.log if r.fault] == ["spreadsheets.batchUpdate"]
    assert cycle.count("write") == 1  # an uncertain write is never retried blindly
    assert world.sheet_values()[("K1", week)] == Decimal(42)  # it did land
    assert world.sheet_values()[("K2", before)] == Decimal("12.5")  # the column is back
    assert len(world.layout().rows["K3"]) == 1

    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert cycle.count("write") == 0, cycle.describe()
    assert cycle.run.pushed == 0
    assert_converged(world)  # K3 once, the column once, K1 = 42 on both sides
    assert conflicts(world) == []
    assert world.connection().tab(TAB).bases["K1"][week] == "42"
    assert_quiet(world.sync())


@pytest.mark.parametrize("fault", ["503 on every try", "timeout before it applied"])
def test_a_write_that_never_landed_is_written_by_the_next_cycle(world: World, fault: str):
    week = world.periods[-1]
    world.set("K1", week, Decimal(42))
    if fault == "503 on every try":
        world.fake.fail(503, match="write", times=5)
    else:
        world.fake.timeout(after_write=False, match="write")
    cycle = world.sync()
    assert cycle.run.state == RunState.FAILED, cycle.describe()
    assert world.sheet_values()[("K1", week)] == Decimal(120)  # nothing landed
    assert world.app_values()[("K1", week)] == Decimal(42)  # and the app kept its edit
    assert world.connection().tab(TAB).bases["K1"][week] == "120"  # base not advanced

    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert cycle.count("write") == 1
    assert_converged(world)
    assert world.sheet_values()[("K1", week)] == Decimal(42)
    assert conflicts(world) == []
    assert_quiet(world.sync())


def test_a_crash_between_the_write_and_the_bases_converges_next_cycle(world: World) -> None:
    """The process dies right after Google confirmed the write: the app's edit is in the
    sheet, a value typed in the sheet was applied, the pushed cells' bases are old. The
    next cycle advances them: no conflict, no second write, no duplicate row."""
    week, before = world.periods[-1], world.periods[-2]
    world.set("K1", week, Decimal(42))
    world.fake.type(world.sid, world.gid, where(world, "K2", before), "13.5%")
    world.fake.delete_rows(world.sid, world.gid, world.layout().row("K4") + 1)
    HOOKS.crash_after_write = True
    try:
        with pytest.raises(Crash):
            service.run_sync(world.workspace.id)
    finally:
        HOOKS.crash_after_write = False
    db.session.rollback()
    assert world.sheet_values()[("K1", week)] == Decimal(42)  # the write landed
    assert world.app_values()[("K2", before)] == Decimal("13.5")  # the pull was committed
    assert world.connection().tab(TAB).bases["K1"][week] == "120"  # the crash kept it old

    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert cycle.count("write") == 0, cycle.describe()
    assert (cycle.run.pulled, cycle.run.pushed, cycle.run.conflicts) == (0, 0, 0)
    assert_converged(world)
    assert world.connection().tab(TAB).bases["K1"][week] == "42"
    assert conflicts(world) == []
    changes = db.session.scalars(
        select(ValueChange).where(ValueChange.kpi_id == world.kpis["K2"].id)
    ).all()
    assert [(c.period_key, c.new_value, c.source) for c in changes][-1] == (
        before,
        Decimal("13.5"),
        "sheet",
    )
    assert len(changes) == 2  # the app's 12.5, then the sheet's 13.5: applied once
    assert_quiet(world.sync())


def test_a_value_typed_while_the_cycle_writes_is_read_by_the_next_one(world: World) -> None:
    """Someone types in another cell between the cycle's read and its write: the cycle
    must not take the sheet's new Drive version for one it has seen."""
    week = world.periods[-1]
    world.set("K1", week, Decimal(42))
    target = where(world, "K3", week)
    HOOKS.before_write = lambda: world.fake.type(world.sid, world.gid, target, "77")
    try:
        cycle = world.sync()
    finally:
        HOOKS.before_write = None
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert world.sheet_values()[("K1", week)] == Decimal(42)
    assert ("K3", week) not in world.app_values()  # typed after the read: not seen yet
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert cycle.count("read") == 2, cycle.describe()  # the sheet is read again
    assert world.app_values()[("K3", week)] == Decimal(77)
    assert_converged(world)
    assert_quiet(world.sync())


def test_a_renamed_tab_with_a_deleted_row_and_column_still_syncs(world: World) -> None:
    week, before = world.periods[-1], world.periods[-2]
    fake = world.fake
    fake.rename_tab(world.sid, world.gid, "Numbers 'Q4'")
    fake.delete_rows(world.sid, world.gid, world.layout().row("K1") + 1)
    column = world.layout().column(before)
    fake.delete_columns(world.sid, world.gid, column_letters(column))
    fake.type(world.sid, world.gid, where(world, "K4", week), "(500)")
    world.texts["(500)"] = Decimal(-500)
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert_within_budget(cycle)
    assert_converged(world)  # K1 is back with its 120, the column with K2's 12.5
    app = world.app_values()
    assert app[("K1", week)] == Decimal(120)
    assert app[("K2", before)] == Decimal("12.5")
    assert app[("K4", week)] == Decimal(-500)
    assert fake.tab(world.sid, world.gid).title == "Numbers 'Q4'"  # people's title kept
    assert any("Restored the row K1" in event for event in cycle.run.events), cycle.run.events
    assert_quiet(world.sync())


def restore_deleted_tab(world: World, confirmation: str) -> None:
    """A person deletes the tab; a cycle makes it again, and its end goes as `confirmation`."""
    world.fake.delete_tab(world.sid, world.gid)
    if confirmation == "crash after the write":
        HOOKS.crash_after_write = True
        try:
            with pytest.raises(Crash):
                service.run_sync(world.workspace.id)
        finally:
            HOOKS.crash_after_write = False
        db.session.rollback()
    elif confirmation == "timeout after the write landed":
        world.fake.timeout(after_write=True, match="write")
        assert world.sync().run.state == RunState.FAILED
    else:
        assert world.sync().run.state == RunState.DONE
    world.gid = world.connection().tab(TAB).gid
    assert world.has_tab()  # the write making it again landed, confirmed or not
    assert world.sheet_values()[("K2", world.periods[-2])] == Decimal("12.5")


# Whether or not Google's answer to the write that makes a deleted tab again got back,
# the next cycle still knows what both sides last agreed on.
CONFIRMATIONS = ["confirmed", "timeout after the write landed", "crash after the write"]


@pytest.mark.parametrize("confirmation", CONFIRMATIONS)
def test_a_clear_in_a_restored_tab_reaches_the_app(world: World, confirmation: str) -> None:
    before = world.periods[-2]
    restore_deleted_tab(world, confirmation)
    world.fake.type(world.sid, world.gid, where(world, "K2", before), "")  # a person clears it
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert_converged(world)
    assert ("K2", before) not in world.app_values()  # "emptied in the sheet clears the app"
    assert world.sheet_values()[("K2", before)] is None


@pytest.mark.parametrize("confirmation", CONFIRMATIONS)
def test_an_app_edit_after_a_tab_was_restored_reaches_the_sheet(
    world: World, confirmation: str
) -> None:
    before = world.periods[-2]
    restore_deleted_tab(world, confirmation)
    world.set("K2", before, Decimal(14))  # the sheet still shows 12.5: unchanged there
    cycle = world.sync()
    assert cycle.run.state == RunState.DONE, cycle.describe()
    assert_converged(world)
    assert world.app_values()[("K2", before)] == Decimal(14)
    assert world.sheet_values()[("K2", before)] == Decimal(14)
    assert conflicts(world) == []

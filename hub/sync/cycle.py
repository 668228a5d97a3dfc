"""One sync cycle (SHEETS.md §2): change check, one batch read, a three-way merge of every
managed cell against its base, guard rails, one batch write, bases advanced after success.

A cycle is safe to stop anywhere. Values taken from the sheet are committed together with
their new bases; cells written to the sheet get their bases only after Google confirmed the
write; a write that timed out is never retried blindly (the next cycle re-reads and finds
either the old value, written again, or the new one, whose base then simply advances).
The caller (`hub.sync.engine.run_cycle`) holds the workspace's lease.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from hub.domain.errors import DomainError
from hub.domain.periods import local_today
from hub.extensions import db
from hub.models import (
    ImportProblem,
    SheetConnection,
    SheetState,
    SheetTab,
    SyncConflict,
    SyncRun,
    TabKind,
    Workspace,
)
from hub.models.base import utcnow
from hub.sync import client as sheets
from hub.sync import layout, merge
from hub.sync.cells import EMPTY, Cell, Kind, a1, quote_title, read_cell
from hub.sync.grid import (
    GRID_FIELDS,
    META_FIELDS,
    SheetTabData,
    add_sheet,
    grid_size,
    header_row,
    read_grid,
    update_cells,
)
from hub.sync.layout import COMPUTED, NAME_COLUMN, SHEET, Column, Row, Tab
from hub.sync.parse import Problem, problem_note

__all__ = ["NOTHING_CHANGED", "Cycle", "PauseCycle"]

NOTE_PREFIX = "Strategy Hub could not read this cell"
# Guard rails: a cycle that would clear this many values of a tab at once pauses…
CLEAR_COUNT = 10
CLEAR_SHARE = 0.25  # …or this share of a tab's values (two cells at least)
RENAMED_ROWS = 3  # …and so does one where this many rows' names no longer match their IDs
MAX_PASSES = 3
NOTHING_CHANGED = "Nothing changed on either side."


class PauseCycle(Exception):  # noqa: N818 - a signal
    """A guard rail stopped the cycle; the details go to the connection."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(details["reason"])
        self.details = details


# ---------------------------------------------------------------------------- the plan


@dataclass
class Change:
    """A value to take from the sheet into the app."""

    tab: Tab
    row: Row
    header: str
    value: str
    ref: str


@dataclass
class Plan:
    """Everything one pass of the merge decided, before anything is done."""

    changes: list[Change] = field(default_factory=list)
    writes: dict[int, dict[tuple[int, int], tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # gid → (row, col) → (kind, value)
    notes: dict[int, dict[tuple[int, int], str]] = field(default_factory=lambda: defaultdict(dict))
    bases_after_write: list[tuple[str, str, str, str]] = field(default_factory=list)
    bases_now: list[tuple[str, str, str, str]] = field(default_factory=list)
    structure: list[dict[str, Any]] = field(default_factory=list)
    header_rows: dict[str, list[str]] = field(default_factory=dict)  # by tab kind
    new_rows: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    cleared: list[dict[str, str]] = field(default_factory=list)
    mismatched: list[dict[str, str]] = field(default_factory=list)
    pushed_cells: int = 0

    @property
    def has_writes(self) -> bool:
        return bool(self.structure or any(self.writes.values()) or any(self.notes.values()))


@dataclass(frozen=True, slots=True)
class Spot:
    """One managed cell: which tab, row and column, and where it is in the sheet now."""

    tab: Tab
    data: SheetTabData
    row: Row
    column: Column
    row_index: int
    col_index: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tab.kind, self.row.key, self.column.header)

    @property
    def a1(self) -> str:
        return a1(self.row_index, self.col_index)

    @property
    def ref(self) -> str:
        return f"{quote_title(self.data.title)}!{self.a1}"

    @property
    def label(self) -> str:
        return f"{self.row.label} · {self.column.header}"


@dataclass
class Guard:
    """What one tab's merge would do that a person should confirm first (SHEETS.md §2)."""

    title: str
    name_header: str  # the column naming a row: KPI, Key result, Initiative
    names: set[str]  # the names the app has for the tab's rows
    values: int = 0  # value cells with an agreed, non-empty base
    cleared: list[dict[str, str]] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)

    def count(self, column: Column, base: str | None) -> None:
        if column.owner == SHEET and base:
            self.values += 1

    def taken(self, spot: Spot, seen: str, base: str) -> None:
        if seen == "" and base and spot.column.owner == SHEET:
            self.cleared.append(
                {"tab": self.title, "cell": spot.a1, "label": spot.label, "value": base}
            )
        if spot.column.header == self.name_header and seen:
            self.renamed.append(
                {
                    "tab": self.title,
                    "cell": spot.a1,
                    "id": spot.row.key,
                    "sheet_name": seen,
                    "app_name": base,
                }
            )

    def cleared_too_many(self) -> list[dict[str, str]]:
        """The cleared cells, when they are ≥ 10 or ≥ 25 % of the tab's values (≥ 2)."""
        many = len(self.cleared)
        share = many / self.values if self.values else 0
        if many >= CLEAR_COUNT or (many >= 2 and share >= CLEAR_SHARE):
            return self.cleared
        return []

    def mismatched(self) -> list[dict[str, str]]:
        """Renamed rows, when several are: ≥ 3, or ≥ 2 now named like another row."""
        swapped = [r for r in self.renamed if r["sheet_name"] in self.names]
        if len(self.renamed) >= RENAMED_ROWS or len(swapped) >= 2:
            return self.renamed
        return []


class Cycle:
    """One sync cycle of one workspace (the caller holds its lease)."""

    def __init__(self, workspace: Workspace, connection: SheetConnection, run: SyncRun) -> None:
        self.workspace = workspace
        self.connection = connection
        self.run = run
        self.client = sheets.make_client()
        self.today = local_today(workspace.time_zone)
        self.refused: set[tuple[str, str, str]] = set()
        self.claimed: dict[tuple[str, int], str] = {}  # (kind, sheet row) → adopted/new key
        self.new_tabs: dict[str, SheetTabData] = {}  # tabs this cycle adds, by kind
        self.moved: set[str] = set()  # tabs whose bases moved since the last commit
        self.seen: dict[tuple[int, str, str], str | Problem] = {}  # cells read, by id()
        # Found by any pass of the merge, keyed by cell: a later pass repeats, never adds.
        self.events: list[str] = []
        self.conflicts: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.problems: dict[tuple[str, str, str], dict[str, Any]] = {}

    def commit(self) -> None:
        self.save_bases()
        db.session.commit()

    def read_once(
        self, cell: Cell, kind: str, unit: str, locale: str, currency: str
    ) -> str | Problem:
        """A cell as the merge compares it, read once per cycle however many passes."""
        key = (id(cell), kind, unit)
        seen = self.seen.get(key)
        if seen is None:
            seen = self.seen[key] = read_cell(
                cell, kind, unit=unit, locale=locale, currency=currency
            )
        return seen

    def event(self, text: str) -> None:
        if text not in self.events:
            self.events.append(text)

    # -- orchestration ---------------------------------------------------------------
    def execute(self, *, app_edited: bool) -> None:
        """The cycle. `app_edited`: an edit in the app asked for a push (the edit hook)."""
        connection, run = self.connection, self.run
        version = str(self.client.drive_file(connection.spreadsheet_id).get("version", ""))
        kinds = self.kinds()
        sheet_unchanged = (
            bool(version)
            and version == connection.drive_version
            and not connection.resume
            and all(connection.tab(kind) is not None for kind in kinds)
        )
        # A scheduled check of a quiet workspace stops here, before reading the app: the
        # edit hook marks every change made through the app, and statuses move by the day.
        today = self.today.isoformat()
        if (
            sheet_unchanged
            and self.run.trigger == "interval"
            and not app_edited
            and connection.app_digest.startswith(today)
        ):
            run.message = NOTHING_CHANGED
            return
        tabs = layout.build_tabs(self.workspace, kinds, connection.tracking_start, self.today)
        digest = _digest(tabs, today)
        if sheet_unchanged and digest == connection.app_digest:
            run.message = NOTHING_CHANGED
            return
        self.progress("Reading the sheet")
        sheet_tabs = self.read(kinds)
        mode = connection.resume
        plan = self.plan(tabs, sheet_tabs, mode)
        if mode != "apply" and mode != "restore":
            self.check_guard_rails(plan)
        if plan.new_rows:
            self.create_rows(plan, tabs)
            tabs = layout.build_tabs(self.workspace, kinds, connection.tracking_start, self.today)
            plan = self.plan(tabs, sheet_tabs, mode)
        for _ in range(MAX_PASSES):
            if not plan.changes:
                break
            self.progress(f"Applying {len(plan.changes)} changes from the sheet")
            if self.apply(plan):
                rows = {id(c.row): (c.tab, c.row) for c in plan.changes}.values()
                layout.refresh_statuses(self.workspace, list(rows), self.today)
            else:
                tabs = layout.build_tabs(
                    self.workspace, kinds, connection.tracking_start, self.today
                )
            plan = self.plan(tabs, sheet_tabs, mode)
        self.record(plan)
        wrote = False
        if plan.has_writes:
            self.progress(f"Writing {plan.pushed_cells} cells to the sheet")
            self.commit()  # new tabs' ids are known before Google creates them
            self.client.batch_update(connection.spreadsheet_id, self.requests(plan, sheet_tabs))
            wrote = True
            for kind, key, header, value in plan.bases_after_write:
                self.set_base(kind, key, header, value)
            run.pushed += plan.pushed_cells
            self.commit()  # bases advance now that Google confirmed the write
        if wrote:
            after = str(self.client.drive_file(connection.spreadsheet_id).get("version", ""))
            # Only our own write happened since the read: the sheet is as the bases say.
            same = after.isdigit() and version.isdigit() and int(after) == int(version) + 1
            connection.drive_version = after if same else version
        else:
            connection.drive_version = version
        for kind, headers in plan.header_rows.items():
            record = connection.tab(kind)
            if record is not None:
                record.header_row = headers
        connection.app_digest = _digest(tabs, today)
        connection.resume = ""
        connection.pause_details = {}
        if connection.state == SheetState.PAUSED:
            connection.state = SheetState.OK
        run.events = [*run.events, *self.events]
        run.message = run.message or ("Up to date." if not (run.pulled or run.pushed) else "")

    def kinds(self) -> list[str]:
        kinds = layout.tab_kinds(self.workspace)
        for tab in self.connection.tabs:  # a tab once made keeps syncing
            if tab.kind not in kinds and (
                tab.kind not in TabKind.KPI_TABS or self.workspace.uses_kpis
            ):
                kinds.append(tab.kind)
        return [kind for kind in TabKind.ALL if kind in kinds]

    def progress(self, text: str) -> None:
        self.run.progress = text
        self.commit()

    # -- reading -----------------------------------------------------------------------
    def read(self, kinds: list[str]) -> dict[str, SheetTabData | None]:
        connection = self.connection
        meta = self.client.get(connection.spreadsheet_id, fields=META_FIELDS)
        props = meta.get("properties") or {}
        connection.locale = props.get("locale") or connection.locale
        connection.title = props.get("title") or connection.title
        by_gid = {}
        for entry in meta.get("sheets") or []:
            p = entry.get("properties") or {}
            by_gid[p.get("sheetId", 0)] = p
        found: dict[str, SheetTabData | None] = {}
        for kind in kinds:
            tab = connection.tab(kind)
            p = by_gid.get(tab.gid) if tab is not None else None
            if p is None:
                found[kind] = None
                continue
            grid = p.get("gridProperties") or {}
            tab.title = p.get("title", tab.title)
            found[kind] = SheetTabData(
                tab.gid, tab.title, grid.get("rowCount", 1000), grid.get("columnCount", 26)
            )
        present = [data for data in found.values() if data is not None]
        if present:
            self.commit()  # no write transaction stays open while Google answers
            grid_meta = self.client.get(
                connection.spreadsheet_id,
                fields=GRID_FIELDS,
                ranges=[quote_title(data.title) for data in present],
                include_grid_data=True,
            )
            by_id = {data.gid: data for data in present}
            for entry in grid_meta.get("sheets") or []:
                gid = (entry.get("properties") or {}).get("sheetId", 0)
                if gid in by_id:
                    by_id[gid].grid = read_grid(entry)
            for data in present:
                data.index()
        return found

    # -- merging -----------------------------------------------------------------------
    def plan(
        self,
        tabs: dict[str, Tab],
        sheet_tabs: dict[str, SheetTabData | None],
        mode: str,
    ) -> Plan:
        """One pass of the merge over what was read (left as it was: passes repeat)."""
        plan = Plan()
        for kind, tab in tabs.items():
            read = sheet_tabs.get(kind)
            data = read.copy() if read is not None else self.add_tab(plan, tab)
            self.plan_tab(plan, tab, data, mode)
        return plan

    def add_tab(self, plan: Plan, tab: Tab) -> SheetTabData:
        """A managed tab missing from the sheet (new, or deleted by someone): make it."""
        record = self.connection.tab(tab.kind)
        if tab.kind in self.new_tabs:
            made = self.new_tabs[tab.kind]
            plan.structure.append(add_sheet(made))
            return made.copy()
        taken = {t.title.lower() for t in self.connection.tabs if t.kind != tab.kind}
        title = tab.title
        number = 2
        while title.lower() in taken:
            title = f"{tab.title} ({number})"
            number += 1
        gid = random.randint(10_000_000, 2_000_000_000)  # noqa: S311 - an id, not a secret
        if record is None:
            record = SheetTab(kind=tab.kind, gid=gid, title=title, bases={})
            self.connection.tabs.append(record)
            self.event(f"Added the tab {title!r}.")
        else:
            self.event(f"Restored the tab {title!r} (it was deleted in the sheet).")
            # Its bases stay: until a write of the new tab is confirmed, they are still
            # what both sides last agreed on (its cells are all written afresh anyway).
            record.gid, record.title = gid, title
        rows = max(1000, len(tab.rows) + 50)
        columns = max(26, len(tab.columns) + 4)
        data = SheetTabData(gid, title, rows, columns)
        data.index()
        self.new_tabs[tab.kind] = data
        plan.structure.append(add_sheet(data))
        return data.copy()

    def plan_tab(self, plan: Plan, tab: Tab, data: SheetTabData, mode: str) -> None:
        """Merge every managed cell of one tab (SHEETS.md §2) into the plan."""
        record = self.connection.tab(tab.kind)
        assert record is not None  # noqa: S101  (add_tab made it)
        bases: dict[str, dict[str, str]] = record.bases or {}
        self.restoreheader_row(plan, tab, data, record.header_row or [])
        positions, fresh_columns = self.place_columns(plan, tab, data)
        plan.header_rows[tab.kind] = header_row(data)
        rows, fresh_rows = self.place_rows(plan, tab, data, bases, mode)
        locale, currency = self.connection.locale or "en_US", self.workspace.currency
        name_header = NAME_COLUMN[tab.kind]
        names = {row.values.get(name_header, "") for row in tab.rows}
        guard = Guard(data.title, name_header, names)
        for row in tab.rows:
            row_index = rows[row.key]
            cells = data.grid[row_index] if row_index < len(data.grid) else []
            row_bases = {} if row.key in fresh_rows else bases.get(row.key, {})
            for column in tab.columns:
                header = column.header
                col = positions[header]
                cell = cells[col] if col < len(cells) else EMPTY
                app_value = row.values.get(header, "")
                seen = self.read_once(cell, column.kind, column.unit or row.unit, locale, currency)
                base = None if header in fresh_columns else row_bases.get(header)
                if seen == app_value and not cell.note:  # the common case, kept cheap
                    if header in row.computed or column.owner == COMPUTED:
                        continue
                    if seen == base:
                        guard.count(column, base)
                        continue
                spot = Spot(tab, data, row, column, row_index, col)
                self.plan_cell(plan, guard, spot, cell, seen, app_value, base, mode)
        plan.cleared += guard.cleared_too_many()
        plan.mismatched += guard.mismatched()

    def plan_cell(
        self,
        plan: Plan,
        guard: Guard,
        spot: Spot,
        cell: Cell,
        seen: str | Problem,
        app_value: str,
        base: str | None,
        mode: str,
    ) -> None:
        """Merge one managed cell into the plan."""
        owner = spot.tab.owner(spot.row, spot.column)
        if owner == COMPUTED:
            if seen != app_value:
                self.write(plan, spot, app_value)
            return
        if isinstance(seen, Problem):
            if mode == "restore":  # the app's value replaces the text, kept as lost
                self.conflict(spot, seen.text, app_value, merge.APP)
                self.push(plan, spot, app_value)
            else:
                self.problem(plan, spot, seen, cell)
            return
        if cell.note.startswith(NOTE_PREFIX):  # fixed since: take our note away
            plan.notes[spot.data.gid][(spot.row_index, spot.col_index)] = ""
        if spot.key in self.refused:
            return
        if mode == "restore":
            decision = merge.restore(seen, app_value, base)
        else:
            decision = merge.decide(seen, app_value, base, owner=owner)
        guard.count(spot.column, base)
        if decision.conflict:
            self.conflict(spot, seen, app_value, decision.conflict)
        if decision.take_sheet:
            plan.changes.append(Change(spot.tab, spot.row, spot.column.header, seen, spot.ref))
            if base is not None:
                guard.taken(spot, seen, base)
        if decision.push_app:
            self.push(plan, spot, app_value)
        if decision.agree:
            plan.bases_now.append((*spot.key, app_value))

    def restoreheader_row(self, plan: Plan, tab: Tab, data: SheetTabData, last: list[str]) -> None:
        """Row 1 holds none of the tab's headers but the rows below are there: someone
        deleted the header row. Put it back as it was, above them."""
        managed = {column.header for column in tab.columns}
        if not data.grid or not last or managed & set(data.headers):
            return
        plan.structure.append(
            {
                "insertDimension": {
                    "range": {
                        "sheetId": data.gid,
                        "dimension": "ROWS",
                        "startIndex": 0,
                        "endIndex": 1,
                    },
                    "inheritFromBefore": False,
                }
            }
        )
        data.grid.insert(0, [Cell(text or None, text, "", "") for text in last])
        data.row_count += 1
        data.index()
        for col, text in enumerate(last):
            if text:
                _put(plan, data.gid, 0, col, Kind.TEXT, text)
        self.event(f"Restored the header row of {data.title!r} (it was deleted in the sheet).")

    def place_columns(
        self, plan: Plan, tab: Tab, data: SheetTabData
    ) -> tuple[dict[str, int], set[str]]:
        """Where each managed column is; a missing one is inserted after its neighbour
        (shifting people's own columns, never writing over them) and written afresh: the
        second item."""
        positions: dict[str, int] = {}
        fresh: set[str] = set()
        headers = dict(data.headers)
        record = self.connection.tab(tab.kind)
        known = {h for b in (record.bases if record else {}).values() for h in b}
        last = -1
        inserted = 0
        used = data.used_cols
        for column in tab.columns:
            if column.header in headers:
                last = headers[column.header]
                positions[column.header] = last
                continue
            at = last + 1
            if at < used:
                plan.structure.append(
                    {
                        "insertDimension": {
                            "range": {
                                "sheetId": data.gid,
                                "dimension": "COLUMNS",
                                "startIndex": at,
                                "endIndex": at + 1,
                            },
                            "inheritFromBefore": at > 0,
                        }
                    }
                )
                inserted += 1
                headers = {h: (c + 1 if c >= at else c) for h, c in headers.items()}
                positions = {h: (c + 1 if c >= at else c) for h, c in positions.items()}
                for row in data.grid:
                    if at < len(row):
                        row.insert(at, EMPTY)
                used += 1
            headers[column.header] = positions[column.header] = last = at
            fresh.add(column.header)
            _put(plan, data.gid, 0, at, Kind.TEXT, column.header)
            if data.headers and column.owner == SHEET and tab.cadence:
                verb = "Restored" if column.header in known else "Added"
                self.event(f"{verb} the column {column.header} in {data.title!r}.")
        data.col_count += inserted
        needed = max(positions.values(), default=0) + 1
        if needed > data.col_count:
            plan.structure.append(grid_size(data.gid, "columnCount", needed + 4))
            data.col_count = needed + 4
        data.headers = headers
        data.id_column = headers.get("ID")
        return positions, fresh

    def place_rows(
        self, plan: Plan, tab: Tab, data: SheetTabData, bases: dict[str, dict[str, str]], mode: str
    ) -> tuple[dict[str, int], set[str]]:
        """Where each managed row is: by ID; new sheet rows adopted; missing rows appended
        (returned as the second item: their cells are all written)."""
        fresh: set[str] = set()
        name_col = data.headers.get(NAME_COLUMN[tab.kind])
        where: dict[str, int] = {}
        for key, index in data.ids.items():
            if key in tab.by_key:
                where[key] = index
            else:
                self.event(
                    f"Row {index + 1} of {data.title!r} has the ID {key}, which is no live "
                    f"{'KPI' if tab.cadence else 'item'} of this workspace (archived, or typed "
                    "by hand): the row is left alone."
                )
        for key, index in data.repeats:
            self.event(
                f"Row {index + 1} of {data.title!r} repeats the ID {key} of row "
                f"{data.ids[key] + 1}: only row {data.ids[key] + 1} is synced."
            )
        unclaimed = {
            row.values.get(NAME_COLUMN[tab.kind], ""): row.key
            for row in tab.rows
            if row.key not in where
        }
        next_free = max(data.used_rows, 1)
        if name_col is not None:
            for index in range(1, data.used_rows):
                key_text = (
                    data.cell(index, data.id_column).shown.strip()
                    if data.id_column is not None
                    else ""
                )
                if key_text:
                    continue
                name = data.cell(index, name_col).shown.strip()
                if not name:
                    continue
                claimed = self.claimed.get((tab.kind, index))
                if claimed and claimed in tab.by_key and claimed not in where:
                    where[claimed] = index
                elif name in unclaimed and unclaimed[name] not in where:
                    where[unclaimed[name]] = index  # someone cleared the ID: put it back
                elif tab.cadence and mode != "restore" and (tab.kind, index) not in self.claimed:
                    cells = {
                        header: data.cell(index, col).shown.strip()
                        for header, col in data.headers.items()
                    }
                    plan.new_rows.append((tab.kind, index, cells))
        for row in tab.rows:
            if row.key in where:
                continue
            where[row.key] = next_free
            next_free += 1
            if row.key in bases and data.grid:
                self.event(
                    f"Restored the row {row.label} in {data.title!r} (it was deleted in the sheet)."
                )
            fresh.add(row.key)  # written afresh: its old bases no longer say anything
        if next_free > data.row_count:
            plan.structure.append(grid_size(data.gid, "rowCount", next_free + 50))
            data.row_count = next_free + 50
        return where, fresh

    # -- plan helpers ------------------------------------------------------------------
    def write(self, plan: Plan, spot: Spot, value: str) -> None:
        _put(plan, spot.data.gid, spot.row_index, spot.col_index, spot.column.kind, value)

    def push(self, plan: Plan, spot: Spot, value: str) -> None:
        self.write(plan, spot, value)
        plan.bases_after_write.append((*spot.key, value))

    def conflict(self, spot: Spot, seen: str, app_value: str, winner: str) -> None:
        self.conflicts[spot.key] = {
            "tab_kind": spot.tab.kind,
            "row_key": spot.row.key,
            "column": spot.column.header,
            "cell": spot.ref,
            "label": spot.label,
            "sheet_value": seen,
            "app_value": app_value,
            "winner": winner,
        }

    def problem(self, plan: Plan, spot: Spot, seen: Problem, cell: Cell) -> None:
        self.problems[spot.key] = {
            "tab_title": spot.data.title,
            "cell": spot.a1,
            "label": spot.label,
            "text": seen.text,
            "reason": seen.reason,
        }
        note = problem_note(seen)
        if cell.note != note:
            plan.notes[spot.data.gid][(spot.row_index, spot.col_index)] = note

    # -- guard rails ---------------------------------------------------------------------
    def check_guard_rails(self, plan: Plan) -> None:
        if plan.cleared:
            raise PauseCycle(
                {
                    "reason": f"{len(plan.cleared)} values were cleared in the sheet at once.",
                    "cleared": plan.cleared,
                    "mismatched": plan.mismatched,
                }
            )
        if plan.mismatched:
            raise PauseCycle(
                {
                    "reason": f"{len(plan.mismatched)} rows' names no longer match their IDs "
                    "(was a range sorted without its ID column?).",
                    "cleared": [],
                    "mismatched": plan.mismatched,
                }
            )

    # -- doing -------------------------------------------------------------------------
    def create_rows(self, plan: Plan, tabs: dict[str, Tab]) -> None:
        for kind, index, cells in plan.new_rows:
            name = cells.get("KPI", "")
            try:
                with db.session.begin_nested():
                    kpi = layout.new_kpi(self.workspace, kind, cells)
            except DomainError as error:
                self.problems[(kind, f"row {index + 1}", "KPI")] = {
                    "tab_title": TabKind.TITLES[kind],
                    "cell": a1(index, 1),
                    "label": f"new row {index + 1}",
                    "text": name,
                    "reason": error.message,
                }
                self.claimed[(kind, index)] = ""
                continue
            self.claimed[(kind, index)] = kpi.key
            self.event(f"Created the KPI {kpi.key} {kpi.name} from row {index + 1} of the sheet.")
            self.run.pulled += 1
        self.commit()

    def apply(self, plan: Plan) -> bool:
        """Take the plan's sheet values into the app; True when only KPI values changed
        (the caller then refreshes statuses instead of reading the whole app again)."""
        values = [c for c in plan.changes if layout.is_period_value(c.tab, c.header)]
        others = [c for c in plan.changes if not layout.is_period_value(c.tab, c.header)]
        pulled = 0
        try:
            with db.session.begin_nested():  # one savepoint for every value of the cycle
                layout.apply_values(
                    [(c.row.entity, c.header, c.value, c.ref) for c in values], source="sheet"
                )
        except (DomainError, ValueError, ArithmeticError):
            others = plan.changes  # one refused: find it, one savepoint per change
        else:
            for change in values:
                self.set_base(change.tab.kind, change.row.key, change.header, change.value)
                change.row.values[change.header] = change.value
            pulled += len(values)
        for change in others:
            key = (change.tab.kind, change.row.key, change.header)
            try:
                with db.session.begin_nested():
                    layout.apply(
                        self.workspace,
                        change.tab,
                        change.row,
                        change.header,
                        change.value,
                        source="sheet",
                        ref=change.ref,
                    )
            except (DomainError, ValueError, ArithmeticError) as error:
                self.refused.add(key)
                self.problems[key] = {
                    "tab_title": change.ref.rpartition("!")[0].strip("'").replace("''", "'"),
                    "cell": change.ref.rpartition("!")[2],
                    "label": f"{change.row.label} · {change.header}",
                    "text": change.value,
                    "reason": getattr(error, "message", None) or str(error),
                }
                continue
            self.set_base(change.tab.kind, change.row.key, change.header, change.value)
            pulled += 1
        self.run.pulled += pulled  # once: a counter bumped per value is an UPDATE per value
        self.commit()
        return not others

    def record(self, plan: Plan) -> None:
        """Bases agreed on both sides, conflicts and import problems, committed."""
        for kind, key, header, value in plan.bases_now:
            self.set_base(kind, key, header, value)
        for entry in self.conflicts.values():
            db.session.add(
                SyncConflict(workspace_id=self.workspace.id, run_id=self.run.id, **entry)
            )
        self.run.conflicts += len(self.conflicts)
        open_problems = {
            (p.tab_kind, p.row_key, p.column): p
            for p in db.session.scalars(
                select(ImportProblem).where(
                    ImportProblem.workspace_id == self.workspace.id,
                    ImportProblem.closed_at.is_(None),
                )
            )
        }
        now = utcnow()
        for key, found in self.problems.items():
            existing = open_problems.pop(key, None)
            if existing is not None and existing.text == found["text"]:
                existing.cell, existing.tab_title = found["cell"], found["tab_title"]
                continue
            if existing is not None:
                existing.closed_at = now
            db.session.add(
                ImportProblem(
                    workspace_id=self.workspace.id,
                    tab_kind=key[0],
                    row_key=key[1],
                    column=key[2],
                    **found,
                )
            )
        for problem in open_problems.values():
            problem.closed_at = now
        self.run.problems = len(self.problems)
        self.commit()

    def requests(
        self, plan: Plan, sheet_tabs: dict[str, SheetTabData | None]
    ) -> list[dict[str, Any]]:
        requests = list(plan.structure)
        for gid, cells in plan.writes.items():
            requests += update_cells(gid, cells)
        for gid, notes in plan.notes.items():
            for (row, col), note in sorted(notes.items()):
                requests.append(
                    {
                        "updateCells": {
                            "start": {"sheetId": gid, "rowIndex": row, "columnIndex": col},
                            "rows": [{"values": [{"note": note}]}],
                            "fields": "note",
                        }
                    }
                )
        return requests

    def set_base(self, kind: str, key: str, header: str, value: str) -> None:
        """Move one base, in place; `save_bases` marks the tabs changed before a commit
        (one JSON write per tab and commit, not one per cell)."""
        record = self.connection.tab(kind)
        if record is None:
            return
        if record.bases is None:
            record.bases = {}
        # dict's own setdefault: MutableDict's would flag the whole document at every flush
        dict.setdefault(record.bases, key, {})[header] = value
        self.moved.add(kind)

    def save_bases(self) -> None:
        for kind in self.moved:
            record = self.connection.tab(kind)
            if record is not None:
                flag_modified(record, "bases")
        self.moved.clear()


def _put(plan: Plan, gid: int, row: int, col: int, kind: str, value: str) -> None:
    plan.writes[gid][(row, col)] = (kind, value)
    plan.pushed_cells += 1


def _digest(tabs: dict[str, Tab], today: str) -> str:
    """The day, and a fingerprint of every managed app value: unchanged means nothing to
    push (statuses depend on the day: a KPI turns late)."""
    h = hashlib.sha256()
    for kind, tab in tabs.items():
        h.update(repr((kind, [c.header for c in tab.columns])).encode())
        for row in tab.rows:  # a row's values are always built in the same order
            h.update(repr((row.key, sorted(row.computed), row.values)).encode())
    return f"{today}:{h.hexdigest()}"

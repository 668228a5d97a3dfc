"""The sync cycle of SHEETS.md §2: change check, one batch read, a three-way merge of every
managed cell against its base, guard rails, one batch write, bases advanced after success.

A cycle is safe to stop anywhere. Values taken from the sheet are committed together with
their new bases; cells written to the sheet get their bases only after Google confirmed the
write; a write that timed out is never retried blindly (the next cycle re-reads and finds
either the old value, written again, or the new one, whose base then simply advances).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from hub.domain.errors import DomainError
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
from hub.sync import layout
from hub.sync.cells import EMPTY, Cell, Kind, a1, cell_data, quote_title, read_cell
from hub.sync.layout import APP, COMPUTED, NAME_COLUMN, SHEET, Row, Tab
from hub.sync.parse import Problem, problem_note

__all__ = ["connect", "run_cycle", "use_instead"]

LEASE = timedelta(minutes=10)
NOTE_PREFIX = "Strategy Hub could not read this cell"
# Guard rails: a cycle that would clear this many values of a tab at once pauses…
CLEAR_COUNT = 10
CLEAR_SHARE = 0.25  # …or this share of a tab's values (two cells at least)
RENAMED_ROWS = 3  # …and so does one where this many rows' names no longer match their IDs
MAX_PASSES = 3

META_FIELDS = (
    "properties(title,locale),"
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)))"
)
GRID_FIELDS = (
    "sheets(properties(sheetId,title),data(rowData(values("
    "effectiveValue,formattedValue,effectiveFormat(numberFormat(type)),note))))"
)
VALUE_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat"


class PauseCycle(Exception):  # noqa: N818 - a signal
    """A guard rail stopped the cycle; the details go to the connection."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(details["reason"])
        self.details = details


# ---------------------------------------------------------------------- the sheet as read


@dataclass
class SheetTabData:
    """One managed tab as read this cycle."""

    gid: int
    title: str
    row_count: int
    col_count: int
    grid: list[list[Cell]] = field(default_factory=list)
    headers: dict[str, int] = field(default_factory=dict)  # header → column
    ids: dict[str, int] = field(default_factory=dict)  # row key → row (first occurrence)
    id_column: int | None = None

    def copy(self) -> SheetTabData:
        """A copy a merge pass may shift and extend (cells themselves never change)."""
        return SheetTabData(
            self.gid,
            self.title,
            self.row_count,
            self.col_count,
            [list(row) for row in self.grid],
            dict(self.headers),
            dict(self.ids),
            self.id_column,
        )

    def cell(self, row: int, column: int) -> Cell:
        if row < len(self.grid) and column < len(self.grid[row]):
            return self.grid[row][column]
        return EMPTY

    @property
    def used_rows(self) -> int:
        return len(self.grid)

    @property
    def used_cols(self) -> int:
        return max((len(r) for r in self.grid), default=0)

    def index(self) -> None:
        self.headers = {}
        for column, cell in enumerate(self.grid[0] if self.grid else []):
            text = cell.shown.strip()
            if text and text not in self.headers:
                self.headers[text] = column
        self.id_column = self.headers.get("ID")
        self.ids = {}
        if self.id_column is not None:
            for row in range(1, len(self.grid)):
                key = self.cell(row, self.id_column).shown.strip()
                if key and key not in self.ids:
                    self.ids[key] = row


def _read_grid(entry: dict[str, Any]) -> list[list[Cell]]:
    grid: list[list[Cell]] = []
    for data in entry.get("data") or []:
        start_row = data.get("startRow", 0)
        for offset, row in enumerate(data.get("rowData") or []):
            index = start_row + offset
            while len(grid) <= index:
                grid.append([])
            grid[index] = [Cell.of(v) for v in row.get("values") or []]
    while grid and not any(c.value is not None or c.note for c in grid[-1]):
        grid.pop()
    return grid


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
    new_rows: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    cleared: list[dict[str, str]] = field(default_factory=list)
    mismatched: list[dict[str, str]] = field(default_factory=list)
    pushed_cells: int = 0

    @property
    def has_writes(self) -> bool:
        return bool(self.structure or any(self.writes.values()) or any(self.notes.values()))


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
        # Found by any pass of the merge, keyed by cell: a later pass repeats, never adds.
        self.events: list[str] = []
        self.conflicts: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.problems: dict[tuple[str, str, str], dict[str, Any]] = {}

    def event(self, text: str) -> None:
        if text not in self.events:
            self.events.append(text)

    # -- orchestration ---------------------------------------------------------------
    def execute(self) -> None:
        connection, run = self.connection, self.run
        version = str(self.client.drive_file(connection.spreadsheet_id).get("version", ""))
        kinds = self.kinds()
        tabs = layout.build_tabs(self.workspace, kinds, connection.tracking_start, self.today)
        digest = _digest(tabs)
        have_all = all(connection.tab(kind) is not None for kind in kinds)
        if (
            version
            and version == connection.drive_version
            and digest == connection.app_digest
            and not connection.resume
            and have_all
        ):
            run.message = "Nothing changed on either side."
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
            self.apply(plan)
            tabs = layout.build_tabs(self.workspace, kinds, connection.tracking_start, self.today)
            plan = self.plan(tabs, sheet_tabs, mode)
        self.record(plan)
        wrote = False
        if plan.has_writes:
            self.progress(f"Writing {plan.pushed_cells} cells to the sheet")
            db.session.commit()  # new tabs' ids are known before Google creates them
            self.client.batch_update(connection.spreadsheet_id, self.requests(plan, sheet_tabs))
            wrote = True
            for kind, key, header, value in plan.bases_after_write:
                self.set_base(kind, key, header, value)
            run.pushed += plan.pushed_cells
            db.session.commit()  # bases advance now that Google confirmed the write
        if wrote:
            after = str(self.client.drive_file(connection.spreadsheet_id).get("version", ""))
            # Only our own write happened since the read: the sheet is as the bases say.
            same = after.isdigit() and version.isdigit() and int(after) == int(version) + 1
            connection.drive_version = after if same else version
        else:
            connection.drive_version = version
        connection.app_digest = _digest(tabs)
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
        db.session.commit()

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
            db.session.commit()  # no write transaction stays open while Google answers
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
                    by_id[gid].grid = _read_grid(entry)
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
            plan.structure.append(_add_sheet(made))
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
            record.gid, record.title, record.bases = gid, title, {}
        rows = max(1000, len(tab.rows) + 50)
        columns = max(26, len(tab.columns) + 4)
        data = SheetTabData(gid, title, rows, columns)
        data.index()
        self.new_tabs[tab.kind] = data
        plan.structure.append(_add_sheet(data))
        return data.copy()

    def plan_tab(self, plan: Plan, tab: Tab, data: SheetTabData, mode: str) -> None:
        record = self.connection.tab(tab.kind)
        assert record is not None  # noqa: S101  (add_tab made it)
        bases: dict[str, dict[str, str]] = record.bases or {}
        positions, fresh_columns = self.place_columns(plan, tab, data)
        rows, fresh = self.place_rows(plan, tab, data, bases, mode)
        locale = self.connection.locale or "en_US"
        currency = self.workspace.currency
        name_header = NAME_COLUMN[tab.kind]
        tab_values = cleared_here = 0
        renamed: list[dict[str, str]] = []
        names_in_app = {row.values.get(name_header, "") for row in tab.rows}
        for row in tab.rows:
            sheet_row = rows[row.key]
            base = {} if row.key in fresh else bases.get(row.key, {})
            for column in tab.columns:
                header = column.header
                col = positions[header]
                cell = data.cell(sheet_row, col)
                app_value = row.values.get(header, "")
                owner = tab.owner(row, column)
                ref = f"{quote_title(data.title)}!{a1(sheet_row, col)}"
                unit = row.unit if column.kind in (Kind.NUMBER, Kind.BOUNDS) else "number"
                if header == "Score" or header == "% complete" and owner == COMPUTED:
                    unit = "number" if header == "Score" else "percent"
                if header == "Confidence":
                    unit = "number"
                seen = read_cell(cell, column.kind, unit=unit, locale=locale, currency=currency)
                if owner == COMPUTED:
                    if seen != app_value:
                        self.write(plan, data, sheet_row, col, column.kind, app_value)
                    continue
                key = (tab.kind, row.key, header)
                if isinstance(seen, Problem):
                    if mode == "restore":
                        self.overwrite(plan, tab, data, row, column, sheet_row, col, seen.text)
                        continue
                    self.problem(plan, tab, data, row, header, sheet_row, col, seen, cell)
                    continue
                if cell.note.startswith(NOTE_PREFIX):
                    plan.notes[data.gid][(sheet_row, col)] = ""
                if key in self.refused:
                    continue
                old = None if header in fresh_columns else base.get(header)
                if column.owner == SHEET and old:
                    tab_values += 1
                if mode == "restore":
                    if seen != app_value:
                        if seen and seen != old:
                            self.conflict(
                                plan, tab, data, row, header, sheet_row, col, seen, app_value, APP
                            )
                        self.overwrite(plan, tab, data, row, column, sheet_row, col, None)
                    elif old != app_value:
                        plan.bases_now.append((tab.kind, row.key, header, app_value))
                    continue
                if old is None:
                    if seen == app_value:
                        plan.bases_now.append((tab.kind, row.key, header, app_value))
                    elif seen == "":
                        self.push(plan, tab, data, row, column, sheet_row, col, app_value)
                    elif owner == SHEET:
                        plan.changes.append(Change(tab, row, header, seen, ref))
                        if app_value:
                            self.conflict(
                                plan, tab, data, row, header, sheet_row, col, seen, app_value, SHEET
                            )
                    else:
                        self.conflict(
                            plan, tab, data, row, header, sheet_row, col, seen, app_value, APP
                        )
                        self.push(plan, tab, data, row, column, sheet_row, col, app_value)
                    continue
                sheet_changed, app_changed = seen != old, app_value != old
                if not sheet_changed and not app_changed:
                    continue
                if sheet_changed and not app_changed:
                    plan.changes.append(Change(tab, row, header, seen, ref))
                    if seen == "" and column.owner == SHEET:
                        cleared_here += 1
                        plan.cleared.append(
                            {
                                "tab": data.title,
                                "cell": a1(sheet_row, col),
                                "label": f"{row.label} · {header}",
                                "value": old,
                            }
                        )
                    if header == name_header and seen:
                        renamed.append(
                            {
                                "tab": data.title,
                                "cell": a1(sheet_row, col),
                                "id": row.key,
                                "sheet_name": seen,
                                "app_name": app_value,
                            }
                        )
                elif app_changed and not sheet_changed:
                    self.push(plan, tab, data, row, column, sheet_row, col, app_value)
                elif seen == app_value:
                    plan.bases_now.append((tab.kind, row.key, header, app_value))
                elif owner == SHEET:
                    plan.changes.append(Change(tab, row, header, seen, ref))
                    self.conflict(
                        plan, tab, data, row, header, sheet_row, col, seen, app_value, SHEET
                    )
                else:
                    self.conflict(
                        plan, tab, data, row, header, sheet_row, col, seen, app_value, APP
                    )
                    self.push(plan, tab, data, row, column, sheet_row, col, app_value)
        swapped = [r for r in renamed if r["sheet_name"] in names_in_app]
        if len(renamed) >= RENAMED_ROWS or len(swapped) >= 2:
            plan.mismatched.extend(renamed)
        share = cleared_here / tab_values if tab_values else 0
        if not (cleared_here >= CLEAR_COUNT or (cleared_here >= 2 and share >= CLEAR_SHARE)):
            plan.cleared = [c for c in plan.cleared if c["tab"] != data.title]

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
            self.write(plan, data, 0, at, Kind.TEXT, column.header)
            if data.headers and column.owner == SHEET and tab.cadence:
                verb = "Restored" if column.header in known else "Added"
                self.event(f"{verb} the column {column.header} in {data.title!r}.")
        data.col_count += inserted
        needed = max(positions.values(), default=0) + 1
        if needed > data.col_count:
            plan.structure.append(_grid_size(data.gid, "columnCount", needed + 4))
            data.col_count = needed + 4
        data.headers = headers
        return positions, fresh

    def place_rows(
        self, plan: Plan, tab: Tab, data: SheetTabData, bases: dict[str, dict[str, str]], mode: str
    ) -> tuple[dict[str, int], set[str]]:
        """Where each managed row is: by ID; new sheet rows adopted; missing rows appended
        (returned as the second item: their cells are all written)."""
        fresh: set[str] = set()
        name_col = data.headers.get(NAME_COLUMN[tab.kind])
        where: dict[str, int] = {}
        for key in tab.by_key:
            if key in data.ids:
                where[key] = data.ids[key]
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
            plan.structure.append(_grid_size(data.gid, "rowCount", next_free + 50))
            data.row_count = next_free + 50
        return where, fresh

    # -- plan helpers ------------------------------------------------------------------
    def write(
        self, plan: Plan, data: SheetTabData, row: int, col: int, kind: str, value: str
    ) -> None:
        plan.writes[data.gid][(row, col)] = (kind, value)
        plan.pushed_cells += 1

    def push(self, plan, tab, data, row, column, sheet_row, col, value) -> None:
        self.write(plan, data, sheet_row, col, column.kind, value)
        plan.bases_after_write.append((tab.kind, row.key, column.header, value))

    def overwrite(self, plan, tab, data, row, column, sheet_row, col, bad_text) -> None:
        value = row.values.get(column.header, "")
        if bad_text:
            self.conflict(plan, tab, data, row, column.header, sheet_row, col, bad_text, value, APP)
        self.push(plan, tab, data, row, column, sheet_row, col, value)

    def conflict(
        self, plan, tab, data, row, header, sheet_row, col, seen, app_value, winner
    ) -> None:
        self.conflicts[(tab.kind, row.key, header)] = {
            "tab_kind": tab.kind,
            "row_key": row.key,
            "column": header,
            "cell": f"{quote_title(data.title)}!{a1(sheet_row, col)}",
            "label": f"{row.label} · {header}",
            "sheet_value": seen,
            "app_value": app_value,
            "winner": winner,
        }

    def problem(
        self, plan, tab, data, row, header, sheet_row, col, seen: Problem, cell: Cell
    ) -> None:
        self.problems[(tab.kind, row.key, header)] = {
            "tab_title": data.title,
            "cell": a1(sheet_row, col),
            "label": f"{row.label} · {header}",
            "text": seen.text,
            "reason": seen.reason,
        }
        note = problem_note(seen)
        if cell.note != note:
            plan.notes[data.gid][(sheet_row, col)] = note

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
        db.session.commit()

    def apply(self, plan: Plan) -> None:
        for change in plan.changes:
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
                reason = getattr(error, "message", None) or str(error)
                self.problems[key] = {
                    "tab_title": change.ref.rpartition("!")[0].strip("'").replace("''", "'"),
                    "cell": change.ref.rpartition("!")[2],
                    "label": f"{change.row.label} · {change.header}",
                    "text": change.value,
                    "reason": reason,
                }
                continue
            self.set_base(change.tab.kind, change.row.key, change.header, change.value)
            self.run.pulled += 1
        db.session.commit()

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
        db.session.commit()

    def requests(
        self, plan: Plan, sheet_tabs: dict[str, SheetTabData | None]
    ) -> list[dict[str, Any]]:
        requests = list(plan.structure)
        for gid, cells in plan.writes.items():
            requests += _update_cells(gid, cells)
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
        record = self.connection.tab(kind)
        if record is None:
            return
        bases = dict(record.bases or {})
        row = dict(bases.get(key, {}))
        row[header] = value
        bases[key] = row
        record.bases = bases


def _add_sheet(data: SheetTabData) -> dict[str, Any]:
    return {
        "addSheet": {
            "properties": {
                "sheetId": data.gid,
                "title": data.title,
                "gridProperties": {
                    "rowCount": data.row_count,
                    "columnCount": data.col_count,
                    "frozenRowCount": 1,
                    "frozenColumnCount": 2,
                },
            }
        }
    }


def _grid_size(gid: int, what: str, size: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": gid, "gridProperties": {what: size}},
            "fields": f"gridProperties.{what}",
        }
    }


def _update_cells(gid: int, cells: dict[tuple[int, int], tuple[str, str]]) -> list[dict[str, Any]]:
    """One updateCells per run of adjacent cells of a row: a whole new row is one request."""
    requests: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []
    start: tuple[int, int] | None = None
    previous: tuple[int, int] | None = None

    def flush() -> None:
        if start is not None and run:
            requests.append(
                {
                    "updateCells": {
                        "start": {"sheetId": gid, "rowIndex": start[0], "columnIndex": start[1]},
                        "rows": [{"values": list(run)}],
                        "fields": VALUE_FIELDS,
                    }
                }
            )

    for (row, col), (kind, value) in sorted(cells.items()):
        if previous is None or row != previous[0] or col != previous[1] + 1:
            flush()
            run = []
            start = (row, col)
        run.append(cell_data(kind, value))
        previous = (row, col)
    flush()
    return requests


def _digest(tabs: dict[str, Tab]) -> str:
    """A fingerprint of every managed app value: unchanged means nothing to push."""
    h = hashlib.sha256()
    for kind, tab in tabs.items():
        h.update(json.dumps([kind, [c.header for c in tab.columns]]).encode())
        for row in tab.rows:
            h.update(
                json.dumps([row.key, sorted(row.computed), row.values], sort_keys=True).encode()
            )
    return h.hexdigest()


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
    connection_id = connection.id
    db.session.info["hub.sync"] = True
    try:
        run.state, run.started_at = RunState.RUNNING, utcnow()
        connection.push_after = None
        db.session.commit()
        cycle = Cycle(workspace, connection, run)
        try:
            cycle.execute()
        finally:
            run.drive_calls = cycle.client.calls.drive
            run.read_calls = cycle.client.calls.reads
            run.write_calls = cycle.client.calls.writes
        connection.last_sync_at = connection.last_success_at = utcnow()
        if connection.state == SheetState.ATTENTION:
            connection.state = SheetState.OK
        connection.state_message = ""
        return _finish(run, RunState.DONE, run.message)
    except PauseCycle as pause:
        db.session.rollback()
        connection = db.session.get(SheetConnection, connection_id)
        connection.state = SheetState.PAUSED
        connection.state_message = f"Paused: {pause.details['reason']} Nothing was applied."
        connection.pause_details = pause.details
        connection.last_sync_at = utcnow()
        run = db.session.get(SyncRun, run.id)
        _count_calls(run, cycle)
        return _finish(run, RunState.PAUSED, connection.state_message)
    except sheets.SheetsError as error:
        db.session.rollback()
        connection = db.session.get(SheetConnection, connection_id)
        if isinstance(error, sheets.AccessDenied):
            connection.state = SheetState.ATTENTION
            connection.state_message = error.message
        connection.last_sync_at = utcnow()
        run = db.session.get(SyncRun, run.id)
        return _finish(run, RunState.FAILED, error.message)
    except Exception as error:  # the background job must outlive any bug; it is logged
        db.session.rollback()
        current_app.logger.exception("sync of workspace %s failed", workspace_id)
        run = db.session.get(SyncRun, run.id)
        return _finish(run, RunState.FAILED, f"The sync stopped on an internal error: {error}")
    finally:
        db.session.info.pop("hub.sync", None)
        release(connection_id, token)


def _count_calls(run: SyncRun, cycle: Any) -> None:
    calls = cycle.client.calls
    run.drive_calls, run.read_calls, run.write_calls = calls.drive, calls.reads, calls.writes


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
    source = "sheet" if conflict.winner == APP else "web"
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

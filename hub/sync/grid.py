"""The sheet's side of a cycle: a managed tab as read, and the requests that change it.

`read_grid` turns one `spreadsheets.get` answer (grid data with the fields GRID_FIELDS
asks for) into rows of `Cell`s; the request builders write typed cells (never
USER_ENTERED) in as few `updateCells` as adjacent cells allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.sync.cells import EMPTY, Cell, cell_data

__all__ = [
    "GRID_FIELDS",
    "META_FIELDS",
    "VALUE_FIELDS",
    "SheetTabData",
    "add_sheet",
    "grid_size",
    "header_row",
    "read_grid",
    "update_cells",
]

META_FIELDS = (
    "properties(title,locale),"
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)))"
)
GRID_FIELDS = (
    "sheets(properties(sheetId,title),data(rowData(values("
    "effectiveValue,formattedValue,effectiveFormat(numberFormat(type)),note))))"
)
VALUE_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat"


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
    repeats: list[tuple[str, int]] = field(default_factory=list)  # (key, row) seen again

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
            list(self.repeats),
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
                elif key:
                    self.repeats.append((key, row))


def read_grid(entry: dict[str, Any]) -> list[list[Cell]]:
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


def header_row(data: SheetTabData) -> list[str]:
    """The header row after placement: every managed and personal header by column."""
    row = [""] * (max(data.headers.values(), default=-1) + 1)
    for text, col in data.headers.items():
        row[col] = text
    return row


def add_sheet(data: SheetTabData) -> dict[str, Any]:
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


def grid_size(gid: int, what: str, size: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": gid, "gridProperties": {what: size}},
            "fields": f"gridProperties.{what}",
        }
    }


def update_cells(gid: int, cells: dict[tuple[int, int], tuple[str, str]]) -> list[dict[str, Any]]:
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

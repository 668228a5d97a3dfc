"""The spreadsheets the fake holds: tabs, cells, and the operations Sheets v4 performs on them."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .a1 import ParsedRange, RangeError, cell_name, column_letters, parse_range, quote_title
from .values import (
    FormulaError,
    as_extended,
    display,
    evaluate_formula,
    json_number,
    raw_entered,
    user_entered,
)

STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error the API answers with `{"error": {"code", "message", "status"}}`."""

    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, "UNKNOWN")

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def bad_range(text: str) -> ApiError:
    return ApiError(400, f"Unable to parse range: {text}")


@dataclass
class Cell:
    """What Sheets stores per cell: the value as entered, its number format, its note."""

    value: dict | None = None  # userEnteredValue: numberValue|stringValue|boolValue|formulaValue
    fmt: dict | None = None  # numberFormat {type, pattern}
    note: str | None = None

    def is_empty(self) -> bool:
        return self.value is None and self.fmt is None and self.note is None


@dataclass
class Sheet:
    """One tab: a grid of `row_count` rows, each a sparse {column: Cell}."""

    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    col_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    rows: list[dict[int, Cell]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.rows:
            self.rows = [{} for _ in range(self.row_count)]

    def properties(self) -> dict:
        grid: dict[str, int] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }

    def cell(self, row: int, col: int) -> Cell | None:
        if 0 <= row < self.row_count:
            return self.rows[row].get(col)
        return None

    def put(self, row: int, col: int, cell: Cell) -> None:
        if cell.is_empty():
            self.rows[row].pop(col, None)
        else:
            self.rows[row][col] = cell

    def grow(self, rows: int, cols: int) -> None:
        """Make the grid at least rows × cols (values.update expands the grid)."""
        if rows > self.row_count:
            self.rows.extend({} for _ in range(rows - self.row_count))
            self.row_count = rows
        self.col_count = max(self.col_count, cols)

    # dimension changes (0-based, end exclusive)
    def insert_rows(self, start: int, count: int) -> None:
        self.rows[start:start] = [{} for _ in range(count)]
        self.row_count += count

    def delete_rows(self, start: int, end: int) -> None:
        del self.rows[start:end]
        self.row_count -= end - start

    def insert_cols(self, start: int, count: int) -> None:
        self.rows = [{(c + count if c >= start else c): v for c, v in r.items()} for r in self.rows]
        self.col_count += count

    def delete_cols(self, start: int, end: int) -> None:
        width = end - start
        self.rows = [
            {(c - width if c >= end else c): v for c, v in r.items() if not start <= c < end}
            for r in self.rows
        ]
        self.col_count -= width

    def move_rows(self, start: int, end: int, destination: int) -> None:
        """moveDimension semantics: destination is an index in the grid before the move."""
        block = self.rows[start:end]
        rest = self.rows[:start] + self.rows[end:]
        at = destination if destination <= start else destination - (end - start)
        self.rows = rest[:at] + block + rest[at:]


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Spreadsheet:
    """A spreadsheet with its Drive side (version, modifiedTime, sharing)."""

    def __init__(
        self,
        spreadsheet_id: str,
        title: str,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        clock: Callable[[], dt.datetime] = _clock,
    ) -> None:
        self.id = spreadsheet_id
        self.title = title
        self.locale = locale
        self.time_zone = time_zone
        self.sheets: list[Sheet] = []
        self.shared = True
        self.clock = clock
        self.created = clock()
        self.modified = self.created
        self.version = 1

    # --- Drive ---------------------------------------------------------------------
    def touch(self) -> None:
        """Record a change: Drive's version grows, modifiedTime moves forward."""
        self.version += 1
        now = self.clock()
        if now <= self.modified:
            now = self.modified + dt.timedelta(milliseconds=1)
        self.modified = now

    def drive_file(self) -> dict:
        return {
            "kind": "drive#file",
            "id": self.id,
            "name": self.title,
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "version": str(self.version),
            "createdTime": _rfc3339(self.created),
            "modifiedTime": _rfc3339(self.modified),
        }

    # --- tabs ----------------------------------------------------------------------
    def ordered(self) -> list[Sheet]:
        return sorted(self.sheets, key=lambda s: s.index)

    def reindex(self) -> None:
        for i, sheet in enumerate(self.ordered()):
            sheet.index = i

    def sheet(self, key: str | int) -> Sheet:
        """A tab by title (str) or sheetId (int)."""
        for sheet in self.sheets:
            if (sheet.sheet_id if isinstance(key, int) else sheet.title) == key:
                return sheet
        raise KeyError(key)

    def by_id(self, sheet_id: Any, where: str) -> Sheet:
        try:
            return self.sheet(int(sheet_id or 0))
        except (KeyError, ValueError):
            raise ApiError(400, f"No grid with id: {sheet_id}") from None

    def add_sheet(
        self, title: str, sheet_id: int, index: int | None = None, rows: int = 1000, cols: int = 26
    ) -> Sheet:
        if any(s.title.lower() == title.lower() for s in self.sheets):
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        if any(s.sheet_id == sheet_id for s in self.sheets):
            raise ApiError(400, f"A sheet with the id {sheet_id} already exists.")
        position = len(self.sheets) if index is None else index
        for s in self.sheets:
            if s.index >= position:
                s.index += 1
        sheet = Sheet(sheet_id, title, position, rows, cols)
        self.sheets.append(sheet)
        self.reindex()
        return sheet

    def rename(self, sheet: Sheet, title: str) -> None:
        if not title.strip():
            raise ApiError(400, "The sheet name cannot be empty.")
        if any(s is not sheet and s.title.lower() == title.lower() for s in self.sheets):
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet.title = title

    def delete_sheet(self, sheet: Sheet) -> None:
        if len(self.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        self.sheets.remove(sheet)
        self.reindex()

    # --- ranges --------------------------------------------------------------------
    def resolve(self, text: str) -> tuple[Sheet, int, int, int | None, int | None]:
        """(sheet, row0, col0, row_end, col_end) — ends exclusive, None when open."""
        try:
            parsed: ParsedRange = parse_range(text, [s.title for s in self.sheets])
        except RangeError:
            raise bad_range(text) from None
        try:
            sheet = self.sheet(parsed.title) if parsed.title is not None else self.ordered()[0]
        except KeyError:
            raise bad_range(text) from None
        if parsed.start is None or parsed.end is None:
            return sheet, 0, 0, None, None
        s, e = parsed.start, parsed.end
        r0, r1 = s.row or 0, (e.row + 1 if e.row is not None else None)
        c0, c1 = s.col or 0, (e.col + 1 if e.col is not None else None)
        if r1 is not None and r1 <= r0:
            r0, r1 = r1 - 1, r0 + 1
        if c1 is not None and c1 <= c0:
            c0, c1 = c1 - 1, c0 + 1
        return sheet, r0, c0, r1, c1

    @staticmethod
    def a1(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> str:
        start, end = cell_name(r0, c0), cell_name(r1 - 1, c1 - 1)
        cells = start if start == end else f"{start}:{end}"
        return f"{quote_title(sheet.title)}!{cells}"

    # --- cell values ---------------------------------------------------------------
    def effective(self, sheet: Sheet, row: int, col: int, depth: int = 0) -> Any:
        """The computed value: float, str, bool, FormulaError, or None when empty."""
        cell = sheet.cell(row, col)
        if cell is None or cell.value is None:
            return None
        ((kind, value),) = cell.value.items()
        if kind == "formulaValue":
            if depth > 50:
                return FormulaError("REF", "Circular dependency detected.")

            def lookup(ref: str) -> Any:
                _, r, c, _, _ = self.resolve(f"{quote_title(sheet.title)}!{ref}")
                return self.effective(sheet, r, c, depth + 1)

            return evaluate_formula(value, lookup)
        if kind == "numberValue":
            return float(value)
        return value

    def render(self, sheet: Sheet, row: int, col: int, option: str, dates: str) -> Any:
        """One cell as the values API returns it under a valueRenderOption."""
        cell = sheet.cell(row, col)
        if cell is None or cell.value is None:
            return None
        if option == "FORMULA" and "formulaValue" in cell.value:
            return cell.value["formulaValue"]
        value = self.effective(sheet, row, col)
        fmt = cell.fmt
        if option == "FORMATTED_VALUE":
            return display(value, fmt, self.locale)
        if isinstance(value, FormulaError):
            return value.text
        if isinstance(value, float):
            if dates == "FORMATTED_STRING" and (fmt or {}).get("type") in ("DATE", "DATE_TIME"):
                return display(value, fmt, self.locale)
            return json_number(value)
        return value

    def cell_data(self, sheet: Sheet, row: int, col: int) -> dict:
        """CellData as spreadsheets.get returns it with grid data."""
        cell = sheet.cell(row, col)
        if cell is None:
            return {}
        data: dict[str, Any] = {}
        if cell.value is not None:
            ((kind, raw),) = cell.value.items()
            data["userEnteredValue"] = {kind: json_number(raw) if kind == "numberValue" else raw}
            value = self.effective(sheet, row, col)
            data["effectiveValue"] = as_extended(value)
            data["formattedValue"] = display(value, cell.fmt, self.locale)
        if cell.fmt is not None:
            data["userEnteredFormat"] = {"numberFormat": dict(cell.fmt)}
            data["effectiveFormat"] = {"numberFormat": dict(cell.fmt)}
        if cell.note:
            data["note"] = cell.note
        return data

    def read_values(
        self,
        text: str,
        option: str = "FORMATTED_VALUE",
        major: str = "ROWS",
        dates: str = "SERIAL_NUMBER",
    ) -> dict:
        """A ValueRange; trailing empty cells and rows are omitted as Google does."""
        if option not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
            raise ApiError(400, f"Invalid value at 'value_render_option' ({option})")
        sheet, r0, c0, r1, c1 = self.resolve(text)
        r1 = min(r1 if r1 is not None else sheet.row_count, sheet.row_count)
        c1 = min(c1 if c1 is not None else sheet.col_count, sheet.col_count)
        r1, c1 = max(r1, r0 + 1), max(c1, c0 + 1)
        grid = [
            [self.render(sheet, r, c, option, dates) for c in range(c0, c1)] for r in range(r0, r1)
        ]
        if major == "COLUMNS":
            grid = [list(col) for col in zip(*grid, strict=True)]
        values = []
        for line in grid:
            while line and line[-1] is None:
                line.pop()
            values.append(["" if v is None else v for v in line])
        while values and not values[-1]:
            values.pop()
        out: dict[str, Any] = {"range": self.a1(sheet, r0, c0, r1, c1), "majorDimension": major}
        if values:
            out["values"] = values
        return out

    def write_values(
        self, text: str, values: list[list[Any]], option: str, major: str = "ROWS"
    ) -> dict:
        """values.update: None skips a cell, "" clears it; the grid grows as needed."""
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: " + repr(option))
        sheet, r0, c0, r1, c1 = self.resolve(text)
        if r1 == r0 + 1 and c1 == c0 + 1:
            r1 = c1 = None  # a single cell only anchors the data, as in Google
        rows = values or []
        if major == "COLUMNS":
            width = max((len(c) for c in rows), default=0)
            rows = [[c[i] if i < len(c) else None for c in rows] for i in range(width)]
        height, width = len(rows), max((len(r) for r in rows), default=0)
        requested = self.a1(sheet, r0, c0, r1 or r0 + height, c1 or c0 + width)
        if r1 is not None and r0 + height > r1:
            raise ApiError(
                400,
                f"Requested writing within range [{requested}], "
                f"but tried writing to row [{r0 + height}]",
            )
        if c1 is not None and c0 + width > c1:
            raise ApiError(
                400,
                f"Requested writing within range [{requested}], "
                f"but tried writing to column [{column_letters(c0 + width - 1)}]",
            )
        sheet.grow(r0 + height, c0 + width)
        cells = 0
        for i, line in enumerate(rows):
            for j, raw in enumerate(line):
                if raw is None:
                    continue
                if isinstance(raw, list | dict):
                    raise ApiError(400, f"Invalid values[{i}][{j}]: list_value")
                self.enter(sheet, r0 + i, c0 + j, raw, option)
                cells += 1
        result: dict[str, Any] = {"spreadsheetId": self.id}
        if height and width:
            result.update(
                updatedRange=self.a1(sheet, r0, c0, r0 + height, c0 + width),
                updatedRows=height,
                updatedColumns=width,
                updatedCells=cells,
            )
        return result

    def enter(self, sheet: Sheet, row: int, col: int, raw: Any, option: str) -> None:
        """Put one value in a cell as RAW or USER_ENTERED input; format kept unless implied."""
        old = sheet.cell(row, col) or Cell()
        if option == "RAW":
            value, fmt = raw_entered(raw), None
        else:
            value, fmt = user_entered(raw, self.locale)
        sheet.put(row, col, Cell(value, fmt or old.fmt, old.note))

    def clear_values(self, text: str) -> str:
        sheet, r0, c0, r1, c1 = self.resolve(text)
        r1 = min(r1 if r1 is not None else sheet.row_count, sheet.row_count)
        c1 = min(c1 if c1 is not None else sheet.col_count, sheet.col_count)
        for r in range(r0, r1):
            for c in list(sheet.rows[r]):
                if c0 <= c < c1:
                    old = sheet.rows[r][c]
                    sheet.put(r, c, Cell(None, old.fmt, old.note))
        return self.a1(sheet, r0, c0, max(r1, r0 + 1), max(c1, c0 + 1))

    # --- spreadsheets.get ----------------------------------------------------------
    def metadata(self, grid_ranges: list[str] | None = None, include_grid: bool = False) -> dict:
        """The Spreadsheet resource; with grid data for `ranges` (or every tab)."""
        sheets = []
        wanted: dict[int, list[tuple[int, int, int, int]]] = {}
        if include_grid:
            for text in grid_ranges or []:
                sheet, r0, c0, r1, c1 = self.resolve(text)
                wanted.setdefault(sheet.sheet_id, []).append(
                    (
                        r0,
                        c0,
                        min(r1 or sheet.row_count, sheet.row_count),
                        min(c1 or sheet.col_count, sheet.col_count),
                    )
                )
        for sheet in self.ordered():
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if include_grid:
                boxes = wanted.get(sheet.sheet_id)
                if grid_ranges and not boxes:
                    continue
                boxes = boxes or [(0, 0, sheet.row_count, sheet.col_count)]
                entry["data"] = [self._grid(sheet, *box) for box in boxes]
            sheets.append(entry)
        return {
            "spreadsheetId": self.id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.id}/edit",
        }

    def _grid(self, sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> dict:
        row_data = []
        for r in range(r0, r1):
            cells = [self.cell_data(sheet, r, c) for c in range(c0, c1)]
            while cells and not cells[-1]:
                cells.pop()
            row_data.append({"values": cells} if cells else {})
        while row_data and not row_data[-1]:
            row_data.pop()
        data: dict[str, Any] = {}
        if r0:
            data["startRow"] = r0
        if c0:
            data["startColumn"] = c0
        if row_data:
            data["rowData"] = row_data
        return data

    def snapshot(self) -> Any:
        return copy.deepcopy((self.sheets, self.title, self.locale))

    def restore(self, snap: Any) -> None:
        self.sheets, self.title, self.locale = snap


def _rfc3339(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )

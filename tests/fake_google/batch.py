"""spreadsheets.batchUpdate: the structure and cell requests the sync sends, applied atomically."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .state import ApiError, Cell, Sheet, Spreadsheet

VALUE_KINDS = ("numberValue", "stringValue", "boolValue", "formulaValue")


def _mask(fields: str | None) -> set[str]:
    if not fields:
        raise ApiError(400, "At least one field must be updated, but 'fields' is empty.")
    return {f.strip().replace("/", ".") for f in fields.split(",") if f.strip()}


def _bounds(sheet: Sheet, grid: dict) -> tuple[int, int, int, int]:
    r0, c0 = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
    r1 = grid.get("endRowIndex", sheet.row_count)
    c1 = grid.get("endColumnIndex", sheet.col_count)
    if r1 > sheet.row_count or c1 > sheet.col_count:
        name = Spreadsheet.a1(sheet, r0, c0, r1, c1)
        raise ApiError(
            400,
            f"Range ({name}) exceeds grid limits. Max rows: "
            f"{sheet.row_count}, max columns: {sheet.col_count}",
        )
    return r0, c0, r1, c1


def _apply_cell(sheet: Sheet, row: int, col: int, data: dict, mask: set[str]) -> None:
    old = sheet.cell(row, col) or Cell()
    cell = Cell(old.value, old.fmt, old.note)
    every = "*" in mask
    if every or "userEnteredValue" in mask:
        value = data.get("userEnteredValue")
        if value is not None:
            kinds = [k for k in value if k in VALUE_KINDS]
            if len(kinds) != 1 or len(value) != 1:
                raise ApiError(
                    400,
                    "Invalid userEnteredValue: exactly one of "
                    + ", ".join(VALUE_KINDS)
                    + " must be set",
                )
            kind = kinds[0]
            raw = value[kind]
            value = {kind: float(raw) if kind == "numberValue" else raw}
        cell.value = value
    if every or mask & {"userEnteredFormat", "userEnteredFormat.numberFormat"}:
        cell.fmt = (data.get("userEnteredFormat") or {}).get("numberFormat")
    if every or "note" in mask:
        cell.note = data.get("note") or None
    sheet.put(row, col, cell)


def update_cells(book: Spreadsheet, req: dict) -> dict:
    mask = _mask(req.get("fields"))
    rows = req.get("rows") or []
    if "start" in req:
        start = req["start"]
        sheet = book.by_id(start.get("sheetId"), "updateCells")
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        height = len(rows)
        width = max((len(r.get("values") or []) for r in rows), default=0)
        _bounds(
            sheet,
            {
                "startRowIndex": r0,
                "startColumnIndex": c0,
                "endRowIndex": r0 + max(height, 1),
                "endColumnIndex": c0 + max(width, 1),
            },
        )
        for i, row in enumerate(rows):
            for j, data in enumerate(row.get("values") or []):
                _apply_cell(sheet, r0 + i, c0 + j, data or {}, mask)
    elif "range" in req:
        sheet = book.by_id(req["range"].get("sheetId"), "updateCells")
        r0, c0, r1, c1 = _bounds(sheet, req["range"])
        for r in range(r0, r1):
            line = (rows[r - r0].get("values") or []) if r - r0 < len(rows) else []
            for c in range(c0, c1):
                data = line[c - c0] if c - c0 < len(line) else {}
                _apply_cell(sheet, r, c, data or {}, mask)
    else:
        raise ApiError(400, "Invalid updateCells: one of start or range must be set")
    return {}


def repeat_cell(book: Spreadsheet, req: dict) -> dict:
    mask = _mask(req.get("fields"))
    sheet = book.by_id(req["range"].get("sheetId"), "repeatCell")
    r0, c0, r1, c1 = _bounds(sheet, req["range"])
    for r in range(r0, r1):
        for c in range(c0, c1):
            _apply_cell(sheet, r, c, req.get("cell") or {}, mask)
    return {}


def _dimension(book: Spreadsheet, rng: dict, where: str) -> tuple[Sheet, bool, int, int]:
    sheet = book.by_id(rng.get("sheetId"), where)
    rows = rng.get("dimension") == "ROWS"
    if rng.get("dimension") not in ("ROWS", "COLUMNS"):
        raise ApiError(400, f"Invalid {where}: dimension must be ROWS or COLUMNS")
    start, end = rng.get("startIndex", 0), rng.get("endIndex")
    if end is None or end <= start or start < 0:
        raise ApiError(400, f"Invalid {where}: range must have startIndex < endIndex")
    return sheet, rows, start, end


def insert_dimension(book: Spreadsheet, req: dict) -> dict:
    sheet, rows, start, end = _dimension(book, req.get("range") or {}, "insertDimension")
    limit = sheet.row_count if rows else sheet.col_count
    if start > limit:
        raise ApiError(400, f"Invalid insertDimension: startIndex {start} is beyond {limit}")
    (sheet.insert_rows if rows else sheet.insert_cols)(start, end - start)
    return {}


def delete_dimension(book: Spreadsheet, req: dict) -> dict:
    sheet, rows, start, end = _dimension(book, req.get("range") or {}, "deleteDimension")
    limit = sheet.row_count if rows else sheet.col_count
    if end > limit:
        raise ApiError(400, f"Invalid deleteDimension: endIndex {end} is beyond {limit}")
    if start == 0 and end == limit:
        what = "rows" if rows else "columns"
        raise ApiError(400, f"You can't delete all the {what} on the sheet.")
    (sheet.delete_rows if rows else sheet.delete_cols)(start, end)
    return {}


def move_dimension(book: Spreadsheet, req: dict) -> dict:
    sheet, rows, start, end = _dimension(book, req.get("source") or {}, "moveDimension")
    if not rows:
        raise ApiError(501, "moveDimension on COLUMNS is not implemented by the fake")
    sheet.move_rows(start, end, req.get("destinationIndex", 0))
    return {}


def append_dimension(book: Spreadsheet, req: dict) -> dict:
    sheet = book.by_id(req.get("sheetId"), "appendDimension")
    length = req.get("length", 0)
    if length <= 0:
        raise ApiError(400, "Invalid appendDimension: length must be positive")
    if req.get("dimension") == "ROWS":
        sheet.grow(sheet.row_count + length, sheet.col_count)
    elif req.get("dimension") == "COLUMNS":
        sheet.grow(sheet.row_count, sheet.col_count + length)
    else:
        raise ApiError(400, "Invalid appendDimension: dimension must be ROWS or COLUMNS")
    return {}


def make_add_sheet(new_id: Callable[[], int]) -> Callable[[Spreadsheet, dict], dict]:
    def add_sheet(book: Spreadsheet, req: dict) -> dict:
        props = req.get("properties") or {}
        title = props.get("title")
        if title is None:
            n = len(book.sheets) + 1
            while any(s.title == f"Sheet{n}" for s in book.sheets):
                n += 1
            title = f"Sheet{n}"
        grid = props.get("gridProperties") or {}
        sheet = book.add_sheet(
            title,
            props.get("sheetId", new_id()),
            props.get("index"),
            grid.get("rowCount", 1000),
            grid.get("columnCount", 26),
        )
        sheet.frozen_rows = grid.get("frozenRowCount", 0)
        sheet.frozen_cols = grid.get("frozenColumnCount", 0)
        return {"addSheet": {"properties": sheet.properties()}}

    return add_sheet


def delete_sheet(book: Spreadsheet, req: dict) -> dict:
    book.delete_sheet(book.by_id(req.get("sheetId"), "deleteSheet"))
    return {}


def update_sheet_properties(book: Spreadsheet, req: dict) -> dict:
    props = req.get("properties") or {}
    sheet = book.by_id(props.get("sheetId"), "updateSheetProperties")
    mask = _mask(req.get("fields"))
    every = "*" in mask
    grid = props.get("gridProperties") or {}
    if every or "title" in mask:
        book.rename(sheet, props.get("title", ""))
    if every or "index" in mask:
        target = props.get("index", 0)
        others = [s for s in book.ordered() if s is not sheet]
        others.insert(min(target, len(others)), sheet)
        for i, s in enumerate(others):
            s.index = i
    for name, attr in (("frozenRowCount", "frozen_rows"), ("frozenColumnCount", "frozen_cols")):
        if every or "gridProperties" in mask or f"gridProperties.{name}" in mask:
            setattr(sheet, attr, grid.get(name, 0))
    for name, attr in (("rowCount", "row_count"), ("columnCount", "col_count")):
        if (every or "gridProperties" in mask or f"gridProperties.{name}" in mask) and name in grid:
            want = grid[name]
            if attr == "row_count":
                if want < sheet.row_count:
                    sheet.delete_rows(want, sheet.row_count)
                sheet.grow(want, sheet.col_count)
            else:
                if want < sheet.col_count:
                    sheet.delete_cols(want, sheet.col_count)
                sheet.grow(sheet.row_count, want)
    return {}


def apply_requests(book: Spreadsheet, requests: list[dict], new_id: Callable[[], int]) -> list:
    """Apply every request or none (Google's batchUpdate is atomic); return the replies."""
    handlers: dict[str, Callable[[Spreadsheet, dict], dict]] = {
        "addSheet": make_add_sheet(new_id),
        "deleteSheet": delete_sheet,
        "updateSheetProperties": update_sheet_properties,
        "updateCells": update_cells,
        "repeatCell": repeat_cell,
        "insertDimension": insert_dimension,
        "deleteDimension": delete_dimension,
        "moveDimension": move_dimension,
        "appendDimension": append_dimension,
    }
    if not requests:
        raise ApiError(400, "Must specify at least one request.")
    snap = book.snapshot()
    replies: list[Any] = []
    try:
        for i, request in enumerate(requests):
            if not isinstance(request, dict) or len(request) != 1:
                raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request")
            ((kind, body),) = request.items()
            handler = handlers.get(kind)
            if handler is None:
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{kind}" '
                    f"at 'requests[{i}]': Cannot find field.",
                )
            try:
                replies.append(handler(book, body or {}))
            except ApiError as err:
                if err.code == 400 and not err.message.startswith("Invalid"):
                    err.message = f"Invalid requests[{i}].{kind}: {err.message}"
                raise
            except (KeyError, TypeError, ValueError) as err:
                raise ApiError(400, f"Invalid requests[{i}].{kind}: {err!r}") from None
    except ApiError:
        book.restore(snap)
        raise
    return replies

"""The fake's HTTP side: a WSGI app for Sheets v4 + Drive v3, faults, a request log, and
a requests adapter so the real gspread client can talk to it in-process."""

from __future__ import annotations

import json
import random
import re
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request, Response

from .batch import apply_requests
from .state import ApiError, Spreadsheet

GOOGLE_BASES = ("https://sheets.googleapis.com", "https://www.googleapis.com")

KIND = {
    "spreadsheets.get": "read",
    "values.get": "read",
    "values.batchGet": "read",
    "spreadsheets.create": "write",
    "spreadsheets.batchUpdate": "write",
    "values.update": "write",
    "values.batchUpdate": "write",
    "values.clear": "write",
    "values.batchClear": "write",
    "values.append": "write",
    "files.get": "drive",
}

URLS = Map(
    [
        Rule("/v4/spreadsheets", endpoint="create", methods=["POST"]),
        Rule("/v4/spreadsheets/<sid>", endpoint="spreadsheet", methods=["GET", "POST"]),
        Rule("/v4/spreadsheets/<sid>/<op>", endpoint="values_batch", methods=["GET", "POST"]),
        Rule(
            "/v4/spreadsheets/<sid>/values/<path:rng>",
            endpoint="values",
            methods=["GET", "PUT", "POST"],
        ),
        Rule("/drive/v3/files/<fid>", endpoint="file", methods=["GET"]),
    ],
    merge_slashes=False,
    strict_slashes=False,
)


class SimulatedTimeout(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised through the WSGI call so the in-process adapter turns it into ReadTimeout."""

    def __init__(self, applied: bool, response: Response | None = None) -> None:
        super().__init__("applied" if applied else "not applied")
        self.applied = applied
        self.response = response


@dataclass
class Fault:
    """One queued failure for the next request(s) matching `match`.

    `match` is an operation (`values.batchGet`, `spreadsheets.batchUpdate`, `files.get` …),
    a kind (`read`, `write`, `drive`) or None for any request.
    """

    status: int | None = None
    retry_after: int | None = None
    timeout: str | None = None  # "before" (nothing applied) or "after" (the write landed)
    match: str | None = None
    times: int = 1

    def matches(self, op: str, kind: str) -> bool:
        return self.match in (None, op, kind)

    @property
    def label(self) -> str:
        return f"timeout-{self.timeout}" if self.timeout else f"http-{self.status}"


@dataclass
class LoggedRequest:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    op: str
    kind: str  # read | write | drive | other
    body: str = ""
    status: int = 0
    fault: str | None = None


class RequestLog(list[LoggedRequest]):
    """Every request received, in order; `count()` for API-budget assertions."""

    def count(
        self, kind: str | None = None, op: str | None = None, faulted: bool | None = None
    ) -> int:
        return sum(
            1
            for r in self
            if kind in (None, r.kind)
            and op in (None, r.op)
            and (faulted is None or (r.fault is not None) == faulted)
        )

    @property
    def reads(self) -> int:
        """Sheets read calls (spreadsheets.get, values.get, values.batchGet)."""
        return self.count("read")

    @property
    def writes(self) -> int:
        """Sheets write calls (batchUpdate, values.update/batchUpdate/clear …)."""
        return self.count("write")

    @property
    def drive(self) -> int:
        return self.count("drive")

    def ops(self) -> list[str]:
        return [r.op for r in self]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(err: ApiError, drive: bool = False) -> Response:
    body = err.body()
    if drive:
        reason = {404: "notFound", 403: "forbidden"}.get(err.code, "backendError")
        body["error"]["errors"] = [{"message": err.message, "domain": "global", "reason": reason}]
    return _json(body, err.code)


_MASK_NAME = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*)\s*")


def parse_field_mask(text: str) -> dict | None:
    """`sheets(properties,data.rowData.values(effectiveValue))` → nested dict; None = all."""
    pos = 0

    def parse_list() -> dict:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            names = []
            while True:
                m = _MASK_NAME.match(text, pos)
                if not m:
                    raise ApiError(400, f"Invalid field selection {text}")
                names.append(m.group(1))
                pos = m.end()
                if pos < len(text) and text[pos] in "./":
                    pos += 1
                    continue
                break
            sub: dict | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(text) or text[pos] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                pos += 1
            node: dict | None = tree
            for name in names[:-1]:
                if node is None:
                    break
                node = node.setdefault(name, {})
            if node is not None:
                last = names[-1]
                if sub is None or node.get(last, {}) is None:
                    node[last] = None
                else:
                    node.setdefault(last, {}).update(sub)
            while pos < len(text) and text[pos] in " ,":
                pos += 1
            if pos < len(text) and text[pos] == ")":
                return tree
        return tree

    tree = parse_list()
    return None if "*" in tree else tree


def apply_field_mask(value: Any, tree: dict | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_field_mask(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: apply_field_mask(value[k], sub) for k, sub in tree.items() if k in value}
    return value


class FakeGoogle:
    """A stateful fake of the Sheets v4 + Drive v3 endpoints, with a Python state API.

    Tabs are addressed by title (str) or sheetId (int); cells by A1 (`"B2"`).
    Every change, through the API or the state API, bumps Drive's version.
    """

    def __init__(
        self, *, seed: int = 0, clock: Callable[[], Any] | None = None, hang_seconds: float = 30.0
    ) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.faults: list[Fault] = []
        self.log = RequestLog()
        self.hang_seconds = hang_seconds  # how long a standalone timeout fault stalls
        self._random = random.Random(seed)  # noqa: S311 - ids, not secrets
        self._clock = clock
        self._lock = threading.RLock()

    # --- spreadsheets and tabs ---------------------------------------------------------
    def create_spreadsheet(
        self,
        title: str = "Strategy Hub",
        tabs: Iterable[str] | dict[str, list[list[Any]]] = ("Sheet1",),
        *,
        spreadsheet_id: str | None = None,
        locale: str = "en_US",
        rows: int = 1000,
        cols: int = 26,
    ) -> str:
        """Create a spreadsheet; `tabs` maps titles to rows typed in from A1. Returns its id."""
        with self._lock:
            sid = spreadsheet_id or "".join(
                self._random.choice(string.ascii_letters + string.digits + "-_") for _ in range(44)
            )
            kwargs = {"clock": self._clock} if self._clock else {}
            book = Spreadsheet(sid, title, locale, **kwargs)
            content = tabs if isinstance(tabs, dict) else {t: [] for t in tabs}
            for i, name in enumerate(content):
                sheet = book.add_sheet(
                    name,
                    0 if i == 0 else self._new_sheet_id(),
                    None,
                    max(rows, len(content[name])),
                    cols,
                )
                for r, line in enumerate(content[name]):
                    sheet.grow(r + 1, len(line))
                    for c, raw in enumerate(line):
                        if raw is not None:
                            book.enter(sheet, r, c, raw, "USER_ENTERED")
            self.spreadsheets[sid] = book
            return sid

    def _new_sheet_id(self) -> int:
        return self._random.randrange(10**8, 2 * 10**9)

    def book(self, sid: str) -> Spreadsheet:
        return self.spreadsheets[sid]

    def tab(self, sid: str, tab: str | int):
        """The Sheet object of a tab, by title or gid."""
        return self.book(sid).sheet(tab)

    def _change(self, sid: str, action: Callable[[Spreadsheet], Any]) -> Any:
        with self._lock:
            book = self.book(sid)
            snap = book.snapshot()
            try:
                result = action(book)
            except Exception:
                book.restore(snap)
                raise
            book.touch()
            return result

    def _cell(self, book: Spreadsheet, tab: str | int, a1: str) -> tuple[Any, int, int]:
        sheet = book.sheet(tab)
        _, r, c, _, _ = book.resolve(f"{_quoted(sheet.title)}!{a1}")
        return sheet, r, c

    def type(self, sid: str, tab: str | int, a1: str, text: Any) -> None:
        """Type into a cell as a person would (USER_ENTERED, sheet locale); "" clears it."""
        self.type_rows(sid, tab, a1, [[text]])

    def type_rows(self, sid: str, tab: str | int, a1: str, rows: list[list[Any]]) -> None:
        """Paste a block of typed values with its top-left at `a1` (one change)."""

        def action(book: Spreadsheet) -> None:
            sheet, r0, c0 = self._cell(book, tab, a1)
            sheet.grow(r0 + len(rows), c0 + max((len(r) for r in rows), default=0))
            for i, line in enumerate(rows):
                for j, raw in enumerate(line):
                    if raw is not None:
                        book.enter(sheet, r0 + i, c0 + j, raw, "USER_ENTERED")

        self._change(sid, action)

    def set_note(self, sid: str, tab: str | int, a1: str, note: str | None) -> None:
        def action(book: Spreadsheet) -> None:
            from .state import Cell

            sheet, r, c = self._cell(book, tab, a1)
            old = sheet.cell(r, c) or Cell()
            sheet.put(r, c, Cell(old.value, old.fmt, note or None))

        self._change(sid, action)

    def value(self, sid: str, tab: str | int, a1: str, render: str = "UNFORMATTED_VALUE") -> Any:
        """One cell as values.get would render it; None when empty."""
        with self._lock:
            book = self.book(sid)
            sheet, r, c = self._cell(book, tab, a1)
            return book.render(sheet, r, c, render, "SERIAL_NUMBER")

    def values(self, sid: str, tab: str | int, render: str = "FORMATTED_VALUE") -> list[list]:
        """The whole tab as the raw API returns it (trailing empties omitted)."""
        with self._lock:
            book = self.book(sid)
            return book.read_values(_quoted(book.sheet(tab).title), render).get("values", [])

    def cell(self, sid: str, tab: str | int, a1: str) -> dict:
        """CellData (userEnteredValue, effectiveValue, formattedValue, format, note)."""
        with self._lock:
            book = self.book(sid)
            sheet, r, c = self._cell(book, tab, a1)
            return book.cell_data(sheet, r, c)

    def add_tab(self, sid: str, title: str, index: int | None = None) -> int:
        """Add a tab as a person would; returns its gid."""
        return self._change(sid, lambda b: b.add_sheet(title, self._new_sheet_id(), index).sheet_id)

    def rename_tab(self, sid: str, tab: str | int, title: str) -> None:
        self._change(sid, lambda b: b.rename(b.sheet(tab), title))

    def delete_tab(self, sid: str, tab: str | int) -> None:
        self._change(sid, lambda b: b.delete_sheet(b.sheet(tab)))

    def insert_rows(self, sid: str, tab: str | int, row: int, count: int = 1) -> None:
        """Insert `count` empty rows so that the first new one is row number `row`."""
        self._change(sid, lambda b: b.sheet(tab).insert_rows(row - 1, count))

    def delete_rows(self, sid: str, tab: str | int, row: int, count: int = 1) -> None:
        self._change(sid, lambda b: b.sheet(tab).delete_rows(row - 1, row - 1 + count))

    def insert_columns(self, sid: str, tab: str | int, column: str, count: int = 1) -> None:
        from .a1 import column_index

        self._change(sid, lambda b: b.sheet(tab).insert_cols(column_index(column), count))

    def delete_columns(self, sid: str, tab: str | int, column: str, count: int = 1) -> None:
        from .a1 import column_index

        start = column_index(column)
        self._change(sid, lambda b: b.sheet(tab).delete_cols(start, start + count))

    def move_rows(self, sid: str, tab: str | int, row: int, count: int, before_row: int) -> None:
        """Drag rows `row`..`row+count-1` above `before_row` (numbers before the move)."""
        self._change(
            sid, lambda b: b.sheet(tab).move_rows(row - 1, row - 1 + count, before_row - 1)
        )

    def sort_rows(
        self,
        sid: str,
        tab: str | int,
        by_column: str,
        *,
        first_row: int = 2,
        last_row: int | None = None,
        descending: bool = False,
    ) -> None:
        """Sort whole rows by one column, as Data → Sort range does (empties last)."""
        from .a1 import column_index

        col = column_index(by_column)

        def action(book: Spreadsheet) -> None:
            sheet = book.sheet(tab)
            end = last_row or sheet.row_count
            indices = list(range(first_row - 1, end))
            keyed = [(book.effective(sheet, r, col), sheet.rows[r]) for r in indices]
            filled = [k for k in keyed if k[0] is not None]
            empty = [k for k in keyed if k[0] is None]
            filled.sort(key=lambda k: _sort_key(k[0]), reverse=descending)
            for r, (_, line) in zip(indices, filled + empty, strict=True):
                sheet.rows[r] = line

        self._change(sid, action)

    def set_locale(self, sid: str, locale: str) -> None:
        def action(book: Spreadsheet) -> None:
            book.locale = locale

        self._change(sid, action)

    def set_shared(self, sid: str, shared: bool = True) -> None:
        """Unshared: Sheets answers 403 PERMISSION_DENIED and Drive 404, as Google does."""
        with self._lock:
            self.book(sid).shared = shared

    def drive_version(self, sid: str) -> int:
        return self.book(sid).version

    # --- faults ------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        match: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests with `status` (429, 500, 503 …)."""
        fault = Fault(status=status, retry_after=retry_after, match=match, times=times)
        self.faults.append(fault)
        return fault

    def timeout(
        self, *, after_write: bool = False, match: str | None = None, times: int = 1
    ) -> Fault:
        """Time out the next matching requests, before they apply or after the write landed."""
        fault = Fault(timeout="after" if after_write else "before", match=match, times=times)
        self.faults.append(fault)
        return fault

    def _take_fault(self, op: str, kind: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(op, kind):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- clients -----------------------------------------------------------------------
    def session(self) -> requests.Session:
        """A requests.Session whose every http(s) URL is served in-process by this fake."""
        session = requests.Session()
        adapter = FakeGoogleAdapter(self.wsgi_app)
        for prefix in ("https://", "http://"):
            session.mount(prefix, adapter)
        return session

    def client(self):
        """A real gspread.Client talking to this fake."""
        import gspread
        from google.auth.credentials import AnonymousCredentials

        return gspread.Client(auth=AnonymousCredentials(), session=self.session())

    # --- WSGI ----------------------------------------------------------------------------
    def wsgi_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.handle(request)
        except SimulatedTimeout as stall:
            if environ.get("fake_google.in_process"):
                raise
            time.sleep(self.hang_seconds)  # a real client gives up with ReadTimeout
            response = stall.response or _json(
                ApiError(504, "The request timed out (fake).").body(), 504
            )
        return response(environ, start_response)

    __call__ = wsgi_app

    def handle(self, request: Request) -> Response:
        path = request.path
        m = re.search(r"/(v4/spreadsheets|drive/v3/files)(/|$)", path)
        path = path[m.start() :] if m else path
        try:
            endpoint, args = URLS.bind("fake").match(path, method=request.method)
        except HTTPException as exc:
            code = exc.code or 404
            return _json(ApiError(code, f"The fake has no {request.method} {path}").body(), code)
        op, args = _operation(endpoint, args, request.method)
        kind = KIND.get(op, "other")
        with self._lock:
            entry = LoggedRequest(
                request.method,
                path,
                parse_qs(request.query_string.decode()),
                op,
                kind,
                _summary(request),
            )
            self.log.append(entry)
            fault = self._take_fault(op, kind)
            if fault is not None:
                entry.fault = fault.label
            if fault is not None and fault.status:
                entry.status = fault.status
                response = _fault_response(fault)
                return response
            if fault is not None and fault.timeout == "before":
                raise SimulatedTimeout(applied=False)
            response = self._dispatch(op, args, request)
            entry.status = response.status_code
            if fault is not None and fault.timeout == "after":
                raise SimulatedTimeout(applied=True, response=response)
            return response

    def _dispatch(self, op: str, args: dict, request: Request) -> Response:
        drive = op == "files.get"
        try:
            if op == "spreadsheets.create":
                return _json(self._create(_body(request)))
            if op == "values.append":
                raise ApiError(
                    501,
                    "values.append is not implemented by the fake "
                    "(and must not be used by the sync: retries duplicate rows)",
                )
            if op not in KIND:
                raise ApiError(404, f"Unknown operation {op}")
            sid = args["sid"]
            book = self.spreadsheets.get(sid)
            if book is None or not book.shared:
                if drive or book is None:
                    code = 404
                    msg = f"File not found: {sid}." if drive else "Requested entity was not found."
                    raise ApiError(code, msg)
                raise ApiError(403, "The caller does not have permission")
            if drive:
                fields = request.args.get("fields") or "kind,id,name,mimeType"
                return _json(apply_field_mask(book.drive_file(), parse_field_mask(fields)))
            if KIND[op] == "read":
                return _json(self._read(op, book, args, request))
            snap = book.snapshot()
            try:
                result = self._write(op, book, args, request)
            except ApiError:
                book.restore(snap)
                raise
            book.touch()
            return _json(result)
        except ApiError as err:
            return _error(err, drive)

    def _create(self, body: dict) -> dict:
        props = body.get("properties") or {}
        tabs = [(s.get("properties") or {}).get("title") for s in body.get("sheets") or []]
        sid = self.create_spreadsheet(
            props.get("title", "Untitled spreadsheet"),
            [t for t in tabs if t] or ["Sheet1"],
            locale=props.get("locale", "en_US"),
        )
        return self.book(sid).metadata()

    def _read(self, op: str, book: Spreadsheet, args: dict, request: Request) -> dict:
        q = request.args
        render = q.get("valueRenderOption", "FORMATTED_VALUE")
        major = q.get("majorDimension", "ROWS")
        dates = q.get("dateTimeRenderOption", "SERIAL_NUMBER")
        if op == "values.get":
            return book.read_values(args["rng"], render, major, dates)
        if op == "values.batchGet":
            return {
                "spreadsheetId": book.id,
                "valueRanges": [
                    book.read_values(r, render, major, dates) for r in q.getlist("ranges")
                ],
            }
        mask = parse_field_mask(q["fields"]) if q.get("fields") else None
        sheets_mask = (mask or {}).get("sheets", {}) if mask is not None else None
        wants_data = q.get("fields") is not None and (sheets_mask is None or "data" in sheets_mask)
        include = q.get("includeGridData", "false").lower() == "true" or wants_data
        return apply_field_mask(book.metadata(q.getlist("ranges"), include), mask)

    def _write(self, op: str, book: Spreadsheet, args: dict, request: Request) -> dict:
        if op == "values.clear":
            return {"spreadsheetId": book.id, "clearedRange": book.clear_values(args["rng"])}
        body = _body(request)
        if op == "values.batchClear":
            cleared = [book.clear_values(r) for r in body.get("ranges") or []]
            return {"spreadsheetId": book.id, "clearedRanges": cleared}
        if op == "spreadsheets.batchUpdate":
            replies = apply_requests(book, body.get("requests") or [], self._new_sheet_id)
            return {"spreadsheetId": book.id, "replies": replies}
        if op == "values.update":
            option = request.args.get("valueInputOption")
            if not option:
                raise ApiError(400, "'valueInputOption' is required but not specified")
            return book.write_values(
                args["rng"], body.get("values") or [], option, body.get("majorDimension", "ROWS")
            )
        option = body.get("valueInputOption")
        if not option:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        responses = [
            book.write_values(
                d.get("range", ""), d.get("values") or [], option, d.get("majorDimension", "ROWS")
            )
            for d in body.get("data") or []
        ]
        updated = [r for r in responses if "updatedRange" in r]
        return {
            "spreadsheetId": book.id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in updated),
            "totalUpdatedColumns": sum(r["updatedColumns"] for r in updated),
            "totalUpdatedCells": sum(r["updatedCells"] for r in updated),
            "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0] for r in updated}),
            "responses": responses,
        }


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, float):
        return (0, value)
    return (1, str(value).lower())


def _operation(endpoint: str, args: dict, method: str) -> tuple[str, dict]:
    if endpoint == "create":
        return "spreadsheets.create", args
    if endpoint == "file":
        return "files.get", {"sid": args["fid"]}
    if endpoint == "spreadsheet":
        sid, _, verb = args["sid"].partition(":")
        if verb == "batchUpdate" and method == "POST":
            return "spreadsheets.batchUpdate", {"sid": sid}
        return ("spreadsheets.get" if not verb and method == "GET" else f"?{verb}"), {"sid": sid}
    if endpoint == "values_batch":
        name = {
            "values:batchGet": "values.batchGet",
            "values:batchUpdate": "values.batchUpdate",
            "values:batchClear": "values.batchClear",
        }.get(args["op"], "?" + args["op"])
        return name, {"sid": args["sid"]}
    rng = args["rng"]
    if method == "GET":
        return "values.get", args
    if method == "PUT":
        return "values.update", args
    for verb in ("append", "clear"):
        if rng.endswith(":" + verb):
            return f"values.{verb}", {"sid": args["sid"], "rng": rng[: -len(verb) - 1]}
    return "?values", args


def _body(request: Request) -> dict:
    if not request.data:
        return {}
    try:
        body = json.loads(request.data)
    except ValueError:
        raise ApiError(400, "Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected an object.")
    return body


def _summary(request: Request) -> str:
    """A short description of the body: request kinds, ranges, cell counts."""
    try:
        body = json.loads(request.data) if request.data else {}
    except ValueError:
        return "<invalid json>"
    if not isinstance(body, dict):
        return "<non-object>"
    if "requests" in body:
        return ",".join(next(iter(r), "?") for r in body["requests"] if isinstance(r, dict))
    if "data" in body:
        return ";".join(str(d.get("range")) for d in body["data"] if isinstance(d, dict))
    if "values" in body:
        cells = sum(len(r) for r in body["values"] if isinstance(r, list))
        return f"{cells} cells"
    return ""


def _fault_response(fault: Fault) -> Response:
    messages = {
        429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
        "minute per user' of service 'sheets.googleapis.com'.",
        503: "The service is currently unavailable.",
        500: "Internal error encountered.",
    }
    err = ApiError(fault.status or 500, messages.get(fault.status or 500, "Injected fault."))
    response = _json(err.body(), err.code)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


class FakeGoogleAdapter(BaseAdapter):
    """A requests transport that serves every request through a WSGI app, in-process."""

    def __init__(self, app: Callable) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        builder = EnvironBuilder(
            path=url.path,
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=request.method,
            headers=headers,
            data=body,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        environ["fake_google.in_process"] = True
        try:
            app_iter, status, response_headers = run_wsgi_app(self.app, environ)
        except SimulatedTimeout as stall:
            where = "after the request was applied" if stall.applied else "before it applied"
            raise requests.exceptions.ReadTimeout(
                f"Read timed out (fake, {where})", request=request
            ) from None
        try:
            content = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(dict(response_headers))
        response._content = content
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class RewritingSession(requests.Session):
    """A session that sends Google's Sheets/Drive URLs to `base_url` (a standalone fake)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        for base in GOOGLE_BASES:
            if url.startswith(base):
                url = self.base_url + url[len(base) :]
        return super().request(method, url, *args, **kwargs)


@dataclass
class Served:
    """A standalone fake running in a background thread (see `serve`)."""

    fake: FakeGoogle
    url: str
    _server: Any = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join()


def serve(fake: FakeGoogle, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Serve `fake` over real HTTP on a thread (port 0 = any free port)."""
    from werkzeug.serving import make_server

    server = make_server(host, port, fake.wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Served(fake, f"http://{host}:{server.port}", server, thread)

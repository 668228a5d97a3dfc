"""The fake Sheets/Drive server, driven through the real gspread client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import gspread
import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from gspread.exceptions import APIError, SpreadsheetNotFound
from werkzeug.test import Client as WerkzeugClient

from tests.fake_google import FakeGoogle, RewritingSession, serve

DRIVE = "https://www.googleapis.com/drive/v3/files/"
KPI_ROWS = [
    ["ID", "KPI", "Goal", "2026-11-23", "2026-11-30"],
    ["K1", "Revenue", "", "1,234.5", "1300"],
    ["K2", "Churn", "", "12%"],
]


@pytest.fixture
def fake() -> FakeGoogle:
    return FakeGoogle()


@pytest.fixture
def sid(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet(
        "Hub", {"Weekly KPIs": KPI_ROWS, "Bob's OKRs": [["ID", "Key result"]]}
    )


@pytest.fixture
def gc(fake: FakeGoogle) -> Iterator[gspread.Client]:
    client = fake.client()
    yield client
    client.http_client.session.close()


@pytest.fixture
def book(gc: gspread.Client, sid: str, fake: FakeGoogle) -> gspread.Spreadsheet:
    spreadsheet = gc.open_by_key(sid)
    fake.log.clear()
    return spreadsheet


def drive_meta(gc: gspread.Client, sid: str) -> dict:
    params = {"fields": "version,modifiedTime"}
    return gc.http_client.request("get", DRIVE + sid, params=params).json()


# --- reading -----------------------------------------------------------------------------


def test_open_by_key_and_worksheets_cost_two_reads(fake, gc, sid):
    spreadsheet = gc.open_by_key(sid)
    tabs = spreadsheet.worksheets()

    assert spreadsheet.title == "Hub"
    assert spreadsheet.locale == "en_US"
    assert [(t.title, t.index) for t in tabs] == [("Weekly KPIs", 0), ("Bob's OKRs", 1)]
    assert tabs[0].id == 0
    assert tabs[1].id > 0
    assert (tabs[0].row_count, tabs[0].col_count) == (1000, 26)
    assert fake.log.reads == 2
    assert fake.log.ops() == ["spreadsheets.get"] * 2


def test_value_render_options(book):
    ws = book.sheet1

    assert ws.get("A2:E3", value_render_option="UNFORMATTED_VALUE") == [
        ["K1", "Revenue", "", 1234.5, 1300],
        ["K2", "Churn", "", 0.12],
    ]
    assert ws.get("A2:E3") == [
        ["K1", "Revenue", "", "1,234.50", "1300"],
        ["K2", "Churn", "", "12%"],
    ]
    # A typed ISO date becomes a date serial number, displayed as typed.
    assert ws.get("D1", value_render_option="UNFORMATTED_VALUE") == [[46349]]
    assert ws.acell("D1").value == "2026-11-23"


def test_batch_get_is_one_read(fake, book):
    result = book.values_batch_get(
        ["'Weekly KPIs'!A1:B2", "'Bob''s OKRs'", "'Weekly KPIs'!Z1"],
        params={"valueRenderOption": "UNFORMATTED_VALUE"},
    )

    ranges = result["valueRanges"]
    assert [r["range"] for r in ranges] == [
        "'Weekly KPIs'!A1:B2",
        "'Bob''s OKRs'!A1:Z1000",
        "'Weekly KPIs'!Z1",
    ]
    assert ranges[0]["values"] == [["ID", "KPI"], ["K1", "Revenue"]]
    assert ranges[1]["values"] == [["ID", "Key result"]]
    assert "values" not in ranges[2]  # an empty range has no values at all
    assert book.sheet1.batch_get(["A3", "B3"]) == [[["K2"]], [["Churn"]]]
    # `sheet1` costs a metadata read of its own: gspread does not cache worksheets.
    assert fake.log.ops() == ["values.batchGet", "spreadsheets.get", "values.batchGet"]


def test_trailing_empties_are_omitted_but_gspread_pads(fake, book, sid):
    fake.type(sid, "Weekly KPIs", "A6", "late")
    raw = book.values_get("'Weekly KPIs'!A1:Z")["values"]
    padded = book.sheet1.get_all_values()

    assert raw[2] == ["K2", "Churn", "", "12%"]  # interior empty kept as ""
    assert raw[3:] == [[], [], ["late"]]  # empty rows inside the data are []
    assert len(raw) == 6  # and rows after the last value are left out
    assert all(len(row) == 5 for row in padded)
    assert padded[2][-1] == ""


@pytest.mark.parametrize(
    ("title", "a1"),
    [
        ("Weekly KPIs", "'Weekly KPIs'!B2"),
        ("Bob's OKRs", "'Bob''s OKRs'!B1"),
        ("a/b c!d", "'a/b c!d'!B1"),
    ],
)
def test_quoted_tab_titles(fake, gc, sid, title, a1):
    if title == "a/b c!d":
        fake.add_tab(sid, title)
        fake.type(sid, title, "B1", "Key result")
    spreadsheet = gc.open_by_key(sid)

    assert spreadsheet.values_get(a1)["values"][0][0] in ("Revenue", "Key result")
    assert spreadsheet.worksheet(title).get("B1:B1") != []


def test_whole_sheet_and_open_ranges(book):
    assert book.values_get("'Weekly KPIs'!B:B")["values"] == [["KPI"], ["Revenue"], ["Churn"]]
    assert book.values_get("'Weekly KPIs'!2:2")["values"] == [
        ["K1", "Revenue", "", "1,234.50", "1300"]
    ]
    assert book.values_get("A3:B")["range"] == "'Weekly KPIs'!A3:B1000"  # no title: first tab


# --- writing -----------------------------------------------------------------------------


def test_raw_keeps_formula_text_user_entered_parses(fake, book, sid):
    ws = book.sheet1
    ws.update(
        [['=IMPORTXML("http://x")', "12%", "1,234.5", "TRUE"]], "A10", value_input_option="RAW"
    )
    ws.update(
        [['=IMPORTXML("http://x")', "12%", "1,234.5", "TRUE", "=1+2", "'007"]],
        "A11",
        value_input_option="USER_ENTERED",
    )

    unformatted = ws.get("A10:F11", value_render_option="UNFORMATTED_VALUE")
    assert unformatted[0] == ['=IMPORTXML("http://x")', "12%", "1,234.5", "TRUE"]
    assert unformatted[1] == ["#NAME?", 0.12, 1234.5, True, 3, "007"]
    assert ws.get("A11:F11", value_render_option="FORMULA") == [
        ['=IMPORTXML("http://x")', 0.12, 1234.5, True, "=1+2", "007"]
    ]
    assert fake.cell(sid, "Weekly KPIs", "A10")["userEnteredValue"] == {
        "stringValue": '=IMPORTXML("http://x")'
    }
    assert fake.cell(sid, "Weekly KPIs", "A11")["effectiveValue"]["errorValue"]["type"] == "NAME"
    assert fake.cell(sid, "Weekly KPIs", "B11")["userEnteredFormat"]["numberFormat"]["type"] == (
        "PERCENT"
    )


def test_values_update_null_skips_and_empty_string_clears(fake, book, sid):
    book.values_update(
        "'Weekly KPIs'!D2:E2", params={"valueInputOption": "RAW"}, body={"values": [[None, ""]]}
    )

    assert fake.value(sid, "Weekly KPIs", "D2") == 1234.5
    assert fake.value(sid, "Weekly KPIs", "E2") is None


def test_values_batch_update_and_range_overflow(fake, book, sid):
    result = book.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "'Weekly KPIs'!E3", "values": [[7]]},
                {"range": "'Bob''s OKRs'!A2:B2", "values": [["O1", "Ship it"]]},
            ],
        }
    )
    assert result["totalUpdatedCells"] == 3
    assert result["totalUpdatedSheets"] == 2
    assert fake.value(sid, "Bob's OKRs", "B2") == "Ship it"

    with pytest.raises(APIError) as err:
        book.values_update(
            "'Weekly KPIs'!A1:B1",
            params={"valueInputOption": "RAW"},
            body={"values": [["a", "b", "c"]]},
        )
    assert err.value.code == 400
    assert "tried writing to column [C]" in str(err.value)


def test_batch_update_structure_requests(fake, book, sid):
    version = fake.drive_version(sid)
    reply = book.batch_update(
        {
            "requests": [
                {
                    "addSheet": {
                        "properties": {
                            "title": "Initiatives",
                            "gridProperties": {"rowCount": 50, "columnCount": 7},
                        }
                    }
                },
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": 0, "gridProperties": {"frozenRowCount": 1}},
                        "fields": "gridProperties.frozenRowCount",
                    }
                },
                {
                    "insertDimension": {
                        "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
                    }
                },
                {
                    "updateCells": {
                        "start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 0},
                        "rows": [
                            {
                                "values": [
                                    {"userEnteredValue": {"stringValue": "K3"}},
                                    {
                                        "userEnteredValue": {"stringValue": '=IMPORTXML("x")'},
                                        "note": "Import problem: not a number",
                                    },
                                    {},
                                    {"userEnteredValue": {"numberValue": 5}},
                                ]
                            }
                        ],
                        "fields": "userEnteredValue,note",
                    }
                },
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": 0,
                            "dimension": "COLUMNS",
                            "startIndex": 2,
                            "endIndex": 3,
                        }
                    }
                },
                {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 4}},
            ]
        }
    )

    new_tab = reply["replies"][0]["addSheet"]["properties"]
    assert new_tab["title"] == "Initiatives"
    assert new_tab["index"] == 2
    assert new_tab["gridProperties"] == {"rowCount": 50, "columnCount": 7}
    assert reply["replies"][1:] == [{}] * 5
    assert fake.values(sid, 0, "UNFORMATTED_VALUE")[:3] == [
        ["ID", "KPI", 46349, 46356],
        ["K3", '=IMPORTXML("x")', 5],
        ["K1", "Revenue", 1234.5, 1300],
    ]
    assert fake.cell(sid, 0, "B2")["note"] == "Import problem: not a number"
    tab = book.get_worksheet_by_id(0)
    assert (tab.frozen_row_count, tab.col_count) == (1, 29)
    assert fake.drive_version(sid) == version + 1  # one call, one change


def test_batch_update_is_atomic(fake, book, sid):
    version = fake.drive_version(sid)
    with pytest.raises(APIError) as err:
        book.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Monthly KPIs"}}},
                    {
                        "updateCells": {
                            "start": {"sheetId": 0, "rowIndex": 999, "columnIndex": 0},
                            "rows": [{"values": [{}]}, {"values": [{}]}],
                            "fields": "userEnteredValue",
                        }
                    },
                ]
            }
        )

    assert err.value.code == 400
    assert err.value.error["message"].startswith("Invalid requests[1].updateCells: Range")
    assert "exceeds grid limits" in err.value.error["message"]
    assert [w.title for w in book.worksheets()] == ["Weekly KPIs", "Bob's OKRs"]
    assert fake.drive_version(sid) == version


def test_renamed_tab_is_found_by_gid_not_by_stale_title(fake, book, sid):
    stale = book.worksheet("Weekly KPIs")
    fake.rename_tab(sid, "Weekly KPIs", "Wöchentliche KPIs")

    with pytest.raises(APIError) as err:
        stale.get("A1")
    assert err.value.code == 400
    assert err.value.error["status"] == "INVALID_ARGUMENT"
    assert err.value.error["message"] == "Unable to parse range: 'Weekly KPIs'!A1"

    fresh = book.get_worksheet_by_id(0)
    assert fresh.title == "Wöchentliche KPIs"
    assert fresh.acell("B2").value == "Revenue"


# --- Drive -------------------------------------------------------------------------------


def test_drive_version_bumps_on_every_change_only(fake, gc, book, sid):
    seen = [drive_meta(gc, sid)]
    book.sheet1.get("A1")  # a read changes nothing
    seen.append(drive_meta(gc, sid))
    book.sheet1.update([["x"]], "H1", value_input_option="RAW")
    seen.append(drive_meta(gc, sid))
    fake.type(sid, "Weekly KPIs", "H2", "5")
    seen.append(drive_meta(gc, sid))
    fake.insert_rows(sid, 0, 2)
    seen.append(drive_meta(gc, sid))

    versions = [int(m["version"]) for m in seen]
    assert set(seen[0]) == {"version", "modifiedTime"}
    assert versions[0] == versions[1] < versions[2] < versions[3] < versions[4]
    times = [m["modifiedTime"] for m in seen]
    assert times[0] == times[1] < times[2] < times[3] < times[4]
    assert times[0].endswith("Z")
    assert "T" in times[0]


def test_gspread_drive_metadata(gc, sid):
    meta = gc.get_file_drive_metadata(sid)
    assert set(meta) == {"id", "name", "createdTime", "modifiedTime"}
    assert meta["name"] == "Hub"


# --- errors ------------------------------------------------------------------------------


def test_unknown_spreadsheet(gc):
    with pytest.raises(SpreadsheetNotFound):
        gc.open_by_key("nope")
    with pytest.raises(APIError) as err:
        drive_meta(gc, "nope")
    assert err.value.code == 404
    assert err.value.error["message"] == "File not found: nope."


def test_unshared_spreadsheet(fake, gc, sid):
    fake.set_shared(sid, False)
    with pytest.raises(PermissionError) as err:  # gspread's open_by_key translates 403
        gc.open_by_key(sid)
    assert isinstance(err.value.__cause__, APIError)
    assert err.value.__cause__.error == {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }
    with pytest.raises(APIError) as drive_err:
        drive_meta(gc, sid)
    assert drive_err.value.code == 404  # Drive hides files it will not show you

    fake.set_shared(sid, True)
    assert gc.open_by_key(sid).title == "Hub"


@pytest.mark.parametrize(
    "bad", ["'Nope'!A1", "'Weekly KPIs'!A1:B2:C3", "'Weekly KPIs'!A0", "'Unclosed!A1"]
)
def test_bad_ranges(book, bad):
    with pytest.raises(APIError) as err:
        book.values_get(bad)
    assert err.value.code == 400
    assert err.value.error["message"] == f"Unable to parse range: {bad}"


def test_cannot_delete_the_last_tab(book):
    book.del_worksheet_by_id(book.worksheets()[1].id)
    with pytest.raises(APIError) as err:
        book.del_worksheet(book.sheet1)
    assert "You can't remove all the sheets" in err.value.error["message"]


def test_value_input_option_is_required(book):
    with pytest.raises(APIError) as err:
        book.values_update("'Weekly KPIs'!A1", body={"values": [["x"]]})
    assert err.value.code == 400


# --- faults ------------------------------------------------------------------------------


def test_429_with_retry_after_then_recovers(fake, book):
    fake.fail(429, match="read", retry_after=7)

    with pytest.raises(APIError) as err:
        book.sheet1.get("A1")
    assert err.value.code == 429
    assert err.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert err.value.response.headers["Retry-After"] == "7"
    assert book.sheet1.get("A1") == [["ID"]]
    assert fake.log.count(faulted=True) == 1
    assert fake.log[0].fault == "http-429"


def test_503_matches_only_its_operation(fake, book):
    fake.fail(503, match="spreadsheets.batchUpdate", times=2)

    assert book.sheet1.get("A1") == [["ID"]]  # reads are unaffected
    for _ in range(2):
        with pytest.raises(APIError) as err:
            book.batch_update({"requests": [{"addSheet": {"properties": {}}}]})
        assert err.value.code == 503
        assert err.value.error["status"] == "UNAVAILABLE"
    book.batch_update({"requests": [{"addSheet": {"properties": {}}}]})
    assert [w.title for w in book.worksheets()][-1] == "Sheet3"


def test_timeout_before_the_write_applies_nothing(fake, book, sid):
    version = fake.drive_version(sid)
    fake.timeout(match="write")

    with pytest.raises(requests.exceptions.ReadTimeout):
        book.sheet1.update([["lost"]], "A20", value_input_option="RAW")
    assert fake.value(sid, 0, "A20") is None
    assert fake.drive_version(sid) == version


def test_timeout_after_the_write_landed(fake, book, sid):
    version = fake.drive_version(sid)
    fake.timeout(after_write=True, match="values.batchUpdate")

    with pytest.raises(requests.exceptions.ReadTimeout):
        book.values_batch_update(
            {"valueInputOption": "RAW", "data": [{"range": "'Weekly KPIs'!A20", "values": [["x"]]}]}
        )
    assert fake.value(sid, 0, "A20") == "x"
    assert fake.drive_version(sid) == version + 1
    assert fake.log[-1].fault == "timeout-after"
    assert fake.log[-1].status == 200


# --- the request log ---------------------------------------------------------------------


def test_request_log_counts_a_sync_cycle(fake, gc, book, sid):
    drive_meta(gc, sid)  # unchanged sheet: one Drive call, nothing else
    assert (fake.log.drive, fake.log.reads, fake.log.writes) == (1, 0, 0)

    fake.type(sid, "Weekly KPIs", "E3", "2%")
    book.fetch_sheet_metadata()
    book.values_batch_get(["'Weekly KPIs'", "'Bob''s OKRs'"])
    book.batch_update(
        {
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": 0, "rowIndex": 2, "columnIndex": 5},
                        "rows": [{"values": [{"userEnteredValue": {"stringValue": "ok"}}]}],
                        "fields": "userEnteredValue",
                    }
                }
            ]
        }
    )

    assert (fake.log.drive, fake.log.reads, fake.log.writes) == (1, 2, 1)
    last = fake.log[-1]
    assert (last.method, last.op, last.body) == ("POST", "spreadsheets.batchUpdate", "updateCells")
    assert fake.log[2].query["ranges"] == ["'Weekly KPIs'", "'Bob''s OKRs'"]


# --- grid data (values with their formats) -----------------------------------------------


def test_grid_data_returns_values_formats_and_notes(fake, book, sid):
    fake.set_note(sid, 0, "D3", "Import problem")
    meta = book.fetch_sheet_metadata(
        {
            "includeGridData": "true",
            "ranges": ["'Weekly KPIs'!D2:E3"],
            "fields": "sheets(properties(sheetId,title),data(startRow,startColumn,"
            "rowData.values(effectiveValue,formattedValue,userEnteredFormat.numberFormat,"
            "note)))",
        }
    )

    (tab,) = meta["sheets"]
    assert tab["properties"] == {"sheetId": 0, "title": "Weekly KPIs"}
    (data,) = tab["data"]
    assert (data["startRow"], data["startColumn"]) == (1, 3)
    row2, row3 = data["rowData"]
    assert row2["values"][0] == {
        "effectiveValue": {"numberValue": 1234.5},
        "formattedValue": "1,234.50",
        "userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "#,##0.00"}},
    }
    assert row2["values"][1] == {"effectiveValue": {"numberValue": 1300}, "formattedValue": "1300"}
    assert row3["values"] == [
        {
            "effectiveValue": {"numberValue": 0.12},
            "formattedValue": "12%",
            "userEnteredFormat": {"numberFormat": {"type": "PERCENT", "pattern": "0%"}},
            "note": "Import problem",
        }
    ]


def test_metadata_without_grid_data_has_none(book):
    assert all("data" not in s for s in book.fetch_sheet_metadata()["sheets"])


# --- the state API (what people do to the sheet) -----------------------------------------


def test_typing_follows_the_sheet_locale(fake, sid):
    fake.set_locale(sid, "de_DE")
    for cell, text in [("A1", "1.234,5"), ("A2", "1,234.5"), ("A3", "1,5 %"), ("A4", "1,234")]:
        fake.type(sid, "Bob's OKRs", cell, text)

    assert [fake.value(sid, "Bob's OKRs", f"A{i}") for i in range(1, 5)] == [
        1234.5,
        "1,234.5",
        0.015,
        1.234,
    ]
    assert fake.value(sid, "Bob's OKRs", "A1", "FORMATTED_VALUE") == "1.234,50"


@pytest.mark.parametrize("text", ["n/a", "12 units", "(500)", "$1.2k", "1.234,5"])
def test_text_a_person_types_stays_text_in_en_us(fake, sid, text):
    fake.type(sid, 0, "F2", text)
    assert fake.value(sid, 0, "F2") == text


def test_row_operations(fake, sid):
    fake.insert_rows(sid, 0, 2)
    assert fake.values(sid, 0)[1] == []
    fake.delete_rows(sid, 0, 2)
    fake.move_rows(sid, 0, 3, 1, before_row=2)  # drag K2 above K1
    assert [r[0] for r in fake.values(sid, 0)] == ["ID", "K2", "K1"]
    fake.sort_rows(sid, 0, "B")  # Churn < Revenue
    fake.sort_rows(sid, 0, "A", descending=True)
    assert [r[1] for r in fake.values(sid, 0)] == ["KPI", "Churn", "Revenue"]
    fake.insert_columns(sid, 0, "C", 2)
    assert fake.values(sid, 0)[0] == ["ID", "KPI", "", "", "Goal", "2026-11-23", "2026-11-30"]
    fake.delete_columns(sid, 0, "C", 3)
    assert fake.values(sid, 0)[0] == ["ID", "KPI", "2026-11-23", "2026-11-30"]


def test_delete_and_add_tabs(fake, gc, sid):
    gid = fake.add_tab(sid, "Mine")
    fake.delete_tab(sid, "Bob's OKRs")
    assert [(w.title, w.id) for w in gc.open_by_key(sid).worksheets()] == [
        ("Weekly KPIs", 0),
        ("Mine", gid),
    ]


# --- standalone --------------------------------------------------------------------------


def test_wsgi_app_serves_under_any_prefix(fake, sid):
    client = WerkzeugClient(fake.wsgi_app)
    response = client.get(f"/google/v4/spreadsheets/{sid}/values/%27Weekly%20KPIs%27%21B2")
    assert response.status_code == 200
    assert response.json == {
        "range": "'Weekly KPIs'!B2",
        "majorDimension": "ROWS",
        "values": [["Revenue"]],
    }
    missing = client.get("/v4/nothing/here")
    assert missing.status_code == 404
    assert missing.json["error"]["status"] == "NOT_FOUND"


def test_standalone_server_with_real_gspread_over_http(fake, sid):
    served = serve(fake)
    session = RewritingSession(served.url)
    try:
        gc = gspread.Client(auth=AnonymousCredentials(), session=session)
        spreadsheet = gc.open_by_key(sid)
        spreadsheet.sheet1.update([["over http"]], "A30", value_input_option="RAW")
        assert fake.value(sid, 0, "A30") == "over http"
        created = session.post(
            served.url + "/v4/spreadsheets",
            json={"properties": {"title": "New"}, "sheets": [{"properties": {"title": "OKRs"}}]},
        ).json()
        assert gc.open_by_key(created["spreadsheetId"]).sheet1.title == "OKRs"

        fake.hang_seconds = 0.5
        fake.timeout(after_write=True, match="values.update")
        gc.http_client.set_timeout(0.1)
        with pytest.raises(requests.exceptions.ReadTimeout):
            spreadsheet.sheet1.update([["late"]], "A31", value_input_option="RAW")
        assert fake.value(sid, 0, "A31") == "late"
    finally:
        session.close()
        served.stop()


def test_main_module_help():
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "tests.fake_google", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--port" in result.stdout
    assert "--spreadsheet" in result.stdout


def test_log_body_summary_is_json_safe(fake, book):
    book.sheet1.update([["a", "b"], ["c"]], "A40", value_input_option="RAW")
    assert fake.log[-1].body == "3 cells"
    json.dumps([vars(r) for r in fake.log])

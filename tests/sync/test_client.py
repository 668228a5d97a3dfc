"""The Sheets client against the fake Google, through real gspread: retries, refusals, budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from urllib3.exceptions import MaxRetryError, NewConnectionError

from hub.sync.client import (
    NOT_CONFIGURED,
    TIMEOUT,
    AccessDenied,
    Calls,
    RewritingSession,
    SheetsClient,
    SheetsError,
    Unavailable,
    WriteUncertain,
    make_client,
    service_account_email,
)
from tests.fake_google import FakeGoogle, FakeGoogleAdapter, Served, serve

FIELDS = "sheets.properties(sheetId,title)"
CELLS = "sheets.data.rowData.values(effectiveValue)"
EMAIL = "hub-sync@strategy-hub.iam.gserviceaccount.com"


class CountingLimiter:
    """A limiter that never waits and counts what it let through."""

    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1


@pytest.fixture
def fake() -> FakeGoogle:
    return FakeGoogle()


@pytest.fixture
def sid(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet("Hub", {"Tab": [["a", "b"]]})


@pytest.fixture
def sleeps() -> list[float]:
    """What the client would have slept, in order (it never really sleeps in tests)."""
    return []


def new_client(
    fake: FakeGoogle, sleeps: list[float], rng: float = 0.5, **kwargs: float
) -> SheetsClient:
    return SheetsClient(
        fake.client(), limiter=CountingLimiter(), sleep=sleeps.append, rng=lambda: rng, **kwargs
    )


@pytest.fixture
def sheets(fake: FakeGoogle, sleeps: list[float]) -> SheetsClient:
    return new_client(fake, sleeps)


@pytest.fixture
def credentials_file(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key file naming the service account, set as GOOGLE_APPLICATION_CREDENTIALS."""
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({"type": "service_account", "client_email": EMAIL}))
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


# --- the four calls ---------------------------------------------------------------------


def test_get_is_one_read_with_the_fields_mask(
    fake: FakeGoogle, sid: str, sheets: SheetsClient
) -> None:
    got = sheets.get(sid, fields=FIELDS)

    assert got == {"sheets": [{"properties": {"sheetId": 0, "title": "Tab"}}]}
    assert fake.log.ops() == ["spreadsheets.get"]
    assert fake.log[0].query["fields"] == [FIELDS]
    assert sheets.calls == Calls(reads=1)
    assert sheets.limiter.acquired == 1


def test_get_sends_every_range_and_grid_data(
    fake: FakeGoogle, sid: str, sheets: SheetsClient
) -> None:
    got = sheets.get(sid, fields=CELLS, ranges=["Tab!A1", "Tab!B1"], include_grid_data=True)

    [tab] = got["sheets"]  # one grid per range, in the order asked
    cells = [grid["rowData"][0]["values"][0]["effectiveValue"] for grid in tab["data"]]
    assert cells == [{"stringValue": "a"}, {"stringValue": "b"}]
    assert fake.log[0].query["ranges"] == ["Tab!A1", "Tab!B1"]
    assert fake.log[0].query["includeGridData"] == ["true"]
    assert fake.log.reads == 1


def test_drive_file_is_one_drive_call(fake: FakeGoogle, sid: str, sheets: SheetsClient) -> None:
    got = sheets.drive_file(sid)

    assert got["name"] == "Hub"
    assert {"version", "modifiedTime"} <= got.keys()
    assert fake.log.ops() == ["files.get"]
    assert sheets.calls == Calls(drive=1)


def test_writes_are_one_call_each_and_raw(fake: FakeGoogle, sid: str, sheets: SheetsClient) -> None:
    sheets.batch_update(
        sid,
        [
            {
                "updateCells": {
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": "K1"}}]}],
                    "fields": "userEnteredValue",
                    "start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 0},
                }
            }
        ],
    )
    sheets.values_batch_update(sid, [{"range": "Tab!B2", "values": [["=IMPORTXML(1)"]]}])

    assert fake.value(sid, "Tab", "A2") == "K1"
    assert fake.value(sid, "Tab", "B2") == "=IMPORTXML(1)"  # text, never a formula
    assert fake.log.ops() == ["spreadsheets.batchUpdate", "values.batchUpdate"]
    assert sheets.calls == Calls(writes=2)


def test_values_are_never_written_user_entered(
    fake: FakeGoogle, sid: str, sheets: SheetsClient
) -> None:
    with pytest.raises(ValueError, match="RAW"):
        sheets.values_batch_update(sid, [{"range": "Tab!A1", "values": [["1"]]}], "USER_ENTERED")
    assert fake.log.count() == 0


# --- retries ----------------------------------------------------------------------------


def test_a_429_waits_at_least_retry_after(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float]
) -> None:
    fake.fail(429, match="read", retry_after=3)

    assert sheets.get(sid, fields=FIELDS)["sheets"]
    assert len(sleeps) == 1
    assert sleeps[0] >= 3
    assert fake.log.reads == 2
    assert sheets.calls == Calls(reads=2)


def test_503_twice_then_success(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float]
) -> None:
    fake.fail(503, match="read", times=2)

    assert sheets.get(sid, fields=FIELDS)["sheets"]
    assert sleeps == [0.5, 1.0]  # rng 0.5 × 1 s, 2 s
    assert fake.log.reads == 3
    assert sheets.limiter.acquired == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_gives_up_after_five_tries(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float], status: int
) -> None:
    fake.fail(status, match="read", times=10)

    with pytest.raises(Unavailable) as raised:
        sheets.get(sid, fields=FIELDS)

    assert raised.value.status == status
    assert "5 tries" in raised.value.message
    assert fake.log.reads == 5
    assert len(sleeps) == 4
    assert sheets.calls == Calls(reads=5)


def test_a_write_refused_with_503_is_retried(
    fake: FakeGoogle, sid: str, sheets: SheetsClient
) -> None:
    fake.fail(503, match="write")

    sheets.values_batch_update(sid, [{"range": "Tab!A2", "values": [["x"]]}])

    assert fake.value(sid, "Tab", "A2") == "x"
    assert fake.log.writes == 2
    assert sheets.calls == Calls(writes=2)


def test_a_write_that_timed_out_is_never_retried(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float]
) -> None:
    fake.timeout(after_write=True, match="write")

    with pytest.raises(WriteUncertain):
        sheets.values_batch_update(sid, [{"range": "Tab!A2", "values": [["x"]]}])

    assert fake.value(sid, "Tab", "A2") == "x"  # it landed: a retry would have done it twice
    assert fake.log.writes == 1
    assert sleeps == []


@pytest.mark.parametrize("match", ["read", "drive"])
def test_a_read_that_timed_out_is_retried(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float], match: str
) -> None:
    fake.timeout(match=match, times=2)

    got = sheets.get(sid, fields=FIELDS) if match == "read" else sheets.drive_file(sid)

    assert got
    assert fake.log.count(match) == 3
    assert len(sleeps) == 2


def test_reads_give_up_on_timeouts_after_five_tries(
    fake: FakeGoogle, sid: str, sheets: SheetsClient
) -> None:
    fake.timeout(match="read", times=5)

    with pytest.raises(Unavailable, match="ReadTimeout"):
        sheets.get(sid, fields=FIELDS)
    assert fake.log.reads == 5


class FlakyAdapter(FakeGoogleAdapter):
    """Raises the given connection errors before anything reaches the fake, then serves."""

    def __init__(self, fake: FakeGoogle, errors: list[Exception]) -> None:
        super().__init__(fake.wsgi_app)
        self.errors = errors

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return super().send(request, *args, **kwargs)


def flaky_client(fake: FakeGoogle, sleeps: list[float], *errors: Exception) -> SheetsClient:
    sheets = new_client(fake, sleeps)
    sheets.gc.http_client.session.mount("https://", FlakyAdapter(fake, list(errors)))
    return sheets


REFUSED = requests.ConnectionError(
    MaxRetryError(None, "https://sheets.googleapis.com", NewConnectionError(None, "refused"))
)
ABORTED = requests.ConnectionError("Connection aborted: RemoteDisconnected")


def test_reads_retry_connection_errors(fake: FakeGoogle, sid: str, sleeps: list[float]) -> None:
    sheets = flaky_client(fake, sleeps, ABORTED, REFUSED)

    assert sheets.get(sid, fields=FIELDS)["sheets"]
    assert sheets.calls == Calls(reads=3)
    assert len(sleeps) == 2


def test_writes_retry_only_connections_that_never_opened(
    fake: FakeGoogle, sid: str, sleeps: list[float]
) -> None:
    data = [{"range": "Tab!A2", "values": [["x"]]}]
    sheets = flaky_client(fake, sleeps, REFUSED, requests.ConnectTimeout("connect"))
    sheets.values_batch_update(sid, data)
    assert fake.log.writes == 1
    assert sheets.calls == Calls(writes=3)

    with pytest.raises(WriteUncertain):
        flaky_client(fake, sleeps, ABORTED).values_batch_update(sid, data)


def test_backoff_is_jittered_and_capped(fake: FakeGoogle, sid: str) -> None:
    fake.fail(503, match="read", times=4)
    full: list[float] = []
    new_client(fake, full, rng=1.0, base_delay=1, max_delay=4, max_tries=5).get(sid, fields=FIELDS)
    fake.fail(503, match="read", times=3)
    quarter: list[float] = []
    new_client(fake, quarter, rng=0.25, base_delay=1, max_delay=4, max_tries=4).get(
        sid, fields=FIELDS
    )

    assert full == [1, 2, 4, 4]
    assert quarter == [0.25, 0.5, 1]


def test_retry_after_beats_max_delay_but_not_a_long_pause(
    fake: FakeGoogle, sid: str, sleeps: list[float]
) -> None:
    sheets = new_client(fake, sleeps, max_delay=2)
    fake.fail(429, match="read", retry_after=10)
    sheets.get(sid, fields=FIELDS)
    assert sleeps == [10]

    fake.fail(429, match="read", retry_after=3600)  # ends this cycle; the next one retries
    with pytest.raises(Unavailable):
        sheets.get(sid, fields=FIELDS)
    assert sleeps == [10]


# --- refusals ---------------------------------------------------------------------------


def test_403_names_the_service_account(
    fake: FakeGoogle, sid: str, sheets: SheetsClient, sleeps: list[float], credentials_file: Path
) -> None:
    fake.set_shared(sid, False)

    with pytest.raises(AccessDenied) as raised:
        sheets.get(sid, fields=FIELDS)

    assert raised.value.status == 403
    assert raised.value.message == (
        f"Google refused access to the sheet. Share it with {EMAIL} as Editor."
    )
    assert fake.log.reads == 1
    assert sleeps == []


def test_403_without_a_key_file_still_says_what_to_do(
    app: Flask, fake: FakeGoogle, sid: str, sheets: SheetsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", None)
    fake.set_shared(sid, False)

    with pytest.raises(AccessDenied, match="share it with the service account as Editor"):
        sheets.batch_update(sid, [])
    assert fake.log.writes == 1


@pytest.mark.parametrize("call", ["get", "drive_file"])
def test_404_is_access_denied(
    fake: FakeGoogle, sheets: SheetsClient, credentials_file: Path, call: str
) -> None:
    calls = {
        "get": lambda: sheets.get("no-such-sheet", fields=FIELDS),
        "drive_file": lambda: sheets.drive_file("no-such-sheet"),
    }
    with pytest.raises(AccessDenied) as raised:
        calls[call]()

    assert raised.value.status == 404
    assert "no sheet with id no-such-sheet" in raised.value.message
    assert f"share it with {EMAIL} as Editor" in raised.value.message
    assert fake.log.count() == 1


def test_other_4xx_carry_googles_message(fake: FakeGoogle, sid: str, sheets: SheetsClient) -> None:
    with pytest.raises(SheetsError) as raised:
        sheets.get(sid, fields="sheets((")

    assert type(raised.value) is SheetsError
    assert raised.value.status == 400
    assert "Invalid field selection sheets((" in raised.value.message
    assert fake.log.reads == 1


def test_calls_count_every_request_sent(fake: FakeGoogle, sid: str, sheets: SheetsClient) -> None:
    fake.fail(500, match="drive")
    fake.fail(429, match="write")
    sheets.drive_file(sid)
    sheets.get(sid, fields=FIELDS)
    sheets.values_batch_update(sid, [{"range": "Tab!A2", "values": [[1]]}])

    assert sheets.calls == Calls(drive=2, reads=1, writes=2)
    assert sheets.calls.total == fake.log.count() == sheets.limiter.acquired == 5


# --- configuration ----------------------------------------------------------------------


def test_service_account_email(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "key.json"
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", None)
    assert service_account_email() is None

    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert service_account_email() is None  # missing
    key.write_text("{not json")
    assert service_account_email() is None
    key.write_text("[]")
    assert service_account_email() is None
    key.write_text(json.dumps({"client_email": EMAIL}))
    assert service_account_email() == EMAIL


def test_service_account_email_outside_the_app() -> None:
    assert service_account_email() is None


def test_make_client_uses_the_configured_session(
    app: Flask, fake_google: FakeGoogle, sleeps: list[float]
) -> None:
    sid = fake_google.create_spreadsheet("Hub", {"Tab": [["a"]]})

    sheets = make_client()

    assert sheets.get(sid, fields=FIELDS)["sheets"][0]["properties"]["title"] == "Tab"
    assert sheets.gc.http_client.timeout == TIMEOUT
    assert fake_google.log.reads == 1


@pytest.fixture
def served() -> Iterator[Served]:
    served = serve(FakeGoogle())
    yield served
    served.stop()


@pytest.fixture
def no_google(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with no Google configured at all."""
    monkeypatch.delitem(app.config, "HUB_SHEETS_SESSION", raising=False)
    monkeypatch.setitem(app.config, "HUB_GOOGLE_API_URL", None)
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", None)
    return app


def test_make_client_reaches_an_emulator_over_http(
    no_google: Flask, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = served.fake.create_spreadsheet("Hub", {"Tab": [["a"]]})
    monkeypatch.setitem(no_google.config, "HUB_GOOGLE_API_URL", served.url + "/")

    sheets = make_client()

    assert sheets.get(sid, fields=FIELDS)["sheets"][0]["properties"]["title"] == "Tab"
    assert sheets.drive_file(sid)["name"] == "Hub"
    assert served.fake.log.ops() == ["spreadsheets.get", "files.get"]
    assert isinstance(sheets.gc.http_client.session.credentials, AnonymousCredentials)


def test_make_client_without_google_configured(no_google: Flask) -> None:
    with pytest.raises(SheetsError) as raised:
        make_client()
    assert raised.value.message == NOT_CONFIGURED


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot be read"), ("{oops", "not a service account"), ("{}", "not a service account")],
)
def test_make_client_with_a_bad_key_file(
    no_google: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    reason: str,
) -> None:
    key = tmp_path / "key.json"
    if content is not None:
        key.write_text(content)
    monkeypatch.setitem(no_google.config, "GOOGLE_APPLICATION_CREDENTIALS", str(key))

    with pytest.raises(SheetsError, match=reason):
        make_client()


@pytest.fixture
def service_account_key(no_google: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A well-formed (never used) service account key, set as GOOGLE_APPLICATION_CREDENTIALS."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = tmp_path / "key.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": EMAIL,
                "private_key": pem,
                "private_key_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    monkeypatch.setitem(no_google.config, "GOOGLE_APPLICATION_CREDENTIALS", str(key))
    return key


def test_make_client_authorises_with_the_service_account(service_account_key: Path) -> None:
    session = make_client().gc.http_client.session

    assert type(session) is AuthorizedSession
    assert isinstance(session.credentials, service_account.Credentials)
    assert session.credentials.service_account_email == EMAIL
    assert set(session.credentials.scopes) == {
        "https://www.googleapis.com/auth/spreadsheets",
        "https://www.googleapis.com/auth/drive.readonly",
    }


def test_make_client_authorises_an_emulator_when_a_key_is_set(
    service_account_key: Path, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "HUB_GOOGLE_API_URL", "http://127.0.0.1:1")

    session = make_client().gc.http_client.session

    assert isinstance(session, RewritingSession)
    assert isinstance(session.credentials, service_account.Credentials)

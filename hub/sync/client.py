"""The Google Sheets v4 / Drive v3 calls the sync makes, with bounded retries and the shared quota.

gspread 6.2.1 is used only for its HTTP layer (`Client.http_client.request`): its
`Spreadsheet` objects cost extra reads and its `BackOffHTTPClient` never gives up
(SHEETS.md §2 "Faults", §3). Only four calls exist, none of which can duplicate rows or
interpret user text: `files.get`, `spreadsheets.get`, `spreadsheets.batchUpdate` and
`values.batchUpdate` with RAW input.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import gspread
import requests
from flask import current_app, has_app_context
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
)
from urllib3.exceptions import NewConnectionError

from hub.sync.limiter import Limiter, limiter_for

__all__ = [
    "AccessDenied",
    "Calls",
    "SheetsClient",
    "SheetsError",
    "Unavailable",
    "WriteUncertain",
    "make_client",
    "service_account_email",
]

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
)
GOOGLE_BASES = ("https://sheets.googleapis.com", "https://www.googleapis.com")
TIMEOUT = (10.0, 30.0)  # seconds to connect, seconds to wait for Google's answer
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
# Drive reports its rate limits as 403 with one of these reasons, not as 429.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
MAX_RETRY_AFTER = 60.0  # Google asking for a longer pause ends the cycle; the next one retries
NOT_CONFIGURED = (
    "Google Sheets is not configured: set GOOGLE_APPLICATION_CREDENTIALS to the service "
    "account's JSON key file (docs/sync.md)"
)


class SheetsError(Exception):
    """Google or the network refused a call; `message` is written for people."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AccessDenied(SheetsError):
    """Google answered 403 or 404: a person must share the sheet with the service account."""


class Unavailable(SheetsError):
    """Google stayed busy, failing or unreachable through every try; a later cycle retries."""


class WriteUncertain(SheetsError):
    """A write got no answer and may have landed; never retried (the next cycle re-reads)."""


@dataclass
class Calls:
    """HTTP requests sent to Google, each try counted, as the quota counts them."""

    drive: int = 0
    reads: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        return self.drive + self.reads + self.writes


class SheetsClient:
    """The four Sheets/Drive calls the sync makes, each through the limiter and retries."""

    def __init__(
        self,
        gc: gspread.Client,
        *,
        limiter: Limiter,
        sleep: Callable[[float], None] = time.sleep,
        max_tries: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 32.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.gc = gc
        self.limiter = limiter
        self.sleep = sleep
        self.max_tries = max_tries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng
        self.calls = Calls()

    def drive_file(self, spreadsheet_id: str) -> dict[str, Any]:
        """Drive's version, modifiedTime and name of the sheet: the cheap "changed?" check."""
        url = f"{DRIVE_FILES_API_V3_URL}/{_quoted(spreadsheet_id)}"
        # supportsAllDrives: without it a sheet kept in a shared drive is a 404.
        params = {"fields": "version,modifiedTime,name", "supportsAllDrives": "true"}
        return self._call("drive", spreadsheet_id, "get", url, params=params)

    def get(
        self,
        spreadsheet_id: str,
        *,
        fields: str,
        ranges: list[str] | None = None,
        include_grid_data: bool = False,
    ) -> dict[str, Any]:
        """One `spreadsheets.get`, trimmed by the `fields` mask."""
        params: dict[str, Any] = {
            "fields": fields,
            "includeGridData": "true" if include_grid_data else "false",
        }
        if ranges:
            params["ranges"] = list(ranges)  # requests repeats the parameter per range
        url = SPREADSHEET_URL % _quoted(spreadsheet_id)
        return self._call("reads", spreadsheet_id, "get", url, params=params)

    def batch_update(self, spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """One `spreadsheets.batchUpdate`: all requests apply together or not at all."""
        url = SPREADSHEET_BATCH_UPDATE_URL % _quoted(spreadsheet_id)
        return self._call("writes", spreadsheet_id, "post", url, body={"requests": requests})

    def values_batch_update(
        self, spreadsheet_id: str, data: list[dict[str, Any]], value_input_option: str = "RAW"
    ) -> dict[str, Any]:
        """One `values.batchUpdate` of typed values (RAW only: user text stays text)."""
        if value_input_option != "RAW":
            raise ValueError(f"values are written RAW only, not {value_input_option}")
        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % _quoted(spreadsheet_id)
        body = {"valueInputOption": "RAW", "data": data}
        return self._call("writes", spreadsheet_id, "post", url, body=body)

    def _call(
        self,
        kind: str,
        spreadsheet_id: str,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one request, retrying what Google did not apply, up to `max_tries` tries."""
        for attempt in range(1, self.max_tries + 1):
            self.limiter.acquire()
            setattr(self.calls, kind, getattr(self.calls, kind) + 1)
            retry_after: float | None = None
            try:
                response = self.gc.http_client.request(method, url, params=params, json=body)
                return response.json()
            except gspread.exceptions.APIError as exc:
                status = exc.response.status_code
                if status in (403, 404) and not _rate_limited(exc):
                    raise _access_denied(status, spreadsheet_id) from exc
                if status not in RETRYABLE and not _rate_limited(exc):
                    raise SheetsError(
                        f"Google Sheets refused the request ({status}): {_message(exc)}", status
                    ) from exc
                retry_after = _retry_after(exc.response)
                failure = Unavailable(_unavailable(f"{status}: {_message(exc)}", attempt), status)
            except auth_exceptions.RefreshError as exc:
                raise SheetsError(
                    f"Google did not accept the service account's key: {exc}", 401
                ) from exc
            except (requests.RequestException, auth_exceptions.TransportError) as exc:
                if kind == "writes" and not _never_sent(exc):
                    raise WriteUncertain(
                        "Google did not answer in time, so the change may or may not have "
                        "been saved in the sheet; the next sync reads the sheet and finishes it."
                    ) from exc
                failure = Unavailable(_unavailable(type(exc).__name__, attempt))
            if attempt == self.max_tries or (retry_after or 0) > MAX_RETRY_AFTER:
                raise failure
            self.sleep(self._delay(attempt, retry_after))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff, but never shorter than Google's Retry-After."""
        delay = self.rng() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return max(delay, retry_after or 0.0)


def _quoted(spreadsheet_id: str) -> str:
    return quote(spreadsheet_id, safe="")


def _message(exc: gspread.exceptions.APIError) -> str:
    """Google's own explanation from the `{"error": {"message"}}` body."""
    error = exc.error if isinstance(exc.error, dict) else {}
    # gspread puts a non-JSON body (a proxy's HTML page) in "message" with code -1.
    message = error.get("message") if error.get("code") != -1 else None
    return str(message or exc.response.reason or "no explanation given").strip()


def _rate_limited(exc: gspread.exceptions.APIError) -> bool:
    errors = exc.error.get("errors") if isinstance(exc.error, dict) else None
    return any(isinstance(e, dict) and e.get("reason") in RATE_LIMIT_REASONS for e in errors or [])


def _retry_after(response: requests.Response) -> float | None:
    """The seconds Google asked to wait, when it said so in seconds."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _never_sent(exc: Exception) -> bool:
    """True when the request never left (no connection, no token): resending cannot duplicate."""
    if isinstance(exc, requests.ConnectTimeout | auth_exceptions.TransportError):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _unavailable(detail: str, tries: int) -> str:
    return (
        f"Google Sheets did not answer after {tries} {'try' if tries == 1 else 'tries'} "
        f"({detail}); the sync will try again later."
    )


def _access_denied(status: int, spreadsheet_id: str) -> AccessDenied:
    who = service_account_email()
    if status == 404:
        message = (
            f"Google has no sheet with id {spreadsheet_id}, or it is not shared with "
            f"{who or 'the service account'}. Check the sheet's address, and share it with "
            f"{who or 'the service account'} as Editor."
        )
    else:
        message = (
            f"Google refused access to the sheet. Share it with {who} as Editor."
            if who
            else "Google refused access to the sheet: share it with the service account as Editor."
        )
    return AccessDenied(message, status)


def service_account_email() -> str | None:
    """The service account's address from its key file, for "share the sheet with …"."""
    if not has_app_context():
        return None
    path = current_app.config.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            email = json.load(fh).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) and email else None


class RewritingSession(AuthorizedSession):
    """An authorised session that sends Google's Sheets/Drive URLs to another base URL.

    For an emulator or a standalone fake (HUB_GOOGLE_API_URL); the token refresh itself
    still goes to Google when the credentials are a service account's.
    """

    def __init__(self, base_url: str, credentials: Credentials) -> None:
        anonymous = isinstance(credentials, AnonymousCredentials)
        # Anonymous credentials cannot be refreshed: a 401 must not trigger a refresh.
        super().__init__(credentials, refresh_status_codes=() if anonymous else (401,))
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        for base in GOOGLE_BASES:
            if url.startswith(base):
                url = self.base_url + url[len(base) :]
                break
        return super().request(method, url, *args, **kwargs)


def _service_account() -> Credentials:
    """The service account's credentials from GOOGLE_APPLICATION_CREDENTIALS."""
    path = current_app.config.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        raise SheetsError(NOT_CONFIGURED)
    try:
        return service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
    except OSError as exc:
        raise SheetsError(
            f"The service account key file {path} (GOOGLE_APPLICATION_CREDENTIALS) cannot be "
            f"read: {exc.strerror or exc}."
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise SheetsError(
            f"The file {path} (GOOGLE_APPLICATION_CREDENTIALS) is not a service account's JSON "
            "key: download a new key for the service account from the Google Cloud console."
        ) from exc


def make_client() -> SheetsClient:
    """A client for the app's configured Google: a test session, an emulator, or Google."""
    config = current_app.config
    session_factory = config.get("HUB_SHEETS_SESSION")
    credentials: Credentials
    if session_factory is not None:
        credentials = AnonymousCredentials()
        session: requests.Session = session_factory()
    elif config.get("HUB_GOOGLE_API_URL"):
        anonymous = not config.get("GOOGLE_APPLICATION_CREDENTIALS")
        credentials = AnonymousCredentials() if anonymous else _service_account()
        session = RewritingSession(config["HUB_GOOGLE_API_URL"], credentials)
    else:
        credentials = _service_account()
        session = AuthorizedSession(credentials)
    # With a session given, gspread sends through it as is; `auth` is only kept for reference.
    gc = gspread.Client(auth=credentials, session=session)
    gc.set_timeout(TIMEOUT)
    return SheetsClient(gc, limiter=limiter_for(current_app))

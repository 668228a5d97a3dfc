"""A stateful in-process fake of the Google Sheets v4 and Drive v3 endpoints the sync uses.

    fake = FakeGoogle()
    sid = fake.create_spreadsheet("Hub", {"Weekly KPIs": [["ID", "KPI"], ["1", "Revenue"]]})
    gc = fake.client()                      # a real gspread.Client, served in-process
    fake.type(sid, "Weekly KPIs", "C2", "12%")   # a person typing
    fake.fail(429, match="read", retry_after=3)  # the next read is throttled
    fake.log.reads, fake.log.writes, fake.log.drive

Standalone: `python -m tests.fake_google --port 8765`, then HUB_GOOGLE_API_URL=http://127.0.0.1:8765.
"""

from .server import (
    FakeGoogle,
    FakeGoogleAdapter,
    Fault,
    LoggedRequest,
    RequestLog,
    RewritingSession,
    Served,
    serve,
)
from .state import ApiError

__all__ = [
    "ApiError",
    "FakeGoogle",
    "FakeGoogleAdapter",
    "Fault",
    "LoggedRequest",
    "RequestLog",
    "RewritingSession",
    "Served",
    "serve",
]

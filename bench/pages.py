"""Server time and query count of the strategy pages on a generated workspace.

Run with `make bench`. Builds a throw-away SQLite database (or uses DATABASE_URL) with a
workspace of 60 weekly KPIs × 156 values and 10 objectives × 4 KRs, then times each page
through the WSGI test client (server time: routing, queries, rules, templates; no
network) and reports the median of many runs, with the number of SQL statements each
request sends.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    os.environ.setdefault("SECRET_KEY", "bench")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url

    from flask_migrate import upgrade

    from hub import create_app
    from hub.extensions import db
    from tests.factories import Factory
    from tests.querycount import count_queries
    from tests.workload import generate_workspace

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.drop_all()
        upgrade(directory=app.extensions["migrate"].directory)
        owner = Factory().user("bench@example.com")
        workspace = generate_workspace(owner, slug="bench", today=date.today())
        slug, user_id = workspace.slug, owner.id

    from hub.domain.due import due_period
    from hub.domain.periods import Cadence

    due_key = due_period(Cadence.WEEKLY, date.today()).key
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("scorecard page", lambda: client.get(f"/w/{slug}/scorecard")),
        (
            "scorecard fragment (htmx filter)",
            lambda: client.get(f"/w/{slug}/scorecard?goal=1", headers={"HX-Request": "true"}),
        ),
        ("bets vs gauges page", lambda: client.get(f"/w/{slug}/bets")),
        ("KPI detail page (K1, 156 values)", lambda: client.get(f"/w/{slug}/kpis/K1")),
        ("check-in page", lambda: client.get(f"/w/{slug}/check-in")),
        ("check-in save (htmx, one KPI value)", lambda: save_check_in(client, slug, due_key)),
    ]

    print(f"Workspace: 60 weekly KPIs × 156 values, 10 objectives × 4 KRs; {RUNS} runs each")
    print(f"Database: {url.split(':', 1)[0]}; Python {sys.version.split()[0]}")
    print(f"{'request':42} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    with app.app_context():
        for name, call in cases:
            response = call()  # warm up (templates compiled, caches filled)
            status = getattr(response, "status_code", 200)
            if status >= 400:
                print(f"{name:42} failed with HTTP {status}")
                return 1
            timings = []
            for _ in range(RUNS):
                start = time.perf_counter()
                call()
                timings.append((time.perf_counter() - start) * 1000)
            with count_queries() as queries:
                call()
            timings.sort()
            p90 = timings[int(len(timings) * 0.9) - 1]
            print(f"{name:42} {statistics.median(timings):10.1f} {p90:8.1f} {queries.count:8}")
    return 0


_saves = iter(range(10**9))


def save_check_in(client: FlaskClient, slug: str, period: str) -> TestResponse:
    """Save a new value for K1 through the check-in row, as htmx does (a change each time)."""
    value = 100 + next(_saves) % 2  # alternate so every save really changes the value
    return client.post(
        f"/w/{slug}/check-in/kpis/K1",
        data={"kpi-K1-period": period, "kpi-K1-value": str(value), "kpi-K1-note": ""},
        headers={"HX-Request": "true", "HX-Target": "kpi-K1"},
    )


if __name__ == "__main__":
    sys.exit(main())

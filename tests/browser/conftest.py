"""Real headless Chromium against the app served from a thread.

Debian's chromium is driven through Playwright's `executable_path` (Playwright's own
browser download cannot work on a closed network). Outside CI the tests skip with the
reason when it is missing; in CI (`CI=true`) a missing browser is an error.
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from hub import create_app
from hub.extensions import db
from tests.conftest import IN_CI
from tests.fake_google import FakeGoogle, Served, serve

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _chromium_problem() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set HUB_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def live_google() -> Iterator[Served]:
    """A fake Google served over real HTTP, which the live server reaches as it would a
    Sheets emulator (HUB_GOOGLE_API_URL); tests add spreadsheets through `.fake`."""
    google = serve(FakeGoogle())
    yield google
    google.stop()


@pytest.fixture(scope="session")
def live_server(app: Flask, live_google: Served) -> Iterator[str]:
    """A second app on the suite's database, served on a free local port; yields its URL.

    Unlike the suite's app it keeps CSRF protection on, so the browser proves the
    tokens (form fields and the htmx header) are wired up as in production, and syncs
    run in a background thread as in the embedded production setup.
    """
    served = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": True,
            "HUB_GOOGLE_API_URL": live_google.url,
            "GOOGLE_APPLICATION_CREDENTIALS": None,  # the emulator takes anonymous requests
            "HUB_SYNC_RUNNER": "thread",
        }
    )
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with served.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    problem = _chromium_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _collect_dropped_transfers() -> Iterator[None]:
    """Collect files the server left open for dropped connections inside the browser test
    (where that warning is expected), not in whichever test happens to run next."""
    yield
    gc.collect()


@pytest.fixture
def context(browser, live_server: str):
    """A fresh browser profile (no cookies) per test."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def sign_in(page):
    """Log a browser page in through the real login form."""

    def _sign_in(email: str, password: str):
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    return _sign_in


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is marked `browser` and tolerates files left unclosed by the
    in-process server when Chromium drops a connection mid-transfer (navigating away
    while a static file streams): that is the browser's doing, not a leak in the app."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )

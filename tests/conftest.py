"""Shared fixtures: one migrated database per run, emptied after every test.

The database is the one the app would use: DATABASE_URL when set (CI points it at a
fresh PostgreSQL database), otherwise a SQLite file in a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from hub import create_app
from hub.extensions import db as _db
from hub.extensions import limiter
from tests import factories
from tests.fake_google import FakeGoogle

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Set before any app is built, so tests never write a key into the repo's instance folder.
os.environ.setdefault("SECRET_KEY", "test-secret-key")


class Client(FlaskClient):
    """The test client, with an empty `g` for every request, as in production.

    Tests run inside one app context, which requests reuse, and `g` lives on it: the
    signed-in user Flask-Login caches there and the workspace access would otherwise
    leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a freshly migrated database (migrations are exercised on every run)."""
    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _normalise(url),
            "WTF_CSRF_ENABLED": False,
            # Syncs run in the test's own thread, and Google's quota never makes one wait.
            "HUB_SYNC_RUNNER": "inline",
            "HUB_SHEETS_QUOTA": 1_000_000,
        }
    )
    with app.app_context():
        _drop_everything()
        upgrade(directory=app.extensions["migrate"].directory)
    app.test_client_class = Client
    # Initialised enabled (so a test can switch it on), then off for every other test.
    limiter.enabled = False
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _normalise(url: str) -> str:
    from hub.config import _database_url

    os.environ["DATABASE_URL"] = url
    return _database_url("")


def _drop_everything() -> None:
    """Start from an empty schema, even if a previous run was interrupted."""
    _db.drop_all()
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that use the app run inside its context, and leave every table empty."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        yield
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db(app: Flask):
    """The Flask-SQLAlchemy object, inside the app context."""
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make(app: Flask) -> factories.Factory:
    """Small factories for users, workspaces, KPIs… (they commit)."""
    return factories.Factory()


@pytest.fixture
def login(client: FlaskClient):
    """Log the test client in as a user (by session, skipping the form)."""

    def _login(user) -> FlaskClient:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return client

    return _login


@pytest.fixture
def fake_google(app: Flask) -> Iterator[FakeGoogle]:
    """A fresh fake Google that the app's Sheets client talks to (through real gspread)."""
    fake = FakeGoogle()
    app.config["HUB_SHEETS_SESSION"] = fake.session
    yield fake
    app.config.pop("HUB_SHEETS_SESSION", None)

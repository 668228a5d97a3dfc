"""The migrations on a real PostgreSQL, whatever database the rest of the suite uses.

Skipped with the reason when no PostgreSQL answers (set HUB_TEST_POSTGRES_URL to point
at one); in CI (`CI=true`) an unreachable server fails instead.
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import create_app
from tests.conftest import IN_CI

pytestmark = pytest.mark.postgres

ADMIN_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def scratch_url():
    """A fresh, empty PostgreSQL database for this module, dropped afterwards."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = f"no PostgreSQL at {ADMIN_URL} ({error.orig.__class__.__name__})"
        if IN_CI:
            pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
        pytest.skip(reason)
    name = f"hub_migrations_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migrations_build_the_whole_schema_on_postgresql(scratch_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from hub.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        db.engine.dispose()
    assert drift == [], drift
    assert {"workspaces", "kpis", "kpi_values", "value_changes", "share_links"} <= tables


def test_postgresql_keeps_34_digit_values_exactly(scratch_url):
    from hub.models.base import ExactDecimal

    engine = sa.create_engine(scratch_url)
    table = sa.Table("exact_probe", sa.MetaData(), sa.Column("v", ExactDecimal()))
    value = Decimal("-123456789012345678901234.1234567891")
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"v": value}, {"v": Decimal("0.1")}])
            stored = conn.execute(sa.select(table.c.v)).scalars().all()
        assert stored == [value, Decimal("0.1")]
        assert str(stored[1]) == "0.1"
    finally:
        engine.dispose()

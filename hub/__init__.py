"""Strategy Hub: KPIs and OKRs for small teams, synced with Google Sheets."""

from __future__ import annotations

from typing import Any

from flask import Flask

from hub.jsonio import ExactJSONProvider


class HubFlask(Flask):
    """Flask with exact-decimal JSON (the API never rounds a number through float)."""

    json_provider_class = ExactJSONProvider


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, CLI. No I/O beyond
    reading settings (and creating the instance folder's secret key on first run)."""
    app = HubFlask(__name__, instance_relative_config=True)
    register_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_cli(app)
    register_sync(app)
    return app


def register_config(app: Flask, config: dict[str, Any] | None) -> None:
    from hub.config import from_environment

    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)


def register_extensions(app: Flask) -> None:
    from hub import models  # noqa: F401  (registers every table with the metadata)
    from hub.auth import load_user
    from hub.extensions import (
        csrf,
        db,
        enable_sqlite_foreign_keys,
        htmx,
        limiter,
        login_manager,
        migrate,
    )

    enable_sqlite_foreign_keys()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    from hub.routes import (
        api,
        auth,
        bets,
        checkin,
        kpis,
        main,
        members,
        okrs,
        plan,
        scorecard,
        sheet,
        workspaces,
    )

    blueprints = (
        main,
        auth,
        workspaces,
        members,
        scorecard,
        bets,
        plan,
        kpis,
        checkin,
        okrs,
        sheet,
        api,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from hub.routes.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from hub import presenters, templating

    templating.register(app)
    presenters.register(app)


def register_cli(app: Flask) -> None:
    from hub.cli import hub_cli

    app.cli.add_command(hub_cli)


def register_sync(app: Flask) -> None:
    from hub.sync import jobs

    jobs.init_app(app)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"

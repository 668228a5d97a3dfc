"""The `flask --app wsgi hub …` commands."""

from __future__ import annotations

from flask.cli import AppGroup

hub_cli = AppGroup("hub", help="Strategy Hub commands.")

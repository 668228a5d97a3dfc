"""Settings read from the environment (PRODUCT.md §4)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "hub.sqlite3")
    # Heroku-style URLs and bare "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with 0600 so other local users cannot read the session-signing key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if value <= 0:
        raise RuntimeError(f"{name} must be positive, not {value}")
    return value


def from_environment(instance_path: str) -> dict[str, object]:
    """The app's configuration, read from environment variables."""
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    return {
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": _secret_key(instance_path),
        "REDIS_URL": redis_url,
        "GOOGLE_APPLICATION_CREDENTIALS": os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
        "HUB_GOOGLE_API_URL": os.environ.get("HUB_GOOGLE_API_URL") or None,
        "HUB_SYNC_INTERVAL": _int("HUB_SYNC_INTERVAL", 60),
        # Where sync cycles run: "thread" (embedded, in the web process), "rq" (jobs for
        # `rq worker`, the default with REDIS_URL) or "inline" (in the caller, for tests).
        "HUB_SYNC_RUNNER": os.environ.get("HUB_SYNC_RUNNER", "").strip()
        or ("rq" if redis_url else "thread"),
        # Google's quota: requests per minute for the one service account, every process.
        "HUB_SHEETS_QUOTA": _int("HUB_SHEETS_QUOTA", 60),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("HUB_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("HUB_LOGIN_RATE_LIMIT", "10 per minute"),
        # Where people reach the app. Unset, web pages link to the host they were asked
        # on, and the CLI (which has no request) prints http://127.0.0.1:$PORT.
        "PUBLIC_URL": os.environ.get("HUB_PUBLIC_URL", "").rstrip("/") or None,
    }


def cli_base_url(config: Mapping[str, Any]) -> str:
    """The base of links the CLI prints: HUB_PUBLIC_URL, else the local `make run` URL."""
    return config.get("PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"

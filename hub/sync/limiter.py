"""Google's quota, 60 requests a minute for the one service account, shared by every process.

A fixed window per minute: each request takes one unit of the current window; a full
window makes the caller sleep until the next one. Redis holds the counts when REDIS_URL is
set, else the database's `sync_quota` table does (SHEETS.md §2 "Faults").
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

import redis
from flask import Flask
from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.exc import IntegrityError

from hub.extensions import db
from hub.models import QuotaWindow

__all__ = ["DatabaseLimiter", "Limiter", "RedisLimiter", "limiter_for"]

KEEP_WINDOWS = 5  # past windows kept in sync_quota before a new window prunes them

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class Limiter(Protocol):
    """Lets one request to Google go when the shared quota allows it."""

    def acquire(self) -> None:
        """Block (sleep) until one more request may be sent."""


class _FixedWindow(ABC):
    """The waiting loop both limiters share; `_take` claims one unit of a window."""

    def __init__(self, limit: int, period: int, sleep: Sleep, clock: Clock) -> None:
        self.limit = limit
        self.period = period
        self.sleep = sleep
        self.clock = clock

    def acquire(self) -> None:
        """Block (sleep) until one more request may be sent."""
        while True:
            now = self.clock()
            window = int(now // self.period)
            if self._take(window):
                return
            self.sleep((window + 1) * self.period - now)

    @abstractmethod
    def _take(self, window: int) -> bool:
        """Claim one unit of the window; False when it is full."""


class RedisLimiter(_FixedWindow):
    """The quota counted in Redis: one INCR per request, keys expire after two windows."""

    def __init__(
        self,
        url: str,
        limit: int = 60,
        period: int = 60,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(limit, period, sleep, clock)
        self.redis = redis.Redis.from_url(url)

    def _take(self, window: int) -> bool:
        pipe = self.redis.pipeline()
        pipe.incr(f"hub:sheets:quota:{window}")
        pipe.expire(f"hub:sheets:quota:{window}", 2 * self.period)
        used, _ = pipe.execute()
        return int(used) <= self.limit


class DatabaseLimiter(_FixedWindow):
    """The quota counted in `sync_quota`, one row per window, in short transactions of its own.

    It never touches the Flask-SQLAlchemy session, so the caller's unit of work is unaffected;
    with SQLite, call it with no write transaction open on that session (it would wait for it).
    """

    def __init__(
        self,
        engine: Engine,
        limit: int = 60,
        period: int = 60,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(limit, period, sleep, clock)
        self.engine = engine

    def _take(self, window: int) -> bool:
        if self._increment(window):
            return True
        table = QuotaWindow.__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(minute=window, used=1))
                # Whoever opens a window sweeps the old ones: once a minute, by one process.
                conn.execute(delete(table).where(table.c.minute < window - KEEP_WINDOWS))
        except IntegrityError:
            # Another process opened this window first (or it is full): count in its row.
            return self._increment(window)
        return True

    def _increment(self, window: int) -> bool:
        """Take a unit of the window's row if it exists and is not full."""
        table = QuotaWindow.__table__
        with self.engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(table.c.minute == window, table.c.used < self.limit)
                .values(used=table.c.used + 1)
            )
            return result.rowcount == 1


def limiter_for(app: Flask) -> Limiter:
    """The app's limiter: Redis when REDIS_URL is set, else the database."""
    quota = app.config["HUB_SHEETS_QUOTA"]
    if app.config.get("REDIS_URL"):
        return RedisLimiter(app.config["REDIS_URL"], quota)
    with app.app_context():
        return DatabaseLimiter(db.engine, quota)

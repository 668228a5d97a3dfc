"""Google's per-minute quota, shared by every process through Redis or the database."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
import redis
import sqlalchemy
from flask import Flask
from sqlalchemy import select

from hub.extensions import db
from hub.models import QuotaWindow
from hub.sync.limiter import (
    KEEP_WINDOWS,
    DatabaseLimiter,
    Limiter,
    RedisLimiter,
    limiter_for,
)

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL")
START = 1_800_000_000 + 15.5  # 15.5 s into a minute (1_800_000_000 is a multiple of 60)
WINDOW = int(START // 60)


class FakeTime:
    """A clock that stands still until the limiter sleeps."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


MakeLimiter = Callable[[int, FakeTime], Limiter]


@pytest.fixture
def other_engine(app: Flask) -> Iterator[sqlalchemy.Engine]:
    """A second engine on the test database, as another process would have."""
    engine = sqlalchemy.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    yield engine
    engine.dispose()


@pytest.fixture
def redis_keys() -> Iterator[redis.Redis]:
    """The test Redis, without the quota keys these tests use, before and after."""
    if not REDIS_URL:
        pytest.skip("HUB_TEST_REDIS_URL is not set")
    client = redis.Redis.from_url(REDIS_URL)
    keys = [f"hub:sheets:quota:{w}" for w in range(WINDOW - 1, WINDOW + 12)]
    client.delete(*keys)
    yield client
    client.delete(*keys)
    client.close()


@pytest.fixture(params=["database", "redis"])
def make_limiters(
    request: pytest.FixtureRequest, app: Flask, other_engine: sqlalchemy.Engine
) -> Iterator[tuple[MakeLimiter, MakeLimiter]]:
    """Two ways to build a limiter on one shared count, as two processes would."""
    if request.param == "database":

        def on(engine: sqlalchemy.Engine) -> MakeLimiter:
            return lambda limit, t: DatabaseLimiter(engine, limit, sleep=t.sleep, clock=t.clock)

        yield on(db.engine), on(other_engine)
    else:
        request.getfixturevalue("redis_keys")
        made: list[RedisLimiter] = []

        def make(limit: int, t: FakeTime) -> Limiter:
            made.append(RedisLimiter(REDIS_URL or "", limit, sleep=t.sleep, clock=t.clock))
            return made[-1]

        yield make, make
        for limiter in made:
            limiter.redis.close()


def test_a_full_minute_waits_for_the_next(make_limiters: tuple[MakeLimiter, MakeLimiter]) -> None:
    t = FakeTime()
    limiter = make_limiters[0](60, t)

    for _ in range(60):
        limiter.acquire()
    assert t.sleeps == []

    limiter.acquire()
    assert t.sleeps == [60 - 15.5]  # until the next minute begins, then it goes
    for _ in range(59):
        limiter.acquire()
    assert t.sleeps == [44.5]


def test_processes_share_one_count(make_limiters: tuple[MakeLimiter, MakeLimiter]) -> None:
    first_time, second_time = FakeTime(), FakeTime()
    first = make_limiters[0](3, first_time)
    second = make_limiters[1](3, second_time)

    first.acquire()
    second.acquire()
    first.acquire()
    second.acquire()

    assert first_time.sleeps == []
    assert second_time.sleeps == [44.5]


def test_redis_keys_expire(redis_keys: redis.Redis) -> None:
    t = FakeTime()
    RedisLimiter(REDIS_URL or "", sleep=t.sleep, clock=t.clock).acquire()

    assert redis_keys.get(f"hub:sheets:quota:{WINDOW}") == b"1"
    assert 0 < redis_keys.ttl(f"hub:sheets:quota:{WINDOW}") <= 120


def quota_rows() -> dict[int, int]:
    db.session.expire_all()
    return {row.minute: row.used for row in db.session.scalars(select(QuotaWindow))}


def test_database_limiter_keeps_only_recent_windows(app: Flask) -> None:
    t = FakeTime()
    limiter = DatabaseLimiter(db.engine, sleep=t.sleep, clock=t.clock)
    for minutes in (0, 1, 1, KEEP_WINDOWS + 1):
        t.now = START + 60 * minutes
        limiter.acquire()
    assert quota_rows() == {WINDOW + 1: 2, WINDOW + KEEP_WINDOWS + 1: 1}

    t.now += 60
    limiter.acquire()
    assert quota_rows() == {WINDOW + KEEP_WINDOWS + 1: 1, WINDOW + KEEP_WINDOWS + 2: 1}


def test_database_limiter_counts_in_a_window_another_process_just_opened(
    app: Flask, other_engine: sqlalchemy.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = FakeTime()
    first = DatabaseLimiter(db.engine, sleep=t.sleep, clock=t.clock)
    second = DatabaseLimiter(other_engine, sleep=t.sleep, clock=t.clock)
    increment = first._increment

    def raced(window: int) -> bool:
        """The first UPDATE finds no row; the other process inserts it before our INSERT."""
        monkeypatch.setattr(first, "_increment", increment)
        found = increment(window)
        second.acquire()
        return found

    monkeypatch.setattr(first, "_increment", raced)
    first.acquire()

    assert quota_rows() == {WINDOW: 2}
    assert t.sleeps == []


def test_database_limiter_under_concurrency(app: Flask, other_engine: sqlalchemy.Engine) -> None:
    t = FakeTime()
    limiters = [
        DatabaseLimiter(engine, 20, sleep=t.sleep, clock=t.clock)
        for engine in (db.engine, other_engine) * 2
    ]
    errors: list[BaseException] = []

    def take_five(limiter: DatabaseLimiter) -> None:
        try:
            for _ in range(5):
                limiter.acquire()
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=take_five, args=(lim,)) for lim in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert t.sleeps == []  # all 20 fit the window, whoever opened it
    assert quota_rows() == {WINDOW: 20}


def test_limiter_for_uses_redis_when_configured(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    by_database = limiter_for(app)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/15")
    by_redis = limiter_for(app)

    assert isinstance(by_database, DatabaseLimiter)
    assert by_database.engine is db.engine
    assert isinstance(by_redis, RedisLimiter)
    assert by_database.limit == by_redis.limit == app.config["HUB_SHEETS_QUOTA"]
    by_redis.redis.close()

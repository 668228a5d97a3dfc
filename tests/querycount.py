"""Count the SQL statements a block of code sends to the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from hub.extensions import db


class Queries:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[Queries]:
    """Every statement executed on the app's engine inside the block."""
    queries = Queries()

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        queries.statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", record)

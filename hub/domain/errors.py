"""Errors raised by domain operations, carrying messages fit to show a user."""

from __future__ import annotations


class DomainError(Exception):
    """An operation refused: the message says why, in words for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist in this workspace."""


class Invalid(DomainError):
    """One or more problems with the input; nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

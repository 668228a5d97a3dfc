"""Form pieces shared by every area."""

from __future__ import annotations

from flask_wtf import FlaskForm

from hub.domain.errors import DomainError, Invalid


class ConfirmForm(FlaskForm):
    """An empty form: a POST-only button (log out, revoke, remove) that carries CSRF."""


def strip(value: str | None) -> str | None:
    """A filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


def show_problems(form: FlaskForm, error: DomainError) -> None:
    """Put a domain refusal on the form: each 'field: reason' beside its field, the rest
    at the top of the form."""
    if isinstance(error, Invalid):
        problems = [tuple(p.split(": ", 1)) if ": " in p else (None, p) for p in error.problems]
    else:
        problems = [(error.field, error.message)]
    for name, reason in problems:
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, reason]
        else:
            form.form_errors.append(reason)

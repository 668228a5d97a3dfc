"""Form pieces shared by every area."""

from __future__ import annotations

from flask_wtf import FlaskForm

from hub.domain.errors import DomainError, Invalid

# A submitted form that was refused is re-rendered with this status: the browser shows
# the page as usual, tests and tools can tell it from a success, and htmx swaps it too
# (base.html's htmx-config adds 422 to the statuses htmx swaps).
UNPROCESSABLE = 422


class ConfirmForm(FlaskForm):
    """An empty form: a POST-only button (log out, revoke, remove) that carries CSRF."""


def strip(value: str | None) -> str | None:
    """A filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


def status_for(*forms: FlaskForm) -> int:
    """200 for a page showing fresh forms, 422 when one of them was refused."""
    return UNPROCESSABLE if any(form.errors for form in forms) else 200


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

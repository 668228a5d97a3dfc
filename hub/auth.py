"""Who is asking, and what they may do in a workspace.

Every workspace-scoped route goes through `member_or_404` (or the API's equivalent):
a workspace the user does not belong to answers 404, so its existence never leaks.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, g, request
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.extensions import db
from hub.models import Membership, Role, User, Workspace


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user behind a session id."""
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def hash_token(token: str) -> str:
    """The stored form of a bearer, invite or share token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    """A fresh unguessable token (256 bits) with a readable prefix."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class Access:
    """A user's membership of one workspace."""

    workspace: Workspace
    user: User
    role: Role

    def can(self, minimum: Role) -> bool:
        return self.role.allows(minimum)


def find_access(user: User, slug: str) -> Access | None:
    """The user's access to the workspace `slug`, or None if not a member."""
    row = db.session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Workspace.slug == slug, Membership.user_id == user.id)
    ).first()
    if row is None:
        return None
    return Access(workspace=row[0], user=user, role=Role(row[1]))


def member_or_404(slug: str, minimum: Role = Role.VIEWER) -> Access:
    """The signed-in user's access to `slug`: 404 when not a member, 403 below `minimum`."""
    access = find_access(current_user, slug)
    if access is None:
        abort(404)
    if not access.can(minimum):
        abort(403)
    g.access = access
    return access


def mode_uses(workspace: Workspace, part: str) -> bool:
    """Whether the workspace's mode shows a part: "kpis", "okrs" or "both" (bets vs gauges)."""
    if part == "both":
        return workspace.uses_kpis and workspace.uses_okrs
    return workspace.uses_kpis if part == "kpis" else workspace.uses_okrs


def workspace_route(
    minimum: Role = Role.VIEWER, *, write: Role | None = None, uses: str | None = None
) -> Callable[..., Any]:
    """Decorate a view taking `slug`: log-in required, membership checked, `access` passed.

    `minimum` is the role needed to read; `write`, when given, the role needed for
    state-changing methods (POST, PUT, PATCH, DELETE) on the same URL. `uses` ("kpis",
    "okrs" or "both") hides a page the workspace's mode does not use: it answers 404, as
    if it did not exist, while the data behind it is kept.
    """

    def required(method: str) -> Role:
        return minimum if write is None or method in ("GET", "HEAD", "OPTIONS") else write

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(slug: str, **kwargs: Any) -> Any:
            access = member_or_404(slug, required(request.method))
            if uses is not None and not mode_uses(access.workspace, uses):
                abort(404)
            return view(access, **kwargs)

        wrapped.minimum_role_for = required  # type: ignore[attr-defined]  (read by access tests)
        return wrapped

    return decorator

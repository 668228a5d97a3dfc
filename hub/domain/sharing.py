"""Read-only scorecard links for people without an account."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.auth import hash_token, new_token
from hub.domain.errors import DomainError, NotFound
from hub.extensions import db
from hub.models import ShareLink, User, Workspace
from hub.models.base import utcnow

MAX_DAYS = 365
LABEL_LENGTH = 120
PREFIX_LENGTH = 10  # "shr_" and six characters: enough to tell links apart in a list


def create_share_link(
    workspace: Workspace, created_by: User | None, *, label: str = "", days: int | None = None
) -> tuple[ShareLink, str]:
    """A new share link and its token (returned once; only its hash is stored).

    `days=None` makes a link that lasts until it is revoked.
    """
    label = label.strip()
    if len(label) > LABEL_LENGTH:
        raise DomainError(f"A label is at most {LABEL_LENGTH} characters.", field="label")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise DomainError(f"A link lasts from 1 to {MAX_DAYS} days, or forever.", field="days")
    token = new_token("shr")
    link = ShareLink(
        workspace=workspace,
        token_hash=hash_token(token),
        prefix=token[:PREFIX_LENGTH],
        label=label,
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def live_share_links(workspace: Workspace) -> list[ShareLink]:
    """The links that still open the scorecard, newest first."""
    now = utcnow()
    links = db.session.scalars(
        select(ShareLink)
        .where(ShareLink.workspace_id == workspace.id, ShareLink.revoked_at.is_(None))
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    )
    return [link for link in links if link.is_live(now)]


def find_live_share_link(token: str) -> ShareLink | None:
    """The live link behind a token; None when unknown, revoked or expired (all look alike)."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    return link if link is not None and link.is_live() else None


def revoke_share_link(workspace: Workspace, link_id: int) -> ShareLink:
    """Revoke one of this workspace's links (another workspace's id is not found)."""
    link = db.session.scalar(
        select(ShareLink).where(ShareLink.id == link_id, ShareLink.workspace_id == workspace.id)
    )
    if link is None:
        raise NotFound("There is no such share link in this workspace.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    return link

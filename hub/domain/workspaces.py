"""Operations on workspaces, members and invites (flush, never commit)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.numbers import get_currency_name
from sqlalchemy import func, select

from hub.auth import hash_token, new_token
from hub.domain.accounts import create_user, find_user, normalize_email, set_password
from hub.domain.errors import DomainError, Invalid, NotFound
from hub.domain.periods import WEEKDAYS, is_valid_time_zone
from hub.extensions import db
from hub.models import Invite, Kpi, KpiValue, Membership, Mode, Role, User, Workspace
from hub.models.base import utcnow

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
INVITE_LIFETIMES = {"1 day": 1, "7 days": 7, "30 days": 30}


def slugify(name: str) -> str:
    """A URL slug suggested from a workspace name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64].strip("-") or "workspace"


def is_known_currency(code: str) -> bool:
    """True for ISO 4217 codes babel knows (USD, EUR, …)."""
    if not re.fullmatch(r"[A-Z]{3}", code or ""):
        return False
    return get_currency_name(code, locale="en") != code


@dataclass
class WorkspaceSettings:
    """The editable settings of a workspace, as typed by a user or a document."""

    name: str
    slug: str
    mode: str = Mode.BOTH.value
    time_zone: str = "UTC"
    week_start: str = "monday"
    fiscal_year_start_month: int = 1
    currency: str = "USD"

    def problems(self) -> list[str]:
        """Every problem with these settings, as 'field: reason'."""
        found = []
        if not self.name.strip():
            found.append("name: give the workspace a name")
        elif len(self.name.strip()) > 120:
            found.append("name: at most 120 characters")
        if not SLUG_RE.match(self.slug or ""):
            found.append(
                "slug: use 1–64 lowercase letters, digits and dashes, not starting or "
                "ending with a dash"
            )
        if self.mode not in {m.value for m in Mode}:
            found.append(f"mode: must be kpi, okr or both, not {self.mode!r}")
        if not is_valid_time_zone(self.time_zone or ""):
            found.append(f"time_zone: {self.time_zone!r} is not a known time zone")
        if self.week_start not in WEEKDAYS:
            found.append(f"week_start: must be a day name like 'monday', not {self.week_start!r}")
        if not isinstance(self.fiscal_year_start_month, int) or not (
            1 <= self.fiscal_year_start_month <= 12
        ):
            found.append("fiscal_year_start_month: must be a month number from 1 to 12")
        if not is_known_currency(self.currency or ""):
            found.append(f"currency: {self.currency!r} is not an ISO 4217 code like USD or EUR")
        return found

    def apply_to(self, workspace: Workspace) -> None:
        workspace.name = self.name.strip()
        workspace.slug = self.slug
        workspace.mode = self.mode
        workspace.time_zone = self.time_zone
        workspace.week_start = WEEKDAYS.index(self.week_start)
        workspace.fiscal_year_start_month = self.fiscal_year_start_month
        workspace.currency = self.currency


def settings_of(workspace: Workspace) -> WorkspaceSettings:
    """The current settings of a workspace."""
    return WorkspaceSettings(
        name=workspace.name,
        slug=workspace.slug,
        mode=workspace.mode,
        time_zone=workspace.time_zone,
        week_start=WEEKDAYS[workspace.week_start],
        fiscal_year_start_month=workspace.fiscal_year_start_month,
        currency=workspace.currency,
    )


def slug_taken(slug: str, *, other_than: Workspace | None = None) -> bool:
    query = select(Workspace.id).where(Workspace.slug == slug)
    if other_than is not None:
        query = query.where(Workspace.id != other_than.id)
    return db.session.scalar(query) is not None


def create_workspace(settings: WorkspaceSettings, owner: User | None) -> Workspace:
    """A new workspace whose creator becomes its owner."""
    problems = settings.problems()
    if not problems and slug_taken(settings.slug):
        problems.append(f"slug: {settings.slug!r} is already taken")
    if problems:
        raise Invalid(problems)
    workspace = Workspace()
    settings.apply_to(workspace)
    db.session.add(workspace)
    if owner is not None:
        db.session.add(Membership(workspace=workspace, user=owner, role=Role.OWNER.value))
    db.session.flush()
    return workspace


def update_settings(workspace: Workspace, settings: WorkspaceSettings) -> None:
    """Change a workspace's settings after validating them all."""
    problems = settings.problems()
    if not problems and slug_taken(settings.slug, other_than=workspace):
        problems.append(f"slug: {settings.slug!r} is already taken")
    problems += _calendar_problems(workspace, settings)
    if problems:
        raise Invalid(problems)
    settings.apply_to(workspace)
    db.session.flush()


def _calendar_problems(workspace: Workspace, settings: WorkspaceSettings) -> list[str]:
    """Refuse calendar changes that would orphan stored periods.

    Weekly values are keyed by their week's first day and quarterly ones by their
    (fiscal) quarter: a new week start or fiscal-year start would make them name periods
    that no longer exist, so such a change waits until no value of that cadence exists.
    """
    problems = []
    if settings.week_start != WEEKDAYS[workspace.week_start] and _has_values(workspace, "weekly"):
        problems.append(
            "week_start: weekly KPIs already have values keyed by their week's first day; "
            "the week start cannot change any more"
        )
    if settings.fiscal_year_start_month != workspace.fiscal_year_start_month and _has_values(
        workspace, "quarterly"
    ):
        problems.append(
            "fiscal_year_start_month: quarterly KPIs already have values keyed by their "
            "quarter; the fiscal year start cannot change any more"
        )
    return problems


def _has_values(workspace: Workspace, cadence: str) -> bool:
    return (
        db.session.scalar(
            select(KpiValue.id)
            .join(Kpi, Kpi.id == KpiValue.kpi_id)
            .where(Kpi.workspace_id == workspace.id, Kpi.cadence == cadence)
            .limit(1)
        )
        is not None
    )


def delete_workspace(workspace: Workspace) -> None:
    """Delete a workspace and everything in it."""
    db.session.delete(workspace)
    db.session.flush()


def workspaces_of(user: User) -> list[tuple[Workspace, Role, int]]:
    """The user's workspaces by name, each with the user's role and its member count."""
    member_count = (
        select(func.count(Membership.id))
        .where(Membership.workspace_id == Workspace.id)
        .correlate(Workspace)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Workspace, Membership.role, member_count)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(func.lower(Workspace.name), Workspace.slug)
    ).all()
    return [(workspace, Role(role), count) for workspace, role, count in rows]


def memberships(workspace: Workspace) -> list[Membership]:
    """The workspace's members, owners first, then by email."""
    rank = {r.value: -r.rank for r in Role}
    rows = db.session.scalars(
        select(Membership).join(User).where(Membership.workspace_id == workspace.id)
    ).all()
    return sorted(rows, key=lambda m: (rank[m.role], m.user.email))


def _owner_count(workspace: Workspace) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace.id, Membership.role == Role.OWNER.value)
    )


def membership_of(workspace: Workspace, membership_id: int) -> Membership:
    member = db.session.get(Membership, membership_id)
    if member is None or member.workspace_id != workspace.id:
        raise NotFound("No such member in this workspace.")
    return member


def add_member(workspace: Workspace, user: User, role: Role) -> Membership:
    """Give a user a role in the workspace (or change the role they have)."""
    existing = db.session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    if existing is not None:
        change_role(workspace, existing, role)
        return existing
    member = Membership(workspace=workspace, user=user, role=role.value)
    db.session.add(member)
    db.session.flush()
    return member


def change_role(workspace: Workspace, member: Membership, role: Role) -> None:
    """Change a member's role; a workspace always keeps at least one owner."""
    if member.role == Role.OWNER and role != Role.OWNER and _owner_count(workspace) <= 1:
        raise DomainError("A workspace needs at least one owner: make someone else owner first.")
    member.role = role.value
    db.session.flush()


def remove_member(workspace: Workspace, member: Membership) -> None:
    """Remove a member; the last owner cannot be removed."""
    if member.role == Role.OWNER and _owner_count(workspace) <= 1:
        raise DomainError("The last owner cannot be removed.")
    db.session.delete(member)
    db.session.flush()


def create_invite(
    workspace: Workspace, role: Role, created_by: User | None, *, days: int = 7, email: str = ""
) -> tuple[Invite, str]:
    """A single-use invite link token (returned once; only its hash is stored)."""
    if not 1 <= days <= 90:
        raise DomainError("An invite link lasts from 1 to 90 days.", field="days")
    token = new_token("inv")
    invite = Invite(
        workspace=workspace,
        role=role.value,
        email=email.strip().lower() or None,
        created_by=created_by,
        token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invite)
    db.session.flush()
    return invite, token


def open_invites(workspace: Workspace) -> list[Invite]:
    """Invites not yet used, revoked or expired, newest first."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Invite)
            .where(
                Invite.workspace_id == workspace.id,
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
            )
            .order_by(Invite.created_at.desc())
        )
    )


def find_invite(token: str) -> Invite | None:
    """The invite behind a token, whatever its state."""
    return db.session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))


def accept_invite(invite: Invite, user: User, now: datetime | None = None) -> Membership:
    """Use an open invite: the user joins (or keeps the higher of the two roles)."""
    state = invite.state(now)
    if state != "open":
        raise DomainError(f"This invite link has {'been ' if state != 'expired' else ''}{state}.")
    role = Role(invite.role)
    existing = db.session.scalar(
        select(Membership).where(
            Membership.workspace_id == invite.workspace_id, Membership.user_id == user.id
        )
    )
    if existing is not None:
        if not existing.role_enum.allows(role):
            existing.role = role.value
        member = existing
    else:
        member = Membership(workspace_id=invite.workspace_id, user=user, role=role.value)
        db.session.add(member)
    invite.used_at = now or utcnow()
    invite.used_by = user
    db.session.flush()
    return member


def join_with_invite(invite: Invite, email: str, password: str, name: str = "") -> Membership:
    """Sign up through an open invite and use it: the new membership.

    An invite proves its bearer was invited, not who they are. So an existing account
    is only taken over when it never had a password, the invite was made out to its
    email, and it belongs to no other workspace: then the inviting owner vouches for
    the person and can grant nothing they could not grant anyway.
    """
    state = invite.state()
    if state != "open":
        raise DomainError(f"This invite link has {'been ' if state != 'expired' else ''}{state}.")
    email = normalize_email(email)
    user = find_user(email)
    if user is None:
        user = create_user(email, password, name)
    elif user.password_hash is None and _invite_vouches_for(invite, user):
        set_password(user, password)
        user.name = user.name or name.strip()[:120]
    else:
        raise DomainError(
            f"An account for {email} already exists. Log in to accept this invite.",
            field="email",
        )
    return accept_invite(invite, user)


def _invite_vouches_for(invite: Invite, user: User) -> bool:
    if (invite.email or "").strip().lower() != user.email.lower():
        return False
    elsewhere = db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.user_id == user.id, Membership.workspace_id != invite.workspace_id)
    )
    return elsewhere == 0


def revoke_invite(workspace: Workspace, invite_id: int) -> None:
    """Revoke an invite of this workspace."""
    invite = db.session.get(Invite, invite_id)
    if invite is None or invite.workspace_id != workspace.id:
        raise NotFound("No such invite in this workspace.")
    invite.revoked_at = utcnow()
    db.session.flush()

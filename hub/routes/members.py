"""Members of a workspace, their roles, and invite links.

Who sees what: every member sees who else is in the workspace (names and roles: they
need to know whom to ask and who owns what). Editors and owners also see emails, since
they assign owners to KPIs and key results and the workspace document names people by
email; updaters and viewers do not need them, so they do not get them. Only owners
change roles, remove members and handle invite links.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, session, url_for
from flask_login import current_user, login_user

from hub.auth import Access, find_access, workspace_route
from hub.domain import workspaces
from hub.domain.errors import DomainError, NotFound
from hub.extensions import db
from hub.models import Invite, Membership, Role
from hub.rendering import render, see_other
from hub.routes.forms import UNPROCESSABLE, ConfirmForm, show_problems, status_for
from hub.routes.member_forms import InviteForm, InviteSignupForm, RoleForm

bp = Blueprint("members", __name__)

NEW_INVITE = "new_invite"  # session key: the link just made, shown once


@bp.get("/w/<slug>/members")
@workspace_route(Role.VIEWER)
def index(access: Access):
    """The member list; owners also manage roles and invite links here."""
    return _members_page(access, InviteForm(formdata=None, prefix="invite"))


@bp.post("/w/<slug>/members/<int:member_id>/role")
@workspace_route(Role.OWNER)
def change_role(access: Access, member_id: int):
    """Change one member's role; with htmx, only that member's row comes back."""
    member = _member_or_404(access, member_id)
    form = RoleForm(prefix=f"member-{member.id}")
    if form.validate_on_submit():
        try:
            workspaces.change_role(access.workspace, member, Role(form.role.data))
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
    changed = not form.errors
    # Changing your own role changes what you may do here: reload the whole page.
    if request.htmx and not (changed and member.user_id == current_user.id):
        form.role.data = member.role  # the select shows the role as it now is
        members = workspaces.memberships(access.workspace)
        return render(
            "members/index.html",
            block="member_row",
            status=200 if changed else UNPROCESSABLE,
            member=member,
            role_forms={member.id: form},
            saved=changed,
            **_page_flags(access, members),
        )
    if changed:
        flash(f"{member.user.display_name} is now {member.role_enum.value}.", "success")
    else:
        flash(" ".join([*form.role.errors, *form.form_errors]), "error")
    return see_other(url_for("members.index", slug=access.workspace.slug))


@bp.route("/w/<slug>/members/<int:member_id>/remove", methods=["GET", "POST"])
@workspace_route(Role.OWNER)
def remove(access: Access, member_id: int):
    """Ask, then remove a member from the workspace."""
    member = _member_or_404(access, member_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            workspaces.remove_member(access.workspace, member)
        except DomainError as error:
            flash(error.message, "error")
            return see_other(url_for("members.index", slug=access.workspace.slug))
        db.session.commit()
        if member.user_id == current_user.id:
            flash(f"You left {access.workspace.name}.", "info")
            return see_other(url_for("main.index"))
        flash(f"{member.user.display_name} was removed from {access.workspace.name}.", "info")
        return see_other(url_for("members.index", slug=access.workspace.slug))
    owners = sum(m.role == Role.OWNER for m in workspaces.memberships(access.workspace))
    return render(
        "members/remove.html",
        access=access,
        member=member,
        form=form,
        leaving=member.user_id == current_user.id,
        last_owner=member.role == Role.OWNER and owners <= 1,
    )


@bp.post("/w/<slug>/invites")
@workspace_route(Role.OWNER)
def create_invite(access: Access):
    """Make a single-use invite link and show it once."""
    form = InviteForm(prefix="invite")
    if not form.validate_on_submit():
        return _members_page(access, form)
    invite, token = workspaces.create_invite(
        access.workspace,
        Role(form.role.data),
        current_user,
        days=form.days.data,
        email=form.email.data or "",
    )
    db.session.commit()
    session[NEW_INVITE] = {
        "workspace_id": access.workspace.id,
        "url": _invite_url(token),
        "role": invite.role,
        "days": form.days.data,
    }
    return see_other(url_for("members.index", slug=access.workspace.slug) + "#new-invite")


@bp.post("/w/<slug>/invites/<int:invite_id>/revoke")
@workspace_route(Role.OWNER)
def revoke_invite(access: Access, invite_id: int):
    """Revoke an open invite link, so nobody can use it."""
    if ConfirmForm().validate_on_submit():
        try:
            workspaces.revoke_invite(access.workspace, invite_id)
        except NotFound:
            abort(404)
        db.session.commit()
        flash("Invite link revoked. Nobody can use it now.", "info")
    return see_other(url_for("members.index", slug=access.workspace.slug))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    """An invite link: join the workspace, signing up first when needed."""
    invite = workspaces.find_invite(token)
    if invite is None:
        abort(404)
    state = invite.state()
    if state != "open":
        response = render("members/invite_gone.html", invite=invite, state=state, status=410)
    elif current_user.is_authenticated:
        response = _accept_as_member(invite)
    else:
        response = _accept_with_sign_up(invite)
    # The token is in the URL: keep it out of caches and other sites' Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _accept_as_member(invite: Invite):
    form = ConfirmForm()
    access = find_access(current_user, invite.workspace.slug)
    # Already a member with this role or a higher one: accepting would gain nothing, so
    # the link stays unused for the person it was made for, and no role goes down.
    needed = access is None or not access.role.allows(Role(invite.role))
    if form.validate_on_submit():
        if not needed:
            flash(f"You are already {access.role.value} in {invite.workspace.name}.", "info")
            return see_other(url_for("workspaces.home", slug=invite.workspace.slug))
        member = workspaces.accept_invite(invite, current_user)
        db.session.commit()
        return _welcome(invite, member)
    return render("members/invite.html", invite=invite, form=form, current=access, needed=needed)


def _accept_with_sign_up(invite: Invite):
    form = InviteSignupForm(data={"email": invite.email or ""})
    if form.validate_on_submit():
        try:
            member = workspaces.join_with_invite(
                invite, form.email.data, form.password.data, form.name.data or ""
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            login_user(member.user)
            return _welcome(invite, member)
    return render(
        "members/invite.html",
        invite=invite,
        form=form,
        current=None,
        needed=True,
        status=status_for(form),
    )


def _welcome(invite: Invite, member: Membership):
    flash(f"Welcome to {invite.workspace.name}. You are {member.role_enum.value} here.", "success")
    return see_other(url_for("workspaces.home", slug=invite.workspace.slug))


def _member_or_404(access: Access, member_id: int) -> Membership:
    try:
        return workspaces.membership_of(access.workspace, member_id)
    except NotFound:
        abort(404)


def _invite_url(token: str) -> str:
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public + url_for("members.accept", token=token)
    return url_for("members.accept", token=token, _external=True)


def _page_flags(access: Access, members: list[Membership]) -> dict[str, object]:
    return {
        "access": access,
        "workspace": access.workspace,
        "manage": access.can(Role.OWNER),
        "show_emails": access.can(Role.EDITOR),
        "owner_count": sum(m.role == Role.OWNER for m in members),
    }


def _members_page(access: Access, invite_form: InviteForm):
    members = workspaces.memberships(access.workspace)
    manage = access.can(Role.OWNER)
    new_invite = None
    if manage:
        stashed = session.pop(NEW_INVITE, None)
        if stashed and stashed.get("workspace_id") == access.workspace.id:
            new_invite = stashed
    response = render(
        "members/index.html",
        status=status_for(invite_form),
        members=members,
        role_forms={m.id: _role_form(m) for m in members} if manage else {},
        invites=workspaces.open_invites(access.workspace) if manage else [],
        invite_form=invite_form,
        new_invite=new_invite,
        **_page_flags(access, members),
    )
    if new_invite:
        response.headers["Cache-Control"] = "no-store"
    return response


def _role_form(member: Membership) -> RoleForm:
    return RoleForm(prefix=f"member-{member.id}", formdata=None, data={"role": member.role})

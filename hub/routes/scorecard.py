"""The scorecard (the manager view), its filters, and read-only share links."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import Length

from hub.auth import Access, workspace_route
from hub.domain import sharing
from hub.domain.errors import DomainError
from hub.domain.scorecard import NO_GOAL, ScorecardFilter, build_scorecard, filtered, owners
from hub.extensions import db
from hub.models import Role, Workspace
from hub.rendering import render, see_other
from hub.routes.forms import ConfirmForm, show_problems, strip

bp = Blueprint("scorecard", __name__)

SHARE_LIFETIMES = {"7 days": 7, "30 days": 30, "90 days": 90, "Until revoked": 0}


class ShareLinkForm(FlaskForm):
    """A new read-only link: a label to recognise it by and how long it lasts."""

    label = StringField(
        "Label",
        validators=[Length(max=sharing.LABEL_LENGTH)],
        filters=[strip],
        description="For you, to tell links apart: e.g. 'Board pack, December'.",
    )
    days = RadioField(
        "Link expires after",
        choices=[SelectChoice(days, label) for label, days in SHARE_LIFETIMES.items()],
        coerce=int,
        default=30,
    )


def _filter_from(args: dict[str, str]) -> ScorecardFilter:
    """The goal and owner filters from the query string; anything unparseable means all."""

    def number(name: str) -> int | None:
        raw = args.get(name, "")
        return int(raw) if raw.isdigit() and len(raw) < 12 else None

    return ScorecardFilter(goal=number("goal"), owner=number("owner"))


def _page(workspace: Workspace, *, shared: bool, **context):
    chosen = _filter_from(request.args)
    whole = build_scorecard(workspace)
    return render(
        "scorecard/index.html",
        block="scorecard_body",
        workspace=workspace,
        card=filtered(whole, chosen),
        whole=whole,
        chosen=chosen,
        owners=owners(whole),
        NO_GOAL=NO_GOAL,
        shared=shared,
        **context,
    )


@bp.get("/w/<slug>/scorecard")
@workspace_route(Role.VIEWER)
def index(access: Access):
    """Goals → KPIs and initiatives with status, why, late and trend; filterable."""
    context = {}
    if access.can(Role.OWNER):
        context = {
            "share_form": ShareLinkForm(),
            "links": sharing.live_share_links(access.workspace),
            "new_link": session.pop("new_share_link", None),
            "revoke_form": ConfirmForm(),
        }
    return _page(access.workspace, shared=False, access=access, **context)


@bp.post("/w/<slug>/scorecard/share-links")
@workspace_route(Role.OWNER)
def share(access: Access):
    """Create a read-only link; its URL is shown once, on the next page."""
    form = ShareLinkForm()
    if form.validate_on_submit():
        try:
            _, token = sharing.create_share_link(
                access.workspace,
                access.user,
                label=form.label.data or "",
                days=form.days.data or None,
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            session["new_share_link"] = url_for("scorecard.shared", token=token, _external=True)
            flash("Share link created. Copy it now: it is shown only once.", "success")
            return see_other(url_for("scorecard.index", slug=access.workspace.slug) + "#sharing")
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
    return see_other(url_for("scorecard.index", slug=access.workspace.slug) + "#sharing")


@bp.post("/w/<slug>/scorecard/share-links/<int:link_id>/revoke")
@workspace_route(Role.OWNER)
def revoke(access: Access, link_id: int):
    """Revoke a link: from now on it answers 404."""
    if ConfirmForm().validate_on_submit():
        try:
            sharing.revoke_share_link(access.workspace, link_id)
        except DomainError:
            abort(404)
        db.session.commit()
        flash("Share link revoked. Anyone opening it now gets 'not found'.", "success")
    return see_other(url_for("scorecard.index", slug=access.workspace.slug) + "#sharing")


@bp.get("/s/<token>")
def shared(token: str):
    """The scorecard, read-only, for anyone holding a live link (no account needed)."""
    link = sharing.find_live_share_link(token)
    if link is None:
        abort(404)
    response = _page(link.workspace, shared=True, token=token)
    # The token is in the URL: keep it out of other sites' logs, caches and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Creating a workspace, its settings, and deleting it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from hub.auth import Access, workspace_route
from hub.domain import workspaces
from hub.domain.errors import DomainError
from hub.extensions import db
from hub.models import Role
from hub.rendering import render, see_other
from hub.routes.forms import show_problems, status_for
from hub.routes.workspace_forms import (
    MONTH_NAMES,
    DeleteWorkspaceForm,
    NewWorkspaceForm,
    WorkspaceForm,
)

bp = Blueprint("workspaces", __name__)


@bp.route("/workspaces/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a workspace; its creator becomes its owner."""
    form = NewWorkspaceForm()
    if form.validate_on_submit():
        try:
            workspace = workspaces.create_workspace(form.settings(), current_user)
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            # The wizard's next, optional step: the client's sheet, then the invites.
            return see_other(url_for("sheet.index", slug=workspace.slug, setup=1))
    return render("workspaces/new.html", form=form, status=status_for(form))


@bp.get("/w/<slug>/")
@workspace_route(Role.VIEWER)
def home(access: Access):
    """The workspace's front page: its scorecard, the view every role shares."""
    return redirect(url_for("scorecard.index", slug=access.workspace.slug))


@bp.route("/w/<slug>/settings", methods=["GET", "POST"])
@workspace_route(Role.VIEWER, write=Role.OWNER)
def settings(access: Access):
    """Every member sees the settings; only owners change them (the decorator checks)."""
    workspace = access.workspace
    form = WorkspaceForm(obj=workspaces.settings_of(workspace))
    if form.validate_on_submit():
        try:
            workspaces.update_settings(workspace, form.settings())
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return see_other(url_for("workspaces.settings", slug=workspace.slug))
    return _settings_page(access, form, _delete_form(workspace.slug, formdata=None))


@bp.post("/w/<slug>/delete")
@workspace_route(Role.OWNER)
def delete(access: Access):
    """Delete the workspace and everything in it, once its address is typed."""
    workspace = access.workspace
    form = _delete_form(workspace.slug)
    if form.validate_on_submit():
        name = workspace.name
        workspaces.delete_workspace(workspace)
        db.session.commit()
        flash(f"{name} and everything in it were deleted.", "info")
        return see_other(url_for("main.index"))
    settings_form = WorkspaceForm(obj=workspaces.settings_of(workspace), formdata=None)
    return _settings_page(access, settings_form, form)


def _delete_form(slug: str, **kwargs) -> DeleteWorkspaceForm:
    # Prefixed: the settings page holds two forms, and their ids must not collide.
    return DeleteWorkspaceForm(slug, prefix="delete", **kwargs)


def _settings_page(access: Access, form: WorkspaceForm, delete_form: DeleteWorkspaceForm):
    # The settings form posts with htmx and gets only itself back on errors.
    block = "settings_form" if request.htmx.target == "settings-form" else None
    return render(
        "workspaces/settings.html",
        block=block,
        status=status_for(form, delete_form),
        access=access,
        workspace=access.workspace,
        form=form,
        delete_form=delete_form,
        month_names=MONTH_NAMES,
    )

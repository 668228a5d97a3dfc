"""The home page: the portfolio of the signed-in user's workspaces."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from hub.domain.portfolio import portfolio
from hub.rendering import render

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """The portfolio: every workspace the user belongs to; log-in first when signed out."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render("main/portfolio.html", rows=portfolio(current_user))

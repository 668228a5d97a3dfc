"""Signing up, logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from hub.domain import accounts
from hub.domain.errors import DomainError
from hub.extensions import db, limiter
from hub.rendering import render, see_other
from hub.routes.auth_forms import LoginForm, SignupForm
from hub.routes.forms import ConfirmForm, show_problems, status_for

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an account. Check both and try again."
THROTTLED = (
    "Too many log-in attempts for this email from your network. Wait a minute, then try again."
)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (so `next` cannot send people
    elsewhere: no scheme, no host, no `//host` or `/\\host` that browsers read as one)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _after_login() -> str:
    return safe_next(request.args.get("next")) or url_for("main.index")


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_rate_key() -> str:
    """Attempts are counted per client address and email tried."""
    email = (request.form.get("email") or "").strip().lower()
    return f"login:{get_remote_address()}:{email}"


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account and log in."""
    if current_user.is_authenticated:
        return redirect(_after_login())
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data, form.name.data or "")
        except DomainError as error:
            show_problems(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash("Welcome to Strategy Hub. Your account is ready.", "success")
            return see_other(_after_login())
    return render("auth/signup.html", form=form, status=status_for(form))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, key_func=_login_rate_key, methods=["POST"])
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(_after_login())
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return see_other(_after_login())
        # Never say which of the two was wrong: that would reveal who has an account.
        form.form_errors.append(LOGIN_FAILED)
    return render("auth/login.html", form=form, status=status_for(form))


@bp.errorhandler(429)
def too_many_attempts(error):
    """A throttled log-in: the log-in page again, saying why, with status 429 (the
    limiter adds Retry-After)."""
    form = LoginForm()
    form.form_errors.append(THROTTLED)
    return render("auth/login.html", form=form, status=429)


@bp.post("/logout")
def logout():
    """Log out and go back to the log-in page (POST only, so it carries CSRF)."""
    if ConfirmForm().validate_on_submit() and current_user.is_authenticated:
        logout_user()
        flash("You are logged out.", "info")
    return see_other(url_for("auth.login"))

"""Signing up, logging in and out, CSRF and the log-in rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub import create_app
from hub.domain.accounts import find_user
from hub.extensions import db, limiter
from hub.models import Membership, Role, Workspace
from hub.routes.auth import LOGIN_FAILED, THROTTLED, safe_next
from tests.factories import PASSWORD

NEW_PASSWORD = "a long enough passphrase"


@contextmanager
def another_app(suite_app: Flask, **config: object) -> Iterator[Flask]:
    """A second app on the suite's database, with what the suite turns off turned on.

    The rate limiter is one object shared by every app; it is switched off again after,
    as the suite expects, and counts in its own memory (never in a REDIS_URL's).
    """
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": suite_app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            **config,
        }
    )
    try:
        yield app
    finally:
        limiter.enabled = False
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's layout carries in <meta name="csrf-token">."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "the layout has no csrf-token meta tag"
    return match.group(1)


def log_in_as(client: FlaskClient, user) -> FlaskClient:
    """Log a test client of any app in by its session (skipping the form)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


def main_of(response) -> str:
    """The <main> of a page: what the user came for, without the layout around it."""
    page = response.get_data(as_text=True)
    return page[page.index("<main") : page.index("</main>")]


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Alice Smith",
        "email": "alice@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------- sign up


def test_signup_page_has_labelled_fields(client):
    response = client.get("/signup")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("name", "email", "password", "confirm"):
        assert f'<label class="field-label" for="{name}">' in page
        assert f'id="{name}"' in page
    assert 'autocomplete="new-password"' in page
    assert "At least 10 characters" in page


def test_signup_creates_the_account_normalises_the_email_and_logs_in(client, db):
    response = client.post("/signup", data=signup_data(email="  Alice.Smith@Example.COM "))
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    user = find_user("alice.smith@example.com")
    assert user is not None
    assert user.email == "alice.smith@example.com"
    assert user.name == "Alice Smith"
    assert user.password_hash
    assert NEW_PASSWORD not in user.password_hash
    home = client.get("/")
    assert home.status_code == 200
    assert "alice.smith@example.com" in home.get_data(as_text=True)
    assert "Your account is ready" in home.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password": "short", "confirm": "short"}, "password", "Use at least 10 characters."),
        (
            {"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"},
            "password",
            "That password is too easy to guess.",
        ),
        ({"password": "", "confirm": ""}, "password", "Choose a password."),
        ({"password": "x" * 257, "confirm": "x" * 257}, "password", "at most 256 characters"),
        ({"confirm": "something else entirely"}, "confirm", "The two passwords are not the same."),
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "not-an-email"}, "email", "Enter an email address like name@example.com."),
        ({"email": "alice@"}, "email", "Enter an email address like name@example.com."),
    ],
)
def test_signup_refuses_bad_input_beside_the_field(client, overrides, field, message):
    response = client.post("/signup", data=signup_data(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error, f"no error shown beside {field}"
    assert message in error.group(1)
    # The input points at its error, so screen readers read it with the field.
    input_tag = re.search(rf'<input [^>]*id="{field}"[^>]*>', page).group(0)
    assert f"{field}-error" in re.search(r'aria-describedby="([^"]+)"', input_tag).group(1)
    assert 'aria-invalid="true"' in input_tag
    assert find_user(overrides.get("email") or "alice@example.com") is None


def test_signup_never_echoes_the_password(client):
    response = client.post("/signup", data=signup_data(confirm="another secret phrase"))
    assert response.status_code == 422
    assert NEW_PASSWORD not in response.get_data(as_text=True)


def test_signup_with_an_email_that_has_an_account_says_so(client, make):
    make.user("bob@example.com")
    response = client.post("/signup", data=signup_data(email="BOB@Example.com"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="email-error">.*already exists', page, re.S)
    assert db.session.query(type(find_user("bob@example.com"))).count() == 1


def test_signup_goes_on_to_next(client):
    response = client.post("/signup?next=/workspaces/new", data=signup_data())
    assert response.status_code == 303
    assert response.headers["Location"] == "/workspaces/new"


def test_signed_in_users_skip_the_signup_and_login_pages(client, login, make):
    login(make.user())
    assert client.get("/signup").headers["Location"] == "/"
    assert client.get("/login").headers["Location"] == "/"


# -------------------------------------------------------------------------- log in


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<label class="field-label" for="email">' in page
    assert 'autocomplete="current-password"' in page
    assert "Keep me logged in" in page


def test_login_with_the_right_password_logs_in(client, make):
    user = make.user("carol@example.com")
    response = client.post("/login", data={"email": " Carol@Example.com ", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["_user_id"] == str(user.id)


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make):
    make.user("dave@example.com")
    response = client.post(
        "/login", data={"email": "dave@example.com", "password": PASSWORD, "remember": "y"}
    )
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert name in cookies
        assert "HttpOnly" in cookies[name]
        assert "SameSite=Lax" in cookies[name]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, make):
    make.user("erin@example.com")
    wrong_password = client.post(
        "/login", data={"email": "erin@example.com", "password": "not the password"}
    )
    unknown_email = client.post(
        "/login", data={"email": "nobody@example.com", "password": "not the password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert LOGIN_FAILED in wrong_password.get_data(as_text=True)
    # Apart from the address typed back into the form, the two pages are the same.
    assert main_of(wrong_password).replace("erin@example.com", "EMAIL") == main_of(
        unknown_email
    ).replace("nobody@example.com", "EMAIL")
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_an_account_without_a_password_cannot_log_in(client, db):
    from hub.domain.accounts import create_user

    create_user("imported@example.com")
    db.session.commit()
    response = client.post("/login", data={"email": "imported@example.com", "password": "x" * 12})
    assert response.status_code == 422
    assert LOGIN_FAILED in response.get_data(as_text=True)


def test_login_asks_for_both_fields(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter your email address." in page
    assert "Enter your password." in page


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/w/acme/members", "/w/acme/members"),
        ("/workspaces/new?from=portfolio", "/workspaces/new?from=portfolio"),
        ("//evil.com", "/"),
        ("//evil.com/w/acme", "/"),
        ("https://evil.com", "/"),
        ("http://localhost/", "/"),
        ("/\\evil.com", "/"),
        ("/\\/evil.com", "/"),
        ("\\\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.com", "/"),
        ("", "/"),
    ],
)
def test_login_follows_next_only_to_paths_on_this_site(client, make, next_url, expected):
    make.user("frank@example.com")
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": "frank@example.com", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    "target", ["//evil.com", "https://evil.com", "/\\evil.com", "///evil.com", "/ok\x00", None]
)
def test_safe_next_refuses_anything_a_browser_could_read_as_another_host(target):
    assert safe_next(target) is None


def test_a_page_that_needs_login_comes_back_after_it(client, make):
    owner = make.user("gina@example.com")
    make.workspace(owner, slug="acme")
    response = client.get("/w/acme/members")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    # The log-in page keeps `next` in the sign-up link too.
    assert "/signup?next=/w/acme/members" in client.get(login_url).get_data(as_text=True)
    response = client.post(login_url, data={"email": "gina@example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/members"
    assert client.get("/w/acme/members").status_code == 200


# ------------------------------------------------------------------------- log out


def test_logout_logs_out_and_goes_to_the_login_page(client, login, make):
    login(make.user())
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert "You are logged out." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_is_post_only(client, login, make):
    login(make.user())
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    with client.session_transaction() as session:
        assert "_user_id" in session


def test_the_layout_logs_out_with_a_post_form(client, login, make):
    login(make.user())
    page = client.get("/").get_data(as_text=True)
    assert re.search(
        r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token"', page
    )


# -------------------------------------------------------------------------- CSRF


@pytest.fixture
def csrf_app(app: Flask) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production."""
    with another_app(app, WTF_CSRF_ENABLED=True) as strict:
        yield strict


def state_changing_rules() -> list[tuple[str, str]]:
    """(rule, method) for every page route that changes state (the API uses bearer tokens)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
    ]


def fill(rule: str, **values: object) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values.get(m.group(1), 1)), rule)


@pytest.mark.parametrize(("rule", "method"), state_changing_rules())
def test_every_state_change_without_a_csrf_token_is_refused(csrf_app, make, rule, method):
    owner = make.user()
    workspace = make.workspace(owner, slug="acme")
    editor = make.member(workspace, "editor")
    member_id = db.session.query(Membership.id).filter_by(user_id=editor.id).scalar()
    client = log_in_as(csrf_app.test_client(), owner)
    url = fill(rule, slug="acme", member_id=member_id, token="inv_x")
    # Data that would otherwise succeed wherever it applies.
    data = {
        "confirm_slug": "acme",
        f"member-{member_id}-role": "viewer",
        "name": "Renamed",
        "slug": "acme",
    }
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400, (rule, method, response.status_code)
    assert "Your form expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id) is not None
    assert db.session.get(Workspace, workspace.id).name != "Renamed"
    assert db.session.get(Membership, member_id).role == Role.EDITOR


def test_a_form_with_its_token_is_accepted(csrf_app, make):
    make.user("hana@example.com")
    client = csrf_app.test_client()
    token = csrf_token_of(client)
    response = client.post(
        "/login", data={"email": "hana@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_a_forged_token_is_refused(csrf_app, make):
    make.user("ivan@example.com")
    client = csrf_app.test_client()
    csrf_token_of(client)
    response = client.post(
        "/login",
        data={"email": "ivan@example.com", "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_htmx_requests_send_the_token_as_a_header(csrf_app, make):
    """app.js copies the meta tag's token into X-CSRFToken; that alone is enough."""
    owner = make.user()
    make.workspace(owner, slug="acme", name="Acme")
    client = log_in_as(csrf_app.test_client(), owner)
    token = csrf_token_of(client, "/w/acme/settings")
    form = {
        "name": "Acme Holdings",
        "slug": "acme",
        "mode": "both",
        "time_zone": "UTC",
        "week_start": "monday",
        "fiscal_year_start_month": "1",
        "currency": "USD",
    }
    htmx = {"HX-Request": "true", "HX-Target": "settings-form"}
    refused = client.post("/w/acme/settings", data=form, headers=htmx)
    assert refused.status_code == 400
    accepted = client.post("/w/acme/settings", data=form, headers={**htmx, "X-CSRFToken": token})
    assert accepted.status_code == 204
    assert accepted.headers["HX-Location"] == "/w/acme/settings"
    db.session.expire_all()
    assert db.session.query(Workspace.name).filter_by(slug="acme").scalar() == "Acme Holdings"
    # Log out, too, works with the header and no form field.
    response = client.post("/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 303


def test_app_js_sets_the_header_from_the_meta_tag(app):
    with app.open_resource("static/app.js") as fh:
        script = fh.read().decode()
    assert "htmx:configRequest" in script
    assert 'meta[name="csrf-token"]' in script
    assert 'headers["X-CSRFToken"]' in script


# ---------------------------------------------------------------------- rate limit


@pytest.fixture
def limited_app(app: Flask) -> Iterator[Flask]:
    """The app with the log-in rate limit on, at 3 attempts a minute."""
    with another_app(app, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute") as strict:
        yield strict


def test_login_attempts_beyond_the_limit_get_a_clear_429_page(limited_app, make):
    make.user("judy@example.com")
    client = limited_app.test_client()
    token = csrf_token_of(client)
    wrong = {"email": "judy@example.com", "password": "not the password", "csrf_token": token}
    for _ in range(3):
        assert client.post("/login", data=wrong).status_code == 422
    response = client.post("/login", data=wrong)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert THROTTLED in page
    assert 'role="alert"' in page
    assert '<a class="skip-link" href="#main">' in page  # the layout, not a bare error
    # While throttled even the right password waits: guessing cannot go on.
    right = client.post(
        "/login", data={"email": "judy@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 429
    # Reading the page is never limited.
    assert client.get("/login").status_code == 200


def test_the_limit_counts_per_email_whatever_its_case(limited_app, make):
    make.user("kim@example.com")
    client = limited_app.test_client()
    token = csrf_token_of(client)

    def attempt(email: str) -> int:
        data = {"email": email, "password": "not the password", "csrf_token": token}
        return client.post("/login", data=data).status_code

    assert [attempt(e) for e in ("kim@example.com", "KIM@example.com", " Kim@Example.com ")] == [
        422,
        422,
        422,
    ]
    assert attempt("kim@example.com") == 429
    # Someone else on the same network is not locked out by it.
    assert attempt("lee@example.com") == 422

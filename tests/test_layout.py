"""The layout every page shares, the stylesheet, and how responses are shaped:
Vary for htmx, 303 after a POST, and error pages (HTML under the layout, JSON for the API).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask, abort
from sqlalchemy import select

from hub.domain import workspaces as ops
from hub.extensions import db
from hub.models import Invite, Membership, Role
from hub.models.base import utcnow
from hub.templating import HTMX_FILE
from tests.factories import PASSWORD
from tests.test_auth import another_app

STATIC = Path(__file__).resolve().parent.parent / "hub" / "static"
NEW_PASSWORD = "a long enough passphrase"


class Page(HTMLParser):
    """The parts of a page the accessibility checks look at."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.headings: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.elements if "id" in attrs]

    def labelled_ids(self) -> set[str]:
        return {attrs["for"] for tag, attrs in self.elements if tag == "label" and "for" in attrs}

    def controls(self) -> Iterator[tuple[str, dict[str, str]]]:
        for tag, attrs in self.elements:
            if tag in ("select", "textarea") or (
                tag == "input" and attrs.get("type") not in ("hidden", "submit", "button")
            ):
                yield tag, attrs


def assert_accessible(html: str) -> None:
    """Unique ids, a label for every control, ARIA references that resolve, one h1 and
    headings that never skip a level."""
    page = Page(html)
    ids = page.ids()
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    labelled = page.labelled_ids()
    for tag, attrs in page.controls():
        assert attrs.get("id") in labelled or "aria-label" in attrs, (tag, attrs)
    for _, attrs in page.elements:
        for name in ("aria-describedby", "aria-labelledby"):
            for ref in attrs.get(name, "").split():
                assert ref in ids, f"{name}={ref!r} points at nothing"
    assert page.headings.count(1) == 1, page.headings
    assert page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading h{after} after h{before}"


# ------------------------------------------------------------------------ scenes


@pytest.fixture
def scene(make, db):
    """Acme, with an owner, a viewer and an open invite."""
    owner = make.user("owner@example.com", name="Olive Owner")
    workspace = make.workspace(owner, slug="acme", name="Acme")
    viewer = make.member(workspace, "viewer", make.user("viewer@example.com"))
    _, token = ops.create_invite(workspace, Role.EDITOR, owner, days=7)
    db.session.commit()
    return {"owner": owner, "viewer": viewer, "workspace": workspace, "token": token}


# Pages as people see them: (who is logged in or None, how to get there).
PAGES: dict[str, tuple[str | None, Callable]] = {
    "login": (None, lambda c, s: c.get("/login")),
    "login refused": (None, lambda c, s: c.post("/login", data={"email": "x@example.com"})),
    "signup": (None, lambda c, s: c.get("/signup")),
    "signup refused": (None, lambda c, s: c.post("/signup", data={"password": "short"})),
    "portfolio": ("owner", lambda c, s: c.get("/")),
    "portfolio empty": ("newcomer", lambda c, s: c.get("/")),
    "new workspace": ("owner", lambda c, s: c.get("/workspaces/new")),
    "new workspace refused": (
        "owner",
        lambda c, s: c.post("/workspaces/new", data={"name": "", "time_zone": "Nowhere"}),
    ),
    "settings (owner)": ("owner", lambda c, s: c.get("/w/acme/settings")),
    "settings refused": (
        "owner",
        lambda c, s: c.post("/w/acme/settings", data={"name": "", "currency": "NOPE"}),
    ),
    "delete refused": ("owner", lambda c, s: c.post("/w/acme/delete", data={})),
    "settings (viewer)": ("viewer", lambda c, s: c.get("/w/acme/settings")),
    "members (owner)": ("owner", lambda c, s: c.get("/w/acme/members")),
    "members with a new link": (
        "owner",
        lambda c, s: (
            c.post("/w/acme/invites", data={"invite-role": "viewer", "invite-days": "1"}),
            c.get("/w/acme/members"),
        )[1],
    ),
    "invite form refused": (
        "owner",
        lambda c, s: c.post("/w/acme/invites", data={"invite-days": "99"}),
    ),
    "members (viewer)": ("viewer", lambda c, s: c.get("/w/acme/members")),
    "remove member": ("owner", lambda c, s: c.get(f"/w/acme/members/{s['viewer_id']}/remove")),
    "invite (logged out)": (None, lambda c, s: c.get(f"/invite/{s['token']}")),
    "invite refused": (None, lambda c, s: c.post(f"/invite/{s['token']}", data={})),
    "invite (logged in)": ("newcomer", lambda c, s: c.get(f"/invite/{s['token']}")),
    "invite used": (
        "newcomer",
        lambda c, s: (c.post(f"/invite/{s['token']}"), c.get(f"/invite/{s['token']}"))[1],
    ),
    "not found": ("owner", lambda c, s: c.get("/no/such/page")),
    "forbidden": ("viewer", lambda c, s: c.post("/w/acme/delete")),
}


def visit(client, login, make, scene, name: str):
    who, go = PAGES[name]
    if who == "newcomer":
        login(make.user())
    elif who:
        login(scene[who])
    scene["viewer_id"] = db.session.scalar(
        select(Membership.id).where(Membership.user_id == scene["viewer"].id)
    )
    return go(client, scene)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_accessible(client, login, make, scene, name):
    response = visit(client, login, make, scene, name)
    assert response.mimetype == "text/html"
    assert_accessible(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/login"),
        (None, "/signup"),
        ("owner", "/"),
        ("owner", "/workspaces/new"),
        ("owner", "/w/acme/settings"),
        ("owner", "/w/acme/members"),
        (None, "/invite/{token}"),
        ("viewer", "/w/acme/settings"),
    ],
)
def test_pages_stay_accessible_with_their_csrf_fields(app, scene, who, path):
    """As in production: each form's hidden token field must not repeat another's id."""
    from tests.test_auth import log_in_as

    with another_app(app, WTF_CSRF_ENABLED=True) as strict:
        client = strict.test_client()
        if who:
            log_in_as(client, scene[who])
        response = client.get(path.format(token=scene["token"]))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        if "<form" in page.split("<main", 1)[1]:
            assert 'name="csrf_token"' in page.split("<main", 1)[1]
        assert_accessible(page)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_uses_the_layout(client, login, make, scene, name):
    page = visit(client, login, make, scene, name).get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert re.search(r'<a class="skip-link" href="#main">Skip to main content</a>', page)
    assert '<main id="main" tabindex="-1">' in page
    assert '<nav class="site-nav" aria-label="Main">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}">', page)
    assert f'<script src="/static/{HTMX_FILE}" defer></script>' in page
    assert HTMX_FILE.startswith("vendor/")
    assert '<script src="/static/app.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    assert re.search(r'<div class="flashes" id="flashes" role="status"', page)
    assert re.search(r"<title>[^<]+ · Strategy Hub</title>|<title>Strategy Hub</title>", page)


def test_htmx_is_told_to_swap_refused_forms(client):
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)
    import json

    handling = json.loads(config)["responseHandling"]
    codes = [rule["code"] for rule in handling]
    assert codes.index("422") < codes.index("[45]..")
    assert {"code": "422", "swap": True} in handling


# ----------------------------------------------------------------------- the nav


@pytest.mark.parametrize(
    ("who", "path", "current"),
    [
        ("owner", "/", '<a class="brand" href="/" aria-current="page">'),
        (None, "/login", '<a href="/login" aria-current="page">Log in</a>'),
        (None, "/signup", 'href="/signup" aria-current="page">Sign up</a>'),
        ("owner", "/w/acme/settings", '<a href="/w/acme/settings" aria-current="page">Settings'),
        ("owner", "/w/acme/members", '<a href="/w/acme/members" aria-current="page">Members'),
        ("viewer", "/w/acme/settings", '<a href="/w/acme/settings" aria-current="page">Settings'),
    ],
)
def test_the_nav_marks_the_current_page(client, login, scene, who, path, current):
    if who:
        login(scene[who])
    page = client.get(path).get_data(as_text=True)
    assert current in page
    assert page.count('aria-current="page"') == 1


def test_the_nav_marks_the_section_of_a_sub_page(client, login, scene):
    login(scene["owner"])
    viewer_id = db.session.scalar(
        select(Membership.id).where(Membership.user_id == scene["viewer"].id)
    )
    page = client.get(f"/w/acme/members/{viewer_id}/remove").get_data(as_text=True)
    assert '<a href="/w/acme/members" aria-current="page">Members</a>' in page


def test_the_nav_shows_the_workspace_only_inside_it(client, login, scene):
    login(scene["owner"])
    assert 'class="workspace-name"' not in client.get("/").get_data(as_text=True)
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert '<a class="workspace-name" href="/w/acme/">Acme</a>' in page


@pytest.mark.parametrize(
    ("mode", "shown", "hidden"),
    [
        ("both", ["Scorecard", "Plan", "Check-in", "OKRs", "Bets vs gauges", "Members"], []),
        ("kpi", ["Scorecard", "Plan", "Check-in", "Settings"], ["Bets vs gauges", "OKRs"]),
        ("okr", ["Scorecard", "OKRs", "Members", "Settings"], ["Bets vs gauges"]),
    ],
)
def test_the_nav_shows_the_sections_the_mode_uses(client, login, make, mode, shown, hidden):
    owner = make.user()
    make.workspace(owner, slug="modal", mode=mode)
    login(owner)
    nav = re.search(
        r'<ul class="section-links">(.*?)</ul>',
        client.get("/w/modal/members").get_data(as_text=True),
        re.S,
    ).group(1)
    labels = re.findall(r">([^<>]+)</a>", nav)
    assert set(shown) <= set(labels)
    assert not set(hidden) & set(labels)
    # Every link it shows leads to a page this member can open.
    for url in re.findall(r'href="([^"]+)"', nav):
        assert client.get(url).status_code == 200, url


def test_the_nav_leaves_out_what_a_role_cannot_use(client, login, make):
    workspace = make.workspace(make.user(), slug="acme")
    login(make.member(workspace, "viewer"))
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert ">Check-in</a>" not in page
    assert ">Scorecard</a>" in page


def test_every_page_of_a_section_marks_it_current():
    from hub.templating import WORKSPACE_NAV

    plan = next(link for link in WORKSPACE_NAV if link.label == "Plan")
    assert plan.is_current("plan.index")
    assert plan.is_current("plan.goal_edit")
    assert not plan.is_current("planning.index")
    assert not plan.is_current(None)


# ------------------------------------------------------------------------ flashes


def test_flashes_are_announced_with_an_icon_and_a_word(client, login, make):
    login(make.user())
    client.post("/logout")
    page = client.get("/login").get_data(as_text=True)
    flashes = re.search(
        r'<div class="flashes" id="flashes" role="status"[^>]*>(.*?)</div>', page, re.S
    )
    assert '<p class="flash flash-info">' in flashes.group(1)
    assert '<span class="flash-icon" aria-hidden="true">i</span>' in flashes.group(1)
    assert "You are logged out." in flashes.group(1)


def test_an_error_flash_says_error_in_words(client, login, scene):
    login(scene["owner"])
    owner_id = db.session.scalar(
        select(Membership.id).where(Membership.user_id == scene["owner"].id)
    )
    client.post(f"/w/acme/members/{owner_id}/remove")
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert '<p class="flash flash-error">' in page
    assert '<span class="visually-hidden">Error: </span>The last owner cannot be removed.' in page


def test_the_flash_region_is_empty_when_there_is_nothing_to_say(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<div class="flashes" id="flashes" role="status" aria-live="polite"></div>' in page


# --------------------------------------------------------------------- static files


def test_the_vendored_htmx_is_served_and_matches_its_recorded_checksum(client):
    response = client.get(f"/static/{HTMX_FILE}")
    assert response.status_code == 200
    recorded = re.search(
        r"SHA-256 of `([^`]+)`: `([0-9a-f]{64})`", (STATIC / "vendor" / "README.md").read_text()
    )
    assert recorded.group(1) == Path(HTMX_FILE).name
    assert hashlib.sha256(response.data).hexdigest() == recorded.group(2)
    response.close()


@pytest.fixture(scope="module")
def css() -> str:
    return (STATIC / "style.css").read_text()


def test_the_stylesheet_is_served(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_the_stylesheet_is_well_formed(css):
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "/*" not in without_comments
    assert without_comments.count("{") == without_comments.count("}")
    assert without_comments.count("(") == without_comments.count(")")
    # Every custom property used is defined.
    defined = set(re.findall(r"(--[\w-]+)\s*:", without_comments))
    used = set(re.findall(r"var\((--[\w-]+)", without_comments))
    assert used <= defined, used - defined


@pytest.mark.parametrize("sheet", sorted(p.name for p in STATIC.glob("*.css")))
def test_page_stylesheets_use_only_defined_variables(css, sheet):
    """Pages' own sheets build on style.css's variables: none may vanish under them."""
    own = (STATIC / sheet).read_text()
    defined = set(re.findall(r"(--[\w-]+)\s*:", css + own))
    used = set(re.findall(r"var\((--[\w-]+)", own))
    assert used <= defined, used - defined


def test_the_stylesheet_uses_the_system_font_stack(css):
    stack = re.search(r"--font:\s*([^;]+);", css).group(1)
    fonts = [f.strip().strip('"') for f in stack.split(",")]
    assert fonts[0] == "system-ui"
    assert {"-apple-system", "Segoe UI", "Roboto"} <= set(fonts)
    assert "sans-serif" in fonts
    assert re.search(r"body\s*{[^}]*font-family:\s*var\(--font\)", css)


def test_the_stylesheet_adapts_to_narrow_screens(css):
    widths = re.findall(r"@media \(max-width:\s*([\d.]+)(rem|em|px)\)", css)
    assert widths, "no @media rule for narrow screens"
    for value, unit in widths:
        pixels = float(value) * (16 if unit in ("rem", "em") else 1)
        assert pixels >= 360  # a 360 px phone gets the narrow layout
    assert '<meta name="viewport"' in (STATIC.parent / "templates" / "base.html").read_text()


def test_the_stylesheet_respects_reduced_motion(css):
    block = re.search(r"@media \(prefers-reduced-motion: reduce\)\s*{(.*?)\n}", css, re.S)
    assert block
    for rule in ("transition: none", "animation: none", "scroll-behavior: auto"):
        assert rule in block.group(1)


def test_focus_is_always_visible(css):
    assert re.search(r":focus-visible\s*{\s*outline:\s*3px solid", css)
    # The only place an outline is taken away is <main>, focused by the skip link.
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    removed = re.findall(r"([^{}]+){[^}]*outline:\s*(?:none|0)\b", without_comments)
    assert [selector.strip() for selector in removed] == ["main:focus:not(:focus-visible)"]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    ("foreground", "background", "minimum"),
    [
        ("--text", "--surface", 4.5),
        ("--text", "--bg", 4.5),
        ("--text-muted", "--surface", 4.5),
        ("--text-muted", "--bg", 4.5),
        ("--brand", "--surface", 4.5),
        ("--brand", "--info-soft", 4.5),
        ("--brand-dark", "--brand-soft", 4.5),
        ("--danger", "--surface", 4.5),
        ("--danger", "--danger-soft", 4.5),
        ("--success", "--success-soft", 4.5),
        ("--status-green", "--status-green-bg", 4.5),
        ("--status-amber", "--status-amber-bg", 4.5),
        ("--status-red", "--status-red-bg", 4.5),
        ("--status-none", "--status-none-bg", 4.5),
        ("--surface", "--brand", 4.5),  # white on primary buttons
        ("--surface", "--danger", 4.5),
        ("--surface", "--status-amber", 4.5),
        ("--border-strong", "--surface", 3.0),  # edges of inputs (non-text contrast)
        ("--focus", "--surface", 3.0),
        ("--focus", "--bg", 3.0),
    ],
)
def test_colours_meet_wcag_aa(css, foreground, background, minimum):
    root = re.search(r":root\s*{(.*?)\n}", css, re.S).group(1)
    colours = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\b", root))
    assert contrast(colours[foreground], colours[background]) >= minimum


# --------------------------------------------------------------- response shapes


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/login"),
        (None, "/signup"),
        ("owner", "/"),
        ("owner", "/workspaces/new"),
        ("owner", "/w/acme/settings"),
        ("viewer", "/w/acme/settings"),
        ("owner", "/w/acme/members"),
        (None, "/invite/{token}"),
    ],
)
def test_pages_say_they_vary_on_htmx(client, login, scene, who, path):
    if who:
        login(scene[who])
    response = client.get(path.format(token=scene["token"]))
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")


def test_a_fragment_and_its_page_come_from_the_same_url(client, login, scene):
    login(scene["owner"])
    data = {"name": "", "slug": "acme", "currency": "USD", "time_zone": "UTC"}
    page = client.post("/w/acme/settings", data=data)
    fragment = client.post(
        "/w/acme/settings",
        data=data,
        headers={"HX-Request": "true", "HX-Target": "settings-form"},
    )
    for response in (page, fragment):
        assert response.status_code == 422
        assert "HX-Request" in response.headers["Vary"]
    assert page.get_data(as_text=True).startswith("<!doctype html>")
    assert fragment.get_data(as_text=True).lstrip().startswith('<form id="settings-form"')
    # The fragment is exactly the form the page shows.
    form_in_page = re.search(
        r'<form id="settings-form".*?</form>', page.get_data(as_text=True), re.S
    ).group(0)
    assert fragment.get_data(as_text=True).strip() == form_in_page.strip()


def _redirecting_posts() -> dict[str, Callable]:
    def member_id(scene, who):
        return db.session.scalar(select(Membership.id).where(Membership.user_id == scene[who].id))

    def invite_id(scene):
        return db.session.scalar(select(Invite.id))

    workspace = {
        "slug": "acme",
        "mode": "both",
        "time_zone": "UTC",
        "week_start": "monday",
        "fiscal_year_start_month": "1",
        "currency": "USD",
    }
    return {
        "sign up": lambda c, s: c.post(
            "/signup",
            data={"email": "n@example.com", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ),
        "log in": lambda c, s: c.post(
            "/login", data={"email": "owner@example.com", "password": PASSWORD}
        ),
        "log out": lambda c, s: c.post("/logout"),
        "new workspace": lambda c, s: c.post(
            "/workspaces/new", data={**workspace, "name": "New", "slug": ""}
        ),
        "settings": lambda c, s: c.post("/w/acme/settings", data={**workspace, "name": "Acme 2"}),
        "delete": lambda c, s: c.post("/w/acme/delete", data={"delete-confirm_slug": "acme"}),
        "change role": lambda c, s: c.post(
            f"/w/acme/members/{member_id(s, 'viewer')}/role",
            data={f"member-{member_id(s, 'viewer')}-role": "editor"},
        ),
        "remove": lambda c, s: c.post(f"/w/acme/members/{member_id(s, 'viewer')}/remove"),
        "invite": lambda c, s: c.post(
            "/w/acme/invites", data={"invite-role": "viewer", "invite-days": "7"}
        ),
        "revoke": lambda c, s: c.post(f"/w/acme/invites/{invite_id(s)}/revoke"),
    }


REDIRECTING_POSTS = _redirecting_posts()


@pytest.mark.parametrize("name", REDIRECTING_POSTS)
def test_a_post_that_redirects_uses_303(client, login, scene, name):
    if name not in ("sign up", "log in"):
        login(scene["owner"])
    response = REDIRECTING_POSTS[name](client, scene)
    assert response.status_code == 303, name
    assert response.headers["Location"]
    assert "HX-Request" in response.headers["Vary"]


def test_accepting_an_invite_redirects_with_303(client, login, make, scene):
    login(make.user())
    response = client.post(f"/invite/{scene['token']}")
    assert response.status_code == 303


def test_an_htmx_post_that_redirects_navigates_instead(client, login, scene):
    login(scene["owner"])
    response = client.post("/logout", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/login"


# ------------------------------------------------------------------- error pages


@pytest.fixture
def error_app(app: Flask) -> Iterator[Flask]:
    """The app with routes that fail on purpose, and errors not propagated to the test."""
    with another_app(app, PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=False) as failing:

        def fail(code: int):
            if code == 500:
                raise RuntimeError("a bug")
            abort(code)

        failing.add_url_rule("/fail/<int:code>", "fail", fail)
        failing.add_url_rule("/api/fail/<int:code>", "api_fail", fail)
        yield failing


ERROR_TITLES = {
    403: "Not allowed",
    404: "Not found",
    410: "No longer available",
    429: "Too many attempts",
    500: "Something went wrong",
}


@pytest.mark.parametrize("code", ERROR_TITLES)
def test_error_pages_use_the_layout(error_app, code):
    response = error_app.test_client().get(f"/fail/{code}")
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert '<a class="skip-link" href="#main">' in page
    assert '<nav class="site-nav" aria-label="Main">' in page
    assert f"<title>{ERROR_TITLES[code]} · Strategy Hub</title>" in page
    assert f"<h1>{ERROR_TITLES[code]}</h1>" in page
    assert f"Error {code}" in page
    assert "a bug" not in page  # never the internals
    assert_accessible(page)


@pytest.mark.parametrize("code", ERROR_TITLES)
def test_errors_under_the_api_are_json(error_app, code):
    response = error_app.test_client().get(f"/api/fail/{code}")
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    assert "a bug" not in response.get_data(as_text=True)


def test_unknown_pages_and_api_paths_answer_404_in_their_own_shape(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.get_data(as_text=True)
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"


def test_a_wrong_method_keeps_its_allow_header(client, login, scene):
    login(scene["owner"])
    page = client.get("/w/acme/delete")
    assert page.status_code == 405
    assert page.headers["Allow"] == "POST" or set(page.headers["Allow"].split(", ")) >= {"POST"}
    assert '<a class="skip-link"' in page.get_data(as_text=True)


def test_a_failed_htmx_request_is_announced_by_app_js():
    script = (STATIC / "app.js").read_text()
    assert "htmx:responseError" in script
    assert 'getElementById("flashes")' in script


def test_an_expired_invite_answers_410_with_what_to_do(client, scene):
    row = db.session.scalar(select(Invite))
    row.expires_at = utcnow()
    db.session.commit()
    response = client.get(f"/invite/{scene['token']}")
    assert response.status_code == 410
    assert "What to do:" in response.get_data(as_text=True)

"""Access rules over every route: generated from the URL map, so new routes are covered.

A non-member gets 404 for anything under a workspace (page, fragment or API), whatever
the method; an anonymous visitor is sent to log in (pages) or gets 401 (API).
"""

from __future__ import annotations

import re

import pytest

from hub import create_app
from hub.domain.accounts import issue_api_token
from hub.extensions import db

# Placeholder values for URL arguments other than the workspace slug.
ARGS = {"key": "K1", "period": "2026-11-30", "id": 1, "token": "x", "member_id": 1}


def workspace_rules():
    """(rule, method) for every route that takes a workspace slug."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    found = []
    for rule in app.url_map.iter_rules():
        if "slug" not in rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return found


def fill(rule: str, slug: str) -> str:
    def arg(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return slug if name == "slug" else str(ARGS.get(name, 1))

    return re.sub(r"<([^>]+)>", arg, rule)


RULES = workspace_rules()


def test_the_route_table_is_not_empty():
    assert any(rule.startswith("/api/") for rule, _ in RULES)
    assert any(not rule.startswith("/api/") for rule, _ in RULES)


@pytest.mark.parametrize(("rule", "method"), RULES)
def test_non_members_get_404_everywhere(client, login, make, rule, method):
    owner = make.user()
    target = make.workspace(owner, slug="secret-client")
    make.kpi(target, "K1")
    outsider = make.user()
    make.workspace(outsider, slug="mine")
    headers = {}
    if rule.startswith("/api/"):
        headers["Authorization"] = f"Bearer {issue_api_token(outsider)}"
        db.session.commit()
    else:
        login(outsider)
    response = client.open(fill(rule, "secret-client"), method=method, headers=headers, json={})
    assert response.status_code == 404, (rule, method, response.status_code)
    assert b"secret-client" not in response.data


@pytest.mark.parametrize(("rule", "method"), RULES)
def test_anonymous_visitors_must_sign_in(client, make, rule, method):
    make.workspace(make.user(), slug="secret-client")
    response = client.open(fill(rule, "secret-client"), method=method, json={})
    if rule.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code in (302, 303)
        assert "/login" in response.headers["Location"]


def minimum_roles():
    """(rule, method, minimum role) for every workspace route, read off its view."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    found = []
    for rule in app.url_map.iter_rules():
        if "slug" not in rule.arguments:
            continue
        view = app.view_functions[rule.endpoint]
        required = getattr(view, "minimum_role_for", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, required(method) if required else None))
    return found


ROLE_RULES = minimum_roles()


@pytest.mark.parametrize(("rule", "method", "minimum"), ROLE_RULES)
def test_every_workspace_route_declares_its_role(rule, method, minimum):
    assert minimum is not None, f"{method} {rule} does not go through workspace_route()"


@pytest.mark.parametrize("role", ["viewer", "updater", "editor", "owner"])
@pytest.mark.parametrize(("rule", "method", "minimum"), ROLE_RULES)
def test_each_role_can_do_exactly_what_its_rank_allows(
    client, login, make, rule, method, minimum, role
):
    from hub.models import Role

    owner = make.user()
    workspace = make.workspace(owner, slug="acme")
    make.kpi(workspace, "K1")
    user = owner if role == "owner" else make.member(workspace, role)
    headers = {}
    if rule.startswith("/api/"):
        headers["Authorization"] = f"Bearer {issue_api_token(user)}"
        db.session.commit()
    else:
        login(user)
    response = client.open(fill(rule, "acme"), method=method, headers=headers, json={})
    if Role(role).allows(minimum):
        assert response.status_code not in (401, 403), (rule, method, role)
    else:
        assert response.status_code == 403, (rule, method, role, response.status_code)

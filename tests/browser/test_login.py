"""Logging in with a real browser, through the real form and CSRF token."""

import pytest

from hub.routes.auth import LOGIN_FAILED
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_log_in_and_see_my_workspaces(page, sign_in, make):
    owner = make.user("ana@example.com")
    make.workspace(owner, name="Northwind")
    sign_in("ana@example.com", PASSWORD)
    assert page.get_by_role("link", name="Northwind").is_visible()


def test_a_wrong_password_is_refused_with_a_message(page, make):
    make.user("ana@example.com")
    page.goto("/login")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert "/login" in page.url
    assert LOGIN_FAILED in page.locator("main").inner_text()

"""The strategy pages in a real browser: check-in without reloads, thresholds, share links."""

import re

import pytest
from playwright.sync_api import expect

from hub.domain.due import due_period
from hub.domain.periods import Cadence, local_today
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def acme(make):
    """A workspace whose owner owns one weekly KPI: green at 100, red under 90."""
    owner = make.user("olivia@example.com", name="Olivia")
    workspace = make.workspace(owner, name="Acme", slug="acme")
    goal = make.goal(workspace, "Grow")
    kpi = make.kpi(workspace, name="Signups", goal=goal, owner=owner, green_min=100, red_min=90)
    return workspace, owner, kpi


def due_key():
    return due_period(Cadence.WEEKLY, local_today("UTC")).key


def mark_page(page):
    """Set a flag that only survives as long as the page is not reloaded."""
    page.evaluate("window.__still_the_same_page = true")


def same_page(page) -> bool:
    return page.evaluate("window.__still_the_same_page === true")


def test_a_check_in_value_changes_status_and_why_without_a_reload(page, sign_in, acme):
    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/check-in")
    mark_page(page)
    row = page.locator("#kpi-K1")
    row.get_by_label("Value").fill("95")
    row.get_by_label("Value").press("Enter")
    expect(row.locator(".checkin-result")).to_contain_text("Amber")
    expect(row).to_contain_text("Amber: 95 is under the 100 target but above the red line 90")
    row.get_by_label("Value").fill("120")
    row.get_by_role("button", name="Save Signups").click()
    expect(row.locator(".checkin-result")).to_contain_text("Green")
    assert same_page(page)
    page.goto("/w/acme/scorecard")
    expect(page.locator("#kpi-K1")).to_contain_text("Green")


def test_an_unparseable_number_is_shown_inline_and_not_saved(page, sign_in, acme):
    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/check-in")
    mark_page(page)
    row = page.locator("#kpi-K1")
    row.get_by_label("Value").fill("12 apples")
    row.get_by_label("Value").press("Enter")
    expect(row).to_contain_text("Not saved")
    expect(row.get_by_label("Value")).to_have_value("12 apples")
    expect(row.get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    assert same_page(page)
    page.goto("/w/acme/kpis/K1")
    expect(page.locator("main")).not_to_contain_text("12 apples")


def test_the_check_in_works_with_the_keyboard_alone(page, sign_in, acme):
    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/check-in")
    mark_page(page)
    # From the top of the page, Tab until the first value input has the focus.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('name') || ''").endswith("value"):
            break
    else:
        pytest.fail("Tab never reached a value input")
    page.keyboard.type("101")
    page.keyboard.press("Enter")
    row = page.locator("#kpi-K1")
    expect(row.locator(".checkin-result")).to_contain_text("Green")
    # The focus is still in the form, so Tab goes on to the note.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('name') || ''").endswith("note")
    assert same_page(page)


def test_editing_a_threshold_changes_the_status(page, sign_in, acme, make):
    workspace, owner, kpi = acme
    make.value(kpi, due_key(), 95)
    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/scorecard")
    expect(page.locator("#kpi-K1")).to_contain_text("Amber")
    page.goto("/w/acme/plan/kpis/K1/edit")
    target = page.locator("input[name=up_target]")
    target.fill("90")
    page.locator("input[name=up_red_line]").fill("80")
    page.get_by_role("button", name=re.compile("^Save")).click()
    page.wait_for_url(re.compile(r"/plan"))
    page.goto("/w/acme/scorecard")
    expect(page.locator("#kpi-K1")).to_contain_text("Green")
    expect(page.locator("#kpi-K1")).to_contain_text("Green: 95")


def test_a_share_link_opens_logged_out_and_stops_when_revoked(
    browser, live_server, page, sign_in, acme, make
):
    workspace, owner, kpi = acme
    make.value(kpi, due_key(), 95)
    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/scorecard")
    page.get_by_label("Label").fill("Board pack")
    page.get_by_role("button", name="Create link").click()
    link = page.locator("#new-share-link").input_value()
    path = re.sub(r"^https?://[^/]+", "", link)
    assert path.startswith("/s/")

    stranger = browser.new_context(base_url=live_server)
    try:
        visitor = stranger.new_page()
        response = visitor.goto(path)
        assert response.status == 200
        expect(visitor.locator("#kpi-K1")).to_contain_text("Amber")
        expect(visitor.locator("main")).not_to_contain_text("olivia@example.com")

        page.get_by_role("button", name="Revoke Board pack").click()
        expect(page.locator("#flashes")).to_contain_text("revoked")
        assert visitor.goto(path).status == 404
    finally:
        stranger.close()

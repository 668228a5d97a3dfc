"""The Sheet page in a real browser: connect a sheet served over HTTP by the fake Google,
press Sync now, and watch the result arrive without a reload."""

import pytest
from playwright.sync_api import expect

from hub.domain.periods import Cadence, last_n_periods, local_today
from hub.sync.cells import column_letters
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WEEKLY = "Weekly KPIs"


def cell_of(fake, sid, kpi_key, period):
    """The A1 address of a KPI's period cell in the Weekly KPIs tab."""
    rows = fake.values(sid, WEEKLY)
    col = rows[0].index(period)
    row = next(i for i, line in enumerate(rows) if line and line[0] == kpi_key)
    return f"{column_letters(col)}{row + 1}"


def test_connect_then_sync_now_shows_the_result_without_a_reload(page, sign_in, make, live_google):
    owner = make.user("olivia@example.com", name="Olivia")
    workspace = make.workspace(owner, name="Acme", slug="acme")
    make.kpi(workspace, name="Signups", cadence="weekly", green_min=100, red_min=90)
    fake = live_google.fake
    sid = fake.create_spreadsheet("Acme numbers", {"Sheet1": [[]]})

    sign_in("olivia@example.com", PASSWORD)
    page.goto("/w/acme/sheet")
    page.get_by_label("Paste the sheet's address").fill(
        f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"
    )
    page.get_by_role("button", name="Connect the sheet").click()
    expect(page.locator("#flashes")).to_contain_text("Sheet connected")
    expect(page.locator("#sheet-status")).to_contain_text("Syncing")

    # Someone types this week's number into the sheet.
    period = last_n_periods(local_today("UTC"), Cadence.WEEKLY, 1)[0].key
    fake.type(sid, WEEKLY, cell_of(fake, sid, "K1", period), 123)

    page.evaluate("window.__still_the_same_page = true")
    page.get_by_role("button", name="Sync now").click()
    progress = page.locator("#sync-progress")
    # The run goes to a background thread; the fragment polls itself until it is done.
    expect(progress).to_contain_text("Sync finished", timeout=20_000)
    expect(progress).to_contain_text("pulled 1")
    assert progress.get_attribute("hx-trigger") is None  # the polling has stopped
    # The log below was refreshed with the same response, out of band.
    expect(page.locator("#sync-log")).to_contain_text("Sync now pressed")
    assert page.evaluate("window.__still_the_same_page === true")

    page.goto("/w/acme/scorecard")
    expect(page.locator("#kpi-K1")).to_contain_text("123")
    expect(page.locator(".sheet-chip")).to_contain_text("Sheet: synced")

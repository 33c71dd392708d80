"""An htmx filter error shown in place (issue 15, point 4), in a real browser at console size: a
wrong filter on the coverage dashboard replaces the rows with its message (announced), a right
one brings the rows back; a server error keeps the rows but dims them under a message."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot, sign_in
from web.models import Role

CONSOLE = {"width": 1366, "height": 768}


@pytest.fixture
def dashboard(browser, live_server, data):
    company = data.company("Filter GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="filter-admin@example.com")
    employee = data.employee(company, email="zoe@example.com", family_name="Zander")
    data.trip(employee, destination="FR", start=date(2026, 3, 1), end=date(2026, 3, 31))
    data.trip(employee, destination="AT", start=date(2026, 5, 4), end=date(2026, 5, 8))
    return company


def _console_page(browser, live_server, **options):
    context = browser.new_context(viewport=CONSOLE, base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


def test_a_filter_error_appears_in_place(browser, live_server, dashboard):
    """The trips list's dates are the filter a person can get wrong in the browser ("To" before
    "From"): the message replaces the rows where the person is looking, and links to the field."""
    context, page = _console_page(browser, live_server)
    try:
        sign_in(page, "filter-admin@example.com", lands_on="**/admin/employees")
        page.goto("/admin/trips")
        region = page.locator("#trip-rows")
        expect(region.locator("tbody tr")).to_have_count(2)
        page.evaluate("window.__marker = 'same document'")

        page.get_by_label("From").fill("2026-05-01")
        page.wait_for_url("**from=2026-05-01**")
        expect(region.locator("tbody tr")).to_have_count(1)
        page.get_by_label("To", exact=True).fill("2026-04-01")
        alert = region.get_by_role("alert")
        expect(alert).to_contain_text("is before the “From” date")
        expect(region.locator("tbody tr")).to_have_count(0)  # no stale rows
        assert "to=2026-04-01" in page.url
        assert page.evaluate("window.__marker") == "same document"
        save_screenshot(page, "trips-filter-error")

        # The message leads to the field; a right value brings the rows back.
        alert.get_by_role("link", name="To").click()
        expect(page.get_by_label("To", exact=True)).to_be_focused()
        page.get_by_label("To", exact=True).fill("2026-05-31")
        expect(region.locator("tbody tr")).to_have_count(1)
        expect(region.get_by_role("alert")).to_have_count(0)
        # Chromium logs every 4xx answer; anything else (a CSP violation, a script error) fails.
        others = [e for e in page.console_errors if "status of 400" not in e]
        assert others == [], others
    finally:
        context.close()


def test_a_fixed_filter_clears_the_pages_own_message(browser, live_server, dashboard):
    """Opened with a wrong filter (an old bookmark, a hand-edited link), the page shows the message
    beside the field too; choosing a country in the picker clears it along with the region's."""
    context, page = _console_page(browser, live_server)
    try:
        sign_in(page, "filter-admin@example.com", lands_on="**/admin/employees")
        page.goto("/admin/coverage?country=XX")
        # The picker's text box is what the reader meets: it carries the field's error state.
        country = page.get_by_role("combobox", name="Country")
        expect(country).to_have_attribute("aria-invalid", "true")
        expect(country).to_have_attribute("aria-describedby", "country-error")
        expect(page.locator("#country-error")).to_be_visible()
        expect(page.locator("#country-error")).to_contain_text("unknown country code “XX”")
        country.fill("fran")
        page.keyboard.press("Enter")
        page.wait_for_url("**country=FR**")
        expect(page.locator("#coverage-rows tr[data-trip]")).to_have_count(1)
        expect(page.locator("#country-error")).to_have_count(0)
        expect(country).not_to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("alert")).to_have_count(0)
    finally:
        context.close()


def test_a_server_error_keeps_the_rows_dimmed_under_a_message(browser, live_server, dashboard):
    context, page = _console_page(browser, live_server)
    try:
        sign_in(page, "filter-admin@example.com", lands_on="**/admin/employees")
        page.goto("/admin/coverage")
        region = page.locator("#coverage-rows")
        expect(region.locator("tr[data-trip]")).to_have_count(2)

        def fail(route):
            if route.request.headers.get("hx-request"):
                route.fulfill(status=502, body="<html><body>Bad gateway</body></html>")
            else:
                route.continue_()

        page.route("**/admin/coverage?*", fail)
        page.get_by_label("Status").select_option("action_needed")
        message = page.locator("main .request-error[role=alert]")
        expect(message).to_contain_text("this part of the page was not updated")
        expect(region).to_have_class("is-stale")
        expect(region.locator("tr[data-trip]")).to_have_count(2)  # not swapped: the proxy's page
        expect(page.get_by_text("Bad gateway")).to_have_count(0)

        page.unroute("**/admin/coverage?*")
        page.get_by_label("Status").select_option("")  # back to all: this answer arrives
        page.wait_for_url("**status=&**")
        expect(region.locator("tr[data-trip]")).to_have_count(2)
        expect(message).to_have_count(0)
        expect(region).not_to_have_class("is-stale")
    finally:
        context.close()


def test_filter_error_pages_pass_axe(browser, live_server, dashboard):
    context, page = _console_page(browser, live_server, bypass_csp=True)
    try:
        sign_in(page, "filter-admin@example.com", lands_on="**/admin/employees")
        for url in ("/admin/coverage?country=XX&month=2026-13", "/admin/trips?from=2026-02-30"):
            page.goto(url)
            page.locator(".filter-errors").wait_for()
            assert axe_violations(page) == [], url
        page.goto("/admin/trips?from=2026-05-01")
        page.get_by_label("To", exact=True).fill("2026-04-01")
        page.locator("#trip-rows .filter-errors").wait_for()
        assert axe_violations(page) == []
    finally:
        context.close()

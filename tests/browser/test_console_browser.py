"""The employer console in a real browser: login, htmx search under the strict CSP."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot, sign_in
from web.models import Role


def test_admin_logs_in_and_searches_with_htmx(page, data, live_server):
    company = data.company("Browser GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="browser-admin@example.com")
    data.employee(company, email="zofia@example.com", family_name="Zielińska", given_names="Zofia")
    data.employee(company, email="otto@example.com", family_name="Otto", given_names="Karl")

    sign_in(page, "browser-admin@example.com", lands_on="**/admin/employees")
    assert page.get_by_role("link", name="Zielińska, Zofia").is_visible()

    # Typing in the search box swaps only the rows (htmx), without a full reload.
    page.evaluate("window.__marker = 'same document'")
    page.get_by_label("Search by name or email").fill("otto")
    page.get_by_role("link", name="Otto, Karl").wait_for()
    expect(page.get_by_text("Zielińska")).to_have_count(0)
    assert page.evaluate("window.__marker") == "same document"
    assert "q=otto" in page.url  # the search is in the address bar (hx-push-url)
    save_screenshot(page, "admin-employees-search")
    assert page.console_errors == [], page.console_errors  # no CSP violation, no script error


def test_language_picker_switches_to_german(page, data, live_server):
    page.goto("/login")
    page.select_option("#lang-picker", "de")
    page.wait_for_load_state("load")
    page.get_by_role("heading", name="Anmelden").wait_for()
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.console_errors == []

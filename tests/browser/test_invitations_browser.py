"""Invitations without a mail server, in a real browser at console size: after a CSV import the
report lists who needs a link; "Create invitation link" shows it in place (htmx) with a Copy
button that puts it on the clipboard and says so; without JavaScript the same button answers a
page with the link in a selectable field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot, sign_in
from web.models import Role

CSV = (
    "email,family_name,given_names,birth_date,nationality,residence_state,home_state\n"
    "anna.alpha@example.com,Alpha,Anna,1980-01-02,DE,DE,DE\n"
    "bruno.beta@example.com,Beta,Bruno,1985-03-02,FR,FR,FR\n"
)
CONSOLE = {"width": 1366, "height": 768}


@pytest.fixture
def console(browser, live_server):
    """A console-sized page that may use the clipboard and records script errors and CSP
    violations."""
    context = browser.new_context(viewport=CONSOLE, base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def _import(page, tmp_path) -> None:
    csv = tmp_path / "staff.csv"
    csv.write_text(CSV)
    page.goto("/admin/employees/import")
    page.set_input_files("input[type=file]", str(csv))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(re.compile(r"/admin/employees/import/\d+$"))


def test_copy_invitation_link_after_an_import(console, data, live_server, browser, tmp_path):
    page = console
    company = data.company("Copy GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="copy-admin@example.com")
    sign_in(page, "copy-admin@example.com", lands_on="**/admin/employees")
    _import(page, tmp_path)
    expect(page.get_by_text("2 people still need an invitation.")).to_be_visible()
    row = page.locator("tr", has_text="anna.alpha@example.com")
    expect(row.locator("[data-invitation]")).to_have_text("Not invited yet")

    page.evaluate("window.__marker = 'same document'")
    row.get_by_role("button", name="Create invitation link").click()
    field = row.get_by_label("Invitation link for Anna Alpha")
    expect(field).to_be_visible()
    expect(field).to_be_focused()  # the clicked button is gone: focus lands on the link
    link = field.input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/invitation/[\w-]{40,}", link), link
    assert page.evaluate("window.__marker") == "same document"  # swapped in place

    copy = row.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()
    copy.click()
    expect(row.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    save_screenshot(page, "invitation-link-copied")
    assert page.console_errors == [], page.console_errors

    # The copied link works for the employee: it opens the password form.
    newcomer = browser.new_context(base_url=live_server.url)
    try:
        other = newcomer.new_page()
        other.goto(link)
        other.wait_for_url("**/choose-password")
    finally:
        newcomer.close()

    # Back on the report: Anna has a link on its way, Bruno still needs one.
    page.reload()
    expect(page.get_by_text("1 person still needs an invitation.")).to_be_visible()
    expect(row.locator("[data-invitation]")).to_have_text("Invitation link created")


def test_invitation_link_without_javascript(browser, data, live_server):
    company = data.company("NoJS GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="nojs-admin@example.com")
    employee_id = data.employee(
        company, email="carla@example.com", given_names="Carla", family_name="Gamma", password=None
    )
    context = browser.new_context(
        viewport=CONSOLE, base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, "nojs-admin@example.com", lands_on="**/admin/employees")
        page.goto(f"/admin/employees/{employee_id}")
        page.get_by_role("button", name="Create invitation link").click()
        page.get_by_role("heading", name="Invitation link").wait_for()
        field = page.get_by_label("Invitation link for Carla Gamma")
        assert "/invitation/" in field.input_value()
        assert field.get_attribute("readonly") is not None
        expect(page.get_by_role("button", name="Copy")).to_be_hidden()  # needs the script
        page.get_by_role("link", name="Back to Carla Gamma").click()
        expect(page.locator("[data-invitation]")).to_have_text("Invitation link created")
    finally:
        context.close()


def test_invitation_pages_pass_axe(browser, data, live_server, tmp_path):
    company = data.company("Axe GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="axe-admin@example.com")
    context = browser.new_context(viewport=CONSOLE, base_url=live_server.url, bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, "axe-admin@example.com", lands_on="**/admin/employees")
        _import(page, tmp_path)
        assert axe_violations(page) == []
        page.locator("tr", has_text="anna.alpha@example.com").get_by_role(
            "button", name="Create invitation link"
        ).click()
        page.get_by_label("Invitation link for Anna Alpha").wait_for()
        assert axe_violations(page) == []
        page.get_by_role("link", name="Alpha, Anna").click()
        page.get_by_role("heading", name="Invitation", exact=True).wait_for()
        assert axe_violations(page) == []
        page.goto("/admin/employees")  # the list shows who has accepted
        assert axe_violations(page) == []
    finally:
        context.close()

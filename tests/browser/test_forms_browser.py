"""The console's forms for people (issue 15, point 3) in a real browser under the strict CSP: the
country picker by keyboard alone, the working-time shares with their live total, the plain
selects without JavaScript, and axe on the trip and employee forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, recording_page, sign_in
from tests.factories import PASSWORD
from web.extensions import db
from web.models import Role, Trip

ADMIN = "forms-admin@example.com"
START = date.today() + timedelta(days=30)
END = START + timedelta(days=300)


@pytest.fixture
def employee_id(data) -> int:
    company = data.company("Forms GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email=ADMIN)
    return data.employee(company, email="forms-worker@example.com")


@pytest.fixture
def console(browser, live_server):
    """A console-sized page (1366×768) that records console errors and CSP violations."""
    yield from recording_page(browser, live_server, 1366, 768)


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def _chosen(page, name: str) -> list[str]:
    return page.evaluate(
        "name => Array.from(document.querySelector(`select[name=${name}]`).selectedOptions)"
        ".map(o => o.value)",
        name,
    )


def test_the_country_picker_works_by_keyboard_alone(console, employee_id):
    page = console
    sign_in(page, ADMIN, lands_on="**/admin/employees")
    page.goto(f"/admin/employees/{employee_id}/trips/new")
    work = page.get_by_role("combobox", name="Countries where the employee works on this trip")
    expect(work).to_have_attribute("aria-expanded", "false")
    expect(page.locator('select[name="work_states"]')).to_be_hidden()

    # The destination: Tab into it from the page, type, Enter takes the first match.
    for _ in range(40):  # from the top of the page: the skip link, the header, the form
        page.keyboard.press("Tab")
        if _focused_id(page) == "destination_state":
            break
    assert _focused_id(page) == "destination_state"
    page.keyboard.type("germ")
    expect(page.get_by_role("combobox", name="Destination country")).to_have_attribute(
        "aria-expanded", "true"
    )
    page.keyboard.press("Enter")
    assert _chosen(page, "destination_state") == ["DE"]
    expect(page.get_by_role("combobox", name="Destination country")).to_have_value("Germany")

    # The countries of work: Tab, type "fra", ArrowDown, Enter → France chosen, as a chip.
    page.keyboard.press("Tab")
    assert _focused_id(page) == "work_states"
    page.keyboard.type("fra")
    listbox = page.get_by_role("listbox", name="Countries where the employee works on this trip")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option").first).to_have_text("France")
    page.keyboard.press("ArrowDown")
    active = work.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").inner_text() == "France"
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    assert _chosen(page, "work_states") == ["FR"]
    expect(work).to_have_value("")
    expect(work).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("status").filter(has_text="France added")).to_have_count(1)
    assert page.url.endswith("/trips/new")  # Enter chose; it did not submit the form

    # A second one; Escape closes the list without choosing.
    page.keyboard.type("belg")
    page.keyboard.press("Enter")
    page.keyboard.type("ital")
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    assert _chosen(page, "work_states") == ["BE", "FR"]  # in the select's (name) order

    # Remove France with the keyboard: Shift+Tab reaches the chips, Enter removes.
    remove_france = page.get_by_role("button", name="Remove France")
    expect(remove_france).to_be_visible()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remove France"
    page.keyboard.press("Enter")
    expect(remove_france).to_have_count(0)
    assert _chosen(page, "work_states") == ["BE"]
    expect(page.get_by_role("status").filter(has_text="France removed")).to_have_count(1)
    # The focus stays near: on the remaining chip.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remove Belgium"
    page.keyboard.press("Space")
    assert _chosen(page, "work_states") == []
    assert _focused_id(page) == "work_states"  # no chip left: back in the text box
    assert page.console_errors == [], page.console_errors


def test_the_picker_finds_names_in_the_readers_language(console, employee_id, app):
    page = console
    sign_in(page, ADMIN, lands_on="**/admin/employees")
    with page.expect_navigation():
        page.select_option("#lang-picker", "de")
    page.goto(f"/admin/employees/{employee_id}/edit")
    home = page.get_by_role("combobox", name="Heimatland (Land, in dem die Person versichert ist)")
    expect(home).to_have_value("Deutschland")
    home.fill("oster")  # without the accent
    expect(page.get_by_role("option", name="Österreich")).to_be_visible()
    page.keyboard.press("Enter")
    expect(home).to_have_value("Österreich")
    assert _chosen(page, "home_state") == ["AT"]
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(f"**/admin/employees/{employee_id}")
    with app.app_context():
        from web.models import Employee

        assert db.session.get(Employee, employee_id).home_state == "AT"


def test_the_work_split_shows_its_total_as_you_type(console, employee_id, app):
    page = console
    sign_in(page, ADMIN, lands_on="**/admin/employees")
    page.goto(f"/admin/employees/{employee_id}/trips/new")
    shares = page.get_by_role("group", name="Share of working time per country")
    expect(shares).to_be_hidden()  # a posting has no split
    page.get_by_label("Kind of trip").select_option("regular_multi_state")
    expect(shares).to_be_visible()

    page.get_by_role("combobox", name="Destination country").fill("France")
    page.keyboard.press("Enter")
    work = page.get_by_role("combobox", name="Countries where the employee works on this trip")
    work.fill("germany")
    page.keyboard.press("Enter")
    work.fill("belg")
    page.keyboard.press("Enter")
    # One field per country of work, the destination first.
    expect(shares.get_by_role("spinbutton")).to_have_count(3)
    assert shares.locator("input").evaluate_all("els => els.map(e => e.name)") == [
        "share-FR",
        "share-BE",
        "share-DE",
    ]
    total = shares.locator("[data-share-total]")
    expect(total).to_have_attribute("aria-live", "polite")
    shares.get_by_label("France").fill("50")
    shares.get_by_label("Germany").fill("30")
    expect(total).to_have_text("Total: 80% — must be 100%")
    shares.get_by_label("Belgium").fill("20")
    expect(total).to_have_text("Total: 100%")

    # Removing a country removes its field and its share from the total.
    page.get_by_role("button", name="Remove Belgium").click()
    expect(shares.get_by_role("spinbutton")).to_have_count(2)
    expect(total).to_have_text("Total: 80% — must be 100%")
    shares.get_by_label("Germany").fill("50")
    expect(total).to_have_text("Total: 100%")

    page.get_by_label("First day").fill(START.isoformat())
    page.get_by_label("Last day").fill(END.isoformat())
    page.get_by_role("button", name="Save trip").click()
    page.wait_for_url("**/admin/trips/*")
    with app.app_context():
        (trip,) = db.session.scalars(db.select(Trip)).all()
        assert (trip.work_split, trip.work_state_list) == ("FR 50, DE 50", ["FR", "DE"])
    assert page.console_errors == [], page.console_errors


def test_without_javascript_the_plain_selects_work(browser, live_server, employee_id, app):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=live_server.url, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(ADMIN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/admin/employees")
        page.goto(f"/admin/employees/{employee_id}/trips/new")
        expect(page.locator(".picker")).to_have_count(0)
        work = page.get_by_label("Countries where the employee works on this trip")
        expect(work).to_be_visible()
        assert work.evaluate("el => el.multiple")
        expect(page.get_by_text("hold Ctrl (⌘ on a Mac)")).to_be_visible()
        page.get_by_label("Destination country").select_option("FR")
        work.select_option(["DE", "BE"])
        page.get_by_label("First day").fill(START.isoformat())
        page.get_by_label("Last day").fill(END.isoformat())
        page.get_by_label("Kind of trip").select_option("regular_multi_state")
        page.get_by_role("button", name="Save trip").click()
        # No share yet: the answer asks for the split and now has a field per country.
        expect(page.locator("#work_split-error")).to_be_visible()
        expect(page.locator('input[name^="share-"]')).to_have_count(3)
        page.get_by_label("France", exact=True).fill("40")
        page.get_by_label("Germany", exact=True).fill("40")
        page.get_by_label("Belgium", exact=True).fill("20")
        page.get_by_role("button", name="Save trip").click()
        page.wait_for_url("**/admin/trips/*")
        with app.app_context():
            (trip,) = db.session.scalars(db.select(Trip)).all()
            assert trip.work_state_list == ["FR", "BE", "DE"]
            assert trip.work_split == "FR 40, BE 20, DE 40"
    finally:
        context.close()


def test_axe_finds_nothing_on_the_trip_and_employee_forms(a11y_page, employee_id, app, data):
    page = a11y_page
    page.set_viewport_size({"width": 1366, "height": 768})
    trip_id = data.trip(
        employee_id,
        "FR",
        start=START,
        end=END,
        kind="regular_multi_state",
        work_states="DE",
        work_split="DE 60, FR 40",
    )
    sign_in(page, ADMIN, lands_on="**/admin/employees")
    for path in (
        f"/admin/employees/{employee_id}/trips/new",
        f"/admin/trips/{trip_id}/edit",
        f"/admin/employees/{employee_id}/edit",
        "/admin/employees/new",
        "/admin/coverage",
    ):
        page.goto(path)
        assert axe_violations(page) == [], path
    # With the list open, chips shown, and a share error beside its field.
    page.goto(f"/admin/trips/{trip_id}/edit")
    page.get_by_label("Germany", exact=True).fill("70")
    page.get_by_role("button", name="Save trip").click()
    expect(page.locator("#work_split-error")).to_be_visible()
    page.get_by_role("combobox", name="Countries where the employee works on this trip").fill("s")
    expect(page.get_by_role("listbox")).to_be_visible()
    assert axe_violations(page) == [], "trip form with errors and the list open"


def test_the_dashboard_filters_by_a_country_chosen_by_name(console, employee_id, data):
    data.trip(employee_id, "FR", start=START, end=START + timedelta(days=9))
    data.trip(employee_id, "AT", start=START, end=START + timedelta(days=9))
    page = console
    sign_in(page, ADMIN, lands_on="**/admin/employees")
    page.goto("/admin/coverage")
    rows = page.locator("#coverage-rows tbody tr")
    expect(rows).to_have_count(2)
    country = page.get_by_role("combobox", name="Country")
    country.fill("austria")
    page.keyboard.press("Enter")
    page.wait_for_url("**country=AT**")  # htmx swapped the rows and kept the filter in the URL
    expect(rows).to_have_count(1)
    expect(country).to_have_value("Austria")

    # Back: htmx puts the earlier page back, and its picker works again.
    page.go_back()
    expect(rows).to_have_count(2)
    country = page.get_by_role("combobox", name="Country")
    expect(country).to_have_count(1)
    country.fill("fran")
    page.keyboard.press("Enter")
    page.wait_for_url("**country=FR**")
    expect(rows).to_have_count(1)
    assert page.console_errors == [], page.console_errors

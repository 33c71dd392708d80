"""The inspection bundle in Debian's Chromium (issue 18, points 4 and 6): the posted-worker
declaration beside the certificate in the inspector view, online and offline, in French and
German, its receipt opened from the copy the phone kept; the employee's notice on the wallet
home; the coverage dashboard's declaration column and filter.

Screenshots go to ``$BUNDLE_SHOTS`` when it is set (e.g. /tmp/shots/bundle)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, sign_in
from tests.browser.test_ask_browser import new_page, ready_for_offline
from tests.factories import Factories
from tests.test_declaration_bundle import CONTACT, RECEIPT, RECEIPT_NUMBER, answer, file_declaration
from web.extensions import db
from web.models import Role, User

pytestmark = pytest.mark.browser

TODAY = date.today()
EMAIL = "lena.bundle@example.com"
ADMIN = "bundle-browser-admin@example.com"
SHOTS = os.environ.get("BUNDLE_SHOTS")
PHONE = {"width": 320, "height": 568}
CONSOLE = {"width": 1366, "height": 768}

# What the worker's page cache holds (path + query).
KEPT_URLS = """async () => {
  const cache = await caches.open("a1w-pages");
  return (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
}"""
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def set_locale(app, email: str, locale: str) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        user.locale = locale
        db.session.commit()


def translated(app, lang: str, message: str, **values: str) -> str:
    with app.test_request_context("/"), force_locale(lang):
        return gettext(message, **values)


@pytest.fixture
def world(app, data) -> dict:
    """Lena works in France from yesterday; her employer filed the SIPSI declaration and named
    a contact person. A second trip, in a month, needs a declaration not filed yet."""
    company = data.company("Bundle Browser GmbH", seat_state="DE")
    data.user(Role.EMPLOYER_ADMIN, company, email=ADMIN)
    employee = data.employee(company, email=EMAIL, family_name="Brückner", given_names="Lena")
    now = data.trip(employee, "FR", TODAY - timedelta(days=1), TODAY + timedelta(days=20))
    later = data.trip(employee, "AT", TODAY + timedelta(days=30), TODAY + timedelta(days=40))
    cert = Factories(app).certificate(employee, "provisional", ("FR",))
    file_declaration(app, now)
    answer(app, later, "yes")
    return {
        "now": now,
        "later": later,
        "inspector": f"/wallet/certificates/{cert.id}/inspector",
        "receipt": f"/declarations/trips/{now}/receipt",
    }


def test_bundle_in_the_inspector_view_online_and_offline_in_two_languages(
    browser, app, live_server, world
):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, timezone_id="Europe/Paris"
    )
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        ready_for_offline(page)
        assert world["receipt"] in page.evaluate(KEPT_URLS)  # kept like the authority's PDF
        countries = {"fr": "France", "de": "Frankreich"}
        for offline in (False, True):
            context.set_offline(offline)
            where = "offline" if offline else "online"
            for lang in ("fr", "de"):
                page.goto(f"{world['inspector']}?lang={lang}")
                expect(page.locator("svg.qr")).to_be_visible()
                assert page.evaluate("document.documentElement.lang") == lang
                bundle = page.locator(".inspector-declaration")
                bundle.scroll_into_view_if_needed()
                line = bundle.locator(".declaration-line")
                expect(line).to_contain_text(RECEIPT_NUMBER)
                filed_words = translated(
                    app, lang, "Posted-worker declaration: filed on %(date)s", date="|"
                ).split("|")[0]
                expect(line).to_contain_text(filed_words)
                assert "Posted-worker" not in line.text_content()
                contact = translated(
                    app,
                    lang,
                    "Contact person in %(country)s: %(name)s",
                    country=countries[lang],
                    name=CONTACT,
                )
                expect(bundle.locator(".declaration-contact")).to_have_text(contact)
                link = bundle.get_by_role(
                    "link", name=translated(app, lang, "Open the declaration receipt (PDF)")
                )
                expect(link).to_have_attribute("href", world["receipt"])
                if offline:
                    expect(page.locator("#sync-status .offline-badge")).to_be_visible()
                assert page.evaluate(PAGE_OVERFLOW) == 0, (where, lang)
                box = bundle.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
                shot(page, f"inspector-bundle-320-{lang}-{where}")
                # The receipt opens from the copy on the phone, also with no network.
                with page.expect_download() as download:
                    link.click()
                assert Path(download.value.path()).read_bytes() == RECEIPT, (where, lang)
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()


def test_wallet_home_tells_the_employee_before_the_trip(browser, app, live_server, world):
    # CSP bypassed for axe-core only (the other tests here run under the strict CSP).
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, bypass_csp=True)
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        for lang in ("en", "de"):
            set_locale(app, EMAIL, lang)
            page.goto("/wallet/")
            notice = page.locator(".declaration-notice")
            expect(notice).to_have_count(1)  # the trip in a month, not the filed one
            country = {"en": "Austria", "de": "Österreich"}[lang]
            expect(notice).to_contain_text(country)
            assert page.evaluate("document.documentElement.lang") == lang
            card = page.locator(".trip-card", has=notice)
            expect(card).to_contain_text(country)
            notice.scroll_into_view_if_needed()
            assert page.evaluate(PAGE_OVERFLOW) == 0, lang
            shot(page, f"home-notice-320-{lang}")
            assert axe_violations(page) == [], lang
        # The bundle beside the certificate, filed and with its receipt: axe-clean too.
        page.goto(f"{world['inspector']}?lang=de")
        expect(page.locator(".inspector-declaration")).to_contain_text(RECEIPT_NUMBER)
        assert axe_violations(page) == []
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()


def test_dashboard_declaration_column_and_filter(browser, app, live_server, world):
    context = browser.new_context(base_url=live_server.url, viewport=CONSOLE)
    try:
        page = new_page(context)
        sign_in(page, ADMIN, lands_on="**/admin/employees")
        for lang in ("en", "fr"):
            set_locale(app, ADMIN, lang)
            page.goto("/admin/coverage")
            header = translated(app, lang, "Declaration")
            expect(page.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
            filed = translated(app, lang, "Declaration filed")
            expect(page.locator("td .chip-declaration-filed")).to_have_text(filed)
            expect(page.locator("td .chip-declaration-required")).to_have_count(1)
            assert page.evaluate(PAGE_OVERFLOW) == 0, lang
            shot(page, f"coverage-1366-{lang}")
        # The filter swaps the rows (htmx) and keeps its state in the address bar.
        page.get_by_label(translated(app, "fr", "Posted-worker declaration")).select_option("filed")
        page.wait_for_url("**declaration=filed**")
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("tbody")).to_contain_text(RECEIPT_NUMBER)
        page.reload()
        expect(page.locator("#declaration")).to_have_value("filed")
        expect(page.locator("tbody tr")).to_have_count(1)
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()

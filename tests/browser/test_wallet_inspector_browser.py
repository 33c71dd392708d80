"""The inspection moment in Debian's Chromium, on the smallest phones: after the tap (online and
offline) the title, the whole QR, the holder's name and "valid until" are on the first screen in
each of the 7 languages; nothing overflows at 320 px; axe finds nothing; the screen is kept on;
a provisional statement's QR opens only through the deliberate step; sign-out asks first.

`SCREENSHOTS=1` writes the inspector view at 320 px in every language to `screenshots/`.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, sign_in
from tests.browser.test_ask_browser import BUTTON, key_of, new_page, ready_for_offline
from tests.factories import Factories

pytestmark = pytest.mark.browser

TODAY = date.today()
EMAIL = "zofia.inspector@example.com"
FAMILY_NAME = "Wiśniewska-Brzęczyszczykiewicz"
GIVEN_NAMES = "Zofia Małgorzata"
LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
PHONES = (
    {"width": 320, "height": 568},
    {"width": 375, "height": 667},
    {"width": 390, "height": 844},
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

# Where the first-screen parts are, against the viewport and the employee's bar at the bottom.
FIRST_SCREEN = """() => {
  const box = (selector) => {
    const node = document.querySelector(selector);
    if (!node) return null;
    const r = node.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
            width: r.width, height: r.height};
  };
  const bar = document.querySelector("#ask-status");
  const barTop = bar && !bar.hidden ? bar.getBoundingClientRect().top : window.innerHeight;
  return {
    lang: document.documentElement.lang,
    width: window.innerWidth, height: window.innerHeight,
    limit: Math.min(window.innerHeight, barTop),
    barHeight: bar && !bar.hidden ? bar.getBoundingClientRect().height : 0,
    scrollY: window.scrollY,
    title: box("h1.inspector-title"), qr: box("svg.qr"), name: box(".holder-name"),
    ascii: box(".inspector-holder .ascii"), valid: box(".inspector-validity"),
    titleText: document.querySelector("h1.inspector-title").textContent.trim(),
  };
}"""

# Horizontal overflow of the page, and every visible element wider than its container.
OVERFLOW = """() => {
  const doc = document.documentElement;
  const out = {page: doc.scrollWidth - doc.clientWidth, elements: []};
  const name = (node) => `${node.tagName}.${node.className}`;
  const skipped = (node, style) => style.display === "none" || style.visibility === "hidden"
    || node.closest(".visually-hidden") || node.closest("[hidden]")
    || node.closest("details:not([open]) > :not(summary)");
  for (const node of document.querySelectorAll("body *")) {
    const style = getComputedStyle(node);
    if (skipped(node, style)) continue;
    const r = node.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    const wide = node.scrollWidth > node.clientWidth + 1;
    if (wide && style.overflowX === "visible" && node.clientWidth) {
      const text = node.textContent.trim().slice(0, 40);
      out.elements.push(`${name(node)} "${text}" ${node.scrollWidth} > ${node.clientWidth}`);
    }
    const parent = node.parentElement;
    if (!parent || parent === document.body) continue;
    if (style.position === "fixed" || style.position === "absolute") continue;
    const p = parent.getBoundingClientRect();
    if (r.left < p.left - 1 || r.right > p.right + 1) {
      out.elements.push(`${name(node)} [${r.left}, ${r.right}] outside ${name(parent)}`
        + ` [${p.left}, ${p.right}]`);
    }
  }
  return out;
}"""

# navigator.wakeLock replaced by a recorder, before any page script runs.
WAKE_LOCK_STUB = """
(() => {
  window.__wakeLockCalls = [];
  window.__wakeLocks = [];
  const stub = {request: (type) => {
    window.__wakeLockCalls.push(type);
    const lock = {released: false, type: type, addEventListener() {},
                  release() { this.released = true; return Promise.resolve(); }};
    window.__wakeLocks.push(lock);
    return Promise.resolve(lock);
  }};
  Object.defineProperty(Navigator.prototype, "wakeLock", {get: () => stub, configurable: true});
})();
"""


@pytest.fixture
def employee(app, data) -> dict:
    """An employee in France today, with a provisional statement (the longest titles)."""
    company = data.company("Inspektion Bau GmbH")
    employee_id = data.employee(
        company, email=EMAIL, family_name=FAMILY_NAME, given_names=GIVEN_NAMES
    )
    data.trip(
        employee_id,
        destination="FR",
        start=TODAY - timedelta(days=2),
        end=TODAY + timedelta(days=20),
    )
    cert = Factories(app).certificate(employee_id, "provisional", ("FR",))
    return {
        "id": employee_id,
        "cert": cert.id,
        "url": f"/wallet/certificates/{cert.id}",
        "inspector": f"/wallet/certificates/{cert.id}/inspector",
        "code": cert.verification_code_display,
    }


def wake_lock_calls(page, count: int, timeout: float = 5) -> list[str]:
    """The recorded wake-lock requests once there are ``count`` (the CSP forbids string
    wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = page.evaluate("() => window.__wakeLockCalls")
        if len(calls) >= count or time.monotonic() > deadline:
            return calls
        time.sleep(0.05)


def assert_first_screen(page, lang: str, where: str) -> None:
    expect(page.locator("svg.qr")).to_be_visible()
    seen = page.evaluate(FIRST_SCREEN)
    assert seen["lang"] == lang, (where, seen["lang"])
    assert seen["scrollY"] == 0, where
    for part in ("title", "qr", "name", "ascii", "valid"):
        box = seen[part]
        assert box is not None, (where, part)
        assert box["top"] >= 0 and box["left"] >= 0, (where, part, box)
        assert box["right"] <= seen["width"] + 0.5, (where, part, box, seen["width"])
        assert box["bottom"] <= seen["limit"] + 0.5, (where, part, box, seen["limit"])
    # The employee's bar (support alerted, call, text) is one row.
    assert seen["barHeight"] <= 72, (where, seen["barHeight"])
    qr = seen["qr"]
    assert qr["width"] == pytest.approx(qr["height"], abs=1), (where, qr)
    # At least 45 mm on a 5-inch phone (about 62 mm wide): 72 % of the width. A 4-inch phone
    # (320×568) has no room for that beside the name and dates: there, still a camera's size.
    assert qr["width"] >= 0.72 * seen["width"] or seen["height"] < 600, (where, qr)
    assert qr["width"] >= 170, (where, qr)
    if lang != "en":  # in the inspector's language, not English
        assert "Provisional statement" not in seen["titleText"], (where, seen["titleText"])


def open_language(page, lang: str, key: str, inspector: str) -> None:
    """The inspector's one language control: the menu, then the language (the panel stays)."""
    page.locator(".lang-menu summary").click()
    link = page.locator(f".lang-menu a[hreflang='{lang}']")
    assert link.get_attribute("href").endswith(f"?lang={lang}#ask={key}")
    link.click()
    page.wait_for_url(f"**{inspector}?lang={lang}#ask={key}")
    expect(page.locator("#ask-status")).to_be_visible()


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_first_screen_after_the_tap_on_small_phones_in_every_language(
    browser, live_server, employee, online
):
    for viewport in PHONES:
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, timezone_id="Europe/Paris"
        )
        try:
            page = new_page(context)
            sign_in(page, EMAIL)
            ready_for_offline(page)
            if not online:
                context.set_offline(True)
            page.get_by_role("link", name=BUTTON).click()
            key = key_of(page)
            where = f"{viewport['width']}x{viewport['height']} {'online' if online else 'offline'}"
            # The destination's language by default (France: French).
            assert_first_screen(page, "fr", where)
            expect(page.locator("#ask-status")).to_be_visible()
            for lang in LANGUAGES:
                open_language(page, lang, key, employee["inspector"])
                assert_first_screen(page, lang, f"{where} {lang}")
                if not online:
                    expect(page.locator("#sync-status .offline-badge")).to_be_visible()
            assert page.console_errors == [], page.console_errors
        finally:
            context.close()


def test_inspector_view_fits_320_px_without_overflow_and_is_axe_clean(
    browser, live_server, employee
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 320, "height": 568}, bypass_csp=True
    )
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        ready_for_offline(page)
        page.get_by_role("link", name=BUTTON).click()
        key = key_of(page)
        expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "sent")
        for lang in LANGUAGES:
            page.goto(f"{employee['inspector']}?lang={lang}#ask={key}")
            expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "sent")
            overflow = page.evaluate(OVERFLOW)
            assert overflow == {"page": 0, "elements": []}, (lang, overflow)
            # The language menu open must fit too.
            page.locator(".lang-menu summary").click()
            overflow = page.evaluate(OVERFLOW)
            assert overflow["page"] == 0, (lang, overflow)
            menu = page.locator(".lang-menu ul").bounding_box()
            assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 320, (lang, menu)
            page.locator(".lang-menu summary").click()
            if os.environ.get("SCREENSHOTS") == "1":
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"inspector-320-{lang}.png"))
                page.screenshot(
                    path=str(SCREENSHOTS / f"inspector-320-{lang}-full.png"), full_page=True
                )
            assert axe_violations(page) == [], lang
    finally:
        context.close()


def test_wake_lock_and_the_one_time_brightness_hint(browser, live_server, employee):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 568})
    context.add_init_script(WAKE_LOCK_STUB)
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        page.goto(employee["inspector"])
        expect(page.locator("svg.qr")).to_be_visible()
        assert wake_lock_calls(page, 1) == ["screen"]
        # The lock goes when the page is hidden; back in view, it is asked for again.
        page.evaluate(
            "() => { window.__wakeLocks[0].released = true;"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
        assert wake_lock_calls(page, 2) == ["screen", "screen"]
        # The brightness hint: once, in the employee's language, and never again.
        hint = page.locator(".brightness-hint")
        expect(hint).to_be_visible()
        expect(hint).to_have_attribute("lang", "en")
        expect(hint).to_contain_text("brightness")
        hint.get_by_role("button", name="OK").click()
        expect(hint).to_be_hidden()
        page.reload()
        expect(page.locator("svg.qr")).to_be_visible()
        expect(hint).to_be_hidden()
        # The QR's accessible name says what it is.
        label = page.locator("svg.qr").get_attribute("aria-label")
        assert employee["code"] in label and "QR" in label, label
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()


def test_provisional_qr_only_through_the_deliberate_step_offline_too(page, employee):
    sign_in(page, EMAIL)
    ready_for_offline(page)
    for offline in (False, True):
        page.context.set_offline(offline)
        page.goto(employee["url"])
        expect(page.get_by_text("Show this only when an authority asks.")).to_be_visible()
        expect(page.locator("svg.qr")).to_have_count(0)
        expect(page.locator(".verification-code")).to_have_count(0)
        page.get_by_role("link", name="Show to an authority").click()
        page.wait_for_url(f"**{employee['url']}/show")
        expect(page.locator("svg.qr")).to_have_count(0)
        expect(page.get_by_role("link", name="Alert support and show it")).to_be_visible()
        page.get_by_role("link", name="Show it without alerting support").click()
        page.wait_for_url(f"**{employee['inspector']}")
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(employee["code"])
        title = page.locator("h1.inspector-title")
        expect(title).to_contain_text("ce n'est pas un certificat A1")  # France: French
        assert not re.search(r"portable|PD A1", title.text_content(), re.I)
    assert page.console_errors == [], page.console_errors


def test_header_is_one_row_and_sign_out_asks_first(browser, live_server, employee, app):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 568})
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= 60, header  # one row
        for link in page.locator(".site-header a, .site-header button").all():
            if link.is_visible():
                box = link.bounding_box()
                assert box["height"] >= 44, (link.text_content(), box)
        expect(page.locator("#lang-picker")).to_have_count(0)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320

        page.get_by_role("button", name="Sign out").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("wiped")
        assert page.url.endswith("/wallet/")  # nothing happened yet
        dialog.get_by_role("button", name="Stay signed in").click()
        expect(dialog).to_be_hidden()
        page.reload()
        expect(page.get_by_role("link", name=BUTTON)).to_be_visible()  # still signed in
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign out and wipe").click()
        page.wait_for_url("**/login")
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()


def test_install_button_where_the_browser_offers_it(page, employee):
    sign_in(page, EMAIL)
    install = page.get_by_role("button", name="Install the app")
    expect(install).to_be_hidden()
    expect(page.locator(".ios-install-hint")).to_be_hidden()  # not an iPhone
    page.evaluate(
        "() => { const e = new Event('beforeinstallprompt'); window.__prompted = 0;"
        " e.prompt = () => { window.__prompted += 1; return Promise.resolve(); };"
        " window.dispatchEvent(e); }"
    )
    expect(install).to_be_visible()
    install.click()
    assert page.evaluate("() => window.__prompted") == 1
    expect(install).to_be_hidden()


def test_settings_says_how_to_install_until_the_browser_offers_it(page, employee):
    """Android: before the browser's own prompt, Settings points to the browser's menu; then the
    button replaces it; once installed, it says so."""
    sign_in(page, EMAIL)
    page.goto("/wallet/settings")
    menu_hint = page.locator(".menu-install-hint")
    install = page.get_by_role("button", name="Install the app")
    expect(menu_hint).to_be_visible()
    expect(install).to_be_hidden()
    expect(page.locator(".installed-hint")).to_be_hidden()
    page.evaluate(
        "() => { const e = new Event('beforeinstallprompt');"
        " e.prompt = () => Promise.resolve(); window.dispatchEvent(e); }"
    )
    expect(install).to_be_visible()
    expect(menu_hint).to_be_hidden()
    page.evaluate("() => window.dispatchEvent(new Event('appinstalled'))")
    expect(install).to_be_hidden()
    expect(menu_hint).to_be_hidden()
    expect(page.locator(".installed-hint")).to_be_visible()
    assert page.console_errors == [], page.console_errors

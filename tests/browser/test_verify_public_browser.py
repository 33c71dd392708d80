"""The public check pages on the smallest phone (320×568) in all seven languages: no horizontal
overflow, no element overflowing its box (measured in Chromium), axe clean; the offline
verifier's answer is the same markup with the same labels as /V/.

`SCREENSHOTS=1` writes each page at 320 px in every language to `screenshots/` (beside the
inspector view's, tests/browser/test_wallet_inspector_browser.py)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations
from tests.factories import confirm_official
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
)
from web.extensions import db
from web.models import Employee

LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TODAY = date.today()

# Every rendered element: its content fits its box, its box fits its parent, the page its width.
OVERFLOWS = """() => {
  const bad = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) bad.push("page " + root.scrollWidth + "px wide");
  for (const el of document.body.querySelectorAll("*")) {
    if (el instanceof SVGElement || el.closest("template")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.display === "inline" || !el.clientWidth) continue;
    const name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "") +
      " «" + (el.textContent || "").trim().slice(0, 40) + "»";
    if (el.scrollWidth > el.clientWidth + 1 && style.overflowX === "visible") {
      bad.push(name + " content " + el.scrollWidth + " > box " + el.clientWidth);
    }
    const parent = el.parentElement;
    if (parent && parent !== document.body) {
      const box = el.getBoundingClientRect(), outer = parent.getBoundingClientRect();
      if (box.right > outer.right + 1 || box.left < outer.left - 1) {
        bad.push(name + " leaves its parent by " + Math.round(box.right - outer.right) + "px");
      }
    }
  }
  return bad;
}"""


@pytest.fixture
def app_config():
    return {"VERIFY_PAGE_LIMIT": "100000 per minute", "VERIFY_LOOKUP_LIMIT": "1 per 10 minutes"}


@pytest.fixture
def certificates(app, data):
    employee_id = data.employee(
        data.company("Kowalski Sp. z o.o."),
        family_name="Wiśniewska-Brzęczyszczykiewicz",
        given_names="Małgorzata Żaneta",
        birth_date="1987-03-14",
    )
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        official = confirm_official(
            import_official_certificate(
                employee,
                CertificateInput(
                    "A1",
                    "DE",
                    ["FR", "NL"],
                    TODAY,
                    TODAY + timedelta(days=300),
                    "DE:DRV-BUND",
                    "A1-DE-2026-004711",
                ),
                actor=None,
                document=None,
            )
        )
        provisional = issue_provisional_certificate(
            employee,
            CertificateInput("A1", "DE", ["FR", "BE"], TODAY, TODAY + timedelta(days=30)),
            actor=None,
        )
        db.session.commit()
        return {
            "official": official.qr_text,
            "provisional": provisional.qr_text,
            "code": provisional.verification_code,
        }


def _path(qr_text: str) -> str:
    return "/V/" + qr_text.split("/V/", 1)[1]


def _look(page, name: str, lang: str) -> None:
    overflows = page.evaluate(OVERFLOWS)
    assert overflows == [], (name, lang, overflows)
    assert axe_violations(page) == [], (name, lang)
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"verify-320-{lang}-{name}.png"), full_page=True)


def test_every_public_page_fits_320_px_in_every_language(browser, live_server, certificates):
    context = browser.new_context(
        viewport={"width": 320, "height": 568}, base_url=live_server.url, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    forged = (
        certificates["provisional"][:-6]
        + ("A" if certificates["provisional"][-6] != "A" else "B")
        + certificates["provisional"][-5:]
    )
    pages = {
        "valid-official": _path(certificates["official"]),
        "valid-provisional": _path(certificates["provisional"]),
        "not-genuine": _path(forged),
        "not-readable": "/V/HELLO-WORLD",
        "lookup": "/verify",
    }
    try:
        for lang in LANGUAGES:
            for name, path in pages.items():
                page.goto(f"{path}?lang={lang}")
                _look(page, name, lang)
            # The typed lookup's answer (successes are not counted by the limit).
            page.goto(f"/verify?lang={lang}")
            page.locator("#code").fill(certificates["code"])
            page.locator("#birth_date").fill("1987-03-14")
            page.locator("button[type=submit]").click()
            expect(page.locator("[data-state=valid_provisional]")).to_be_visible()
            _look(page, "lookup-answer", lang)
            # The offline verifier fills the same markup as /V/.
            page.goto(f"/verify/scan?lang={lang}")
            expect(page.locator("#scan")).to_have_attribute("data-ready", "true")
            page.locator("#qr-text").fill(certificates["official"])
            page.locator("#text-form button[type=submit]").click()
            expect(page.locator("#scan-result [data-state=valid_official]")).to_be_visible()
            scan_labels = page.locator("#scan-result dt").all_inner_texts()
            scan_issuer = page.locator("#scan-result [data-slot=issued_by]").inner_text()
            _look(page, "scan-result", lang)
            page.goto(f"{pages['valid-official']}?lang={lang}")
            server_labels = page.locator("dt").all_inner_texts()
            assert scan_labels == server_labels[: len(scan_labels)], lang
            assert scan_issuer == page.locator("[data-slot=issued_by]").inner_text()
            assert "Deutsche Rentenversicherung" in scan_issuer
        # Then wrong codes: the first is counted, every later one meets the limit (which blocks
        # correct codes too, so this comes after every language's answer).
        for lang in LANGUAGES:
            for _ in range(2 if lang == "en" else 1):
                page.goto(f"/verify?lang={lang}")
                page.locator("#code").fill("AAAA-AAAA-AAAA")
                page.locator("#birth_date").fill("1980-01-01")
                page.locator("button[type=submit]").click()
            expect(page.locator("[data-retry-at]")).to_be_visible()
            _look(page, "rate-limited", lang)
    finally:
        context.close()


def test_the_rate_limit_page_counts_down(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 568}, base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 4" not in m.text and errors.append(m.text),
    )
    try:
        for _ in range(2):
            page.goto("/verify?lang=de")
            page.locator("#code").fill("AAAA-AAAA-AAAA")
            page.locator("#birth_date").fill("1980-01-01")
            page.locator("button[type=submit]").click()
        countdown = page.locator("[data-retry-at]")
        expect(countdown).to_contain_text("Verbleibende Zeit: 9:")
        first = countdown.inner_text()
        page.wait_for_timeout(1200)
        assert countdown.inner_text() != first
        assert errors == [], errors
    finally:
        context.close()

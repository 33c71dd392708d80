"""The employee's wallet as an installed, offline-first PWA, in Debian's Chromium (issue 5).

Phone viewport (390×844). The service worker must take control, keep every current certificate
page (and its inspector view) for offline use right after login, show them with the network cut
with an honest offline badge, and logout must leave nothing personal on the phone, online or
offline, and end the sign-in on the server (offline: as soon as the network is back).
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import axe_violations, save_screenshot, sign_in, sign_out
from tests.factories import confirm_official
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
)
from web.extensions import db
from web.models import Certificate, Employee, SignIn

pytestmark = pytest.mark.browser

TODAY = date.today()
FAMILY_NAME = "Wiśniewska"
EMAIL = "zofia.pwa@example.com"
MM_PER_INCH = 25.4
CSS_PX_PER_INCH = 96
MIN_QR_MM = 60
INCOGNITO = "in-incognito"  # Page.getInstallabilityErrors in any Playwright browser context

# Resolves when a service worker controls the page (it claims its clients on activation).
WAIT_FOR_CONTROLLER = """async () => {
  if (navigator.serviceWorker.controller) return true;
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no service worker took control")), 15000);
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      clearTimeout(timer);
      resolve(true);
    }, { once: true });
  });
}"""

# The worker claims the page while it activates: wait until it is done activating.
WORKER_STATE = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (worker.state !== "activated") {
    await new Promise((resolve) => {
      worker.addEventListener("statechange", () => worker.state === "activated" && resolve());
    });
  }
  const controller = navigator.serviceWorker.controller;
  return {
    controller: controller ? new URL(controller.scriptURL).pathname : null,
    state: registration && registration.active ? registration.active.state : null,
    scope: registration ? new URL(registration.scope).pathname : null,
  };
}"""

# Every cache of the origin and the URLs (path + query) of what each one holds.
CACHE_CONTENTS = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => {
      const url = new URL(r.url);
      return url.pathname + url.search;
    });
  }
  return out;
}"""

IDB_NAMES = "async () => (await indexedDB.databases()).map((d) => d.name)"

# Something personal in IndexedDB, kept open as an app would keep it, so a wipe has work to do.
STORE_IN_IDB = """(name) => new Promise((resolve, reject) => {
  const request = indexedDB.open("a1w-personal", 1);
  request.onupgradeneeded = () => request.result.createObjectStore("holder");
  request.onerror = () => reject(request.error);
  request.onsuccess = () => {
    const tx = request.result.transaction("holder", "readwrite");
    tx.objectStore("holder").put(name, "family_name");
    tx.oncomplete = () => { window.__idb = request.result; resolve(true); };
    tx.onerror = () => reject(tx.error);
  };
})"""

# The QR's rendered colours: what the style says, whatever the theme.
QR_COLOURS = """() => {
  const svg = document.querySelector("svg.qr");
  const path = svg.querySelector("path");
  return {
    background: getComputedStyle(svg).backgroundColor,
    stroke: getComputedStyle(path).stroke,
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
    dpr: window.devicePixelRatio,
  };
}"""


# --- data and helpers -----------------------------------------------------------------------


@pytest.fixture
def wallet(app, data) -> dict:
    """An employee abroad in France with two current certificates and an expired one."""
    company = data.company("PWA Bau GmbH")
    employee_id = data.employee(company, email=EMAIL, family_name=FAMILY_NAME, given_names="Zofia")
    data.trip(
        employee_id,
        destination="FR",
        start=TODAY - timedelta(days=3),
        end=TODAY + timedelta(days=20),
    )
    with app.app_context():
        employee = db.session.get(Employee, employee_id)

        def issue(states: list[str], start: date, end: date) -> Certificate:
            return issue_provisional_certificate(
                employee, CertificateInput("A1", "DE", states, start, end), actor=None
            )

        # An official certificate (its QR on its page) and a provisional statement (its QR
        # only in the inspector view).
        official = import_official_certificate(
            employee,
            CertificateInput(
                "A1",
                "DE",
                ["FR"],
                TODAY - timedelta(days=3),
                TODAY + timedelta(days=60),
                "DE:DRV-BUND",
            ),
            actor=None,
            document=None,
        )
        confirm_official(official)
        current = [
            official,
            issue(["BE", "NL"], TODAY + timedelta(days=10), TODAY + timedelta(days=40)),
        ]
        expired = issue(["IT"], TODAY - timedelta(days=90), TODAY - timedelta(days=60))
        db.session.commit()
        return {
            "user_id": employee.user.id,
            "current": [
                {
                    "id": c.id,
                    "qr_text": c.qr_text,
                    "code": c.verification_code_display,
                    "url": f"/wallet/certificates/{c.id}",
                    "inspector": f"/wallet/certificates/{c.id}/inspector",
                    "qr_on_page": c.kind == "official",
                }
                for c in current
            ],
            "expired_id": expired.id,
        }


def wait_until_offline_ready(page) -> int:
    """The worker controls the page and has stored the current certificates (after login)."""
    page.evaluate(WAIT_FOR_CONTROLLER)
    expect(page.locator("html")).to_have_attribute(
        "data-prefetched", re.compile(r"^\d+$"), timeout=15_000
    )
    return int(page.locator("html").get_attribute("data-prefetched"))


def sign_ins(app, user_id: int) -> list[SignIn]:
    with app.app_context():
        rows = list(db.session.scalars(select(SignIn).where(SignIn.user_id == user_id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def is_shell(path: str) -> bool:
    return path.startswith("/static/") or path == "/offline"


def personal_entries(caches: dict[str, list[str]]) -> list[str]:
    return [
        f"{name}: {path}" for name, paths in caches.items() for path in paths if not is_shell(path)
    ]


def assert_nothing_personal_shown(page) -> None:
    expect(page.locator("svg.qr")).to_have_count(0)
    expect(page.get_by_text(FAMILY_NAME)).to_have_count(0)
    assert FAMILY_NAME not in page.content()


def assert_offline_status(page) -> None:
    expect(page.locator("#sync-status")).to_be_visible()
    expect(page.locator("#sync-status .offline-badge")).to_be_visible()
    expect(page.locator("#sync-status .synced-at")).to_have_text(re.compile(r"\d"))


def expect_certificate_page(page, cert: dict) -> None:
    """An official certificate's page shows its QR; a provisional statement's page does not."""
    if cert["qr_on_page"]:
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(cert["code"])
    else:
        expect(page.get_by_text("Show this only when an authority asks.")).to_be_visible()
        expect(page.locator("svg.qr")).to_have_count(0)


def decode_qr(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# --- 1. install -----------------------------------------------------------------------------


def test_service_worker_takes_control_and_manifest_is_installable(page, wallet, live_server):
    sign_in(page, EMAIL)
    page.evaluate(WAIT_FOR_CONTROLLER)
    state = page.evaluate(WORKER_STATE)
    assert state == {"controller": "/sw.js", "state": "activated", "scope": "/"}, state

    # The worker script: from the root, revalidated on every check for an update.
    sw = page.request.get("/sw.js")
    assert sw.ok
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["cache-control"] == "no-cache"
    # The app shell is precached under a versioned name.
    caches = page.evaluate(CACHE_CONTENTS)
    shell = [name for name in caches if re.fullmatch(r"a1w-shell-[0-9a-f]{12}", name)]
    assert len(shell) == 1, caches
    assert "/offline" in caches[shell[0]]
    assert "/static/js/wallet.js" in caches[shell[0]]

    # The manifest the wallet links to, and what an installability check reads in it.
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    response = page.request.get(href)
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] and manifest["short_name"] == "A1 Wallet"
    assert len(manifest["short_name"]) <= 12
    assert manifest["start_url"] == "/wallet/"
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        got = page.request.get(icon["src"])
        assert got.ok, icon
        assert got.headers["content-type"] == "image/png", icon
        image = Image.open(io.BytesIO(got.body()))
        assert image.format == "PNG"
        assert icon["sizes"] == f"{image.width}x{image.height}", icon
        for purpose in icon.get("purpose", "any").split():
            sizes.setdefault(purpose, set()).add(image.width)
    assert {192, 512} <= sizes["any"], sizes
    assert 512 in sizes.get("maskable", set()), sizes

    # No install prompt here (see below): the button stays hidden, as does the iOS hint.
    page.goto("/wallet/settings")
    expect(page.get_by_role("heading", name="Install on this phone")).to_be_visible()
    expect(page.get_by_role("button", name="Install the app")).to_be_hidden()
    expect(page.locator(".ios-install-hint")).to_be_hidden()

    # Chromium's own installability check (http://127.0.0.1 counts as a secure context). Every
    # Playwright context is an incognito profile, where Chromium never offers to install: that
    # one error is the test harness's, any other would be the app's.
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != INCOGNITO] == [], errors
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [], parsed["errors"]
    assert urlsplit(parsed["url"]).path == "/manifest.webmanifest"
    assert page.console_errors == [], page.console_errors


# --- 2. and 3. offline ----------------------------------------------------------------------


def test_wallet_and_every_certificate_open_offline_from_the_cache(page, wallet, live_server):
    sign_in(page, EMAIL)
    assert wait_until_offline_ready(page) >= 2 * len(wallet["current"])
    # Visit every page once online, as the employee would.
    for cert in wallet["current"]:
        page.goto(cert["url"])
        expect_certificate_page(page, cert)
        # Online and fresh: neither the badge nor the "Last synced" line.
        expect(page.locator("#sync-status")).to_be_hidden()
        expect(page.get_by_text("Offline", exact=True)).to_be_hidden()
    page.goto("/wallet/")

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="My certificates")).to_be_visible()
    expect(page.locator(".certificate-card")).to_have_count(3)
    assert_offline_status(page)
    expect(page.locator("#sync-status .synced-at")).to_contain_text("Last synced")
    save_screenshot(page, "wallet-pwa-home-offline")

    for cert in wallet["current"]:
        page.goto(cert["url"])
        expect_certificate_page(page, cert)
        expect(page.locator("dl.details")).to_contain_text("Germany")
        assert_offline_status(page)
        page.reload()  # a reload with no network comes from the cache too
        expect_certificate_page(page, cert)

        page.goto(cert["inspector"])
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(cert["code"])
        expect(page.get_by_text(FAMILY_NAME).first).to_be_visible()
        assert_offline_status(page)
    save_screenshot(page, "wallet-pwa-inspector-offline")

    # A page that was never kept gets the offline page, not the browser's error.
    page.goto("/wallet/settings")
    expect(page.get_by_role("heading", name="No network")).to_be_visible()
    save_screenshot(page, "wallet-pwa-offline-page")
    assert page.console_errors == [], page.console_errors


def test_certificate_never_opened_is_offline_after_login(page, wallet, live_server):
    sign_in(page, EMAIL)
    wait_until_offline_ready(page)
    caches = page.evaluate(CACHE_CONTENTS)
    kept = {path for paths in caches.values() for path in paths}
    assert "/wallet/" in kept, kept
    for cert in wallet["current"]:
        assert {cert["url"], cert["inspector"]} <= kept, kept
    assert f"/wallet/certificates/{wallet['expired_id']}" not in kept  # only current ones

    # Straight after login, no other page opened: the wallet itself opens with no network (it
    # was loaded before the worker controlled the page, so only the pre-fetch can have kept it).
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".certificate-card")).to_have_count(3)
    assert_offline_status(page)
    for cert in wallet["current"]:  # none of them was opened before the network went
        page.goto(cert["inspector"])
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(cert["code"])
        expect(page.get_by_text(FAMILY_NAME).first).to_be_visible()
        expect(page.locator("#sync-status .offline-badge")).to_be_visible()
        page.goto(cert["url"])
        expect_certificate_page(page, cert)
        assert_offline_status(page)
    # The inspector's language switcher offline: each language was kept, so it opens in Polish.
    page.goto(wallet["current"][0]["inspector"])
    page.locator(".lang-menu summary").click()
    page.get_by_role("link", name="Polski").click()
    page.wait_for_url("**?lang=pl")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.locator("svg.qr")).to_be_visible()
    expect(page.get_by_text(FAMILY_NAME).first).to_be_visible()
    expect(page.locator(".inspector-validity")).to_contain_text("Ważne do")
    assert_offline_status(page)
    assert page.console_errors == [], page.console_errors


# --- 4. logout ------------------------------------------------------------------------------


def _prepare_logout(page, wallet) -> None:
    sign_in(page, EMAIL)
    wait_until_offline_ready(page)
    page.goto(wallet["current"][0]["url"])
    expect(page.locator("svg.qr")).to_be_visible()
    page.evaluate(STORE_IN_IDB, FAMILY_NAME)
    page.evaluate("() => localStorage.setItem('a1w-holder', 'personal')")
    # There is something to wipe: the tests below can fail.
    assert personal_entries(page.evaluate(CACHE_CONTENTS))
    assert page.evaluate(IDB_NAMES) == ["a1w-personal"]


def test_logout_online_wipes_the_phone_and_ends_the_sign_in(page, app, wallet, live_server):
    _prepare_logout(page, wallet)
    assert all(s.revoked_at is None for s in sign_ins(app, wallet["user_id"]))

    sign_out(page)
    page.wait_for_url("**/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    assert personal_entries(page.evaluate(CACHE_CONTENTS)) == []
    assert page.evaluate(IDB_NAMES) == []
    assert page.evaluate("() => localStorage.length") == 0
    rows = sign_ins(app, wallet["user_id"])
    assert rows and all(s.revoked_at is not None for s in rows)

    page.go_back()
    page.wait_for_load_state()
    assert_nothing_personal_shown(page)
    # Offline, the old pages do not come back either (the worker went with the site data, so
    # the browser may answer with its own network error page).
    page.context.set_offline(True)
    for cert in wallet["current"]:
        with contextlib.suppress(PlaywrightError):
            page.goto(cert["inspector"])
        assert_nothing_personal_shown(page)
    assert page.console_errors == [], page.console_errors


def test_logout_offline_wipes_the_phone_and_ends_the_sign_in_when_back_online(
    page, app, wallet, live_server
):
    _prepare_logout(page, wallet)
    page.context.set_offline(True)
    sign_out(page)
    # The worker may wait out a hanging (emulated offline) network before the offline page: 8 s.
    page.wait_for_url("**/login", timeout=20_000)

    caches = page.evaluate(CACHE_CONTENTS)
    # Only the app shell stays, and the marker that this device's sign-in is still to be ended.
    pending = [e for e in personal_entries(caches) if not e.endswith("/__a1w/pending-logout")]
    assert pending == [], caches
    assert page.evaluate(IDB_NAMES) == []
    assert page.evaluate("() => localStorage.length") == 0
    assert all(s.revoked_at is None for s in sign_ins(app, wallet["user_id"]))  # no network yet

    page.go_back()  # offline: the worker must not hand back the pages it kept
    page.wait_for_load_state()
    assert_nothing_personal_shown(page)
    for cert in wallet["current"]:
        page.goto(cert["inspector"])
        assert_nothing_personal_shown(page)

    # The network returns: the next page load ends the sign-in on the server.
    page.context.set_offline(False)
    page.goto("/wallet/")
    # Chromium may let the worker see the network a moment late: its offline page then tries
    # again by itself (static/js/offline.js), 3 s later.
    page.wait_for_url(re.compile(r"/login(\?|$)"), timeout=20_000)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_nothing_personal_shown(page)
    rows = sign_ins(app, wallet["user_id"])
    assert rows and all(s.revoked_at is not None for s in rows)
    assert personal_entries(page.evaluate(CACHE_CONTENTS)) == []
    assert page.evaluate(IDB_NAMES) == []
    page.go_back()
    page.wait_for_load_state()
    assert_nothing_personal_shown(page)
    assert page.console_errors == [], page.console_errors


# --- 5. the QR ------------------------------------------------------------------------------


def test_qr_decodes_to_the_signed_text_and_is_large_black_on_white(page, wallet, live_server):
    sign_in(page, EMAIL)
    cert = wallet["current"][0]
    page.goto(cert["url"])
    qr = page.locator("svg.qr")
    expect(qr).to_be_visible()
    assert qr.get_attribute("aria-label")  # a text alternative for screen readers
    assert cert["code"] in qr.get_attribute("aria-label")
    assert decode_qr(qr.screenshot()) == [cert["qr_text"]]
    save_screenshot(page, "wallet-pwa-certificate")

    min_px = MIN_QR_MM / MM_PER_INCH * CSS_PX_PER_INCH  # ≈ 226.8 CSS px
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(cert["inspector"])
        qr = page.locator("svg.qr")
        expect(qr).to_be_visible()
        box = page.evaluate(QR_COLOURS)
        assert box["width"] >= min_px, box
        assert box["width"] == pytest.approx(box["height"]), box
        assert box["background"] == "rgb(255, 255, 255)", box
        assert box["stroke"] == "rgb(0, 0, 0)", box
        png = qr.screenshot()
        assert decode_qr(png) == [cert["qr_text"]], scheme
        image = Image.open(io.BytesIO(png)).convert("RGB")
        colours = image.getcolors(maxcolors=1 << 16)
        assert colours, "too many colours"
        # Only black and white (a few grey edge pixels at most); the quiet zone is white.
        extreme = sum(n for n, rgb in colours if rgb in {(0, 0, 0), (255, 255, 255)})
        assert extreme / (image.width * image.height) > 0.98, colours[:10]
        for corner in ((0, 0), (image.width - 1, 0), (0, image.height - 1)):
            assert image.getpixel(corner) == (255, 255, 255), corner
    save_screenshot(page, "wallet-pwa-inspector")
    assert page.console_errors == [], page.console_errors


# --- 6. accessibility -----------------------------------------------------------------------


def test_wallet_pages_have_no_axe_violations(a11y_page, wallet, live_server):
    page = a11y_page
    sign_in(page, EMAIL)
    cert = wallet["current"][0]
    pages = {
        "wallet": "/wallet/",
        "certificate": cert["url"],
        "inspector": cert["inspector"],
        "inspector-pl": cert["inspector"] + "?lang=pl",
        "settings": "/wallet/settings",
    }
    for name, path in pages.items():
        page.goto(path)
        assert axe_violations(page) == [], path
        if name == "settings":
            save_screenshot(page, "wallet-pwa-settings")
        elif name == "wallet":
            save_screenshot(page, "wallet-pwa-home")
    # Offline, with the badge and the "Last synced" line showing.
    page.goto("/wallet/")
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    for path in ("/wallet/", cert["url"]):
        page.goto(path)
        assert_offline_status(page)
        assert axe_violations(page) == [], path + " offline"
    page.goto("/account")  # never kept: the offline page
    expect(page.get_by_role("heading", name="No network")).to_be_visible()
    assert axe_violations(page) == [], "offline page"


def test_the_offline_page_tries_again_when_the_network_is_back(page, live_server):
    """Shown while the browser says it is online, the offline page reloads by itself (at most
    three times a minute); shown offline, it waits for the browser's "online" event."""
    loads: list[str] = []
    page.on("load", lambda _page: loads.append(page.url))
    page.goto("/offline")
    expect(page.get_by_role("heading", name="No network")).to_be_visible()
    # The page loaded again by itself 3 s later (and that load counted its own try).
    page.wait_for_function(
        "() => JSON.parse(sessionStorage.getItem('a1w-offline-retries') || '[]').length >= 2",
        timeout=15_000,
    )
    assert len(loads) >= 2, loads
    page.evaluate(
        "() => sessionStorage.setItem('a1w-offline-retries', JSON.stringify([Date.now(), "
        "Date.now(), Date.now()]))"
    )
    page.reload()
    loads.clear()
    page.wait_for_timeout(3_500)
    assert loads == [], loads  # three tries this minute: no more
    page.context.set_offline(True)
    page.evaluate("() => sessionStorage.clear()")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    assert len(loads) == 1, loads  # the "online" event reloads at once
    page.context.set_offline(False)
    assert page.console_errors == [], page.console_errors

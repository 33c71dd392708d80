""" "An authority is asking" in Debian's Chromium (issue 7): one tap opens the right certificate in
the inspector view and alerts support; offline the view comes from the service worker's cache and
the alert waits in IndexedDB until the network is back, with its original tap time, and exactly
one incident is made however often it is replayed, also after the browser was closed.

Phone viewport (390×844), time zone Europe/Paris. No `wait_for_function` with strings: the CSP
forbids eval; the page is read with locators, `expect` and `page.evaluate(fn)`.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import (
    CHROMIUM_ARGS,
    axe_violations,
    chromium_path,
    save_screenshot,
    sign_in,
)
from tests.browser.test_wallet_pwa_browser import WAIT_FOR_CONTROLLER, wait_until_offline_ready
from tests.factories import Factories
from web.ask.services import acknowledge, resolve
from web.extensions import db
from web.models import Employee, Incident, Role, User

pytestmark = pytest.mark.browser

TODAY = date.today()
EMAIL = "piotr.ask@example.com"
AGENT_EMAIL = "anna.support@example.com"
TIME_ZONE = "Europe/Paris"
BUTTON = "An authority is asking"
SUPPORT_PHONE = "+49 30 1234 5678"
UUID_HASH = re.compile(r"#ask=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# What the outbox (IndexedDB "a1w-ask") holds: {outbox: [...], sent: [...]}; empty lists when
# the database does not exist (reading it must not create it).
OUTBOX = """async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes("a1w-ask")) return {outbox: [], sent: []};
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("a1w-ask");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const all = (name) => new Promise((resolve, reject) => {
    const request = db.transaction(name, "readonly").objectStore(name).getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const out = {outbox: await all("outbox"), sent: await all("sent")};
  db.close();
  return out;
}"""

SYNC_TAGS = "async () => (await navigator.serviceWorker.ready).sync.getTags()"

# The status panel's children in document order (class names), to check what comes first.
PANEL_ORDER = """() => Array.from(document.querySelectorAll("#ask-status > p"))
  .filter((p) => !p.hidden).map((p) => p.className)"""
# The status panel's state, words and order, read at one instant.
PANEL_SNAPSHOT = """() => {
  const panel = document.querySelector("#ask-status");
  return {state: panel.dataset.askState, text: panel.querySelector(".ask-state").textContent.trim(),
          order: Array.from(panel.querySelectorAll(":scope > p")).filter((p) => !p.hidden)
            .map((p) => p.className)};
}"""

# The same Idempotency-Key POSTed `count` times at once from the page.
CONCURRENT_POSTS = """async ({key, count, certificateId}) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const body = JSON.stringify({certificate_id: certificateId, latitude: null, longitude: null,
                               tapped_at: new Date().toISOString().replace(/\\.\\d{3}Z$/, "Z")});
  const one = () => fetch("/ask", {
    method: "POST", credentials: "same-origin", body: body,
    headers: {"Idempotency-Key": key, "X-CSRFToken": csrf, "Content-Type": "application/json",
              "Accept": "application/json"},
  }).then(async (response) => ({status: response.status, body: await response.json()}));
  return Promise.all(Array.from({length: count}, one));
}"""


# --- data and helpers -----------------------------------------------------------------------


@pytest.fixture
def world(app, data) -> dict:
    """An employee on a trip to France (today − 2 d … today + 5 d) and an on-duty agent."""
    company = data.company("Ask Bau GmbH")
    employee_id = data.employee(
        company, email=EMAIL, family_name="Nowak", given_names="Piotr", phone="+48 600 000 000"
    )
    data.trip(
        employee_id,
        destination="FR",
        start=TODAY - timedelta(days=2),
        end=TODAY + timedelta(days=5),
    )
    agent_id = data.user(Role.SUPPORT, None, email=AGENT_EMAIL)
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        user_id = employee.user.id
    return {"company": company, "employee": employee_id, "user": user_id, "agent": agent_id}


def certificate(app, employee_id: int, kind: str = "provisional", states=("FR",), **dates) -> dict:
    cert = Factories(app).certificate(
        employee_id, kind, states, dates.get("start"), dates.get("end")
    )
    return {
        "id": cert.id,
        "code": cert.verification_code_display,
        "inspector": f"/wallet/certificates/{cert.id}/inspector",
        "url": f"/wallet/certificates/{cert.id}",
    }


def incidents(app, user_id: int) -> list[Incident]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Incident).where(Incident.user_id == user_id).order_by(Incident.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def wait_for_incidents(app, user_id: int, count: int, timeout: float = 15) -> list[Incident]:
    deadline = time.monotonic() + timeout
    while True:
        rows = incidents(app, user_id)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


class AskCounter:
    """Counts the POST /ask requests that reach the server, and their answers."""

    def __init__(self, app) -> None:
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        inner = app.wsgi_app

        def counting(environ, start_response):
            if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/ask":

                def recording(status, headers, exc_info=None):
                    with self.lock:
                        self.statuses.append(int(status.split()[0]))
                    return start_response(status, headers, exc_info)

                return inner(environ, recording)
            return inner(environ, start_response)

        app.wsgi_app = counting

    @property
    def created(self) -> int:
        return self.statuses.count(201)


@pytest.fixture
def asks(app) -> AskCounter:
    return AskCounter(app)


def new_page(context):
    context.set_default_timeout(10_000)
    page = context.pages[0] if context.pages else context.new_page()
    page.console_errors = []

    def on_console(msg) -> None:
        # A persistent (non-incognito) profile fetches the manifest for its install check, which
        # fails with no network: that is the browser's request, not the page's.
        if msg.type == "error" and not msg.location.get("url", "").endswith(
            "/manifest.webmanifest"
        ):
            page.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return page


CONTEXT_OPTIONS = {"viewport": {"width": 390, "height": 844}, "timezone_id": TIME_ZONE}


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page in Paris time that records console errors and CSP violations."""
    context = browser.new_context(base_url=live_server.url, **CONTEXT_OPTIONS)
    yield new_page(context)
    context.close()


def ready_for_offline(page) -> None:
    """The worker controls the page and keeps the certificates, and the page knows it."""
    wait_until_offline_ready(page)
    page.reload()  # the page that taps is controlled from its start, as on a phone
    page.evaluate(WAIT_FOR_CONTROLLER)


def tap(page) -> tuple[datetime, datetime]:
    """Taps the button; returns the wall-clock interval around the tap."""
    before = datetime.now(UTC)
    page.get_by_role("link", name=BUTTON).click()
    after = datetime.now(UTC)
    return before, after


def key_of(page) -> str:
    page.wait_for_url(UUID_HASH)
    return page.url.rsplit("#ask=", 1)[1]


def hhmm(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(TIME_ZONE)).strftime("%H:%M")


def assert_tapped_at(incident: Incident, before: datetime, after: datetime) -> None:
    # The phone sends whole seconds: the stored time is at most 1 s before the click.
    assert before - timedelta(seconds=1) <= incident.tapped_at <= after + timedelta(seconds=1), (
        incident.tapped_at,
        before,
        after,
    )


def label(page, which: str, **values: str) -> str:
    """One of the status panel's words, as the server translated them for this page."""
    text = page.locator("#ask-status").get_attribute(f"data-label-{which}")
    assert text, which
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def assert_waiting_with_phone_links_first(page, code: str | None) -> None:
    panel = page.locator("#ask-status")
    expect(panel).to_be_visible()
    expect(panel.locator(".ask-state")).to_have_text(label(page, "waiting"))
    expect(panel).to_have_attribute("data-ask-state", "waiting")
    assert page.evaluate(PANEL_ORDER)[:2] == ["ask-contact", "ask-state"]
    call = panel.locator("a.ask-call")
    sms = panel.locator("a.ask-sms")
    expect(call).to_be_visible()
    expect(sms).to_be_visible()
    expect(call).to_have_attribute("href", "tel:" + SUPPORT_PHONE.replace(" ", ""))
    href = sms.get_attribute("href")
    assert href.startswith("sms:" + SUPPORT_PHONE.replace(" ", "") + "?body="), href
    if code:
        assert code.replace(" ", "%20") in href or code in href, (code, href)


def assert_alerted(page, incident: Incident) -> None:
    state = page.locator("#ask-status .ask-state")
    expect(state).to_have_text(label(page, "sent", time=hhmm(incident.created_at)))
    expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "sent")
    assert page.evaluate(PANEL_ORDER)[:2] == ["ask-state", "ask-contact"]


# --- 1. one tap, online ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["official-first", "provisional-when-only-it-fits", "none-fits", "from-a-certificate-page"],
)
def test_one_tap_opens_the_best_certificate_and_makes_one_incident(
    phone, app, world, asks, live_server, case
):
    page = phone
    start_page = "/wallet/"
    if case == "none-fits":
        # Only a certificate for Italy while the trip is to France: support comes first, and
        # the closest certificate is offered.
        closest = certificate(app, world["employee"], states=("IT",))
        expected = None
    else:
        provisional = certificate(app, world["employee"])
        expected = provisional
    if case == "official-first":
        expected = certificate(app, world["employee"], kind="official")
    elif case == "provisional-when-only-it-fits":
        certificate(app, world["employee"], kind="official", states=("BE",))  # another country
    elif case == "from-a-certificate-page":
        start_page = provisional["url"]

    sign_in(page, EMAIL)
    ready_for_offline(page)
    if start_page != "/wallet/":
        page.goto(start_page)
    button = page.get_by_role("link", name=BUTTON)
    expect(button).to_be_visible()
    # At the top of the page, big enough for a thumb, and not a dialog.
    box = button.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300, box
    assert box["y"] < 200, box
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))

    before, after = tap(page)
    key = key_of(page)
    if expected:
        assert page.url.split("#")[0] == live_server.url + expected["inspector"]
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(expected["code"])
        # The inspector's language (French here): official before provisional, and a
        # provisional one shown without hesitation when it is the one that fits.
        note = page.locator(".provisional-note")
        if case == "official-first":
            expect(note).to_have_count(0)
        else:
            expect(note.first).to_be_visible()
    else:
        assert page.url.split("#")[0] == live_server.url + "/wallet/ask/none"
        expect(
            page.get_by_role("heading", name="No certificate covers today and this country")
        ).to_be_visible()
        first_link = page.locator("main a[href^='tel:']").first
        expect(first_link).to_contain_text(SUPPORT_PHONE)
        expect(page.locator(".ask-none a[href$='/inspector']")).to_have_attribute(
            "href", closest["inspector"]
        )

    rows = wait_for_incidents(app, world["user"], 1)
    assert len(rows) == 1, rows
    incident = rows[0]
    assert incident.idempotency_key == key
    assert incident.employee_id == world["employee"]
    assert incident.company_id == world["company"]
    assert incident.certificate_id == (expected["id"] if expected else None)
    assert incident.country == "FR"
    assert incident.latitude is None and incident.longitude is None  # no consent
    assert incident.status == "new"
    assert_tapped_at(incident, before, after)
    assert_alerted(page, incident)
    sms = page.locator("#ask-status a.ask-sms").get_attribute("href")
    if expected:
        assert expected["code"] in sms.replace("%20", " "), sms

    # One POST reached the server, and the phone keeps nothing queued.
    time.sleep(0.5)
    assert asks.statuses == [201], asks.statuses
    stored = page.evaluate(OUTBOX)
    assert stored["outbox"] == [], stored
    assert [(s["key"], s["incidentId"]) for s in stored["sent"]] == [(key, incident.id)]
    save_screenshot(page, f"ask-online-{case}")
    assert page.console_errors == [], page.console_errors


def test_status_panel_follows_support_without_reload(phone, app, world, asks, live_server):
    page = phone
    cert = certificate(app, world["employee"])
    sign_in(page, EMAIL)
    ready_for_offline(page)
    tap(page)
    key = key_of(page)
    incident = wait_for_incidents(app, world["user"], 1)[0]
    assert_alerted(page, incident)
    page.evaluate("() => { window.__sameDocument = true; }")

    # The inspector's language menu keeps the panel.
    polish = page.locator(".lang-menu a[hreflang='pl']")
    assert polish.get_attribute("href") == f"{cert['inspector']}?lang=pl#ask={key}"

    with app.app_context():
        acknowledge(db.session.get(Incident, incident.id), db.session.get(User, world["agent"]))
        db.session.commit()
    state = page.locator("#ask-status .ask-state")
    expect(state).to_have_text(label(page, "handling", name="Anna"), timeout=20_000)
    expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "handling")

    with app.app_context():
        resolve(
            db.session.get(Incident, incident.id),
            db.session.get(User, world["agent"]),
            "inspector_satisfied",
            "All good, the inspector accepted the provisional A1.",
        )
        db.session.commit()
    expect(state).to_have_text(label(page, "resolved"), timeout=20_000)
    expect(page.locator("#ask-status .ask-message")).to_have_text(
        "All good, the inspector accepted the provisional A1."
    )
    assert page.evaluate("() => window.__sameDocument === true")  # no reload
    assert page.url.endswith(cert["inspector"] + f"#ask={key}")

    # Switching the language keeps the panel and its state.
    page.locator(".lang-menu summary").click()
    polish.click()
    page.wait_for_url(f"**?lang=pl#ask={key}")
    expect(page.locator("#ask-status")).to_be_visible()
    expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "resolved")
    assert asks.statuses == [201], asks.statuses
    save_screenshot(page, "ask-resolved")
    assert page.console_errors == [], page.console_errors


def test_location_goes_with_the_alert_only_with_consent(browser, app, world, live_server):
    certificate(app, world["employee"])
    with app.app_context():
        db.session.get(User, world["user"]).location_consent = True
        db.session.commit()
    context = browser.new_context(
        base_url=live_server.url,
        geolocation={"latitude": 48.8566, "longitude": 2.3522},
        permissions=["geolocation"],
        **CONTEXT_OPTIONS,
    )
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        ready_for_offline(page)
        expect(page.locator("body")).to_have_attribute("data-location-consent", "1")
        time.sleep(0.5)  # the fix taken when the page opened
        tap(page)
        key_of(page)
        incident = wait_for_incidents(app, world["user"], 1)[0]
        assert incident.latitude == pytest.approx(48.8566)
        assert incident.longitude == pytest.approx(2.3522)

        # Consent withdrawn: the same phone, with the browser's permission, sends no location.
        app.config["INCIDENT_JOIN_MINUTES"] = 0  # a new incident, not a tap joining the first
        with app.app_context():
            db.session.get(User, world["user"]).location_consent = False
            db.session.commit()
        page.goto("/wallet/")
        expect(page.locator("body")).to_have_attribute("data-location-consent", "0")
        tap(page)
        key_of(page)
        second = wait_for_incidents(app, world["user"], 2)[1]
        assert second.latitude is None and second.longitude is None
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()


def test_status_panel_has_no_axe_violations(a11y_page, app, world, live_server):
    page = a11y_page
    certificate(app, world["employee"])
    sign_in(page, EMAIL)
    ready_for_offline(page)
    assert axe_violations(page) == [], "wallet with the button"
    page.context.set_offline(True)
    tap(page)
    key_of(page)
    expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "waiting")
    assert axe_violations(page) == [], "waiting"
    page.context.set_offline(False)
    expect(page.locator("#ask-status")).to_have_attribute("data-ask-state", "sent")
    assert axe_violations(page) == [], "sent"


# --- 2. offline -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["certificate", "none-fits"])
def test_offline_tap_shows_the_kept_view_and_sends_once_when_back_online(
    phone, app, world, asks, live_server, case
):
    page = phone
    cert = certificate(app, world["employee"], states=("FR",) if case == "certificate" else ("IT",))
    sign_in(page, EMAIL)
    ready_for_offline(page)
    page.context.set_offline(True)

    before, after = tap(page)
    key = key_of(page)
    # From the worker's cache, at once.
    if case == "certificate":
        assert page.url.split("#")[0] == live_server.url + cert["inspector"]
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.locator(".verification-code")).to_have_text(cert["code"])
    else:
        assert page.url.split("#")[0] == live_server.url + "/wallet/ask/none"
        expect(
            page.get_by_role("heading", name="No certificate covers today and this country")
        ).to_be_visible()
    if case == "certificate":  # (the no-certificate page has no "last synced" line)
        expect(page.locator("#sync-status .offline-badge")).to_be_visible()
    assert_waiting_with_phone_links_first(page, cert["code"] if case == "certificate" else None)
    save_screenshot(page, f"ask-offline-waiting-{case}")

    stored = page.evaluate(OUTBOX)
    assert [r["key"] for r in stored["outbox"]] == [key], stored
    record = stored["outbox"][0]
    tapped_at = datetime.fromisoformat(record["body"]["tapped_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= tapped_at <= after
    assert record["body"]["certificate_id"] == (cert["id"] if case == "certificate" else None)
    time.sleep(1.5)
    assert incidents(app, world["user"]) == []  # nothing reached the server
    assert asks.statuses == []

    # A reload with no network: still waiting, still from the cache.
    page.reload()
    assert_waiting_with_phone_links_first(page, cert["code"] if case == "certificate" else None)

    # The network returns: the alert goes, once, with the time of the tap.
    page.context.set_offline(False)
    rows = wait_for_incidents(app, world["user"], 1)
    assert len(rows) == 1, rows
    incident = rows[0]
    assert incident.idempotency_key == key
    assert incident.tapped_at == tapped_at
    assert_tapped_at(incident, before, after)
    assert incident.certificate_id == (cert["id"] if case == "certificate" else None)
    assert incident.country == "FR"
    assert incident.created_at - incident.tapped_at >= timedelta(seconds=1)
    assert_alerted(page, incident)
    time.sleep(1)
    assert asks.statuses == [201], asks.statuses  # not sent needlessly
    assert len(incidents(app, world["user"])) == 1
    assert page.evaluate(OUTBOX)["outbox"] == []
    save_screenshot(page, f"ask-offline-sent-{case}")
    assert page.console_errors == [], page.console_errors


def test_alert_waits_while_the_browser_is_closed_and_goes_once_when_reopened(
    browser, app, world, asks, live_server, tmp_path: Path
):
    cert = certificate(app, world["employee"])
    profile = tmp_path / "profile"

    def launch():
        return browser.browser_type.launch_persistent_context(
            str(profile),
            executable_path=chromium_path(),
            args=CHROMIUM_ARGS,
            base_url=live_server.url,
            **CONTEXT_OPTIONS,
        )

    context = launch()
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        ready_for_offline(page)
        context.set_offline(True)
        before, after = tap(page)
        key = key_of(page)
        expect(page.locator("svg.qr")).to_be_visible()
        assert_waiting_with_phone_links_first(page, cert["code"])
        record = page.evaluate(OUTBOX)["outbox"][0]
        assert record["key"] == key
        assert page.console_errors == [], page.console_errors
    finally:
        context.close()
    assert incidents(app, world["user"]) == []
    time.sleep(1)  # a while later, with the browser closed

    # Reopened while still offline: the app opens from the cache and the alert still waits.
    context = launch()
    try:
        context.set_offline(True)
        page = new_page(context)
        page.goto(cert["inspector"] + f"#ask={key}")
        expect(page.locator("svg.qr")).to_be_visible()
        # The worker starts with the browser, and Chromium may apply the emulated offline state
        # to it only after it has sent the alert: then the panel says "sent" and the incident
        # exists. Read the panel in one go, so it cannot change between two looks.
        panel = page.locator("#ask-status")
        expect(panel).to_have_attribute("data-ask-state", re.compile(r"^(waiting|sent)$"))
        seen = page.evaluate(PANEL_SNAPSHOT)
        if seen["state"] == "sent":
            assert len(wait_for_incidents(app, world["user"], 1)) == 1
        else:
            assert seen["text"] == label(page, "waiting"), seen
            assert seen["order"][:2] == ["ask-contact", "ask-state"], seen
        # Whatever the state, the panel offers the phone and the message to support.
        expect(panel.locator("a.ask-call")).to_have_attribute(
            "href", "tel:" + SUPPORT_PHONE.replace(" ", "")
        )
        sms = panel.locator("a.ask-sms").get_attribute("href")
        assert sms.startswith("sms:" + SUPPORT_PHONE.replace(" ", "") + "?body="), sms
        assert cert["code"].replace(" ", "%20") in sms or cert["code"] in sms, sms

        # The network returns and the app is opened: exactly one incident, at the tap time.
        context.set_offline(False)
        page.goto("/wallet/")
        expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
        rows = wait_for_incidents(app, world["user"], 1)
        assert len(rows) == 1, rows
        incident = rows[0]
        assert incident.idempotency_key == key
        assert incident.tapped_at.strftime("%Y-%m-%dT%H:%M:%SZ") == record["body"]["tapped_at"]
        assert_tapped_at(incident, before, after)
        assert incident.certificate_id == cert["id"]

        # Opened again and again: nothing more is sent.
        for _ in range(3):
            page.reload()
            expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
        page.goto(cert["inspector"] + f"#ask={key}")
        assert_alerted(page, incident)
        time.sleep(1)
        assert len(incidents(app, world["user"])) == 1
        # The session cookie went with the browser: the CSRF token kept with the alert is refused
        # (400, nothing made) until the phone has the new session's token; pages opening at the
        # same moment may each start a session, so that can happen more than once; and the page and
        # the worker, both resuming at once, may both send: the server then answers the second
        # with the same incident (200). What counts: one incident, created once.
        assert asks.created == 1, asks.statuses
        assert set(asks.statuses) <= {400, 201, 200} and asks.statuses.count(201) == 1, (
            asks.statuses
        )
        assert len(asks.statuses) <= 5, asks.statuses
        assert page.evaluate(OUTBOX)["outbox"] == []
        stale = "the server responded with a status of 400"
        assert [e for e in page.console_errors if stale not in e] == [], page.console_errors
    finally:
        context.close()


# --- 3. idempotency -------------------------------------------------------------------------


def test_the_same_key_twenty_times_at_once_makes_one_incident(phone, app, world, live_server):
    page = phone
    cert = certificate(app, world["employee"])
    sign_in(page, EMAIL)
    key = str(uuid.uuid4())
    answers = page.evaluate(
        CONCURRENT_POSTS, {"key": key, "count": 20, "certificateId": cert["id"]}
    )
    statuses = sorted(a["status"] for a in answers)
    assert statuses == [200] * 19 + [201], answers
    assert len({a["body"]["id"] for a in answers}) == 1, answers
    assert len({a["body"]["tapped_at"] for a in answers}) == 1, answers
    rows = incidents(app, world["user"])
    assert len(rows) == 1, rows
    assert rows[0].idempotency_key == key
    assert rows[0].id == answers[0]["body"]["id"]
    assert page.console_errors == [], page.console_errors


def test_background_sync_sends_the_alert_with_no_page_open(browser, app, world, asks, live_server):
    """The page is gone before the network returns: the worker's `sync` handler sends it."""
    cert = certificate(app, world["employee"])
    context = browser.new_context(base_url=live_server.url, **CONTEXT_OPTIONS)
    try:
        page = new_page(context)
        sign_in(page, EMAIL)
        ready_for_offline(page)
        context.set_offline(True)
        before, after = tap(page)
        key = key_of(page)
        assert_waiting_with_phone_links_first(page, cert["code"])
        assert page.evaluate(SYNC_TAGS) == ["a1w-ask"]
        assert page.console_errors == [], page.console_errors
        page.close()
        assert context.pages == []
        time.sleep(1)
        assert incidents(app, world["user"]) == []

        context.set_offline(False)
        rows = wait_for_incidents(app, world["user"], 1, timeout=30)
        assert len(rows) == 1, rows
        assert rows[0].idempotency_key == key
        assert_tapped_at(rows[0], before, after)
        time.sleep(1)
        assert asks.statuses == [201], asks.statuses
    finally:
        context.close()

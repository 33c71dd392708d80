"""Passkeys in Chromium with its virtual authenticator (DevTools protocol, CTAP2, resident keys,
user verification), staff sign-in with password + passkey, enrolment-only staff sign-ins,
step-up on key revocation, and a shared phone that keeps nothing after sign-out.

WebAuthn needs a domain as relying-party id (an IP address is not one), so these tests serve
the app at http://localhost:PORT, a secure context, and PUBLIC_BASE_URL says so.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tests.browser.conftest import sign_out as sign_out_from_header
from tests.browser.test_wallet_pwa_browser import (
    CACHE_CONTENTS,
    FAMILY_NAME,
    IDB_NAMES,
    WAIT_FOR_CONTROLLER,
    personal_entries,
    wallet,  # noqa: F401 - the fixture: an employee with certificates
)
from tests.factories import PASSWORD, totp_code
from tests.live import LiveServer
from web.extensions import db
from web.models import AuditEvent, Role, SigningKey, WebAuthnCredential

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost_server(app) -> Iterator[str]:
    with LiveServer(app) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        app.config["PUBLIC_BASE_URL"] = url
        yield url


@pytest.fixture
def context(browser, localhost_server):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=localhost_server
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def authenticator_page(context):
    """A page with a virtual platform authenticator: resident keys, user verification, and a
    user who always verifies (fingerprint/PIN accepted)."""
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.cdp = cdp
    page.authenticator_id = authenticator["authenticatorId"]
    return page


def password_step(page, email: str) -> None:
    sign_in(page, email, lands_on=None)


def code_step(page, email: str) -> None:
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(totp_code(email))
    page.get_by_role("button", name="Continue").click()


def add_passkey(page, name: str) -> None:
    page.goto("/account/security")
    page.get_by_label("Name of the new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Your passkey is saved.")).to_be_visible()
    expect(page.locator(".list-row strong", has_text=name)).to_be_visible()


def sign_out(page) -> None:
    sign_out_from_header(page)
    page.wait_for_url("**/login")


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_employee_registers_a_passkey_and_signs_in_with_it_alone(app, data, context):
    company = data.company()
    data.employee(company, email="pia.passkey@example.com")
    page = authenticator_page(context)
    password_step(page, "pia.passkey@example.com")
    page.wait_for_url("**/wallet/")
    add_passkey(page, "My phone")
    credentials = page.cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": page.authenticator_id}
    )
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"] is True  # discoverable
    with app.app_context():
        stored = db.session.scalar(select(WebAuthnCredential))
        assert stored.name == "My phone"
        assert stored.credential_id == credentials["credentials"][0]["credentialId"].rstrip(
            "="
        ).replace("+", "-").replace("/", "_")
    assert _audit(app, "auth.factor_added")
    sign_out(page)

    # No email, no password: the passkey picks the account (a discoverable credential).
    page.get_by_role("button", name="Use a passkey instead").click()
    page.wait_for_url("**/wallet/")
    assert page.console_errors == []


def test_operator_signs_in_with_password_and_passkey(app, data, context):
    data.user(Role.OPERATOR, email="olga.ops@example.com")
    page = authenticator_page(context)
    password_step(page, "olga.ops@example.com")
    page.wait_for_url("**/login/factor")
    code_step(page, "olga.ops@example.com")
    page.wait_for_url("**/operator/outbox")
    add_passkey(page, "Security key")
    sign_out(page)

    password_step(page, "olga.ops@example.com")
    page.wait_for_url("**/login/factor")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url("**/operator/outbox")
    # The password alone never got further than the second step.
    assert page.console_errors == []


def test_staff_without_a_factor_reaches_only_enrolment_until_a_passkey_is_added(app, data, context):
    data.user(Role.SUPPORT, email="sam.support@example.com", totp=False)
    page = authenticator_page(context)
    password_step(page, "sam.support@example.com")
    page.wait_for_url("**/account/security")
    expect(page.get_by_text("this is the only page you can open")).to_be_visible()
    for path in ("/support/", "/account", "/operator/outbox"):
        page.goto(path)
        assert page.url.endswith("/account/security"), path
    add_passkey(page, "Laptop")
    page.goto("/support/")
    assert page.url.endswith("/support/")


def _revoke_in_dialog(page, reason: str) -> None:
    """Revoke asks first (templates/_macros.html confirm_form); the reason goes in its dialog."""
    page.get_by_role("button", name="Revoke", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Why (kept in the audit trail)").fill(reason)
    dialog.get_by_role("button", name="Revoke the key").click()


def test_key_revocation_asks_for_the_passkey_again(app, data, context):
    from web.certificates.keys import create_signing_key

    data.user(Role.OPERATOR, email="rita.revoke@example.com")
    with app.app_context():
        kid = create_signing_key("provisional", activate=True).kid
        db.session.commit()
    page = authenticator_page(context)
    password_step(page, "rita.revoke@example.com")
    code_step(page, "rita.revoke@example.com")
    page.wait_for_url("**/operator/outbox")
    add_passkey(page, "Security key")
    app.config["STEP_UP_MINUTES"] = 0.05  # 3 seconds instead of 10 minutes
    time.sleep(3.2)

    page.goto("/operator/keys")
    _revoke_in_dialog(page, "key file copied by mistake")
    page.wait_for_url(re.compile(r"/account/confirm\?next=/operator/keys"))
    with app.app_context():
        assert db.session.get(SigningKey, kid).state == "active"  # nothing done yet
    app.config["STEP_UP_MINUTES"] = 10
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url("**/operator/keys")
    _revoke_in_dialog(page, "key file copied by mistake")
    expect(page.get_by_text(f"Key {kid} is revoked")).to_be_visible()
    with app.app_context():
        assert db.session.get(SigningKey, kid).state == "revoked"
    assert [e.message for e in _audit(app, "auth.factor_verified")][-1] == "passkey"


def test_a_passkey_answer_for_another_origin_is_refused(app, data, context, localhost_server):
    company = data.company()
    data.employee(company, email="otto.origin@example.com")
    page = authenticator_page(context)
    password_step(page, "otto.origin@example.com")
    page.wait_for_url("**/wallet/")
    add_passkey(page, "Phone")
    sign_out(page)

    # The site now lives elsewhere: an answer signed for localhost must not be accepted there.
    def other_origin(route):
        app.config["PUBLIC_BASE_URL"] = localhost_server.replace("localhost", "wallet.localhost")
        route.continue_()

    page.route("**/login/passkey", other_origin)
    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page.locator(".passkey-status")).to_have_text(re.compile(r"\S"))
    assert page.url.endswith("/login")
    refused = _audit(app, "auth.passkey_refused")
    assert refused and refused[-1].outcome == "denied"


# --- the shared phone -------------------------------------------------------------------------


def test_shared_device_keeps_nothing_personal_after_sign_out(app, wallet, context):  # noqa: F811
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    expect(page.get_by_text("nothing personal is kept for offline use")).to_be_visible()
    page.get_by_label("Email").fill("zofia.pwa@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("This is a shared device: do not keep me signed in").check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/wallet/")
    page.evaluate(WAIT_FOR_CONTROLLER)
    expect(page.locator("html")).to_have_attribute("data-prefetched", "0", timeout=15_000)
    certificate = wallet["current"][0]["url"]
    page.goto(certificate)
    expect(page.locator("svg.qr")).to_be_visible()
    page.goto(wallet["current"][0]["inspector"])
    # Even while signed in, the worker kept nothing personal.
    assert personal_entries(page.evaluate(CACHE_CONTENTS)) == []

    def nothing_personal_offline() -> None:
        page.context.set_offline(True)
        for path in ("/wallet/", certificate, wallet["current"][0]["inspector"]):
            with contextlib.suppress(PlaywrightError):
                page.goto(path, wait_until="load")
            page.wait_for_load_state("load")
            assert FAMILY_NAME not in page.locator("body").inner_text(), path
            expect(page.locator("svg.qr")).to_have_count(0)
        page.context.set_offline(False)

    # The owner walks away without signing out; the next person cuts the network.
    nothing_personal_offline()
    page.goto("/wallet/")
    sign_out(page)
    assert personal_entries(page.evaluate(CACHE_CONTENTS)) == []
    assert page.evaluate(IDB_NAMES) == []
    nothing_personal_offline()

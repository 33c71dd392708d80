"""The signing-keys page in a real browser: irreversible actions confirm first in a <dialog>
(static/js/confirm.js, templates/_macros.html confirm_form) and still POST with the CSRF token;
Escape cancels and gives the focus back; axe finds nothing on the page or in the open dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import axe_violations, save_screenshot, sign_in
from tests.factories import totp_code
from web.certificates.keys import active_signing_key
from web.extensions import db
from web.models import AuditEvent, Role, SigningKey

OPERATOR = "kira.keys@example.com"


@pytest.fixture
def kid(app, data) -> str:
    data.user(Role.OPERATOR, email=OPERATOR)
    with app.app_context():
        kid = active_signing_key("provisional").kid
        db.session.commit()
        return kid


def _sign_in_operator(page) -> None:
    sign_in(page, OPERATOR, lands_on="**/login/factor")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        totp_code(OPERATOR)
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/operator/**")


def _state(app, kid: str) -> str:
    with app.app_context():
        return db.session.get(SigningKey, kid).state


def test_revoke_confirms_in_a_dialog_escape_cancels(app, page, kid):
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.goto("/operator/keys")
    row = page.locator(f"tr:has(#key-{kid})")
    revoke = row.get_by_role("button", name="Revoke", exact=True)
    dialog = page.get_by_role("dialog", name=f"Revoke key {kid}?")
    # With the script, the reason is asked in the dialog, not in the table.
    expect(row.get_by_label("Why (kept in the audit trail)")).to_be_hidden()

    revoke.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Nothing it signed verifies any more")
    reason = dialog.get_by_label("Why (kept in the audit trail)")
    expect(reason).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(revoke).to_be_focused()
    assert _state(app, kid) == "active"

    # Cancel closes it too.
    revoke.click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(revoke).to_be_focused()
    assert _state(app, kid) == "active"

    # An empty reason: the browser asks for it, nothing is sent.
    revoke.click()
    dialog.get_by_role("button", name="Revoke the key").click()
    expect(dialog).to_be_visible()
    assert reason.evaluate("field => field.validity.valueMissing") is True
    assert _state(app, kid) == "active"

    reason.fill("backup copied to a laptop")
    save_screenshot(page, "keys-revoke-dialog")
    dialog.get_by_role("button", name="Revoke the key").click()
    flash = page.locator(".flash")
    expect(flash).to_contain_text(f"Key {kid} is revoked: nothing it signed verifies any more.")
    expect(row.locator(".chip")).to_have_text("Revoked")
    expect(row).to_contain_text("Why: backup copied to a laptop")
    assert _state(app, kid) == "revoked"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "key.revoked"))
        assert event.message == "why: backup copied to a laptop"
    assert page.console_errors == [], page.console_errors  # no CSP violation, no script error


def test_enter_in_the_reason_confirms(app, page, kid):
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.goto("/operator/keys")
    page.locator(f"tr:has(#key-{kid})").get_by_role("button", name="Rotate").click()
    dialog = page.get_by_role("dialog", name=f"Replace key {kid}?")
    dialog.get_by_label("Why (optional, kept in the audit trail)").fill("yearly")
    page.keyboard.press("Enter")
    expect(page.get_by_text("the new key")).to_be_visible()
    assert _state(app, kid) == "retired"
    assert page.console_errors == [], page.console_errors


def test_without_script_the_button_posts_at_once_and_the_server_asks_for_the_reason(
    app, browser, live_server, kid
):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=live_server.url, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _sign_in_operator(page)
        page.goto("/operator/keys")
        row = page.locator(f"tr:has(#key-{kid})")
        # No dialog without the script: the reason sits beside the button; the browser's own
        # check is switched off here to reach the server's.
        row.get_by_label("Why (kept in the audit trail)").evaluate(
            "field => field.removeAttribute('required')"
        )
        with page.expect_response("**/operator/keys/revoke") as answer:
            row.get_by_role("button", name="Revoke", exact=True).click()
        assert answer.value.status == 422
        expect(page.get_by_text("Say why the key is revoked.")).to_be_visible()
        assert _state(app, kid) == "active"
        row = page.locator(f"tr:has(#key-{kid})")
        row.get_by_label("Why (kept in the audit trail)").fill("token leaked")
        row.get_by_role("button", name="Revoke", exact=True).click()
        expect(page.get_by_text(f"Key {kid} is revoked")).to_be_visible()
        assert _state(app, kid) == "revoked"
    finally:
        context.close()


def test_a_refused_reason_opens_its_dialog_again(app, page, kid):
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.goto("/operator/keys")
    page.locator(f"tr:has(#key-{kid})").get_by_role("button", name="Revoke", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Revoke key {kid}?")
    reason = dialog.get_by_label("Why (kept in the audit trail)")
    reason.fill("   ")  # passes the browser's check, not the server's
    dialog.get_by_role("button", name="Revoke the key").click()
    dialog = page.get_by_role("dialog", name=f"Revoke key {kid}?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Say why the key is revoked.")).to_be_visible()
    expect(dialog.get_by_label("Why (kept in the audit trail)")).to_be_focused()
    assert _state(app, kid) == "active"


def test_axe_finds_nothing_on_the_keys_page_and_its_dialog(a11y_page, kid):
    page = a11y_page
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.goto("/operator/keys")
    assert axe_violations(page) == [], "/operator/keys"
    page.locator(f"tr:has(#key-{kid})").get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert axe_violations(page) == [], "/operator/keys with the dialog open"
    page.goto("/operator/reviews")
    assert axe_violations(page) == [], "/operator/reviews"

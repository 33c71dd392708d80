"""The support agent's incident page at 1366×768: the outcome is a plain radio list (each button
beside its words, on one row), the call script and "Send to the authority" are there, in the
agent's language, and axe finds nothing. `SCREENSHOTS=1` writes it in en and de to
`screenshots/`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, sign_in
from tests.factories import Factories, totp_code
from web.extensions import db
from web.models import Employee, Incident, Role, User

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def test_incident_page_radio_list_script_and_send_to_the_authority(browser, app, data, live_server):
    company = data.company("Nordwind")
    employee = data.employee(company, family_name="Müller", given_names="Anna")
    certificate = Factories(app).certificate(employee, "provisional", ("FR",), None, None)
    agents = {
        "en": data.user(Role.SUPPORT, None, email="maria.lopez@example.com"),
        "de": data.user(Role.SUPPORT, None, email="jonas.weber@example.com"),
    }
    with app.app_context():
        db.session.get(User, agents["de"]).locale = "de"
        row = db.session.get(Employee, employee)
        incident = Incident(
            employee_id=employee,
            user_id=row.user_id,
            company_id=row.company_id,
            idempotency_key="browser-incident",
            certificate_id=certificate.id,
            country="FR",
            status="new",
            tapped_at=datetime.now(UTC),
        )
        db.session.add(incident)
        db.session.commit()
        incident_id = incident.id
    for lang, email in (("en", "maria.lopez@example.com"), ("de", "jonas.weber@example.com")):
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, base_url=live_server.url, bypass_csp=True
        )
        page = context.new_page()
        try:
            sign_in(page, email, lands_on="**/login/factor")
            page.get_by_label("Code from your authenticator app, or a recovery code").fill(
                totp_code(email)
            )
            page.locator("main button[type=submit]").first.click()
            page.wait_for_url("**/support/**")
            page.goto(f"/support/incidents/{incident_id}")
            radios = page.locator(".radio-choice")
            expect(radios).to_have_count(4)
            for k in range(4):
                box = radios.nth(k).locator("input").bounding_box()
                words = radios.nth(k).locator("span").bounding_box()
                assert box["width"] <= 24 and box["height"] <= 24, box
                assert words["x"] > box["x"] + box["width"], (box, words)  # beside, not below
                assert abs((words["y"] + words["height"] / 2) - (box["y"] + box["height"] / 2)) < 12
            expect(page.locator("#authority_language")).to_have_value("fr")
            expect(page.locator(".call-script li")).to_have_count(3)
            name = "An die Behörde senden" if lang == "de" else "Send to the authority"
            expect(page.get_by_role("heading", name=name)).to_be_visible()
            assert axe_violations(page) == [], lang
            if os.environ.get("SCREENSHOTS") == "1":
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"support-incident-1366-{lang}.png"))
                page.screenshot(
                    path=str(SCREENSHOTS / f"support-incident-1366-{lang}-full.png"),
                    full_page=True,
                )
        finally:
            context.close()

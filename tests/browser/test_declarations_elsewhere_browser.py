"""The trip page's block "The other work countries" in Debian's Chromium (issue 18): each other
work country by name with its own declaration answer and, where one is required, the portal;
the next step leads to the block; in English and in French.

Screenshots go to ``$ELSEWHERE_SHOTS`` when it is set (e.g. /tmp/shots/elsewhere)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import recording_page, sign_in
from tests.browser.test_declaration_bundle_browser import set_locale
from tests.factories import Factories
from web.declarations.rules import rule_for
from web.declarations.services import answer_question
from web.extensions import db
from web.models import Role, Trip, User
from web.trips.follow_up import check_trip_coverage

pytestmark = pytest.mark.browser

ADMIN = "elsewhere-browser-admin@example.com"
START = date.today() + timedelta(days=60)
SHOTS = os.environ.get("ELSEWHERE_SHOTS")


@pytest.fixture
def trip_id(app):
    data = Factories(app)
    company = data.company("Nordwind Elsewhere", seat_state="DE")
    data.user(Role.EMPLOYER_ADMIN, company, email=ADMIN)
    # Insured in Greece: a provisional statement at once, so coverage asks nothing more.
    employee = data.employee(
        company,
        email="elsewhere-browser-eleni@example.com",
        family_name="Papadopoulou",
        given_names="Eleni",
        nationality="GR",
        residence_state="GR",
        home_state="GR",
    )
    trip = data.trip(
        employee,
        "FR",
        START,
        START + timedelta(days=20),
        work_states="FR,AT,HU",
        prior_insurance_months="24",
    )
    with app.app_context():
        check_trip_coverage(db.session.get(Trip, trip), actor=None)
        admin = db.session.scalar(select(User).filter_by(email=ADMIN))
        answer_question(db.session.get(Trip, trip), "no", "", actor=admin)  # France: meetings
        db.session.commit()
    return trip


def test_the_trip_page_lists_the_other_work_countries(browser, live_server, app, trip_id):
    portal = rule_for("AT").portal_url
    for page in recording_page(browser, live_server, 1366, 768):
        sign_in(page, ADMIN, lands_on="**/admin/**")
        page.goto(f"/admin/trips/{trip_id}")
        block = page.locator("#declarations-elsewhere")
        expect(block.get_by_role("heading", name="The other work countries")).to_be_visible()
        rows = block.locator("dt")
        expect(rows).to_have_text(["Austria", "Hungary"])
        austria = block.locator("dd").nth(0)  # the answer beside each name
        expect(austria).to_contain_text("Declaration required")
        expect(austria.get_by_role("link")).to_have_attribute("href", portal)
        hungary = block.locator("dd").nth(1)
        expect(hungary).to_contain_text("Declaration rules not known: check")
        expect(hungary).not_to_contain_text("No declaration needed")
        # The trip's next step names Austria and leads to the block.
        expect(page.locator("body")).to_contain_text("The employee also works in Austria")
        link = page.locator("a[href$='#declarations-elsewhere']").first
        expect(link).to_be_visible()
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(Path(SHOTS) / "elsewhere-en.png"))

        set_locale(app, ADMIN, "fr")
        page.reload()
        expect(block.get_by_role("heading", name="Les autres pays de travail")).to_be_visible()
        expect(rows).to_have_text(["Autriche", "Hongrie"])
        expect(austria).to_contain_text("Déclaration obligatoire")
        expect(hungary).to_contain_text("à vérifier")
        if SHOTS:
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(Path(SHOTS) / "elsewhere-fr.png"))
        assert page.console_errors == []

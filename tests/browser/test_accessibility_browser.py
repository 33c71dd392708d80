"""axe-core finds no accessibility violation on the public pages and the console."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import axe_violations
from tests.factories import PASSWORD
from web.certificates.services import CertificateInput, issue_provisional_certificate
from web.extensions import db
from web.models import Employee, Role, Trip


@pytest.fixture
def qr_path(app, data) -> str:
    employee_id = data.employee(data.company("Axe GmbH"), email="axe@example.com")
    with app.app_context():
        cert = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput("A1", "DE", ["FR"], date.today(), date.today() + timedelta(days=9)),
            actor=None,
        )
        db.session.commit()
        return "/V/" + cert.qr_text.split("/V/", 1)[1]


def test_public_verification_pages(a11y_page, qr_path):
    page = a11y_page
    for path in (qr_path, qr_path + "?lang=pl", "/V/NOTATOKEN", "/verify", "/verify/scan"):
        page.goto(path)
        assert axe_violations(page) == [], path
    # The lookup form with errors and with a failed lookup.
    page.goto("/verify")
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()
    assert axe_violations(page) == [], "lookup with errors"


def test_console_pages(a11y_page, app, data, live_server):
    company = data.company("Axe Console")
    data.user(Role.EMPLOYER_ADMIN, company, email="axe-admin@example.com")
    employee_id = data.employee(company, email="axe-worker@example.com")
    trip_id = data.trip(employee_id)
    with app.app_context():
        from web.trips.follow_up import check_trip_coverage
        from web.trips.records import open_request

        trip = db.session.get(Trip, trip_id)
        check_trip_coverage(trip, actor=None)  # DE is a filing state: a draft request
        request_id = open_request(trip).id
        db.session.commit()
    page = a11y_page
    page.goto("/login")
    assert axe_violations(page) == [], "/login"
    page.get_by_label("Email").fill("axe-admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/employees")
    for path in (
        "/admin/employees",
        "/admin/employees/new",
        f"/admin/employees/{employee_id}",
        "/admin/trips",
        f"/admin/trips/{trip_id}/edit",
        f"/admin/trips/{trip_id}",
        f"/admin/requests/{request_id}",
        "/admin/coverage",
        "/admin/employees/import",
        f"/admin/trips/{trip_id}/certificates/provisional",
        "/account",
    ):
        page.goto(path)
        assert axe_violations(page) == [], path


def test_wallet_home(a11y_page, data):
    company = data.company("Axe Wallet")
    data.employee(company, email="axe-wallet@example.com")
    page = a11y_page
    page.goto("/login")
    page.get_by_label("Email").fill("axe-wallet@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/wallet/")
    assert axe_violations(page) == [], "/wallet/"


def test_axe_reports_a_known_violation(a11y_page):
    """The check itself works: an image without alt text and an unlabeled input are reported."""
    a11y_page.set_content(
        '<html lang="en"><body><main><img src="x.png"><input></main></body></html>'
    )
    ids = {v["id"] for v in axe_violations(a11y_page)}
    assert {"image-alt", "label"} <= ids

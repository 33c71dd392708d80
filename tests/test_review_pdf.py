"""The reviewer sees the authority's PDF beside the fields (issue 12, point 1): the review page
loads static/js/review-pdf.js, which draws the pages from GET /operator/reviews/<id>/document.
That route serves the PDF's bytes to reviewers only, still as an attachment with nosniff.
(The drawing itself is checked in a browser: tests/browser/test_review_pdf_browser.py.)"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import tiny_pdf
from web.certificates.services import CertificateInput, import_official_certificate
from web.extensions import db
from web.models import AuditEvent, Employee, Role, User

TODAY = date.today()


@pytest.fixture
def world(app, data):
    company = data.company("Acme")
    other = data.company("Other")
    world = {
        "admin": data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com"),
        "other_admin": data.user(Role.EMPLOYER_ADMIN, other, email="other@example.com"),
        "employee": data.employee(company, email="worker@example.com"),
        "support": data.user(Role.SUPPORT, None, email="support@example.com"),
        "operator": data.user(Role.OPERATOR, None, email="operator@example.com"),
    }
    with app.app_context():
        employee = db.session.get(Employee, world["employee"])
        cert = import_official_certificate(
            employee,
            CertificateInput(
                "A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=60), "DE:DRV-BUND", "A1-7"
            ),
            actor=db.session.get(User, world["admin"]),
            document=tiny_pdf(2),
            filename="a1.pdf",
        )
        db.session.commit()
        world["certificate"] = cert.id
    world["provisional"] = data.certificate(world["employee"]).id
    return world


def _client(app, email: str):
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302, email
    return client


def _denials(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.outcome == "denied").order_by(AuditEvent.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_reviewer_reads_the_pdf_bytes_as_an_attachment_never_cached(app, world):
    response = _client(app, "operator@example.com").get(
        f"/operator/reviews/{world['certificate']}/document"
    )
    assert response.status_code == 200
    assert response.data == tiny_pdf(2)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_support_agent_reads_it_only_with_the_review_right(app, world):
    url = f"/operator/reviews/{world['certificate']}/document"
    agent = _client(app, "support@example.com")
    before = len(_denials(app))
    response = agent.get(url)
    assert response.status_code == 403 and response.data != tiny_pdf(2)
    assert [e.message for e in _denials(app)[before:]] == ["no review right"]
    with app.app_context():
        db.session.get(User, world["support"]).can_review_certificates = True
        db.session.commit()
    assert agent.get(url).data == tiny_pdf(2)


@pytest.mark.parametrize("email", ["admin@example.com", "other@example.com", "worker@example.com"])
def test_customers_never_reach_the_reviewers_copy(app, world, email):
    response = _client(app, email).get(f"/operator/reviews/{world['certificate']}/document")
    assert response.status_code == 403 and response.data != tiny_pdf(2)


def test_only_official_certificates_are_served_there(app, world):
    operator = _client(app, "operator@example.com")
    before = len(_denials(app))
    assert operator.get(f"/operator/reviews/{world['provisional']}/document").status_code == 404
    assert operator.get("/operator/reviews/no-such-id/document").status_code == 404
    assert [e.action for e in _denials(app)[before:]] == ["access.not_found"] * 2


def test_the_review_page_draws_from_that_route_and_keeps_the_text_and_the_link(app, world):
    cert_id = world["certificate"]
    html = _client(app, "operator@example.com").get(f"/operator/reviews/{cert_id}").text
    script = re.search(r'<script type="module" src="([^"]+)"></script>', html)
    assert script and script.group(1).endswith("/static/js/review-pdf.js")
    panel = re.search(r'<section class="card review-document"[^>]*>', html).group(0)
    assert f'data-pdf-url="/operator/reviews/{cert_id}/document"' in panel
    assert 'data-pdfjs="/static/vendor/pdfjs/pdf.min.mjs"' in panel
    assert 'data-pdfjs-worker="/static/vendor/pdfjs/pdf.worker.min.mjs"' in panel
    # Without JavaScript the text is open and the download link is there.
    assert '<details class="document-text-details" open>' in html
    assert f'href="/certificates/{cert_id}/document"' in html


def test_the_french_page_labels_the_drawn_pages_in_french(app, world):
    with app.app_context():
        db.session.get(User, world["operator"]).locale = "fr"
        db.session.commit()
    html = (
        _client(app, "operator@example.com").get(f"/operator/reviews/{world['certificate']}").text
    )
    assert 'data-page-label="Page {page} sur {pages}"' in html


@pytest.mark.parametrize(
    "path", ["pdf.min.mjs", "pdf.worker.min.mjs", "wasm/jbig2_nowasm_fallback.js"]
)
def test_pdfjs_is_served_from_our_origin_as_javascript(client, path):
    response = client.get(f"/static/vendor/pdfjs/{path}")
    assert response.status_code == 200
    assert response.mimetype in {"text/javascript", "application/javascript"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"

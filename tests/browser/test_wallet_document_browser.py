"""The authority's PDF of an official certificate opens from the wallet, also offline."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.factories import PASSWORD, confirm_official, tiny_pdf
from web.certificates.services import CertificateInput, import_official_certificate
from web.extensions import db
from web.models import Employee

PDF = tiny_pdf()


def test_official_pdf_is_available_offline(page, app, data, live_server):
    employee_id = data.employee(data.company("Pdf GmbH"), email="pdf@example.com")
    with app.app_context():
        cert = import_official_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput(
                "A1",
                "DE",
                ["FR"],
                date.today(),
                date.today() + timedelta(days=30),
                "DE:DRV-BUND",
                "A1-7",
            ),
            actor=None,
            document=PDF,
            filename="a1.pdf",
        )
        confirm_official(cert)
        db.session.commit()
        document_url = f"/certificates/{cert.id}/document"
    page.goto("/login")
    page.get_by_label("Email").fill("pdf@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/wallet/")
    expect(page.locator("html[data-prefetched]")).to_have_count(1)  # the worker kept the pages

    page.context.set_offline(True)
    page.goto(f"/wallet/certificates/{cert.id}")
    link = page.get_by_role("link", name="Open the authority's document (PDF)")
    expect(link).to_have_attribute("href", document_url)
    body = page.evaluate(
        """async (url) => {
            const response = await fetch(url);
            const bytes = new Uint8Array(await response.arrayBuffer());
            const type = response.headers.get("content-type");
            return [response.status, type, Array.from(bytes.slice(0, 5))];
        }""",
        document_url,
    )
    assert body[0] == 200 and body[1] == "application/pdf"
    assert bytes(body[2]) == b"%PDF-"
    assert page.console_errors == []

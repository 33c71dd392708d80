"""The review page in a real browser: pdf.js draws the authority's PDF beside the fields under
the strict CSP (issue 12, point 1), and the page falls back to the text when it cannot."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import totp_code
from web.certificates.services import CertificateInput, import_official_certificate
from web.demo import demo_authority_pdf
from web.extensions import db
from web.models import Employee, Role, User

TODAY = date.today()
SHOTS = Path("/tmp/shots/pdfview")

# Counts the pixels of every canvas of the panel that are clearly not white: ink on the page.
INK = """() => [...document.querySelectorAll('.review-document canvas')].map((canvas) => {
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && data[i] + data[i + 1] + data[i + 2] < 384) ink += 1;
  }
  const label = canvas.getAttribute('aria-label');
  return { width: canvas.width, height: canvas.height, ink, label };
})"""


FIELDS = CertificateInput(
    "A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=90), "DE:DRV-BUND", "A1-DE-4711"
)


def scanned_pdf() -> bytes:
    """A black-and-white scan as office scanners write it: one CCITT G4 image, no text. pdf.js
    decodes it with its plain-JS decoder (no WebAssembly under our CSP)."""
    image = Image.new("1", (1240, 1754), 1)
    draw = ImageDraw.Draw(image)
    for top in range(200, 1500, 60):
        draw.rectangle((150, top, 1000, top + 25), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=150)
    assert b"/CCITTFaxDecode" in buffer.getvalue()
    return buffer.getvalue()


def _record(app, data, document: bytes) -> str:
    """An official certificate recorded by an employer admin, waiting for the provider's check,
    and an operator (who did not record it) with an authenticator app."""
    company = data.company("Nordwind GmbH")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@nordwind.example")
    employee = data.employee(company, email="anna@nordwind.example")
    data.user(Role.OPERATOR, None, email="olga.ops@example.com")
    with app.app_context():
        cert = import_official_certificate(
            db.session.get(Employee, employee),
            FIELDS,
            actor=db.session.get(User, admin),
            document=document,
            filename="a1.pdf",
        )
        db.session.commit()
        return cert.id


@pytest.fixture
def pending(app, data):
    return _record(
        app, data, demo_authority_pdf("Deutsche Rentenversicherung Bund", FIELDS, "Anna Müller")
    )


def _warnings(page) -> list[str]:
    """Warnings and errors from now on, the pdf.js worker's included: a CSP refusal inside the
    worker (WebAssembly, eval, a font fetched from elsewhere) reaches the console only as a
    pdf.js warning, which the page fixture's error list does not hold."""
    seen: list[str] = []
    page.on("console", lambda m: m.type in ("warning", "error") and seen.append(m.text))
    return seen


def _sign_in_operator(page) -> None:
    sign_in(page, "olga.ops@example.com", lands_on="**/login/factor")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        totp_code("olga.ops@example.com")
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/operator/**")


def test_the_operator_sees_the_pdf_pages_beside_the_fields(page, pending):
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    warnings = _warnings(page)
    page.goto(f"/operator/reviews/{pending}")
    panel = page.locator(".review-document")
    expect(panel).to_have_attribute("data-pdf-state", "drawn")

    (drawn,) = page.evaluate(INK)
    assert drawn["label"] == "Page 1 of 1"
    assert drawn["width"] > 500 and drawn["height"] > drawn["width"]  # a portrait A4 page
    assert drawn["ink"] > 1000, drawn  # the authority's text was painted, not a blank page
    # Beside the fields, not above them.
    pdf_box = page.locator(".pdf-page").bounding_box()
    fields_box = page.get_by_label("Document number").bounding_box()
    assert pdf_box["x"] + pdf_box["width"] <= fields_box["x"]
    # The text read from the PDF is still there, folded under the pages.
    expect(page.locator("details.document-text-details")).not_to_have_attribute("open", "")
    expect(page.locator(".document-text")).to_contain_text("Document no. A1-DE-4711")
    save_screenshot(page, "review-pdf")
    assert page.console_errors == [], page.console_errors  # no CSP violation, no script error
    assert warnings == [], warnings


def test_a_scanned_page_is_drawn_too(app, data, page):
    cert_id = _record(app, data, scanned_pdf())
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    warnings = _warnings(page)
    page.goto(f"/operator/reviews/{cert_id}")
    expect(page.locator(".review-document")).to_have_attribute("data-pdf-state", "drawn")
    (drawn,) = page.evaluate(INK)
    # 22 black bars of 850 x 25 of 1240 x 1754 image pixels: about a fifth of the page is ink.
    assert 0.15 < drawn["ink"] / (drawn["width"] * drawn["height"]) < 0.30, drawn
    # No text in a scan: the page says so, and the pages are what the reviewer reads.
    expect(page.get_by_text("No text could be read from it (a scan?)")).to_be_attached()
    assert page.console_errors == [] and warnings == [], (page.console_errors, warnings)


def test_the_text_and_the_link_stay_when_the_pages_cannot_be_drawn(page, pending):
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.route("**/operator/reviews/*/document", lambda route: route.abort())
    page.goto(f"/operator/reviews/{pending}")
    panel = page.locator(".review-document")
    expect(panel).to_have_attribute("data-pdf-state", "failed")
    expect(panel.get_by_role("status")).to_contain_text("The pages could not be drawn here")
    assert page.locator(".review-document canvas").count() == 0
    expect(page.locator("details.document-text-details")).to_have_attribute("open", "")
    expect(page.locator(".document-text")).to_be_visible()
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()
    # The aborted fetch is the browser's own console error, nothing else.
    assert all("ERR_FAILED" in e or "Failed to load" in e for e in page.console_errors), (
        page.console_errors
    )


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_screenshot_of_the_review_page(app, page, pending, locale):
    with app.app_context():
        operator = db.session.scalar(db.select(User).where(User.email == "olga.ops@example.com"))
        operator.locale = locale
        db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in_operator(page)
    page.goto(f"/operator/reviews/{pending}")
    expect(page.locator(".review-document")).to_have_attribute("data-pdf-state", "drawn")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"review-{locale}.png"))
    assert page.evaluate("document.documentElement.lang") == locale
    assert page.console_errors == [], page.console_errors

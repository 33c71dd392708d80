"""Official certificates are confirmed by the provider (issue 12, point 1): what a customer
records waits for a reviewer's four-eyes check, is signed only on confirmation, and the uploaded
file must be a real PDF. Each test is an attack or a rule that failed on the code before."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.factories import confirm_official, tiny_pdf
from tests.helpers import csrf_token, post_form
from web.certificates.review import (
    ReviewPermissionError,
    confirm_official_certificate,
    reject_official_certificate,
)
from web.certificates.services import (
    CertificateInput,
    best_certificate_for,
    certificate_covering_trip,
    import_official_certificate,
    issue_provisional_certificate,
    sign_certificate,
)
from web.extensions import db
from web.models import AuditEvent, Certificate, Employee, Role, Trip, User

TODAY = date.today()
BIRTH_DATE = "1988-04-12"  # the factories' employee
FORGED_PDF = b"%PDF-1.7\n" + b"%" * 44 + b"\n%%EOF\n"  # 60 bytes: passed the old magic check
INVENTED = "DE: Deutsche Rentenversicherung (not really)"


@pytest.fixture
def world(app, data):
    company = data.company("Acme")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    employee = data.employee(company, email="worker@example.com")
    trip = data.trip(employee, destination="FR", start=TODAY, end=TODAY + timedelta(days=30))
    support = data.user(Role.SUPPORT, None, email="support@example.com")
    operator = data.user(Role.OPERATOR, None, email="operator@example.com")
    return {
        "company": company,
        "admin": admin,
        "employee": employee,
        "trip": trip,
        "support": support,
        "operator": operator,
    }


def _signed_in(app, email: str):
    client = app.test_client()
    response = AuthActions(client).login(email)
    assert response.status_code == 302, email
    return client


def _record_form(client, employee_id: int, content: bytes, **fields):
    """The admin's form, as a forger would fill it: an institution not on the list."""
    url = f"/admin/employees/{employee_id}/certificates/official"
    data = {
        "csrf_token": csrf_token(client, "/admin/employees"),
        "document_type": "A1",
        "legislation_state": "DE",
        "work_states": ["FR"],
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=365)).isoformat(),
        "issuing_institution": "other",
        "institution_other": INVENTED,
        "institution_other_justification": "Printed like this on the document we received.",
        "authority_reference": "A1-2026-4711",
        "document": (io.BytesIO(content), "a1.pdf"),
        **fields,
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def _certificates(app) -> list[Certificate]:
    with app.app_context():
        rows = db.session.scalars(select(Certificate)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _audits(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _stored_files(app) -> list[Path]:
    root = Path(app.config["DOCUMENTS_PATH"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _pending(app, world, actor_id=None, *, institution="DE:DRV-BUND", **extra) -> str:
    """An official certificate recorded (by the admin unless ``actor_id``) with a real PDF."""
    with app.app_context():
        employee = db.session.get(Employee, world["employee"])
        data = CertificateInput(
            "A1",
            "DE",
            ["FR"],
            TODAY,
            TODAY + timedelta(days=60),
            institution,
            "A1-2026-0042",
            extra.pop("justification", None),
        )
        cert = import_official_certificate(
            employee,
            data,
            actor=db.session.get(User, actor_id or world["admin"]),
            document=tiny_pdf(),
            filename="a1.pdf",
            **extra,
        )
        db.session.commit()
        return cert.id


def _lookup(client, code: str):
    return client.post("/verify", data={"code": code, "birth_date": BIRTH_DATE})


# --- the forged record ---------------------------------------------------------------------------


def test_forged_record_is_refused_at_upload_and_nothing_is_stored(app, world):
    admin = _signed_in(app, "admin@example.com")
    response = _record_form(admin, world["employee"], FORGED_PDF)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The authority&#39;s document is not a readable PDF file." in html
    assert 'id="document-error"' in html  # the message sits at the field it names
    assert _certificates(app) == [] and _stored_files(app) == []
    (refused,) = _audits(app, "certificate.document_refused")
    assert refused.outcome == "denied" and refused.actor_id == world["admin"]
    assert refused.message == "malformed"


@pytest.mark.parametrize(
    "content, reason",
    [
        (tiny_pdf()[:200], "malformed"),  # cut short: no trailer, no page tree
        (b"MZ\x90\x00 an executable named a1.pdf", "not_pdf"),
        ("encrypted", "encrypted"),
    ],
    ids=["truncated", "not-a-pdf", "encrypted"],
)
def test_a_malformed_pdf_stores_no_file_and_no_row(app, world, content, reason):
    if content == "encrypted":
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf())))
        writer.encrypt("secret")
        buffer = io.BytesIO()
        writer.write(buffer)
        content = buffer.getvalue()
    admin = _signed_in(app, "admin@example.com")
    response = _record_form(admin, world["employee"], content, issuing_institution="DE:DRV-BUND")
    assert response.status_code == 422
    assert _certificates(app) == [] and _stored_files(app) == []
    assert [e.message for e in _audits(app, "certificate.document_refused")] == [reason]


def test_an_oversized_pdf_is_refused_with_413_before_it_is_parsed(app, world):
    big = tiny_pdf() + b"%" + b"0" * (10 * 1024 * 1024)
    admin = _signed_in(app, "admin@example.com")
    response = _record_form(admin, world["employee"], big, issuing_institution="DE:DRV-BUND")
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
    assert _certificates(app) == [] and _stored_files(app) == []


def test_other_institution_needs_a_written_justification(app, world):
    admin = _signed_in(app, "admin@example.com")
    response = _record_form(
        admin, world["employee"], tiny_pdf(), institution_other_justification=""
    )
    assert response.status_code == 422
    assert "Explain why the institution is not on the list" in response.get_data(as_text=True)
    # A listed institution of another state than the legislation's is refused too.
    response = _record_form(admin, world["employee"], tiny_pdf(), issuing_institution="FR:URSSAF")
    assert response.status_code == 422
    assert _certificates(app) == []


def test_a_real_pdf_with_an_invented_institution_stays_pending_and_never_verifies(
    app, world, client
):
    admin = _signed_in(app, "admin@example.com")
    response = _record_form(admin, world["employee"], tiny_pdf())
    assert response.status_code == 302
    (cert,) = _certificates(app)
    assert (cert.status, cert.qr_text, cert.signing_kid) == ("pending_review", None, None)
    assert cert.issuing_institution == INVENTED and cert.institution_other_justification
    assert _stored_files(app)  # the document is kept for the reviewer
    # Even a token signed for it (as a stolen signing step would make) is not answered.
    with app.app_context():
        row = db.session.get(Certificate, cert.id)
        sign_certificate(row)
        token = row.qr_text.split("/V/")[1]
        db.session.rollback()
    page = client.get(f"/V/{token}")
    assert 'data-state="not_genuine"' in page.get_data(as_text=True)
    assert client.get(f"/api/v1/verify/{token}").json["status"] == "not_genuine"
    assert _lookup(client, cert.verification_code).status_code == 404
    # The admin and the employee see it waiting; it covers no trip, and no button shows it.
    waiting = "Waiting for confirmation by A1 Wallet"
    assert waiting in admin.get(f"/admin/certificates/{cert.id}").get_data(as_text=True)
    worker = _signed_in(app, "worker@example.com")
    wallet_page = worker.get(f"/wallet/certificates/{cert.id}").get_data(as_text=True)
    assert waiting in wallet_page and "<svg" not in wallet_page.split("certificate-title")[1]
    assert worker.get(f"/wallet/certificates/{cert.id}/inspector").status_code == 302
    with app.app_context():
        row = db.session.get(Certificate, cert.id)
        trip = db.session.get(Trip, world["trip"])
        assert certificate_covering_trip(trip, [row]) is None
        assert best_certificate_for([row], "FR", TODAY) is None


# --- four eyes -----------------------------------------------------------------------------------


def test_the_recorder_cannot_confirm_even_an_operator(app, world):
    cert_id = _pending(app, world, actor_id=world["operator"])
    operator = _signed_in(app, "operator@example.com")
    page = f"/operator/reviews/{cert_id}"
    assert "another reviewer must check it" in operator.get(page).get_data(as_text=True)
    response = post_form(operator, f"{page}/confirm", {}, token_from=page)
    assert response.status_code == 403
    response = post_form(operator, f"{page}/reject", {"reason": "mine"}, token_from=page)
    assert response.status_code == 403
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        assert (cert.status, cert.qr_text) == ("pending_review", None)
        with pytest.raises(ReviewPermissionError):
            confirm_official_certificate(cert, reviewer=db.session.get(User, world["operator"]))
    refused = _audits(app, "certificate.review_refused")
    assert len(refused) == 3 and {e.outcome for e in refused} == {"denied"}
    assert all("four eyes" in e.message for e in refused)


def test_a_support_agent_confirms_only_with_the_right(app, world, runner, client):
    cert_id = _pending(app, world)
    support = _signed_in(app, "support@example.com")
    page = f"/operator/reviews/{cert_id}"
    assert support.get("/operator/reviews").status_code == 403
    token = csrf_token(support, "/account")
    assert support.post(f"{page}/confirm", data={"csrf_token": token}).status_code == 403
    assert _certificates(app)[0].status == "pending_review"
    denied = [e for e in _audits(app, "access.denied") if e.actor_id == world["support"]]
    assert len(denied) == 2 and all(e.message == "no review right" for e in denied)

    granted = runner.invoke(args=["users", "grant-review", "support@example.com"])
    assert granted.exit_code == 0, granted.output
    assert "Certificates to check" in support.get("/support/").get_data(as_text=True)
    queue = support.get("/operator/reviews").get_data(as_text=True)
    assert page in queue
    form = _review_fields(support, page)
    response = post_form(support, f"{page}/confirm", form, token_from=page)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    (cert,) = _certificates(app)
    assert cert.status == "active" and cert.qr_text and cert.signing_kid
    assert cert.reviewed_by_id == world["support"] and cert.reviewed_at is not None
    (confirmed,) = _audits(app, "certificate.confirmed")
    assert confirmed.actor_id == world["support"] and confirmed.object_id == cert.id
    assert len(_audits(app, "user.review_right_granted")) == 1
    # Now, and only now, the inspector reads "official", in words that say who checked it.
    html = client.get("/V/" + cert.qr_text.split("/V/")[1]).get_data(as_text=True)
    assert 'data-state="valid_official"' in html
    assert (
        "Official A1 issued by Deutsche Rentenversicherung Bund, document no. A1-2026-0042; "
        "recorded and checked by A1 Wallet on"
    ) in html
    assert _lookup(client, cert.verification_code).status_code == 200
    api = client.get("/api/v1/verify/" + cert.qr_text.split("/V/")[1]).json
    assert api["status"] == "valid_official" and api["details"]["confirmed_on"] == str(TODAY)

    revoked = runner.invoke(args=["users", "revoke-review", "support@example.com"])
    assert revoked.exit_code == 0 and support.get("/operator/reviews").status_code == 403
    assert len(_audits(app, "user.review_right_revoked")) == 1
    refused = runner.invoke(args=["users", "grant-review", "operator@example.com"])
    assert refused.exit_code == 2 and "support agents" in refused.output


def _review_fields(client, page: str) -> dict[str, object]:
    """The review form as the page fills it (the reviewer changes nothing)."""
    import re

    html = client.get(page).get_data(as_text=True)
    form = html.split('action="' + page + '/confirm"')[1].split("</form>")[0]
    fields: dict[str, object] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        if name != "csrf_token":
            fields[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.findall(r'<option selected value="([^"]*)"', body) or re.findall(
            r'<option value="([^"]*)" selected', body
        )
        fields[name] = selected if name == "work_states" else (selected or [""])[0]
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = body.strip()
    return fields


def test_the_reviewer_corrects_fields_and_the_signed_claims_follow(app, world):
    cert_id = _pending(app, world)
    operator = _signed_in(app, "operator@example.com")
    page = f"/operator/reviews/{cert_id}"
    form = {**_review_fields(operator, page), "authority_reference": "A1-2026-0043"}
    form["valid_to"] = (TODAY + timedelta(days=59)).isoformat()
    response = post_form(operator, f"{page}/confirm", form, token_from=page)
    assert response.status_code == 302
    (cert,) = _certificates(app)
    assert cert.authority_reference == "A1-2026-0043"
    assert cert.valid_to == TODAY + timedelta(days=59)
    (confirmed,) = _audits(app, "certificate.confirmed")
    assert confirmed.message == "corrected: valid_to, authority_reference"


def test_rejection_keeps_the_document_and_the_reason_for_admin_and_employee(app, world):
    cert_id = _pending(app, world)
    operator = _signed_in(app, "operator@example.com")
    page = f"/operator/reviews/{cert_id}"
    empty = post_form(operator, f"{page}/reject", {"reason": " "}, token_from=page)
    assert empty.status_code == 422 and "Give the reason" in empty.get_data(as_text=True)
    reason = "The PDF names another employee"
    response = post_form(operator, f"{page}/reject", {"reason": reason}, token_from=page)
    assert response.status_code == 302
    (cert,) = _certificates(app)
    assert (cert.status, cert.rejection_reason, cert.qr_text) == ("rejected", reason, None)
    assert cert.reviewed_by_id == world["operator"] and cert.document_path
    assert len(_stored_files(app)) == 1
    (rejected,) = _audits(app, "certificate.rejected")
    assert rejected.actor_id == world["operator"] and rejected.object_id == cert_id
    expected = f"Rejected: {reason}"
    admin = _signed_in(app, "admin@example.com")
    assert expected in admin.get(f"/admin/certificates/{cert_id}").get_data(as_text=True)
    worker = _signed_in(app, "worker@example.com")
    assert expected in worker.get(f"/wallet/certificates/{cert_id}").get_data(as_text=True)
    # A rejected record cannot be confirmed afterwards (the page offers no form any more).
    assert f"{page}/confirm" not in operator.get(page).get_data(as_text=True)
    again = post_form(operator, f"{page}/confirm", {}, token_from=page)
    assert again.status_code == 422
    assert "not waiting for review any more" in again.get_data(as_text=True)
    assert _certificates(app)[0].status == "rejected"


# --- the filing workflow ------------------------------------------------------------------------


def _submitted_request(app, world):
    from web.filing.certificate_requests import create_certificate_request, submit_request
    from web.models import RequestKind

    with app.app_context():
        trip = db.session.get(Trip, world["trip"])
        req = create_certificate_request(
            trip, RequestKind.INITIAL.value, start=trip.start_date, end=trip.end_date, actor=None
        )
        checklist = dict.fromkeys(
            (
                "registered_for_period",
                "prior_insurance_confirmed",
                "not_replacing_confirmed",
                "substantial_activity_confirmed",
            ),
            True,
        )
        provisional = submit_request(req, checklist, actor=None, today=TODAY - timedelta(days=60))
        if provisional is None:  # the document could arrive in time: cover the trip anyway
            provisional = issue_provisional_certificate(
                trip.employee,
                CertificateInput(
                    "A1", req.legislation_state, ["FR"], trip.start_date, trip.end_date
                ),
                actor=None,
                trip=trip,
            )
            req.provisional_certificate_id = provisional.id
        db.session.commit()
        return req.id, provisional.id, req.legislation_state


def _record_issued_as(app, world, request_id, actor_id, state):
    from web.filing.certificate_requests import record_issued
    from web.models import CertificateRequest

    code = {"DE": "DE:DRV-BUND", "FR": "FR:URSSAF"}[state]
    with app.app_context():
        req = db.session.get(CertificateRequest, request_id)
        cert = record_issued(
            req,
            valid_from=req.period_start,
            valid_to=req.period_end,
            issuing_institution=code,
            authority_reference="A1-2026-7",
            document=tiny_pdf(),
            filename="a1.pdf",
            actor=db.session.get(User, actor_id),
            today=TODAY,
        )
        db.session.commit()
        return cert.id


def test_an_operator_recording_in_the_filing_workflow_confirms_at_once(app, world):
    request_id, provisional_id, state = _submitted_request(app, world)
    cert_id = _record_issued_as(app, world, request_id, world["operator"], state)
    certs = {c.id: c for c in _certificates(app)}
    assert certs[cert_id].status == "active" and certs[cert_id].qr_text
    assert certs[cert_id].reviewed_by_id == world["operator"] == certs[cert_id].created_by_id
    assert certs[provisional_id].status == "superseded"
    (confirmed,) = _audits(app, "certificate.confirmed")
    assert confirmed.actor_id == world["operator"]


def test_an_admin_recording_in_the_filing_workflow_waits_for_review(app, world):
    request_id, provisional_id, state = _submitted_request(app, world)
    cert_id = _record_issued_as(app, world, request_id, world["admin"], state)
    certs = {c.id: c for c in _certificates(app)}
    assert certs[cert_id].status == "pending_review" and certs[cert_id].qr_text is None
    # The provisional one keeps covering the trip until the official one is confirmed.
    assert certs[provisional_id].status == "active"
    with app.app_context():
        confirm_official(db.session.get(Certificate, cert_id))
        db.session.commit()
    certs = {c.id: c for c in _certificates(app)}
    assert certs[cert_id].status == "active"
    assert certs[provisional_id].status == "superseded"
    assert certs[provisional_id].superseded_by_id == cert_id


# --- the document -------------------------------------------------------------------------------


def test_the_document_is_an_attachment_with_nosniff_also_for_the_reviewer(app, world):
    cert_id = _pending(app, world)
    for email in ("admin@example.com", "worker@example.com", "operator@example.com"):
        response = _signed_in(app, email).get(f"/certificates/{cert_id}/document")
        assert response.status_code == 200, email
        assert response.headers["Content-Disposition"].startswith("attachment;"), email
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf" and response.data == tiny_pdf()


def test_the_review_page_shows_the_document_text_beside_the_fields(app, world):
    from web.demo import demo_authority_pdf

    with app.app_context():
        employee = db.session.get(Employee, world["employee"])
        data = CertificateInput(
            "A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=30), "DE:DRV-BUND", "A1-DE-77"
        )
        cert = import_official_certificate(
            employee,
            data,
            actor=db.session.get(User, world["admin"]),
            document=demo_authority_pdf("Deutsche Rentenversicherung Bund", data, "Anna Müller"),
        )
        db.session.commit()
        cert_id = cert.id
    operator = _signed_in(app, "operator@example.com")
    html = operator.get(f"/operator/reviews/{cert_id}").get_data(as_text=True)
    text = html.split('class="document-text"')[1].split("</pre>")[0]
    assert "Document no. A1-DE-77" in text and "Anna Müller" in text
    assert f"/certificates/{cert_id}/document" in html
    assert 'value="DE:DRV-BUND" selected' in html or 'selected value="DE:DRV-BUND"' in html


def test_the_review_queue_lists_what_waits_oldest_first(app, world):
    first = _pending(app, world)
    second = _pending(app, world)
    with app.app_context():
        reject_official_certificate(
            db.session.get(Certificate, second),
            "wrong person",
            reviewer=db.session.get(User, world["operator"]),
        )
        db.session.commit()
    third = _pending(app, world)
    operator = _signed_in(app, "operator@example.com")
    html = operator.get("/operator/reviews").get_data(as_text=True)
    waiting = html.split("Recently reviewed")[0]
    assert waiting.index(first) < waiting.index(third) and second not in waiting
    assert "Certificates to check" in html  # the console's link
    with app.app_context():
        pending = db.session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(Certificate.status == "pending_review")
        )
    assert pending == 2

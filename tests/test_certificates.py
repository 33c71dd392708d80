"""Issuing, importing, revoking and superseding certificates; the signed QR they carry."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

import verifier
from tests.conftest import AuthActions
from tests.factories import confirm_official, tiny_pdf
from tests.helpers import csrf_token, post_form
from web.certificates.keys import revocation_set, verification_key_set
from web.certificates.services import (
    CertificateInput,
    CertificatePermissionError,
    extend_certificate,
    issue_provisional_certificate,
    new_verification_code,
    normalise_verification_code,
    revoke_certificate,
)
from web.extensions import db
from web.models import AuditEvent, Certificate, Employee, Role, User
from web.validation import InputError

TODAY = date.today()
PDF = tiny_pdf()


def _input(**overrides) -> CertificateInput:
    values = {
        "document_type": "A1",
        "legislation_state": "DE",
        "work_states": ["FR", "BE"],
        "valid_from": TODAY,
        "valid_to": TODAY + timedelta(days=30),
    }
    values.update(overrides)
    return CertificateInput(**values)


@pytest.fixture
def world(app, data):
    company = data.company("Acme")
    other = data.company("Other")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    other_admin = data.user(Role.EMPLOYER_ADMIN, other, email="other-admin@example.com")
    employee = data.employee(
        company, email="worker@example.com", family_name="Fernández García", given_names="María"
    )
    other_employee = data.employee(other, email="other-worker@example.com")
    trip = data.trip(employee, destination="FR", start=TODAY, end=TODAY + timedelta(days=30))
    data.user(Role.SUPPORT, None, email="support@example.com")
    data.user(Role.OPERATOR, None, email="operator@example.com")
    return {
        "company": company,
        "admin": admin,
        "other_admin": other_admin,
        "employee": employee,
        "other_employee": other_employee,
        "trip": trip,
    }


def _issue(app, world, actor_id=None, **overrides) -> str:
    with app.app_context():
        actor = db.session.get(User, actor_id or world["admin"])
        cert = issue_provisional_certificate(
            db.session.get(Employee, world["employee"]), _input(**overrides), actor=actor
        )
        db.session.commit()
        return cert.id


def _verify(app, certificate_id, at=None):
    with app.app_context():
        cert = db.session.get(Certificate, certificate_id)
        return verifier.verify_qr_text(cert.qr_text, verification_key_set(), revocation_set(), at)


def test_issued_certificate_carries_a_valid_signed_qr(app, world):
    cert_id = _issue(app, world)
    result = _verify(app, cert_id)
    assert result.status == "valid"
    claims = result.claims
    assert verifier.certificate_id_text(claims.certificate_id) == cert_id
    assert (
        claims.family_name == "Fernández García" and claims.family_name_ascii == "FERNANDEZ GARCIA"
    )
    assert claims.given_names == "María" and claims.given_names_ascii == "MARIA"
    assert claims.birth_date == date(1988, 4, 12)
    assert claims.kind == "provisional" and claims.document_type == "A1"
    assert claims.legislation_state == "DE" and claims.work_states == ("FR", "BE")
    assert (
        claims.valid_from == TODAY and claims.issuer == "A1W" and claims.issuing_institution is None
    )
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        assert cert.qr_text.startswith("HTTPS://A1.EXAMPLE.TEST/V/")
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", cert.verification_code)
        assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", cert.verification_code_display)
        events = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == cert_id)
        ).all()
        assert "certificate.issued" in events


def test_verification_codes_are_random_and_normalised():
    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 12 and not set(c) & set("ILOU") for c in codes)
    assert normalise_verification_code("abcd-efgh-jk0o") == "ABCDEFGHJK00"
    assert normalise_verification_code("ABCD-EFGH-JK") is None
    assert normalise_verification_code("ABCD-EFGH-JKU1") is None  # U is not Crockford


def test_only_admins_of_the_company_and_operators_may_issue(app, world):
    with app.app_context():
        employee = db.session.get(Employee, world["employee"])
        for actor_id in (world["other_admin"], employee.user_id):
            with pytest.raises(CertificatePermissionError):
                issue_provisional_certificate(
                    employee, _input(), actor=db.session.get(User, actor_id)
                )
        support = db.session.scalar(select(User).where(User.role == "support"))
        with pytest.raises(CertificatePermissionError):
            issue_provisional_certificate(employee, _input(), actor=support)
    operator = _issue(app, world, actor_id=_user_id(app, "operator@example.com"))
    assert _verify(app, operator).status == "valid"


def _user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def test_issuing_is_rate_limited_per_actor(app, world):
    app.config["PROVISIONAL_ISSUE_LIMIT_PER_HOUR"] = 2
    _issue(app, world)
    _issue(app, world)
    with pytest.raises(InputError) as raised:
        _issue(app, world)
    assert "Too many certificates" in raised.value.errors["rate"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "certificate.issue_throttled")
        )


def test_backdating_is_allowed_and_audited(app, world):
    cert_id = _issue(app, world, valid_from=TODAY - timedelta(days=10))
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "certificate.backdated")
        )
        assert event.object_id == cert_id


def test_future_certificate_is_not_yet_valid(app, world):
    cert_id = _issue(
        app, world, valid_from=TODAY + timedelta(days=3), valid_to=TODAY + timedelta(days=9)
    )
    assert _verify(app, cert_id).status == "not_yet_valid"


def test_revocation_appears_in_revoked_json_at_once(app, world, client):
    cert_id = _issue(app, world)
    with app.app_context():
        revoke_certificate(db.session.get(Certificate, cert_id), "Trip cancelled", actor=None)
        db.session.commit()
    assert cert_id in client.get("/verify/revoked.json").json["certificates"]
    assert _verify(app, cert_id).status == "revoked"
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        assert cert.status == "withdrawn" and cert.withdrawal_reason == "Trip cancelled"
        with pytest.raises(InputError):
            revoke_certificate(cert, "   ", actor=None)


def test_extension_supersedes_the_old_certificate(app, world):
    cert_id = _issue(app, world)
    with app.app_context():
        old = db.session.get(Certificate, cert_id)
        new = extend_certificate(
            old, old.valid_to + timedelta(days=60), actor=db.session.get(User, world["admin"])
        )
        db.session.commit()
        new_id = new.id
        assert old.status == "superseded" and old.superseded_by_id == new_id
        assert new.valid_from == old.valid_from and new.valid_to == old.valid_to + timedelta(
            days=60
        )
        with pytest.raises(InputError):
            extend_certificate(new, new.valid_to - timedelta(days=1), actor=None)
    assert _verify(app, new_id).status == "valid"


def test_bad_certificate_input_names_fields(app):
    from web.certificates.services import validate_certificate_input

    with app.test_request_context(), pytest.raises(InputError) as raised:
        validate_certificate_input(
            {
                "document_type": "B2",
                "legislation_state": "XX",
                "work_states": "",
                "valid_from": "2026-05-01",
                "valid_to": "2026-04-01",
            },
            official=True,
        )
    assert set(raised.value.errors) == {
        "document_type",
        "legislation_state",
        "work_states",
        "valid_to",
        "issuing_institution",
    }


# --- the console -------------------------------------------------------------------------------


def test_admin_issues_a_provisional_certificate_for_a_trip(app, world):
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    url = f"/admin/trips/{world['trip']}/certificates/provisional"
    form = client.get(url).get_data(as_text=True)
    # Prefilled from the trip: home legislation, the trip's country and dates.
    legislation = re.search(r'<select[^>]*name="legislation_state".*?</select>', form, re.S).group(
        0
    )
    assert re.search(r'<option selected value="DE">', legislation)
    assert f'value="{TODAY.isoformat()}"' in form
    response = post_form(
        client,
        url,
        {
            "document_type": "A1",
            "legislation_state": "DE",
            "work_states": ["FR"],
            "valid_from": TODAY.isoformat(),
            "valid_to": (TODAY + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    svg = re.search(r"<svg class=\"qr\".*?</svg>", page, re.S).group(0)
    assert svg.count("<path") == 1 and "<image" not in svg and 'aria-label="QR code' in svg
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        assert cert.trip_id == world["trip"]
        assert cert.verification_code_display in page


def test_console_form_errors_are_422(app, world):
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    url = f"/admin/trips/{world['trip']}/certificates/provisional"
    response = post_form(
        client,
        url,
        {
            "document_type": "A1",
            "legislation_state": "",
            "work_states": [],
            "valid_from": "2026-05-01",
            "valid_to": "2026-04-01",
        },
    )
    assert response.status_code == 422
    assert b"is before the start date" in response.data


def test_admin_revokes_in_the_console(app, world):
    cert_id = _issue(app, world)
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    page = f"/admin/certificates/{cert_id}"
    assert post_form(client, f"{page}/revoke", {"reason": ""}, token_from=page).status_code == 422
    assert (
        post_form(client, f"{page}/revoke", {"reason": "Wrong dates"}, token_from=page).status_code
        == 302
    )
    assert _verify(app, cert_id).status == "revoked"


def _upload(client, employee_id, content, filename="a1.pdf", **fields):
    url = f"/admin/employees/{employee_id}/certificates/official"
    token = csrf_token(client, "/admin/employees")
    data = {
        "csrf_token": token,
        "document_type": "A1",
        "legislation_state": "DE",
        "work_states": ["FR"],
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=90)).isoformat(),
        "issuing_institution": "DE:DRV-BUND",
        "authority_reference": "A1-2026-0001",
        "document": (io.BytesIO(content), filename),
        **fields,
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def test_upload_official_pdf(app, world):
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    response = _upload(client, world["employee"], PDF)
    assert response.status_code == 302
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        assert cert.kind == "official" and cert.issuing_institution == "DE:DRV-BUND"
        assert cert.status == "pending_review" and cert.qr_text is None
        confirm_official(cert)  # the provider's reviewer signs it
        db.session.commit()
        import hashlib
        from pathlib import Path

        assert cert.document_sha256 == hashlib.sha256(PDF).hexdigest()
        stored = Path(app.config["DOCUMENTS_PATH"]) / cert.document_path
        assert stored.read_bytes() == PDF
        assert "static" not in stored.parts
        cert_id = cert.id
    assert _verify(app, cert_id).claims.issuing_institution == "DE:DRV-BUND"
    document = f"/certificates/{cert_id}/document"
    assert client.get(document).data == PDF
    for email in ("worker@example.com", "support@example.com"):
        reader = app.test_client()
        AuthActions(reader).login(email)
        response = reader.get(document)
        assert response.status_code == 200 and response.mimetype == "application/pdf", email
    for email in ("other-admin@example.com", "other-worker@example.com"):
        stranger = app.test_client()
        AuthActions(stranger).login(email)
        assert stranger.get(document).status_code == 404, email
    assert app.test_client().get(document).status_code == 302  # anonymous: to the login page


def test_upload_refuses_non_pdf_oversized_and_other_company(app, world):
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    not_pdf = _upload(
        client, world["employee"], b"MZ\x90\x00 this is an executable", filename="a1.pdf"
    )
    assert not_pdf.status_code == 422 and b"not a readable PDF" in not_pdf.data
    big = PDF[:-7] + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    oversized = _upload(client, world["employee"], big)
    assert oversized.status_code == 413 and b"larger than 10 MB" in oversized.data
    foreign = _upload(client, world["other_employee"], PDF)
    assert foreign.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_upload_without_institution_keeps_the_form(app, world):
    client = app.test_client()
    AuthActions(client).login("admin@example.com")
    response = _upload(client, world["employee"], PDF, issuing_institution="")
    assert response.status_code == 422
    assert b"is required for an official certificate" in response.data
    assert b'value="A1-2026-0001"' in response.data


# --- command line ------------------------------------------------------------------------------


def test_cli_issue_show_revoke(runner, app, world):
    result = runner.invoke(
        args=[
            "certificates",
            "issue",
            "--employee",
            "worker@example.com",
            "--type",
            "CoC",
            "--kind",
            "provisional",
            "--legislation-state",
            "DE",
            "--work-states",
            "US",
            "--valid-from",
            "2026-01-01",
            "--valid-to",
            "2026-06-30",
        ]
    )
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert set(issued) >= {"id", "verification_code", "qr_text"}
    assert issued["document_type"] == "CoC" and issued["work_states"] == ["US"]
    shown = json.loads(runner.invoke(args=["certificates", "show", issued["id"]]).output)
    assert shown["qr_text"] == issued["qr_text"]
    revoked = runner.invoke(
        args=["certificates", "revoke", issued["id"], "--reason", "Issued by mistake"]
    )
    assert revoked.exit_code == 0 and json.loads(revoked.output)["status"] == "withdrawn"
    at = verifier.parse_utc("2026-03-01T12:00:00Z")
    assert _verify(app, issued["id"], at).status == "revoked"


def test_cli_bad_input_exits_2(runner, world):
    cases = [
        [
            "certificates",
            "issue",
            "--employee",
            "ghost@example.com",
            "--type",
            "A1",
            "--legislation-state",
            "DE",
            "--work-states",
            "FR",
            "--valid-from",
            "2026-01-01",
            "--valid-to",
            "2026-02-01",
        ],
        [
            "certificates",
            "issue",
            "--employee",
            "worker@example.com",
            "--type",
            "A1",
            "--legislation-state",
            "QQ",
            "--work-states",
            "FR",
            "--valid-from",
            "2026-01-01",
            "--valid-to",
            "2025-02-01",
        ],
        [
            "certificates",
            "issue",
            "--employee",
            "worker@example.com",
            "--type",
            "B",
            "--legislation-state",
            "DE",
            "--work-states",
            "FR",
            "--valid-from",
            "2026-01-01",
            "--valid-to",
            "2026-02-01",
        ],
        ["certificates", "show", "NOSUCHCERTIFICA"],
        ["certificates", "revoke", "NOSUCHCERTIFICA", "--reason", "x"],
    ]
    for args in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)

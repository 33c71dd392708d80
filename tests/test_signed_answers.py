"""Answers come from signed data: the typed lookup and /V/ show the identity as signed, an edit
of the employee's identity re-issues current provisional certificates, the old ones answer
"superseded", official ones keep the authority's identity and the admin is told so."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.helpers import post_form
from web.extensions import db
from web.models import AuditEvent, Certificate, CertificateRequest, Role

TODAY = date.today()
LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
SUPERSEDED_TITLE = "Superseded — a newer certificate exists"
EDIT = {
    "email": "maria@example.com",
    "family_name": "Someone",
    "given_names": "Stranger",
    "birth_date": "1975-05-05",
    "nationality": "ES",
    "residence_state": "ES",
    "home_state": "DE",
}


@pytest.fixture
def world(app, data, client):
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    employee = data.employee(
        company,
        email="maria@example.com",
        family_name="Fernández García",
        given_names="María",
        birth_date="1987-03-14",
        nationality="ES",
        residence_state="ES",
    )
    provisional = data.certificate(employee)
    official = data.certificate(employee, kind="official", states=("BE",))
    expired = data.certificate(
        employee, start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=30)
    )
    AuthActions(client).login("admin@example.com")
    return {
        "company": company,
        "employee": employee,
        "provisional": provisional,
        "official": official,
        "expired": expired,
    }


def _state(html: str) -> str:
    return re.search(r'data-state="(\w+)"', html).group(1)


def _lookup(client, code: str, birth_date: str, lang: str | None = None):
    url = "/verify" + (f"?lang={lang}" if lang else "")
    return client.post(url, data={"code": code, "birth_date": birth_date})


def _path(qr_text: str) -> str:
    return "/V/" + qr_text.split("/V/", 1)[1]


def _edit(client, world, **changes):
    return post_form(
        client,
        f"/admin/employees/{world['employee']}/edit",
        {**EDIT, **changes},
        follow_redirects=True,
    )


def test_typed_lookup_after_an_identity_edit_answers_with_the_signed_identity(app, client, world):
    inspector = app.test_client()
    old = world["provisional"]
    # An edit that leaves the signed identity alone re-issues nothing.
    same = {"family_name": "Fernández García", "given_names": "María", "birth_date": "1987-03-14"}
    assert "re-issued" not in _edit(client, world, **same).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Certificate, old.id).status == "active"
    response = _edit(client, world)
    assert response.status_code == 200
    # The old certificate's code with the *new* birth date finds nothing: the signed one counts.
    assert _lookup(inspector, old.verification_code, "1975-05-05").status_code == 404
    # With the signed birth date: the identity as signed, and "superseded", never "valid".
    html = _lookup(inspector, old.verification_code, "1987-03-14").get_data(as_text=True)
    assert _state(html) == "superseded" and SUPERSEDED_TITLE in html
    assert "Fernández García" in html and "Someone" not in html and "Stranger" not in html
    # The QR of the old certificate says the same.
    scanned = inspector.get(_path(old.qr_text)).get_data(as_text=True)
    assert _state(scanned) == "superseded" and "Fernández García" in scanned
    # The new certificate carries the new identity, with the same coverage.
    with app.app_context():
        stored = db.session.get(Certificate, old.id)
        new = db.session.get(Certificate, stored.superseded_by_id)
        assert new.kind == "provisional" and new.status == "active"
        assert (new.valid_from, new.valid_to, new.work_states, new.legislation_state) == (
            old.valid_from,
            old.valid_to,
            old.work_states,
            old.legislation_state,
        )
        new_code, new_qr = new.verification_code, new.qr_text
        actions = {
            (e.action, e.object_id)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.object_type == "certificate")
            )
        }
        assert ("certificate.reissued", new.id) in actions
        assert ("certificate.superseded", old.id) in actions
    fresh = _lookup(inspector, new_code, "1975-05-05").get_data(as_text=True)
    assert _state(fresh) == "valid_provisional" and "Someone" in fresh and "Stranger" in fresh
    assert "Fernández García" not in fresh
    assert "Someone" in inspector.get(_path(new_qr)).get_data(as_text=True)
    assert _lookup(inspector, new_code, "1987-03-14").status_code == 404


def test_official_record_keeps_the_authority_identity_and_the_admin_is_told(app, client, world):
    official = world["official"]
    response = _edit(client, world, family_name="Neumann")
    page = response.get_data(as_text=True)
    code = official.verification_code_display
    assert "keeps the identity printed on the" in page and code in page
    assert "re-issued with the new details" in page
    inspector = app.test_client()
    html = _lookup(inspector, official.verification_code, "1987-03-14").get_data(as_text=True)
    assert _state(html) == "valid_official" and "Fernández García" in html
    assert "Neumann" not in html
    with app.app_context():
        assert db.session.get(Certificate, official.id).status == "active"
        # Expired provisional certificates are left as they are.
        assert db.session.get(Certificate, world["expired"].id).status == "active"


def test_a_request_filed_for_the_meantime_follows_the_new_certificate(app, client, data, world):
    trip = data.trip(world["employee"], start=TODAY, end=TODAY + timedelta(days=20))
    with app.app_context():
        req = CertificateRequest(
            company_id=world["company"],
            employee_id=world["employee"],
            trip_id=trip,
            document_type="A1",
            certificate_type="posting",
            legislation_state="DE",
            work_states="FR",
            period_start=TODAY,
            period_end=TODAY + timedelta(days=20),
            lead_time_days=30,
            status="submitted",
            provisional_certificate_id=world["provisional"].id,
        )
        db.session.add(req)
        db.session.commit()
        request_id = req.id
    _edit(client, world)
    with app.app_context():
        old = db.session.get(Certificate, world["provisional"].id)
        req = db.session.get(CertificateRequest, request_id)
        assert req.provisional_certificate_id == old.superseded_by_id != old.id


def test_superseded_answer_in_each_public_language(app, world):
    from web.certificates.services import extend_certificate

    with app.app_context():
        extend_certificate(
            db.session.get(Certificate, world["provisional"].id),
            TODAY + timedelta(days=90),
            actor=None,
        )
        db.session.commit()
    inspector = app.test_client()
    for lang in LANGUAGES:
        html = inspector.get(_path(world["provisional"].qr_text) + f"?lang={lang}").get_data(
            as_text=True
        )
        assert _state(html) == "superseded", lang
        with app.test_request_context(), force_locale(lang):
            title = babel_gettext(SUPERSEDED_TITLE)
        assert f'<h1 id="answer-title">{title}</h1>' in html, lang
        if lang != "en":
            assert title != SUPERSEDED_TITLE, f"untranslated in {lang}"
        assert "answer-warn" in html  # amber, not the green of a valid answer
    api = inspector.get("/api/v1/verify/" + world["provisional"].qr_text.split("/V/", 1)[1])
    assert api.json["status"] == "superseded" and api.json["superseded"] is True

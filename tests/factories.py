"""Test data made through the same services the app uses."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta
from itertools import count

import pyotp
from flask import Flask
from sqlalchemy import select

from web.auth.services import set_password
from web.employees.services import create_employee, validate_employee_input
from web.extensions import db
from web.models import Certificate, Company, Employee, Role, TotpFactor, Trip, User
from web.trips.input import validate_trip_input
from web.trips.services import create_trip

PASSWORD = "correct horse battery"
_serial = count(1)

# Staff made by the factories have an authenticator app already (their role requires a second
# factor): email -> TOTP secret of the newest such user, and the last step the helpers used.
_TOTP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def has_test_totp(email: str) -> bool:
    return email.lower() in _TOTP_SECRETS


def totp_code(email: str) -> str:
    """A code of ``email``'s authenticator app that the server has not seen yet (it refuses a
    code twice): the current step, or the next one, or a wait for the one after."""
    secret = _TOTP_SECRETS[email.lower()]
    while True:
        now = time.time()
        step = int(now // 30)
        # The previous step only early in the current one: the server checks ±1 step.
        candidates = ([step - 1] if now % 30 < 15 else []) + [step, step + 1]
        for candidate in candidates:
            if candidate > _LAST_STEP.get(secret, -1):
                _LAST_STEP[secret] = candidate
                return pyotp.TOTP(secret).at(candidate * 30)
        time.sleep(30 - now % 30 + 0.05)


def enrol_test_totp(user: User) -> str:
    """Give ``user`` an authenticator app (the caller commits); the helpers know its codes."""
    from web.auth.factors import _encrypt_secret

    secret = pyotp.random_base32()
    db.session.flush()
    db.session.add(TotpFactor(user_id=user.id, secret_encrypted=_encrypt_secret(secret, user.id)))
    _TOTP_SECRETS[user.email.lower()] = secret
    return secret


class Factories:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def company(self, name: str | None = None, seat_state: str = "DE") -> int:
        with self.app.app_context():
            company = Company(name=name or f"Company {next(_serial)}", seat_state=seat_state)
            db.session.add(company)
            db.session.commit()
            return company.id

    def user(
        self,
        role: Role,
        company_id: int | None = None,
        email: str | None = None,
        password: str | None = PASSWORD,
        totp: bool | None = None,
    ) -> int:
        """A user; operators and support agents get an authenticator app unless ``totp`` is
        False (sign in with AuthActions.login or tests.live.signed_in_session as usual)."""
        with self.app.app_context():
            user = User(
                email=email or f"{role.value}{next(_serial)}@example.com",
                role=role.value,
                company_id=company_id,
            )
            db.session.add(user)
            if password:
                set_password(user, password)
            if totp if totp is not None else role in (Role.OPERATOR, Role.SUPPORT):
                enrol_test_totp(user)
            db.session.commit()
            return user.id

    def employee(
        self,
        company_id: int,
        email: str | None = None,
        password: str | None = PASSWORD,
        **fields: object,
    ) -> int:
        """An employee (returns Employee.id); its user has ``password`` unless None."""
        with self.app.app_context():
            raw = {
                "email": email or f"employee{next(_serial)}@example.com",
                "family_name": "Müller",
                "given_names": "Anna",
                "birth_date": "1988-04-12",
                "nationality": "DE",
                "residence_state": "DE",
                "home_state": "DE",
                **fields,
            }
            employee = create_employee(
                db.session.get(Company, company_id), validate_employee_input(raw)
            )
            if password:
                set_password(employee.user, password)
            db.session.commit()
            return employee.id

    def trip(
        self,
        employee_id: int,
        destination: str = "FR",
        start: date = date(2026, 3, 1),
        end: date = date(2026, 3, 31),
        **fields: object,
    ) -> int:
        with self.app.app_context():
            employee = db.session.get(Employee, employee_id)
            trip = create_trip(
                employee,
                validate_trip_input(
                    {
                        "destination_state": destination,
                        "start_date": start,
                        "end_date": end,
                        **fields,
                    }
                ),
            )
            db.session.commit()
            return trip.id

    def certificate(
        self,
        employee_id: int,
        kind: str = "provisional",
        states=("FR",),
        start: date | None = None,
        end: date | None = None,
    ) -> Certificate:
        """An A1 for ``states`` legislated by DE, from 5 days ago to 30 days ahead unless given;
        official ones name DE:DRV-BUND, have no PDF and are confirmed by a provider reviewer
        (``confirm_official``). Returns the detached certificate."""
        from web.certificates.services import (
            CertificateInput,
            import_official_certificate,
            issue_provisional_certificate,
        )

        today = date.today()
        start = start or today - timedelta(days=5)
        end = end or today + timedelta(days=30)
        with self.app.app_context():
            employee = db.session.get(Employee, employee_id)
            if kind == "official":
                data = CertificateInput("A1", "DE", list(states), start, end, "DE:DRV-BUND")
                cert = import_official_certificate(employee, data, actor=None, document=None)
                confirm_official(cert)
            else:
                data = CertificateInput("A1", "DE", list(states), start, end)
                cert = issue_provisional_certificate(employee, data, actor=None)
            db.session.commit()
            db.session.refresh(cert)
            db.session.expunge(cert)
            return cert

    def confirm_official(self, certificate_id: str) -> None:
        """A recorded official certificate confirmed by the provider's reviewer (committed)."""
        with self.app.app_context():
            confirm_official(db.session.get(Certificate, certificate_id))
            db.session.commit()

    def email_of_employee(self, employee_id: int) -> str:
        with self.app.app_context():
            return db.session.get(Employee, employee_id).user.email

    def get(self, model: type, object_id: object):
        """A fresh copy of a row (detached, attributes loaded)."""
        with self.app.app_context():
            obj = db.session.get(model, object_id)
            if obj is not None:
                db.session.refresh(obj)
                db.session.expunge(obj)
            return obj


REVIEWER_EMAIL = "reviewer@provider.example.com"


def confirm_official(certificate: Certificate) -> Certificate:
    """Confirm a recorded official certificate as the provider's reviewer does (inside an app
    context; the caller commits): the one way tests get a valid official certificate."""
    from web.certificates.review import confirm_official_certificate

    reviewer = db.session.scalar(select(User).where(User.email == REVIEWER_EMAIL))
    if reviewer is None:
        reviewer = User(email=REVIEWER_EMAIL, role=Role.OPERATOR.value)
        db.session.add(reviewer)
        db.session.flush()
    return confirm_official_certificate(certificate, reviewer=reviewer)


def tiny_pdf(pages: int = 1) -> bytes:
    """A real (if blank) PDF, as pypdf writes it: what an authority's document upload needs."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


__all__ = ["PASSWORD", "Factories", "Trip", "confirm_official", "tiny_pdf"]

"""Test data made through the same services the app uses."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from flask import Flask

from web.admin.services import (
    create_employee,
    create_trip,
    validate_employee_input,
    validate_trip_input,
)
from web.auth.services import set_password
from web.extensions import db
from web.models import Certificate, Company, Employee, Role, Trip, User

PASSWORD = "correct horse battery"
_serial = count(1)


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
    ) -> int:
        with self.app.app_context():
            user = User(
                email=email or f"{role.value}{next(_serial)}@example.com",
                role=role.value,
                company_id=company_id,
            )
            db.session.add(user)
            if password:
                set_password(user, password)
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
        official ones name DE:DRV-BUND and have no PDF. Returns the detached certificate."""
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
            else:
                data = CertificateInput("A1", "DE", list(states), start, end)
                cert = issue_provisional_certificate(employee, data, actor=None)
            db.session.commit()
            db.session.refresh(cert)
            db.session.expunge(cert)
            return cert

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


__all__ = ["PASSWORD", "Factories", "Trip"]

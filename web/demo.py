"""Demo data for `make run`: an operator, a support agent, two companies with an admin and three
employees each, and trips — some covered by a certificate, some not."""

from __future__ import annotations

from datetime import date, timedelta

from web.admin.services import (
    create_employee,
    create_trip,
    validate_employee_input,
    validate_trip_input,
)
from web.auth.services import set_password
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
)
from web.extensions import db
from web.models import Company, Employee, Role, Trip, User

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed by `make run` on purpose

DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("operator@a1wallet.example", Role.OPERATOR.value, DEMO_PASSWORD),
    ("support@a1wallet.example", Role.SUPPORT.value, DEMO_PASSWORD),
    ("admin@nordwind.example", Role.EMPLOYER_ADMIN.value, DEMO_PASSWORD),
    ("anna.mueller@nordwind.example", Role.EMPLOYEE.value, DEMO_PASSWORD),
    ("admin@lumiere.example", Role.EMPLOYER_ADMIN.value, DEMO_PASSWORD),
    ("camille.dubois@lumiere.example", Role.EMPLOYEE.value, DEMO_PASSWORD),
]

_COMPANIES = [
    {
        "name": "Nordwind Engineering GmbH",
        "seat_state": "DE",
        "admin": "admin@nordwind.example",
        "employees": [
            (
                "anna.mueller@nordwind.example",
                "Müller",
                "Anna Lena",
                "1988-04-12",
                "DE",
                "DE",
                "DE",
            ),
            ("jan.kowalski@nordwind.example", "Kowalski", "Jan", "1979-11-30", "PL", "PL", "DE"),
            (
                "maria.fernandez@nordwind.example",
                "Fernández García",
                "María Luisa",
                "1991-02-03",
                "ES",
                "DE",
                "DE",
            ),
        ],
    },
    {
        "name": "Atelier Lumière SAS",
        "seat_state": "FR",
        "admin": "admin@lumiere.example",
        "employees": [
            ("camille.dubois@lumiere.example", "Dubois", "Camille", "1985-07-21", "FR", "FR", "FR"),
            ("lucas.martin@lumiere.example", "Martin", "Lucas", "1993-09-09", "FR", "BE", "FR"),
            ("sofia.rossi@lumiere.example", "Rossi", "Sofia", "1990-01-15", "IT", "FR", "FR"),
        ],
    },
]

# (employee email, destination, work states, start offset days, length days, kind, purpose)
_TRIPS = [
    ("anna.mueller@nordwind.example", "FR", "FR", -10, 40, "posting", "Plant commissioning, Lyon"),
    ("anna.mueller@nordwind.example", "CH", "CH", 20, 5, "posting", "Client workshop, Basel"),
    (
        "jan.kowalski@nordwind.example",
        "PL",
        "DE,PL",
        -60,
        365,
        "regular_multi_state",
        "Weekly between Szczecin and Berlin",
    ),
    ("maria.fernandez@nordwind.example", "US", "US", 30, 14, "posting", "Trade fair, Chicago"),
    (
        "camille.dubois@lumiere.example",
        "BE",
        "BE",
        -3,
        20,
        "posting",
        "Exhibition set-up, Brussels",
    ),
    ("camille.dubois@lumiere.example", "DE", "DE", 12, 4, "posting", "Supplier visit, Cologne"),
    ("lucas.martin@lumiere.example", "IT", "IT", 45, 10, "posting", "Restoration, Milan"),
    ("sofia.rossi@lumiere.example", "GB", "GB", 5, 9, "posting", "Gallery installation, London"),
]


def _provider_user(email: str, role: Role) -> User:
    user = User(email=email, role=role.value)
    db.session.add(user)
    set_password(user, DEMO_PASSWORD)
    return user


def create_demo_data(today: date | None = None) -> None:
    today = today or date.today()
    _provider_user("operator@a1wallet.example", Role.OPERATOR)
    _provider_user("support@a1wallet.example", Role.SUPPORT)
    employees = {}
    for spec in _COMPANIES:
        company = Company(name=spec["name"], seat_state=spec["seat_state"])
        db.session.add(company)
        admin = User(email=spec["admin"], role=Role.EMPLOYER_ADMIN.value, company=company)
        db.session.add(admin)
        set_password(admin, DEMO_PASSWORD)
        for email, family, given, birth, nationality, residence, home in spec["employees"]:
            data = validate_employee_input(
                {
                    "email": email,
                    "family_name": family,
                    "given_names": given,
                    "birth_date": birth,
                    "nationality": nationality,
                    "residence_state": residence,
                    "home_state": home,
                    "phone": "+49 151 0000 0000",
                }
            )
            employee = create_employee(company, data)
            set_password(employee.user, DEMO_PASSWORD)
            employees[email] = employee
    for email, destination, states, offset, length, kind, purpose in _TRIPS:
        start = today + timedelta(days=offset)
        create_trip(
            employees[email],
            validate_trip_input(
                {
                    "destination_state": destination,
                    "work_states": states,
                    "start_date": start,
                    "end_date": start + timedelta(days=length - 1),
                    "kind": kind,
                    "purpose": purpose,
                    "prior_insurance_months": 24,
                    # Jan lives in Poland and works there a fifth of his time: not substantial,
                    # so the employer's seat (Germany) decides (Art 13(1)(b)(i)).
                    "work_split": "DE 80, PL 20" if kind == "regular_multi_state" else "",
                }
            ),
        )
    db.session.flush()
    _demo_certificates(employees, today)
    _demo_coverage(employees, today)


def _demo_coverage(employees: dict[str, Employee], today: date) -> None:
    """Every demo trip through the engine, as if the admin had saved it in the console: the
    uncovered ones get their draft request or provisional certificate."""
    from web.filing.trips import act_on_determination, determine_trip

    for employee in employees.values():
        for trip in employee.trips:
            result = determine_trip(trip, today=today)
            act_on_determination(trip, result, actor=None)


def _demo_certificates(employees: dict[str, Employee], today: date) -> None:
    """Some trips covered (official and provisional certificates), some not: Anna's Swiss
    workshop, María's US fair and Camille's German visit have none yet."""

    def trip_of(email: str, destination: str) -> Trip:
        return next(t for t in employees[email].trips if t.destination_state == destination)

    def covering(trip: Trip, document_type: str = "A1") -> CertificateInput:
        return CertificateInput(
            document_type,
            trip.employee.home_state,
            trip.work_state_list,
            trip.start_date,
            trip.end_date,
        )

    anna_fr = trip_of("anna.mueller@nordwind.example", "FR")
    data = covering(anna_fr)
    data.issuing_institution = "DE:DRV-BUND"
    data.authority_reference = "A1-DE-2026-004711"
    import_official_certificate(anna_fr.employee, data, actor=None, document=None, trip=anna_fr)
    for email, destination in (
        ("jan.kowalski@nordwind.example", "PL"),
        ("camille.dubois@lumiere.example", "BE"),
        ("sofia.rossi@lumiere.example", "GB"),
    ):
        trip = trip_of(email, destination)
        issue_provisional_certificate(trip.employee, covering(trip), actor=None, trip=trip)
    # An expired one, so the wallet shows history too.
    lucas = employees["lucas.martin@lumiere.example"]
    issue_provisional_certificate(
        lucas,
        CertificateInput(
            "A1", "FR", ["ES"], today - timedelta(days=200), today - timedelta(days=170)
        ),
        actor=None,
    )

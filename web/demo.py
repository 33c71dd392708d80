"""Demo data for `make run`: an operator, a support agent, two companies with an admin and three
employees each, and trips — some covered by a certificate, some not."""

from __future__ import annotations

import io
import ipaddress
import secrets
from datetime import date, timedelta
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from web.auth.services import set_password
from web.certificates.review import confirm_official_certificate
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
)
from web.cli_errors import fail
from web.employees.services import create_employee, validate_employee_input
from web.extensions import db
from web.models import Company, Employee, Role, Trip, User
from web.trips.input import validate_trip_input
from web.trips.services import create_trip

# Only on a loopback PUBLIC_BASE_URL (a laptop): anywhere else each run makes its own password.
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


def is_loopback_url(url: str) -> bool:
    """True when ``url`` names this machine (localhost, 127.0.0.0/8, ::1): a laptop, not a
    server others reach."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_password(public_base_url: str) -> str:
    """The demo logins' password: the documented constant on a laptop, else a fresh secret."""
    if is_loopback_url(public_base_url):
        return DEMO_PASSWORD
    return secrets.token_urlsafe(15)


def _provider_user(email: str, role: Role, password: str, display_name: str) -> User:
    user = User(email=email, role=role.value, display_name=display_name)
    db.session.add(user)
    set_password(user, password)
    return user


def create_demo_data(today: date | None = None, password: str = DEMO_PASSWORD) -> None:
    """The demo companies, users and trips; every login gets ``password``. The operator and
    the support agent set up their second factor at their first sign-in."""
    today = today or date.today()
    _provider_user("operator@a1wallet.example", Role.OPERATOR, password, "Tomás")
    _provider_user("support@a1wallet.example", Role.SUPPORT, password, "Maria")
    employees = {}
    for spec in _COMPANIES:
        company = Company(name=spec["name"], seat_state=spec["seat_state"])
        db.session.add(company)
        admin = User(email=spec["admin"], role=Role.EMPLOYER_ADMIN.value, company=company)
        db.session.add(admin)
        set_password(admin, password)
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
            set_password(employee.user, password)
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
    from web.trips.assessment import determine_trip
    from web.trips.follow_up import act_on_determination

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

    def user(email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    # Official certificates are recorded by the employer admin, then checked by the provider:
    # Anna's is confirmed by the operator, Camille's waits in the review queue.
    anna_fr = trip_of("anna.mueller@nordwind.example", "FR")
    data = covering(anna_fr)
    data.issuing_institution = "DE:DRV-BUND"
    data.authority_reference = "A1-DE-2026-004711"
    anna_a1 = import_official_certificate(
        anna_fr.employee,
        data,
        actor=user("admin@nordwind.example"),
        document=demo_authority_pdf("Deutsche Rentenversicherung Bund", data, "Anna Lena Müller"),
        filename="A1-DE-2026-004711.pdf",
        trip=anna_fr,
    )
    confirm_official_certificate(anna_a1, reviewer=user("operator@a1wallet.example"))
    provisional = {}
    for email, destination in (
        ("jan.kowalski@nordwind.example", "PL"),
        ("camille.dubois@lumiere.example", "BE"),
        ("sofia.rossi@lumiere.example", "GB"),
    ):
        trip = trip_of(email, destination)
        provisional[email] = issue_provisional_certificate(
            trip.employee, covering(trip), actor=None, trip=trip
        )
    camille_be = trip_of("camille.dubois@lumiere.example", "BE")
    data = covering(camille_be)
    data.issuing_institution = "FR:URSSAF"
    data.authority_reference = "A1-FR-2026-118204"
    import_official_certificate(
        camille_be.employee,
        data,
        actor=user("admin@lumiere.example"),
        document=demo_authority_pdf("Urssaf", data, "Camille Dubois"),
        filename="A1-FR-2026-118204.pdf",
        trip=camille_be,
        supersedes=provisional["camille.dubois@lumiere.example"],
    )
    # An expired one, so the wallet shows history too.
    lucas = employees["lucas.martin@lumiere.example"]
    issue_provisional_certificate(
        lucas,
        CertificateInput(
            "A1", "FR", ["ES"], today - timedelta(days=200), today - timedelta(days=170)
        ),
        actor=None,
    )


def demo_authority_pdf(institution: str, data: CertificateInput, holder: str) -> bytes:
    """A one-page PDF standing in for the authority's document (text a reviewer can read)."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

    lines = [
        f"Portable Document {data.document_type}",
        institution,
        f"Document no. {data.authority_reference}",
        f"Holder: {holder}",
        f"Legislation applicable: {data.legislation_state}",
        f"Work in: {', '.join(data.work_states)}",
        f"From {data.valid_from.isoformat()} to {data.valid_to.isoformat()}",
    ]
    # Latin-1 covers the demo names; the standard Helvetica needs no embedded font.
    text = " T* ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj"
        for line in lines
    )
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 14 Tf 18 TL 72 760 Td {text} ET".encode("cp1252"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database has no company yet.")
@click.option(
    "--i-know-this-is-not-production",
    "not_production",
    is_flag=True,
    help="Allow a PUBLIC_BASE_URL that is not a loopback address (a test server).",
)
def demo_command(if_empty: bool, not_production: bool) -> None:
    """Create demo companies, users and trips, and print the demo logins.

    Demo data has known logins: it goes only into an empty database, and only when
    PUBLIC_BASE_URL is a loopback address unless --i-know-this-is-not-production is given
    (then every login gets a fresh random password, printed once)."""
    base_url = current_app.config["PUBLIC_BASE_URL"]
    loopback = is_loopback_url(base_url)
    if db.session.scalar(select(Company.id).limit(1)) is not None:
        if not if_empty:
            fail("the database has data already; demo data goes into an empty database")
        click.echo("The database has data already: no demo data added. Demo logins:")
        for email, role, _password in DEMO_LOGINS:
            click.echo(f"  {role:<15} {email}")
        return
    if not loopback and not not_production:
        fail(
            f"PUBLIC_BASE_URL ({base_url}) is not a loopback address: demo data with known "
            "logins must not reach production. On a test server, add "
            "--i-know-this-is-not-production."
        )
    password = demo_password(base_url)
    create_demo_data(password=password)
    db.session.commit()
    click.echo("Demo logins (operator and support set up a second factor at first sign-in):")
    for email, role, _password in DEMO_LOGINS:
        click.echo(f"  {role:<15} {email:<32} {password}")

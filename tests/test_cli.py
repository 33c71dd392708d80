"""Operator command line: companies, users, trips, demo."""

from __future__ import annotations

import json

from sqlalchemy import select

from web.extensions import db
from web.models import Company, Employee, Trip, User


def _ok(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_companies_create_and_duplicate(runner, app):
    out = _ok(runner.invoke(args=["companies", "create", "Acme GmbH", "--seat-state", "de"]))
    assert out["name"] == "Acme GmbH"
    again = runner.invoke(args=["companies", "create", "Acme GmbH"])
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(args=["companies", "create", "Other", "--seat-state", "XX"])
    assert bad.exit_code == 2 and "unknown country code" in bad.output
    with app.app_context():
        assert (
            db.session.scalar(select(Company.seat_state).where(Company.name == "Acme GmbH")) == "DE"
        )


def test_users_create_employee_with_password(runner, app):
    runner.invoke(args=["companies", "create", "Acme"])
    out = _ok(
        runner.invoke(
            args=[
                "users",
                "create",
                "Jan@Example.com",
                "--role",
                "employee",
                "--company",
                "Acme",
                "--family-name",
                "Kowalski",
                "--given-names",
                "Jan",
                "--birth-date",
                "1979-11-30",
                "--residence-state",
                "PL",
                "--home-state",
                "DE",
                "--password-stdin",
            ],
            input="a long enough password\n",
        )
    )
    assert out["email"] == "jan@example.com" and "invitation_link" not in out
    with app.app_context():
        employee = db.session.scalar(select(Employee))
        assert employee.residence_state == "PL" and employee.home_state == "DE"
        assert employee.nationality == "DE"  # defaults to the home state when not given
        assert employee.user.password_hash


def test_users_create_without_password_prints_invitation(runner):
    runner.invoke(args=["companies", "create", "Acme"])
    out = _ok(
        runner.invoke(
            args=[
                "users",
                "create",
                "boss@example.com",
                "--role",
                "employer_admin",
                "--company",
                "Acme",
            ]
        )
    )
    assert out["invitation_link"].startswith("https://a1.example.test/invitation/")


def test_users_create_bad_input_exits_2(runner, app):
    runner.invoke(args=["companies", "create", "Acme"])
    cases = [
        (["users", "create", "x@example.com", "--role", "employee"], "--company is required"),
        (
            ["users", "create", "s@example.com", "--role", "support", "--company", "Acme"],
            "belong to the provider",
        ),
        (
            ["users", "create", "x@example.com", "--role", "employee", "--company", "Nope"],
            "no company named",
        ),
        (
            [
                "users",
                "create",
                "x@example.com",
                "--role",
                "employee",
                "--company",
                "Acme",
                "--family-name",
                "X",
                "--given-names",
                "Y",
                "--birth-date",
                "1980-02-31",
                "--home-state",
                "DE",
            ],
            "birth-date",
        ),
        (["users", "create", "not-an-email", "--role", "operator"], "not a valid email"),
        (["users", "create", "x@example.com", "--role", "king"], "Invalid value"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    short = runner.invoke(
        args=["users", "create", "op@example.com", "--role", "operator", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 2 and "12 to 256" in short.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_support_and_operator_belong_to_no_company(runner, app):
    _ok(runner.invoke(args=["users", "create", "agent@example.com", "--role", "support"]))
    with app.app_context():
        assert db.session.scalar(select(User.company_id)) is None


def test_users_list(runner):
    runner.invoke(args=["companies", "create", "Acme"])
    runner.invoke(
        args=[
            "users",
            "create",
            "boss@example.com",
            "--role",
            "employer_admin",
            "--company",
            "Acme",
        ]
    )
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "employer_admin\tAcme\tactive\tboss@example.com" in result.output


def test_trips_create(runner, app, data):
    company = data.company("Acme")
    email = data.email_of_employee(data.employee(company))
    out = _ok(
        runner.invoke(
            args=[
                "trips",
                "create",
                "--employee",
                email,
                "--destination",
                "fr",
                "--work-states",
                "FR,BE",
                "--start",
                "2026-03-01",
                "--end",
                "2026-03-31",
            ]
        )
    )
    assert out["work_states"] == ["FR", "BE"] and out["kind"] == "posting"
    # The same engine call and status as the console: a posting from Germany needs an A1.
    assert out["status"] in ("not_covered", "action_needed", "provisional")
    assert out["next_step"] != "nothing"
    bad = runner.invoke(
        args=[
            "trips",
            "create",
            "--employee",
            email,
            "--destination",
            "DE",
            "--start",
            "2026-03-31",
            "--end",
            "2026-03-01",
            "--kind",
            "holiday",
        ]
    )
    assert bad.exit_code == 2 and "end-date" in bad.output and "kind" in bad.output
    nobody = runner.invoke(
        args=[
            "trips",
            "create",
            "--employee",
            "ghost@example.com",
            "--destination",
            "DE",
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-02",
        ]
    )
    assert nobody.exit_code == 2
    with app.app_context():
        assert len(db.session.scalars(select(Trip)).all()) == 1


def test_demo_creates_logins_that_work(runner, app):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"  # a laptop: demo data allowed
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "admin@nordwind.example" in result.output
    from tests.conftest import AuthActions
    from web.demo import DEMO_LOGINS

    for email, role, password in DEMO_LOGINS:
        client = app.test_client()
        response = AuthActions(client).login(email, password)
        assert response.status_code == 302, (email, role)
    with app.app_context():
        companies = db.session.scalars(select(Company)).all()
        assert len(companies) == 2
        for company in companies:
            employees = db.session.scalars(
                select(Employee).where(Employee.company_id == company.id)
            ).all()
            assert len(employees) == 3
            assert db.session.scalar(select(Trip).where(Trip.company_id == company.id)) is not None
        # Some trips are covered by a certificate, some are not.
        from web.models import Certificate

        covered = set(
            db.session.scalars(select(Certificate.trip_id).where(Certificate.trip_id.is_not(None)))
        )
        all_trips = set(db.session.scalars(select(Trip.id)))
        assert len(covered) >= 4 and all_trips - covered
        kinds = set(db.session.scalars(select(Certificate.kind)))
        assert kinds == {"official", "provisional"}
        # Every certificate is signed, except the official one waiting for the provider.
        unsigned = db.session.scalars(
            select(Certificate.status).where(Certificate.qr_text.is_(None))
        )
        assert list(unsigned) == ["pending_review"]
        assert "active" in set(
            db.session.scalars(select(Certificate.status).where(Certificate.kind == "official"))
        )
    # Running it again on a filled database changes nothing and still prints the logins.
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "admin@nordwind.example" in again.output
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code == 2

"""Role checks on every route and the cross-tenant matrix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from web.access import PUBLIC
from web.extensions import db
from web.models import AuditEvent, Certificate, Employee, EmployeeImport, Role, Trip

STATIC_ENDPOINTS = {"static"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS:
            continue
        yield rule, app.view_functions[rule.endpoint]


def test_every_route_states_its_roles(app):
    unclassified = [r.rule for r, view in _routes(app) if not hasattr(view, "allowed_roles")]
    assert unclassified == [], f"routes without @public or @roles_required: {unclassified}"


def _make_world(app, data):
    """Two companies, each with an admin, an employee, a trip, a certificate and an import."""
    world = {}
    for key in ("a", "b"):
        company = data.company(f"Company {key.upper()}")
        admin = data.user(Role.EMPLOYER_ADMIN, company, email=f"admin-{key}@example.com")
        employee = data.employee(company, email=f"employee-{key}@example.com")
        trip = data.trip(employee)
        with app.app_context():
            from datetime import date

            cert = Certificate(
                id=f"{key.upper()}000000000000000"[:16],
                company_id=company,
                employee_id=employee,
                trip_id=trip,
                document_type="A1",
                kind="official",
                legislation_state="DE",
                work_states="FR",
                valid_from=date(2026, 3, 1),
                valid_to=date(2026, 3, 31),
                verification_code=f"{key.upper()}00000000000"[:12],
            )
            batch = EmployeeImport(company_id=company, created_by_id=admin, content="email\n")
            db.session.add_all([cert, batch])
            db.session.commit()
            world[key] = {
                "company": company,
                "admin": admin,
                "employee": employee,
                "trip": trip,
                "certificate": cert.id,
                "import": batch.id,
            }
    data.user(Role.SUPPORT, None, email="support@example.com")
    data.user(Role.OPERATOR, None, email="operator@example.com")
    return world


def _url_for_rule(rule, objects) -> str:
    values = {}
    for arg in rule.arguments:
        values[arg] = {
            "employee_id": objects["employee"],
            "trip_id": objects["trip"],
            "certificate_id": objects["certificate"],
            "import_id": objects["import"],
            "message_id": 1,
            "incident_id": 1,
            "token": "not-a-token",
            "filename": "css/app.css",
        }[arg]
    return rule.build(values)[1]


LOGINS = {
    "employee": "employee-a@example.com",
    "employer_admin": "admin-a@example.com",
    "support": "support@example.com",
    "operator": "operator@example.com",
}


@pytest.mark.parametrize("role", [None, *LOGINS])
def test_role_checks_on_every_route(app, data, role):
    world = _make_world(app, data)
    client = app.test_client()
    if role:
        assert AuthActions(client).login(LOGINS[role]).status_code == 302
    token = csrf_token(client, "/account" if role else "/login")
    checked = 0
    for rule, view in _routes(app):
        allowed = view.allowed_roles
        if allowed == PUBLIC or rule.endpoint in {"auth.logout"}:
            continue
        url = _url_for_rule(rule, world["a"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            if role is None and url.startswith("/api/"):
                # The JSON API answers 401 in JSON instead of sending a browser to the login page.
                assert response.status_code == 401 and response.json["status"] == 401, url
            elif role is None:
                assert response.status_code in (302, 401), (method, url, response.status_code)
                assert "/login" in response.headers.get(
                    "Location", response.headers.get("HX-Redirect", "")
                )
            elif Role(role) not in allowed:
                assert response.status_code == 403, (role, method, url, response.status_code)
            else:
                assert response.status_code < 500, (role, method, url, response.status_code)
            checked += 1
            if role and client.get("/account").status_code != 200:
                # A POST that signed us out (e.g. deactivating oneself) would hide later checks.
                AuthActions(client).login(LOGINS[role])
                token = csrf_token(client, "/account")
    assert checked > 10
    if role and role != "employer_admin":
        with app.app_context():
            denied = db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "access.denied")
            )
        assert denied > 0


def test_cross_tenant_matrix_answers_404_for_reads_and_writes(app, data):
    """An admin of company A gets 404 for every employee, trip, certificate and import URL of
    company B, for reads and writes, and nothing of B changes."""
    world = _make_world(app, data)
    client = app.test_client()
    AuthActions(client).login("admin-a@example.com")
    token = csrf_token(client, "/admin/employees")
    checked = []
    for rule, _view in _routes(app):
        if not rule.rule.startswith("/admin/") or not rule.arguments:
            continue
        url = _url_for_rule(rule, world["b"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(
                url,
                method=method,
                data={
                    "csrf_token": token,
                    "family_name": "Hacked",
                    "destination_state": "US",
                    "start_date": "2026-01-01",
                    "end_date": "2026-01-02",
                    "email": "x@example.com",
                    "given_names": "X",
                    "birth_date": "1980-01-01",
                    "nationality": "DE",
                    "residence_state": "DE",
                    "home_state": "DE",
                },
            )
            assert response.status_code == 404, (method, url, response.status_code)
            checked.append((method, rule.rule))
    assert len(checked) >= 12
    # The trips list filtered by another company's employee is a 404 too.
    assert client.get(f"/admin/trips?employee={world['b']['employee']}").status_code == 404
    with app.app_context():
        employee_b = db.session.get(Employee, world["b"]["employee"])
        assert employee_b.family_name != "Hacked" and employee_b.user.active
        trip_b = db.session.get(Trip, world["b"]["trip"])
        assert trip_b.status == "planned" and trip_b.destination_state == "FR"
        assert db.session.get(EmployeeImport, world["b"]["import"]).imported_at is None
    # …while the same URLs of company A work.
    assert client.get(f"/admin/employees/{world['a']['employee']}").status_code == 200
    assert client.get(f"/admin/certificates/{world['a']['certificate']}").status_code == 200


def test_lists_show_only_own_company(app, data):
    world = _make_world(app, data)
    client = app.test_client()
    AuthActions(client).login("admin-a@example.com")
    employees = client.get("/admin/employees").get_data(as_text=True)
    assert "employee-a@example.com" in employees and "employee-b@example.com" not in employees
    trips = client.get("/admin/trips").get_data(as_text=True)
    assert f"trip-{world['a']['trip']}" in trips and f"trip-{world['b']['trip']}" not in trips
    found = client.get("/admin/employees?q=employee-b").get_data(as_text=True)
    assert "employee-b@example.com" not in found

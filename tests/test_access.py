"""The access matrix: every route of the URL map x seven actors x {own object, another tenant's}.

What each route allows comes from the one access table of web/access.py (``allowed_roles`` on
the view, ``URL_ARGUMENTS`` for what a URL argument designates); this test derives the expected
answer from it and checks the app gives it: the login page for anonymous visitors, 403 for a
role that may not use the route, 404 for another tenant's object, and an AuditEvent for every
denial.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from web.access import (
    PUBLIC,
    URL_ARGUMENTS,
    UnclassifiedRouteError,
    access_table,
    route_access,
    url_argument_kinds,
)
from web.extensions import db
from web.models import (
    AuditEvent,
    Certificate,
    CertificateRequest,
    Employee,
    EmployeeImport,
    Incident,
    OutboxMessage,
    Role,
    SignIn,
    Trip,
    User,
    utcnow,
)

STATIC_ENDPOINTS = {"static"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS:
            continue
        yield rule, app.view_functions[rule.endpoint]


def test_every_route_states_its_roles(app):
    unclassified = [r.rule for r, view in _routes(app) if not hasattr(view, "allowed_roles")]
    assert unclassified == [], f"routes without @public or @roles_required: {unclassified}"


def test_every_route_is_in_the_access_table(app):
    """Raises UnclassifiedRouteError, naming the route, for a missing decorator or argument."""
    table = access_table(app)
    assert len(table) == len(list(app.url_map.iter_rules()))
    kinds = {kind for row in table for kind in row.objects.values()}
    assert kinds == {k for k in URL_ARGUMENTS.values() if k is not None}
    # Object routes are the signed-in areas' business: none of them is public.
    assert [r.endpoint for r in table if r.public and r.objects] == []


def test_an_unknown_url_argument_fails_with_the_route_name(app):
    with pytest.raises(UnclassifiedRouteError, match=r"'admin\.widget'.*widget_id"):
        url_argument_kinds("admin.widget", ["widget_id", "employee_id"])
    from flask import Flask

    from web.access import roles_required

    other = Flask(__name__)

    @other.route("/things/<int:thing_id>")
    @roles_required(Role.OPERATOR)
    def thing(thing_id):  # pragma: no cover - never called
        return ""

    @other.route("/bare")
    def bare():  # pragma: no cover - never called
        return ""

    rules = {r.endpoint: r for r in other.url_map.iter_rules()}
    with pytest.raises(UnclassifiedRouteError, match=r"'thing'.*thing_id"):
        route_access(other, rules["thing"])
    with pytest.raises(UnclassifiedRouteError, match=r"'bare'.*@public"):
        route_access(other, rules["bare"])


def make_world(app, data):
    """Two companies, A and B, each with an admin and an employee who has a trip, a certificate
    with its PDF, an import, an incident and a (dead) push message; a support agent and an
    operator; and for every account a second device, to sign out from the account page.

    ``world["a"]`` and ``world["b"]`` map each object kind of web.access.URL_ARGUMENTS to an id.
    """
    world = {"users": {}, "devices": {}}
    documents = Path(app.config["DOCUMENTS_PATH"])
    for key in ("a", "b"):
        company = data.company(f"Company {key.upper()}")
        admin = data.user(Role.EMPLOYER_ADMIN, company, email=f"admin-{key}@example.com")
        employee = data.employee(company, email=f"employee-{key}@example.com")
        trip = data.trip(employee)
        with app.app_context():
            user_id = db.session.get(Employee, employee).user_id
            cert_id = f"{key.upper()}000000000000000"[:16]
            relative = Path(str(company)) / f"{cert_id}.pdf"
            (documents / relative).parent.mkdir(parents=True, exist_ok=True)
            (documents / relative).write_bytes(PDF)
            cert = Certificate(
                id=cert_id,
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
                document_path=str(relative),
                document_filename="a1.pdf",
                document_sha256=hashlib.sha256(PDF).hexdigest(),
            )
            batch = EmployeeImport(company_id=company, created_by_id=admin, content="email\n")
            incident = Incident(
                company_id=company,
                employee_id=employee,
                user_id=user_id,
                idempotency_key=str(uuid.uuid4()),
                tapped_at=utcnow(),
            )
            message = OutboxMessage(
                user_id=user_id, kind="alert", title="t", body="b", url="/", status="dead"
            )
            request = CertificateRequest(
                company_id=company,
                employee_id=employee,
                trip_id=trip,
                document_type="A1",
                certificate_type="posting",
                legislation_state="DE",
                work_states="FR",
                period_start=date(2026, 3, 1),
                period_end=date(2026, 3, 31),
                lead_time_days=30,
            )
            db.session.add_all([cert, batch, incident, message, request])
            db.session.commit()
            world[key] = {
                "company": company,
                "admin": admin,
                "employee": employee,
                "trip": trip,
                "certificate": cert.id,
                "employee_import": batch.id,
                "incident": incident.id,
                "outbox_message": message.id,
                "certificate_request": request.id,
            }
            world["users"][f"admin-{key}@example.com"] = admin
            world["users"][f"employee-{key}@example.com"] = user_id
    world["users"]["support@example.com"] = data.user(Role.SUPPORT, None, "support@example.com")
    with app.app_context():
        # The review queue's routes need this right beyond the role (tests/test_official_review
        # checks an agent without it is refused); here the agent has it, like an operator.
        db.session.get(User, world["users"]["support@example.com"]).can_review_certificates = True
        db.session.commit()
    world["users"]["operator@example.com"] = data.user(Role.OPERATOR, None, "operator@example.com")
    with app.app_context():
        for email, user_id in world["users"].items():
            device = SignIn(id=SignIn.new_id(), user_id=user_id, device_label="Other device")
            db.session.add(device)
            db.session.flush()
            world["devices"][email] = device.logout_token
        db.session.commit()
    return world


def url_for_route(app, rule, objects) -> str:
    """The URL of ``rule`` naming the objects of one company (``world["a"]`` or ``["b"]``)."""
    values = {}
    kinds = route_access(app, rule).objects
    for arg in rule.arguments:
        kind = kinds.get(arg)
        if kind is None:
            # Not an object (a secret, a code, a file name): a value the view must refuse.
            converter = rule._converters[arg]
            if isinstance(converter, AnyConverter):
                values[arg] = sorted(converter.items)[0]
            elif isinstance(converter, IntegerConverter):
                values[arg] = 999999
            else:
                values[arg] = "css/app.css" if arg == "filename" else "x1"
        elif kind not in objects:
            pytest.fail(
                f"route {rule.endpoint!r}: no test object of kind {kind!r}; "
                "add one to make_world in tests/test_access.py"
            )
        else:
            values[arg] = objects[kind]
    return rule.build(values)[1]


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role | None
    email: str | None
    home: str | None  # the company whose objects are the actor's own; None for provider staff


ACTORS = [
    Actor("anonymous", None, None, None),
    Actor("employee", Role.EMPLOYEE, "employee-a@example.com", "a"),
    Actor("employee_of_another_company", Role.EMPLOYEE, "employee-b@example.com", "b"),
    Actor("employer_admin_a", Role.EMPLOYER_ADMIN, "admin-a@example.com", "a"),
    Actor("employer_admin_b", Role.EMPLOYER_ADMIN, "admin-b@example.com", "b"),
    Actor("support", Role.SUPPORT, "support@example.com", None),
    Actor("operator", Role.OPERATOR, "operator@example.com", None),
]
# Requests that end the actor's own sign-in: the walk signs in again after them.
SIGN_OUT_ENDPOINTS = {"auth.logout", "auth.sign_out_everywhere"}


def expected_answer(route, actor: Actor, own: bool) -> str:
    """What the access table says ``actor`` gets from ``route`` for its own or another
    company's objects: public, login, forbidden (403), not_found (404) or allowed."""
    if route.roles == PUBLIC:
        return "public"
    if actor.role is None:
        return "login"
    if actor.role not in route.roles:
        return "forbidden"
    if route.objects and not own and actor.home is not None:
        return "not_found"
    return "allowed"


def _audit_state(app):
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        last_denied = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.outcome == "denied")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        denied = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        )
        if last_denied is not None:
            db.session.expunge(last_denied)
    return total, denied, last_denied


def _signed_in_client(app, actor: Actor):
    client = app.test_client()
    if actor.email:
        assert AuthActions(client).login(actor.email).status_code == 302, actor
    return client, csrf_token(client, "/account" if actor.email else "/login")


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.name)
def test_access_matrix(app, data, actor):
    """Every route and method, for this actor, with its own company's objects and another's."""
    world = make_world(app, data)
    client, token = _signed_in_client(app, actor)
    own_key = actor.home or "a"
    other_key = "b" if own_key == "a" else "a"
    seen: dict[str, int] = {}
    for own, key in ((True, own_key), (False, other_key)):
        for route in access_table(app):
            rule = next(r for r in app.url_map.iter_rules(route.endpoint) if r.rule == route.rule)
            if not own and not route.objects:
                continue  # nothing of another company in the URL: checked once
            if route.endpoint in STATIC_ENDPOINTS:
                continue
            url = url_for_route(app, rule, world[key])
            expected = expected_answer(route, actor, own)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                form = {"csrf_token": token}
                if route.endpoint == "auth.sign_out_device" and actor.email:
                    form["device"] = world["devices"][actor.email]
                before_total, before_denied, _ = _audit_state(app)
                response = client.open(
                    url, method=method, data=form, headers={"X-CSRFToken": token}
                )
                status = response.status_code
                where = (actor.name, expected, method, url, status)
                total, denied, last = _audit_state(app)
                if expected == "public":
                    assert status < 500 and status != 403, where
                elif expected == "login":
                    if status == 302:
                        assert "/login" in response.headers["Location"], where
                    else:
                        assert status == 401, where  # htmx or JSON API: no login page
                    # Decision (web/access.py): no sign-in is not a denial; nothing is written.
                    assert total == before_total, where
                elif expected in ("forbidden", "not_found"):
                    assert status == (403 if expected == "forbidden" else 404), where
                    assert denied == before_denied + 1, ("one AuditEvent per denial", where)
                    assert last.actor_id == world["users"][actor.email], where
                    action = "access.denied" if expected == "forbidden" else "access.not_found"
                    assert last.action == action, (last.action, where)
                else:
                    assert status < 500 and status not in (401, 403, 404), where
                    assert denied == before_denied, where
                seen[expected] = seen.get(expected, 0) + 1
                if actor.email and route.endpoint in SIGN_OUT_ENDPOINTS:
                    client, token = _signed_in_client(app, actor)
    assert seen.get("public", 0) > 10
    if actor.role is None:
        assert seen["login"] > 40
    else:
        assert seen["allowed"] > 5 and seen["forbidden"] > 5, seen
        if actor.home is not None:
            assert seen["not_found"] >= 3, seen
        else:
            assert "not_found" not in seen  # provider staff reach every tenant


def test_denials_in_views_that_do_not_audit_are_audited_once(app, data):
    """ask.status just aborts with 404 for another's incident: the error handler audits it."""
    world = make_world(app, data)
    client, _token = _signed_in_client(app, ACTORS[1])  # employee of company A
    _, before, _ = _audit_state(app)
    assert client.get(f"/ask/{world['b']['incident']}/status").status_code == 404
    _, after, last = _audit_state(app)
    assert after == before + 1
    assert (last.action, last.object_type, last.object_id) == (
        "access.not_found",
        "incident",
        str(world["b"]["incident"]),
    )
    # A URL that matches no route, or a public page's 404, is no access decision.
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/invitation/not-a-token").status_code == 404
    assert _audit_state(app)[1] == after


def test_cross_tenant_matrix_answers_404_for_reads_and_writes(app, data):
    """An admin of company A gets 404 for every employee, trip, certificate and import URL of
    company B, for reads and writes, and nothing of B changes."""
    world = make_world(app, data)
    client = app.test_client()
    AuthActions(client).login("admin-a@example.com")
    token = csrf_token(client, "/admin/employees")
    checked = []
    for rule, _view in _routes(app):
        if not rule.rule.startswith("/admin/") or not rule.arguments:
            continue
        url = url_for_route(app, rule, world["b"])
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
        assert db.session.get(EmployeeImport, world["b"]["employee_import"]).imported_at is None
    # …while the same URLs of company A work.
    assert client.get(f"/admin/employees/{world['a']['employee']}").status_code == 200
    assert client.get(f"/admin/certificates/{world['a']['certificate']}").status_code == 200


def test_lists_show_only_own_company(app, data):
    world = make_world(app, data)
    client = app.test_client()
    AuthActions(client).login("admin-a@example.com")
    employees = client.get("/admin/employees").get_data(as_text=True)
    assert "employee-a@example.com" in employees and "employee-b@example.com" not in employees
    trips = client.get("/admin/trips").get_data(as_text=True)
    assert f"trip-{world['a']['trip']}" in trips and f"trip-{world['b']['trip']}" not in trips
    found = client.get("/admin/employees?q=employee-b").get_data(as_text=True)
    assert "employee-b@example.com" not in found

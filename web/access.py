"""Who may use a view, and the one helper that scopes every company query to the tenant.

The access table
----------------
Every route is classified in one table, made of two parts that stay next to what they describe:

* **who**: every view is decorated with ``roles_required(...)`` or ``public``; the roles are kept
  on the view function (``allowed_roles``: a frozenset of ``Role``, or ``PUBLIC``).
* **which object**: ``URL_ARGUMENTS`` below maps every URL argument name used in the URL map to
  the kind of object it designates (``"certificate"``, ``"trip"``, …) or to ``None`` when it
  names no stored object (a one-time secret, a file name). An argument name means the same kind
  on every route, so one entry serves ``/admin/…``, ``/wallet/…`` and ``/certificates/…``.

``access_table(app)`` joins both for every rule of the URL map and raises
``UnclassifiedRouteError`` naming the route when a view has no decorator or a URL argument is
not in ``URL_ARGUMENTS``: a new route is classified before its tests can pass
(tests/test_access.py walks the table with seven actors).

The rules the table stands for
------------------------------
* A role outside ``allowed_roles`` gets **403** and an ``access.denied`` AuditEvent.
* An object route answers **404** unless the object is the actor's: an employee's own rows, an
  employer admin's company's rows. Another tenant's object answers exactly like a missing one.
  Support agents and operators work for the provider: on the routes their role may use they
  reach every tenant's objects.
* Every 403 and 404 answered on a protected route writes one AuditEvent with outcome
  ``denied``: the view's own (``access.denied``, ``access.not_found``) or, when the view just
  aborted, one written by ``audit_denial`` from the error handler (web/errors.py).
* A request without a sign-in to a protected route is *not* counted as a denial: it is sent to
  the login page (401 with ``HX-Redirect`` for htmx, 401 JSON for the API) and writes nothing.
  There is no one to attribute it to, nothing is disclosed, and an anonymous client must not be
  able to fill the audit trail. A sign-in that ends because of its idle or absolute limit is
  audited once, as ``auth.session_expired`` (web/auth/services.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, event, func, select
from werkzeug.routing import Rule

from web.audit import record_audit_event
from web.extensions import db, login_manager
from web.models import AuditEvent, Role

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"

# What each URL argument designates: an object kind, or None for what is not a stored object.
URL_ARGUMENTS: dict[str, str | None] = {
    "employee_id": "employee",
    "trip_id": "trip",
    "certificate_id": "certificate",
    "import_id": "employee_import",
    "incident_id": "incident",
    "message_id": "outbox_message",
    "request_id": "certificate_request",
    "token": None,  # a signed QR, an invitation or reset secret: checked by the view
    "filename": None,  # Flask's static files
    "kind": None,  # which certificate request to open (derogation, renewal)
    "state": None,  # a country code of the provider's settings
}
# Flask's own view for static/, which carries no decorator.
STATIC_ENDPOINTS = frozenset({"static"})


class UnclassifiedRouteError(LookupError):
    """A route missing from the access table (no decorator, or an unknown URL argument)."""


@dataclass(frozen=True)
class RouteAccess:
    """One row of the access table."""

    endpoint: str
    rule: str
    roles: frozenset[Role] | str  # PUBLIC, or the roles that may use the route
    objects: dict[str, str]  # URL argument -> kind of object it designates

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC


def url_argument_kinds(endpoint: str, arguments: Iterable[str]) -> dict[str, str]:
    """The object kind of every URL argument of a route that designates a stored object."""
    unknown = sorted(set(arguments) - URL_ARGUMENTS.keys())
    if unknown:
        raise UnclassifiedRouteError(
            f"route {endpoint!r}: URL argument(s) {', '.join(unknown)} not classified; add each "
            "to web.access.URL_ARGUMENTS with the object kind it designates (or None)"
        )
    return {a: kind for a in sorted(arguments) if (kind := URL_ARGUMENTS[a]) is not None}


def route_access(app: Flask, rule: Rule) -> RouteAccess:
    """The access-table row of one rule of the URL map (raises for an unclassified route)."""
    view = app.view_functions[rule.endpoint]
    roles = PUBLIC if rule.endpoint in STATIC_ENDPOINTS else getattr(view, "allowed_roles", None)
    if roles is None:
        raise UnclassifiedRouteError(
            f"route {rule.endpoint!r} ({rule.rule}): decorate its view with @public or "
            "@roles_required(...)"
        )
    return RouteAccess(
        rule.endpoint, rule.rule, roles, url_argument_kinds(rule.endpoint, rule.arguments)
    )


def access_table(app: Flask) -> list[RouteAccess]:
    """Every rule of the URL map, classified."""
    return [route_access(app, rule) for rule in app.url_map.iter_rules()]


def public(view: F) -> F:
    """Anyone may use this view, signed in or not."""
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Only signed-in users with one of ``roles``; others get 403 (anonymous: the login page)."""
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role_enum not in allowed:
                record_audit_event("access.denied", outcome="denied", message="role not allowed")
                db.session.commit()
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


_DENIAL_AUDITED = "_a1w_denial_audited"


@event.listens_for(AuditEvent, "after_insert")
def _note_denial(mapper: Any, connection: Any, target: AuditEvent) -> None:
    # The view audited its own denial: audit_denial must not write a second row.
    if target.outcome == "denied" and has_request_context():
        setattr(g, _DENIAL_AUDITED, True)


def audit_denial(code: int) -> None:
    """Called by the error handler for every 403 and 404: when the route is protected and the
    view did not audit the denial itself, write ``access.denied`` / ``access.not_found``.

    A 404 of a URL that matches no route, or of a public route (an unknown QR, a used
    invitation), is no access decision and writes nothing.
    """
    rule = request.url_rule
    if rule is None or g.get(_DENIAL_AUDITED):
        return
    view = current_app.view_functions.get(rule.endpoint)
    roles = getattr(view, "allowed_roles", PUBLIC)
    if roles == PUBLIC or not current_user.is_authenticated:
        return
    args = request.view_args or {}
    kinds = {a: URL_ARGUMENTS.get(a) for a in sorted(args)}
    designated = next(((a, k) for a, k in kinds.items() if k), None)
    # A denied request keeps none of its half-done changes (they would be dropped anyway).
    db.session.rollback()
    record_audit_event(
        "access.denied" if code == 403 else "access.not_found",
        object_type=designated[1] if designated else None,
        object_id=args[designated[0]] if designated else None,
        outcome="denied",
        message=rule.endpoint,
    )
    db.session.commit()


def for_company(model: type, company_id: int) -> Select[Any]:
    """SELECT of ``model`` limited to one company: every query for a tenant's rows starts here."""
    return select(model).where(model.company_id == company_id)


def company_select(model: type) -> Select[Any]:
    """``for_company`` for the signed-in user's company."""
    company_id = getattr(current_user, "company_id", None)
    if company_id is None:
        # Provider staff have no tenant; views for them never use this helper.
        abort(404)
    return for_company(model, company_id)


def get_company_object_or_404(model: type, object_id: object) -> Any:
    """The object with this id if it belongs to the current user's company, else 404.

    Another tenant's object answers exactly like a missing one, so ids reveal nothing.
    """
    obj = db.session.scalar(company_select(model).where(model.id == object_id))
    if obj is None:
        record_audit_event(
            "access.not_found",
            object_type=model.__tablename__,
            object_id=object_id,
            outcome="denied",
        )
        db.session.commit()
        abort(404)
    return obj


PAGE_SIZE = 25  # rows per page in the consoles' lists


def page_count(total: int) -> int:
    """How many pages ``total`` rows fill (at least one: an empty list is one empty page)."""
    return max(1, -(-total // PAGE_SIZE))


def page_of(
    stmt: Select[Any], order_by: Any, page: int, *, last_if_past_end: bool = False
) -> tuple[list[Any], int]:
    """One page of a list (1-based, PAGE_SIZE rows) and the number of rows in the whole list.

    A page past the end is empty (the API: a client reads pages until one is empty), or with
    ``last_if_past_end`` the last page (the consoles: an old link after rows went away still
    shows rows; the view says which page with ``min(page, page_count(total))``)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(page, 1)
    if last_if_past_end:
        page = min(page, page_count(total))
    rows = db.session.scalars(
        stmt.order_by(*order_by).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    return list(rows), total

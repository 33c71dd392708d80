"""Who may use a view, and the one helper that scopes every company query to the tenant.

Every view is decorated with ``roles_required(...)`` or ``public``; the chosen roles are kept on
the view function (``allowed_roles``) so tests can walk the URL map and check every route.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from web.audit import record_audit_event
from web.extensions import db, login_manager
from web.models import Role

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"


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

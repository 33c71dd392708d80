"""Two guards over the signed-in pages: a staff sign-in without a second factor reaches only the
enrolment page, and sensitive actions ask for the factor again after STEP_UP_MINUTES."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.auth.factors import needs_enrolment, recently_verified

F = TypeVar("F", bound=Callable[..., Any])

# What a sign-in that still has to enrol may reach (besides public pages and static files).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "auth.security",
        "auth.totp_enrol",
        "auth.passkey_register_options",
        "auth.passkey_register",
        "auth.logout",
        "auth.set_language",
    }
)


def _redirect(target: str) -> Response:
    if request.headers.get("HX-Request"):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def enrolment_gate() -> Response | None:
    """before_request: keep a staff sign-in without a factor on the enrolment page."""
    # The route first: a public page or a static file never loads the sign-in (the session).
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "allowed_roles", None) == "public" or not current_user.is_authenticated:
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS or not needs_enrolment(current_user):
        return None
    return _redirect(url_for("auth.security"))


def _local_path(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") else None


def require_recent_factor(view: F) -> F:
    """Sensitive actions (revoke a key, confirm an official certificate, change roles, export
    all trips): the user proves it is them again when the last check is older than
    STEP_UP_MINUTES. A GET comes back to itself afterwards; a form post comes back to the page
    it was sent from, to be sent again."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated and not recently_verified():
            if request.method == "GET":
                back = request.full_path.rstrip("?")
            else:
                back = _local_path(request.referrer) or url_for("auth.index")
                flash(_("Confirm it is you, then repeat the action."), "info")
            return _redirect(url_for("auth.step_up", next=back))
        return view(*args, **kwargs)

    wrapped.requires_recent_factor = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]

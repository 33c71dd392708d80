"""Error pages: a clear, translated message and the right 4xx, as HTML or JSON."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from web.extensions import htmx
from web.i18n import is_public_page

log = logging.getLogger("a1wallet")


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Check what you entered and try again."),
        401: _("Please sign in."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist, or you do not have access to it."),
        405: _("This action is not available here."),
        413: _("The file is too large."),
        422: _("Some of what you entered needs correcting."),
        429: _("Too many attempts. Please wait and try again later."),
        500: _(
            "Something went wrong at %(provider)s. Nothing you entered is lost; please try again.",
            provider=current_app.config["PROVIDER_NAME"],
        ),
    }


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _is_region_request() -> bool:
    """An htmx request for part of a console page (a boosted one wants the whole page)."""
    return bool(htmx) and not htmx.boosted and not is_public_page()


def _retry_at(retry_after: str | None):
    import time
    from datetime import UTC, datetime

    if not retry_after:
        return None
    return datetime.fromtimestamp(int(time.time()) + int(retry_after), UTC)


def render_error(code: int, detail: str | None = None, retry_after: str | None = None) -> Response:
    message = detail or _messages().get(code, _messages()[400])
    if _wants_json():
        response = jsonify({"error": message, "status": code})
    else:
        # Public pages use a base without session or CSRF token: no cookie for inspectors.
        template = "verify/error.html" if is_public_page() else "errors/error.html"
        if _is_region_request():
            # htmx swaps a 4xx into the region that asked (static/js/app.js): the message
            # alone, not a whole page inside a table cell.
            template = "errors/_message.html"
        response = Response(
            render_template(
                template,
                code=code,
                message=message,
                retry_after=retry_after,
                retry_at=_retry_at(retry_after),
            ),
            mimetype="text/html",
        )
    response.status_code = code
    response.vary.add("HX-Request")  # the message alone for htmx, a page otherwise
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def _seconds_until_reset(error: HTTPException) -> int | None:
    """When the breached limit lets the client in again, from the limiter's own window (a
    moving window frees a slot when the oldest counted hit ages out), not the window's length."""
    import time

    from web.extensions import limiter

    current = limiter.current_limit
    if current is not None and current.breached:
        return max(1, int(current.reset_at - time.time()))
    limit = getattr(error, "limit", None)
    return int(limit.limit.get_expiry()) if limit is not None else None


def _audit_denial(code: int) -> None:
    """Every 403/404 of a protected route leaves an AuditEvent (web/access.py)."""
    from web.access import audit_denial
    from web.extensions import db

    try:
        audit_denial(code)
    except Exception:
        # The answer stays a denial; a failing audit write is logged, never turned into a 500.
        log.exception("could not audit a %d on %s", code, request.url_rule)
        db.session.rollback()


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return render_error(
            400, _("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(429)
    def too_many(error: HTTPException) -> Response:
        retry_after = _seconds_until_reset(error)
        return render_error(429, retry_after=str(retry_after) if retry_after is not None else None)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code < 400:
            return error.get_response()
        if code in (403, 404):
            _audit_denial(code)
        response = render_error(code)
        if code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        from web.extensions import db

        db.session.rollback()
        return render_error(500)

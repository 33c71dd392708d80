"""Security headers on every response, and the reverse-proxy setting."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from web.i18n import is_public_page

# No inline script or style, no eval: htmx runs with allowEval=false (templates/base.html).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _protected_route() -> bool:
    """The request went to a view that needs a sign-in (web/access.py's table)."""
    from web.access import PUBLIC

    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    return getattr(view, "allowed_roles", PUBLIC) != PUBLIC


def _rendered_for_a_signed_in_user() -> bool:
    # flask-login keeps the request's user in g once something asked for it (a page's navigation
    # does); a request that never looked (a static file) is not about anyone.
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if is_public_page():
        # Answers about a person: never stored by a browser or proxy, never leaked by Referer.
        # (The public key lists and the scanner's files set their own caching.)
        headers["Referrer-Policy"] = "no-referrer"
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
    if _protected_route():
        # Personal answers (pages, PDFs, JSON, error pages of a signed-in area): never written to
        # any cache, so nothing is left on a shared computer after sign-out.
        if "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "private, no-store"
    elif response.mimetype == "text/html" and "Cache-Control" not in headers:
        # A public page seen by a signed-in user shows their navigation: personal too.
        personal = _rendered_for_a_signed_in_user()
        headers["Cache-Control"] = "private, no-store" if personal else "private, no-cache"
    return response


def init_security(app: Flask) -> None:
    trusted = app.config.get("TRUSTED_PROXIES", 0)
    if trusted:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted
        )
    app.after_request(set_security_headers)

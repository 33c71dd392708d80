"""Security headers on every response, and the reverse-proxy setting."""

from __future__ import annotations

from flask import Flask, Response, request
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
    if response.mimetype == "text/html" and "Cache-Control" not in headers:
        # Pages carry personal data: never kept by shared caches.
        headers["Cache-Control"] = "private, no-cache"
    return response


def init_security(app: Flask) -> None:
    trusted = app.config.get("TRUSTED_PROXIES", 0)
    if trusted:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted
        )
    app.after_request(set_security_headers)

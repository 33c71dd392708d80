"""The installable app: manifest, the service worker at the root, the offline page."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Response, current_app, jsonify, make_response, render_template, url_for
from flask_babel import gettext as _

from web.access import public
from web.pwa import bp

# The app shell: precached at install so the wallet opens with no network (docs/design.md §5).
SHELL_STATIC = (
    "css/app.css",
    "css/verify.css",
    "js/app.js",
    "js/confirm.js",
    "js/wallet.js",
    "js/ask-outbox.js",
    "js/ask.js",
    "js/offline.js",
    "vendor/htmx-2.0.11.min.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@cache
def shell_version(static_folder: str) -> str:
    """Changes whenever a shell file changes, so a new worker replaces the old caches."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        digest.update((Path(static_folder) / name).read_bytes())
    digest.update((Path(static_folder).parent / "templates" / "pwa" / "sw.js").read_bytes())
    return digest.hexdigest()[:12]


@bp.route("/manifest.webmanifest")
@public
def manifest() -> Response:
    response = jsonify(
        {
            "name": _("A1 Wallet — proof of social security coverage"),
            "short_name": "A1 Wallet",
            "description": _("Your A1 and Certificates of Coverage, with you and offline."),
            "id": "/wallet/",
            "start_url": "/wallet/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b3d91",
            "icons": [
                {
                    "src": url_for("static", filename="icons/icon-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": url_for("static", filename="icons/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": url_for("static", filename="icons/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/sw.js")
@public
def service_worker() -> Response:
    """Served from the root so its scope is the whole site (it still skips the consoles)."""
    static_folder = current_app.static_folder or ""
    body = render_template(
        "pwa/sw.js",
        version=shell_version(static_folder),
        shell_urls=[url_for("static", filename=name) for name in SHELL_STATIC]
        + [url_for("pwa.offline")],
    )
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@public
def offline() -> str:
    """Shown by the service worker when a page is neither reachable nor cached."""
    return render_template("pwa/offline.html")

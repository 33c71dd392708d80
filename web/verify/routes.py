"""The public verification pages (the Urssaf checker model), the typed-code lookup, and the
trust and revocation lists. No login, no cookies, no tracking, no third-party requests."""

from __future__ import annotations

import hashlib
import json

from flask import Response, current_app, make_response, render_template, request

from web.access import public
from web.certificates.keys import revocation_document, trust_list_document
from web.extensions import csrf, limiter
from web.validation import date_field
from web.verify import bp
from web.verify.services import lookup_by_code, verify_for_inspector

# Verifiers refresh often; a revocation must reach them within minutes, not hours.
LIST_CACHE_SECONDS = 300


def _json_document(document: dict) -> Response:
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={LIST_CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, for any verifier
    response = response.make_conditional(request)
    del response.headers["Date"]  # the server adds its own; two would confuse clients
    return response


@bp.route("/verify/keys.json")
@public
def keys_json() -> Response:
    return _json_document(trust_list_document())


@bp.route("/verify/revoked.json")
@public
def revoked_json() -> Response:
    return _json_document(revocation_document())


def _scan_limit() -> str:
    return current_app.config["VERIFY_PAGE_LIMIT"]


@bp.route("/V/<any_text:token>")
@bp.route("/v/<any_text:token>")
@public
@limiter.limit(_scan_limit)
def scanned(token: str) -> Response:
    """The page a phone camera opens from the QR."""
    answer = verify_for_inspector(token)
    response = make_response(render_template("verify/result.html", answer=answer, token=token))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _lookup_failed(response: Response) -> bool:
    return response.status_code == 404


@bp.route("/verify", methods=["GET", "POST"])
@public
@csrf.exempt  # changes nothing and sets no cookie; a CSRF token would need a session cookie
@limiter.limit(
    lambda: current_app.config["VERIFY_LOOKUP_LIMIT"], methods=["POST"], deduct_when=_lookup_failed
)
def lookup() -> Response:
    """Verification code + birth date, for inspectors who type instead of scan."""
    if request.method == "GET":
        return make_response(render_template("verify/lookup.html", form={}, errors={}))
    form = {
        "code": request.form.get("code", "")[:40],
        "birth_date": request.form.get("birth_date", "")[:20],
    }
    errors: dict[str, str] = {}
    birth_date = date_field(form["birth_date"], errors, "birth_date")
    if not form["code"].strip():
        errors["code"] = _required()
    if errors:
        return make_response(render_template("verify/lookup.html", form=form, errors=errors), 400)
    answer = lookup_by_code(form["code"], birth_date)
    if answer is None:
        # The same words whether the code or the birth date was wrong.
        return make_response(
            render_template("verify/lookup.html", form=form, errors={}, not_found=True), 404
        )
    return make_response(render_template("verify/result.html", answer=answer, token=None))


@bp.route("/verify/scan")
@public
def scan() -> Response:
    """The offline inspector verifier: camera or photo, checked in the browser (WebCrypto)."""
    response = make_response(render_template("verify/scan.html"))
    response.headers["Cache-Control"] = "no-cache"  # no personal data; its worker keeps a copy
    return response


@bp.route("/verify/sw.js")
@public
def scan_service_worker() -> Response:
    """The verifier's own service worker, scope /verify/ (apart from the employee app's)."""
    response = current_app.send_static_file("js/verify-sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/verify/"
    return response


def _required() -> str:
    from flask_babel import gettext as _

    return _("is required")

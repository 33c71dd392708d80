"""The public verification pages (the Urssaf checker model), the typed-code lookup, and the
trust and revocation lists. No login, no cookies, no tracking, no third-party requests."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from datetime import datetime

from flask import Response, current_app, make_response, render_template, request
from flask_babel import get_locale

from web.access import public
from web.certificates.keys import revocation_document, trust_list_document
from web.extensions import csrf, limiter
from web.validation import date_field
from web.verify import bp
from web.verify.services import (
    ANSWERS,
    InspectorAnswer,
    checked_at_words,
    institution_names,
    lookup_by_code,
    scan_document_titles,
    verify_for_inspector,
)

# The lookup's answer page formats its time of check in the template.
bp.add_app_template_global(checked_at_words, "checked_at_words")

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
    answer = verify_for_inspector(token)  # the signature and the live status, every time
    response = make_response(_result_page(answer))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# The busiest public page is the same HTML for the same answer, language and holder details,
# but for the time of the check: each worker keeps the last pages it rendered (the answer itself
# is computed on every request, so a withdrawal shows at once) and writes the time in.
_CHECKED_AT = "\ue000checked-at\ue000"  # a private-use character: in no translation
_RESULT_PAGES_KEPT = 512
_result_pages: OrderedDict[tuple, str] = OrderedDict()
_result_pages_lock = threading.Lock()


def _result_page(answer: InspectorAnswer) -> str:
    key = (
        id(current_app._get_current_object()),
        str(get_locale()),
        answer.state,
        answer.details,
        answer.reason,
    )
    with _result_pages_lock:
        page = _result_pages.get(key)
        if page is not None:
            _result_pages.move_to_end(key)
    if page is None:
        page = render_template("verify/result.html", answer=answer, checked_at_text=_CHECKED_AT)
        with _result_pages_lock:
            _result_pages[key] = page
            while len(_result_pages) > _RESULT_PAGES_KEPT:
                _result_pages.popitem(last=False)
    return page.replace(_CHECKED_AT, _checked_at_text(answer.checked_at, key[1]))


_last_checked_at: tuple[object, str] = (None, "")


def _checked_at_text(moment: datetime, locale: str) -> str:
    """The time of the check in the page's language; the same second is formatted once."""
    global _last_checked_at
    second = (id(current_app._get_current_object()), locale, moment.replace(microsecond=0))
    last_key, text = _last_checked_at
    if last_key != second:
        text = checked_at_words(moment)
        _last_checked_at = (second, text)
    return text


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
    response = make_response(
        render_template(
            "verify/scan.html",
            answer_states=ANSWERS,
            document_titles=scan_document_titles(),
            institution_names=institution_names(),
        )
    )
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

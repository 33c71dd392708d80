"""The public verification page, the typed lookup, the JSON API, privacy and rate limits."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import jsonschema
import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext

import verifier
from tests.factories import confirm_official
from web.certificates.keys import revoke_key
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
    revoke_certificate,
)
from web.extensions import db
from web.models import Certificate, Employee

TODAY = date.today()
LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
TITLES = {
    "valid_official": "Valid — official certificate",
    "valid_provisional": "Valid — provisional certificate",
    "not_yet_valid": "Not yet valid",
    "expired": "Expired",
    "withdrawn": "Withdrawn",
    "not_genuine": "Not genuine",
}


@pytest.fixture
def app_config():
    return {"VERIFY_PAGE_LIMIT": "100000 per minute"}


@pytest.fixture
def certificates(app, data):
    """One certificate in each state, by state name: (id, qr_text, verification code)."""
    company = data.company("Acme")
    employee_id = data.employee(
        company, family_name="Fernández García", given_names="María", birth_date="1987-03-14"
    )
    made = {}
    with app.app_context():
        employee = db.session.get(Employee, employee_id)

        def provisional(start, end):
            return issue_provisional_certificate(
                employee, CertificateInput("A1", "DE", ["FR", "BE"], start, end), actor=None
            )

        official_input = CertificateInput(
            "A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=30), "DE:DRV-BUND", "A1-2026-000123"
        )
        made["valid_official"] = confirm_official(
            import_official_certificate(employee, official_input, actor=None, document=None)
        )
        made["valid_provisional"] = provisional(
            TODAY - timedelta(days=1), TODAY + timedelta(days=30)
        )
        made["not_yet_valid"] = provisional(TODAY + timedelta(days=10), TODAY + timedelta(days=20))
        made["expired"] = provisional(TODAY - timedelta(days=40), TODAY - timedelta(days=10))
        made["withdrawn"] = provisional(TODAY, TODAY + timedelta(days=30))
        db.session.flush()
        revoke_certificate(made["withdrawn"], "Trip cancelled", actor=None)
        db.session.commit()
        out = {state: (c.id, c.qr_text, c.verification_code) for state, c in made.items()}
    valid = out["valid_provisional"][1]
    # Flip one character of the signature part: still Base32, no longer genuine.
    last = valid[-5]
    out["not_genuine"] = (None, valid[:-5] + ("A" if last != "A" else "B") + valid[-4:], None)
    return out


def _path(qr_text: str) -> str:
    return "/V/" + qr_text.split("/V/", 1)[1]


def _state(html: str) -> str:
    return re.search(r'data-state="(\w+)"', html).group(1)


def test_each_state_in_each_language(app, client, certificates):
    for lang in LANGUAGES:
        for state, (_id, text, _code) in certificates.items():
            response = client.get(_path(text) + f"?lang={lang}")
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert _state(html) == state, (lang, state)
            assert f'<html lang="{lang}">' in html
            with app.test_request_context(), force_locale(lang):
                title = babel_gettext(TITLES[state])
            assert re.search(r'<h1 id="answer-title"[^>]*>' + re.escape(title) + "</h1>", html), (
                lang,
                state,
            )
            if lang != "en":
                assert title != TITLES[state], f"{state} untranslated in {lang}"


def test_valid_page_shows_what_an_inspector_needs(client, certificates):
    html = client.get(_path(certificates["valid_provisional"][1])).get_data(as_text=True)
    for text in (
        "Fernández García",
        "FERNANDEZ GARCIA",
        "María",
        "MARIA",
        "March 14, 1987",
        "Germany (DE)",
        "France (FR)",
        "Belgium (BE)",
        "provisional",
        "not by an authority",
        "remains insured",
        "+49 30 1234 5678",
        "Checked on",
    ):
        assert text in html, text
    # Nothing beyond that: no email, no employer, no social security number.
    assert "@" not in re.sub(r"<[^>]+>", "", html).replace("(UTC)", "")
    assert "Acme" not in html
    official = client.get(_path(certificates["valid_official"][1])).get_data(as_text=True)
    assert "Deutsche Rentenversicherung Bund" in official and "A1-2026-000123" in official
    assert "authority's own document and register prevail" in official


def test_lower_case_path_and_full_url_in_path(client, certificates):
    text = certificates["valid_provisional"][1]
    assert (
        _state(client.get("/v/" + text.split("/V/", 1)[1]).get_data(as_text=True))
        == "valid_provisional"
    )


def test_withdrawn_with_good_signature_and_revoked_key(app, client, certificates):
    cert_id, text, _ = certificates["withdrawn"]
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        # The QR itself still verifies cryptographically: only the register says withdrawn.
        key_set = verifier.KeySet.from_document(client.get("/verify/keys.json").json)
        assert verifier.verify_qr_text(cert.qr_text, key_set).status == "valid"
    assert _state(client.get(_path(text)).get_data(as_text=True)) == "withdrawn"
    valid_text = certificates["valid_provisional"][1]
    with app.app_context():
        kid = db.session.get(Certificate, certificates["valid_provisional"][0]).signing_kid
        revoke_key(kid, "compromised")
        db.session.commit()
    assert _state(client.get(_path(valid_text)).get_data(as_text=True)) == "not_genuine"


def test_superseded_certificate_says_so(app, client, certificates):
    from web.certificates.services import extend_certificate

    cert_id, text, _ = certificates["valid_provisional"]
    with app.app_context():
        extend_certificate(
            db.session.get(Certificate, cert_id), TODAY + timedelta(days=90), actor=None
        )
        db.session.commit()
    html = client.get(_path(text)).get_data(as_text=True)
    # Genuine but replaced: never "valid", so the inspector asks for the newer one.
    assert _state(html) == "superseded" and "Superseded — a newer certificate exists" in html
    assert "A newer certificate replaces this one" in html and "answer-warn" in html


def test_mutated_tokens_never_valid_never_500(client, certificates):
    """10,000 mutations of a valid token (flips, truncations, insertions) against /V/."""
    token = certificates["valid_provisional"][1].split("/V/", 1)[1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abc=-_/%é"
    rng = random.Random(20261122)
    seen_states = set()
    for i in range(10_000):
        chars = list(token)
        kind = i % 4
        position = rng.randrange(len(chars))
        if kind == 0:
            chars[position] = rng.choice(alphabet.replace(chars[position], ""))
        elif kind == 1:
            del chars[position:]
        elif kind == 2:
            chars.insert(position, rng.choice(alphabet))
        else:
            chars[position], chars[-1 - position] = chars[-1 - position], chars[position]
        mutated = "".join(chars)
        if mutated.upper() == token:
            continue  # the same token spelled in lower case is the same token
        response = client.get("/V/" + mutated)
        # 308: a leading slash is merged by the router; 404: an empty token.
        assert response.status_code in (200, 308, 404), (mutated, response.status_code)
        if response.status_code == 200:
            state = _state(response.get_data(as_text=True))
            assert state not in ("valid_official", "valid_provisional"), mutated
            seen_states.add(state)
    # A flipped signature character is a forgery; a cut or shuffled text is merely unreadable.
    assert seen_states == {"not_genuine", "not_readable"}


# --- typed lookup ------------------------------------------------------------------------------


def _lookup(client, code, birth_date, lang=None):
    url = "/verify" + (f"?lang={lang}" if lang else "")
    return client.post(url, data={"code": code, "birth_date": birth_date})


def test_lookup_by_code_and_birth_date(client, certificates):
    code = certificates["valid_provisional"][2]
    formatted = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
    response = _lookup(client, formatted, "1987-03-14")
    assert response.status_code == 200
    assert _state(response.get_data(as_text=True)) == "valid_provisional"
    withdrawn = _lookup(client, certificates["withdrawn"][2], "1987-03-14")
    assert _state(withdrawn.get_data(as_text=True)) == "withdrawn"


def test_wrong_code_and_wrong_birth_date_answer_the_same(client, certificates):
    code = certificates["valid_provisional"][2]
    wrong_birth = _lookup(client, code, "1987-03-15")
    other = "".join("0" if c != "0" else "1" for c in code)
    wrong_code = _lookup(client, other, "1987-03-14")
    assert wrong_birth.status_code == wrong_code.status_code == 404

    def message(response):
        return re.search(r'id="lookup-error">(.*?)<', response.get_data(as_text=True)).group(1)

    assert message(wrong_birth) == message(wrong_code)


def test_lookup_form_errors_are_400(client):
    response = _lookup(client, "", "31.02.1990")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is required" in html and "is not a date" in html


def test_lookup_rate_limit_after_ten_failures(client, certificates):
    for _ in range(10):
        assert _lookup(client, "AAAA-AAAA-AAAA", "1980-01-01").status_code == 404
    blocked = _lookup(client, certificates["valid_provisional"][2], "1987-03-14")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    html = blocked.get_data(as_text=True)
    assert "You can try again at" in html and "data-retry-at=" in html
    assert "scan the QR code" in html and 'href="/verify/scan' in html
    assert 'src="/static/js/verify-retry.js"' in html
    assert blocked.headers.get("Set-Cookie") is None


def test_the_rate_limit_page_says_when_the_next_try_is_possible(client, certificates, monkeypatch):
    """The time comes from the limiter's window, not its length: two minutes after the failures,
    the next try is about eight minutes away (not "600 seconds"), and the page names that time."""
    import time as time_module

    # A frozen clock: on a loaded machine the failures may take over a second of real time,
    # which would move the window's end (the page then says 9 minutes, not 8).
    started = time_module.time()
    monkeypatch.setattr(time_module, "time", lambda: started)
    for _ in range(10):
        assert _lookup(client, "AAAA-AAAA-AAAA", "1980-01-01").status_code == 404
    monkeypatch.setattr(time_module, "time", lambda: started + 120)
    blocked = _lookup(client, certificates["valid_provisional"][2], "1987-03-14")
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 470 <= retry_after <= 481, retry_after
    html = blocked.get_data(as_text=True)
    retry_at = int(re.search(r'data-retry-at="(\d+)"', html).group(1))
    assert abs(retry_at - (started + 600)) <= 2
    assert "That is in 8 minutes." in html
    with_fr = client.post(
        "/verify?lang=fr", data={"code": "AAAA-AAAA-AAAA", "birth_date": "1980-01-01"}
    )
    assert with_fr.status_code == 429
    assert "Vous pourrez réessayer à" in with_fr.get_data(as_text=True)


def test_successful_lookups_are_not_counted_as_failures(client, certificates):
    code = certificates["valid_provisional"][2]
    for _ in range(15):
        assert _lookup(client, code, "1987-03-14").status_code == 200


# --- privacy -----------------------------------------------------------------------------------


def test_no_cookies_and_private_headers(client, certificates):
    text = certificates["valid_provisional"][1]
    code = certificates["valid_provisional"][2]
    responses = [
        client.get(_path(text)),
        client.get(_path(text) + "?lang=pl"),
        client.get("/verify"),
        _lookup(client, code, "1987-03-14"),
        _lookup(client, "AAAA-AAAA-AAAA", "1980-01-01"),
        client.get("/api/v1/verify/" + text.split("/V/", 1)[1]),
        client.get("/V/"),
    ]
    for response in responses:
        assert "Set-Cookie" not in response.headers, response.request.path
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert response.headers["Referrer-Policy"] == "no-referrer", response.request.path
    assert client.get_cookie("session") is None


def test_no_third_party_requests_and_print_stylesheet(client, certificates):
    html = client.get(_path(certificates["valid_official"][1])).get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", "?")) and not url.startswith("//"), url
    assert 'href="/static/css/print.css" media="print"' in html


def test_no_personal_data_in_logs(client, certificates, caplog):
    caplog.set_level("DEBUG")
    client.get(_path(certificates["valid_provisional"][1]))
    _lookup(client, certificates["valid_provisional"][2], "1987-03-14")
    for text in ("Fernández", "FERNANDEZ", "1987-03-14", certificates["valid_provisional"][2]):
        assert text not in caplog.text


# --- JSON --------------------------------------------------------------------------------------


def test_json_api_matches_the_page_and_the_schema(client, certificates):
    spec = client.get("/api/v1/openapi.json").json
    schema = spec["components"]["schemas"]["Verification"]
    for state, (_id, text, _code) in certificates.items():
        response = client.get("/api/v1/verify/" + text.split("/V/", 1)[1])
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json
        jsonschema.validate(body, schema)
        assert body["status"] == state
        assert ("details" in body) == (state != "not_genuine")
    full_url = client.get("/api/v1/verify/" + certificates["valid_official"][1]).json
    assert full_url["details"]["issuing_institution"] == "DE:DRV-BUND"


def test_a_token_with_a_new_line_is_answered_not_readable_not_404(client, certificates):
    """What a scanner read is always answered; werkzeug's path converter said 404 to a new line."""
    token = certificates["valid_provisional"][1].split("/V/", 1)[1]
    for broken in (token[:20] + "\n" + token[20:], token + "\r\n"):
        response = client.get("/V/" + broken.replace("\n", "%0A").replace("\r", "%0D"))
        assert response.status_code == 200, broken
        assert _state(response.get_data(as_text=True)) == "not_readable"


# --- key classes -------------------------------------------------------------------------------


def test_an_official_record_signed_by_the_provisional_key_is_not_genuine(app, client, data):
    """The forged "official" of issue 12: genuinely signed with the provider's key, but with the
    key that signs provisional statements. /V/ and the API answer not genuine, show nothing of
    the holder; the same record signed by the official key is valid."""
    from web.certificates.keys import active_signing_key, private_key_of
    from web.certificates.services import claims_for, sign_certificate
    from web.models import CertificateStatus
    from web.verify.services import verify_for_inspector

    employee_id = data.employee(data.company(), family_name="Invented", given_names="Institution")
    certificate_id = data.certificate(employee_id, kind="official").id
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        certificate.status = CertificateStatus.ACTIVE.value
        provisional_key = active_signing_key("provisional")
        forged = verifier.qr_text(
            verifier.sign_certificate(claims_for(certificate), private_key_of(provisional_key)),
            app.config["PUBLIC_BASE_URL"],
        )
        certificate.qr_text, certificate.signing_kid = forged, provisional_key.kid
        db.session.commit()
        assert verify_for_inspector(forged).reason == "kind_mismatch"
    token = forged.split("/V/", 1)[1]
    html = client.get("/V/" + token).get_data(as_text=True)
    assert _state(html) == "not_genuine"
    assert "Invented" not in html and "DE:DRV-BUND" not in html
    api = client.get("/api/v1/verify/" + token).json
    assert api["status"] == "not_genuine" and "details" not in api
    # A third party with the published lists says the same.
    keys = verifier.KeySet.from_document(client.get("/verify/keys.json").json)
    assert verifier.verify_qr_text(forged, keys).status == "kind_mismatch"

    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        sign_certificate(certificate)  # as the reviewer's confirmation does: the official key
        db.session.commit()
        genuine = certificate.qr_text
    assert _state(client.get(_path(genuine)).get_data(as_text=True)) == "valid_official"
    assert client.get("/api/v1/verify/" + genuine.split("/V/", 1)[1]).json["status"] == (
        "valid_official"
    )


# --- the public page's words (issue: names the provider, not readable vs not genuine) ----------


def test_the_page_names_the_provider_that_runs_it(app, client, certificates):
    provider = app.config["PROVIDER_NAME"]
    html = client.get(_path(certificates["valid_provisional"][1])).get_data(as_text=True)
    assert f'<span class="brand">Certificate check — {provider}</span>' in html
    forged = client.get(_path(certificates["not_genuine"][1])).get_data(as_text=True)
    assert f"format of {provider}" in forged and "not issued by us" not in forged


def test_not_readable_is_not_not_genuine(client, certificates):
    """Garbage or a cut-off scan must never call the worker's certificate a forgery."""
    valid = _path(certificates["valid_provisional"][1])
    for text in ("hello world", "HELLO", valid.split("/V/", 1)[1][:40]):
        html = client.get("/V/" + text).get_data(as_text=True)
        assert _state(html) == "not_readable", text
        assert "Not readable" in html and "Not genuine" not in html
        assert "Type the verification code instead" in html and 'href="/verify?lang=en"' in html
        assert "answer-warn" in html and "Fernández" not in html
    forged = client.get(_path(certificates["not_genuine"][1])).get_data(as_text=True)
    assert _state(forged) == "not_genuine" and "answer-bad" in forged
    assert "Type the verification code instead" not in forged
    api = client.get("/api/v1/verify/hello").json
    assert api["status"] == "not_readable" and "details" not in api
    for lang in LANGUAGES[1:]:
        html = client.get(f"/V/hello?lang={lang}").get_data(as_text=True)
        assert "Not readable" not in html, lang  # translated


def test_institution_by_name_with_its_code_in_small_print_and_dates_in_words(client, certificates):
    html = client.get(_path(certificates["valid_official"][1])).get_data(as_text=True)
    assert "Deutsche Rentenversicherung" in html
    assert '<small class="code" data-slot="issuer_code">DE:DRV-BUND</small>' in html
    assert "DE:DRV-BUND," not in html
    de = client.get(_path(certificates["valid_provisional"][1]) + "?lang=de").get_data(as_text=True)
    assert "14. März 1987" in de
    pl = client.get(_path(certificates["valid_provisional"][1]) + "?lang=pl").get_data(as_text=True)
    assert "14 marca 1987" in pl


def test_a_provisional_is_never_titled_like_the_official_form(client, certificates):
    for lang in LANGUAGES:
        html = client.get(_path(certificates["valid_provisional"][1]) + f"?lang={lang}").get_data(
            as_text=True
        )
        document = re.search(r'data-slot="document">(.*?)</dd>', html).group(1)
        for official_name in ("Portable Document A1", "Certificat A1", "Bescheinigung A1", "PD A1"):
            assert official_name not in document, (lang, document)


def test_a_page_kept_for_speed_still_answers_the_live_status(app, client, certificates):
    """The rendered page is reused per answer, but the answer is computed per request: a
    withdrawal shows on the very next scan, and the time of the check is always today's."""
    certificate_id, text, _code = certificates["valid_provisional"]
    first = client.get(_path(text)).get_data(as_text=True)
    assert _state(first) == "valid_provisional"
    with app.app_context():
        revoke_certificate(db.session.get(Certificate, certificate_id), "lost", actor=None)
        db.session.commit()
    second = client.get(_path(text)).get_data(as_text=True)
    assert _state(second) == "withdrawn"
    assert "\ue000" not in second and "Checked on" in second


def test_the_offline_verifier_uses_the_same_answer_markup(client, certificates):
    """/verify/scan carries verify/_answer.html itself (empty, in a <template>), with the same
    labels as /V/, and the words and tones of every answer from the same macros."""
    scan = client.get("/verify/scan?lang=nl").get_data(as_text=True)
    template = re.search(r'<template id="scan-answer">(.*?)</template>', scan, re.S).group(1)
    page = client.get(_path(certificates["valid_provisional"][1]) + "?lang=nl").get_data(
        as_text=True
    )
    labels = re.findall(r"<dt>(.*?)</dt>", page)
    assert labels and labels == re.findall(r"<dt>(.*?)</dt>", template)[: len(labels)]
    assert 'id="answer-title"' in template and 'data-slot="issuer_code"' in template
    for state in ("not_readable", "not_genuine", "valid_official"):
        assert f'data-text="title_{state}"' in scan
    assert 'data-code="DE:DRV-BUND">Deutsche Rentenversicherung' in scan


def test_a_token_verified_before_still_meets_a_revoked_key_and_its_dates(app, certificates):
    """Each worker remembers tokens that verified, but the key's row is read on every scan: a
    key revoked after a scan fails the next one, and a remembered token still expires."""
    from datetime import UTC, datetime

    from web.verify.services import verify_for_inspector

    _id, text, _code = certificates["valid_provisional"]
    with app.test_request_context():
        assert verify_for_inspector(text).state == "valid_provisional"
        assert verify_for_inspector(text).state == "valid_provisional"  # remembered
        later = datetime.combine(TODAY + timedelta(days=60), datetime.min.time(), UTC)
        assert verify_for_inspector(text, now=later).state == "expired"
        earlier = datetime.combine(TODAY - timedelta(days=60), datetime.min.time(), UTC)
        assert verify_for_inspector(text, now=earlier).state == "not_yet_valid"
        certificate = db.session.get(Certificate, _id)
        revoke_key(certificate.signing_kid, "compromised")
        db.session.commit()
        answer = verify_for_inspector(text)
        assert answer.state == "not_genuine" and answer.reason == "key_revoked"


def test_each_accept_language_gets_its_own_page_language(client, certificates):
    """The language choice is remembered per Accept-Language header (web/i18n.py): phones with
    different headers, one after the other, each get their own language, every time."""
    text = certificates["valid_provisional"][1]
    headers = ["de-DE,de;q=0.9", "fr-FR,fr;q=0.9,en;q=0.5", "de-DE,de;q=0.9", "pl", "xx", "es"]
    expected = ["de", "fr", "de", "pl", "en", "es"]
    for accept, lang in zip(headers * 2, expected * 2, strict=True):
        html = client.get(_path(text), headers={"Accept-Language": accept}).get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, accept


def test_a_repeated_scan_never_loads_a_sign_in(app, client, certificates, monkeypatch):
    """A scan whose page is already rendered does not read the session's sign-in (the busiest
    request; the enrolment gate looks at the route first), and still answers a signed-in
    visitor. (Rendering a page loads it: flask-login's template context.)"""
    from web.extensions import login_manager

    loaded = []
    original = login_manager._user_callback
    monkeypatch.setattr(
        login_manager, "_user_callback", lambda user_id: loaded.append(user_id) or original(user_id)
    )
    text = certificates["valid_provisional"][1]
    app.test_client().get(_path(text))  # rendered once, by someone without a session
    with client.session_transaction() as session:
        session["_user_id"] = "1"  # whatever it names: the page must not look
    response = client.get(_path(text))
    assert response.status_code == 200 and _state(response.get_data(as_text=True))
    assert loaded == []
    client.get("/login")  # a page that does look: the stub above is what flask-login calls
    assert loaded == ["1"]

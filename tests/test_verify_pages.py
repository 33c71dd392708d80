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
        made["valid_official"] = import_official_certificate(
            employee, official_input, actor=None, document=None
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
            assert f'<h1 id="answer-title">{title}</h1>' in html, (lang, state)
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
    assert "DE:DRV-BUND" in official and "A1-2026-000123" in official
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
    assert _state(html) == "valid_provisional" and "A newer certificate replaces this one" in html


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
    assert seen_states == {"not_genuine"}


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
    assert "try again in" in blocked.get_data(as_text=True)
    assert blocked.headers.get("Set-Cookie") is None


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


def test_a_token_with_a_new_line_is_answered_not_genuine_not_404(client, certificates):
    """What a scanner read is always answered; werkzeug's path converter said 404 to a new line."""
    token = certificates["valid_provisional"][1].split("/V/", 1)[1]
    for broken in (token[:20] + "\n" + token[20:], token + "\r\n"):
        response = client.get("/V/" + broken.replace("\n", "%0A").replace("\r", "%0D"))
        assert response.status_code == 200, broken
        assert _state(response.get_data(as_text=True)) == "not_genuine"

"""The employee's wallet: pages, ordering, coverage, inspector view, settings, PWA files."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import confirm_official
from tests.helpers import post_form
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
    revoke_certificate,
)
from web.extensions import db
from web.models import Employee, SignIn, User

TODAY = date.today()


@pytest.fixture
def wallet(app, data):
    company = data.company("Acme")
    employee_id = data.employee(company, email="anna@example.com")
    other_id = data.employee(company, email="other@example.com")
    trip_fr = data.trip(
        employee_id,
        destination="FR",
        start=TODAY - timedelta(days=2),
        end=TODAY + timedelta(days=5),
    )
    trip_ch = data.trip(
        employee_id,
        destination="CH",
        start=TODAY + timedelta(days=10),
        end=TODAY + timedelta(days=12),
    )
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        other = db.session.get(Employee, other_id)

        def provisional(who, states, start, end):
            return issue_provisional_certificate(
                who, CertificateInput("A1", "DE", states, start, end), actor=None
            )

        certs = {
            "fr": provisional(
                employee, ["FR"], TODAY - timedelta(days=5), TODAY + timedelta(days=60)
            ),
            "expiring": provisional(
                employee, ["BE"], TODAY - timedelta(days=5), TODAY + timedelta(days=6)
            ),
            "expired": provisional(
                employee, ["IT"], TODAY - timedelta(days=90), TODAY - timedelta(days=60)
            ),
            "future": provisional(
                employee, ["ES"], TODAY + timedelta(days=30), TODAY + timedelta(days=40)
            ),
            "withdrawn": provisional(employee, ["NL"], TODAY, TODAY + timedelta(days=9)),
            "official": confirm_official(
                import_official_certificate(
                    employee,
                    CertificateInput(
                        "A1",
                        "DE",
                        ["FR"],
                        TODAY - timedelta(days=5),
                        TODAY + timedelta(days=30),
                        "DE:DRV-BUND",
                        "REF-1",
                    ),
                    actor=None,
                    document=None,
                )
            ),
            "others": provisional(other, ["FR"], TODAY, TODAY + timedelta(days=9)),
        }
        db.session.flush()
        revoke_certificate(certs["withdrawn"], "wrong country", actor=None)
        db.session.commit()
        ids = {key: c.id for key, c in certs.items()}
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    return {"client": client, "ids": ids, "trip_fr": trip_fr, "trip_ch": trip_ch}


def test_home_lists_current_certificates_first_with_chips(wallet):
    html = wallet["client"].get("/wallet/").get_data(as_text=True)
    ids = wallet["ids"]
    order = [m for m in re.findall(r"/wallet/certificates/(\w{16})\"", html) if m in ids.values()]
    position = {key: order.index(cid) for key, cid in ids.items() if cid in order}
    assert ids["others"] not in order  # only one's own
    current = max(position["fr"], position["expiring"], position["official"])
    assert current < position["future"] < position["expired"] < position["withdrawn"]
    assert "Ends in 6 days" in html and "Expired" in html and "Withdrawn" in html
    assert "Valid · provisional" in html and "Not yet valid" in html


def test_trips_show_coverage(wallet):
    html = wallet["client"].get("/wallet/").get_data(as_text=True)
    fr_card = html.split("France ·", 1)[1].split("</li>", 1)[0]
    assert (
        "Covered" in fr_card and "A1 certificate" in fr_card and "Provisional" not in fr_card
    )  # official before provisional
    ch_card = html.split("Switzerland ·", 1)[1].split("</li>", 1)[0]
    assert "Not covered" in ch_card and "tel:+493012345678" in ch_card


def test_certificate_page_and_fragment(wallet):
    client, cert = wallet["client"], wallet["ids"]["official"]
    page = client.get(f"/wallet/certificates/{cert}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    # An official certificate keeps its direct QR.
    assert 'class="qr"' in html and "Verification code" in html
    assert re.search(
        r'aria-label="QR code: A1 certificate\. Verification code \w{4}-\w{4}-\w{4}\."', html
    )
    fragment = client.get(f"/wallet/certificates/{cert}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and 'class="qr"' in fragment.get_data(
        as_text=True
    )
    assert "HX-Request" in fragment.headers["Vary"]


def test_provisional_qr_only_after_the_deliberate_step(wallet):
    client, cert = wallet["client"], wallet["ids"]["fr"]
    html = client.get(f"/wallet/certificates/{cert}").get_data(as_text=True)
    # Its details and the rule, but no QR and no code on its own page.
    assert 'class="qr"' not in html and "verification-code" not in html
    assert "Show this only when an authority asks." in html
    assert "Provisional statement of social security coverage" in html
    assert "while the official certificate is requested" in html
    step_url = f"/wallet/certificates/{cert}/show"
    assert f'href="{step_url}"' in html
    step = client.get(step_url).get_data(as_text=True)
    assert 'class="qr"' not in step
    assert "only when an authority" in step
    # Two ways on: the ask button (alerts support) for this very statement, or without alerting.
    assert (
        f'data-ask data-certificate-id="{cert}" href="/wallet/certificates/{cert}/inspector"'
        in step
    )
    assert "Show it without alerting support" in step
    inspector = client.get(f"/wallet/certificates/{cert}/inspector").get_data(as_text=True)
    assert 'class="qr"' in inspector
    # The step is kept for offline use with the certificate.
    home = client.get("/wallet/").get_data(as_text=True)
    assert step_url in home
    # An official certificate has no such step.
    official = wallet["ids"]["official"]
    response = client.get(f"/wallet/certificates/{official}/show")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/wallet/certificates/{official}")


ALL_LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
# The official form's names, any language: none may name a provisional statement.
OFFICIAL_NAMES = re.compile(
    r"portable document|document portable|\bPD ?A1|bescheinigung|draagbaar|portatile|portátil|"
    r"przenośny|\bA1\b",
    re.IGNORECASE,
)


def _without_disclaimer(html: str) -> str:
    """The h1 and <title> of a page, without the words that say what it is *not*."""
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    heading = re.sub(r'<span class="title-not">.*?</span>', "", heading, flags=re.S)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).replace("A1 Wallet", "")
    return re.sub(r"<[^>]+>", " ", heading) + " | " + title


def test_provisional_titles_never_name_the_official_form(app, wallet):
    from flask_babel import force_locale

    from web.certificates.titles import document_short_title, document_title
    from web.models import Certificate

    client, cert = wallet["client"], wallet["ids"]["fr"]
    for lang in ALL_LANGUAGES:
        html = client.get(f"/wallet/certificates/{cert}/inspector?lang={lang}").get_data(
            as_text=True
        )
        named = _without_disclaimer(html)
        assert not OFFICIAL_NAMES.search(named), (lang, named)
        assert 'class="title-not"' in html, lang  # it says what it is not
    with app.test_request_context():
        provisional = db.session.get(Certificate, cert)
        official = db.session.get(Certificate, wallet["ids"]["official"])
        names = set()
        for lang in ALL_LANGUAGES:
            with force_locale(lang):
                title = document_title(provisional)
                names.add(title.name)
                assert not OFFICIAL_NAMES.search(title.name), (lang, title.name)
                assert title.not_official and "A1" in title.not_official, lang
                assert str(title).startswith(title.name), lang
                short = document_short_title(provisional)
                assert not OFFICIAL_NAMES.search(short.split("(")[0]), (lang, short)
                assert "A1" in document_title(official).name, lang
        assert len(names) == len(ALL_LANGUAGES)  # translated in every language
    # The employee's pages (their own language: the app's three) and the cards.
    for lang in ("en", "fr", "de"):
        with app.app_context():
            db.session.get(User, _user_id(app, "anna@example.com")).locale = lang
            db.session.commit()
        html = client.get(f"/wallet/certificates/{cert}").get_data(as_text=True)
        assert not OFFICIAL_NAMES.search(_without_disclaimer(html)), lang
        home = client.get("/wallet/").get_data(as_text=True)
        card = home.split(f'/wallet/certificates/{cert}"', 1)[1].split("</span>", 2)[0]
        assert not OFFICIAL_NAMES.search(card.split("(")[0]), (lang, card)


def test_expiry_push_names_a_provisional_statement_as_such(app, wallet):
    from flask_babel import force_locale

    from web.models import Certificate
    from web.push.reminders import _expiry_message

    with app.test_request_context():
        cert = db.session.get(Certificate, wallet["ids"]["fr"])
        for lang in ("en", "fr", "de"):
            with force_locale(lang):
                message = _expiry_message(cert, 3, "/wallet/")
            before = message.body.split("(")[0]
            assert not OFFICIAL_NAMES.search(before), (lang, message.body)
            assert not re.search(r"\d{4}-\d{2}-\d{2}", message.body), message.body  # month in words


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def test_another_employees_certificate_is_404(wallet):
    client, other = wallet["client"], wallet["ids"]["others"]
    assert client.get(f"/wallet/certificates/{other}").status_code == 404
    assert client.get(f"/wallet/certificates/{other}/inspector").status_code == 404
    assert client.get("/wallet/certificates/NOSUCHCERTIFICA").status_code == 404


def test_inspector_view_speaks_the_host_countrys_language(wallet):
    client, cert = wallet["client"], wallet["ids"]["fr"]
    html = client.get(f"/wallet/certificates/{cert}/inspector").get_data(as_text=True)
    # The current trip is in France: French by default.
    assert '<html lang="fr">' in html
    assert 'aria-current="true">Français' in html
    for lang in ("de", "nl", "it", "es", "pl", "en"):
        page = client.get(f"/wallet/certificates/{cert}/inspector?lang={lang}").get_data(
            as_text=True
        )
        assert f'<html lang="{lang}">' in page, lang
    assert "data-wake-lock" in html and 'class="qr"' in html


def test_official_pdf_link_only_when_there_is_one(app, wallet):
    html = (
        wallet["client"]
        .get(f"/wallet/certificates/{wallet['ids']['official']}")
        .get_data(as_text=True)
    )
    assert "Deutsche Rentenversicherung Bund" in html and "Open the authority" not in html


def test_offline_urls_list_current_certificates(wallet):
    html = wallet["client"].get("/wallet/").get_data(as_text=True)
    urls = re.search(r"data-urls='([^']*)'", html).group(1)
    ids = wallet["ids"]
    for key in ("fr", "expiring", "future", "official"):
        assert f"/wallet/certificates/{ids[key]}" in urls, key
        assert f"/wallet/certificates/{ids[key]}/inspector" in urls, key
    for key in ("expired", "withdrawn", "others"):
        assert ids[key] not in urls, key


def test_settings_location_consent(app, wallet):
    client = wallet["client"]
    html = client.get("/wallet/settings").get_data(as_text=True)
    assert 'name="consent"' in html and "checked" not in html.split('name="consent"')[0][-200:]
    post_form(client, "/wallet/settings/location", {"consent": "y"}, token_from="/wallet/settings")
    with app.app_context():
        assert db.session.scalar(
            select(User.location_consent).where(User.email == "anna@example.com")
        )
    post_form(client, "/wallet/settings/location", {}, token_from="/wallet/settings")
    with app.app_context():
        assert not db.session.scalar(
            select(User.location_consent).where(User.email == "anna@example.com")
        )
    assert "Devices signed in" in html and "Sign out everywhere" in html


def test_offline_logout_token_revokes_only_that_sign_in(app, wallet):
    client = wallet["client"]
    html = client.get("/wallet/").get_data(as_text=True)
    token = re.search(r'data-logout-token="([^"]+)"', html).group(1)
    other_phone = app.test_client()
    AuthActions(other_phone).login("anna@example.com")
    assert app.test_client().post("/logout/device", json={"token": "nonsense"}).status_code == 204
    assert client.get("/wallet/").status_code == 200
    response = app.test_client().post("/logout/device", json={"token": token})
    assert response.status_code == 204 and '"storage"' in response.headers["Clear-Site-Data"]
    assert client.get("/wallet/").status_code == 302
    assert other_phone.get("/wallet/").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(SignIn).where(SignIn.logout_token == token)).revoked_at


def test_wallet_is_for_employees_only(app, data):
    company = data.company()
    from web.models import Role

    data.user(Role.EMPLOYER_ADMIN, company, email="boss@example.com")
    client = app.test_client()
    AuthActions(client).login("boss@example.com")
    assert client.get("/wallet/").status_code == 403
    assert client.get("/wallet/settings").status_code == 403


def test_manifest_is_installable(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.json
    assert body["display"] == "standalone" and body["start_url"] == "/wallet/"
    assert body["name"] and body["short_name"] and body["theme_color"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(image.data[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "(\w+)"', body).group(1)
    assert len(version) == 12
    for path in ("/static/css/app.css", "/static/vendor/htmx-2.0.11.min.js", "/offline"):
        assert f'"{path}"' in body
    never = re.search(r"const NEVER = /(.*)/;", body).group(1)
    for prefix in ("login", "logout", "admin", "support", "operator", "verify", "V", "api"):
        assert prefix in never, prefix
    assert client.get("/offline").status_code == 200


def test_invitation_signs_the_new_employee_in(app, data):
    from web.auth.services import INVITE, issue_action_token

    company = data.company("Invited GmbH")
    employee_id = data.employee(company, email="new.hire@example.com", password=None)
    with app.test_request_context():
        token = issue_action_token(db.session.get(Employee, employee_id).user, INVITE)
        db.session.commit()
    client = app.test_client()
    assert client.get(f"/invitation/{token}").headers["Location"] == "/choose-password"
    form = client.get("/choose-password").get_data(as_text=True)
    assert "shared device" in form
    response = post_form(
        client,
        "/choose-password",
        {"password": "a long passphrase of mine", "confirm": "a long passphrase of mine"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/wallet/"
    home = client.get("/wallet/")
    assert home.status_code == 200  # signed in, no login form in between
    html = home.get_data(as_text=True)
    # An empty wallet says what happens next: who asks for certificates, whom to ask.
    assert "What happens next" in html and "Invited GmbH" in html
    assert "No trip is planned for you yet" in html and "HR team" in html
    with app.app_context():
        user = db.session.get(Employee, employee_id).user
        sign_in = db.session.scalar(select(SignIn).where(SignIn.user_id == user.id))
        assert sign_in is not None and sign_in.remember  # their own phone keeps the wallet


def test_employee_header_is_one_row_without_a_language_picker(app, wallet):
    html = wallet["client"].get("/wallet/").get_data(as_text=True)
    header = html.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]
    assert "lang-picker" not in header  # the language lives in Settings
    assert 'id="settings-lang"' in wallet["client"].get("/wallet/settings").get_data(as_text=True)
    # Sign out asks first, in a dialog that says what is wiped; still a CSRF POST.
    dialog = html.split('<dialog id="sign-out-dialog"', 1)[1].split("</dialog>", 1)[0]
    assert 'method="post"' in dialog and 'name="csrf_token"' in dialog
    assert "wiped" in dialog
    # Dates with the month in words, in English and in German (whose "medium" is 02.12.2026).
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", html)
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", html)
    with app.app_context():
        db.session.get(User, _user_id(app, "anna@example.com")).locale = "de"
        db.session.commit()
    german = wallet["client"].get("/wallet/").get_data(as_text=True)
    assert not re.search(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b", german)
    assert re.search(r"\d{1,2}\. [A-Z][a-zä]{2}\.? \d{4}", german)


def test_uncovered_trip_says_why_in_the_coverage_checks_words(app, data):
    from flask_babel import force_locale

    from web.coverage.explain import text
    from web.models import Trip
    from web.trips.follow_up import check_trip_coverage
    from web.trips.records import trip_coverage

    company = data.company("Far Away GmbH")
    employee_id = data.employee(company, email="far@example.com")
    trip_id = data.trip(
        employee_id,
        destination="TH",
        start=TODAY + timedelta(days=3),
        end=TODAY + timedelta(days=9),
    )
    with app.test_request_context():
        trip = db.session.get(Trip, trip_id)
        check_trip_coverage(trip, actor=None)
        db.session.commit()
        assert trip.coverage_type == "none_no_treaty"
        with force_locale("en"):
            summary = text(trip_coverage(trip)["explanation"]["summary"])
    client = app.test_client()
    AuthActions(client).login("far@example.com")
    html = client.get("/wallet/").get_data(as_text=True)
    assert summary and summary in html.replace("&#39;", "'")
    assert "If an authority asks, call support." in html


def _inspector_texts(html: str) -> set[str]:
    """The inspector's part of the view: its visible text segments (the employee's bar, the
    back link and the brightness hint are the employee's, in the employee's language)."""
    html = re.sub(r'<section id="ask-status".*?</section>', "", html, flags=re.S)
    html = re.sub(r'<p class="brightness-hint".*?</p>', "", html, flags=re.S)
    html = re.sub(r"<(script|style|head)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r'<ul class="language-links">.*?</ul>', "", html, flags=re.S)  # names
    texts = {t.strip() for t in re.split(r"<[^>]+>", html)}
    return {t for t in texts if len(re.findall(r"[A-Za-z][a-z]{2,}", t)) >= 2}  # words, not codes


def test_inspector_part_is_translated_in_every_language(wallet):
    client = wallet["client"]
    for key in ("fr", "official"):
        url = f"/wallet/certificates/{wallet['ids'][key]}/inspector"
        english = _inspector_texts(client.get(f"{url}?lang=en").get_data(as_text=True))
        assert len(english) > 12
        for lang in ("fr", "de", "nl", "it", "es", "pl"):
            other = _inspector_texts(client.get(f"{url}?lang={lang}").get_data(as_text=True))
            # Names of people, institutions and the provider are the same in every language.
            left = {
                t for t in english & other if not re.search(r"A1 Wallet|Rentenversicherung|\+49", t)
            }
            assert left == set(), (key, lang, left)

"""The employee's wallet: pages, ordering, coverage, inspector view, settings, PWA files."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
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
            "official": import_official_certificate(
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
    assert "Covered" in fr_card and "A1 · official" in fr_card  # official before provisional
    ch_card = html.split("Switzerland ·", 1)[1].split("</li>", 1)[0]
    assert "Not covered" in ch_card and "tel:+493012345678" in ch_card


def test_certificate_page_and_fragment(wallet):
    client, cert = wallet["client"], wallet["ids"]["fr"]
    page = client.get(f"/wallet/certificates/{cert}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert 'class="qr"' in html and "Verification code" in html
    assert "show it only when an authority asks" in html
    assert re.search(
        r'aria-label="QR code of the certificate\. Verification code \w{4}-\w{4}-\w{4}\."', html
    )
    fragment = client.get(f"/wallet/certificates/{cert}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and 'class="qr"' in fragment.get_data(
        as_text=True
    )
    assert "HX-Request" in fragment.headers["Vary"]


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
    assert "DE:DRV-BUND" in html and "Open the authority" not in html


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

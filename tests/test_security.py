"""Security headers on every route, CSRF on every state change, cookie flags."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, base_config
from web.models import Role


def _get_urls(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            yield rule.rule
    yield "/static/css/app.css"
    yield "/no-such-page"


@pytest.mark.parametrize("role", [None, "employee", "employer_admin"])
def test_headers_on_every_route(app, data, role):
    client = app.test_client()
    if role:
        company = data.company()
        if role == "employee":
            email = data.email_of_employee(data.employee(company))
        else:
            email = "hdr-admin@example.com"
            data.user(Role.EMPLOYER_ADMIN, company, email=email)
        AuthActions(client).login(email)
    urls = list(_get_urls(app))
    assert len(urls) > 5
    for url in urls:
        response = client.get(url)
        csp = response.headers.get("Content-Security-Policy", "")
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        ), url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"], url
        assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://a1.example.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style(app, data, client):
    import re

    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="inline@example.com")
    AuthActions(client).login("inline@example.com")
    for url in ("/admin/employees", "/admin/employees/new", "/admin/trips", "/account"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url
        assert "hx-on" not in html, url


def test_post_without_csrf_token_is_refused(app, data, client):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="csrf@example.com")
    AuthActions(client).login("csrf@example.com")
    for url in ("/admin/employees/new", "/account/sign-out-everywhere", "/logout", "/language"):
        response = client.post(url, data={"email": "x@example.com"})
        assert response.status_code == 400, url
        assert b"form expired" in response.data
    assert client.get("/admin/employees").status_code == 200  # still signed in: nothing happened


def test_login_without_csrf_token_is_refused(client, data):
    company = data.company()
    email = data.email_of_employee(data.employee(company))
    response = client.post("/login", data={"email": email, "password": "correct horse battery"})
    assert response.status_code == 400


def test_htmx_csrf_header_is_accepted(app, data, client):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="hx@example.com")
    AuthActions(client).login("hx@example.com")
    from tests.helpers import csrf_token

    token = csrf_token(client, "/account")
    response = client.post(
        "/language", data={"lang": "de"}, headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 302


def test_cookie_flags_over_https(tmp_path, database_url):
    from app import create_app

    app = create_app(
        {
            **base_config(tmp_path, database_url),
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
        }
    )
    client = app.test_client()
    response = client.get("/login", base_url="https://a1.example.test")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_errors_are_translated_pages_not_500(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    json_response = client.get("/api/v1/nothing")
    assert json_response.status_code == 404 and json_response.json["status"] == 404

"""Security headers on every route, CSRF on every state change, cookie flags."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, base_config
from tests.helpers import csrf_token
from web.models import Role

FORBIDDEN_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:")
ALLOWED_REFERRER_POLICIES = {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}
HEADER_ACTORS = ["anonymous", "employee", "employer_admin_a", "support", "operator"]


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response, where, *, personal: bool) -> None:
    """The headers every answer carries, whatever its route, method or status."""
    csp = _csp(response)
    assert csp, ("no Content-Security-Policy", where)
    for name in ("default-src", "script-src", "style-src"):
        assert csp.get(name) == ["'self'"], (name, csp.get(name), where)
    for name, sources in csp.items():
        if name != "img-src":
            assert not set(sources) & set(FORBIDDEN_SOURCES), (name, sources, where)
        else:
            assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, where
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert csp.get("object-src") == ["'none'"] and csp.get("base-uri") == ["'none'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in ALLOWED_REFERRER_POLICIES, where
    assert "Strict-Transport-Security" not in response.headers, where  # plain http here
    if personal:
        assert "no-store" in response.headers.get("Cache-Control", ""), (
            response.headers.get("Cache-Control"),
            where,
        )


@pytest.mark.parametrize("actor_name", HEADER_ACTORS)
def test_headers_on_every_route(app, data, actor_name):
    """Every rule of the URL map, with every method, with real objects, as five actors:
    answers of every kind (pages, redirects, JSON, files, 4xx) carry the headers, and every
    answer of a signed-in area or page shown to a signed-in user is never stored."""
    from tests.test_access import ACTORS, make_world, url_for_route
    from web.access import access_table

    actor = next(a for a in ACTORS if a.name == actor_name)
    world = make_world(app, data)
    client = app.test_client()
    if actor.email:
        assert AuthActions(client).login(actor.email).status_code == 302
    token = csrf_token(client, "/account" if actor.email else "/login")
    statuses = set()
    checked = 0
    for route in access_table(app):
        for rule in app.url_map.iter_rules(route.endpoint):
            if rule.rule != route.rule:
                continue
            url = url_for_route(app, rule, world[actor.home or "a"])
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(
                    url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
                )
                # A public page showing the signed-in user's navigation is personal too.
                shows_user = response.mimetype == "text/html" and b'action="/logout"' in (
                    response.data
                )
                personal = not route.public or shows_user
                assert_security_headers(
                    response, (actor_name, method, url, response.status_code), personal=personal
                )
                statuses.add(response.status_code)
                checked += 1
                if actor.email and route.endpoint in {"auth.logout", "auth.sign_out_everywhere"}:
                    AuthActions(client).login(actor.email)
                    token = csrf_token(client, "/account")
    assert checked == sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in app.url_map.iter_rules()), (
        "every rule and method"
    )
    assert {200, 302} <= statuses, statuses
    assert statuses & {400, 401, 403, 404, 405, 422}, statuses


def test_headers_on_error_responses(app, data, client):
    """404, 405, CSRF 400, 401 JSON, 403, 413, 429 and 500 answers carry the same headers."""
    from web.access import public

    @app.route("/test-boom")
    @public
    def boom():
        raise RuntimeError("boom")

    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="errors@example.com")
    assert AuthActions(client).login("errors@example.com").status_code == 302
    app.config["LOGIN_LIMIT_PER_CLIENT"] = "1 per 10 minutes"
    anonymous = app.test_client()
    answers = {
        "404": anonymous.get("/no-such-page"),
        "404 json": anonymous.get("/api/v1/nothing"),
        "405": anonymous.get("/logout"),
        "400 csrf": anonymous.post("/language", data={"lang": "de"}),
        "401 json": anonymous.post("/api/v1/determinations", json={}),
        "401 htmx": anonymous.get("/admin/employees", headers={"HX-Request": "true"}),
        "500": anonymous.get("/test-boom"),
        "413": anonymous.post("/login", data=b"x" * (13 * 1024 * 1024)),
    }
    AuthActions(anonymous).login("errors@example.com", "wrong one")
    answers["429"] = AuthActions(anonymous).login("errors@example.com", "wrong again")
    answers["403"] = client.get("/wallet/")
    answers["404 signed in"] = client.get("/admin/employees/999999")
    answers["404 signed in, no route"] = client.get("/no-such-page")
    expected = {
        "404": 404,
        "404 json": 404,
        "405": 405,
        "400 csrf": 400,
        "401 json": {400, 401},
        "401 htmx": 401,
        "500": 500,
        "413": 413,
        "429": 429,
        "403": 403,
        "404 signed in": 404,
        "404 signed in, no route": 404,
    }
    for name, response in answers.items():
        wanted = expected[name]
        assert response.status_code in (wanted if isinstance(wanted, set) else {wanted}), (
            name,
            response.status_code,
        )
        personal = "signed in" in name or name == "403"
        assert_security_headers(response, name, personal=personal)


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


def test_row_ids_beyond_the_integer_range_are_not_found(client, auth, data):
    """PostgreSQL's INTEGER ends at 2**31 - 1: a larger id in a URL is an unknown id (404),
    never an overflow error (found by the API fuzzer on /api/v1/trips/<id>/declaration)."""
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="hr-ids@example.com")
    auth.login("hr-ids@example.com")
    for path in ("/api/v1/trips/2147483648/declaration", "/admin/trips/2147483648"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/trips/2147483647/declaration").status_code == 404

"""No inline script or style anywhere: the CSP (script-src/style-src 'self') would block it.

Three nets, each parsed with html.parser:
1. every route and method of the URL map, as five actors with real objects (and every GET again
   as an htmx request, for the fragments);
2. every template file rendered on its own (missing variables render empty);
3. every template file's source, Jinja tags blanked out.
Every template file must be seen by the first or the second net, so none escapes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jinja2
import pytest
from flask import render_template

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from tests.test_access import ACTORS, make_world, url_for_route
from web.access import access_table
from web.auth.services import INVITE, RESET, issue_action_token
from web.config import PROJECT_ROOT
from web.extensions import db
from web.models import User

TEMPLATES = PROJECT_ROOT / "templates"
TEMPLATE_NAMES = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
WALK_ACTORS = ["anonymous", "employee", "employer_admin_a", "support", "operator"]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class InlineFinder(HTMLParser):
    """Collects inline script and style: <script> without src, <style>, style="…", on…="…"
    handlers (and htmx's hx-on, which evaluates code), javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not (names.get("src") or "").strip():
            self.problems.append(f"<script> without src: {self.get_starttag_text()}")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'style="{value}" on <{tag}>')
            elif re.fullmatch(r"on[a-z]+", name) or re.match(r"(data-)?hx-on", name):
                self.problems.append(f"event handler {name}= on <{tag}>")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name}= on <{tag}>")

    handle_startendtag = handle_starttag


def inline_problems(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def test_the_finder_finds_what_it_looks_for():
    bad = (
        "<script>alert(1)</script><script src=''></script><style>p{}</style>"
        '<p style="color:red">x</p><a href=" JavaScript:go()">x</a>'
        '<button onclick="go()">x</button><img src="x.png" onerror="go()"/>'
        '<div hx-on:click="go()"></div><div data-hx-on-click="go()"></div>'
    )
    assert len(inline_problems(bad)) == 9, inline_problems(bad)
    good = (
        '<script src="/static/js/app.js" defer></script><link rel="stylesheet" href="/x.css">'
        '<p class="online" data-one="1">style= onclick=</p><a href="/javascript:">ok</a>'
    )
    assert inline_problems(good) == []


def _record_loaded_templates(app) -> set[str]:
    """Names of the templates the app loads (pages, their bases, includes, macro files)."""
    loaded: set[str] = set()
    loader = app.jinja_env.loader
    original = loader.get_source

    def get_source(environment, template):
        loaded.add(template)
        return original(environment, template)

    loader.get_source = get_source
    return loaded


def _walk(app, world, actor) -> dict[str, list[str]]:
    """Every route and method as ``actor``; the inline problems of each HTML answer."""
    client = app.test_client()
    if actor.email:
        assert AuthActions(client).login(actor.email).status_code == 302
    token = csrf_token(client, "/account" if actor.email else "/login")
    found: dict[str, list[str]] = {}
    pages = 0
    for route in access_table(app):
        if route.endpoint == "static":
            continue
        for rule in app.url_map.iter_rules(route.endpoint):
            if rule.rule != route.rule:
                continue
            url = url_for_route(app, rule, world[actor.home or "a"])
            requests = [(m, {}) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
            if "GET" in rule.methods:
                requests.append(("GET", {"HX-Request": "true"}))
            for method, headers in requests:
                response = client.open(
                    url,
                    method=method,
                    data={"csrf_token": token},
                    headers={"X-CSRFToken": token, **headers},
                )
                if response.mimetype == "text/html" and response.data:
                    pages += 1
                    problems = inline_problems(response.get_data(as_text=True))
                    if problems:
                        found[f"{actor.name} {method} {url} {headers}"] = problems
                if actor.email and route.endpoint in {"auth.logout", "auth.sign_out_everywhere"}:
                    AuthActions(client).login(actor.email)
                    token = csrf_token(client, "/account")
    assert pages > 10, (actor.name, pages)
    return found


def _extra_pages(app, data, world) -> dict[str, list[str]]:
    """Pages the walk reaches only with real data: a signed certificate's wallet and
    verification pages, one-time links, search results, a form with errors, the login page
    with a message, a public page's error."""
    found: dict[str, list[str]] = {}
    cert = data.certificate(world["a"]["employee"])
    employee = app.test_client()
    AuthActions(employee).login("employee-a@example.com")
    admin = app.test_client()
    AuthActions(admin).login("admin-a@example.com")
    anonymous = app.test_client()
    token = csrf_token(admin, "/account")
    scanned = "/V/" + cert.qr_text.rsplit("/V/", 1)[1]
    with app.test_request_context():
        user = db.session.get(User, world["users"]["employee-b@example.com"])
        invitation = issue_action_token(user, INVITE)
        reset = issue_action_token(user, RESET)
        db.session.commit()
    responses = {
        "wallet home": employee.get("/wallet/"),
        "wallet certificate": employee.get(f"/wallet/certificates/{cert.id}"),
        "wallet inspector": employee.get(f"/wallet/certificates/{cert.id}/inspector"),
        "wallet settings": employee.get("/wallet/settings"),
        "verification": anonymous.get(scanned),
        "verification in French": anonymous.get(scanned + "?lang=fr"),
        "admin certificate": admin.get(f"/admin/certificates/{cert.id}"),
        "admin employee": admin.get(f"/admin/employees/{world['a']['employee']}"),
        "admin search": admin.get("/admin/employees?q=employee", headers={"HX-Request": "1"}),
        "admin trips": admin.get(f"/admin/trips?employee={world['a']['employee']}"),
        "invitation": anonymous.get(f"/invitation/{invitation}"),
        "password reset": anonymous.get(f"/reset-password/{reset}"),
        "verification error": anonymous.get("/verify/no-such-page"),
        "admin form errors": admin.post(
            "/admin/employees/new", data={"csrf_token": token, "email": "not an email"}
        ),
        "login failed": anonymous.post(
            "/login",
            data={
                "csrf_token": csrf_token(anonymous, "/login"),
                "email": "nobody@example.com",
                "password": "wrong password",
            },
        ),
    }
    for name, response in responses.items():
        assert response.status_code < 500, (name, response.status_code)
        if response.mimetype == "text/html":
            problems = inline_problems(response.get_data(as_text=True))
            if problems:
                found[name] = problems
    return found


class LenientUndefined(jinja2.ChainableUndefined):
    """A missing variable renders as nothing, whatever the template does with it."""

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __int__(self) -> int:
        return 0

    def __lt__(self, other) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __add__(self, other):
        return self

    __radd__ = __sub__ = __rsub__ = __mul__ = __mod__ = __truediv__ = __add__


def _render_alone(app, name: str) -> str | None:
    """``name`` rendered with no variables (None when it cannot be, e.g. a filter needs data)."""
    try:
        with app.test_request_context("/"):
            return render_template(name)
    except Exception:  # a template that needs real data: the walk covers it
        return None


def test_no_inline_script_or_style_on_any_page_or_template(app, data):
    """The route walk as five actors, pages that need real data, then each template file
    rendered alone; every file in templates/ must have been rendered by one of them."""
    loaded = _record_loaded_templates(app)
    world = make_world(app, data)
    found: dict[str, list[str]] = {}
    for name in WALK_ACTORS:
        found.update(_walk(app, world, next(a for a in ACTORS if a.name == name)))
    found.update(_extra_pages(app, data, world))
    walked = set(loaded)
    assert len(walked) > len(TEMPLATE_NAMES) // 2, sorted(walked)
    app.jinja_env.undefined = LenientUndefined
    alone = set()
    for name in TEMPLATE_NAMES:
        html = _render_alone(app, name)
        if html is not None:
            alone.add(name)
            if problems := inline_problems(html):
                found[f"{name} rendered alone"] = problems
    assert found == {}
    never_rendered = sorted(set(TEMPLATE_NAMES) - alone - walked)
    assert never_rendered == [], (
        "templates neither reached by the route walk nor renderable alone: "
        "give the walk data that reaches them"
    )


JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_source_has_no_inline_script_or_style(name):
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    # Jinja tags blanked, so `{% if one %}` is not read as an attribute "one".
    assert inline_problems(JINJA.sub(" x ", source)) == [], name

"""Small helpers shared by tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from web.extensions import db

_CSRF_RE = re.compile(
    r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|name="csrf-token" content="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the page at ``path`` (every page carries one in a meta tag)."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def post_form(
    client: FlaskClient,
    path: str,
    data: dict | None = None,
    *,
    token_from: str | None = None,
    **kwargs,
):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def vectors_module():
    """The test-vector script (fixed keys, sample claims), loaded by path once, so tests work
    whatever pytest's import mode is."""
    import importlib.util
    import sys
    from pathlib import Path

    name = "a1w1_make_vectors"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "vectors" / "make_vectors.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def capture_mail(monkeypatch) -> list[dict[str, str]]:
    """Mail sent by the account code (factor changes, attack reports), kept in a list."""
    from web.mail import MailResult

    sent: list[dict[str, str]] = []

    def fake_send_mail(to: str, subject: str, body: str) -> MailResult:
        sent.append({"to": to, "subject": str(subject), "body": str(body)})
        return MailResult(delivered=True)

    for module in ("web.auth.throttle", "web.auth.factors"):
        monkeypatch.setattr(f"{module}.send_mail", fake_send_mail)
    return sent


def status_via_published_lists(client: FlaskClient, app, certificate_id: str) -> str:
    """What a third-party verifier answers after downloading keys.json and revoked.json."""
    import verifier
    from web.extensions import db
    from web.models import Certificate

    keys = verifier.KeySet.from_document(client.get("/verify/keys.json").json)
    revoked = verifier.RevocationSet.from_document(client.get("/verify/revoked.json").json)
    with app.app_context():
        text = db.session.get(Certificate, certificate_id).qr_text
    return verifier.verify_qr_text(text, keys, revoked).status


INVITATION_LINK_RE = re.compile(r'value="(https?://[^"]+/invitation/[^"]+)"')


def create_invitation_link(client: FlaskClient, employee_id: int) -> str:
    """As an employer admin without a mail server: "Create invitation link" on the employee's
    page; returns the link shown (once) in the answer."""
    page = f"/admin/employees/{employee_id}"
    response = post_form(client, f"{page}/invitation-link", token_from=page)
    assert response.status_code == 200, response.status_code
    match = INVITATION_LINK_RE.search(response.get_data(as_text=True))
    assert match, "no invitation link shown"
    return match.group(1)


@contextmanager
def recorded_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the block runs, in order: a page's or a function's query count."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@contextmanager
def empty_database(tmp_path, schema: str) -> Iterator[str]:
    """An empty database of this run's kind, for a migration's transition test: a SQLite file,
    or on PostgreSQL a schema of its own (dropped afterwards)."""
    from tests.conftest import TEST_DATABASE_URL
    from web.config import normalise_database_url

    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'transition.sqlite3'}"
        return
    engine = sa.create_engine(normalise_database_url(TEST_DATABASE_URL))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()

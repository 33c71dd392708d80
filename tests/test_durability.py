"""Durability: acknowledged writes survive `kill -9`, and retried writes happen once.

The first tests check the idempotency of provisional certificate issuance (a hidden form field
or an `Idempotency-Key` header; replays, concurrent replays, a key reused for other content).
The last one starts gunicorn on this run's database (SQLite, or PostgreSQL with
TEST_DATABASE_URL), has phones send alerts (`POST /ask`) and admins issue provisional
certificates from several threads, each write with an idempotency key, and kills the whole
server with SIGKILL at least five times while they run. A client retries every request that was
not answered, with the same key, until it is. Afterwards every acknowledged write is in the
database with the id the client was given, none is there twice, and SQLite's
`PRAGMA integrity_check` says ok.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_DATABASE_URL, AuthActions
from tests.factories import PASSWORD
from tests.gunicorn_server import Gunicorn
from tests.helpers import csrf_token
from web.certificates.keys import active_signing_key
from web.extensions import db
from web.models import (
    AuditEvent,
    Certificate,
    Employee,
    Incident,
    IncidentTap,
    OutboxMessage,
    PushSubscription,
    Role,
    Trip,
)

ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()
KEY_FIELD_ANY_ORDER = re.compile(
    r'<input[^>]*name="idempotency_key"[^>]*value="([^"]*)"|'
    r'<input[^>]*value="([^"]*)"[^>]*name="idempotency_key"'
)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CERT_LOCATION = re.compile(r"/admin/certificates/([0-9A-Z]{16})$")


# --- idempotent issuance through the employer console ------------------------------------------


@pytest.fixture
def console(app, data):
    company = data.company("Durable GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@durable.example")
    employee = data.employee(company, email="worker@durable.example")
    trip = data.trip(
        employee, destination="FR", start=TODAY - timedelta(days=1), end=TODAY + timedelta(days=20)
    )
    client = app.test_client()
    AuthActions(client).login("admin@durable.example")
    return {"client": client, "trip": trip, "employee": employee, "company": company}


def _form_key(html: str) -> str:
    match = KEY_FIELD_ANY_ORDER.search(html)
    assert match, "no idempotency_key field in the certificate form"
    return match.group(1) or match.group(2)


def _issue(client, trip_id: int, key: str | None, *, header: bool = False, **changes):
    path = f"/admin/trips/{trip_id}/certificates/provisional"
    form = {
        "csrf_token": csrf_token(client, path),
        "document_type": "A1",
        "legislation_state": "DE",
        "work_states": "FR",
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_to": (TODAY + timedelta(days=20)).isoformat(),
        **changes,
    }
    headers = {}
    if key is not None and header:
        headers["Idempotency-Key"] = key
    elif key is not None:
        form["idempotency_key"] = key
    return client.post(path, data=form, headers=headers)


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        certificates = db.session.scalar(select(func.count()).select_from(Certificate))
        issued = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "certificate.issued")
        )
        return certificates, issued


def test_the_form_carries_a_fresh_uuid_each_time_it_is_rendered(console):
    client, trip = console["client"], console["trip"]
    path = f"/admin/trips/{trip}/certificates/provisional"
    first = _form_key(client.get(path).get_data(as_text=True))
    second = _form_key(client.get(path).get_data(as_text=True))
    assert str(uuid.UUID(first)) == first and str(uuid.UUID(second)) == second
    assert first != second


@pytest.mark.parametrize("header", [False, True], ids=["form-field", "header"])
def test_a_replayed_issue_redirects_to_the_certificate_already_issued(app, console, header):
    client, trip = console["client"], console["trip"]
    key = str(uuid.uuid4())
    first = _issue(client, trip, key, header=header)
    again = _issue(client, trip, key, header=header)
    assert first.status_code == 302 and again.status_code == 302
    assert CERT_LOCATION.search(first.headers["Location"])
    assert again.headers["Location"] == first.headers["Location"]
    assert _counts(app) == (1, 1)
    certificate_id = CERT_LOCATION.search(first.headers["Location"]).group(1)
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).idempotency_key == key
    # A new key is a new certificate; no key at all too (as before).
    assert _issue(client, trip, str(uuid.uuid4()), header=header).status_code == 302
    assert _issue(client, trip, None).status_code == 302
    assert _counts(app) == (3, 3)


def test_a_key_reused_for_other_content_is_refused(app, console):
    client, trip = console["client"], console["trip"]
    key = str(uuid.uuid4())
    assert _issue(client, trip, key).status_code == 302
    other = _issue(client, trip, key, valid_to=(TODAY + timedelta(days=10)).isoformat())
    assert other.status_code == 422
    assert "already used to issue another certificate" in other.get_data(as_text=True)
    bad = _issue(client, trip, "not-a-uuid")
    assert bad.status_code == 422
    assert _counts(app) == (1, 1)


def test_concurrent_replays_issue_one_certificate(app, console):
    client, trip = console["client"], console["trip"]
    key = str(uuid.uuid4())
    path = f"/admin/trips/{trip}/certificates/provisional"
    token = csrf_token(client, path)
    cookie = client.get_cookie("session").value
    form = {
        "csrf_token": token,
        "idempotency_key": key,
        "document_type": "A1",
        "legislation_state": "DE",
        "work_states": "FR",
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=20)).isoformat(),
    }
    locations: list[str] = []
    start = threading.Barrier(8)

    def send() -> None:
        other = app.test_client()
        other.set_cookie("session", cookie)
        start.wait()
        response = other.post(path, data=form)
        locations.append(f"{response.status_code} {response.headers.get('Location', '')}")

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(locations) == 8 and len(set(locations)) == 1, locations
    assert locations[0].startswith("302 ")
    assert _counts(app) == (1, 1)


def test_the_loser_of_a_race_returns_the_winners_certificate(app, console, monkeypatch):
    """The key is free when the request looks, taken when it inserts: IntegrityError, rollback,
    and the certificate the other request issued."""
    import web.certificates.services as services

    real_check = services._check_issue_rate
    winner: list[str] = []

    def other_request_wins(actor) -> None:
        if winner or threading.current_thread() is not threading.main_thread():
            return real_check(actor)  # the other request itself, or after it won

        def issue() -> None:
            with app.app_context():
                employee = db.session.get(Employee, console["employee"])
                trip = db.session.get(Trip, console["trip"])
                cert = services.issue_provisional_certificate(
                    employee, data, actor=None, trip=trip, idempotency_key=key
                )
                db.session.commit()
                winner.append(cert.id)

        thread = threading.Thread(target=issue)
        thread.start()
        thread.join()
        return real_check(actor)

    key = str(uuid.uuid4())
    data = services.CertificateInput(
        "A1", "DE", ["FR"], TODAY - timedelta(days=1), TODAY + timedelta(days=20)
    )
    monkeypatch.setattr(services, "_check_issue_rate", other_request_wins)
    with app.app_context():
        employee = db.session.get(Employee, console["employee"])
        trip = db.session.get(Trip, console["trip"])
        cert = services.issue_provisional_certificate(
            employee, data, actor=None, trip=trip, idempotency_key=key
        )
        db.session.commit()
        loser = cert.id
    assert winner and loser == winner[0]
    assert _counts(app) == (1, 1)


def test_keys_are_unique_per_company_not_across_companies(app, data, console):
    from web.certificates.services import CertificateInput, issue_provisional_certificate

    other_company = data.company("Other SARL")
    other_employee = data.employee(other_company, email="worker@other.example")
    key = str(uuid.uuid4())
    made = CertificateInput("A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=3))
    with app.app_context():
        ids = set()
        for employee_id in (console["employee"], other_employee, console["employee"]):
            employee = db.session.get(Employee, employee_id)
            ids.add(issue_provisional_certificate(employee, made, actor=None, idempotency_key=key))
            db.session.commit()
        assert len({c.id for c in ids}) == 2
    assert _counts(app) == (2, 2)


def test_what_a_savepoint_wrote_is_committed_only_with_its_transaction(app, data):
    """open_incident and the certificate services flush inside a savepoint. On SQLite, pysqlite
    sends no BEGIN before a SAVEPOINT; without one the RELEASE commits at once, and a crash (or
    a rollback) before the real commit keeps the row without the rest of its unit of work (an
    incident without its outbox message and audit event: seen after kill -9 below)."""
    company = data.company("Atomic AG")
    with app.app_context():
        db.session.execute(select(func.count()).select_from(Certificate))  # reads come first
        savepoint = db.session.begin_nested()
        db.session.add(AuditEvent(action="durability.probe", company_id=company))
        db.session.flush()
        savepoint.commit()
        with db.engine.connect() as other:  # another connection sees only what is committed
            seen = other.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "durability.probe")
            ).scalar()
        db.session.rollback()
        kept = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "durability.probe")
        )
    assert (seen, kept) == (0, 0)


# --- gunicorn, killed with SIGKILL while clients write -----------------------------------------

PHONES = 3
ADMINS = 2
KILLS = 5
WORKERS = 2


class Server(Gunicorn):
    """gunicorn (own process group: SIGKILL takes the master and its workers at once), counting
    its kills."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(env, workers=WORKERS, options=("--graceful-timeout", "2"), log=log)
        self.kills = 0

    def kill(self) -> None:
        super().kill()
        self.kills += 1


class Unanswered(Exception):
    """No complete answer: the server was down, or died before or while answering."""


@dataclass
class Session:
    """A browser: cookies, one new connection per request (a killed server leaves none open)."""

    port: int
    ledger: Ledger
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            with self.ledger.lock:
                self.ledger.unanswered += 1
            raise Unanswered(str(exc)) from exc
        finally:
            connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if response.status >= 500:
            # Never expected: a killed server answers nothing. Recorded, then retried.
            self.ledger.problems.append(f"{method} {path}: HTTP {response.status}")
            raise Unanswered(f"HTTP {response.status}")
        return response.status, response.getheader("Location") or "", text

    def retry(self, stop: float, method: str, path: str, body=None, headers=None):
        """The same request until it is answered (a phone's outbox, a browser's resubmit)."""
        while True:
            try:
                return self.request(method, path, body, headers)
            except Unanswered:
                if time.monotonic() > stop:
                    raise
                time.sleep(0.05)

    def login(self, email: str, stop: float) -> None:
        while True:
            _status, _location, html = self.retry(stop, "GET", "/login")
            form = urlencode(
                {"email": email, "password": PASSWORD, "csrf_token": CSRF_META.search(html)[1]}
            )
            status, location, _ = self.retry(
                stop,
                "POST",
                "/login",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            if status == 302 and "/login" not in location:
                return
            assert time.monotonic() < stop, f"login of {email} failed: {status}"


@dataclass
class Ledger:
    """What the clients were told: acknowledged writes, by key."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    alerts: dict[str, int] = field(default_factory=dict)  # key → incident id
    certificates: dict[str, str] = field(default_factory=dict)  # key → certificate id
    sent_keys: set[str] = field(default_factory=set)
    replays_checked: int = 0
    unanswered: int = 0  # requests the clients sent again because no answer came
    problems: list[str] = field(default_factory=list)


def _phone(port: int, email: str, ledger: Ledger, running: threading.Event, stop: float):
    session = Session(port, ledger)
    session.login(email, stop)
    csrf = None
    while running.is_set():
        while csrf is None:
            _s, _l, html = session.retry(stop, "GET", "/wallet/")
            match = CSRF_META.search(html)
            csrf = match[1] if match else None
        key = str(uuid.uuid4())
        with ledger.lock:
            ledger.sent_keys.add(key)
        headers = {
            "Idempotency-Key": key,
            "X-CSRFToken": csrf,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        status, _l, text = session.retry(stop, "POST", "/ask", "{}", headers)
        if status not in (200, 201):
            ledger.problems.append(f"POST /ask answered {status}: {text[:200]}")
            return
        incident_id = json.loads(text)["id"]
        with ledger.lock:
            ledger.alerts[key] = incident_id
        if random.random() < 0.2:  # a replay of an answered alert finds the same incident
            status, _l, text = session.retry(stop, "POST", "/ask", "{}", headers)
            with ledger.lock:
                ledger.replays_checked += 1
                if status != 200 or json.loads(text)["id"] != incident_id:
                    ledger.problems.append(f"replayed alert: {status} {text[:200]}")
        time.sleep(random.uniform(0, 0.05))


def _admin(port: int, email: str, trip_id: int, ledger: Ledger, running, stop: float):
    session = Session(port, ledger)
    session.login(email, stop)
    path = f"/admin/trips/{trip_id}/certificates/provisional"
    while running.is_set():
        _s, _l, html = session.retry(stop, "GET", path)
        key = _form_key(html)
        with ledger.lock:
            ledger.sent_keys.add(key)
        form = urlencode(
            {
                "csrf_token": CSRF_META.search(html)[1],
                "idempotency_key": key,
                "document_type": "A1",
                "legislation_state": "DE",
                "work_states": "FR",
                "valid_from": TODAY.isoformat(),
                "valid_to": (TODAY + timedelta(days=30)).isoformat(),
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, location, text = session.retry(stop, "POST", path, form, headers)
        match = CERT_LOCATION.search(location)
        if status != 302 or not match:
            ledger.problems.append(f"issue answered {status} {location}: {text[:200]}")
            return
        with ledger.lock:
            ledger.certificates[key] = match[1]
        if random.random() < 0.2:  # the browser's "resubmit the form?"
            status, again, _t = session.retry(stop, "POST", path, form, headers)
            with ledger.lock:
                ledger.replays_checked += 1
                if again != location:
                    ledger.problems.append(f"replayed issue went to {again}, not {location}")
        time.sleep(random.uniform(0, 0.05))


@pytest.fixture
def seeded(app, data):
    """Companies, admins, employees on trips, an on-duty agent with a phone; the signing key."""
    company = data.company("Kill Nine GmbH")
    admins, phones, trips = [], [], []
    for n in range(ADMINS):
        email = f"admin{n}@killnine.example"
        data.user(Role.EMPLOYER_ADMIN, company, email=email)
        admins.append(email)
    for n in range(max(PHONES, ADMINS)):
        email = f"worker{n}@killnine.example"
        employee = data.employee(company, email=email)
        trips.append(
            data.trip(
                employee,
                destination="FR",
                start=TODAY - timedelta(days=3),
                end=TODAY + timedelta(days=30),
            )
        )
        phones.append(email)
    agent = data.user(Role.SUPPORT, None, email="agent@provider.example")
    with app.app_context():
        active_signing_key("provisional")  # made once here, not raced for by the first requests
        db.session.add(
            PushSubscription(
                user_id=agent,
                endpoint="https://fcm.googleapis.com/agent",
                endpoint_hash="a" * 64,
                p256dh="x",
                auth="y",
            )
        )
        db.session.commit()
        db.engine.dispose()
    return {"admins": admins, "phones": phones[:PHONES], "trips": trips[:ADMINS]}


def test_acknowledged_writes_survive_kill_9_and_retries_write_once(
    app, seeded, database_url, tmp_path
):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "durability-test",
        "A1W_INSTANCE_PATH": str(tmp_path / "instance"),  # the test app's keys and secrets
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "SESSION_COOKIE_SECURE": "0",
        # Thousands of writes a minute from six clients: no limit may refuse them here.
        "RATELIMIT_ENABLED": "0",
        "PROVISIONAL_ISSUE_LIMIT_PER_HOUR": "1000000",
        "LOG_LEVEL": "ERROR",
    }
    server = Server(env, tmp_path / "gunicorn.log")
    port = server.port
    ledger = Ledger()
    running = threading.Event()
    running.set()
    stop = time.monotonic() + 50  # no request is retried past this (the test fails instead)
    errors: list[BaseException] = []

    def run(target, *args) -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)

    server.start()
    threads = [
        threading.Thread(target=run, args=(_phone, port, email, ledger, running, stop))
        for email in seeded["phones"]
    ] + [
        threading.Thread(target=run, args=(_admin, port, email, trip, ledger, running, stop))
        for email, trip in zip(seeded["admins"], seeded["trips"], strict=True)
    ]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(random.uniform(0.6, 1.2))  # clients are writing all the while
            server.kill()
            time.sleep(random.uniform(0.0, 0.3))  # down for a moment: clients retry
            server.start()
        time.sleep(0.5)
        running.clear()  # no new writes; the ones under way are retried until answered
        for thread in threads:
            thread.join(timeout=60)
    finally:
        running.clear()
        server.stop()
    elapsed = time.monotonic() - started
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert not ledger.problems, ledger.problems[:5]

    with app.app_context():
        # Taps of one phone join its open incident: each acknowledged key is a tap row of the
        # incident it was answered with.
        taps = dict(
            db.session.execute(select(IncidentTap.idempotency_key, IncidentTap.incident_id)).all()
        )
        tap_rows = db.session.scalar(select(func.count()).select_from(IncidentTap))
        certificates = dict(
            db.session.execute(
                select(Certificate.idempotency_key, Certificate.id).where(
                    Certificate.idempotency_key.is_not(None)
                )
            ).all()
        )
        incident_rows = db.session.scalar(select(func.count()).select_from(Incident))
        certificate_rows = db.session.scalar(select(func.count()).select_from(Certificate))
        opened = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "incident.opened")
        )
        issued = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "certificate.issued")
        )
        pushes = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "alert")
        )
        db.engine.dispose()

    acknowledged = len(ledger.alerts) + len(ledger.certificates)
    lost = [k for k, i in ledger.alerts.items() if taps.get(k) != i] + [
        k for k, c in ledger.certificates.items() if certificates.get(k) != c
    ]
    # Each row has a key a client sent; a key is at most one row; side effects happened once.
    duplicates = (tap_rows - len(taps)) + (certificate_rows - len(certificates))
    strangers = (set(taps) | set(certificates)) - ledger.sent_keys
    summary = (
        f"{elapsed:.0f} s, {server.kills} kills, {acknowledged} acknowledged writes "
        f"({len(ledger.alerts)} alerts, {len(ledger.certificates)} certificates), "
        f"{ledger.unanswered} requests retried after no answer, "
        f"{ledger.replays_checked} replays of answered writes, "
        f"{tap_rows + certificate_rows - acknowledged} written but unacknowledged, "
        f"{len(lost)} lost, {duplicates} duplicates"
    )
    print(f"\ndurability ({'PostgreSQL' if TEST_DATABASE_URL else 'SQLite'}): {summary}")
    assert server.kills >= 5
    assert len(ledger.alerts) >= 20 and len(ledger.certificates) >= 10, summary
    assert lost == [], f"acknowledged but not in the database: {lost[:5]} ({summary})"
    assert duplicates == 0 and not strangers, summary
    assert ledger.unanswered >= server.kills, summary  # the kills did hit requests
    assert opened == incident_rows and pushes == incident_rows, (opened, pushes, summary)
    assert issued == certificate_rows, (issued, summary)
    if not TEST_DATABASE_URL:
        path = database_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()

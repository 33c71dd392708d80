"""Retention (web/jobs/retention.py): rows older than each limit go, newer ones stay, and
`retention run --dry-run` prints what would go and changes nothing. Runs on SQLite, and on
PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.factories import tiny_pdf
from web.declarations.services import (
    declaration_of,
    inspection_bundle_for_trip,
    record_filing,
    save_standard_form,
)
from web.extensions import db
from web.jobs.retention import (
    DECLARATION_PERSONAL_FIELDS,
    apply_retention,
    certificate_claims_cutoff,
    declaration_cutoff,
)
from web.models import (
    AuditEvent,
    Certificate,
    EmployeeImport,
    Incident,
    IncidentNote,
    MailOutboxMessage,
    OutboxMessage,
    Role,
    SignIn,
    Trip,
    User,
    utcnow,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_certificates_are_kept_to_the_end_of_the_fifth_calendar_year() -> None:
    # Ended in 2021: kept through 2026, cleared from 1 January 2027.
    assert certificate_claims_cutoff(date(2026, 12, 31), 5) == date(2021, 1, 1)
    assert certificate_claims_cutoff(date(2027, 1, 1), 5) == date(2022, 1, 1)


def test_declarations_are_kept_two_years_after_the_trip() -> None:
    # A trip that ended on 1 December 2024 keeps its receipt through 1 December 2026.
    assert declaration_cutoff(date(2026, 12, 2), 2) == date(2024, 12, 2)
    assert declaration_cutoff(date(2028, 2, 29), 2) == date(2026, 2, 28)


FORM = {
    "provider_registration": "HRB 12345",
    "provider_address": "Hauptstraße 1, 10115 Berlin",
    "recipient_name": "Chantier Dupont SARL",
    "recipient_address": "3 rue de la Paix, 75002 Paris",
    "workplace_address": "12 avenue Foch, 69006 Lyon",
    "sector": "construction",
    "contact_name": "Marie Dupont",
    "contact_email": "marie.dupont@example.com",
    "contact_phone": "+33 6 12 34 56 78",
    "contact_address": "5 place Bellecour, 69002 Lyon",
}


def _filed_declaration(app, data, employee_id: int, admin_id: int, end: date) -> int:
    """A trip to France that ended on ``end``, its declaration filed with a PDF receipt and the
    standard form filled in, through the services the trip page uses."""
    trip_id = data.trip(employee_id, "FR", end - timedelta(days=9), end)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        admin = db.session.get(User, admin_id)
        record_filing(
            trip,
            filed_on=(end - timedelta(days=10)).isoformat(),
            receipt_number="SIPSI-42",
            receipt=tiny_pdf(),
            filename="sipsi.pdf",
            actor=admin,
            today=end,
        )
        save_standard_form(trip, FORM, actor=admin)
        db.session.commit()
    return trip_id


def _seed(app, data) -> dict[str, object]:
    """For each rule, one row just past its limit and one just within it."""
    company = data.company()
    employee_id = data.employee(company)
    admin_id = data.user(Role.EMPLOYER_ADMIN, company)
    # Kept two years after the trip's last day: 2 December 2024 is the first day kept.
    trips = {
        "trip_3y": date(2023, 11, 30),
        "trip_2y_1d": date(2024, 12, 1),
        "trip_2y": date(2024, 12, 2),
        "trip_1y": date(2025, 12, 1),
    }
    trip_ids = {
        name: _filed_declaration(app, data, employee_id, admin_id, end)
        for name, end in trips.items()
    }
    old_cert = data.certificate(employee_id, start=date(2020, 3, 1), end=date(2020, 12, 31))
    new_cert = data.certificate(employee_id, start=date(2021, 3, 1), end=date(2021, 6, 30))
    agent = data.user(Role.SUPPORT)
    ids: dict[str, object] = {"old_cert": old_cert.id, "new_cert": new_cert.id, **trip_ids}
    with app.app_context():
        user_id = db.session.scalar(select(User.id).join(User.employee))
        documents = Path(app.config["DOCUMENTS_PATH"])
        (documents / "1").mkdir(parents=True, exist_ok=True)
        for name in ("old_cert", "new_cert"):
            cert = db.session.get(Certificate, ids[name])
            cert.document_path = f"1/{cert.id}.pdf"
            cert.document_filename = "a1.pdf"
            cert.withdrawal_reason = "trip cancelled"
            (documents / cert.document_path).write_bytes(b"%PDF-1.7 test")

        def incident(key: str, tapped: datetime, **fields) -> int:
            row = Incident(
                company_id=company,
                employee_id=employee_id,
                user_id=user_id,
                idempotency_key=key,
                tapped_at=tapped,
                created_at=tapped,
                **{"latitude": 48.85, "longitude": 2.35, **fields},
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        ids["located_old"] = incident("k1", NOW - timedelta(days=31))
        ids["located_new"] = incident("k2", NOW - timedelta(days=29))
        ids["closed_old"] = incident(
            "k3",
            NOW - timedelta(days=800),
            status="resolved",
            resolved_at=datetime(2024, 12, 1, tzinfo=UTC),
            latitude=None,
            longitude=None,
        )
        ids["closed_new"] = incident(
            "k4",
            NOW - timedelta(days=800),
            status="resolved",
            resolved_at=datetime(2024, 12, 3, tzinfo=UTC),
            latitude=None,
            longitude=None,
        )
        ids["open_old"] = incident(
            "k5", NOW - timedelta(days=800), latitude=None, longitude=None
        )  # never resolved: stays
        db.session.add(IncidentNote(incident_id=ids["closed_old"], author_id=agent, text="called"))
        db.session.add(IncidentNote(incident_id=ids["closed_new"], author_id=agent, text="called"))

        def message(status: str, age_days: int) -> int:
            row = OutboxMessage(
                user_id=user_id,
                kind="alert",
                title="Anna Müller",
                body="-",
                url="/",
                status=status,
                created_at=NOW - timedelta(days=age_days),
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        ids["dead_old"] = message("dead", 31)
        ids["sent_old"] = message("sent", 31)
        ids["dead_new"] = message("dead", 29)
        ids["pending_old"] = message("pending", 31)  # still to send: never deleted

        def sign_in(name: str, last_seen_days: int, revoked_days: int | None) -> None:
            db.session.add(
                SignIn(
                    id=name,
                    user_id=user_id,
                    created_at=NOW - timedelta(days=200),
                    last_seen_at=NOW - timedelta(days=last_seen_days),
                    revoked_at=NOW - timedelta(days=revoked_days)
                    if revoked_days is not None
                    else None,
                )
            )

        def mail(status: str, age_days: int) -> int:
            row = MailOutboxMessage(
                user_id=admin_id,
                template="reminder_decl_due",
                subject="Declaration for Anna Müller in France",
                body="-",
                status=status,
                created_at=NOW - timedelta(days=age_days),
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        ids["mail_sent_old"] = mail("sent", 31)
        ids["mail_dead_old"] = mail("dead", 31)
        ids["mail_not_sent_old"] = mail("not_sent", 31)
        ids["mail_sent_new"] = mail("sent", 29)
        ids["mail_pending_old"] = mail("pending", 31)  # still to send: never deleted
        ids["mail_sending_old"] = mail("sending", 31)  # a sender holds it: never deleted

        sign_in("revoked_old", 100, 91)
        sign_in("revoked_new", 100, 89)
        sign_in("unused_old", 91, None)
        sign_in("unused_new", 89, None)

        for name, age in (("import_old", 31), ("import_new", 29)):
            row = EmployeeImport(
                company_id=company,
                created_by_id=agent,
                filename="staff.csv",
                content="email\n",
                created_at=NOW - timedelta(days=age),
            )
            db.session.add(row)
            db.session.flush()
            ids[name] = row.id
        db.session.commit()
    return ids


def _state(app, ids) -> dict[str, object]:
    with app.app_context():
        get = db.session.get
        documents = Path(app.config["DOCUMENTS_PATH"])
        certs = {n: get(Certificate, ids[n]) for n in ("old_cert", "new_cert")}
        return {
            "locations": {
                n: get(Incident, ids[n]).latitude for n in ("located_old", "located_new")
            },
            "incidents": {
                n: get(Incident, ids[n]) is not None
                for n in ("closed_old", "closed_new", "open_old")
            },
            "notes": db.session.scalar(select(func.count()).select_from(IncidentNote)),
            "claims": {
                n: (c.qr_text is not None, c.document_path, c.withdrawal_reason)
                for n, c in certs.items()
            },
            "files": sorted(p.name for p in documents.glob("1/*.pdf")),
            "receipts": {
                n: sorted(p.name for p in documents.rglob(f"trip-{ids[n]}-*"))
                for n in ("trip_3y", "trip_2y_1d", "trip_2y", "trip_1y")
            },
            "declarations": {
                n: _declaration_fields(get(Trip, ids[n]))
                for n in ("trip_3y", "trip_2y_1d", "trip_2y", "trip_1y")
            },
            "mail": {
                n: get(MailOutboxMessage, ids[n]) is not None
                for n in (
                    "mail_sent_old",
                    "mail_dead_old",
                    "mail_not_sent_old",
                    "mail_sent_new",
                    "mail_pending_old",
                    "mail_sending_old",
                )
            },
            "messages": {
                n: get(OutboxMessage, ids[n]) is not None
                for n in ("dead_old", "sent_old", "dead_new", "pending_old")
            },
            "sign_ins": sorted(db.session.scalars(select(SignIn.id))),
            "imports": {
                n: get(EmployeeImport, ids[n]) is not None for n in ("import_old", "import_new")
            },
        }


def _declaration_fields(trip: Trip) -> dict[str, object]:
    declaration = declaration_of(trip)
    return {
        "filed_on": declaration.filed_on,
        "receipt_number": declaration.receipt_number,
        "receipt": declaration.receipt_path is not None,
        "receipt_filename": declaration.receipt_filename,
        **{name: getattr(declaration, name) for name in FORM},
    }


KEPT_DECLARATION = {"receipt_number": "SIPSI-42", "receipt": True, "receipt_filename": "sipsi.pdf"}
CLEARED_DECLARATION = {
    "receipt_number": None,
    "receipt": False,
    "receipt_filename": None,
    **dict.fromkeys(DECLARATION_PERSONAL_FIELDS, ""),
}


def test_dry_run_prints_what_would_go_and_changes_nothing(app, data, runner, monkeypatch) -> None:
    ids = _seed(app, data)
    before = _state(app, ids)
    monkeypatch.setattr("web.jobs.retention.utcnow", lambda: NOW)
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines())
    assert {name: text.split(" (")[0] for name, text in lines.items()} == {
        "incident_locations": "1 would go",
        "closed_incidents": "1 would go",
        "certificate_claims": "1 would go",
        "declarations": "2 would go",
        "push_messages": "2 would go",
        "mail_messages": "3 would go",
        "sign_ins": "2 would go",
        "employee_imports": "1 would go",
    }
    assert "2021-01-01" in lines["certificate_claims"]
    assert "2024-12-02" in lines["declarations"]
    assert _state(app, ids) == before


def test_retention_removes_what_is_past_each_limit_and_keeps_the_rest(app, data) -> None:
    ids = _seed(app, data)
    before = _state(app, ids)
    with app.app_context():
        kept_path = db.session.get(Certificate, ids["new_cert"]).document_path
        audit_before = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        run = apply_retention(dry_run=False, now=NOW)
        # Audit events name ids only: all kept, even those of the rows that went.
        assert (
            db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == audit_before
        )
        assert audit_before  # the certificates' issue events, at least
    assert run.counts() == {
        "incident_locations": 1,
        "closed_incidents": 1,
        "certificate_claims": 1,
        "declarations": 2,
        "push_messages": 2,
        "mail_messages": 3,
        "sign_ins": 2,
        "employee_imports": 1,
    }
    after = _state(app, ids)
    assert after["locations"] == {"located_old": None, "located_new": 48.85}
    assert after["incidents"] == {"closed_old": False, "closed_new": True, "open_old": True}
    assert after["notes"] == 1
    assert after["claims"] == {
        "old_cert": (False, None, None),
        "new_cert": (True, kept_path, "trip cancelled"),
    }
    assert after["files"] == [Path(kept_path).name]
    assert after["messages"] == {
        "dead_old": False,
        "sent_old": False,
        "dead_new": True,
        "pending_old": True,
    }
    # Declarations: the receipt (file and number) and the personal fields of trips that ended
    # over two years ago go; the filing date and the company's own details stay.
    for name, end in (("trip_3y", date(2023, 11, 30)), ("trip_2y_1d", date(2024, 12, 1))):
        assert after["receipts"][name] == [], name
        assert after["declarations"][name] == {
            **FORM,
            "filed_on": end - timedelta(days=10),
            **CLEARED_DECLARATION,
        }, name
    for name in ("trip_2y", "trip_1y"):
        assert after["receipts"][name] == before["receipts"][name] != [], name
        assert after["declarations"][name] == before["declarations"][name], name
        assert after["declarations"][name] | KEPT_DECLARATION | FORM == after["declarations"][name]
    assert after["mail"] == {
        "mail_sent_old": False,
        "mail_dead_old": False,
        "mail_not_sent_old": False,
        "mail_sent_new": True,
        "mail_pending_old": True,
        "mail_sending_old": True,
    }
    assert after["sign_ins"] == ["revoked_new", "unused_new"]
    assert after["imports"] == {"import_old": False, "import_new": True}
    # A second run finds nothing more.
    with app.app_context():
        assert set(apply_retention(dry_run=False, now=NOW).counts().values()) == {0}


def test_a_cleared_declaration_still_reads_filed(app, data, client, auth) -> None:
    company = data.company()
    employee_id = data.employee(company)
    admin_id = data.user(Role.EMPLOYER_ADMIN, company, email="retention-admin@example.com")
    old = _filed_declaration(app, data, employee_id, admin_id, date(2023, 11, 30))
    with app.app_context():
        path = declaration_of(db.session.get(Trip, old)).receipt_path
        assert (Path(app.config["DOCUMENTS_PATH"]) / path).is_file()
        assert apply_retention(dry_run=False, now=NOW).counts()["declarations"] == 1
        bundle = inspection_bundle_for_trip(db.session.get(Trip, old), today=NOW.date())
        assert bundle.status.state.value == "filed"
        assert bundle.line and "SIPSI-42" not in bundle.line
        assert bundle.receipt is None and bundle.contact_line is None
        assert not (Path(app.config["DOCUMENTS_PATH"]) / path).exists()
    auth.login("retention-admin@example.com")
    response = client.get(f"/declarations/trips/{old}/receipt")
    # No file to send: back to the trip with "No receipt is recorded for this trip."
    assert response.status_code == 302 and response.mimetype != "application/pdf"


def test_retention_is_a_daily_job(app) -> None:
    from web.jobs.schedule import job_specs

    spec = next(s for s in job_specs(app.config) if s.name == "retention")
    assert spec.period == timedelta(days=1)
    with app.app_context():
        assert spec.run(now=utcnow().replace(hour=3)).result == {
            "incident_locations": 0,
            "closed_incidents": 0,
            "certificate_claims": 0,
            "declarations": 0,
            "push_messages": 0,
            "mail_messages": 0,
            "sign_ins": 0,
            "employee_imports": 0,
        }

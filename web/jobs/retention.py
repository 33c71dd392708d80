"""The retention policy: what personal data is kept how long, applied daily by the scheduler and
by `flask --app app retention run [--dry-run]`. The periods are settings (README, Configuration);
docs/deploy.md ("Retention") explains each and the legal keeping period of certificates.

- an incident's location (latitude, longitude): 30 days after the tap
  (RETENTION_INCIDENT_LOCATION_DAYS);
- a resolved incident, with its notes and taps: 24 months after it was resolved
  (RETENTION_CLOSED_INCIDENT_MONTHS);
- an ended certificate's personal claims (the signed QR with names and birth date, the
  authority's PDF, the withdrawal reason): at the end of the 5th calendar year after the year it
  ended (RETENTION_CERTIFICATE_YEARS); the row keeps its id, type, states and dates;
- a posted-worker declaration's receipt (the file and its number) and the standard form's
  personal fields (client, workplace, contact person): 2 years after the trip's last day
  (RETENTION_DECLARATION_YEARS); the row keeps the answer, the filing date and the company's own
  details, so the trip still reads "filed on …";
- push messages sent, gone or dead (their titles name people): 30 days after they were queued
  (RETENTION_PUSH_MESSAGE_DAYS);
- e-mails sent, dead or not sent (to whom; their subjects and texts name employees): 30 days
  after they were queued (RETENTION_MAIL_MESSAGE_DAYS);
- sign-in records (device, times): 90 days after their sign-out or last use
  (RETENTION_SIGN_IN_DAYS, never before the remember cookie has expired);
- uploaded employee CSV files: 30 days after the upload (RETENTION_IMPORT_DAYS).

Audit events are kept: they hold ids, roles, action names and counts, never names, emails or
free text, so they stay meaningful (and harmless) once the rows they name are gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Table, and_, delete, func, or_, select, update

from web.coverage.dates import add_months
from web.extensions import db
from web.models import (
    Certificate,
    Declaration,
    EmployeeImport,
    Incident,
    IncidentStatus,
    MailOutboxMessage,
    MailOutboxStatus,
    OutboxMessage,
    OutboxStatus,
    SignIn,
    Trip,
    utcnow,
)

log = logging.getLogger("a1wallet.retention")
FINISHED_PUSH = (OutboxStatus.SENT.value, OutboxStatus.GONE.value, OutboxStatus.DEAD.value)
FINISHED_MAIL = (
    MailOutboxStatus.SENT.value,
    MailOutboxStatus.DEAD.value,
    MailOutboxStatus.NOT_SENT.value,
)
# The declaration's receipt (None once cleared) and the standard form's fields that name or
# locate people ("" once cleared); the company's own registration, address and sector stay.
DECLARATION_RECEIPT_FIELDS = (
    "receipt_number",
    "receipt_path",
    "receipt_sha256",
    "receipt_filename",
    "receipt_media_type",
)
DECLARATION_PERSONAL_FIELDS = (
    "recipient_name",
    "recipient_address",
    "workplace_address",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_address",
)


@dataclass(frozen=True)
class RetentionItem:
    name: str  # incident_locations, closed_incidents, …
    rule: str  # the policy in words, with its cut-off
    count: int


@dataclass
class RetentionRun:
    dry_run: bool
    items: list[RetentionItem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {item.name: item.count for item in self.items}

    def lines(self) -> list[str]:
        verb = "would go" if self.dry_run else "went"
        return [f"{item.name}: {item.count} {verb} ({item.rule})" for item in self.items]


def certificate_claims_cutoff(today: date, years: int) -> date:
    """Certificates that ended before this day lose their personal claims: a certificate that
    ended in year Y is kept until the end of year Y + ``years`` (periods counted in calendar
    years, as the audits that may ask for it are)."""
    return date(today.year - years, 1, 1)


def declaration_cutoff(today: date, years: int) -> date:
    """Declarations of trips whose last day is before this day lose their receipt and personal
    fields: kept ``years`` after the trip ended, the longest period found in which a host state
    may still ask for the posting's documents (docs/legal-rules.md §11)."""
    return add_months(today, -12 * years)


def _dependants(table_name: str) -> list[tuple[Table, object]]:
    """(table, column) of every foreign key pointing at ``table_name``: rows that go with it."""
    found = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and table.name != table_name:
                found.append((table, fk.parent))
    return found


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def apply_retention(*, dry_run: bool, now: datetime | None = None) -> RetentionRun:
    """Clear or delete what the policy says has been kept long enough; with ``dry_run`` only
    count it. Commits (or rolls back, for a dry run)."""
    now = now or utcnow()
    config = current_app.config
    run = RetentionRun(dry_run)

    # 1. Where the employee was when they tapped: only useful while support handles the alert.
    days = config["RETENTION_INCIDENT_LOCATION_DAYS"]
    located = and_(
        Incident.tapped_at < now - timedelta(days=days),
        or_(Incident.latitude.is_not(None), Incident.longitude.is_not(None)),
    )
    count = _count(select(Incident.id).where(located))
    if not dry_run and count:
        db.session.execute(update(Incident).where(located).values(latitude=None, longitude=None))
    run.items.append(
        RetentionItem(
            "incident_locations", f"location of alerts tapped over {days} days ago", count
        )
    )

    # 2. Resolved incidents, with everything that points at them (notes, taps).
    months = config["RETENTION_CLOSED_INCIDENT_MONTHS"]
    before = add_months(now.date(), -months)
    closed = and_(
        Incident.status == IncidentStatus.RESOLVED.value,
        Incident.resolved_at < datetime.combine(before, datetime.min.time(), tzinfo=now.tzinfo),
    )
    ids = list(db.session.scalars(select(Incident.id).where(closed)))
    if not dry_run and ids:
        for table, column in _dependants(Incident.__tablename__):
            db.session.execute(delete(table).where(column.in_(ids)))
        db.session.execute(delete(Incident).where(Incident.id.in_(ids)))
    run.items.append(
        RetentionItem("closed_incidents", f"incidents resolved before {before}", len(ids))
    )

    # 3. Ended certificates: their personal claims, after the legal keeping period.
    years = config["RETENTION_CERTIFICATE_YEARS"]
    cutoff = certificate_claims_cutoff(now.date(), years)
    ended = and_(
        Certificate.valid_to < cutoff,
        or_(
            Certificate.qr_text.is_not(None),
            Certificate.document_path.is_not(None),
            Certificate.withdrawal_reason.is_not(None),
        ),
    )
    certificates = list(db.session.scalars(select(Certificate).where(ended)))
    documents = []
    if not dry_run:
        from web.certificates.services import document_file

        for certificate in certificates:
            if (path := document_file(certificate)) is not None:
                documents.append(path)
            certificate.qr_text = None
            certificate.document_path = None
            certificate.document_filename = None
            certificate.withdrawal_reason = None
    run.items.append(
        RetentionItem(
            "certificate_claims",
            f"QR claims, PDF and withdrawal reason of certificates that ended before {cutoff}",
            len(certificates),
        )
    )

    # 4. Posted-worker declarations: the receipt and the personal fields, once host states can
    # no longer ask for them.
    years = config["RETENTION_DECLARATION_YEARS"]
    cutoff = declaration_cutoff(now.date(), years)
    ended_trips = select(Trip.id).where(Trip.end_date < cutoff)
    held = and_(
        Declaration.trip_id.in_(ended_trips),
        or_(
            *(getattr(Declaration, name).is_not(None) for name in DECLARATION_RECEIPT_FIELDS),
            *(getattr(Declaration, name) != "" for name in DECLARATION_PERSONAL_FIELDS),
        ),
    )
    declarations = list(db.session.scalars(select(Declaration).where(held)))
    if not dry_run:
        from web.declarations.services import receipt_file

        for declaration in declarations:
            if (path := receipt_file(declaration)) is not None:
                documents.append(path)
            for name in DECLARATION_RECEIPT_FIELDS:
                setattr(declaration, name, None)
            for name in DECLARATION_PERSONAL_FIELDS:
                setattr(declaration, name, "")
    run.items.append(
        RetentionItem(
            "declarations",
            "receipts and the client, workplace and contact details of posted-worker "
            f"declarations of trips that ended before {cutoff}",
            len(declarations),
        )
    )

    # 5. Push messages that are done with (their titles name people).
    days = config["RETENTION_PUSH_MESSAGE_DAYS"]
    finished = and_(
        OutboxMessage.status.in_(FINISHED_PUSH),
        OutboxMessage.created_at < now - timedelta(days=days),
    )
    count = _count(select(OutboxMessage.id).where(finished))
    if not dry_run and count:
        db.session.execute(delete(OutboxMessage).where(finished))
    run.items.append(
        RetentionItem("push_messages", f"sent, gone or dead messages over {days} days old", count)
    )

    # 6. E-mails that are done with (to whom; their subjects and texts name employees).
    days = config["RETENTION_MAIL_MESSAGE_DAYS"]
    finished = and_(
        MailOutboxMessage.status.in_(FINISHED_MAIL),
        MailOutboxMessage.created_at < now - timedelta(days=days),
    )
    count = _count(select(MailOutboxMessage.id).where(finished))
    if not dry_run and count:
        db.session.execute(delete(MailOutboxMessage).where(finished))
    run.items.append(
        RetentionItem(
            "mail_messages", f"sent, dead or not sent e-mails over {days} days old", count
        )
    )

    # 7. Sign-in records: a revoked one after the period; an open one once it has also expired.
    days = config["RETENTION_SIGN_IN_DAYS"]
    remember_days = config["REMEMBER_COOKIE_DURATION"].days
    stale = or_(
        SignIn.revoked_at < now - timedelta(days=days),
        and_(
            SignIn.revoked_at.is_(None),
            SignIn.last_seen_at < now - timedelta(days=max(days, remember_days)),
        ),
    )
    stale_ids = list(db.session.scalars(select(SignIn.id).where(stale)))
    if not dry_run and stale_ids:
        for table, column in _dependants(SignIn.__tablename__):
            db.session.execute(delete(table).where(column.in_(stale_ids)))
        db.session.execute(delete(SignIn).where(SignIn.id.in_(stale_ids)))
    run.items.append(
        RetentionItem("sign_ins", f"sign-ins unused or ended over {days} days ago", len(stale_ids))
    )

    # 8. Uploaded CSV files (names, birth dates of a whole staff).
    days = config["RETENTION_IMPORT_DAYS"]
    old_import = EmployeeImport.created_at < now - timedelta(days=days)
    count = _count(select(EmployeeImport.id).where(old_import))
    if not dry_run and count:
        db.session.execute(delete(EmployeeImport).where(old_import))
    run.items.append(
        RetentionItem("employee_imports", f"CSV files uploaded over {days} days ago", count)
    )

    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        for path in documents:  # once the rows no longer point at them
            path.unlink(missing_ok=True)
        if any(run.counts().values()):
            log.info("retention: %s", run.counts())
    return run

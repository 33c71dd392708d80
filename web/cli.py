"""Command line for operators: `flask --app app companies|users|trips|demo …`.

Bad input prints a clear message on stderr and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from web.admin.services import (
    create_employee,
    create_trip,
    email_taken,
    validate_email_address,
    validate_employee_input,
    validate_trip_input,
)
from web.auth.services import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    find_user_by_email,
    send_invitation,
    set_password,
)
from web.certificates.keys import (
    SigningKeyError,
    active_signing_key,
    retire_key,
    revoke_key,
    rotate_keys,
)
from web.certificates.services import (
    issue_provisional_certificate,
    revoke_certificate,
    validate_certificate_input,
)
from web.extensions import db
from web.models import Certificate, Company, Role, SigningKey, Trip, User
from web.validation import InputError

companies_cli = AppGroup("companies", help="Customer companies (the tenants).")
users_cli = AppGroup("users", help="User accounts.")
trips_cli = AppGroup("trips", help="Employees' trips.")


def fail(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _input_error(exc: InputError) -> NoReturn:
    fail("; ".join(f"{name.replace('_', '-')}: {msg}" for name, msg in exc.errors.items()))


@companies_cli.command("create")
@click.argument("name")
@click.option("--seat-state", default=None, help="Country of the registered office (ISO code).")
def create_company(name: str, seat_state: str | None) -> None:
    """Create a company NAME."""
    from web.countries import normalise_state

    name = " ".join(name.split())
    if not name or len(name) > 200:
        fail("the company name must have 1 to 200 characters")
    if db.session.scalar(select(Company).where(Company.name == name)):
        fail(f"a company named {name!r} exists already")
    if seat_state:
        try:
            seat_state = normalise_state(seat_state)
        except ValueError:
            fail(f"unknown country code {seat_state!r}")
    company = Company(name=name, seat_state=seat_state)
    db.session.add(company)
    db.session.commit()
    click.echo(json.dumps({"id": company.id, "name": company.name}))


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        fail(f"the password must have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters")
    return password


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--company", "company_name", default=None, help="For employees and employer admins.")
@click.option("--family-name", default="")
@click.option("--given-names", default="")
@click.option("--birth-date", default="")
@click.option("--nationality", default="")
@click.option("--residence-state", default="")
@click.option("--home-state", default="")
@click.option("--phone", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str,
    role: str,
    company_name: str | None,
    family_name: str,
    given_names: str,
    birth_date: str,
    nationality: str,
    residence_state: str,
    home_state: str,
    phone: str,
    password_stdin: bool,
) -> None:
    """Create a user; an employee also gets the employee record. Without --password-stdin an
    invitation link is printed."""
    role_enum = Role(role)
    company = None
    if role_enum.belongs_to_company:
        if not company_name:
            fail(f"--company is required for the role {role}")
        company = db.session.scalar(select(Company).where(Company.name == company_name))
        if company is None:
            fail(f"no company named {company_name!r}")
    elif company_name:
        fail(f"{role} accounts belong to the provider, not to a company: leave out --company")
    password = _read_password() if password_stdin else None
    if role_enum is Role.EMPLOYEE:
        nationality = nationality or home_state
        try:
            data = validate_employee_input(
                {
                    "email": email,
                    "family_name": family_name,
                    "given_names": given_names,
                    "birth_date": birth_date,
                    "nationality": nationality,
                    "residence_state": residence_state or home_state,
                    "home_state": home_state,
                    "phone": phone,
                }
            )
            user = create_employee(company, data).user
        except InputError as exc:
            _input_error(exc)
    else:
        try:
            email = validate_email_address(email)
        except InputError as exc:
            _input_error(exc)
        if email_taken(email):
            fail(f"{email} is already used by another account")
        user = User(email=email, role=role, company=company)
        db.session.add(user)
        db.session.flush()
    out = {"id": user.id, "email": user.email, "role": user.role}
    if password is not None:
        set_password(user, password)
    else:
        link, _delivered = send_invitation(user)
        out["invitation_link"] = link
    db.session.commit()
    click.echo(json.dumps(out))


@users_cli.command("list")
@click.option("--company", "company_name", default=None)
def list_users(company_name: str | None) -> None:
    """List users (one line each: id, role, company, active, email)."""
    query = select(User).order_by(User.id)
    if company_name:
        company = db.session.scalar(select(Company).where(Company.name == company_name))
        if company is None:
            fail(f"no company named {company_name!r}")
        query = query.where(User.company_id == company.id)
    for user in db.session.scalars(query):
        company = user.company.name if user.company else "-"
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id}\t{user.role}\t{company}\t{state}\t{user.email}")


@trips_cli.command("create")
@click.option("--employee", "employee_email", required=True)
@click.option("--destination", required=True)
@click.option("--work-states", default="")
@click.option("--start", required=True)
@click.option("--end", required=True)
@click.option("--kind", default="posting")
@click.option("--purpose", default="")
def create_trip_command(
    employee_email: str,
    destination: str,
    work_states: str,
    start: str,
    end: str,
    kind: str,
    purpose: str,
) -> None:
    """Create a trip for an employee."""
    user = find_user_by_email(employee_email)
    if user is None or user.employee is None:
        fail(f"no employee with the email {employee_email!r}")
    try:
        data = validate_trip_input(
            {
                "destination_state": destination,
                "work_states": work_states,
                "start_date": start,
                "end_date": end,
                "kind": kind,
                "purpose": purpose,
            }
        )
        trip = create_trip(user.employee, data)
    except InputError as exc:
        _input_error(exc)
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "id": trip.id,
                "employee": user.email,
                "destination": trip.destination_state,
                "work_states": trip.work_state_list,
                "start": trip.start_date.isoformat(),
                "end": trip.end_date.isoformat(),
                "kind": trip.kind,
            }
        )
    )


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database has no company yet.")
def demo_command(if_empty: bool) -> None:
    """Create demo companies, users and trips, and print the demo logins."""
    from web.demo import DEMO_LOGINS, create_demo_data

    if db.session.scalar(select(Company.id).limit(1)) is not None:
        if not if_empty:
            fail("the database has data already; demo data goes into an empty database")
    else:
        create_demo_data()
        db.session.commit()
    click.echo("Demo logins (password for all: see below):")
    for email, role, password in DEMO_LOGINS:
        click.echo(f"  {role:<15} {email:<32} {password}")


keys_cli = AppGroup("keys", help="The provider's signing keys.")
certificates_cli = AppGroup("certificates", help="Certificates: issue, revoke, show.")


def _key_line(key: SigningKey) -> str:
    dates = " ".join(
        f"{name}={moment.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        for name, moment in (
            ("published", key.published_at),
            ("activated", key.activated_at),
            ("retired", key.retired_at),
            ("revoked", key.revoked_at),
        )
        if moment is not None
    )
    return f"{key.kid}\t{key.state}\t{dates}"


@keys_cli.command("list")
def list_keys() -> None:
    """List signing keys: kid, state, dates. Creates the first key if there is none."""
    active_signing_key()
    db.session.commit()
    for key in db.session.scalars(select(SigningKey).order_by(SigningKey.published_at)):
        click.echo(_key_line(key))


@keys_cli.command("rotate")
def rotate_keys_command() -> None:
    """Publish a new key and make it sign; the old key retires (it still verifies)."""
    new, old = rotate_keys()
    db.session.commit()
    click.echo(json.dumps({"active": new.kid, "retired": old.kid if old else None}))


@keys_cli.command("retire")
@click.argument("kid")
def retire_key_command(kid: str) -> None:
    """Stop KID from signing; it verifies until its certificates have expired."""
    try:
        key = retire_key(kid)
    except SigningKeyError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(_key_line(key))


@keys_cli.command("resign")
@click.argument("kid")
def resign_key_command(kid: str) -> None:
    """Sign again, with the active key, every certificate in use that KID signed (after
    `keys revoke KID` for a compromised key)."""
    from datetime import date

    from web.certificates.services import resign_certificates

    try:
        resigned = resign_certificates(kid, today=date.today())
    except SigningKeyError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(json.dumps({"resigned": len(resigned), "signing_kid": active_signing_key().kid}))


@keys_cli.command("revoke")
@click.argument("kid")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
def revoke_key_command(kid: str, reason: str) -> None:
    """Revoke KID for good: nothing it signed verifies again."""
    try:
        key = revoke_key(kid, reason)
    except SigningKeyError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(_key_line(key))


def _certificate_json(cert: Certificate) -> dict[str, object]:
    return {
        "id": cert.id,
        "verification_code": cert.verification_code_display,
        "qr_text": cert.qr_text,
        "employee": cert.employee.user.email,
        "document_type": cert.document_type,
        "kind": cert.kind,
        "legislation_state": cert.legislation_state,
        "work_states": cert.work_state_list,
        "valid_from": cert.valid_from.isoformat(),
        "valid_to": cert.valid_to.isoformat(),
        "issuing_institution": cert.issuing_institution,
        "status": cert.status,
        "signing_kid": cert.signing_kid,
        "superseded_by": cert.superseded_by_id,
        "withdrawal_reason": cert.withdrawal_reason,
    }


@certificates_cli.command("issue")
@click.option("--employee", "employee_email", required=True)
@click.option("--type", "document_type", required=True, type=click.Choice(["A1", "CoC"]))
@click.option(
    "--kind",
    default="provisional",
    type=click.Choice(["provisional"]),
    help="Official certificates are recorded from the authority's PDF in the console.",
)
@click.option("--legislation-state", required=True)
@click.option("--work-states", required=True)
@click.option("--valid-from", required=True)
@click.option("--valid-to", required=True)
@click.option("--trip", "trip_id", type=int, default=None, help="The trip it covers (optional).")
def issue_certificate_command(
    employee_email: str,
    document_type: str,
    kind: str,
    legislation_state: str,
    work_states: str,
    valid_from: str,
    valid_to: str,
    trip_id: int | None,
) -> None:
    """Issue a provisional certificate; prints it as JSON (id, verification_code, qr_text, …)."""
    user = find_user_by_email(employee_email)
    if user is None or user.employee is None:
        fail(f"no employee with the email {employee_email!r}")
    trip = None
    if trip_id is not None:
        trip = db.session.get(Trip, trip_id)
        if trip is None or trip.employee_id != user.employee.id:
            fail(f"trip {trip_id} is not a trip of {employee_email}")
    try:
        data = validate_certificate_input(
            {
                "document_type": document_type,
                "legislation_state": legislation_state,
                "work_states": work_states,
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
            official=False,
        )
        cert = issue_provisional_certificate(user.employee, data, actor=None, trip=trip)
    except InputError as exc:
        _input_error(exc)
    db.session.commit()
    click.echo(json.dumps(_certificate_json(cert)))


def _certificate_or_fail(certificate_id: str) -> Certificate:
    cert = db.session.get(Certificate, certificate_id.strip().upper())
    if cert is None:
        fail(f"no certificate with the id {certificate_id!r}")
    return cert


@certificates_cli.command("revoke")
@click.argument("certificate_id")
@click.option("--reason", required=True)
def revoke_certificate_command(certificate_id: str, reason: str) -> None:
    """Withdraw a certificate (it appears in revoked.json at once)."""
    cert = _certificate_or_fail(certificate_id)
    try:
        revoke_certificate(cert, reason, actor=None)
    except InputError as exc:
        _input_error(exc)
    db.session.commit()
    click.echo(json.dumps(_certificate_json(cert)))


@certificates_cli.command("show")
@click.argument("certificate_id")
def show_certificate_command(certificate_id: str) -> None:
    """Print a certificate as JSON."""
    click.echo(json.dumps(_certificate_json(_certificate_or_fail(certificate_id))))


outbox_cli = AppGroup("outbox", help="The push outbox.")
reminders_cli = AppGroup("reminders", help="Reminders before expiry and for uncovered trips.")


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Send what is due, then exit (for tests and cron).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between rounds.")
def relay_command(once: bool, poll: float) -> None:
    """Send due push messages (runs until stopped; several relays may run at once)."""
    from web.push.relay import relay_forever, relay_once
    from web.push.vapid import VapidConfigurationError, vapid_subject

    try:
        vapid_subject()
    except VapidConfigurationError as exc:
        fail(str(exc))
    if once:
        click.echo(json.dumps(relay_once().__dict__))
    else:
        relay_forever(poll)


@reminders_cli.command("send")
@click.option("--today", "today_text", default=None, help="Pretend today is YYYY-MM-DD (UTC).")
def send_reminders_command(today_text: str | None) -> None:
    """Enqueue the reminders due today, each exactly once (safe to run from cron anywhere)."""
    from web.push.reminders import send_reminders
    from web.validation import parse_date

    today = None
    if today_text:
        try:
            today = parse_date(today_text)
        except ValueError:
            fail(f"--today: {today_text!r} is not a date (use YYYY-MM-DD)")
    click.echo(json.dumps(send_reminders(today).__dict__))


coverage_cli = AppGroup("coverage", help="Which legislation applies, and which certificate.")


@coverage_cli.command("determine")
@click.argument("case_file", type=click.File("r"))
def determine_command(case_file) -> None:
    """Run the engine on FILE: one case (a JSON object) or a JSON array of cases; prints the
    result, or the array of results in the same order."""

    from web.coverage import CaseError, determine
    from web.filing.states import filing_state_codes

    try:
        cases = json.load(case_file)
    except json.JSONDecodeError as exc:
        fail(f"{case_file.name} is not JSON: {exc}")
    single = isinstance(cases, dict)
    if not single and not isinstance(cases, list):
        fail("the file must hold a JSON object (one case) or an array of cases")
    results = []
    for index, case in enumerate([cases] if single else cases):
        try:
            results.append(determine(case, provider_filing_states=filing_state_codes()))
        except CaseError as exc:
            where = "" if single else f"case {index}: "
            fail(where + "; ".join(f"{name}: {message}" for name, message in exc.errors.items()))
    click.echo(json.dumps(results[0] if single else results, indent=2, default=str))


@coverage_cli.command("renewals")
def renewals_command() -> None:
    """Open a draft renewal request for every multi-state A1 about to end while the work goes
    on; run daily from cron."""
    from datetime import date

    from web.filing.requests import open_due_renewals

    created = open_due_renewals(date.today())
    db.session.commit()
    click.echo(f"{len(created)} renewal request(s) opened.")


incidents_cli = AppGroup("incidents", help='"An authority is asking" incidents.')


@incidents_cli.command("escalate")
def escalate_command() -> None:
    """Alert every support agent and operator about incidents nobody acknowledged in time
    (INCIDENT_ESCALATE_MINUTES); run every minute from cron."""
    from web.ask.services import escalate_unacknowledged

    click.echo(json.dumps({"escalated": escalate_unacknowledged()}))


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(dir_okay=False))
def backup_command(dest: str) -> None:
    """Copy the SQLite database to DEST, consistent even while the app writes.

    Uses sqlite3's online backup API (one step: a snapshot; in WAL mode the app's writers are
    not blocked), checks the copy with PRAGMA integrity_check and moves it to DEST only then.
    On PostgreSQL it refuses and prints the pg_dump command to use instead (exit status 2).
    """
    import os
    import sqlite3
    from pathlib import Path

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        if url.get_backend_name() == "postgresql":
            from sqlalchemy.engine import URL

            target = URL.create(  # the libpq form, without the password
                "postgresql",
                username=url.username,
                host=url.host,
                port=url.port,
                database=url.database,
                query={k: v for k, v in url.query.items() if k != "password"},
            )
            fail(
                "`flask backup` copies SQLite databases only; this database is PostgreSQL.\n"
                "Back it up with PostgreSQL's own tool (the password from PGPASSWORD or "
                "~/.pgpass), for example:\n"
                f"  pg_dump --format=custom --file={dest} "
                f"'{target.render_as_string(hide_password=False)}'\n"
                "and restore it with pg_restore (see docs/deploy.md)."
            )
        fail(f"`flask backup` copies SQLite databases only, not {url.get_backend_name()}")
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        fail("the database is in memory: there is no file to back up")
    source = Path(url.database).resolve()
    target_path = Path(dest).resolve()
    if not source.is_file():
        fail(f"the database file {source} does not exist")
    if target_path in (source, Path(f"{source}-wal"), Path(f"{source}-shm")):
        fail("DEST is the database itself: choose another file")
    if not target_path.parent.is_dir():
        fail(f"the directory {target_path.parent} does not exist")
    partial = target_path.with_name(f".{target_path.name}.{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        reader.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        check = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
        reader.close()
    if check != ["ok"]:
        partial.unlink(missing_ok=True)
        fail(f"the copy failed PRAGMA integrity_check: {'; '.join(check[:5])}")
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.replace(target_path)  # never a half-written backup under the final name
    directory = os.open(target_path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    click.echo(
        json.dumps(
            {
                "backup": str(target_path),
                "bytes": target_path.stat().st_size,
                "pages": pages,
                "integrity_check": "ok",
                "not_included": "the key-encryption key (A1W_KEY_ENCRYPTION_KEY or "
                "instance/key_encryption_key) and the PDFs under DOCUMENTS_PATH: back them up "
                "apart",
            }
        )
    )


def register_cli(app: Flask) -> None:
    for group in (
        coverage_cli,
        incidents_cli,
        companies_cli,
        users_cli,
        trips_cli,
        keys_cli,
        certificates_cli,
        outbox_cli,
        reminders_cli,
    ):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)

"""`flask --app app keys|certificates …`: the provider's signing keys and the certificates they
sign, through the same services as the operator's console."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from web.auth.services import find_user_by_email
from web.certificates.keys import (
    DOCUMENT_CLASSES,
    SigningKeyError,
    active_signing_key,
    get_key,
    retire_key,
    revoke_key,
    rotate_keys,
)
from web.certificates.services import (
    issue_provisional_certificate,
    resign_certificates,
    revoke_certificate,
    validate_certificate_input,
)
from web.cli_errors import fail, fail_input
from web.extensions import db
from web.models import Certificate, SigningKey, Trip
from web.validation import InputError

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
    return f"{key.kid}\t{key.document_class}\t{key.state}\t{dates}"


@keys_cli.command("list")
def list_keys() -> None:
    """List signing keys: kid, document class, state, dates. Creates the first key of a class
    that has none (so it is published before it ever signs)."""
    for document_class in DOCUMENT_CLASSES:
        active_signing_key(document_class)
    db.session.commit()
    for key in db.session.scalars(select(SigningKey).order_by(SigningKey.published_at)):
        click.echo(_key_line(key))


@keys_cli.command("rotate")
@click.option(
    "--class",
    "document_class",
    required=True,
    type=click.Choice(DOCUMENT_CLASSES),
    help="The document class whose key is replaced; the other class's key is not touched.",
)
@click.option("--reason", default="", help="Why (kept in the audit trail).")
def rotate_keys_command(document_class: str, reason: str) -> None:
    """Publish a new key of a class and make it sign; the class's old key retires (it still
    verifies)."""
    new, old = rotate_keys(document_class, reason=reason)
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "document_class": document_class,
                "active": new.kid,
                "retired": old.kid if old else None,
            }
        )
    )


@keys_cli.command("retire")
@click.argument("kid")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
def retire_key_command(kid: str, reason: str) -> None:
    """Stop KID, a published key, from ever signing (the signing key is replaced by `keys
    rotate`); it verifies until its certificates have expired."""
    try:
        key = retire_key(kid, reason)
    except SigningKeyError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(_key_line(key))


@keys_cli.command("resign")
@click.argument("kid")
def resign_key_command(kid: str) -> None:
    """Sign again, with the active key of their class, every certificate in use that KID signed
    (after `keys revoke KID` for a compromised key)."""
    try:
        document_class = get_key(kid).document_class
        resigned = resign_certificates(kid, today=date.today())
    except SigningKeyError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "resigned": len(resigned),
                "document_class": document_class,
                "signing_kids": sorted({c.signing_kid for c in resigned}),
            }
        )
    )


@keys_cli.command("revoke")
@click.argument("kid")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
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
        fail_input(exc)
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
        fail_input(exc)
    db.session.commit()
    click.echo(json.dumps(_certificate_json(cert)))


@certificates_cli.command("show")
@click.argument("certificate_id")
def show_certificate_command(certificate_id: str) -> None:
    """Print a certificate as JSON."""
    click.echo(json.dumps(_certificate_json(_certificate_or_fail(certificate_id))))

"""Failed sign-ins: growing delays per (account, client) pair, never a lock-out of the account.

A stranger who guesses from elsewhere slows only their own client down: the owner, from a
client that never failed, still gets in with the right password (and factor). Many failures
on one account from anywhere are reported to the operators instead (ASVS 6.3.1, 6.1.2).
The per-client limit on all accounts stays with Flask-Limiter (LOGIN_LIMIT_PER_CLIENT).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from datetime import timedelta

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from web.audit import record_audit_event
from web.extensions import db
from web.mail import send_mail
from web.models import AuditEvent, LoginFailure, Role, User, utcnow

log = logging.getLogger("a1wallet.auth")

FAILURE_WINDOW = timedelta(minutes=15)
MAX_DELAY_SECONDS = 15 * 60
ATTACK_REPORT_EVERY = timedelta(hours=1)  # one report per account per hour, however long it goes


def client_address() -> str:
    """The client's address; an IPv6 client counts as its /64 (one subscriber's whole block)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keyed(value: str) -> str:
    # Keyed hashes: the table holds neither addresses nor IPs, and a copy of it alone can't
    # be matched against a list of known addresses.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def account_key(email: str) -> str:
    return _keyed("account:" + email.strip().lower())


def client_key() -> str:
    return _keyed("client:" + client_address())


def delay_for(failures: int) -> int:
    """Seconds to wait after the last failure: none for the first LOGIN_FREE_FAILURES, then 1,
    2, 4 … up to 15 minutes."""
    free = current_app.config["LOGIN_FREE_FAILURES"]
    if failures < free:
        return 0
    return min(2 ** (failures - free), MAX_DELAY_SECONDS)


def seconds_to_wait(email: str) -> int:
    """How long this client must wait before trying this account again (0: it may try now)."""
    since = utcnow() - FAILURE_WINDOW
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.created_at)).where(
            LoginFailure.account_key == account_key(email),
            LoginFailure.client_key == client_key(),
            LoginFailure.created_at > since,
        )
    ).one()
    if not count or last is None:
        return 0
    if last.tzinfo is None:  # func.max bypasses the column type on some drivers
        from datetime import UTC

        last = last.replace(tzinfo=UTC)
    waited = (utcnow() - last).total_seconds()
    return max(0, int(delay_for(count) - waited + 0.999))


def record_failure(email: str, user: User | None) -> None:
    """Count a failed sign-in for (account, client); report an account under attack."""
    key = account_key(email)
    db.session.add(LoginFailure(account_key=key, client_key=client_key()))
    db.session.flush()
    if user is None:
        return
    since = utcnow() - FAILURE_WINDOW
    total = db.session.scalar(
        select(func.count()).where(LoginFailure.account_key == key, LoginFailure.created_at > since)
    )
    if total >= current_app.config["LOGIN_ATTACK_REPORT_FAILURES"]:
        _report_attack(user, total)


def clear_failures(email: str) -> None:
    """A correct sign-in from this client forgets its failures on this account."""
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.account_key == account_key(email),
            LoginFailure.client_key == client_key(),
        )
    )


def forget_old_failures() -> int:
    """Drop failures older than the window (called at each failure; the table stays small)."""
    return db.session.execute(
        delete(LoginFailure).where(LoginFailure.created_at <= utcnow() - FAILURE_WINDOW)
    ).rowcount


def _report_attack(user: User, failures: int) -> None:
    recent = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.action == "auth.account_under_attack",
            AuditEvent.object_type == "user",
            AuditEvent.object_id == str(user.id),
            AuditEvent.at > utcnow() - ATTACK_REPORT_EVERY,
        )
        .limit(1)
    )
    if recent is not None:
        return
    record_audit_event(
        "auth.account_under_attack",
        object_type="user",
        object_id=user.id,
        outcome="denied",
        message=f"{failures} failed sign-ins in 15 minutes from several clients; not locked",
        actor_id=None,
        actor_role=None,
        company_id=user.company_id,
    )
    operators = db.session.scalars(
        select(User).where(User.role == Role.OPERATOR.value, User.active.is_(True))
    ).all()
    account = f"#{user.id} ({user.role})"
    for operator in operators:
        with force_locale(operator.locale or "en"):
            send_mail(
                operator.email,
                _("A1 Wallet: an account is under attack"),
                _(
                    "%(failures)d failed sign-ins on the account %(account)s in 15 minutes, from "
                    "several clients. The account is not locked: each client is slowed down. "
                    "Check the audit trail and consider contacting the account's owner.",
                    failures=failures,
                    account=account,
                ),
            )

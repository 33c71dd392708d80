"""Invitations: the one-time link with which a new employee chooses a password, mailed to them or
given to the admin to pass on, and where each employee's invitation stands.

One rule for every way a link is made (mailed, created to copy, from the CLI): a new link kills
the person's previous unused one (web/auth/services.py, issue_action_token). A link works once,
for INVITATION_DAYS, and is exchanged for a session binding at its first open. Links are never
logged, never kept in a cookie and never stored: only their hash is.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from web.audit import record_audit_event
from web.auth.services import INVITE, issue_action_token_row, usable_action_token
from web.extensions import db
from web.i18n import app_languages
from web.mail import mail_configured, send_mail
from web.models import ActionToken, User, utcnow
from web.urls import public_url
from web.vocabulary import InvitationDelivery, InvitationStatus

log = logging.getLogger("a1wallet.mail")


class MailServerUnavailable(Exception):
    """The mail server could not be reached, or refused the session: the next mails would fail
    the same way, so a batch stops here."""


@dataclass(frozen=True)
class InvitationState:
    """An employee's invitation as the console shows it."""

    status: InvitationStatus
    at: datetime | None = None  # when the current link was made (or its mail failed)
    expires_at: datetime | None = None  # until when an open link works


@dataclass(frozen=True)
class InvitationLink:
    url: str
    expires_at: datetime


@dataclass
class InvitationRun:
    """What mailing invitations to several people did."""

    sent: list[User] = field(default_factory=list)
    failed: list[User] = field(default_factory=list)  # this person's mail was refused
    not_sent: list[User] = field(default_factory=list)  # never tried (see the two flags)
    server_unavailable: bool = False  # the server went away: the rest would fail too
    out_of_time: bool = False  # the request's time for mail ran out: the rest wait for a click


def _link_url(token: str) -> str:
    return public_url("auth.accept_invitation", token=token)


def create_invitation_link(user: User) -> InvitationLink:
    """A fresh link for the admin to pass on themselves (shown once, never mailed); the previous
    unused link dies. Audited; the caller commits."""
    token, row = issue_action_token_row(user, INVITE, delivery=InvitationDelivery.LINK.value)
    record_audit_event(
        "auth.invitation_link_created",
        object_type="user",
        object_id=user.id,
        company_id=user.company_id,
    )
    return InvitationLink(_link_url(token), row.expires_at)


def _message_language(user: User) -> str | None:
    """The employee's own language when the admin set one, else the admin's (the request's)."""
    return user.locale if user.locale in app_languages() else None


def _send(user: User, link: str) -> None:
    def compose() -> tuple[str, str]:
        return _("Your A1 Wallet invitation"), _(
            "You are invited to A1 Wallet. Open this link to choose your password "
            "(valid %(days)d days):\n%(link)s",
            days=current_app.config["INVITATION_DAYS"],
            link=link,
        )

    language = _message_language(user)
    if language:
        with force_locale(language):
            subject, body = compose()
    else:
        subject, body = compose()
    send_mail(user.email, subject, body, template="invitation")


def mail_invitation(user: User) -> bool:
    """Mail ``user`` a fresh link (the previous unused one dies). True when the server took it;
    False when it refused this recipient. Raises MailServerUnavailable when the server cannot
    be reached or refuses the session. Either way the outcome is stored and audited.

    Commits: the link's row is stored before the mail leaves, so no mailed link lacks its row,
    and a failure is kept even if a later mail of the same batch crashes.
    """
    if not mail_configured():
        raise MailServerUnavailable("no mail server is configured")
    token, row = issue_action_token_row(user, INVITE, delivery=InvitationDelivery.MAIL.value)
    db.session.commit()
    try:
        _send(user, _link_url(token))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        _record_failure(user, row, type(exc).__name__)
        return False
    except (smtplib.SMTPException, OSError) as exc:
        _record_failure(user, row, type(exc).__name__)
        raise MailServerUnavailable(type(exc).__name__) from exc
    record_audit_event(
        "auth.invitation_sent", object_type="user", object_id=user.id, company_id=user.company_id
    )
    db.session.commit()
    return True


def _record_failure(user: User, row: ActionToken, reason: str) -> None:
    """The link that did not leave dies (no one holds it); the reason is the error's class,
    never the server's text (it may quote the address)."""
    row.used_at = utcnow()
    row.delivery = InvitationDelivery.MAIL_FAILED.value
    record_audit_event(
        "auth.invitation_failed",
        object_type="user",
        object_id=user.id,
        outcome="failed",
        message=reason,
        company_id=user.company_id,
    )
    db.session.commit()
    log.warning("invitation mail failed: %s", reason)


def mail_invitations(users: Sequence[User]) -> InvitationRun:
    """Mail each user a fresh link, one after the other, within INVITATION_BATCH_SECONDS (a
    request must end well before the web server's worker timeout). When the time is up or the
    server goes away (each next mail would wait for the same timeout), the rest are not tried
    and are reported as not sent: they keep no link, and the import report sends them later."""
    run = InvitationRun()
    deadline = time.monotonic() + current_app.config["INVITATION_BATCH_SECONDS"]
    for index, user in enumerate(users):
        if index and time.monotonic() > deadline:
            run.out_of_time = True
            run.not_sent = list(users[index:])
            break
        try:
            (run.sent if mail_invitation(user) else run.failed).append(user)
        except MailServerUnavailable:
            run.failed.append(user)
            run.server_unavailable = True
            run.not_sent = list(users[index + 1 :])
            break
    return run


def send_invitation(user: User) -> tuple[str | None, bool]:
    """For the command line: mail the invitation when a mail server is configured, else make a
    link to print. Returns (link or None when mailed, mailed). SMTP errors propagate."""
    if not mail_configured():
        return create_invitation_link(user).url, False
    if not mail_invitation(user):
        raise MailServerUnavailable("the mail server refused the address")
    return None, True


def invitation_states(users: Iterable[User]) -> dict[int, InvitationState]:
    """Each user's invitation state, by user id, from one query (the users' latest links)."""
    users = list(users)
    latest: dict[int, ActionToken] = {}
    if users:
        rows = db.session.scalars(
            select(ActionToken)
            .where(
                ActionToken.user_id.in_([u.id for u in users]),
                ActionToken.purpose == INVITE,
            )
            .order_by(ActionToken.user_id, ActionToken.id.desc())
        )
        for row in rows:
            latest.setdefault(row.user_id, row)
    now = utcnow()
    return {user.id: _state(user, latest.get(user.id), now) for user in users}


def invitation_state(user: User) -> InvitationState:
    return invitation_states([user])[user.id]


def _state(user: User, row: ActionToken | None, now: datetime) -> InvitationState:
    if user.password_hash:
        return InvitationState(InvitationStatus.ACCEPTED)
    if row is None:
        return InvitationState(InvitationStatus.NOT_INVITED)
    if row.delivery == InvitationDelivery.MAIL_FAILED.value:
        return InvitationState(InvitationStatus.MAIL_FAILED, row.created_at)
    form_window = timedelta(minutes=current_app.config["LINK_FORM_MINUTES"])
    # Opened but the password form was left: the link cannot be opened again.
    abandoned = row.opened_at is not None and now - row.opened_at > form_window
    if abandoned or not usable_action_token(row, INVITE):
        return InvitationState(InvitationStatus.EXPIRED, row.created_at, row.expires_at)
    status = (
        InvitationStatus.MAILED
        if row.delivery == InvitationDelivery.MAIL.value
        else InvitationStatus.LINK_CREATED
    )
    return InvitationState(status, row.created_at, row.expires_at)

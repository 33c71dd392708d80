"""The mail outbox: an e-mail is a row written in the same transaction as its cause, then sent
by whichever sender claims it first. The claim is a conditional UPDATE (pending, or a lease that
ran out → sending), so two senders at once, on one machine or several, send each mail once;
a sender that dies mid-send leaves a lease that expires, and the mail is tried again."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from web.extensions import db
from web.mail import mail_configured, send_mail
from web.models import MailOutboxMessage, MailOutboxStatus, User, utcnow

log = logging.getLogger("a1wallet.mail")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def enqueue_mail(user: User, subject: str, body: str, *, template: str) -> MailOutboxMessage:
    """Add one e-mail to the caller's transaction."""
    message = MailOutboxMessage(
        user_id=user.id, template=template, subject=subject[:200], body=body
    )
    db.session.add(message)
    return message


def _claim(message_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(MailOutboxMessage)
        .where(
            MailOutboxMessage.id == message_id,
            or_(
                MailOutboxMessage.status == MailOutboxStatus.PENDING.value,
                (MailOutboxMessage.status == MailOutboxStatus.SENDING.value)
                & (MailOutboxMessage.lease_until < now),
            ),
        )
        .values(
            status=MailOutboxStatus.SENDING.value,
            lease_until=now + LEASE,
            attempts=MailOutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_due_mail(limit: int = 200) -> dict[str, int]:
    """Send the pending e-mails this sender can claim; returns the counts."""
    counts = {"sent": 0, "not_sent": 0, "failed": 0}
    now = utcnow()
    due = db.session.scalars(
        select(MailOutboxMessage.id)
        .where(
            or_(
                MailOutboxMessage.status == MailOutboxStatus.PENDING.value,
                (MailOutboxMessage.status == MailOutboxStatus.SENDING.value)
                & (MailOutboxMessage.lease_until < now),
            )
        )
        .order_by(MailOutboxMessage.id)
        .limit(limit)
    ).all()
    for message_id in due:
        if not _claim(message_id):
            continue  # another sender has it
        message = db.session.get(MailOutboxMessage, message_id)
        user = db.session.get(User, message.user_id)
        if not mail_configured() or user is None or not user.active:
            message.status = MailOutboxStatus.NOT_SENT.value
            counts["not_sent"] += 1
        else:
            try:
                send_mail(user.email, message.subject, message.body, template=message.template)
            except Exception as exc:  # any SMTP failure: retry later, then give up
                message.last_error = type(exc).__name__[:200]
                message.status = (
                    MailOutboxStatus.DEAD.value
                    if message.attempts >= MAX_ATTEMPTS
                    else MailOutboxStatus.PENDING.value
                )
                counts["failed"] += 1
            else:
                message.status = MailOutboxStatus.SENT.value
                message.sent_at = utcnow()
                counts["sent"] += 1
        message.lease_until = None
        db.session.commit()
    return counts

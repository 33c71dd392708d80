"""A small mail interface: SMTP when MAIL_SERVER is set, otherwise the message goes to the log.

Without a mail server (a laptop, a demo) the caller also shows the link to the admin, so
invitations work anywhere.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("a1wallet.mail")


@dataclass(frozen=True)
class MailResult:
    delivered: bool  # False: no mail server configured, the message was only logged


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def send_mail(to: str, subject: str, body: str) -> MailResult:
    """Send ``body`` to ``to``. Bodies must not carry more personal data than the link needs."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info(
            "mail not sent (MAIL_SERVER unset) to=%s subject=%r\n%s", mask_email(to), subject, body
        )
        return MailResult(delivered=False)
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    log.info("mail sent to=%s subject=%r", mask_email(to), subject)
    return MailResult(delivered=True)

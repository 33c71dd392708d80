"""A small mail interface: SMTP over verified TLS when MAIL_SERVER is set, otherwise nothing is
sent.

The log never carries a mail's body, subject or links (a reset link in a log would hand the
account to whoever reads the logs): only the template's name and a hash of the recipient, enough
to match a complaint ("I got no mail") with the log. Without a mail server, the invitation link
is shown to the admin who created it; a password reset is refused (web/auth/reset.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app

log = logging.getLogger("a1wallet.mail")


@dataclass(frozen=True)
class MailResult:
    delivered: bool  # False: no mail server configured, nothing was sent


def recipient_hash(address: str) -> str:
    """The first 12 hex digits of the SHA-256 of the normalised address: matches a log line with
    an account without writing the address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """The default context (it checks the server's certificate and name), made once: loading
    the system's CA certificates takes tens of milliseconds, once per mail of a batch else."""
    return ssl.create_default_context()


def _smtp(config: dict) -> smtplib.SMTP:
    """A connection whose TLS checks the server's certificate and name (the default context):
    implicit TLS (SMTPS, port 465) or STARTTLS."""
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if config.get("MAIL_USE_SSL"):
        return smtplib.SMTP_SSL(host, port, timeout=10, context=_tls_context())
    smtp = smtplib.SMTP(host, port, timeout=10)
    if config.get("MAIL_USE_TLS"):
        try:
            smtp.starttls(context=_tls_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def send_mail(
    to: str,
    subject: str,
    body: str,
    *,
    template: str = "message",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> MailResult:
    """Send ``body`` to ``to``; ``template`` names the kind of mail in the log (invitation,
    password_reset, …). Bodies must not carry more personal data than the link needs.
    ``attachments`` are (filename, content, mimetype) triples (the document sent to an
    authority)."""
    config = current_app.config
    if not mail_configured():
        log.info(
            "mail not sent (MAIL_SERVER unset): template=%s to=%s", template, recipient_hash(to)
        )
        return MailResult(delivered=False)
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, subtype = mimetype.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    with _smtp(config) as smtp:
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    log.info("mail sent: template=%s to=%s", template, recipient_hash(to))
    return MailResult(delivered=True)


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_mail_missing(app: Flask) -> None:
    """At start: a public deployment without a mail server cannot send invitations or password
    resets; say so once, clearly, instead of failing later in silence."""
    if app.config.get("MAIL_SERVER") or is_loopback_url(app.config["PUBLIC_BASE_URL"]):
        return
    log.warning(
        "MAIL_SERVER is not set although PUBLIC_BASE_URL (%s) is not a loopback address: "
        "no mail will be sent. Invitation links are shown to the admin who creates them and "
        "password resets are refused until MAIL_SERVER is configured (README, Configuration).",
        app.config["PUBLIC_BASE_URL"],
    )

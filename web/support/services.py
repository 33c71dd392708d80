"""Support's side of an authority check: the host country's language, a short script for the
call, and "Send to the authority" (the verification link and the document by mail)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from web.ask.services import agent_display_name, resolve
from web.audit import record_audit_event
from web.employees.services import validate_email_address
from web.i18n import LANGUAGE_NAMES, PUBLIC_LANGUAGES
from web.mail import mail_configured, recipient_hash, send_mail
from web.models import Incident, IncidentOutcome, IncidentStatus, User
from web.validation import InputError
from web.verify.statement import authority_mail
from web.wallet.services import inspector_language

# One agent may mail at most this many authorities: a stolen support session must not turn the
# app into a mailer of employees' documents.
AUTHORITY_MAIL_LIMIT = "10 per hour"


class MailUnavailable(RuntimeError):
    """No mail server is configured: nothing can be sent, and the agent is told so."""


@dataclass(frozen=True)
class CallScript:
    language: str  # the host country's language, one of the public pages' languages
    language_name: str
    lines: tuple[str, ...]  # in the host language where the console has it, else English


def host_language(incident: Incident) -> str:
    return inspector_language(incident.country)


def call_script(incident: Incident, agent: User) -> CallScript:
    language = host_language(incident)
    console = language if language in current_app.config["LANGUAGES"] else "en"
    provider = current_app.config["PROVIDER_NAME"]
    employee = incident.employee
    holder = f"{employee.given_names} {employee.family_name}"
    with force_locale(console):
        lines = (
            _(
                "Hello, this is %(agent)s from %(provider)s, the social security service "
                "provider of %(name)s.",
                agent=agent_display_name(agent),
                provider=provider,
                name=holder,
            ),
            _(
                "The QR code on the phone opens our check page; you can also type the "
                "verification code at %(url)s.",
                url=current_app.config["PUBLIC_BASE_URL"] + "/verify",
            ),
            _("I can e-mail you the certificate and its verification link now. To which address?"),
        )
    return CallScript(language, LANGUAGE_NAMES[language], lines)


def send_to_authority(incident: Incident, agent: User, address: str, language: str) -> str:
    """Mail the verification link and the document to the address the agent typed, in the
    inspector's language; then the incident is resolved as "document sent". Returns the
    normalised address. InputError for bad input; MailUnavailable without a mail server (the
    refusal is audited: the caller commits it)."""
    errors: dict[str, str] = {}
    try:
        address = validate_email_address(address or "")
    except InputError as exc:
        errors["authority_email"] = exc.errors["email"]
    if language not in PUBLIC_LANGUAGES:
        errors["authority_language"] = _("Choose a language.")
    certificate = incident.certificate
    if certificate is None or not certificate.qr_text:
        errors["authority_email"] = _("There is no signed certificate to send for this check.")
    elif incident.status == IncidentStatus.RESOLVED.value:
        errors["authority_email"] = _("This incident is already resolved.")
    if errors:
        raise InputError(errors)
    if not mail_configured():
        record_audit_event(
            "incident.document_refused",
            object_type="incident",
            object_id=incident.id,
            outcome="refused",
            message="no mail server",
            company_id=incident.company_id,
        )
        raise MailUnavailable()
    try:
        mail = authority_mail(certificate, language)
    except LookupError:
        raise InputError(
            {"authority_email": _("The authority's document of this certificate is missing.")}
        ) from None
    send_mail(
        address,
        mail.subject,
        mail.body,
        template="authority_document",
        attachments=(
            (mail.attachment.filename, mail.attachment.content, mail.attachment.mimetype),
        ),
    )
    record_audit_event(
        "incident.document_sent",
        object_type="incident",
        object_id=incident.id,
        message=f"certificate={certificate.id} to={recipient_hash(address)} lang={language}",
        company_id=incident.company_id,
    )
    employee_locale = getattr(incident.employee.user, "locale", None) or "en"
    with force_locale(employee_locale):
        note = _("Support e-mailed your certificate to the authority.")
    resolve(incident, agent, IncidentOutcome.DOCUMENT_SENT.value, note)
    return address

"""Posted-worker declarations per trip: whether one is needed and by when (from the host state's
rules), the deciding answer, the filing and its receipt, the EU standard form's fields and their
JSON export, and what an inspection needs beside the certificate.

Other areas call ``declaration_status_for_trip`` (status, label, next step, receipt),
``declaration_statuses`` (many trips, one query), ``inspection_bundle_for_trip`` and
``standard_form_export``; none of them needs to know the rules.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from web.audit import record_audit_event
from web.certificates.services import (
    MAX_DOCUMENT_BYTES,
    DocumentRefused,
    check_pdf,
    documents_root,
)
from web.database import in_batches
from web.declarations.public_messages import (
    CONTACT_LINE,
    DASHBOARD_BUCKETS,
    DOCUMENT_LABELS,
    EMPLOYEE_MISSING_NOTICE,
    EXEMPTION_LABELS,
    FILED_LINE,
    FILED_LINE_NO_NUMBER,
    MISSING_LINE,
    NEXT_STEP_FILED,
    NEXT_STEP_MISSING,
    NEXT_STEP_NONE,
    NEXT_STEP_QUESTION,
    NEXT_STEP_REQUIRED,
    NEXT_STEP_UNKNOWN,
    REASON_LABELS,
    STATE_LABELS,
    DeclarationState,
    NotRequiredReason,
)
from web.declarations.rules import NOT_REQUIRED, UNKNOWN, Rule, load_rules, rule_for
from web.extensions import db
from web.i18n import format_day, translated
from web.models import Declaration, Role, Trip, TripStatus, User, utcnow
from web.validation import InputError, parse_date

MAX_IMAGE_PIXELS = 40_000_000  # a phone photo is ~12 MP; beyond this it is no receipt
IMAGE_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}
PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class ReceiptDocument:
    """The stored receipt: where it is and what it is (served by declarations.receipt)."""

    path: Path
    filename: str
    media_type: str
    sha256: str
    url: str  # within a request; "" in a job


@dataclass(frozen=True)
class DeclarationStatus:
    """One trip's declaration: its state with a label and the next step, in the reader's
    language, the file-by date, the portal, the receipt once filed."""

    trip_id: int
    host_state: str
    state: DeclarationState
    # The sentences as (message, values), put into words when read: a dashboard decides the
    # state of every trip but shows the words of 25 (benchmarks/trip_lists.py).
    next_step_message: tuple[Any, dict[str, Any]]
    reason_message: tuple[Any, dict[str, Any]] | None = None
    file_by: date | None = None
    rule: Rule | None = None
    declaration: Declaration | None = None
    receipt: ReceiptDocument | None = None
    # The trip's other work countries, each with its own rule (declarations_elsewhere).
    elsewhere: tuple[DeclarationElsewhere, ...] = ()

    overdue: bool = False  # the file-by date has passed (a question still open, or missing)

    @property
    def label(self) -> str:
        return translated(STATE_LABELS[self.state])

    @property
    def next_step(self) -> str:
        return _in_words(self.next_step_message)

    @property
    def reason(self) -> str | None:
        return _in_words(self.reason_message) if self.reason_message else None

    @property
    def documents(self) -> list[tuple[str, str]]:
        """The documents to keep on site: (code, label)."""
        if self.rule is None:
            return []
        return [(code, translated(DOCUMENT_LABELS[code])) for code in self.rule.documents]

    @property
    def elsewhere_to_file(self) -> tuple[DeclarationElsewhere, ...]:
        """The other work countries whose declaration the employer still has to see to."""
        return tuple(e for e in self.elsewhere if e.to_file)

    @property
    def elsewhere_next_step(self) -> str:
        """The step for the other work countries, naming them ("" when none asks anything)."""
        countries = [e.country for e in self.elsewhere_to_file]
        if not countries:
            return ""
        return _(
            "The employee also works in %(countries)s: a posted-worker declaration is required "
            "there too for a service provided there (see the trip page).",
            countries=_country_list(countries),
        )

    @property
    def bucket(self) -> str:
        """required / missing / filed / not_required: the dashboard's column and filter."""
        return DASHBOARD_BUCKETS[self.state]

    @property
    def needs_action(self) -> bool:
        return self.state in (
            DeclarationState.UNKNOWN,
            DeclarationState.QUESTION,
            DeclarationState.REQUIRED,
            DeclarationState.MISSING,
        )

    @property
    def exemption_choices(self) -> list[tuple[str, str]]:
        if self.rule is None:
            return []
        return [(code, str(EXEMPTION_LABELS[code])) for code in self.rule.exemptions]


@dataclass(frozen=True)
class DeclarationElsewhere:
    """Another work country of the trip and its own declaration rule. The answer given for the
    destination does not decide it, and A1 Wallet records no filing there: the employer files
    on the country's portal and keeps the receipt."""

    state: str
    answer: DeclarationState  # REQUIRED, NOT_REQUIRED or UNKNOWN (never read as not required)
    label: str
    reason: str | None = None
    rule: Rule | None = None
    # The trip's first day counts: the day work starts in that country is not recorded, and a
    # declaration filed for the earliest possible start is never late.
    file_by: date | None = None
    to_file: bool = False  # required, and the trip has not ended

    @property
    def country(self) -> str:
        from web.countries import localised_country_name

        return localised_country_name(self.state)

    def as_json(self) -> dict[str, object]:
        rule = self.rule
        return {
            "state": self.state,
            "answer": self.answer.value,
            "answer_label": self.label,
            "reason": self.reason,
            "declaration": rule.declaration or None if rule else None,
            "portal": {"name": rule.portal_name, "url": rule.portal_url}
            if rule and rule.portal_url
            else None,
            "lead_time": {"days": rule.lead_days, "counting": rule.counting, "when": rule.deadline}
            if rule and self.answer is DeclarationState.REQUIRED
            else None,
            "file_by": self.file_by.isoformat() if self.file_by else None,
        }


def _country_list(names: list[str]) -> str:
    """ "Austria and Belgium" in the reader's language."""
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list(names, locale=str(get_locale() or "en"))


def declarations_elsewhere(trip: Trip, today: date | None = None) -> list[DeclarationElsewhere]:
    """For each work country of ``trip`` other than its destination, that country's own rule:
    required (with portal, lead time and file-by date), not required (and why), or unknown: check
    the country's posting website. Reads the rules in memory and no table (lists stay bulk)."""
    from web.countries import localised_country_name

    if trip.status == TripStatus.CANCELLED.value:
        return []
    ended = (today or date.today()) > trip.end_date
    seat = _company_seat(trip)
    found: list[DeclarationElsewhere] = []
    for state in trip.work_state_list:
        if state == trip.destination_state:
            continue
        rule = rule_for(state)
        if state == seat or rule is None or rule.status == NOT_REQUIRED:
            why = (
                NotRequiredReason.HOME_STATE
                if state == seat
                else NotRequiredReason.OUTSIDE_EU_RULES
                if rule is None
                else NotRequiredReason.STATE_REQUIRES_NONE
            )
            reason = REASON_LABELS[why] % {"country": localised_country_name(state)}
            answer = DeclarationState.NOT_REQUIRED
            found.append(
                DeclarationElsewhere(state, answer, str(STATE_LABELS[answer]), str(reason), rule)
            )
        elif rule.status == UNKNOWN:
            answer = DeclarationState.UNKNOWN
            reason = NEXT_STEP_UNKNOWN % {"country": localised_country_name(state)}
            found.append(
                DeclarationElsewhere(state, answer, str(STATE_LABELS[answer]), str(reason), rule)
            )
        else:
            answer = DeclarationState.REQUIRED
            found.append(
                DeclarationElsewhere(
                    state,
                    answer,
                    str(STATE_LABELS[answer]),
                    rule=rule,
                    file_by=rule.file_by(trip.start_date),
                    to_file=not ended,
                )
            )
    return found


def declaration_of(trip: Trip) -> Declaration | None:
    return db.session.scalar(select(Declaration).where(Declaration.trip_id == trip.id))


def _company_seat(trip: Trip) -> str | None:
    return trip.employee.company.seat_state if trip.employee and trip.employee.company else None


def receipt_document(declaration: Declaration | None) -> ReceiptDocument | None:
    path = receipt_file(declaration)
    if path is None or declaration is None:
        return None
    return ReceiptDocument(
        path=path,
        filename=declaration.receipt_filename or path.name,
        media_type=declaration.receipt_media_type or PDF_MEDIA_TYPE,
        sha256=declaration.receipt_sha256 or "",
        url=url_for("declarations.receipt", trip_id=declaration.trip_id)
        if has_request_context()
        else "",
    )


def receipt_file(declaration: Declaration | None) -> Path | None:
    if declaration is None or not declaration.receipt_path:
        return None
    root = documents_root().resolve()
    path = (root / declaration.receipt_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def _in_words(message: tuple[Any, dict[str, Any]]) -> str:
    """A (message, values) pair in the reader's language; a value that is a country code or a
    date is put into words too."""
    from web.countries import localised_country_name

    text, values = message
    words = {
        key: localised_country_name(value)
        if key == "country"
        else format_day(value)
        if isinstance(value, date)
        else translated(value)
        if key == "exemption"
        else value
        for key, value in values.items()
    }
    return translated(text) % words if words else translated(text)


def _not_required(trip: Trip, reason: NotRequiredReason, rule: Rule | None, **values) -> dict:
    return {
        "state": DeclarationState.NOT_REQUIRED,
        "reason": (REASON_LABELS[reason], values),
        "next_step": (NEXT_STEP_NONE, {}),
        "rule": rule,
    }


def _decide(trip: Trip, declaration: Declaration | None, today: date) -> dict:

    host = trip.destination_state
    country = host  # put into words when read (_in_words)
    rule = rule_for(host)
    if trip.status == TripStatus.CANCELLED.value:
        return _not_required(trip, NotRequiredReason.CANCELLED, rule)
    if declaration is not None and declaration.filed_on is not None:
        return {"state": DeclarationState.FILED, "next_step": (NEXT_STEP_FILED, {}), "rule": rule}
    if rule is None:
        return _not_required(trip, NotRequiredReason.OUTSIDE_EU_RULES, None)
    if _company_seat(trip) == host:
        return _not_required(trip, NotRequiredReason.HOME_STATE, rule)
    if rule.status == NOT_REQUIRED:
        return _not_required(trip, NotRequiredReason.STATE_REQUIRES_NONE, rule, country=country)
    if rule.status == UNKNOWN:
        # Never "not required": the employer checks the state's own posting website.
        return {
            "state": DeclarationState.UNKNOWN,
            "next_step": (NEXT_STEP_UNKNOWN, {"country": country}),
            "rule": rule,
        }
    file_by = rule.file_by(trip.start_date)
    if declaration is None or declaration.provides_service is None:
        return {
            "state": DeclarationState.QUESTION,
            "next_step": (NEXT_STEP_QUESTION, {"country": country}),
            "rule": rule,
            "file_by": file_by,
        }
    if not declaration.provides_service:
        return _not_required(trip, NotRequiredReason.NO_SERVICE, rule)
    if declaration.exemption and declaration.exemption in rule.exemptions:
        label = EXEMPTION_LABELS[declaration.exemption]
        return _not_required(trip, NotRequiredReason.EXEMPTION, rule, exemption=label)
    if today > file_by:
        return {
            "state": DeclarationState.MISSING,
            "next_step": (NEXT_STEP_MISSING, {"portal": rule.portal_name}),
            "rule": rule,
            "file_by": file_by,
        }
    return {
        "state": DeclarationState.REQUIRED,
        "next_step": (NEXT_STEP_REQUIRED, {"portal": rule.portal_name, "date": file_by}),
        "rule": rule,
        "file_by": file_by,
    }


def _status(trip: Trip, declaration: Declaration | None, today: date) -> DeclarationStatus:
    decided = _decide(trip, declaration, today)
    return DeclarationStatus(
        trip_id=trip.id,
        host_state=trip.destination_state,
        state=decided["state"],
        next_step_message=decided["next_step"],
        reason_message=decided.get("reason"),
        file_by=decided.get("file_by"),
        overdue=decided.get("file_by") is not None and today > decided["file_by"],
        rule=decided.get("rule"),
        declaration=declaration,
        receipt=receipt_document(declaration),
        elsewhere=tuple(declarations_elsewhere(trip, today)),
    )


def declaration_status_for_trip(trip: Trip, today: date | None = None) -> DeclarationStatus:
    """Where ``trip`` stands with its host state's declaration, in the reader's language."""
    return _status(trip, declaration_of(trip), today or date.today())


def declaration_statuses(
    trips: list[Trip], today: date | None = None
) -> dict[int, DeclarationStatus]:
    """``declaration_status_for_trip`` for many trips with one query (the dashboard's column)."""
    found = {
        d.trip_id: d
        for ids in in_batches(t.id for t in trips)
        for d in db.session.scalars(select(Declaration).where(Declaration.trip_id.in_(ids)))
    }
    today = today or date.today()
    return {t.id: _status(t, found.get(t.id), today) for t in trips}


# --- changes ------------------------------------------------------------------------------------


def _check_may_manage(actor: User, trip: Trip) -> None:
    """Employer admins of the trip's company, or the provider's staff (the views check too)."""
    role = actor.role_enum
    if role in (Role.SUPPORT, Role.OPERATOR):
        return
    if role == Role.EMPLOYER_ADMIN and actor.company_id == trip.company_id:
        return
    raise PermissionError("may not manage this trip's declaration")


def _declaration_for_change(trip: Trip) -> Declaration:
    declaration = declaration_of(trip)
    if declaration is None:
        declaration = Declaration(company_id=trip.company_id, trip_id=trip.id)
        db.session.add(declaration)
    declaration.updated_at = utcnow()
    return declaration


def answer_question(
    trip: Trip, provides_service: str, exemption: str, *, actor: User
) -> Declaration:
    """Record the deciding answer: "yes" or "no" to "a service there?", and the exemption
    chosen from the host state's list ("" for none). The caller commits."""
    _check_may_manage(actor, trip)
    errors: dict[str, str] = {}
    if provides_service not in ("yes", "no"):
        errors["provides_service"] = _("Choose yes or no.")
    rule = rule_for(trip.destination_state)
    allowed = rule.exemptions if rule else ()
    exemption = (exemption or "").strip()
    if exemption and exemption not in allowed:
        errors["exemption"] = _("Choose one of the exemptions listed for this country.")
    if errors:
        raise InputError(errors)
    declaration = _declaration_for_change(trip)
    declaration.provides_service = provides_service == "yes"
    declaration.exemption = (exemption or None) if declaration.provides_service else None
    declaration.answered_at = utcnow()
    declaration.answered_by_id = actor.id
    record_audit_event(
        "declaration.answered",
        object_type="trip",
        object_id=trip.id,
        company_id=trip.company_id,
        message=f"service={provides_service} exemption={declaration.exemption or '-'}",
    )
    return declaration


# The EU standard form's items kept on the declaration, with their length limits.
FORM_FIELDS: dict[str, int] = {
    "provider_registration": 64,
    "provider_address": 300,
    "recipient_name": 200,
    "recipient_address": 300,
    "workplace_address": 300,
    "sector": 200,
    "contact_name": 200,
    "contact_email": 254,
    "contact_phone": 40,
    "contact_address": 300,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")


def save_standard_form(trip: Trip, values: dict[str, str], *, actor: User) -> Declaration:
    """Store the standard form's fields (all optional, each checked). The caller commits."""
    _check_may_manage(actor, trip)
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, limit in FORM_FIELDS.items():
        text = " ".join(str(values.get(name) or "").split())
        if len(text) > limit:
            errors[name] = _("is longer than %(n)d characters", n=limit)
        cleaned[name] = text
    if cleaned["contact_email"] and not _EMAIL.match(cleaned["contact_email"]):
        errors["contact_email"] = _("is not an e-mail address")
    if cleaned["contact_phone"] and not _PHONE.match(cleaned["contact_phone"]):
        errors["contact_phone"] = _("is not a phone number (digits, spaces, + ( ) - . /)")
    if errors:
        raise InputError(errors)
    declaration = _declaration_for_change(trip)
    for name, text in cleaned.items():
        setattr(declaration, name, text)
    return declaration


@dataclass(frozen=True)
class CheckedReceipt:
    media_type: str
    extension: str


class ReceiptRefused(InputError):
    def __init__(self, message: str, *, reason: str, too_large: bool = False) -> None:
        super().__init__({"receipt": message})
        self.reason = reason
        self.too_large = too_large


def check_receipt(content: bytes) -> CheckedReceipt:
    """A PDF (the same pypdf check as the authorities' PDFs) or a PNG/JPEG image that Pillow
    decodes, at most 10 MB and 40 megapixels."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ReceiptRefused(
            _("The receipt is larger than 10 MB."), reason="too_large", too_large=True
        )
    if content.startswith(b"%PDF-"):
        try:
            check_pdf(content)
        except DocumentRefused as exc:
            messages = {
                "encrypted": _("The receipt PDF is encrypted: upload a copy without a password."),
                "no_page": _("The receipt PDF has no page."),
            }
            message = messages.get(exc.reason, _("The receipt is not a readable PDF file."))
            raise ReceiptRefused(message, reason=f"pdf_{exc.reason}") from None
        return CheckedReceipt(PDF_MEDIA_TYPE, "pdf")
    return _check_image(content)


def _check_image(content: bytes) -> CheckedReceipt:
    from PIL import Image, UnidentifiedImageError

    not_a_receipt = _("The receipt must be a PDF, or a photo or scan as PNG or JPEG.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind = image.format
                if kind not in IMAGE_FORMATS:
                    raise ReceiptRefused(not_a_receipt, reason="not_pdf_or_image")
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ReceiptRefused(
                        _("The receipt image is too large (at most 40 megapixels)."),
                        reason="too_many_pixels",
                    )
                image.verify()
            with Image.open(io.BytesIO(content)) as image:
                image.load()  # decodes every pixel: a truncated file fails here
    except ReceiptRefused:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Warning,
        Image.DecompressionBombError,
    ):
        raise ReceiptRefused(not_a_receipt, reason="not_pdf_or_image") from None
    media_type, extension = IMAGE_FORMATS[kind]
    return CheckedReceipt(media_type, extension)


def record_filing(
    trip: Trip,
    *,
    filed_on: str,
    receipt_number: str,
    receipt: bytes | None,
    filename: str,
    actor: User,
    today: date,
) -> Declaration:
    """Record that the declaration was filed: the day, the portal's receipt number and the
    receipt. Every field is checked before anything is stored; a refused receipt writes one
    audit event (committed here, the rest is rolled back). The caller commits."""
    _check_may_manage(actor, trip)
    errors: dict[str, str] = {}
    rule = rule_for(trip.destination_state)
    day: date | None = None
    try:
        day = parse_date(filed_on)
    except ValueError:
        errors["filed_on"] = _("is required (YYYY-MM-DD)")
    if day is not None and day > trip.end_date:
        errors["filed_on"] = _(
            "is after the trip's last day (%(date)s)", date=format_day(trip.end_date)
        )
    elif day is not None and day > today:
        errors["filed_on"] = _("is in the future")
    number = " ".join((receipt_number or "").split())
    if len(number) > 100:
        errors["receipt_number"] = _("is longer than %(n)d characters", n=100)
    elif not number and rule is not None and rule.receipt_number:
        errors["receipt_number"] = _(
            "is required: %(portal)s gives a number with the receipt", portal=rule.portal_name
        )
    existing = declaration_of(trip)
    checked: CheckedReceipt | None = None
    too_large = False
    if receipt:
        try:
            checked = check_receipt(receipt)
        except ReceiptRefused as exc:
            too_large = exc.too_large
            errors.update(exc.errors)
            db.session.rollback()
            record_audit_event(
                "declaration.receipt_refused",
                outcome="denied",
                object_type="trip",
                object_id=trip.id,
                company_id=trip.company_id,
                message=exc.reason,
            )
            db.session.commit()
    elif existing is None or not existing.receipt_path:
        errors["receipt"] = _("Upload the receipt (PDF, or a photo as PNG or JPEG).")
    if errors:
        error = InputError(errors)
        error.too_large = too_large  # type: ignore[attr-defined]
        raise error
    declaration = _declaration_for_change(trip)
    if declaration.provides_service is None:
        declaration.provides_service = True  # a filing answers the question
    declaration.filed_on = day
    declaration.receipt_number = number or None
    if receipt and checked is not None:
        replaced = declaration.receipt_path
        digest = hashlib.sha256(receipt).hexdigest()
        relative = (
            Path(str(trip.company_id))
            / "declarations"
            / f"trip-{trip.id}-{digest[:16]}.{checked.extension}"
        )
        target = documents_root() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")
        part.write_bytes(receipt)
        part.replace(target)  # never a half-written file under the final name
        declaration.receipt_path = str(relative)
        # Removed by remove_replaced_receipt once the new record is committed.
        declaration.replaced_receipt_path = replaced if replaced != str(relative) else None
        declaration.receipt_sha256 = digest
        declaration.receipt_media_type = checked.media_type
        declaration.receipt_filename = Path(filename or f"receipt.{checked.extension}").name[:255]
    declaration.recorded_at = utcnow()
    declaration.recorded_by_id = actor.id
    record_audit_event(
        "declaration.filed",
        object_type="trip",
        object_id=trip.id,
        company_id=trip.company_id,
    )
    return declaration


def remove_replaced_receipt(declaration: Declaration) -> None:
    """After the commit: delete the file of a receipt the filing replaced."""
    relative = getattr(declaration, "replaced_receipt_path", None)
    if not relative:
        return
    root = documents_root().resolve()
    path = (root / relative).resolve()
    if root in path.parents and path.is_file():
        path.unlink()
    declaration.replaced_receipt_path = None


# --- what others show ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionBundle:
    """What the inspection view shows beside the certificate, in the reader's language."""

    status: DeclarationStatus
    line: str | None  # "Posted-worker declaration: filed on …, receipt no. …" or "… not recorded"
    contact_line: str | None  # the contact person in the host state, when one is named
    receipt: ReceiptDocument | None
    documents: list[tuple[str, str]]  # what must be kept available on site
    employee_notice: str | None  # for the employee before the trip: required, not recorded


def inspection_bundle_for_trip(trip: Trip, today: date | None = None) -> InspectionBundle:
    from web.countries import localised_country_name

    status = declaration_status_for_trip(trip, today)
    declaration = status.declaration
    country = localised_country_name(trip.destination_state)
    line = None
    if status.state == DeclarationState.FILED and declaration is not None:
        filed = format_day(declaration.filed_on)
        if declaration.receipt_number:
            line = str(FILED_LINE % {"date": filed, "number": declaration.receipt_number})
        else:
            line = str(FILED_LINE_NO_NUMBER % {"date": filed})
    notice = None
    if status.state in (DeclarationState.REQUIRED, DeclarationState.MISSING):
        line = str(MISSING_LINE % {"country": country})
        notice = str(EMPLOYEE_MISSING_NOTICE % {"country": country})
    contact = None
    if declaration is not None and declaration.contact_name:
        contact = str(CONTACT_LINE % {"country": country, "name": declaration.contact_name})
    return InspectionBundle(status, line, contact, status.receipt, status.documents, notice)


def _social_security_state(trip: Trip) -> str | None:
    """The state whose legislation applies, as the coverage engine last answered."""
    try:
        coverage = json.loads(trip.coverage_json or "{}")
    except ValueError:
        coverage = {}
    return coverage.get("legislation_state") or None


def standard_form_export(trip: Trip, today: date | None = None) -> dict[str, object]:
    """The declaration in the items of the EU standard declaration form, for GET
    /api/v1/trips/{id}/declaration: what an interface to a national portal would need."""
    status = declaration_status_for_trip(trip, today)
    declaration = status.declaration or Declaration()
    employee = trip.employee
    company = employee.company
    rule = status.rule
    return {
        "trip_id": trip.id,
        "host_state": trip.destination_state,
        "status": status.state.value,
        "status_label": status.label,
        "next_step": status.next_step,
        "file_by": status.file_by.isoformat() if status.file_by else None,
        "declaration": rule.declaration or None if rule else None,
        "portal": {"name": rule.portal_name, "url": rule.portal_url}
        if rule and rule.portal_url
        else None,
        "standard_form": {
            "service_provider": {
                "name": company.name,
                "state_of_establishment": company.seat_state,
                "registration_number": declaration.provider_registration or None,
                "address": declaration.provider_address or None,
            },
            "posted_worker": {
                "family_name": employee.family_name,
                "given_names": employee.given_names,
                "birth_date": employee.birth_date.isoformat(),
                "nationality": employee.nationality,
            },
            "social_security_state": _social_security_state(trip),
            "period": {"start": trip.start_date.isoformat(), "end": trip.end_date.isoformat()},
            "place_of_work": {
                "state": trip.destination_state,
                "address": declaration.workplace_address or None,
            },
            "sector": declaration.sector or None,
            "service_recipient": {
                "name": declaration.recipient_name or None,
                "address": declaration.recipient_address or None,
            },
            "contact_person": {
                "name": declaration.contact_name or None,
                "email": declaration.contact_email or None,
                "phone": declaration.contact_phone or None,
                "address": declaration.contact_address or None,
            },
        },
        "filing": {
            "filed_on": declaration.filed_on.isoformat(),
            "receipt_number": declaration.receipt_number,
            "receipt_attached": status.receipt is not None,
        }
        if declaration.filed_on
        else None,
        "rules": {
            "version": load_rules().version,
            "source": rule.source.url if rule else None,
            "applies_from": rule.applies_from.isoformat() if rule else None,
        },
    }

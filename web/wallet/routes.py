"""The employee's wallet: certificates, the inspector view, settings. Employees only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, abort, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from web.access import roles_required
from web.audit import record_audit_event
from web.certificates.qr import qr_svg
from web.certificates.services import is_in_force
from web.certificates.titles import is_provisional, qr_label
from web.declarations.inspection import (
    bundle_beside,
    employee_notices,
    receipt_urls,
    trip_for_certificate,
)
from web.extensions import db
from web.i18n import LANGUAGE_NAMES, PUBLIC_LANGUAGES
from web.models import Certificate, CertificateStatus, Role, SignIn
from web.rendering import render_page_or_fragment
from web.verify.services import holder_details
from web.wallet import bp
from web.wallet.services import (
    chip_for,
    choose_certificate,
    current_certificates,
    current_trip,
    employee_certificates,
    inspector_language,
    upcoming_trips,
    wallet_certificates,
)

employee_only = roles_required(Role.EMPLOYEE)


@bp.after_request
def private_pages(response: Response) -> Response:
    # Personal pages: no HTTP cache, no back-forward cache after logout. (The service worker
    # keeps its own copy for offline use; the Cache API ignores these headers.)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _own_certificate(certificate_id: str) -> Certificate:
    """The signed-in employee's certificate, or 404 (another's answers like a missing one)."""
    employee = current_user.employee
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or employee is None or certificate.employee_id != employee.id:
        record_audit_event(
            "access.not_found",
            object_type="certificate",
            object_id=certificate_id,
            outcome="denied",
        )
        db.session.commit()
        abort(404)
    return certificate


def _rendered_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _logout_token() -> str:
    sign_in = db.session.get(SignIn, current_user.get_id())
    return sign_in.logout_token if sign_in else ""


@bp.route("/")
@employee_only
def home() -> str:
    employee = current_user.employee
    today = date.today()
    certificates = employee_certificates(employee)
    trips = upcoming_trips(employee, today)
    return render_template(
        "wallet/home.html",
        ask=choose_certificate(employee, today),
        employee=employee,
        rows=wallet_certificates(certificates, today),
        trips=trips,
        declaration_notices=employee_notices(trips, today),
        offline_urls=[
            url_for("wallet.ask_none"),
            *_offline_urls(current_certificates(certificates, today)),
            *receipt_urls(trips, today),  # the inspection bundle: the declaration receipts
        ],
        today=today,
        rendered_at=_rendered_at(),
        logout_token=_logout_token(),
    )


def _offline_urls(certificates: list[Certificate]) -> list[str]:
    """Pages the service worker fetches after login, so they open with no network."""

    urls = []
    for c in certificates:
        urls.append(url_for("wallet.certificate", certificate_id=c.id))
        urls.append(url_for("wallet.inspector", certificate_id=c.id))
        # The inspector may read another language: each one is kept, so switching works offline.
        urls.extend(
            url_for("wallet.inspector", certificate_id=c.id, lang=code) for code in PUBLIC_LANGUAGES
        )
        if is_provisional(c):
            urls.append(url_for("wallet.show_provisional", certificate_id=c.id))
        if c.document_path:
            urls.append(url_for("certificates.document", certificate_id=c.id))
    return urls


@bp.route("/certificates/<certificate_id>")
@employee_only
def certificate(certificate_id: str) -> Response:
    cert = _own_certificate(certificate_id)
    today = date.today()
    trips = upcoming_trips(current_user.employee, today)
    return render_page_or_fragment(
        "wallet/certificate.html",
        "wallet/_certificate.html",
        certificate=cert,
        chip=chip_for(cert, today),
        # A provisional statement's QR opens only through the inspector view (the ask button
        # or the deliberate "show to an authority" step), never on its own page.
        qr=qr_svg(cert.qr_text, qr_label(cert))
        if cert.qr_text and not is_provisional(cert)
        else None,
        ask=choose_certificate(current_user.employee, today),
        declaration=bundle_beside(trip_for_certificate(trips, cert, today)),
        rendered_at=_rendered_at(),
        logout_token=_logout_token(),
    )


@bp.route("/certificates/<certificate_id>/inspector")
@employee_only
def inspector(certificate_id: str) -> Response:
    """Full screen for the inspector: title, QR, name and validity on the first screen, all in
    the inspector's language; the employee's part (support, back) in the employee's."""
    cert = _own_certificate(certificate_id)
    if not is_in_force(cert) and cert.status != CertificateStatus.WITHDRAWN.value:
        # Waiting for review or rejected: nothing an inspector could check.
        return redirect(url_for("wallet.certificate", certificate_id=cert.id))
    today = date.today()
    trips = upcoming_trips(current_user.employee, today)
    trip = current_trip(trips, today)
    default = inspector_language(trip.destination_state if trip else None)
    lang = request.args.get("lang")
    lang = lang if lang in PUBLIC_LANGUAGES else default
    # The employee's part is in the employee's language, rendered before the inspector's.
    # Our own template, escaped by Jinja as it renders: safe to embed as markup.
    ask_status = Markup(render_template("wallet/_ask_status.html"))  # noqa: S704  # nosec B704
    employee_texts = {
        "lang": str(get_locale() or "en"),
        "back": gettext("Back to my certificate"),
        "brightness": gettext("Turn the screen brightness up for the QR code."),
        "dismiss": gettext("OK"),
    }
    with force_locale(lang):
        html = render_template(
            "wallet/inspector.html",
            certificate=cert,
            d=holder_details(cert),
            chip=chip_for(cert, today),
            qr=qr_svg(cert.qr_text, qr_label(cert)) if cert.qr_text else None,
            inspector_lang=lang,
            ask_status=ask_status,
            employee=employee_texts,
            inspector_languages=[(code, LANGUAGE_NAMES[code]) for code in PUBLIC_LANGUAGES],
            # The posted-worker declaration beside the certificate, in the inspector's language.
            declaration=bundle_beside(trip_for_certificate(trips, cert, today)),
            rendered_at=_rendered_at(),
        )
    return make_response(html)


@bp.route("/certificates/<certificate_id>/show")
@employee_only
def show_provisional(certificate_id: str) -> Response | str:
    """The deliberate step before a provisional statement is shown: the rule, and the choice
    to alert support while showing it."""
    cert = _own_certificate(certificate_id)
    if not is_provisional(cert) or not is_in_force(cert):
        return redirect(url_for("wallet.certificate", certificate_id=cert.id))
    return render_template(
        "wallet/show_provisional.html",
        certificate=cert,
        ask=choose_certificate(current_user.employee, date.today()),
        rendered_at=_rendered_at(),
        logout_token=_logout_token(),
    )


@bp.route("/ask/none")
@employee_only
def ask_none() -> str:
    """No certificate fits here and now: say so, put support first, show the closest one. The
    sentence for the inspector is in the inspector's language, with the employee's beneath."""
    ask = choose_certificate(current_user.employee, date.today())
    lang = inspector_language(ask.country)
    employee_lang = str(get_locale() or "en")
    quote = "wallet/_inspector_no_certificate.html"
    with force_locale(lang):
        inspector_quote = render_template(quote).strip()
    own_quote = render_template(quote).strip() if lang != employee_lang else None
    return render_template(
        "wallet/ask_none.html",
        ask=ask,
        inspector_lang=lang,
        inspector_quote=Markup(inspector_quote),  # noqa: S704  # nosec B704 - our template, escaped
        own_quote=Markup(own_quote) if own_quote else None,  # noqa: S704  # nosec B704
        rendered_at=_rendered_at(),
        logout_token=_logout_token(),
    )


@bp.route("/settings")
@employee_only
def settings() -> str:
    from web.auth.services import open_sign_ins
    from web.wallet.forms import LocationConsentForm

    return render_template(
        "wallet/settings.html",
        consent_form=LocationConsentForm(consent=current_user.location_consent),
        sign_ins=open_sign_ins(current_user),
        current_sign_in_id=current_user.get_id(),
        logout_token=_logout_token(),
    )


@bp.route("/settings/location", methods=["POST"])
@employee_only
def set_location_consent() -> Response:
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _

    from web.wallet.forms import LocationConsentForm

    form = LocationConsentForm()
    current_user.location_consent = bool(form.consent.data)
    record_audit_event(
        "wallet.location_consent",
        object_type="user",
        object_id=current_user.id,
        message="on" if current_user.location_consent else "off",
    )
    db.session.commit()
    flash(
        _("Location sharing is on.")
        if current_user.location_consent
        else _("Location sharing is off."),
        "info",
    )
    return redirect(url_for("wallet.settings"))

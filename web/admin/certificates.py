"""Employer console, certificates: the certificate page, a provisional statement issued, the
authority's document recorded, withdraw and extend."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404
from web.admin import admin_only, bp
from web.admin.forms import CertificateForm, ExtendForm, OfficialCertificateForm, RevokeForm
from web.certificates.qr import qr_svg
from web.certificates.services import (
    MAX_DOCUMENT_BYTES,
    extend_certificate,
    import_official_certificate,
    issue_provisional_certificate,
    revoke_certificate,
    validate_certificate_input,
)
from web.extensions import db, limiter
from web.models import Certificate, Employee, Trip
from web.validation import InputError


@bp.route("/certificates/<certificate_id>")
@admin_only
def certificate(certificate_id: str) -> tuple[str, int]:
    return _certificate_page(get_company_object_or_404(Certificate, certificate_id))


def _certificate_page(cert: Certificate, status: int = 200, revoke_form=None, extend_form=None):
    html = render_template(
        "admin/certificate.html",
        certificate=cert,
        today=date.today(),
        qr=qr_svg(cert.qr_text, _("QR code of the certificate")) if cert.qr_text else None,
        revoke_form=revoke_form or RevokeForm(),
        extend_form=extend_form or ExtendForm(),
    )
    return html, status


def _certificate_form_defaults(trip: Trip) -> dict[str, object]:
    employee = trip.employee
    return {
        "legislation_state": employee.home_state,
        "work_states": trip.work_state_list,
        "valid_from": trip.start_date,
        "valid_to": trip.end_date,
    }


@bp.route("/trips/<int:trip_id>/certificates/provisional", methods=["GET", "POST"])
@admin_only
@limiter.limit("30 per hour", methods=["POST"], key_func=lambda: f"issue:{current_user.id}")
def issue_provisional(trip_id: int) -> Response | tuple[str, int] | str:
    trip = get_company_object_or_404(Trip, trip_id)
    if request.method == "POST":
        form = CertificateForm()
        try:
            cert = issue_provisional_certificate(
                trip.employee,
                validate_certificate_input(form.raw_values(), official=False),
                actor=current_user,
                trip=trip,
                # A replay (double submit, retry after a lost answer) redirects to the same one.
                idempotency_key=request.headers.get("Idempotency-Key")
                or request.form.get("idempotency_key"),
            )
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return render_template(
                "admin/certificate_form.html",
                form=form,
                trip=trip,
                employee=trip.employee,
                official=False,
                errors=exc.errors,
            ), 422
        db.session.commit()
        flash(_("The provisional certificate is issued and in the employee's wallet."), "info")
        return redirect(url_for("admin.certificate", certificate_id=cert.id))
    form = CertificateForm(data=_certificate_form_defaults(trip))
    return render_template(
        "admin/certificate_form.html",
        form=form,
        trip=trip,
        employee=trip.employee,
        official=False,
        errors={},
    )


@bp.route("/employees/<int:employee_id>/certificates/official", methods=["GET", "POST"])
@admin_only
def import_official(employee_id: int) -> Response | tuple[str, int] | str:
    emp = get_company_object_or_404(Employee, employee_id)
    trip_id = request.args.get("trip", type=int)
    trip = get_company_object_or_404(Trip, trip_id) if trip_id else None
    if request.method == "POST":
        form = OfficialCertificateForm()
        upload = request.files.get("document")
        content = upload.read(MAX_DOCUMENT_BYTES + 1) if upload and upload.filename else None
        try:
            data = validate_certificate_input(form.raw_values(), official=True)
            if content is None:
                raise InputError({"document": _("Attach the authority's PDF.")})
            cert = import_official_certificate(
                emp,
                data,
                actor=current_user,
                document=content,
                filename=upload.filename or "",
                trip=trip,
            )
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            status = 413 if content is not None and len(content) > MAX_DOCUMENT_BYTES else 422
            return render_template(
                "admin/certificate_form.html",
                form=form,
                trip=trip,
                employee=emp,
                official=True,
                errors=exc.errors,
            ), status
        db.session.commit()
        flash(
            _(
                "The official certificate is recorded. %(provider)s checks the authority's "
                "document; once confirmed it is signed and valid in the employee's wallet.",
                provider=current_app.config["PROVIDER_NAME"],
            ),
            "info",
        )
        return redirect(url_for("admin.certificate", certificate_id=cert.id))
    defaults = _certificate_form_defaults(trip) if trip else {"legislation_state": emp.home_state}
    form = OfficialCertificateForm(data=defaults)
    return render_template(
        "admin/certificate_form.html", form=form, trip=trip, employee=emp, official=True, errors={}
    )


@bp.route("/certificates/<certificate_id>/revoke", methods=["POST"])
@admin_only
def revoke(certificate_id: str) -> Response | tuple[str, int]:
    cert = get_company_object_or_404(Certificate, certificate_id)
    form = RevokeForm()
    try:
        revoke_certificate(cert, form.reason.data or "", actor=current_user)
    except InputError as exc:
        db.session.rollback()
        form.reason.errors = list(exc.errors.values())
        return _certificate_page(cert, 422, revoke_form=form)
    db.session.commit()
    flash(_("The certificate is withdrawn. Inspectors checking it now see “Withdrawn”."), "info")
    return redirect(url_for("admin.certificate", certificate_id=cert.id))


@bp.route("/certificates/<certificate_id>/extend", methods=["POST"])
@admin_only
def extend(certificate_id: str) -> Response | tuple[str, int]:
    cert = get_company_object_or_404(Certificate, certificate_id)
    form = ExtendForm()
    try:
        if form.valid_to.data is None:
            raise InputError({"valid_to": _("is required")})
        new = extend_certificate(cert, form.valid_to.data, actor=current_user)
    except InputError as exc:
        db.session.rollback()
        form.valid_to.errors = list(exc.errors.values())
        return _certificate_page(cert, 422, extend_form=form)
    db.session.commit()
    flash(_("The extended certificate replaces the old one."), "info")
    return redirect(url_for("admin.certificate", certificate_id=new.id))

"""Employer console, certificate requests: from draft to filed, then the authority's document or
refusal recorded."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404
from web.admin import admin_only, bp
from web.admin.forms import ChecklistForm, DecisionForm, RefusalForm
from web.certificates.services import MAX_DOCUMENT_BYTES
from web.extensions import db
from web.filing.certificate_requests import (
    CHECKLIST,
    cancel_request,
    record_issued,
    record_refused,
    request_warnings,
    submit_request,
)
from web.models import CertificateRequest
from web.validation import InputError


def _request_page(req: CertificateRequest, status: int = 200, **forms):
    today = date.today()
    decision = forms.get("decision_form") or DecisionForm(
        data={"valid_from": req.period_start, "valid_to": req.period_end, "issuing_institution": ""}
    )
    return render_template(
        "admin/request.html",
        req=req,
        checklist=CHECKLIST,
        checklist_form=forms.get("checklist_form") or ChecklistForm(obj=req),
        decision_form=decision,
        refusal_form=forms.get("refusal_form") or RefusalForm(),
        warnings=request_warnings(req, today),
        errors=forms.get("errors") or {},
    ), status


@bp.route("/requests/<int:request_id>")
@admin_only
def certificate_request(request_id: int):
    return _request_page(get_company_object_or_404(CertificateRequest, request_id))


@bp.route("/requests/<int:request_id>/submit", methods=["POST"])
@admin_only
def submit_certificate_request(request_id: int):
    req = get_company_object_or_404(CertificateRequest, request_id)
    form = ChecklistForm()
    try:
        provisional = submit_request(
            req,
            {name: form[name].data for name, _l in CHECKLIST},
            actor=current_user,
            today=date.today(),
        )
    except InputError as exc:
        db.session.rollback()
        form.show_errors(exc.errors)
        return _request_page(req, 422, checklist_form=form, errors=exc.errors)
    db.session.commit()
    flash(_("The request is marked as filed with the authority."), "info")
    if provisional is not None:
        flash(
            _(
                "The document cannot arrive before the trip starts: a provisional certificate "
                "covers the meantime and is in the employee's wallet."
            ),
            "info",
        )
    return redirect(url_for("admin.certificate_request", request_id=req.id))


@bp.route("/requests/<int:request_id>/issued", methods=["POST"])
@admin_only
def record_request_issued(request_id: int):
    req = get_company_object_or_404(CertificateRequest, request_id)
    form = DecisionForm()
    upload = request.files.get("document")
    content = upload.read(MAX_DOCUMENT_BYTES + 1) if upload and upload.filename else None
    try:
        errors = {}
        if form.valid_from.data is None:
            errors["valid_from"] = _("is required (YYYY-MM-DD)")
        if form.valid_to.data is None:
            errors["valid_to"] = _("is required (YYYY-MM-DD)")
        if errors:
            raise InputError(errors)
        certificate = record_issued(
            req,
            valid_from=form.valid_from.data,
            valid_to=form.valid_to.data,
            issuing_institution=form.issuing_institution.data or "",
            institution_other=form.institution_other.data or "",
            institution_other_justification=form.institution_other_justification.data or "",
            authority_reference=form.authority_reference.data or "",
            document=content,
            filename=upload.filename if upload else "",
            actor=current_user,
            today=date.today(),
        )
    except InputError as exc:
        db.session.rollback()
        form.show_errors(exc.errors)
        too_big = content is not None and len(content) > MAX_DOCUMENT_BYTES
        return _request_page(req, 413 if too_big else 422, decision_form=form, errors=exc.errors)
    db.session.commit()
    flash(
        _(
            "The authority's certificate is recorded. %(provider)s checks the document; once "
            "confirmed it is signed, replaces the provisional one and is valid in the wallet.",
            provider=current_app.config["PROVIDER_NAME"],
        ),
        "info",
    )
    return redirect(url_for("admin.certificate", certificate_id=certificate.id))


@bp.route("/requests/<int:request_id>/refused", methods=["POST"])
@admin_only
def record_request_refused(request_id: int):
    req = get_company_object_or_404(CertificateRequest, request_id)
    form = RefusalForm()
    try:
        record_refused(req, form.reason.data or "", actor=current_user, today=date.today())
    except InputError as exc:
        db.session.rollback()
        form.reason.errors = [exc.errors.get("reason", "")] if "reason" in exc.errors else []
        return _request_page(req, 422, refusal_form=form, errors=exc.errors)
    db.session.commit()
    flash(_("The refusal is recorded."), "info")
    return redirect(url_for("admin.certificate_request", request_id=req.id))


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@admin_only
def cancel_certificate_request(request_id: int):
    req = get_company_object_or_404(CertificateRequest, request_id)
    try:
        cancel_request(req)
    except InputError as exc:
        db.session.rollback()
        return _request_page(req, 422, errors=exc.errors)
    db.session.commit()
    flash(_("The request is cancelled."), "info")
    return redirect(url_for("admin.trip", trip_id=req.trip_id))

"""Employer console, coverage: each trip's answer from the engine, certificate requests from draft
to the authority's decision, and the coverage dashboard with its CSV export."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from web.access import get_company_object_or_404
from web.admin import bp
from web.admin.forms import ChecklistForm, DecisionForm, RefusalForm
from web.admin.routes import admin_only
from web.auth.guards import require_recent_factor
from web.certificates.services import MAX_DOCUMENT_BYTES
from web.declarations.public_messages import BUCKET_LABELS
from web.extensions import db
from web.filing.requests import (
    CHECKLIST,
    REQUEST_KIND_LABELS,
    REQUEST_STATUS_LABELS,
    cancel_request,
    record_issued,
    record_refused,
    renewal_due,
    request_derogation,
    request_renewal,
    request_warnings,
    submit_request,
)
from web.filing.trips import (
    COVERAGE_STATUS_LABELS,
    check_trip_coverage,
    coverage_csv,
    coverage_rows,
    derogation_possible,
    trip_certificates,
    trip_coverage,
    trip_requests,
)
from web.models import CertificateRequest, Trip
from web.rendering import render_page_or_fragment
from web.validation import InputError, country_field

# What each period of a split answer means, for the trip page's table.
SEGMENT_LABELS = {
    "A1": _l("A1 certificate"),
    "CoC": _l("Certificate of coverage"),
    "CoC_prolongation": _l("Extended certificate of coverage"),
    "none_host_legislation": _l("No certificate: law of the country of work"),
}


def _localised(coverage: dict | None) -> dict | None:
    """The stored answer in the reader's language, its periods with real dates."""
    from web.coverage.explain import localise

    if not coverage:
        return None
    out = localise(coverage)
    out["segments"] = [
        {
            **s,
            "start_date": date.fromisoformat(s["start_date"]),
            "end_date": date.fromisoformat(s["end_date"]),
        }
        for s in out.get("segments") or []
    ]
    return out


def _trip_page(trip: Trip, status: int = 200, errors: dict[str, str] | None = None):
    today = date.today()
    return render_template(
        "admin/trip.html",
        trip=trip,
        coverage=_localised(trip_coverage(trip)),
        segment_labels=SEGMENT_LABELS,
        certificates=trip_certificates(trip),
        requests=trip_requests(trip),
        kind_labels=REQUEST_KIND_LABELS,
        status_labels=REQUEST_STATUS_LABELS,
        derogation_possible=derogation_possible(trip),
        renewal_due=renewal_due(trip, today),
        errors=errors or {},
        today=today,
    ), status


@bp.route("/trips/<int:trip_id>")
@admin_only
def trip(trip_id: int):
    return _trip_page(get_company_object_or_404(Trip, trip_id))


@bp.route("/trips/<int:trip_id>/recheck", methods=["POST"])
@admin_only
def recheck_trip(trip_id: int):
    """Run the engine again (the operator's filing list or the employee's record changed)."""
    trip = get_company_object_or_404(Trip, trip_id)
    try:
        message = check_trip_coverage(trip, actor=current_user)
    except InputError as exc:
        db.session.rollback()
        return _trip_page(trip, 422, exc.errors)
    db.session.commit()
    flash(message or _("The coverage check is up to date."), "info")
    return redirect(url_for("admin.trip", trip_id=trip.id))


@bp.route("/trips/<int:trip_id>/requests/<any(derogation, renewal):kind>", methods=["POST"])
@admin_only
def new_request(trip_id: int, kind: str):
    trip = get_company_object_or_404(Trip, trip_id)
    try:
        if kind == "derogation":
            req = request_derogation(trip, actor=current_user)
        else:
            req = request_renewal(trip, actor=current_user, today=date.today())
    except InputError as exc:
        db.session.rollback()
        return _trip_page(trip, 422, exc.errors)
    db.session.commit()
    return redirect(url_for("admin.certificate_request", request_id=req.id))


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
        kind_labels=REQUEST_KIND_LABELS,
        status_labels=REQUEST_STATUS_LABELS,
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


# --- the coverage dashboard --------------------------------------------------------------------


def _dashboard_filters() -> tuple[dict[str, object], dict[str, str]]:
    filters: dict[str, object] = {
        "month": None,
        "country": None,
        "status": None,
        "declaration": None,
    }
    errors: dict[str, str] = {}
    month = request.args.get("month", "").strip()
    if month:
        try:
            filters["month"] = date.fromisoformat(month + "-01")
        except ValueError:
            errors["month"] = _("“%(value)s” is not a month (use YYYY-MM)", value=month[:20])
    filters["country"] = (
        country_field(request.args.get("country"), errors, "country", required=False) or None
    )
    status = request.args.get("status", "").strip()
    if status:
        if status in COVERAGE_STATUS_LABELS:
            filters["status"] = status
        else:
            errors["status"] = _("Choose one of the listed options.")
    declaration = request.args.get("declaration", "").strip()
    if declaration:
        if declaration in BUCKET_LABELS:
            filters["declaration"] = declaration
        else:
            errors["declaration"] = _("Choose one of the listed options.")
    return filters, errors


@bp.route("/coverage")
@admin_only
def coverage():
    filters, errors = _dashboard_filters()
    rows = [] if errors else coverage_rows(current_user.company_id, **filters)  # type: ignore[arg-type]
    counts: dict[str, int] = dict.fromkeys(COVERAGE_STATUS_LABELS, 0)
    for row in rows:
        counts[row.status] += 1
    response = render_page_or_fragment(
        "admin/coverage.html",
        "admin/_coverage_rows.html",
        rows=rows,
        counts=counts,
        labels=COVERAGE_STATUS_LABELS,
        declaration_labels=BUCKET_LABELS,
        errors=errors,
        args=request.args,
    )
    if errors:
        response.status_code = 400
    return response


@bp.route("/coverage.csv")
@admin_only
@require_recent_factor  # every trip of the company in one file: ask again after 10 minutes
def coverage_export() -> Response | tuple[Response, int]:
    filters, errors = _dashboard_filters()
    if errors:
        return Response(
            "\n".join(f"{k}: {v}" for k, v in errors.items()) + "\n",
            status=400,
            mimetype="text/plain",
        )
    rows = coverage_rows(current_user.company_id, **filters)  # type: ignore[arg-type]
    return Response(
        coverage_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )

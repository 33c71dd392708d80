"""The declaration of a trip: its panel (on the admin trip page, and a page of its own for the
provider's staff), the deciding answer, the standard form's fields, the filing with its receipt,
the receipt itself, and the JSON export. Every view finds the trip through ``_trip_or_404``:
an employer admin reaches their company's trips only, an employee their own, provider staff all."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404, roles_required
from web.audit import record_audit_event
from web.certificates.services import MAX_DOCUMENT_BYTES
from web.declarations import bp
from web.declarations.public_messages import DeclarationState
from web.declarations.rules import WORKING, load_rules
from web.declarations.services import (
    FORM_FIELDS,
    answer_question,
    declaration_status_for_trip,
    receipt_file,
    record_filing,
    remove_replaced_receipt,
    save_standard_form,
    standard_form_export,
)
from web.extensions import db
from web.models import Role, Trip
from web.validation import InputError

MANAGERS = (Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR)


def _trip_or_404(trip_id: int) -> Trip:
    role = current_user.role_enum
    if role is Role.EMPLOYER_ADMIN:
        return get_company_object_or_404(Trip, trip_id)
    trip = db.session.get(Trip, trip_id)
    if (
        trip is not None
        and role is Role.EMPLOYEE
        and (trip.employee is None or trip.employee.user_id != current_user.id)
    ):
        trip = None
    if trip is None:
        record_audit_event(
            "access.not_found", object_type="trip", object_id=trip_id, outcome="denied"
        )
        db.session.commit()
        abort(404)
    return trip


@bp.app_template_global()
def declaration_panel(
    trip: Trip, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """What templates/declarations/_panel.html shows for ``trip``."""
    status = declaration_status_for_trip(trip)
    declaration = status.declaration
    form = {name: getattr(declaration, name, "") or "" for name in FORM_FIELDS}
    form.update(values or {})
    return {
        "trip": trip,
        "status": status,
        "declaration": declaration,
        "errors": errors or {},
        "entered": values or {},
        "form": form,
        "working_days": status.rule is not None and status.rule.counting == WORKING,
        "rules_version": date.fromisoformat(load_rules().version),  # the version is its date
        # A filing can be recorded whenever one may be due (it also answers the question).
        "show_filing": status.state != DeclarationState.NOT_REQUIRED
        or bool({"filed_on", "receipt_number", "receipt"} & set(errors or {})),
        "show_question": status.rule is not None
        and status.rule.required
        and status.state != DeclarationState.FILED
        and trip.status != "cancelled",
        "today": date.today(),
    }


def _back(trip: Trip) -> Response:
    if current_user.role_enum is Role.EMPLOYER_ADMIN:
        return redirect(url_for("admin.trip", trip_id=trip.id) + "#declaration")
    return redirect(url_for("declarations.trip", trip_id=trip.id))


def _page(trip: Trip, status: int = 200, **panel: Any):
    return render_template(
        "declarations/trip.html", trip=trip, panel=declaration_panel(trip, **panel)
    ), status


@bp.route("/declarations/trips/<int:trip_id>")
@roles_required(*MANAGERS)
def trip(trip_id: int):
    return _page(_trip_or_404(trip_id))


@bp.route("/declarations/trips/<int:trip_id>/answer", methods=["POST"])
@roles_required(*MANAGERS)
def answer(trip_id: int):
    trip = _trip_or_404(trip_id)
    values = {k: request.form.get(k, "") for k in ("provides_service", "exemption")}
    try:
        answer_question(trip, values["provides_service"], values["exemption"], actor=current_user)
    except InputError as exc:
        db.session.rollback()
        return _page(trip, 422, errors=exc.errors, values=values)
    db.session.commit()
    flash(_("The answer is saved."), "info")
    return _back(trip)


@bp.route("/declarations/trips/<int:trip_id>/form", methods=["POST"])
@roles_required(*MANAGERS)
def standard_form(trip_id: int):
    trip = _trip_or_404(trip_id)
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    try:
        save_standard_form(trip, values, actor=current_user)
    except InputError as exc:
        db.session.rollback()
        return _page(trip, 422, errors=exc.errors, values=values)
    db.session.commit()
    flash(_("The declaration details are saved."), "info")
    return _back(trip)


@bp.route("/declarations/trips/<int:trip_id>/filing", methods=["POST"])
@roles_required(*MANAGERS)
def filing(trip_id: int):
    trip = _trip_or_404(trip_id)
    upload = request.files.get("receipt")
    content = upload.read(MAX_DOCUMENT_BYTES + 1) if upload and upload.filename else None
    values = {k: request.form.get(k, "") for k in ("filed_on", "receipt_number")}
    try:
        declaration = record_filing(
            trip,
            filed_on=values["filed_on"],
            receipt_number=values["receipt_number"],
            receipt=content,
            filename=upload.filename if upload else "",
            actor=current_user,
            today=date.today(),
        )
    except InputError as exc:
        db.session.rollback()
        too_large = getattr(exc, "too_large", False)
        return _page(trip, 413 if too_large else 422, errors=exc.errors, values=values)
    db.session.commit()
    remove_replaced_receipt(declaration)
    flash(_("The filing is recorded."), "info")
    return _back(trip)


@bp.route("/declarations/trips/<int:trip_id>/receipt")
@roles_required(Role.EMPLOYEE, *MANAGERS)
def receipt(trip_id: int):
    """The receipt as filed: always a download, never rendered inline by our origin."""
    trip = _trip_or_404(trip_id)
    declaration = declaration_status_for_trip(trip).declaration
    path = receipt_file(declaration)
    if path is None or declaration is None:
        flash(_("No receipt is recorded for this trip."), "info")
        if current_user.role_enum is Role.EMPLOYEE:
            return redirect(url_for("wallet.home"))
        return _back(trip)
    response = send_file(
        path,
        mimetype=declaration.receipt_media_type or "application/pdf",
        as_attachment=True,
        download_name=declaration.receipt_filename or path.name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/api/v1/trips/<int:trip_id>/declaration")
@roles_required(Role.EMPLOYER_ADMIN)
def export(trip_id: int) -> Response:
    """The declaration in the EU standard form's items (OpenAPI: declarationExport)."""
    return jsonify(standard_form_export(get_company_object_or_404(Trip, trip_id)))

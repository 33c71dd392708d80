"""Employer console, trips: the list, the form, the trip page with the coverage check's answer,
and the requests started from a trip."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404, page_count
from web.admin import admin_only, bp, page_arg
from web.admin.forms import TripForm
from web.coverage.explain import localise
from web.extensions import db
from web.filing.certificate_requests import (
    create_initial_request,
    renewal_due,
    request_derogation,
    request_renewal,
)
from web.models import Employee, Trip
from web.rendering import render_list_or_errors
from web.trips.follow_up import check_trip_coverage
from web.trips.input import validate_trip_input
from web.trips.records import derogation_possible, trip_certificates, trip_coverage, trip_requests
from web.trips.services import cancel_trip, create_trip, list_trips, update_trip
from web.trips.status import trip_status, trip_statuses
from web.validation import InputError, parse_date


@bp.route("/trips")
@admin_only
def trips() -> Response:
    employee_id = request.args.get("employee", type=int)
    selected = get_company_object_or_404(Employee, employee_id) if employee_id else None
    errors: dict[str, str] = {}
    bounds: dict[str, date | None] = {"from": None, "to": None}
    for key in bounds:
        value = request.args.get(key, "").strip()
        if value:
            try:
                bounds[key] = parse_date(value)
            except ValueError:
                errors[key] = _("“%(value)s” is not a date (use YYYY-MM-DD)", value=value[:20])
    if bounds["from"] and bounds["to"] and bounds["to"] < bounds["from"]:
        errors["to"] = _("is before the “From” date")
    page = page_arg()
    rows, total = [], 0
    if not errors:  # a wrong filter lists nothing rather than rows it did not choose
        rows, total = list_trips(
            current_user.company_id,
            employee_id=selected.id if selected else None,
            start=bounds["from"],
            end=bounds["to"],
            include_cancelled=request.args.get("cancelled") == "1",
            page=page,
            last_if_past_end=True,
        )
    pages = page_count(total)
    return render_list_or_errors(
        "admin/trips.html",
        "admin/_trip_rows.html",
        trips=rows,
        statuses=trip_statuses(rows),
        total=total,
        page=min(page, pages),
        pages=pages,
        selected=selected,
        errors=errors,
        error_labels={"from": _("From"), "to": _("To")},
        args=request.args,
    )


@bp.route("/employees/<int:employee_id>/trips/new", methods=["GET", "POST"])
@admin_only
def new_trip(employee_id: int) -> Response | tuple[str, int] | str:
    emp = get_company_object_or_404(Employee, employee_id)
    form = TripForm()
    if request.method == "POST":
        try:
            trip = create_trip(emp, validate_trip_input(form.raw_values()))
            message = check_trip_coverage(trip, actor=current_user)
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return render_template(
                "admin/trip_form.html", form=form, employee=emp, trip=None, errors=exc.errors
            ), 422
        db.session.commit()
        flash(_("Trip saved."), "info")
        if message:
            flash(message, "info")
        return redirect(url_for("admin.trip", trip_id=trip.id))
    return render_template("admin/trip_form.html", form=form, employee=emp, trip=None, errors={})


@bp.route("/trips/<int:trip_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_trip(trip_id: int) -> Response | tuple[str, int] | str:
    trip = get_company_object_or_404(Trip, trip_id)
    if request.method == "POST":
        form = TripForm()
        try:
            update_trip(trip, validate_trip_input(form.raw_values()))
            message = check_trip_coverage(trip, actor=current_user)
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return (
                render_template(
                    "admin/trip_form.html",
                    form=form,
                    employee=trip.employee,
                    trip=trip,
                    errors=exc.errors,
                ),
                422,
            )
        db.session.commit()
        flash(_("Trip saved."), "info")
        if message:
            flash(message, "info")
        return redirect(url_for("admin.trip", trip_id=trip.id))
    form = TripForm(obj=trip, work_states=trip.work_state_list)
    return render_template(
        "admin/trip_form.html", form=form, employee=trip.employee, trip=trip, errors={}
    )


@bp.route("/trips/<int:trip_id>/cancel", methods=["POST"])
@admin_only
def cancel_trip_view(trip_id: int) -> Response:
    trip = get_company_object_or_404(Trip, trip_id)
    cancel_trip(trip)
    db.session.commit()
    flash(_("Trip cancelled."), "info")
    return redirect(url_for("admin.employee", employee_id=trip.employee_id))


def _localised(coverage: dict | None) -> dict | None:
    """The stored answer in the reader's language, its periods with real dates."""
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
        status=trip_status(trip, today),
        certificates=trip_certificates(trip),
        requests=trip_requests(trip),
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


@bp.route(
    "/trips/<int:trip_id>/requests/<any(initial, derogation, renewal):kind>", methods=["POST"]
)
@admin_only
def new_request(trip_id: int, kind: str):
    trip = get_company_object_or_404(Trip, trip_id)
    try:
        if kind == "initial":
            req = create_initial_request(trip, actor=current_user)
        elif kind == "derogation":
            req = request_derogation(trip, actor=current_user)
        else:
            req = request_renewal(trip, actor=current_user, today=date.today())
    except InputError as exc:
        db.session.rollback()
        return _trip_page(trip, 422, exc.errors)
    db.session.commit()
    return redirect(url_for("admin.certificate_request", request_id=req.id))

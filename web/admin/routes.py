"""Employer console: employees, CSV import, trips, certificates. Employer admins only."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from web.access import company_select, get_company_object_or_404, roles_required
from web.admin import bp
from web.admin.forms import (
    CertificateForm,
    EmployeeForm,
    ExtendForm,
    ImportForm,
    OfficialCertificateForm,
    RevokeForm,
    TripForm,
)
from web.admin.services import (
    PAGE_SIZE,
    EmployeeUpdate,
    cancel_trip,
    check_employee_csv,
    create_employee,
    create_trip,
    decode_csv_upload,
    import_employees,
    list_trips,
    search_employees,
    set_employee_active,
    store_employee_import,
    update_employee,
    update_trip,
    validate_employee_input,
    validate_trip_input,
)
from web.auth.services import send_invitation
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
from web.filing.trips import check_trip_coverage
from web.models import Certificate, Employee, EmployeeImport, Incident, Role, Trip
from web.rendering import render_page_or_fragment
from web.validation import InputError, parse_date

admin_only = roles_required(Role.EMPLOYER_ADMIN)


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.route("/employees")
@admin_only
def employees() -> Response:
    query = request.args.get("q", "")[:100]
    page = _page_arg()
    rows, total = search_employees(current_user.company_id, query, page)
    return render_page_or_fragment(
        "admin/employees.html",
        "admin/_employee_rows.html",
        employees=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        query=query,
    )


def _invite_and_report(employee: Employee) -> None:
    link, delivered = send_invitation(employee.user)
    db.session.commit()
    if delivered:
        flash(_("Invitation sent to the employee's email."), "info")
    else:
        # No mail server here: the admin passes the link on (it works once, for 7 days).
        flash(_("Mail is not configured, so pass this invitation link on yourself:"), "info")
        flash(link, "link")


@bp.route("/employees/new", methods=["GET", "POST"])
@admin_only
def new_employee() -> Response | tuple[str, int] | str:
    form = EmployeeForm()
    if request.method == "POST":
        try:
            data = validate_employee_input(form.raw_values())
            employee = create_employee(current_user.company, data)
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return render_template("admin/employee_form.html", form=form, employee=None), 422
        db.session.commit()
        _invite_and_report(employee)
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render_template("admin/employee_form.html", form=form, employee=None)


@bp.route("/employees/<int:employee_id>")
@admin_only
def employee(employee_id: int) -> str:
    emp = get_company_object_or_404(Employee, employee_id)
    trips, _total = list_trips(current_user.company_id, employee_id=emp.id, include_cancelled=True)
    certificates = db.session.scalars(
        company_select(Certificate)
        .where(Certificate.employee_id == emp.id)
        .order_by(Certificate.valid_to.desc())
    ).all()
    return render_template(
        "admin/employee.html",
        employee=emp,
        trips=trips,
        certificates=certificates,
        today=date.today(),
    )


@bp.route("/employees/<int:employee_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_employee(employee_id: int) -> Response | tuple[str, int] | str:
    emp = get_company_object_or_404(Employee, employee_id)
    if request.method == "POST":
        form = EmployeeForm()
        try:
            saved = update_employee(
                emp, validate_employee_input(form.raw_values()), actor=current_user
            )
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return render_template("admin/employee_form.html", form=form, employee=emp), 422
        db.session.commit()
        flash(_("Changes saved."), "info")
        _report_identity_change(saved)
        return redirect(url_for("admin.employee", employee_id=emp.id))
    form = EmployeeForm(obj=emp, email=emp.user.email, locale=emp.user.locale or "")
    return render_template("admin/employee_form.html", form=form, employee=emp)


def _report_identity_change(saved: EmployeeUpdate) -> None:
    """Tell the admin what the identity change did to the certificates it concerns."""
    if saved.reissued:
        flash(
            ngettext(
                "%(num)d provisional certificate was re-issued with the new details (%(codes)s); "
                "the old one now answers “superseded” to inspectors.",
                "%(num)d provisional certificates were re-issued with the new details "
                "(%(codes)s); the old ones now answer “superseded” to inspectors.",
                len(saved.reissued),
                codes=", ".join(c.verification_code_display for c in saved.reissued),
            ),
            "info",
        )
    if saved.official_kept:
        flash(
            ngettext(
                "The official certificate %(codes)s keeps the identity printed on the "
                "authority's document. If that is wrong, ask the authority for a corrected one.",
                "The official certificates %(codes)s keep the identity printed on the "
                "authority's documents. If that is wrong, ask the authority for corrected ones.",
                len(saved.official_kept),
                codes=", ".join(c.verification_code_display for c in saved.official_kept),
            ),
            "info",
        )


@bp.route("/employees/<int:employee_id>/deactivate", methods=["POST"])
@admin_only
def deactivate_employee(employee_id: int) -> Response:
    return _set_active(
        employee_id, False, _("The employee is deactivated and signed out everywhere.")
    )


def _set_active(employee_id: int, active: bool, message: str) -> Response:
    emp = get_company_object_or_404(Employee, employee_id)
    set_employee_active(emp, active)
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("admin.employee", employee_id=emp.id))


@bp.route("/employees/<int:employee_id>/reactivate", methods=["POST"])
@admin_only
def reactivate_employee(employee_id: int) -> Response:
    return _set_active(employee_id, True, _("The employee is active again."))


@bp.route("/employees/<int:employee_id>/invite", methods=["POST"])
@admin_only
def invite_employee(employee_id: int) -> Response:
    emp = get_company_object_or_404(Employee, employee_id)
    _invite_and_report(emp)
    return redirect(url_for("admin.employee", employee_id=emp.id))


@bp.route("/employees/import", methods=["GET", "POST"])
@admin_only
def import_start() -> Response | tuple[str, int] | str:
    form = ImportForm()
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors = [_("Choose a CSV file.")]
            return render_template("admin/import.html", form=form), 400
        text = decode_csv_upload(upload.read(2 * 1024 * 1024 + 1))
        if len(text) > 2 * 1024 * 1024:
            form.file.errors = [_("The file is larger than 2 MB.")]
            return render_template("admin/import.html", form=form), 413
        batch = store_employee_import(
            current_user.company_id, current_user.id, upload.filename or "", text
        )
        report = check_employee_csv(text)
        if report.ok:
            created = import_employees(batch)
            db.session.commit()
            flash(_("%(n)d employees imported.", n=len(created)), "info")
            return redirect(url_for("admin.import_report", import_id=batch.id))
        db.session.commit()  # keep the file: the admin may confirm the good rows
        return redirect(url_for("admin.import_report", import_id=batch.id))
    return render_template("admin/import.html", form=form)


@bp.route("/employees/import/<int:import_id>")
@admin_only
def import_report(import_id: int) -> str:
    batch = get_company_object_or_404(EmployeeImport, import_id)
    report = check_employee_csv(batch.content) if batch.imported_at is None else None
    return render_template(
        "admin/import_report.html", batch=batch, report=report, form=ImportForm()
    )


@bp.route("/employees/import/<int:import_id>/confirm", methods=["POST"])
@admin_only
def import_confirm(import_id: int) -> Response | tuple[str, int]:
    batch = get_company_object_or_404(EmployeeImport, import_id)
    try:
        created = import_employees(batch)
    except InputError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "error")
        return redirect(url_for("admin.import_report", import_id=batch.id))
    db.session.commit()
    flash(_("%(n)d employees imported.", n=len(created)), "info")
    return redirect(url_for("admin.import_report", import_id=batch.id))


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
    page = _page_arg()
    rows, total = list_trips(
        current_user.company_id,
        employee_id=selected.id if selected else None,
        start=bounds["from"],
        end=bounds["to"],
        include_cancelled=request.args.get("cancelled") == "1",
        page=page,
    )
    response = render_page_or_fragment(
        "admin/trips.html",
        "admin/_trip_rows.html",
        trips=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        selected=selected,
        errors=errors,
        args=request.args,
    )
    if errors:
        response.status_code = 400
    return response


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


@bp.route("/certificates/<certificate_id>")
@admin_only
def certificate(certificate_id: str) -> tuple[str, int]:
    return _certificate_page(get_company_object_or_404(Certificate, certificate_id))


# --- certificates ------------------------------------------------------------------------------


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


@bp.route("/incidents")
@admin_only
def incidents() -> str:
    """The company's "authority is asking" incidents: when, who, and how each ended."""
    rows = db.session.scalars(
        company_select(Incident).order_by(Incident.tapped_at.desc()).limit(200)
    ).all()
    return render_template("admin/incidents.html", incidents=rows)

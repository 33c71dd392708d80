"""Employer console, employees: the list, add, edit, deactivate, and their invitations."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from web.access import company_select, get_company_object_or_404, page_count
from web.admin import admin_only, bp, page_arg
from web.admin.forms import EmployeeForm
from web.auth.invitations import (
    MailServerUnavailable,
    create_invitation_link,
    invitation_state,
    invitation_states,
    mail_invitation,
)
from web.employees.services import (
    EmployeeUpdate,
    create_employee,
    search_employees,
    set_employee_active,
    update_employee,
    validate_employee_input,
)
from web.errors import render_error
from web.extensions import db, limiter
from web.mail import mail_configured
from web.models import Certificate, Employee, EmployeeImport
from web.rendering import render_list_or_errors, render_page_or_fragment
from web.trips.services import list_trips
from web.trips.status import trip_statuses
from web.validation import InputError

SEARCH_MAX_LENGTH = 100


@bp.route("/employees")
@admin_only
def employees() -> Response:
    query = request.args.get("q", "")
    errors: dict[str, str] = {}
    if len(query) > SEARCH_MAX_LENGTH:
        errors["q"] = _("Search with at most %(n)d characters.", n=SEARCH_MAX_LENGTH)
    elif not query.isprintable():
        errors["q"] = _("contains characters that cannot be printed")
    page = page_arg()
    rows, total = (
        ([], 0)
        if errors
        else search_employees(current_user.company_id, query, page, last_if_past_end=True)
    )
    pages = page_count(total)
    return render_list_or_errors(
        "admin/employees.html",
        "admin/_employee_rows.html",
        employees=rows,
        invitations=invitation_states(e.user for e in rows),
        total=total,
        page=min(page, pages),
        pages=pages,
        query=query,
        errors=errors,
        error_labels={"q": _("Search by name or email")},
    )


# Mailing or creating invitations, per admin (INVITATION_LIMIT): one limit for both ways.
invitation_limit = limiter.shared_limit(
    lambda: current_app.config["INVITATION_LIMIT"],
    scope="invitations",
    key_func=lambda: f"invitations:{current_user.id}",
    methods=["POST"],
)


def _mail_and_report(employee: Employee) -> None:
    """Mail the invitation and say how it went (a mail server is configured)."""
    try:
        sent = mail_invitation(employee.user)
    except MailServerUnavailable:
        sent = False
    if sent:
        flash(_("Invitation sent to the employee's email."), "info")
    else:
        flash(
            _(
                "The invitation email could not be sent. Try again later, or create an "
                "invitation link and pass it on yourself."
            ),
            "error",
        )


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
        if mail_configured():
            _mail_and_report(employee)
        else:
            flash(
                _(
                    "Employee added. This server sends no email: create the invitation link "
                    "below and pass it on yourself."
                ),
                "info",
            )
        return redirect(url_for("admin.employee", employee_id=employee.id))
    return render_template("admin/employee_form.html", form=form, employee=None)


@bp.route("/employees/<int:employee_id>")
@admin_only
def employee(employee_id: int) -> str:
    emp = get_company_object_or_404(Employee, employee_id)
    # The first page here; the trips list (filtered to this employee) pages through the rest.
    trips, trip_total = list_trips(
        current_user.company_id, employee_id=emp.id, include_cancelled=True
    )
    certificates = db.session.scalars(
        company_select(Certificate)
        .where(Certificate.employee_id == emp.id)
        .order_by(Certificate.valid_to.desc())
    ).all()
    return render_template(
        "admin/employee.html",
        employee=emp,
        invitation=invitation_state(emp.user),
        mail_configured=mail_configured(),
        trips=trips,
        trip_total=trip_total,
        statuses=trip_statuses(trips),
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
@invitation_limit
def invite_employee(employee_id: int) -> Response:
    """Mail a fresh invitation (the previous unused link dies)."""
    emp = get_company_object_or_404(Employee, employee_id)
    if not emp.user.active:
        flash(_("The employee is deactivated: reactivate them first."), "error")
    elif not mail_configured():
        flash(
            _("This server sends no email: create the invitation link and pass it on yourself."),
            "error",
        )
    else:
        _mail_and_report(emp)
    return redirect(url_for("admin.employee", employee_id=emp.id))


@bp.route("/employees/<int:employee_id>/invitation-link", methods=["POST"])
@admin_only
@invitation_limit
def invitation_link(employee_id: int) -> Response:
    """A fresh invitation link, shown once to copy and pass on; the previous unused link dies.
    The answer is the link's region (htmx, in place of the button) or a page of its own."""
    emp = get_company_object_or_404(Employee, employee_id)
    if not emp.user.active:
        return render_error(400, _("The employee is deactivated: reactivate them first."))
    link = create_invitation_link(emp.user)
    db.session.commit()
    batch = None
    if request.form.get("from_import") and emp.import_id:
        batch = db.session.get(EmployeeImport, emp.import_id)
    response = render_page_or_fragment(
        "admin/invitation_link.html",
        "admin/_invitation_link.html",
        employee=emp,
        link=link,
        batch=batch,
    )
    # The link is a secret for one person: no cache, no back-forward copy keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response

"""Employer console, CSV import of employees: upload, the report line by line, confirm."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from web.access import get_company_object_or_404
from web.admin import admin_only, bp
from web.admin.employees import invitation_limit
from web.admin.forms import ImportForm
from web.auth.invitations import (
    InvitationRun,
    InvitationState,
    invitation_states,
    mail_invitations,
)
from web.employees.services import (
    check_employee_csv,
    decode_csv_upload,
    import_employees,
    imported_employees,
    store_employee_import,
)
from web.extensions import db
from web.mail import mail_configured
from web.models import Employee, EmployeeImport, User
from web.validation import InputError


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
            _invite(created)
            return redirect(url_for("admin.import_report", import_id=batch.id))
        db.session.commit()  # keep the file: the admin may confirm the good rows
        return redirect(url_for("admin.import_report", import_id=batch.id))
    return render_template("admin/import.html", form=form)


@bp.route("/employees/import/<int:import_id>")
@admin_only
def import_report(import_id: int) -> str:
    batch = get_company_object_or_404(EmployeeImport, import_id)
    report = check_employee_csv(batch.content) if batch.imported_at is None else None
    employees = imported_employees(batch) if batch.imported_at else []
    invitations = invitation_states(e.user for e in employees)
    waiting = _waiting(employees, invitations)
    # Who still needs an invitation comes first; the file's order otherwise.
    waiting_ids = {user.id for user in waiting}
    employees.sort(key=lambda e: e.user_id not in waiting_ids)
    return render_template(
        "admin/import_report.html",
        batch=batch,
        report=report,
        form=ImportForm(),
        employees=employees,
        invitations=invitations,
        waiting=waiting,
        mail_configured=mail_configured(),
    )


def _waiting(employees: list[Employee], states: dict[int, InvitationState]) -> list[User]:
    """The active employees who have no usable invitation on its way."""
    return [
        e.user for e in employees if e.user.active and states[e.user.id].status.needs_invitation
    ]


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
    _invite(created)
    return redirect(url_for("admin.import_report", import_id=batch.id))


def _invite(created: list[Employee]) -> None:
    """After an import: mail every new employee's invitation. Without a mail server the report
    lists who needs a link (and says how many were imported)."""
    if created and mail_configured():
        _report_run(mail_invitations([e.user for e in created]))


def _report_run(run: InvitationRun) -> None:
    if run.sent:
        flash(
            ngettext(
                "%(num)d invitation sent by email.",
                "%(num)d invitations sent by email.",
                len(run.sent),
            ),
            "info",
        )
    unsent = len(run.failed) + (0 if run.out_of_time else len(run.not_sent))
    if unsent:
        message = ngettext(
            "%(num)d invitation could not be sent: see the list below.",
            "%(num)d invitations could not be sent: see the list below.",
            unsent,
        )
        if run.server_unavailable:
            message += " " + _("The mail server could not be reached; try again later.")
        flash(message, "error")
    if run.out_of_time:
        flash(
            ngettext(
                "%(num)d invitation is still to send: send it with the button below.",
                "%(num)d invitations are still to send: send them with the button below.",
                len(run.not_sent),
            ),
            "info",
        )


@bp.route("/employees/import/<int:import_id>/invitations", methods=["POST"])
@admin_only
@invitation_limit
def import_invitations(import_id: int) -> Response:
    """Mail the invitations this import's employees still need (after a mail failure, or when
    the import's time for mail ran out)."""
    batch = get_company_object_or_404(EmployeeImport, import_id)
    if not mail_configured():
        flash(
            _("This server sends no email: create each person's invitation link instead."),
            "error",
        )
        return redirect(url_for("admin.import_report", import_id=batch.id))
    employees = imported_employees(batch)
    waiting = _waiting(employees, invitation_states(e.user for e in employees))
    if not waiting:
        flash(_("Everyone from this import has an invitation."), "info")
    else:
        _report_run(mail_invitations(waiting))
    return redirect(url_for("admin.import_report", import_id=batch.id))

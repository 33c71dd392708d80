"""Employer console, CSV import of employees: upload, the report line by line, confirm."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404
from web.admin import admin_only, bp
from web.admin.forms import ImportForm
from web.employees.services import (
    check_employee_csv,
    decode_csv_upload,
    import_employees,
    store_employee_import,
)
from web.extensions import db
from web.models import EmployeeImport
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

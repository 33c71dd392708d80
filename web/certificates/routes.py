"""The official PDF of a certificate: only for the employee, their employer admins and support."""

from __future__ import annotations

from flask import Blueprint, abort, send_file
from flask_login import current_user

from web.access import roles_required
from web.audit import record_audit_event
from web.certificates.services import document_file
from web.extensions import db
from web.models import Certificate, Role

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


def may_read_certificate(certificate: Certificate) -> bool:
    role = current_user.role_enum
    if role is Role.SUPPORT:
        return True
    if role is Role.EMPLOYER_ADMIN:
        return certificate.company_id == current_user.company_id
    if role is Role.EMPLOYEE:
        return (
            current_user.employee is not None
            and certificate.employee_id == current_user.employee.id
        )
    return False


@bp.route("/<certificate_id>/document")
@roles_required(Role.EMPLOYEE, Role.EMPLOYER_ADMIN, Role.SUPPORT)
def document(certificate_id: str):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not may_read_certificate(certificate):
        record_audit_event(
            "access.not_found",
            object_type="certificate_document",
            object_id=certificate_id,
            outcome="denied",
        )
        db.session.commit()
        abort(404)
    path = document_file(certificate)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        download_name=certificate.document_filename or f"{certificate.id}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response

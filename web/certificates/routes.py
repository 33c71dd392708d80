"""The official PDF of a certificate: only for the employee, their employer admins, support and
operators (who review it). Always a download, never rendered inline by our origin."""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file
from flask_login import current_user

from web.access import roles_required
from web.audit import record_audit_event
from web.certificates.services import document_file
from web.certificates.titles import (
    document_short_title,
    document_title,
    provisional_explanation,
)
from web.extensions import db
from web.models import Certificate, Role

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
# Every page names a certificate the same way (web/certificates/titles.py).
bp.add_app_template_global(document_title)
bp.add_app_template_global(document_short_title)
bp.add_app_template_global(provisional_explanation)


def may_read_certificate(certificate: Certificate) -> bool:
    role = current_user.role_enum
    if role in (Role.SUPPORT, Role.OPERATOR):
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
@roles_required(Role.EMPLOYEE, Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR)
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
    return document_response(certificate)


def document_response(certificate: Certificate) -> Response:
    """The stored PDF as a download (404 without one). Never inline under our origin: the review
    page reads the same bytes with fetch() and draws them itself (static/js/review-pdf.js)."""
    path = document_file(certificate)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=certificate.document_filename or f"{certificate.id}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

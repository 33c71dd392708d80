"""The review queue: official certificates recorded by customers, checked by the provider before
they are signed (web/certificates/review.py). Operators, and support agents given the right."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import roles_required
from web.audit import record_audit_event
from web.auth.guards import require_recent_factor
from web.certificates.review import (
    DRAWN_PAGES,
    ReviewPermissionError,
    confirm_official_certificate,
    document_preview,
    may_review_certificates,
    recently_reviewed,
    reject_official_certificate,
    review_queue,
)
from web.certificates.routes import document_response
from web.countries import localised_country_name
from web.extensions import db
from web.models import Certificate, Role
from web.operator import bp
from web.operator.forms import RejectForm, ReviewForm
from web.validation import InputError


def reviewers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Operators and support agents; a support agent also needs the right an operator gives."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not may_review_certificates(current_user):
            record_audit_event("access.denied", outcome="denied", message="no review right")
            db.session.commit()
            abort(403)
        return view(*args, **kwargs)

    return roles_required(Role.OPERATOR, Role.SUPPORT)(wrapped)


def _certificate_or_404(certificate_id: str) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.kind != "official":
        record_audit_event(
            "access.not_found",
            object_type="certificate",
            object_id=certificate_id,
            outcome="denied",
        )
        db.session.commit()
        abort(404)
    return certificate


@bp.route("/reviews")
@reviewers_only
def reviews() -> str:
    return render_template(
        "operator/reviews.html", pending=review_queue(), reviewed=recently_reviewed()
    )


def _review_form(certificate: Certificate) -> ReviewForm:
    c = certificate
    listed = c.issuing_institution and c.institution_other_justification is None
    form = ReviewForm(
        data={
            "document_type": c.document_type,
            "legislation_state": c.legislation_state,
            "work_states": c.work_state_list,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "issuing_institution": c.issuing_institution if listed else "other",
            "institution_other": "" if listed else c.issuing_institution,
            "institution_other_justification": c.institution_other_justification or "",
            "authority_reference": c.authority_reference or "",
        }
    )
    # A long multiple choice hides what is selected: name it above the list.
    form.work_states.description = _(
        "Recorded: %(states)s", states=", ".join(map(localised_country_name, c.work_state_list))
    )
    return form


def _review_page(
    certificate: Certificate,
    status: int = 200,
    form: ReviewForm | None = None,
    reject_form: RejectForm | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    return render_template(
        "operator/review.html",
        certificate=certificate,
        form=form or _review_form(certificate),
        reject_form=reject_form or RejectForm(),
        preview=document_preview(certificate),
        drawn_pages=DRAWN_PAGES,
        own_record=certificate.created_by_id == current_user.id,
        errors=errors or {},
    ), status


# Confirming signs an official record: the reviewer proves it is them again (after
# STEP_UP_MINUTES) when opening the review, so the corrections typed there are not lost to a
# step-up on the post, and once more on the post if the page was left open that long.
@bp.route("/reviews/<certificate_id>")
@reviewers_only
@require_recent_factor
def review(certificate_id: str) -> tuple[str, int]:
    return _review_page(_certificate_or_404(certificate_id))


# The review page draws the PDF's pages from these bytes (static/js/review-pdf.js reads them with
# fetch()); still an attachment with nosniff, so the browser never renders it under our origin.
@bp.route("/reviews/<certificate_id>/document")
@reviewers_only
def review_document(certificate_id: str) -> Response:
    return document_response(_certificate_or_404(certificate_id))


def _refused(certificate: Certificate) -> tuple[str, int]:
    db.session.rollback()
    errors = {"review": _("You recorded this certificate: another reviewer must check it.")}
    return _review_page(certificate, 403, errors=errors)


@bp.route("/reviews/<certificate_id>/confirm", methods=["POST"])
@reviewers_only
@require_recent_factor
def confirm_review(certificate_id: str) -> Response | tuple[str, int]:
    certificate = _certificate_or_404(certificate_id)
    form = ReviewForm()
    try:
        confirm_official_certificate(
            certificate,
            reviewer=current_user,
            corrections=form.raw_values(),
            note=form.review_note.data or "",
        )
    except ReviewPermissionError:
        return _refused(certificate)
    except InputError as exc:
        db.session.rollback()
        form.show_errors(exc.errors)
        return _review_page(certificate, 422, form=form, errors=exc.errors)
    db.session.commit()
    flash(_("Confirmed and signed: the certificate is valid and in the employee's wallet."), "info")
    return redirect(url_for("operator.reviews"))


@bp.route("/reviews/<certificate_id>/reject", methods=["POST"])
@reviewers_only
def reject_review(certificate_id: str) -> Response | tuple[str, int]:
    certificate = _certificate_or_404(certificate_id)
    form = RejectForm()
    try:
        reject_official_certificate(certificate, form.reason.data or "", reviewer=current_user)
    except ReviewPermissionError:
        return _refused(certificate)
    except InputError as exc:
        db.session.rollback()
        form.reason.errors = [exc.errors.get("reason", "")] if "reason" in exc.errors else []
        return _review_page(certificate, 422, reject_form=form, errors=exc.errors)
    db.session.commit()
    flash(_("Rejected: the employer and the employee see the reason."), "info")
    return redirect(url_for("operator.reviews"))

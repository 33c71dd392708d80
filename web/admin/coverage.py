"""Employer console, the coverage dashboard: every trip's status and next step, filtered, a page
at a time (counts over all pages), and the same rows as CSV."""

from __future__ import annotations

from datetime import date

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user

from web.admin import admin_only, bp, page_arg
from web.auth.guards import require_recent_factor
from web.declarations.public_messages import BUCKET_LABELS
from web.rendering import render_list_or_errors
from web.trips.dashboard import CoveragePage, coverage_csv, coverage_page, coverage_rows
from web.trips.status import CoverageStatus
from web.validation import country_field

# The dashboard lists planned trips: every status but cancelled, in the vocabulary's order.
DASHBOARD_STATUSES = [s for s in CoverageStatus if s is not CoverageStatus.CANCELLED]


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
        if status in DASHBOARD_STATUSES:
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
    found = (
        CoveragePage([], dict.fromkeys(DASHBOARD_STATUSES, 0), 0, 1, 1)
        if errors
        else coverage_page(current_user.company_id, page_arg(), DASHBOARD_STATUSES, **filters)
    )
    return render_list_or_errors(
        "admin/coverage.html",
        "admin/_coverage_rows.html",
        rows=found.rows,
        counts=found.counts,
        total=found.total,
        page=found.page,
        pages=found.pages,
        statuses=DASHBOARD_STATUSES,
        declaration_labels=BUCKET_LABELS,
        errors=errors,
        error_labels=_filter_labels(),
        args=request.args,
    )


def _filter_labels() -> dict[str, str]:
    """The filters' names as their fields say them (templates/admin/coverage.html)."""
    return {
        "month": _("Month"),
        "country": _("Country"),
        "status": _("Status"),
        "declaration": _("Posted-worker declaration"),
    }


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

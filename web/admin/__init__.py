"""The employer console (employer admins only), one module per resource, each thin over its
service: employees, imports, trips, certificate_requests, certificates, coverage, incidents."""

from flask import Blueprint, request

from web.access import roles_required
from web.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.EMPLOYER_ADMIN)


def page_arg() -> int:
    """The list page asked for (1 when missing or not a number)."""
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


from web.admin import (  # noqa: E402, F401
    certificate_requests,
    certificates,
    coverage,
    employees,
    imports,
    incidents,
    trips,
)

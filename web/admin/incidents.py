"""Employer console, incidents: when an authority asked, who, and how each ended."""

from __future__ import annotations

from flask import render_template

from web.access import company_select
from web.admin import admin_only, bp
from web.extensions import db
from web.models import Incident


@bp.route("/incidents")
@admin_only
def incidents() -> str:
    """The company's "authority is asking" incidents: when, who, and how each ended."""
    rows = db.session.scalars(
        company_select(Incident).order_by(Incident.tapped_at.desc()).limit(200)
    ).all()
    return render_template("admin/incidents.html", incidents=rows)

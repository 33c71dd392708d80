"""Liveness and readiness for load balancers and monitors: GET /healthz answers 200 when this
process can reach its database, 503 otherwise. No personal data, no session, no rate limit."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.access import public
from web.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger("a1wallet")


@bp.route("/healthz")
@public
@limiter.exempt
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("health check: database unreachable (%s)", type(exc).__name__)
        response, status = jsonify({"status": "unavailable", "database": "unreachable"}), 503
    else:
        response, status = jsonify({"status": "ok", "database": "ok"}), 200
    response.headers["Cache-Control"] = "no-store"
    return response, status

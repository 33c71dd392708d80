"""The app plus one bare route, so benchmarks compare against Flask itself in the same server."""

from __future__ import annotations

from flask import Flask

from app import create_app
from web.extensions import csrf, limiter


def create_bench_app() -> Flask:
    app = create_app()

    # GET for the page benchmarks; POST as the floor of any POST (alert_latency.py): the same
    # server and stack, no CSRF check, no database.
    @app.route("/bench/bare", methods=["GET", "POST"])
    def bare() -> str:
        return "ok"

    bare.allowed_roles = "public"  # type: ignore[attr-defined]
    limiter.exempt(bare)
    csrf.exempt(bare)
    return app

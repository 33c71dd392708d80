"""GET /metrics in the Prometheus text format (prometheus-client).

Who may read it: a client on loopback (the monitoring agent on the same machine, talking to
gunicorn directly, not through the reverse proxy), or any client sending
``Authorization: Bearer $METRICS_TOKEN``. The client's address is ``request.remote_addr``, the
real one once ``TRUSTED_PROXIES`` is set (web/security.py); a request that came through a proxy
(it carries ``X-Forwarded-For``) is never taken for a loopback client, so a proxy on the same
machine does not make the page public. Refusals answer 403, write an ``metrics.denied`` audit
event, and are rate-limited (so they cannot flood the audit trail).

What it says:

- per route (the endpoint name, never the raw path: paths carry QR tokens and one-time
  secrets): ``a1w_http_requests_total{endpoint,method,status}`` and the latency histogram
  ``a1w_http_request_duration_seconds{endpoint}`` (until the view returns; a streamed body is
  not included). Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an
  empty directory before the workers start: the workers then write their counts there and every
  scrape adds them up (prometheus-client's multiprocess mode; docs/deploy.md). Without it each
  worker answers with its own counts.
- read from the database at each scrape (the relay and the scheduler are other processes):
  the outbox depth and the age of its oldest waiting message per urgency, push messages by
  status (sent, gone, dead, …), unacknowledged incidents and the age of the oldest, and each
  periodic job's last success time and period.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from web.access import public
from web.audit import record_audit_event
from web.extensions import db, limiter
from web.models import Incident, IncidentStatus, OutboxMessage, OutboxStatus, utcnow

bp = Blueprint("metrics", __name__)

URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 §5.3
WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
DENIED_LIMIT = "30 per minute"  # refusals only: a client polling without the token

_registry = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "a1w_http_requests",
    "HTTP requests answered, by route (endpoint name), method and status code.",
    ["endpoint", "method", "status"],
    registry=_registry,
)
LATENCY = Histogram(
    "a1w_http_request_duration_seconds",
    "Time from the request to the view's response, by route (endpoint name).",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=_registry,
)


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


class DatabaseCollector(Collector):
    """Gauges computed from the database at scrape time (needs an app context)."""

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        depth = GaugeMetricFamily(
            "a1w_outbox_depth", "Push messages waiting to be sent, by urgency.", labels=["urgency"]
        )
        oldest = GaugeMetricFamily(
            "a1w_outbox_oldest_age_seconds",
            "Age of the oldest push message waiting to be sent, by urgency (0: none waiting).",
            labels=["urgency"],
        )
        waiting = {
            urgency: (count, first)
            for urgency, count, first in db.session.execute(
                select(
                    OutboxMessage.urgency,
                    func.count(),
                    func.min(OutboxMessage.created_at),
                )
                .where(OutboxMessage.status.in_(WAITING))
                .group_by(OutboxMessage.urgency)
            )
        }
        for urgency in sorted(set(URGENCIES) | waiting.keys()):
            count, first = waiting.get(urgency, (0, None))
            depth.add_metric([urgency], count)
            oldest.add_metric([urgency], _age(first, now))
        yield depth
        yield oldest

        by_status = GaugeMetricFamily(
            "a1w_push_messages",
            "Push messages in the outbox by status: sent, gone (subscription ended), dead (given "
            "up), pending, sending. Retention deletes finished ones after "
            "RETENTION_PUSH_MESSAGE_DAYS.",
            labels=["status"],
        )
        counts = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        for status in OutboxStatus:
            by_status.add_metric([status.value], counts.get(status.value, 0))
        yield by_status

        count, first = db.session.execute(
            select(func.count(), func.min(Incident.created_at)).where(
                Incident.status == IncidentStatus.NEW.value
            )
        ).one()
        yield GaugeMetricFamily(
            "a1w_incidents_unacknowledged",
            '"An authority is asking" incidents nobody has acknowledged yet.',
            value=count,
        )
        yield GaugeMetricFamily(
            "a1w_incident_oldest_unacknowledged_age_seconds",
            "Age of the oldest unacknowledged incident (0: none).",
            value=_age(first, now),
        )

        from web.jobs.runs import last_successes
        from web.jobs.schedule import job_specs

        last = last_successes()
        success = GaugeMetricFamily(
            "a1w_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time; 0: never).",
            labels=["job"],
        )
        period = GaugeMetricFamily(
            "a1w_job_period_seconds", "How often each periodic job runs.", labels=["job"]
        )
        for spec in job_specs(current_app.config):
            moment = last.get(spec.name)
            success.add_metric([spec.name], moment.timestamp() if moment else 0.0)
            period.add_metric([spec.name], spec.period.total_seconds())
        yield success
        yield period


def _from_loopback() -> bool:
    if "X-Forwarded-For" in request.headers and not current_app.config["TRUSTED_PROXIES"]:
        return False  # came through a proxy we were not told about: the address is the proxy's
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _has_token() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_read_metrics() -> bool:
    return _has_token() or _from_loopback()


def _registry_for_scrape() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # every worker's request counts
    else:
        registry.register(_ProcessRequests())
    registry.register(DatabaseCollector())
    return registry


class _ProcessRequests(Collector):
    """This process's request metrics (without multiprocess mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from _registry.collect()


@bp.route("/metrics")
@public  # its own check: loopback or the bearer token (may_read_metrics)
@limiter.limit(DENIED_LIMIT, deduct_when=lambda response: response.status_code == 403)
def metrics() -> Response:
    if not may_read_metrics():
        record_audit_event("metrics.denied", outcome="denied", message="not loopback, no token")
        db.session.commit()
        abort(403)
    body = generate_latest(_registry_for_scrape())
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _start_timer() -> None:
    g.a1w_request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("a1w_request_started", None)
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_metrics(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)

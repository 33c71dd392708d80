"""GET /metrics: who may read it, per-route request metrics without raw paths, and the
database gauges (outbox, sends, incidents, jobs) moving as an alert is queued and sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from web.extensions import db
from web.models import AuditEvent, Incident, OutboxMessage, Role, utcnow

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}
TOKEN = "metrics-token-of-the-test-0123456789"


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"METRICS_TOKEN": TOKEN}


def samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def denials(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "metrics.denied")
        )


def test_refused_to_a_client_outside_without_the_token(app, client) -> None:
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=wrong).status_code == 403
    basic = {"Authorization": f"Basic {TOKEN}"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=basic).status_code == 403
    assert denials(app) == 3  # one audit event per refusal
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=right).status_code == 200
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert denials(app) == 3


def test_no_token_configured_means_loopback_only(app, client) -> None:
    app.config["METRICS_TOKEN"] = ""
    headers = {"Authorization": "Bearer "}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=headers).status_code == 403


def test_a_proxied_request_is_not_a_loopback_client(app, client) -> None:
    # nginx on the same machine, TRUSTED_PROXIES unset: the address is the proxy's.
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    assert client.get("/metrics", headers=proxied).status_code == 403


def test_behind_a_trusted_proxy_the_real_client_address_counts(app, database_url, tmp_path) -> None:
    # (``app`` too: its teardown empties the PostgreSQL database after this test's audit event.)
    from app import create_app
    from tests.conftest import base_config

    proxied = create_app({**base_config(tmp_path / "proxied", database_url), "TRUSTED_PROXIES": 1})
    client = proxied.test_client()
    # The client forged "127.0.0.1"; nginx appended its real address, which ProxyFix takes.
    forged = {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"}
    assert client.get("/metrics", headers=forged).status_code == 403
    local = {"X-Forwarded-For": "127.0.0.1"}  # the agent on the proxy's machine, via the proxy
    assert client.get("/metrics", headers=local).status_code == 200
    with proxied.app_context():
        db.engine.dispose()


def test_refusals_are_rate_limited(app, client) -> None:
    """30 refusals per minute and client (a fixed window: a run that straddles a minute boundary
    may see up to twice that before the first 429); a 429 writes no audit event."""
    statuses = []
    while 429 not in statuses and len(statuses) < 65:
        statuses.append(client.get("/metrics", environ_base=OUTSIDE).status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {403}
    assert 30 <= len(statuses) - 1 <= 60
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 429
    assert denials(app) == len(statuses) - 1
    assert client.get("/metrics").status_code == 200  # the loopback agent is never limited


def test_requests_counted_per_route_never_per_path(client) -> None:
    token = "A" * 60
    before = samples(client.get("/metrics"))
    client.get(f"/V/{token}")
    client.get(f"/V/{token}")
    client.get("/verify?lang=fr")
    response = client.get("/metrics")
    assert token not in response.get_data(as_text=True)
    found = samples(response)

    def count(found, endpoint: str) -> float:
        return sum(
            value
            for (name, labels), value in found.items()
            if name == "a1w_http_requests_total" and ("endpoint", endpoint) in labels
        )

    assert count(found, "verify.scanned") - count(before, "verify.scanned") == 2
    assert count(found, "verify.lookup") - count(before, "verify.lookup") == 1
    latency = ("a1w_http_request_duration_seconds_count", (("endpoint", "verify.scanned"),))
    assert found[latency] - before.get(latency, 0) == 2
    labels_seen = {value for _, labels in found for _, value in labels}
    assert not any("/" in value for value in labels_seen if value not in ("+Inf",))


def gauge(found, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def test_gauges_move_as_an_alert_is_queued_and_sent(app, data, client) -> None:
    company = data.company()
    employee_id = data.employee(company)
    agent = data.user(Role.SUPPORT)
    before = samples(client.get("/metrics"))
    assert gauge(before, "a1w_outbox_depth", urgency="high") == 0
    assert gauge(before, "a1w_outbox_oldest_age_seconds", urgency="high") == 0
    assert gauge(before, "a1w_incidents_unacknowledged") == 0
    assert gauge(before, "a1w_job_last_success_timestamp_seconds", job="escalate") == 0
    assert gauge(before, "a1w_job_period_seconds", job="escalate") == 60

    with app.app_context():
        from web.models import Employee

        queued = utcnow() - timedelta(seconds=90)
        user_id = db.session.get(Employee, employee_id).user_id
        db.session.add(
            Incident(
                company_id=company,
                employee_id=employee_id,
                user_id=user_id,
                idempotency_key="0b0c3f7e-2f8e-4c1b-9a49-3c54f0d7a111",
                tapped_at=queued,
                created_at=queued,
            )
        )
        message = OutboxMessage(
            user_id=agent,
            kind="alert",
            title="t",
            body="b",
            url="/",
            urgency="high",
            created_at=queued,
        )
        db.session.add(message)
        db.session.commit()
        message_id = message.id
    queued_state = samples(client.get("/metrics"))
    assert gauge(queued_state, "a1w_outbox_depth", urgency="high") == 1
    assert 90 <= gauge(queued_state, "a1w_outbox_oldest_age_seconds", urgency="high") < 120
    assert gauge(queued_state, "a1w_outbox_depth", urgency="normal") == 0
    assert gauge(queued_state, "a1w_push_messages", status="pending") == 1
    assert gauge(queued_state, "a1w_incidents_unacknowledged") == 1
    assert 90 <= gauge(queued_state, "a1w_incident_oldest_unacknowledged_age_seconds") < 120

    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        message.status, message.sent_at = "sent", utcnow()
        incident = db.session.scalar(select(Incident))
        incident.status, incident.acknowledged_at = "acknowledged", utcnow()
        db.session.commit()
        from web.jobs.schedule import job_specs

        next(s for s in job_specs(app.config) if s.name == "escalate").run()
    sent_state = samples(client.get("/metrics"))
    assert gauge(sent_state, "a1w_outbox_depth", urgency="high") == 0
    assert gauge(sent_state, "a1w_outbox_oldest_age_seconds", urgency="high") == 0
    assert gauge(sent_state, "a1w_push_messages", status="sent") == 1
    assert gauge(sent_state, "a1w_push_messages", status="pending") == 0
    assert gauge(sent_state, "a1w_incidents_unacknowledged") == 0
    last = gauge(sent_state, "a1w_job_last_success_timestamp_seconds", job="escalate")
    assert abs(last - utcnow().timestamp()) < 60


def test_gunicorn_workers_add_up_in_multiprocess_mode(app, database_url, tmp_path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR (docs/deploy.md), every scrape counts all workers' requests,
    whichever worker answers it."""
    import os

    import requests

    from tests.gunicorn_server import Gunicorn

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DATABASE_URL": database_url,
        "A1W_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
        "LOG_LEVEL": "WARNING",
    }
    # Ready when /metrics answers, not /healthz: a probe that timed out while the workers boot
    # would still be counted later, after the baseline below.
    with Gunicorn(env, workers=3, ready_path="/metrics", log=tmp_path / "gunicorn.log") as server:
        base = server.url

        def healthz_counts() -> float:
            body = requests.get(f"{base}/metrics", timeout=30).text
            wanted = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
            return sum(
                sample.value
                for family in text_string_to_metric_families(body)
                for sample in family.samples
                if sample.name == "a1w_http_requests_total" and sample.labels == wanted
            )

        before = healthz_counts()
        for _ in range(30):  # new connections: spread over the workers
            assert requests.get(f"{base}/healthz", timeout=30).status_code == 200
        # Whichever worker answers the scrape, it counts every worker's requests.
        assert {healthz_counts() - before for _ in range(6)} == {30}
        assert len(list(metrics_dir.glob("*.db"))) >= 2  # more than one worker wrote counts

"""The typed-lookup limit holds across four gunicorn workers because they count in Redis.

Fails (never skips) when Redis at REDIS_URL (default redis://127.0.0.1:6379) is not running.
"""

from __future__ import annotations

import http.client
import os
import uuid
from urllib.parse import urlencode

import pytest
import redis

from tests.gunicorn_server import Gunicorn

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def _request(port: int, method: str, path: str, body: str | None = None) -> int:
    # A new connection each time, so the four workers share the requests between them.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    connection.request(method, path, body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is required for this test ({REDIS_URL}): {exc}", pytrace=False)
    yield client
    client.close()


@pytest.fixture
def gunicorn_server(database_url, tmp_path, redis_client):
    prefix = f"a1w-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "A1W_INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    try:
        with Gunicorn(env, workers=4, log=tmp_path / "gunicorn.log") as server:
            yield server.port, prefix
    finally:
        for key in redis_client.scan_iter(f"*/{prefix}/*"):
            redis_client.delete(key)


def test_eleventh_failed_lookup_gets_429_across_four_workers(gunicorn_server, redis_client):
    port, prefix = gunicorn_server
    body = urlencode({"code": "AAAA-AAAA-AAAA", "birth_date": "1980-01-01"})
    statuses = [_request(port, "POST", "/verify", body) for _ in range(11)]
    assert statuses == [404] * 10 + [429]
    # The counts live in Redis, shared by the workers (memory:// would count per worker).
    assert list(redis_client.scan_iter(f"*/{prefix}/*verify.lookup*"))

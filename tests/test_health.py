"""GET /healthz: up when the database answers, 503 when it does not."""

from __future__ import annotations

from app import create_app
from tests.conftest import base_config


def test_healthz_answers_ok_without_a_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    app = create_app({**base_config(tmp_path, url)})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"

"""`flask demo` cannot put known logins into production."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import AuthActions
from web.demo import DEMO_PASSWORD, is_loopback_url
from web.extensions import db
from web.models import Company, User


def _companies(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Company))


def test_demo_refuses_a_public_address(runner, app):
    app.config["PUBLIC_BASE_URL"] = "https://wallet.example.eu"
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output
    assert _companies(app) == 0


def test_demo_on_a_test_server_gets_a_fresh_password(runner, app):
    app.config["PUBLIC_BASE_URL"] = "https://staging.wallet.example.eu"
    result = runner.invoke(args=["demo", "--i-know-this-is-not-production"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD not in result.output
    line = next(x for x in result.output.splitlines() if "operator@a1wallet.example" in x)
    password = line.split()[-1]
    assert len(password) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", password)
    client = app.test_client()
    assert AuthActions(client).login("operator@a1wallet.example", DEMO_PASSWORD).status_code == 401
    # The printed password works; the operator then reaches only the factor enrolment.
    response = AuthActions(app.test_client()).login("operator@a1wallet.example", password)
    assert response.headers["Location"] == "/account/security"


def test_demo_never_goes_into_a_database_with_data(runner, app, data):
    data.company("Real Customer GmbH")
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    for args in (["demo"], ["demo", "--i-know-this-is-not-production"]):
        assert runner.invoke(args=args).exit_code == 2
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email.like("%a1wallet.example"))) is None


def test_loopback_addresses():
    for url in ("http://127.0.0.1:5000", "http://localhost:8000", "http://[::1]:5000/"):
        assert is_loopback_url(url), url
    for url in ("https://wallet.example", "http://10.0.0.5", "http://127.0.0.1.nip.io"):
        assert not is_loopback_url(url), url

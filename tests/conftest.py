"""Fixtures in the flaskr style: app, client, runner, plus helpers to make data and sign in.

The suite runs on SQLite by default. With TEST_DATABASE_URL=postgresql://… it runs on that
PostgreSQL database instead, and fails at once (never skips) when the server cannot be reached.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app
from tests.factories import PASSWORD
from web.config import normalise_database_url
from web.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
FAST_PASSWORD_HASH = "pbkdf2:sha256:1000"  # the real scrypt makes a login cost ~50 ms


def base_config(tmp_path: Path, database_url: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
        "PUBLIC_BASE_URL": "https://a1.example.test",
        "SESSION_COOKIE_SECURE": False,  # the test client speaks plain http
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def _migrate(database_url: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(tmp_path, database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {exc}", pytrace=False
        )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest migration: PostgreSQL when asked for, else a SQLite template."""
    tmp = tmp_path_factory.mktemp("template")
    if TEST_DATABASE_URL:
        _reset_postgres(TEST_DATABASE_URL)
        _migrate(TEST_DATABASE_URL, tmp)
        return TEST_DATABASE_URL
    path = tmp / "template.sqlite3"
    _migrate(f"sqlite:///{path}", tmp)
    return str(path)


def _truncate_postgres(app: Flask) -> None:
    with app.app_context():
        tables = ", ".join(
            f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version"
        )
        # A browser test's live server may still be answering a request the closed page had
        # sent (a background pre-fetch): its transaction and the TRUNCATE can deadlock. The test
        # is over, so any other session on this database is its leftover: end them, then empty
        # the tables (again, if PostgreSQL chose the TRUNCATE as the deadlock's victim).
        for attempt in range(3):
            try:
                with db.engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                    conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                break
            except sa.exc.OperationalError:
                if attempt == 2:
                    raise
            finally:
                # The pool's other connections were among those ended: never hand them out again.
                db.session.remove()
                db.engine.dispose()
        # The rows the migrations seed, as the next test expects them (SQLite copies the template).
        from web.filing.states import seed_default_filing_states

        seed_default_filing_states()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    copy = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def app_config() -> dict[str, object]:
    """Override in a test module to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    app = create_app({**base_config(tmp_path, database_url), **app_config})
    yield app
    if TEST_DATABASE_URL:
        _truncate_postgres(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def data(app: Flask):
    from tests.factories import Factories

    return Factories(app)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = PASSWORD, **extra: str):
        from tests.helpers import csrf_token

        token = csrf_token(self._client, "/login")
        response = self._client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
        )
        return self.second_factor(email, response)

    def second_factor(self, email: str, response):
        """After the password: the authenticator-app step, for staff made by the factories."""
        from tests.factories import has_test_totp, totp_code
        from tests.helpers import csrf_token

        if response.status_code != 302 or not response.headers["Location"].startswith(
            "/login/factor"
        ):
            return response
        if not has_test_totp(email):
            return response
        token = csrf_token(self._client, "/login/factor")
        return self._client.post(
            "/login/factor", data={"code": totp_code(email), "csrf_token": token}
        )

    def logout(self):
        from tests.helpers import csrf_token

        token = csrf_token(self._client, "/account")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)

"""The application factory, configuration defaults and migrations."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from tests.conftest import TEST_DATABASE_URL, base_config
from web.config import Config, normalise_database_url
from web.extensions import db


def test_testing_flag(app):
    assert app.testing
    assert not create_app({"INSTANCE_PATH": app.config["INSTANCE_PATH"]}).testing


def test_config_defaults_are_safe(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    config = Config(tmp_path)
    assert f"sqlite:///{tmp_path / 'a1wallet.sqlite3'}" == config.SQLALCHEMY_DATABASE_URI
    assert config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.SESSION_PROTECTION == "basic"
    assert config.RATELIMIT_STORAGE_URI == "memory://"
    assert config.REMEMBER_COOKIE_DURATION.days == 90
    # The generated secret is kept, private to its owner, and the same at the next start.
    secret_file = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert len(config.SECRET_KEY) >= 40
    assert Config(tmp_path).SECRET_KEY == config.SECRET_KEY


def test_https_public_url_makes_cookies_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://wallet.example.com/")
    config = Config(tmp_path)
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE
    assert config.PUBLIC_BASE_URL == "https://wallet.example.com"


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("SUPPORT_PHONE", "+33 1 23 45 67 89")
    config = Config(tmp_path)
    assert config.SECRET_KEY == "from-env"
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"
    assert config.SUPPORT_PHONE == "+33 1 23 45 67 89"
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_runs_in_wal_with_full_sync(app):
    if TEST_DATABASE_URL:
        assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
        return
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_from_empty_match_the_models(app):
    """The migrated database (built from empty by the session fixture) equals the models."""
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert diff == [], f"models and migrations differ: {diff}"
    assert version is not None


def test_migrations_upgrade_and_downgrade_on_an_empty_database(tmp_path):
    """upgrade → downgrade → upgrade from empty, on this run's database kind."""
    from flask_migrate import downgrade, upgrade

    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        engine = sa.create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA migration_check"))
        engine.dispose()
        url += ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigration_check"
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(base_config(tmp_path, url))
    try:
        with app.app_context():
            upgrade()
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {
                "company",
                "user_account",
                "sign_in",
                "employee",
                "trip",
                "certificate",
                "audit_event",
            } <= tables
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert "certificate" in sa.inspect(db.engine).get_table_names()
            db.engine.dispose()
    finally:
        if TEST_DATABASE_URL:
            engine = sa.create_engine(normalise_database_url(TEST_DATABASE_URL))
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            engine.dispose()


def test_instance_folder_is_created(tmp_path):
    target = tmp_path / "fresh-instance"
    Config(Path(target))
    assert target.is_dir()

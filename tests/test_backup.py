"""`flask backup DEST`: a consistent copy of the SQLite database made while the app writes, which
opens as the app's database and verifies its certificates' QR codes. On PostgreSQL the command
refuses (exit 2) and names pg_dump; the test then makes a real pg_dump/pg_restore round trip
when pg_dump is installed."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy import func, select

from app import create_app
from tests.conftest import TEST_DATABASE_URL, base_config
from tests.factories import Factories
from web.certificates.services import revoke_certificate
from web.extensions import db
from web.models import AuditEvent, Certificate
from web.verify.services import VALID_PROVISIONAL, WITHDRAWN, verify_for_inspector


def _make_certificates(app, data: Factories) -> tuple[list[Certificate], Certificate]:
    """Three valid provisional certificates and one withdrawn."""
    company = data.company("Backup GmbH")
    employee = data.employee(company, email="backup.worker@example.com")
    valid = [data.certificate(employee, states=(state,)) for state in ("FR", "BE", "AT")]
    withdrawn = data.certificate(employee, states=("NL",))
    with app.app_context():
        revoke_certificate(db.session.get(Certificate, withdrawn.id), "trip cancelled", actor=None)
        db.session.commit()
    return valid, withdrawn


class Writer:
    """Issues certificates in a loop from another thread (its own session and connection)."""

    def __init__(self, app, data: Factories) -> None:
        self.data = data
        company = data.company("Busy SARL")
        self.employee = data.employee(company, email="busy.worker@example.com")
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                self.data.certificate(self.employee, states=("IT",))
                self.written += 1
        except BaseException as exc:
            self.error = exc

    def wait_for_more(self, than: int, timeout: float = 10) -> bool:
        for _ in range(int(timeout / 0.01)):
            if self.written > than or self.error is not None:
                break
            self.stop.wait(0.01)
        return self.written > than

    def __enter__(self) -> Writer:
        self.thread.start()
        while self.written < 3 and self.error is None:  # writing before the backup starts
            self.stop.wait(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert self.error is None, self.error


def _restored_app_verifies(restored_url: str, tmp_path: Path, valid, withdrawn) -> int:
    """Open the copy as the app's database; every certificate's QR verifies as before.
    Returns the number of certificates in the copy."""
    restored = create_app(base_config(tmp_path / "restored", restored_url))
    try:
        with restored.app_context():
            for cert in valid:
                assert verify_for_inspector(cert.qr_text).state == VALID_PROVISIONAL
            assert verify_for_inspector(withdrawn.qr_text).state == WITHDRAWN
            count = db.session.scalar(select(func.count()).select_from(Certificate))
            issued = db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "certificate.issued")
            )
            # Each issue wrote its certificate and its audit event in one transaction: a
            # consistent copy has both or neither.
            assert issued == count
            for (qr_text,) in db.session.execute(select(Certificate.qr_text)).all():
                assert verify_for_inspector(qr_text).state in (VALID_PROVISIONAL, WITHDRAWN)
        client = restored.test_client()
        page = client.get(
            "/V/" + valid[0].qr_text.split("/V/", 1)[1], headers={"Accept-Language": "en"}
        )
        assert page.status_code == 200
        assert "Valid — provisional certificate" in page.get_data(as_text=True)
        return count
    finally:
        with restored.app_context():
            db.engine.dispose()


def test_backup_while_writing_restores_and_verifies(app, data, runner, tmp_path):
    valid, withdrawn = _make_certificates(app, data)
    if TEST_DATABASE_URL:
        _postgres_backup_refused_and_pg_dump_round_trip(
            app, data, runner, tmp_path, valid, withdrawn
        )
        return
    dest = tmp_path / "backups" / "a1wallet-backup.sqlite3"
    dest.parent.mkdir()
    with Writer(app, data) as writer:
        before = writer.written
        result = runner.invoke(args=["backup", str(dest)])
        after = writer.written
        assert writer.wait_for_more(after)  # the backup did not stop the app's writes
    assert result.exit_code == 0, result.output
    assert '"integrity_check": "ok"' in result.output
    assert not list(dest.parent.glob("*.part"))
    connection = sqlite3.connect(dest)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        connection.close()
    count = _restored_app_verifies(f"sqlite:///{dest}", tmp_path, valid, withdrawn)
    # The copy is one moment of the writer's run: all that was there before, nothing torn.
    assert len(valid) + 1 + before <= count <= len(valid) + 1 + after + 1


def _postgres_backup_refused_and_pg_dump_round_trip(app, data, runner, tmp_path, valid, withdrawn):
    result = runner.invoke(args=["backup", str(tmp_path / "x.dump")])
    assert result.exit_code == 2
    assert "copies SQLite databases only" in result.output
    assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        return  # the refusal is checked; no client tools on this machine for the round trip
    source = sa.make_url(TEST_DATABASE_URL)
    scratch = f"{source.database}_restore_{uuid.uuid4().hex[:8]}"
    scratch_url = source.set(database=scratch).render_as_string(hide_password=False)
    dump = tmp_path / "a1wallet.dump"
    libpq = source.set(drivername="postgresql").render_as_string(hide_password=False)
    with Writer(app, data):
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dump}", libpq], check=True, timeout=60
        )
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch_url}", str(dump)],
            check=True,
            timeout=60,
        )
        count = _restored_app_verifies(scratch_url, tmp_path, valid, withdrawn)
        assert count >= len(valid) + 1 + 3
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_backup_refuses_postgresql_with_the_pg_dump_command(tmp_path):
    """Whatever database this run uses: the refusal needs no server, and hides the password."""
    url = "postgresql://a1w:s3cret@db.internal:5433/a1wallet"
    pg_app = create_app(base_config(tmp_path, url))
    result = pg_app.test_cli_runner().invoke(args=["backup", "/backups/a1w.dump"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: `flask backup` copies SQLite databases only")
    assert (
        "pg_dump --format=custom --file=/backups/a1w.dump "
        "'postgresql://a1w@db.internal:5433/a1wallet'" in result.output
    )
    assert "s3cret" not in result.output


def test_backup_refuses_to_overwrite_the_database_or_write_nowhere(app, runner, tmp_path):
    if TEST_DATABASE_URL:
        result = runner.invoke(args=["backup", str(tmp_path / "x")])
        assert result.exit_code == 2 and "pg_dump" in result.output
        return
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    size = database.stat().st_size
    for dest, message in (
        (database, "DEST is the database itself"),
        (Path(f"{database}-wal"), "DEST is the database itself"),
        (tmp_path / "missing" / "backup.sqlite3", "does not exist"),
    ):
        result = runner.invoke(args=["backup", str(dest)])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert database.stat().st_size == size
    # An existing backup is replaced whole (the copy is written aside, then renamed).
    dest = tmp_path / "nightly.sqlite3"
    dest.write_bytes(b"yesterday")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert dest.read_bytes().startswith(b"SQLite format 3\x00")

"""The SQLite backup: a consistent copy of the live database file, checked before it is kept;
and its command, `flask --app app backup DEST`."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from web.cli_errors import fail
from web.extensions import db

NOT_INCLUDED = (
    "the key-encryption key (A1W_KEY_ENCRYPTION_KEY or instance/key_encryption_key) and the "
    "PDFs under DOCUMENTS_PATH: back them up apart"
)


class BackupRefused(Exception):
    """Why no backup was made (the message says what to do instead)."""


@dataclass(frozen=True)
class Backup:
    backup: str
    bytes: int
    pages: int
    integrity_check: str = "ok"
    not_included: str = NOT_INCLUDED


def _pg_dump_advice(url: URL, dest: str) -> str:
    target = URL.create(  # the libpq form, without the password
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query={k: v for k, v in url.query.items() if k != "password"},
    )
    return (
        "`flask backup` copies SQLite databases only; this database is PostgreSQL.\n"
        "Back it up with PostgreSQL's own tool (the password from PGPASSWORD or "
        "~/.pgpass), for example:\n"
        f"  pg_dump --format=custom --file={dest} "
        f"'{target.render_as_string(hide_password=False)}'\n"
        "and restore it with pg_restore (see docs/deploy.md)."
    )


def backup_sqlite(url: URL, dest: str) -> Backup:
    """Copy the SQLite database at `url` to `dest`, consistent even while the app writes.

    sqlite3's online backup API in one step is one snapshot (in WAL mode the app's writers are
    not blocked); the copy must pass PRAGMA integrity_check before it takes the name `dest`.
    Raises BackupRefused for another database, an in-memory one, or a bad destination."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupRefused(_pg_dump_advice(url, dest))
    if backend != "sqlite":
        raise BackupRefused(f"`flask backup` copies SQLite databases only, not {backend}")
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupRefused("the database is in memory: there is no file to back up")
    source = Path(url.database).resolve()
    target_path = Path(dest).resolve()
    if not source.is_file():
        raise BackupRefused(f"the database file {source} does not exist")
    if target_path in (source, Path(f"{source}-wal"), Path(f"{source}-shm")):
        raise BackupRefused("DEST is the database itself: choose another file")
    if not target_path.parent.is_dir():
        raise BackupRefused(f"the directory {target_path.parent} does not exist")
    partial = target_path.with_name(f".{target_path.name}.{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        reader.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        check = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
        reader.close()
    if check != ["ok"]:
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed PRAGMA integrity_check: {'; '.join(check[:5])}")
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.replace(target_path)  # never a half-written backup under the final name
    directory = os.open(target_path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Backup(backup=str(target_path), bytes=target_path.stat().st_size, pages=pages)


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(dir_okay=False))
def backup_command(dest: str) -> None:
    """Copy the SQLite database to DEST, consistent even while the app writes.

    Uses sqlite3's online backup API (one step: a snapshot; in WAL mode the app's writers are
    not blocked), checks the copy with PRAGMA integrity_check and moves it to DEST only then.
    On PostgreSQL it refuses and prints the pg_dump command to use instead (exit status 2).
    """
    try:
        made = backup_sqlite(db.engine.url, dest)
    except BackupRefused as exc:
        fail(str(exc))
    click.echo(json.dumps(asdict(made)))

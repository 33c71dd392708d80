"""Database engine settings: SQLite made durable and concurrent enough for one machine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from web.extensions import db

T = TypeVar("T")
# SQLite binds each value of an IN (...) as one parameter, at most 32,766 per statement.
IN_LIST_BATCH = 10_000


def in_batches(values: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``values`` in lists short enough for one ``IN (...)`` on every database (a dashboard of
    tens of thousands of trips stays one query per ten thousand, not one per row)."""
    size = size or IN_LIST_BATCH
    batch = list(values)
    for start in range(0, len(batch), size):
        yield batch[start : start + size]


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; FULL makes a commit survive power loss;
    # busy_timeout makes a second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_before_savepoint(conn: Any, name: str) -> None:
    # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, not before SAVEPOINT; a
    # SAVEPOINT outside a transaction starts one that its RELEASE commits at once, so what the
    # savepoint wrote would survive a later rollback (found by tests/test_durability.py).
    if not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN")


def init_database(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _configure_sqlite)
            event.listen(engine, "savepoint", _begin_before_savepoint)

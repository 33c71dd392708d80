"""Reminder selection with 1,000,000 certificates in PostgreSQL.

    .venv/bin/python benchmarks/reminders_scale.py [--certificates 1000000]

Creates (or refills) the database BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/a1w_bench),
then times, in the same run, the reminder job's selection query against a count(*) of the
certificates table, and prints the query plan: it must use the valid_to index, not scan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/a1w_bench")


def ensure_database(url: str) -> None:
    from web.config import normalise_database_url

    base, _, name = normalise_database_url(url).rpartition("/")
    engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


USERS_SQL = """
INSERT INTO user_account (email, role, company_id, active, created_at, location_consent)
SELECT 'e' || g || '@bench.eu', 'employee', 1, true, now(), false FROM generate_series(1, 1000) g
"""
EMPLOYEES_SQL = """
INSERT INTO employee (company_id, user_id, family_name, given_names, birth_date, nationality,
                      residence_state, home_state, created_at)
SELECT 1, g, 'Name' || g, 'Given', date '1980-01-01', 'DE', 'DE', 'DE', now()
FROM generate_series(1, 1000) g
"""
# Validity ends spread over ten years around today: about 1 in 120 ends in the next 30 days.
CERTIFICATES_SQL = """
INSERT INTO certificate (id, company_id, employee_id, document_type, kind, legislation_state,
                         work_states, valid_from, valid_to, status, verification_code, created_at)
SELECT lpad(to_hex(g), 16, '0'), 1, 1 + g % 1000, 'A1', 'provisional', 'DE', 'FR',
       current_date - 400, current_date - 1825 + ((g::bigint * 7919) % 3650)::int,
       CASE WHEN g % 50 = 0 THEN 'withdrawn' ELSE 'active' END, lpad(to_hex(g), 12, '0'), now()
FROM generate_series(1, :n) g
"""


def fill(conn: sa.Connection, certificates: int) -> None:
    conn.execute(
        sa.text(
            "TRUNCATE reminder, outbox_message, push_subscription, certificate, trip, "
            "employee, sign_in, action_token, audit_event, user_account, company, "
            "signing_key RESTART IDENTITY CASCADE"
        )
    )
    conn.execute(sa.text("INSERT INTO company (name, created_at) VALUES ('Bench', now())"))
    conn.execute(sa.text(USERS_SQL))
    conn.execute(sa.text(EMPLOYEES_SQL))
    conn.execute(sa.text(CERTIFICATES_SQL), {"n": certificates})
    conn.execute(sa.text("ANALYZE"))


def timed(
    conn: sa.Connection, statement: sa.Executable, params: dict | None = None, runs: int = 7
) -> tuple[float, int]:
    samples = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        result = conn.execute(statement, params or {}).all()
        samples.append(time.perf_counter() - started)
        rows = (
            len(result)
            if len(result) != 1
            else int(result[0][0])
            if isinstance(result[0][0], int)
            else 1
        )
    return statistics.median(samples), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--certificates", type=int, default=1_000_000)
    args = parser.parse_args()

    ensure_database(BENCH_PG_URL)
    os.environ["DATABASE_URL"] = BENCH_PG_URL
    os.environ.setdefault("A1W_INSTANCE_PATH", tempfile.mkdtemp(prefix="a1w-bench-"))
    from flask_migrate import upgrade

    from app import create_app
    from web.extensions import db
    from web.models import Certificate
    from web.push.reminders import expiring_certificates_query

    app = create_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        with db.engine.begin() as conn:
            fill(conn, args.certificates)
        fill_seconds = time.perf_counter() - started
        # Exactly the reminder job's selection (web/push/reminders.py).
        selection = expiring_certificates_query(date.today(), 30)
        count_all = sa.select(sa.func.count()).select_from(Certificate)
        with db.engine.connect() as conn:
            select_seconds, selected = timed(conn, selection)
            count_seconds, total = timed(conn, count_all)
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    sa.text(
                        "EXPLAIN "
                        + str(selection.compile(db.engine, compile_kwargs={"literal_binds": True}))
                    )
                )
            )
    uses_index = "ix_certificate_valid_to" in plan and "Seq Scan on certificate" not in plan
    print(f"certificates: {total:,} (filled in {fill_seconds:.1f} s)")
    print(f"reminder selection: {selected:,} rows, median {select_seconds * 1000:.2f} ms")
    print(f"count(*) of the table: median {count_seconds * 1000:.2f} ms")
    print(f"ratio selection ÷ count(*) = {select_seconds / count_seconds:.3f}")
    print("query plan:")
    print("  " + plan.replace("\n", "\n  "))
    print(f"uses the valid_to index, no sequential scan: {'PASS' if uses_index else 'FAIL'}")
    return 0 if uses_index else 1


if __name__ == "__main__":
    sys.exit(main())

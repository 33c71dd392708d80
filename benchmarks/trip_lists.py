"""The trips list, the coverage dashboard and its CSV export for a company with 100, 1,000 and
10,000 trips: SQL queries per request (must not grow with the rows) and time per request beside
a bare SELECT of the rows the page reads.

    .venv/bin/python benchmarks/trip_lists.py                       # SQLite, a temporary file
    .venv/bin/python benchmarks/trip_lists.py --database-url postgresql://postgres@127.0.0.1:5432/test_h1

One company per size, its trips in every coverage status (web/trips/status.py) and every
declaration bucket, with employees, certificates, certificate requests and declarations, written
in bulk. Each page is asked through the Flask test client (in process, so the queries can be
counted with a ``before_cursor_execute`` event); the time is the median of ``--runs`` requests.
The bare SELECT is the floor: the page's trips with their employees, no status, no template —
the 25 rows of page 1 for the trips list, every planned trip for the dashboard (its counts are
over all rows) and the export. A PostgreSQL database given here is emptied first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date.today()
PASSWORD = "benchmark-password-1"  # noqa: S105 - a throwaway admin of a throwaway database

# The coverage answers (what web/trips/assessment.py stores), by name.
A1_OFFICIAL = {"certificate_type": "A1", "legislation_state": "DE", "provider_category": "official"}
A1_PROVISIONAL = {**A1_OFFICIAL, "provider_category": "provisional"}
NO_TREATY = {"certificate_type": "none_no_treaty", "legislation_state": None}
HOST_LAW = {"certificate_type": "none_host_legislation", "legislation_state": "FR"}
REVIEW = {"certificate_type": "review_required", "legislation_state": None}

# One scenario per trip, in turn: (the engine's answer, the certificate the employee holds for
# it, the request on the trip, cancelled) — between them every coverage status and next step.
SCENARIOS: list[tuple[dict | None, str | None, str | None, bool]] = [
    (A1_OFFICIAL, "official", None, False),  # covered
    (A1_PROVISIONAL, "provisional", None, False),  # provisionally covered
    (A1_OFFICIAL, "provisional", "draft", False),  # provisional, request to file
    (A1_OFFICIAL, None, "submitted", False),  # requested: upload the document
    (A1_OFFICIAL, "pending_review", None, False),  # requested: wait for the check
    (A1_OFFICIAL, None, "draft", False),  # action needed
    (A1_OFFICIAL, None, None, False),  # not covered: prepare the request
    (A1_PROVISIONAL, None, None, False),  # not covered: issue a provisional statement
    (None, None, None, False),  # not checked: check again
    (NO_TREATY, None, None, False),  # no agreement
    (HOST_LAW, None, None, False),  # host legislation
    (REVIEW, None, None, False),  # review needed
    (A1_OFFICIAL, None, "draft", True),  # cancelled
]
DESTINATIONS = ["FR", "BE", "NL", "IT", "AT", "US"]
TRIPS_PER_EMPLOYEE = 10


def fill(company_name: str, trips: int) -> int:
    """One company with ``trips`` trips; returns its id (the caller's app context)."""
    from web.extensions import db
    from web.models import (
        Certificate,
        CertificateRequest,
        Company,
        Declaration,
        Employee,
        Role,
        Trip,
        User,
    )

    company = Company(name=company_name, seat_state="DE")
    db.session.add(company)
    db.session.flush()
    cid = company.id
    employees = max(1, trips // TRIPS_PER_EMPLOYEE)
    db.session.execute(
        sa.insert(User),
        [
            {"email": f"e{n}@c{cid}.bench", "role": Role.EMPLOYEE.value, "company_id": cid}
            for n in range(employees)
        ],
    )
    user_ids = db.session.scalars(
        sa.select(User.id).where(User.company_id == cid).order_by(User.id)
    ).all()
    db.session.execute(
        sa.insert(Employee),
        [
            {
                "company_id": cid,
                "user_id": uid,
                "family_name": f"Name{n:05d}",
                "given_names": "Given",
                "birth_date": date(1980, 1, 1),
                "nationality": "DE",
                "residence_state": "DE",
                "home_state": "DE",
            }
            for n, uid in enumerate(user_ids)
        ],
    )
    employee_ids = db.session.scalars(
        sa.select(Employee.id).where(Employee.company_id == cid).order_by(Employee.id)
    ).all()
    trip_rows = []
    for n in range(trips):
        answer, _cert, _request, cancelled = SCENARIOS[n % len(SCENARIOS)]
        start = TODAY + timedelta(days=(n * 3) % 700 - 100)
        destination = DESTINATIONS[n % len(DESTINATIONS)] if answer is not NO_TREATY else "US"
        trip_rows.append(
            {
                "company_id": cid,
                "employee_id": employee_ids[n % len(employee_ids)],
                "destination_state": destination,
                "work_states": destination,
                "start_date": start,
                "end_date": start + timedelta(days=20),
                "status": "cancelled" if cancelled else "planned",
                "coverage_json": json.dumps({**answer, "segments": []}) if answer else None,
                "coverage_type": answer["certificate_type"] if answer else None,
                "coverage_category": answer.get("provider_category") if answer else None,
            }
        )
    db.session.execute(sa.insert(Trip), trip_rows)
    trip_ids = db.session.scalars(
        sa.select(Trip.id).where(Trip.company_id == cid).order_by(Trip.id)
    ).all()
    certificates, requests, declarations = [], [], []
    for n, (trip_id, row) in enumerate(zip(trip_ids, trip_rows, strict=True)):
        _answer, cert, request, _cancelled = SCENARIOS[n % len(SCENARIOS)]
        code = f"{cid:04d}{n:08d}"
        if cert:
            certificates.append(
                {
                    "id": f"B{code}{'0' * 3}"[:16],
                    "company_id": cid,
                    "employee_id": row["employee_id"],
                    "trip_id": trip_id,
                    "document_type": "A1",
                    "kind": "provisional" if cert == "provisional" else "official",
                    "legislation_state": "DE",
                    "work_states": row["work_states"],
                    "valid_from": row["start_date"] - timedelta(days=1),
                    "valid_to": row["end_date"] + timedelta(days=1),
                    "status": "pending_review" if cert == "pending_review" else "active",
                    "verification_code": code,
                }
            )
        if request:
            requests.append(
                {
                    "company_id": cid,
                    "employee_id": row["employee_id"],
                    "trip_id": trip_id,
                    "status": request,
                    "document_type": "A1",
                    "certificate_type": "A1",
                    "legislation_state": "DE",
                    "work_states": row["work_states"],
                    "period_start": row["start_date"],
                    "period_end": row["end_date"],
                    "lead_time_days": 30,
                    "expected_by": TODAY + timedelta(days=20) if request == "submitted" else None,
                }
            )
        # The declaration: none (the question), answered "no", filed, or a service (required).
        kind = n % 4
        if kind:
            declarations.append(
                {
                    "company_id": cid,
                    "trip_id": trip_id,
                    "provides_service": kind != 1,
                    "filed_on": row["start_date"] - timedelta(days=3) if kind == 2 else None,
                    "receipt_number": f"R-{n}" if kind == 2 else None,
                }
            )
    for model, rows in (
        (Certificate, certificates),
        (CertificateRequest, requests),
        (Declaration, declarations),
    ):
        if rows:
            db.session.execute(sa.insert(model), rows)
    db.session.commit()
    return cid


def reset_postgres(url: str) -> None:
    from web.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class QueryCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


def measure(client, counter: QueryCounter, path: str, runs: int) -> tuple[int, float, int]:
    """(queries of one request, median seconds, response bytes)."""
    response = client.get(path)  # warm: the rules data, the translations, the templates
    assert response.status_code == 200, (path, response.status_code)
    samples, queries = [], []
    for _ in range(runs):
        before = counter.count
        started = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        samples.append(time.perf_counter() - started)
        queries.append(counter.count - before)
        assert response.status_code == 200, (path, response.status_code)
    assert len(set(queries)) == 1, (path, queries)
    return queries[0], statistics.median(samples), len(body)


def bare_select(statement: sa.Select, runs: int) -> tuple[float, int]:
    """Median seconds of the rows fetched as plain tuples (no ORM objects), and their number."""
    from web.extensions import db

    samples, rows = [], 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        with db.engine.connect() as conn:
            rows = len(conn.execute(statement).all())
        samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:]), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="a1w-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        reset_postgres(url)

    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import AuthActions, base_config
    from tests.factories import Factories
    from web.access import PAGE_SIZE
    from web.auth.factors import SESSION_VERIFIED_AT
    from web.extensions import db
    from web.models import Employee, Role, Trip

    app = create_app({**base_config(workdir, url), "TESTING": False, "RATELIMIT_ENABLED": False})
    data = Factories(app)
    with app.app_context():
        upgrade()
        counter = QueryCounter(db.engine)
    print(f"database: {url.split('://')[0]}; median of {args.runs} requests; "
          f"{len(SCENARIOS)} scenarios in turn")  # fmt: skip
    print(
        f"{'trips':>6}  {'page':<10} {'queries':>7} {'ms/page':>9} {'bare ms':>8} "
        f"{'bare rows':>9} {'ratio':>6} {'KB':>6}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with app.app_context():
            started = time.perf_counter()
            cid = fill(f"Bench {size}", size)
            filled = time.perf_counter() - started
        email = f"admin@c{cid}.bench"
        data.user(Role.EMPLOYER_ADMIN, cid, email=email, password=PASSWORD)
        client = app.test_client()
        AuthActions(client).login(email, PASSWORD)
        with client.session_transaction() as session:  # the export asks for a recent factor
            session[SESSION_VERIFIED_AT] = int(time.time())
        trip_columns = (Trip.id, Trip.destination_state, Trip.start_date, Trip.end_date,
                        Trip.status, Trip.coverage_json, Employee.given_names,
                        Employee.family_name)  # fmt: skip
        listed = (
            sa.select(*trip_columns)
            .join(Employee, Employee.id == Trip.employee_id)
            .where(Trip.company_id == cid, Trip.status != "cancelled")
            .order_by(Trip.start_date, Trip.id)
        )
        pages = {
            "trips": ("/admin/trips", listed.limit(PAGE_SIZE)),
            "dashboard": ("/admin/coverage", listed),
            "csv": ("/admin/coverage.csv", listed),
        }
        for name, (path, floor) in pages.items():
            with app.app_context():
                bare, rows = bare_select(floor, args.runs)
            queries, seconds, size_bytes = measure(client, counter, path, args.runs)
            print(
                f"{size:>6}  {name:<10} {queries:>7} {seconds * 1000:>9.1f} {bare * 1000:>8.2f} "
                f"{rows:>9} {seconds / bare:>6.0f} {size_bytes / 1024:>6.0f}"
            )
        print(f"        (filled in {filled:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

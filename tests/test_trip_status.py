"""A trip's coverage status and next step (web/trips/status.py): computed once, and the same
wherever it is shown — the wallet, the trip page, the trips list, the employee page, the coverage
dashboard, its CSV export and the API. A trip covered by a valid certificate is never offered a
provisional statement nor told to request one."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import Factories, confirm_official
from tests.helpers import recorded_statements
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    revoke_certificate,
)
from web.declarations.services import answer_question
from web.extensions import db
from web.filing.certificate_requests import CHECKLIST, cancel_request, submit_request
from web.models import Certificate, Employee, Role, Trip, User
from web.trips.follow_up import check_trip_coverage
from web.trips.records import open_request
from web.trips.services import cancel_trip
from web.trips.status import trip_status, trip_statuses
from web.vocabulary import CoverageStatus, NextStepKind

TODAY = date.today()
START = TODAY + timedelta(days=200)  # far enough ahead for every filed request to arrive in time


def _days(start: int, length: int) -> tuple[date, date]:
    first = TODAY + timedelta(days=start)
    return first, first + timedelta(days=length)


class World:
    """Trips of two employees of one company, one (at least) in each status."""

    def __init__(self, app, data: Factories) -> None:
        self.app, self.data = app, data
        self.company = data.company("Nordwind", seat_state="DE")
        data.user(Role.EMPLOYER_ADMIN, self.company, email="admin@example.com")
        self.anna = data.employee(self.company, email="anna@example.com")  # insured in Germany
        # Insured in Greece, where the provider does not file: provisional statements only.
        self.eleni = data.employee(
            self.company,
            email="eleni@example.com",
            family_name="Papadopoulou",
            given_names="Eleni",
            nationality="GR",
            residence_state="GR",
            home_state="GR",
        )
        self.trips: dict[str, int] = {}

    def trip(
        self,
        name: str,
        employee: int,
        destination: str,
        start: date,
        end: date,
        provides_service: str | None = "no",
    ) -> Trip:
        """A trip through the engine; its declaration question answered ("no": meetings only,
        no declaration) unless ``provides_service`` says otherwise (None: left open)."""
        db.session.commit()  # the factory writes in a session of its own
        trip_id = self.data.trip(employee, destination, start, end, prior_insurance_months="24")
        trip = db.session.get(Trip, trip_id)
        check_trip_coverage(trip, actor=None)
        if provides_service is not None:
            admin = db.session.scalar(select(User).filter_by(email="admin@example.com"))
            answer_question(trip, provides_service, "", actor=admin)
        db.session.commit()
        self.trips[name] = trip_id
        return trip

    def build(self) -> World:
        with self.app.app_context():
            # Filed with the authority: waiting for its document.
            filed = self.trip("requested", self.anna, "FR", START, START + timedelta(days=30))
            submit_request(
                open_request(filed),
                dict.fromkeys((name for name, _label in CHECKLIST), True),
                actor=None,
                today=TODAY,
            )
            # A draft request: the admin confirms the checklist and files it.
            self.trip("action_needed", self.anna, "FR", *_days(230, 20))
            # Covered by the authority's A1 recorded for the employee, not for this trip.
            first, last = _days(40, 20)
            official = import_official_certificate(
                db.session.get(Employee, self.anna),
                CertificateInput(
                    "A1", "DE", ["IT"], first - timedelta(days=5), last, "DE:DRV-BUND"
                ),
                actor=None,
                document=None,
            )
            confirm_official(official)
            db.session.commit()
            self.trip("covered", self.anna, "IT", first, last)
            # Recorded and waiting for the provider's check.
            waiting = self.trip("wait", self.anna, "NL", *_days(60, 20))
            import_official_certificate(
                db.session.get(Employee, self.anna),
                CertificateInput(
                    "A1", "DE", ["NL"], waiting.start_date, waiting.end_date, "DE:DRV-BUND"
                ),
                actor=None,
                document=None,
                trip=waiting,
            )
            # The draft was cancelled: the request must be prepared again.
            again = self.trip("prepare", self.anna, "BE", *_days(70, 20))
            cancel_request(open_request(again))
            # Beyond 24 months within the EU: host law, unless an Art 16 exception is agreed.
            self.trip("host", self.anna, "FR", *_days(80, 900))
            self.trip("no_agreement", self.anna, "TH", *_days(90, 20))
            # Greece's agreements are not all in the catalogue: a person reviews.
            self.trip("review", self.eleni, "TH", *_days(100, 20))
            # The provider cannot file in Greece: a provisional statement at once.
            self.trip("provisional", self.eleni, "FR", *_days(110, 20))
            # …and withdrawn: a new one must be issued.
            lost = self.trip("issue_provisional", self.eleni, "IT", *_days(120, 20))
            for certificate in db.session.query(Certificate).filter_by(trip_id=lost.id):
                revoke_certificate(certificate, "Issued with a typo in the name.", actor=None)
            # Coverage asks nothing more: the host state's declaration is the next step.
            self.trip("declare", self.eleni, "FR", *_days(140, 20), provides_service="yes")
            self.trip("declaration_question", self.eleni, "FR", *_days(150, 20), None)
            cancelled = self.trip("cancelled", self.anna, "AT", *_days(130, 20))
            cancel_trip(cancelled)
            db.session.commit()
        return self


EXPECTED = {
    "requested": (CoverageStatus.REQUESTED, NextStepKind.UPLOAD_DOCUMENT),
    "action_needed": (CoverageStatus.ACTION_NEEDED, NextStepKind.FILE_REQUEST),
    "covered": (CoverageStatus.COVERED, NextStepKind.NOTHING),
    "wait": (CoverageStatus.REQUESTED, NextStepKind.WAIT_FOR_CHECK),
    "prepare": (CoverageStatus.NOT_COVERED, NextStepKind.PREPARE_REQUEST),
    "host": (CoverageStatus.HOST_LEGISLATION, NextStepKind.REQUEST_EXCEPTION),
    "no_agreement": (CoverageStatus.NO_AGREEMENT, NextStepKind.CHECK_OPTIONS),
    "review": (CoverageStatus.REVIEW_NEEDED, NextStepKind.COMPLETE_TRIP),
    "provisional": (CoverageStatus.PROVISIONAL, NextStepKind.NOTHING),
    "issue_provisional": (CoverageStatus.NOT_COVERED, NextStepKind.ISSUE_PROVISIONAL),
    "declare": (CoverageStatus.PROVISIONAL, NextStepKind.FILE_DECLARATION),
    "declaration_question": (CoverageStatus.PROVISIONAL, NextStepKind.ANSWER_DECLARATION),
    "cancelled": (CoverageStatus.CANCELLED, NextStepKind.NOTHING),
}


@pytest.fixture
def world(app, data) -> World:
    return World(app, data).build()


@pytest.fixture
def admin(client, world):
    AuthActions(client).login("admin@example.com")
    return client


def test_every_status_has_its_next_step(app, world):
    """The table: each scenario's status and the one action that moves it on."""
    assert set(EXPECTED) == set(world.trips)
    with app.app_context():
        trips = [db.session.get(Trip, i) for i in world.trips.values()]
        statuses = trip_statuses(trips)
        found = {
            name: (statuses[i].status, statuses[i].next_step) for name, i in world.trips.items()
        }
    assert found == EXPECTED
    # Every status and every next step of the vocabulary is reached by the scenarios.
    assert {status for status, _step in EXPECTED.values()} == set(CoverageStatus)
    assert {step for _status, step in EXPECTED.values()} == set(NextStepKind) - {
        NextStepKind.REGISTER_IN_HOST,  # host law where no Art 16 exception exists: below
        NextStepKind.CHECK_AGAIN,  # a trip the engine never answered: below
        # Trips with several work countries: tests/test_declarations_elsewhere.py
        NextStepKind.CHECK_DECLARATIONS_ELSEWHERE,
    }


def test_one_trip_and_many_trips_agree(app, world):
    with app.app_context():
        trips = [db.session.get(Trip, i) for i in world.trips.values()]
        many = trip_statuses(trips)
        for trip in trips:
            one = trip_status(trip)
            assert (one.status, one.next_step) == (many[trip.id].status, many[trip.id].next_step)


def test_a_covered_trip_is_never_offered_a_provisional_nor_told_to_request(admin, world):
    for name in ("covered", "provisional"):
        page = admin.get(f"/admin/trips/{world.trips[name]}").get_data(as_text=True)
        assert "Issue a provisional statement" not in page
        assert "provisional" not in _action_urls(page)
        assert "request the certificate at once" not in page.lower()
        assert "Prepare the certificate request" not in page
    covered = admin.get(f"/admin/trips/{world.trips['covered']}").get_data(as_text=True)
    assert "Nothing to do: covered by" in covered


def test_the_next_step_names_its_date_and_leads_to_its_action(admin, app, world):
    page = admin.get(f"/admin/trips/{world.trips['requested']}").get_data(as_text=True)
    assert "expected by" in page
    page = admin.get(f"/admin/trips/{world.trips['action_needed']}").get_data(as_text=True)
    with app.app_context():
        draft = open_request(db.session.get(Trip, world.trips["action_needed"]))
        assert f'href="/admin/requests/{draft.id}"' in page
    # "Prepare the certificate request" is a POST that creates the draft (with CSRF).
    trip_id = world.trips["prepare"]
    page = admin.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
    form = re.search(rf'action="(/admin/trips/{trip_id}/requests/initial)"', page)
    assert form, "the next step's form is missing"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = admin.post(form.group(1), data={"csrf_token": token})
    assert response.status_code == 302 and "/admin/requests/" in response.headers["Location"]
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        assert trip_status(trip).status is CoverageStatus.ACTION_NEEDED
    # Without CSRF: refused, nothing created twice.
    assert admin.post(form.group(1)).status_code == 400


def test_prepare_request_refused_where_no_request_is_needed(admin, world):
    response = admin.post(
        f"/admin/trips/{world.trips['no_agreement']}/requests/initial",
        data={"csrf_token": _token(admin, f"/admin/trips/{world.trips['no_agreement']}")},
    )
    assert response.status_code == 422
    assert "needs no request to an authority" in response.get_data(as_text=True)


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _action_urls(page: str) -> str:
    return " ".join(re.findall(r'(?:href|action)="([^"]+)"', page))


def _rows(page: str) -> dict[int, tuple[str, str]]:
    """trip id → (status, next step) of every element marked with them (data-trip,
    data-status, data-next-step, in any order)."""
    rows = {}
    for tag in re.findall(r"<(?:tr|li|section|div)\b[^>]*\bdata-trip=[^>]*>", page):
        attrs = dict(re.findall(r'data-(trip|status|next-step)="([^"]*)"', tag))
        rows[int(attrs["trip"])] = (attrs["status"], attrs["next-step"])
    return rows


def test_status_and_next_step_are_identical_on_every_surface(admin, app, client, world):
    expected = {world.trips[name]: (s.value, n.value) for name, (s, n) in EXPECTED.items()}
    planned = {i: v for i, v in expected.items() if v[0] != "cancelled"}

    # The trip page.
    for trip_id, (status, step) in expected.items():
        page = admin.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
        assert _rows(page)[trip_id] == (status, step)

    # The trips list (with the cancelled ones) and each employee's page.
    listed = _rows(admin.get("/admin/trips?cancelled=1").get_data(as_text=True))
    assert listed == expected
    on_employees = {}
    for employee in (world.anna, world.eleni):
        on_employees |= _rows(admin.get(f"/admin/employees/{employee}").get_data(as_text=True))
    assert on_employees == expected

    # The dashboard (planned trips) and its CSV.
    dashboard = admin.get("/admin/coverage").get_data(as_text=True)
    assert _rows(dashboard) == planned
    export = admin.get("/admin/coverage.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {int(r["trip_id"]): (r["status"], r["next_step"]) for r in rows} == planned
    assert all(r["next_step_text"] and r["status_label"] for r in rows)

    # The API.
    for trip_id, (status, step) in expected.items():
        body = admin.get(f"/api/v1/trips/{trip_id}").get_json()
        assert (body["coverage"]["status"], body["coverage"]["next_step"]) == (status, step)
    listing = admin.get("/api/v1/trips").get_json()["trips"]
    assert {
        t["id"]: (t["coverage"]["status"], t["coverage"]["next_step"]) for t in listing
    } == planned

    # The wallet of each employee: their upcoming planned trips.
    for email, employee in (("anna@example.com", world.anna), ("eleni@example.com", world.eleni)):
        wallet_client = app.test_client()
        AuthActions(wallet_client).login(email)
        home = wallet_client.get("/wallet/").get_data(as_text=True)
        shown = _rows(home)
        with app.app_context():
            mine = {t.id for t in db.session.query(Trip).filter_by(employee_id=employee)}
        assert shown == {i: v for i, v in planned.items() if i in mine}


def test_the_wallet_says_it_in_the_employees_words(app, world):
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    home = client.get("/wallet/").get_data(as_text=True)
    assert "Your employer has asked the authority for your certificate; it is expected by" in home
    assert "Your employer is preparing the request for your certificate." in home
    assert "Confirm the checklist" not in home  # the employer's words stay in the console


def test_the_trips_list_shows_names_not_codes(admin, world):
    page = admin.get("/admin/trips").get_data(as_text=True)
    assert "France" in page and "Thailand" in page
    assert ">FR<" not in page and ">TH<" not in page
    # One primary action per row; the others in the row's menu.
    for row in re.findall(r'<tr id="trip-\d+".*?</tr>', page, re.S):
        outside_menu = re.sub(r"<details class=\"row-menu\">.*?</details>", "", row, flags=re.S)
        assert len(re.findall(r'class="button primary"', outside_menu)) <= 1


def test_statuses_for_many_trips_take_a_constant_number_of_queries(app, world, data):
    def count_queries(trips: list[Trip]) -> int:
        with recorded_statements(app) as seen:
            trip_statuses(trips)
        return len(seen)

    with app.app_context():
        few = [db.session.get(Trip, world.trips["covered"])]
        every = [db.session.get(Trip, i) for i in world.trips.values()]
        for trip in every:
            db.session.refresh(trip)
        assert count_queries(few) == count_queries(every) == 4

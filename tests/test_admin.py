"""The employer console: employees, CSV import, trips, certificates."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.helpers import create_invitation_link, csrf_token, post_form
from web.extensions import db
from web.models import Certificate, Employee, Role, SignIn, Trip, User

EMPLOYEE_FORM = {
    "email": "ewa.nowak@example.com",
    "family_name": "Nowak",
    "given_names": "Ewa",
    "birth_date": "1990-05-06",
    "nationality": "PL",
    "residence_state": "PL",
    "home_state": "DE",
    "phone": "+48 600 000 000",
}


@pytest.fixture
def admin(app, data, client):
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    AuthActions(client).login("admin@example.com")
    return company


def test_add_employee_and_see_it(client, app, admin):
    response = post_form(
        client, "/admin/employees/new", EMPLOYEE_FORM, token_from="/admin/employees"
    )
    assert response.status_code == 302
    with app.app_context():
        employee = db.session.scalar(select(Employee).where(Employee.family_name == "Nowak"))
        assert employee.company_id == admin and employee.home_state == "DE"
        assert employee.user.role == "employee" and employee.user.password_hash is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nowak" in page and "Not invited yet" in page
    # No mail server: no link is made until the admin asks for one to copy (shown once).
    assert "/invitation/" not in page and "Create invitation link" in page
    link = create_invitation_link(client, employee.id)
    assert link.startswith("https://a1.example.test/invitation/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation link created" in page and link not in page


def test_add_employee_with_bad_input_keeps_what_was_typed(client, admin):
    bad = {**EMPLOYEE_FORM, "birth_date": "31/02/1990", "home_state": "XX", "family_name": ""}
    response = post_form(client, "/admin/employees/new", bad, token_from="/admin/employees")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is required" in html and "is not a date" in html
    assert 'value="ewa.nowak@example.com"' in html  # nothing typed is lost


def test_transliteration_is_derived(client, app, admin):
    post_form(
        client,
        "/admin/employees/new",
        {**EMPLOYEE_FORM, "family_name": "Fernández García", "given_names": "María"},
        token_from="/admin/employees",
    )
    with app.app_context():
        employee = db.session.scalar(select(Employee))
        assert employee.family_name_ascii == "FERNANDEZ GARCIA"
        assert employee.given_names_ascii == "MARIA"


def test_duplicate_email_is_refused(client, data, admin):
    data.employee(admin, email="ewa.nowak@example.com")
    response = post_form(
        client, "/admin/employees/new", EMPLOYEE_FORM, token_from="/admin/employees"
    )
    assert response.status_code == 422
    assert b"already used" in response.data


def test_edit_employee(client, app, data, admin):
    employee_id = data.employee(admin, email="e1@example.com")
    response = post_form(
        client,
        f"/admin/employees/{employee_id}/edit",
        {**EMPLOYEE_FORM, "email": "e1.new@example.com", "family_name": "Neumann"},
    )
    assert response.status_code == 302
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        assert employee.family_name == "Neumann" and employee.user.email == "e1.new@example.com"


def test_search_and_paging(client, data, admin):
    for i in range(30):
        data.employee(admin, email=f"worker{i:02d}@example.com", family_name=f"Worker{i:02d}")
    data.employee(admin, email="zofia@example.com", family_name="Zielińska")
    first = client.get("/admin/employees").get_data(as_text=True)
    assert "31 employees" in first and "Page 1 of 2" in first
    second = client.get("/admin/employees?page=2").get_data(as_text=True)
    assert "Zielińska" in second
    found = client.get("/admin/employees?q=zieli").get_data(as_text=True)
    assert "Zielińska" in found and "Worker01" not in found
    by_ascii = client.get("/admin/employees?q=zielinska").get_data(as_text=True)
    assert "Zielińska" in by_ascii


def test_search_fragment_for_htmx_varies(client, data, admin):
    data.employee(admin, email="frag@example.com", family_name="Fragment")
    response = client.get("/admin/employees?q=frag", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "Fragment" in html and "<html" not in html
    full = client.get("/admin/employees?q=frag")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]


def test_deactivate_signs_the_employee_out(app, client, data, admin):
    employee_id = data.employee(admin, email="leaver@example.com")
    phone = app.test_client()
    AuthActions(phone).login("leaver@example.com")
    assert phone.get("/wallet/").status_code == 200
    response = post_form(
        client,
        f"/admin/employees/{employee_id}/deactivate",
        token_from=f"/admin/employees/{employee_id}",
    )
    assert response.status_code == 302
    assert phone.get("/wallet/").status_code == 302
    assert AuthActions(app.test_client()).login("leaver@example.com").status_code == 401
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(SignIn).where(SignIn.revoked_at.is_(None))
            )
            == 1
        )
    post_form(
        client,
        f"/admin/employees/{employee_id}/reactivate",
        token_from=f"/admin/employees/{employee_id}",
    )
    assert AuthActions(app.test_client()).login("leaver@example.com").status_code == 302


# --- CSV import --------------------------------------------------------------------------------

CSV_HEADER = "email,family_name,given_names,birth_date,nationality,residence_state,home_state\n"


def _upload(client, text: str, name: str = "staff.csv"):
    token = csrf_token(client, "/admin/employees/import")
    return client.post(
        "/admin/employees/import",
        data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def test_csv_import_all_good(client, app, admin):
    text = (
        CSV_HEADER
        + "a@example.com,Alpha,Ann,1980-01-02,DE,DE,DE\nb@example.com,Beta,Bo,02.03.1985,FR,FR,FR\n"
    )
    response = _upload(client, text)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 employees were imported" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Employee)) == 2


def test_csv_import_reports_bad_rows_by_line_and_imports_nothing(client, app, data, admin):
    data.employee(admin, email="taken@example.com")
    text = CSV_HEADER + (
        "good@example.com,Good,Gina,1980-01-02,DE,DE,DE\n"  # line 2
        "nameless@example.com,,Nils,1980-01-02,DE,DE,DE\n"  # line 3: missing name
        "baddate@example.com,Date,Dora,1980-13-45,DE,DE,DE\n"  # line 4: bad date
        "country@example.com,Land,Lena,1980-01-02,DE,ZZ,DE\n"  # line 5: unknown country
        "taken@example.com,Taken,Tom,1980-01-02,DE,DE,DE\n"  # line 6: email in use
        "good@example.com,Twice,Tina,1980-01-02,DE,DE,DE\n"  # line 7: duplicate in file
        "good2@example.com,Good,Gert,1981-01-02,AT,AT,AT\n"  # line 8
    )
    response = _upload(client, text)
    assert response.status_code == 302
    report_url = response.headers["Location"]
    html = client.get(report_url).get_data(as_text=True)
    assert "5 of 7 lines have errors" in html
    for line, message in [
        (3, "family_name"),
        (4, "is not a date"),
        (5, "unknown country code"),
        (6, "already used"),
        (7, "duplicates line 2"),
    ]:
        assert f"<tr><td>{line}</td>" in html, line
        assert message in html, message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Employee)) == 1  # only "taken"
    # The admin confirms the good rows: exactly those two are imported, once.
    confirm_url = report_url + "/confirm"
    assert post_form(client, confirm_url, token_from=report_url).status_code == 302
    assert post_form(client, confirm_url, token_from=report_url).status_code == 302
    with app.app_context():
        emails = set(db.session.scalars(select(User.email).where(User.role == "employee")))
    assert emails == {"taken@example.com", "good@example.com", "good2@example.com"}


def test_csv_missing_columns_and_semicolons(client, admin):
    response = _upload(client, "email;family_name\nx@example.com;X\n")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Missing columns" in html and "birth_date" in html
    semicolons = CSV_HEADER.replace(",", ";") + "s@example.com;Semi;Sam;1980-01-02;DE;DE;DE\n"
    response = _upload(client, semicolons)
    assert "1 employee was imported" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_csv_upload_without_file(client, admin):
    token = csrf_token(client, "/admin/employees/import")
    response = client.post("/admin/employees/import", data={"csrf_token": token})
    assert response.status_code == 400
    assert b"Choose a CSV file" in response.data


def test_csv_in_windows_1252(client, app, admin):
    text = CSV_HEADER + "w@example.com,Müller,Jörg,1980-01-02,DE,DE,DE\n"
    token = csrf_token(client, "/admin/employees/import")
    client.post(
        "/admin/employees/import",
        data={"csrf_token": token, "file": (io.BytesIO(text.encode("cp1252")), "excel.csv")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        assert db.session.scalar(select(Employee.family_name)) == "Müller"


# --- trips -------------------------------------------------------------------------------------


def test_add_edit_cancel_trip(client, app, data, admin):
    employee_id = data.employee(admin)
    url = f"/admin/employees/{employee_id}/trips/new"
    response = post_form(
        client,
        url,
        {
            "destination_state": "FR",
            "work_states": ["BE"],
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "kind": "posting",
            "purpose": "Site visit",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        trip = db.session.scalar(select(Trip))
        assert trip.work_state_list == ["FR", "BE"] and trip.company_id == admin
        trip_id = trip.id
    response = post_form(
        client,
        f"/admin/trips/{trip_id}/edit",
        {
            "destination_state": "FR",
            "start_date": "2026-03-01",
            "end_date": "2026-04-15",
            "kind": "posting",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Trip, trip_id).end_date == date(2026, 4, 15)
    post_form(
        client, f"/admin/trips/{trip_id}/cancel", token_from=f"/admin/employees/{employee_id}"
    )
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        assert trip.status == "cancelled" and trip.cancelled_at is not None
    assert f"trip-{trip_id}" not in client.get("/admin/trips").get_data(as_text=True)
    assert f"trip-{trip_id}" in client.get("/admin/trips?cancelled=1").get_data(as_text=True)


def test_trip_with_end_before_start_is_refused(client, app, data, admin):
    employee_id = data.employee(admin)
    response = post_form(
        client,
        f"/admin/employees/{employee_id}/trips/new",
        {
            "destination_state": "FR",
            "start_date": "2026-03-31",
            "end_date": "2026-03-01",
            "kind": "posting",
        },
    )
    assert response.status_code == 422
    assert b"is before the start date" in response.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trip)) == 0


def test_trip_list_by_employee_and_by_date(client, data, admin):
    first = data.employee(admin, email="first@example.com", family_name="First")
    second = data.employee(admin, email="second@example.com", family_name="Second")
    march = data.trip(first, start=date(2026, 3, 1), end=date(2026, 3, 10))
    june = data.trip(second, start=date(2026, 6, 1), end=date(2026, 6, 10))
    only_first = client.get(f"/admin/trips?employee={first}").get_data(as_text=True)
    assert f"trip-{march}" in only_first and f"trip-{june}" not in only_first
    in_june = client.get("/admin/trips?from=2026-05-15&to=2026-06-30").get_data(as_text=True)
    assert f"trip-{june}" in in_june and f"trip-{march}" not in in_june
    bad = client.get("/admin/trips?from=someday")
    assert bad.status_code == 400 and b"is not a date" in bad.data


def test_certificates_per_employee_with_status(client, app, data, admin):
    employee_id = data.employee(admin)
    with app.app_context():
        for i, (start, end, status) in enumerate(
            [
                (date(2020, 1, 1), date(2020, 12, 31), "active"),
                (date(2026, 1, 1), date(2099, 12, 31), "active"),
                (date(2026, 1, 1), date(2099, 12, 31), "withdrawn"),
            ]
        ):
            db.session.add(
                Certificate(
                    id=f"C{i:015d}",
                    company_id=admin,
                    employee_id=employee_id,
                    document_type="A1",
                    kind="official",
                    legislation_state="DE",
                    work_states="FR",
                    valid_from=start,
                    valid_to=end,
                    verification_code=f"V{i:011d}",
                    status=status,
                )
            )
        db.session.commit()
    html = client.get(f"/admin/employees/{employee_id}").get_data(as_text=True)
    assert html.count("chip-expired") == 1
    assert html.count("chip-valid") == 1
    assert html.count("chip-withdrawn") == 1


def test_employee_page_shows_a_first_page_of_trips_and_leads_to_the_rest(client, data, admin):
    from web.access import PAGE_SIZE

    employee = data.employee(admin, family_name="Traveller")
    for n in range(PAGE_SIZE + 3):
        day = date(2026, 1, 1).toordinal() + 7 * n
        data.trip(employee, start=date.fromordinal(day), end=date.fromordinal(day + 2))
    page = client.get(f"/admin/employees/{employee}").get_data(as_text=True)
    assert page.count('data-trip="') == PAGE_SIZE
    assert f"The first {PAGE_SIZE} of {PAGE_SIZE + 3} trips." in page
    link = f"/admin/trips?employee={employee}&amp;cancelled=1"
    assert link in page
    rest = client.get(f"/admin/trips?employee={employee}&cancelled=1&page=2").get_data(as_text=True)
    assert rest.count('data-trip="') == 3


def test_employee_page_with_few_trips_says_nothing_of_more(client, data, admin):
    employee = data.employee(admin)
    data.trip(employee)
    page = client.get(f"/admin/employees/{employee}").get_data(as_text=True)
    assert page.count('data-trip="') == 1 and "See all trips of" not in page

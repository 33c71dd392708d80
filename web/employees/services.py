"""Employees of a customer company: input, create, update, search, CSV import; and the companies
themselves. The console and the CLI call these; tests call these."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from web.access import for_company, page_of
from web.audit import record_audit_event
from web.auth.services import normalise_email, revoke_all_sign_ins
from web.certificates.services import SIGNED_IDENTITY_FIELDS, reissue_for_identity_change
from web.extensions import db
from web.i18n import app_languages
from web.models import (
    Certificate,
    Company,
    Employee,
    EmployeeImport,
    Role,
    User,
    utcnow,
)
from web.names import ascii_form_if_different
from web.validation import (
    InputError,
    country_field,
    date_field,
)


def _name(value: str, errors: dict[str, str], name: str, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if not value:
        if required:
            errors[name] = _("is required")
    elif len(value) > 100:
        errors[name] = _("is longer than 100 characters")
    elif not value.isprintable():
        errors[name] = _("contains characters that cannot be printed")
    return value


@dataclass
class EmployeeInput:
    email: str
    family_name: str
    given_names: str
    family_name_ascii: str | None
    given_names_ascii: str | None
    birth_date: date
    nationality: str
    residence_state: str
    home_state: str
    phone: str | None = None
    locale: str | None = None


REQUIRED_CSV_COLUMNS = (
    "email",
    "family_name",
    "given_names",
    "birth_date",
    "nationality",
    "residence_state",
    "home_state",
)


def _ascii_variant(name: str, typed: str) -> str | None:
    """The Latin-letter form: as typed when given, else derived; None when it equals the name."""
    variant = typed.upper() if typed else ascii_form_if_different(name)
    return None if variant == name else variant


def validate_email_address(value: str) -> str:
    """The address in normal form (lower case), or InputError on the field ``email``."""
    value = value.strip()
    if not value:
        raise InputError({"email": _("is required")})
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InputError({"email": _("is not a valid email address")}) from None


def validate_employee_input(raw: dict[str, Any], *, today: date | None = None) -> EmployeeInput:
    """Check and normalise one employee's fields (form, CSV row and CLI share this)."""
    today = today or date.today()
    errors: dict[str, str] = {}
    email = ""
    try:
        email = validate_email_address(raw.get("email") or "")
    except InputError as exc:
        errors.update(exc.errors)
    family = _name(raw.get("family_name"), errors, "family_name")
    given = _name(raw.get("given_names"), errors, "given_names")
    family_ascii = _name(raw.get("family_name_ascii"), errors, "family_name_ascii", required=False)
    given_ascii = _name(raw.get("given_names_ascii"), errors, "given_names_ascii", required=False)
    for key, value in (("family_name_ascii", family_ascii), ("given_names_ascii", given_ascii)):
        if value and not value.isascii():
            errors[key] = _("must use ASCII letters only")
    birth = date_field(raw.get("birth_date"), errors, "birth_date")
    if birth and not (date(1900, 1, 1) <= birth <= today - timedelta(days=14 * 365)):
        errors["birth_date"] = _("is not a plausible birth date for an employee")
    nationality = country_field(raw.get("nationality"), errors, "nationality")
    residence = country_field(raw.get("residence_state"), errors, "residence_state")
    home = country_field(raw.get("home_state"), errors, "home_state")
    phone = " ".join((raw.get("phone") or "").split()) or None
    if phone and (len(phone) > 32 or not all(c.isdigit() or c in "+ ()-/." for c in phone)):
        errors["phone"] = _("is not a phone number")
    locale = (raw.get("locale") or "").strip().lower() or None
    # The languages the app speaks (LANGUAGES): the same list the console's form offers.
    if locale and locale not in app_languages():
        errors["locale"] = _("unknown language “%(code)s”", code=locale[:8])
    if errors:
        raise InputError(errors)
    assert birth is not None
    return EmployeeInput(
        email=email,
        family_name=family,
        given_names=given,
        family_name_ascii=(family_ascii.upper() or None)
        if family_ascii
        else ascii_form_if_different(family),
        given_names_ascii=(given_ascii.upper() or None)
        if given_ascii
        else ascii_form_if_different(given),
        birth_date=birth,
        nationality=nationality,
        residence_state=residence,
        home_state=home,
        phone=phone,
        locale=locale,
    )


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    query = select(User.id).where(User.email == normalise_email(email))
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


def create_employee(company: Company, data: EmployeeInput) -> Employee:
    """A new employee with a user account that has no password yet (the invitation sets it)."""
    if email_taken(data.email):
        raise InputError({"email": _("is already used by another account")})
    user = User(
        email=data.email, role=Role.EMPLOYEE.value, company=company, locale=data.locale, active=True
    )
    employee = Employee(company=company, user=user)
    _apply(employee, data)
    db.session.add_all([user, employee])
    db.session.flush()
    record_audit_event(
        "employee.created", object_type="employee", object_id=employee.id, company_id=company.id
    )
    return employee


def _apply(employee: Employee, data: EmployeeInput) -> None:
    for name in (
        "family_name",
        "given_names",
        "family_name_ascii",
        "given_names_ascii",
        "birth_date",
        "nationality",
        "residence_state",
        "home_state",
        "phone",
    ):
        setattr(employee, name, getattr(data, name))


@dataclass
class EmployeeUpdate:
    employee: Employee
    # New provisional certificates carrying the changed identity (each supersedes an old one).
    reissued: list[Certificate] = field(default_factory=list)
    # Official certificates that keep the identity printed on the authority's document.
    official_kept: list[Certificate] = field(default_factory=list)


def update_employee(
    employee: Employee, data: EmployeeInput, *, actor: User | None = None
) -> EmployeeUpdate:
    """Save the employee's record. A change to what certificates sign (names, their ASCII
    forms, birth date) re-issues every current provisional certificate with the new identity."""
    if email_taken(data.email, except_user_id=employee.user_id):
        raise InputError({"email": _("is already used by another account")})
    identity_changed = any(
        getattr(employee, name) != getattr(data, name) for name in SIGNED_IDENTITY_FIELDS
    )
    employee.user.email = data.email
    if data.locale:
        employee.user.locale = data.locale
    _apply(employee, data)
    record_audit_event(
        "employee.updated",
        object_type="employee",
        object_id=employee.id,
        message="signed identity changed" if identity_changed else "",
    )
    result = EmployeeUpdate(employee)
    if identity_changed:
        result.reissued, result.official_kept = reissue_for_identity_change(
            employee, actor=actor, today=date.today()
        )
    return result


def set_employee_active(employee: Employee, active: bool) -> None:
    """Deactivating keeps every record (certificates stay verifiable) but ends all sign-ins."""
    employee.user.active = active
    if not active:
        revoke_all_sign_ins(employee.user)
    record_audit_event(
        "employee.reactivated" if active else "employee.deactivated",
        object_type="employee",
        object_id=employee.id,
    )


def imported_employees(batch: EmployeeImport) -> list[Employee]:
    """The employees this import created, in the file's order, with their accounts."""
    return list(
        db.session.scalars(
            for_company(Employee, batch.company_id)
            .where(Employee.import_id == batch.id)
            .options(selectinload(Employee.user))
            .order_by(Employee.id)
        )
    )


def search_employees(
    company_id: int, query: str = "", page: int = 1, *, last_if_past_end: bool = False
) -> tuple[list[Employee], int]:
    """One page of the company's employees matching ``query``, and the total count."""
    # The joined user fills each row's `user` (the list shows its invitation): no query per row.
    stmt = for_company(Employee, company_id).join(User).options(contains_eager(Employee.user))
    query = " ".join(query.split())
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Employee.family_name).like(like),
                func.lower(Employee.given_names).like(like),
                func.lower(func.coalesce(Employee.family_name_ascii, "")).like(like),
                User.email.like(like),
            )
        )
    return page_of(
        stmt,
        (Employee.family_name, Employee.given_names, Employee.id),
        page,
        last_if_past_end=last_if_past_end,
    )


# --- CSV import -------------------------------------------------------------------------------


@dataclass
class CsvRow:
    line: int  # line number in the file (the header is line 1)
    raw: dict[str, str]
    data: EmployeeInput | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class CsvReport:
    rows: list[CsvRow]
    file_errors: list[str] = field(default_factory=list)

    @property
    def good_rows(self) -> list[CsvRow]:
        return [r for r in self.rows if not r.errors]

    @property
    def bad_rows(self) -> list[CsvRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.bad_rows


MAX_CSV_ROWS = 5000


def decode_csv_upload(data: bytes) -> str:
    """Text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1252 as Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def check_employee_csv(text: str) -> CsvReport:
    """Validate every row of the CSV without writing anything; errors are reported by line."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if not header:
        return CsvReport(rows=[], file_errors=[_("The file is empty.")])
    if missing:
        return CsvReport(
            rows=[],
            file_errors=[_("Missing columns: %(columns)s.", columns=", ".join(missing))],
        )
    reader.fieldnames = header
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if len(rows) >= MAX_CSV_ROWS:
            return CsvReport(
                rows=rows, file_errors=[_("The file has more than %(n)d rows.", n=MAX_CSV_ROWS)]
            )
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue  # blank line
        row = CsvRow(line=line, raw=values)
        try:
            row.data = validate_employee_input(values)
        except InputError as exc:
            row.errors = dict(exc.errors)
        email = row.data.email if row.data else normalise_email(values.get("email", ""))
        if email and "email" not in row.errors:
            if email in seen:
                row.errors["email"] = _("duplicates line %(line)d of this file", line=seen[email])
            elif email_taken(email):
                row.errors["email"] = _("is already used by another account")
            else:
                seen[email] = line
        rows.append(row)
    if not rows:
        return CsvReport(rows=[], file_errors=[_("The file has no employee rows.")])
    return CsvReport(rows=rows)


def store_employee_import(
    company_id: int, user_id: int, filename: str, text: str
) -> EmployeeImport:
    batch = EmployeeImport(
        company_id=company_id, created_by_id=user_id, filename=filename[:255], content=text
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def import_employees(batch: EmployeeImport) -> list[Employee]:
    """Create the good rows of a stored CSV (checked again now: someone may have added an email
    since the report). A batch imports once; its employees remember it (their invitations are
    listed on its report)."""
    if batch.imported_at is not None:
        raise InputError({"file": _("This file was already imported.")})
    report = check_employee_csv(batch.content)
    if report.file_errors:
        raise InputError({"file": " ".join(report.file_errors)})
    company = db.session.get(Company, batch.company_id)
    created = [create_employee(company, row.data) for row in report.good_rows if row.data]
    for employee in created:
        employee.import_id = batch.id  # the report lists them with their invitations
    batch.imported_at = utcnow()
    batch.imported_count = len(created)
    record_audit_event(
        "employee.imported",
        object_type="employee_import",
        object_id=batch.id,
        message=f"{len(created)} employees, {len(report.bad_rows)} rows skipped",
    )
    return created


class CompanyRefused(ValueError):
    """Why a company was not created (said to the operator as it is)."""


def create_company(name: str, seat_state: str | None = None) -> Company:
    """A new customer company (a tenant): ``name`` with its blanks collapsed and unique, the
    seat's ISO code normalised. Raises CompanyRefused."""
    from web.countries import normalise_state

    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise CompanyRefused("the company name must have 1 to 200 characters")
    if db.session.scalar(select(Company).where(Company.name == name)):
        raise CompanyRefused(f"a company named {name!r} exists already")
    if seat_state:
        try:
            seat_state = normalise_state(seat_state)
        except ValueError:
            raise CompanyRefused(f"unknown country code {seat_state!r}") from None
    company = Company(name=name, seat_state=seat_state)
    db.session.add(company)
    db.session.flush()
    return company

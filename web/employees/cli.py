"""`flask --app app companies|users …`: what the consoles do with tenants and accounts, from the
command line, through the same services."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from web.auth.invitations import send_invitation
from web.auth.services import (
    DISPLAY_NAME_ROLES,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    find_user_by_email,
    password_weakness,
    set_password,
    validate_display_name,
)
from web.cli_errors import fail, fail_input
from web.employees.services import (
    CompanyRefused,
    create_company,
    create_employee,
    email_taken,
    validate_email_address,
    validate_employee_input,
)
from web.extensions import db
from web.models import Company, Role, User
from web.validation import InputError

companies_cli = AppGroup("companies", help="Customer companies (the tenants).")
users_cli = AppGroup("users", help="User accounts.")


@companies_cli.command("create")
@click.argument("name")
@click.option("--seat-state", default=None, help="Country of the registered office (ISO code).")
def create_company_command(name: str, seat_state: str | None) -> None:
    """Create a company NAME."""
    try:
        company = create_company(name, seat_state)
    except CompanyRefused as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(json.dumps({"id": company.id, "name": company.name}))


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        fail(f"the password must have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters")
    if password_weakness(password, None):
        fail("the password is too easy to guess (common, a pattern); add unrelated words")
    return password


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--company", "company_name", default=None, help="For employees and employer admins.")
@click.option("--family-name", default="")
@click.option("--given-names", default="")
@click.option("--birth-date", default="")
@click.option("--nationality", default="")
@click.option("--residence-state", default="")
@click.option("--home-state", default="")
@click.option("--phone", default="")
@click.option(
    "--display-name",
    default="",
    help='Support agents and operators: the name employees read ("Maria from support").',
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str,
    role: str,
    company_name: str | None,
    family_name: str,
    given_names: str,
    birth_date: str,
    nationality: str,
    residence_state: str,
    home_state: str,
    phone: str,
    display_name: str,
    password_stdin: bool,
) -> None:
    """Create a user; an employee also gets the employee record. Without --password-stdin an
    invitation link is printed."""
    role_enum = Role(role)
    company = None
    if role_enum.belongs_to_company:
        if not company_name:
            fail(f"--company is required for the role {role}")
        company = db.session.scalar(select(Company).where(Company.name == company_name))
        if company is None:
            fail(f"no company named {company_name!r}")
    elif company_name:
        fail(f"{role} accounts belong to the provider, not to a company: leave out --company")
    if display_name and role_enum not in DISPLAY_NAME_ROLES:
        fail("--display-name is for support agents and operators")
    try:
        display_name = validate_display_name(display_name)
    except InputError as exc:
        fail_input(exc)
    password = _read_password() if password_stdin else None
    if role_enum is Role.EMPLOYEE:
        nationality = nationality or home_state
        try:
            data = validate_employee_input(
                {
                    "email": email,
                    "family_name": family_name,
                    "given_names": given_names,
                    "birth_date": birth_date,
                    "nationality": nationality,
                    "residence_state": residence_state or home_state,
                    "home_state": home_state,
                    "phone": phone,
                }
            )
            user = create_employee(company, data).user
        except InputError as exc:
            fail_input(exc)
    else:
        try:
            email = validate_email_address(email)
        except InputError as exc:
            fail_input(exc)
        if email_taken(email):
            fail(f"{email} is already used by another account")
        user = User(email=email, role=role, company=company, display_name=display_name)
        db.session.add(user)
        db.session.flush()
    out = {"id": user.id, "email": user.email, "role": user.role}
    if password is not None:
        set_password(user, password)
    else:
        link, mailed = send_invitation(user)
        if mailed:
            out["invitation"] = "mailed"
        else:
            out["invitation_link"] = link
    db.session.commit()
    click.echo(json.dumps(out))


@users_cli.command("list")
@click.option("--company", "company_name", default=None)
def list_users(company_name: str | None) -> None:
    """List users (one line each: id, role, company, active, email)."""
    query = select(User).order_by(User.id)
    if company_name:
        company = db.session.scalar(select(Company).where(Company.name == company_name))
        if company is None:
            fail(f"no company named {company_name!r}")
        query = query.where(User.company_id == company.id)
    for user in db.session.scalars(query):
        company = user.company.name if user.company else "-"
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id}\t{user.role}\t{company}\t{state}\t{user.email}")


def _set_review_right(email: str, allowed: bool) -> None:
    from web.certificates.review import set_review_right

    user = find_user_by_email(email)
    if user is None:
        fail(f"no user with the email {email!r}")
    try:
        set_review_right(user, allowed, actor=None)
    except InputError as exc:
        fail_input(exc)
    db.session.commit()
    click.echo(json.dumps({"email": user.email, "can_review_certificates": allowed}))


@users_cli.command("grant-review")
@click.argument("email")
def grant_review_command(email: str) -> None:
    """Let the support agent EMAIL review official certificates (operators always may)."""
    _set_review_right(email, True)


@users_cli.command("revoke-review")
@click.argument("email")
def revoke_review_command(email: str) -> None:
    """Take back the support agent EMAIL's right to review official certificates."""
    _set_review_right(email, False)

"""Accounts: passwords, sign-in records per device, one-time links (invitation, reset)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, flash, has_request_context, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from web.audit import record_audit_event
from web.extensions import db
from web.mail import send_mail
from web.models import ActionToken, Role, SignIn, User, utcnow
from web.urls import public_url

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256  # ASVS asks for at least 64; scrypt takes any length
# last_seen_at is written at most this often: the staff idle limit is exact to within it.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Roles whose sign-ins end after STAFF_IDLE_MINUTES idle or STAFF_SESSION_HOURS in all; employees
# keep the wallet's remember-me (REMEMBER_DAYS) on their phone.
STAFF_ROLES = frozenset({Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR})

INVITE = "invite"
RESET = "reset"

# A hash to compare against when the account does not exist, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-dummy")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def set_password(user: User, password: str) -> None:
    """Set a new password and end every sign-in of the user (ASVS 7.4.3)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    user.password_hash = generate_password_hash(password, method=method)
    user.password_changed_at = utcnow()
    revoke_all_sign_ins(user)


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        return None
    return user


def device_label(user_agent: str) -> str:
    """A short human label ("Chrome on Android") for the devices list; no version numbers."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "Browser",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "unknown system",
    )
    return f"{browser} on {system}"


def start_sign_in(user: User, *, remember: bool) -> SignIn:
    sign_in = SignIn(
        id=SignIn.new_id(),
        user=user,
        remember=remember,
        device_label=device_label(request.headers.get("User-Agent", "")),
    )
    db.session.add(sign_in)
    user.current_sign_in_id = sign_in.id
    record_audit_event(
        "auth.login",
        object_type="sign_in",
        actor_id=user.id,
        actor_role=user.role,
        company_id=user.company_id,
    )
    return sign_in


def staff_session_end(sign_in: SignIn, user: User, now: datetime) -> str | None:
    """Why a staff sign-in is over ("idle" or "absolute"), or None while it may go on."""
    if user.role_enum not in STAFF_ROLES:
        return None
    config = current_app.config
    if now - sign_in.created_at >= timedelta(hours=config["STAFF_SESSION_HOURS"]):
        return "absolute"
    if now - sign_in.last_seen_at >= timedelta(minutes=config["STAFF_IDLE_MINUTES"]):
        return "idle"
    return None


def _locale_of(user: User) -> str:
    """The language for a message to ``user``, chosen without flask-login's current_user (the
    user loader is what computes it) but in the same order as web.i18n.select_locale."""
    from web.i18n import app_languages

    languages = app_languages()
    for candidate in (user.locale, session.get("lang")):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages) or languages[0]


def expire_sign_in(sign_in: SignIn, user: User, reason: str) -> None:
    """End a staff sign-in that passed its idle or absolute limit: revoke it, audit it once (two
    concurrent requests revoke it only once), and tell the user why they must sign in again."""
    ended = db.session.execute(
        update(SignIn)
        .where(SignIn.id == sign_in.id, SignIn.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if ended:
        record_audit_event(
            "auth.session_expired",
            object_type="sign_in",
            outcome="denied",
            message=f"{reason} limit",
            actor_id=user.id,
            actor_role=user.role,
            company_id=user.company_id,
        )
    db.session.commit()
    from web.i18n import is_public_page

    if has_request_context() and not is_public_page():
        # The session no longer names the sign-in; the message shows on the login page.
        session.pop("_user_id", None)
        session.pop("_fresh", None)
        with force_locale(_locale_of(user)):
            flash(_("Your session has expired. Please sign in again."), "info")


def load_signed_in_user(sign_in_id: str) -> User | None:
    """flask-login's user loader: the user behind a sign-in record that is still open.

    A staff sign-in past its idle or absolute limit is revoked here, so the request that finds
    it is already treated as signed out.
    """
    sign_in = db.session.get(SignIn, sign_in_id)
    if sign_in is None or sign_in.revoked_at is not None:
        return None
    user = sign_in.user
    if not user.active:
        return None
    now = utcnow()
    reason = staff_session_end(sign_in, user, now)
    if reason is not None:
        expire_sign_in(sign_in, user, reason)
        return None
    if now - sign_in.last_seen_at >= LAST_SEEN_RESOLUTION:
        sign_in.last_seen_at = now
        db.session.commit()
    user.current_sign_in_id = sign_in.id
    return user


def revoke_sign_in(sign_in_id: str) -> None:
    db.session.execute(
        update(SignIn)
        .where(SignIn.id == sign_in_id, SignIn.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sign_ins(user: User) -> int:
    result = db.session.execute(
        update(SignIn)
        .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def open_sign_ins(user: User) -> list[SignIn]:
    """The user's devices still signed in (a staff sign-in past its limits is not listed: it
    is revoked as soon as its cookie comes back)."""
    now = utcnow()
    rows = db.session.scalars(
        select(SignIn)
        .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None))
        .order_by(SignIn.last_seen_at.desc())
    )
    return [row for row in rows if staff_session_end(row, user, now) is None]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_action_token(user: User, purpose: str) -> str:
    """A one-time secret for a link; only its hash is stored. Earlier links of the same kind die."""
    lifetime = (
        timedelta(days=current_app.config["INVITATION_DAYS"])
        if purpose == INVITE
        else timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"])
    )
    now = utcnow()
    db.session.execute(
        update(ActionToken)
        .where(
            ActionToken.user_id == user.id,
            ActionToken.purpose == purpose,
            ActionToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        ActionToken(
            token_hash=_hash_token(token),
            purpose=purpose,
            user=user,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def peek_action_token(token: str, purpose: str) -> ActionToken | None:
    """The token's row when it is unused and unexpired (does not use it up)."""
    row = db.session.scalar(select(ActionToken).where(ActionToken.token_hash == _hash_token(token)))
    if row is None or row.purpose != purpose or row.used_at is not None:
        return None
    if row.expires_at <= utcnow() or not row.user.active:
        return None
    return row


def redeem_action_token(token: str, purpose: str, new_password: str) -> User | None:
    """Use the token once to set a password. Two concurrent uses: only one succeeds."""
    row = peek_action_token(token, purpose)
    if row is None:
        return None
    now: datetime = utcnow()
    claimed = db.session.execute(
        update(ActionToken)
        .where(ActionToken.id == row.id, ActionToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    set_password(row.user, new_password)
    record_audit_event(
        f"auth.{purpose}_used",
        object_type="user",
        object_id=row.user.id,
        actor_id=row.user.id,
        actor_role=row.user.role,
        company_id=row.user.company_id,
    )
    return row.user


def send_invitation(user: User) -> tuple[str, bool]:
    """Issue a 7-day invitation link for ``user`` and mail it. Returns (link, delivered).

    Without a mail server the caller shows the link to the admin, who passes it on.
    """
    token = issue_action_token(user, INVITE)
    link = public_url("auth.accept_invitation", token=token)
    result = send_mail(
        user.email,
        _("Your A1 Wallet invitation"),
        _(
            "You are invited to A1 Wallet. Open this link to choose your password "
            "(valid %(days)d days):\n%(link)s",
            days=current_app.config["INVITATION_DAYS"],
            link=link,
        ),
    )
    record_audit_event("auth.invitation_sent", object_type="user", object_id=user.id)
    return link, result.delivered

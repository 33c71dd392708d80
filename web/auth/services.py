"""Accounts: passwords, sign-in records per device, one-time links (invitation, reset)."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app, flash, has_request_context, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from web.audit import record_audit_event
from web.extensions import db
from web.models import ActionToken, Role, SignIn, User, utcnow
from web.validation import InputError

PASSWORD_MIN_LENGTH = 12
# zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" online and slow
# offline; common passwords, keyboard walks, dates and the user's own name score lower.
PASSWORD_MIN_SCORE = 3
_STRENGTH_CHECKED_CHARS = 100  # zxcvbn slows down on long input; the start decides the score
PASSWORD_MAX_LENGTH = 256  # ASVS asks for at least 64; scrypt takes any length
# last_seen_at is written at most this often: the staff idle limit is exact to within it.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Roles whose sign-ins end after STAFF_IDLE_MINUTES idle or STAFF_SESSION_HOURS in all; employees
# keep the wallet's remember-me (REMEMBER_DAYS) on their phone.
STAFF_ROLES = frozenset({Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR})

INVITE = "invite"
RESET = "reset"


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A hash to compare against when the account does not exist, so both paths take the same
    time (made with the current method: an old, cheaper one would tell them apart)."""
    return generate_password_hash("not-a-real-password-dummy", method=method)


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def password_context(user: User | None) -> list[str]:
    """Words a password must not be built on: the user's address, names, and the product's."""
    words = ["a1", "wallet", "a1wallet", "a1 wallet", current_app.config["PROVIDER_NAME"]]
    if user is not None:
        local, _, domain = user.email.partition("@")
        words += [user.email, local, domain, *local.replace("_", ".").replace("-", ".").split(".")]
        employee = user.employee
        if employee is not None:
            for name in (employee.family_name, employee.given_names):
                words += [name, *name.split()]
    return [w.lower() for w in words if w and len(w) > 1]


def password_weakness(password: str, user: User | None) -> str | None:
    """Why ``password`` is too weak (a translated sentence), or None when it is fine."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("The password needs at least %(min)d characters.", min=PASSWORD_MIN_LENGTH)
    context = password_context(user)
    result = zxcvbn(password[:_STRENGTH_CHECKED_CHARS], user_inputs=context)
    # The user's own address or name plus a few characters ("anna.mueller2026") is guessable
    # by anyone who knows them, whatever the estimator says about the whole.
    rest = password.lower()
    for word in sorted((w for w in context if len(w) >= 3), key=len, reverse=True):
        rest = rest.replace(word, "")
    if result["score"] < PASSWORD_MIN_SCORE or len(rest.strip()) < 8:
        return _(
            "This password is too easy to guess (a common password, a simple pattern, or your "
            "own name or address). Add a few unrelated words."
        )
    return None


DISPLAY_NAME_MAX_LENGTH = 80
# Whom employees read by name ("Maria from support is handling this").
DISPLAY_NAME_ROLES = frozenset({Role.SUPPORT, Role.OPERATOR})
_DISPLAY_NAME_MARKS = frozenset(" -'’.")


def validate_display_name(text: str | None) -> str | None:
    """A name as an employee reads it: letters, spaces, hyphens, apostrophes and dots, at most
    80 characters. Empty means none (the name then comes from the e-mail address)."""
    name = " ".join((text or "").split())
    if not name:
        return None
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise InputError(
            {"display_name": _("At most %(n)d characters.", n=DISPLAY_NAME_MAX_LENGTH)}
        )
    letters_only = all(
        unicodedata.category(ch)[0] in "LM" or ch in _DISPLAY_NAME_MARKS for ch in name
    )
    if not letters_only or not any(ch.isalpha() for ch in name):
        raise InputError(
            {"display_name": _("Write a name with letters only, as employees should read it.")}
        )
    return name


def set_display_name(user: User, text: str | None) -> None:
    """Set (or clear) the name employees read; audited. The caller commits."""
    name = validate_display_name(text)
    if name == user.display_name:
        return
    user.display_name = name
    record_audit_event(
        "auth.display_name_changed",
        object_type="user",
        object_id=user.id,
        message="cleared" if name is None else "set",
    )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def set_password(user: User, password: str) -> None:
    """Set a new password and end every sign-in of the user (ASVS 7.4.3)."""
    user.password_hash = generate_password_hash(password, method=_hash_method())
    user.password_changed_at = utcnow()
    revoke_all_sign_ins(user)


def hash_is_outdated(password_hash: str) -> bool:
    """True when the hash was made with other parameters than PASSWORD_HASH_METHOD."""
    return password_hash.split("$", 1)[0] != _hash_method()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, else None (same time either way).

    A hash made with older parameters is replaced at once (the password is known only now);
    the caller commits."""
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(_hash_method()), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        return None
    if hash_is_outdated(user.password_hash):
        user.password_hash = generate_password_hash(password, method=_hash_method())
        record_audit_event(
            "auth.password_rehashed",
            object_type="user",
            object_id=user.id,
            actor_id=user.id,
            actor_role=user.role,
            company_id=user.company_id,
        )
    return user


def device_label(user_agent: str) -> str:
    """A short label ("Chrome · Android") for the devices list: names only, no words to
    translate (it is stored and read in any language) and no version numbers; "" if unknown."""
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
        "",
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
        "",
    )
    return " · ".join(part for part in (browser, system) if part)


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


def issue_action_token(user: User, purpose: str, *, delivery: str | None = None) -> str:
    """A one-time secret for a link; only its hash is stored. Earlier links of the same kind die,
    and this one dies when the user's address or password changes. ``delivery`` records how an
    invitation is handed over (InvitationDelivery)."""
    return issue_action_token_row(user, purpose, delivery=delivery)[0]


def issue_action_token_row(
    user: User, purpose: str, *, delivery: str | None = None
) -> tuple[str, ActionToken]:
    """issue_action_token, with the new row (its expiry, to show; its delivery, to update)."""
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
    row = ActionToken(
        token_hash=_hash_token(token),
        purpose=purpose,
        user=user,
        created_at=now,
        expires_at=now + lifetime,
        email_hash=email_hash(user.email),
        delivery=delivery,
    )
    db.session.add(row)
    return token, row


def usable_action_token(row: ActionToken | None, purpose: str) -> bool:
    """Unused, unexpired, for an active user whose address and password are those it was
    issued for (a link sent to a mistyped address dies when the admin corrects it)."""
    if row is None or row.purpose != purpose or row.used_at is not None:
        return False
    user = row.user
    if row.expires_at <= utcnow() or not user.active:
        return False
    if row.email_hash is not None and row.email_hash != email_hash(user.email):
        return False
    return user.password_changed_at is None or row.created_at >= user.password_changed_at


def peek_action_token(token: str, purpose: str) -> ActionToken | None:
    """The token's row when it can still be used (does not use it up)."""
    row = db.session.scalar(select(ActionToken).where(ActionToken.token_hash == _hash_token(token)))
    return row if usable_action_token(row, purpose) else None


def open_action_token(token: str, purpose: str) -> dict[str, object] | None:
    """The first open of a link: the secret from the URL is exchanged for a binding kept in
    this browser's session (returned, to store there). A second open, from anywhere, finds
    the link already opened: a URL copied from a proxy log is worth nothing."""
    row = peek_action_token(token, purpose)
    if row is None or row.opened_at is not None:
        return None
    nonce = secrets.token_urlsafe(32)
    opened = db.session.execute(
        update(ActionToken)
        .where(ActionToken.id == row.id, ActionToken.opened_at.is_(None))
        .values(opened_at=utcnow(), binding_hash=_hash_token(nonce))
    ).rowcount
    if opened != 1:
        db.session.rollback()
        return None
    return {"id": row.id, "purpose": purpose, "nonce": nonce}


def bound_action_token(binding: object, purpose: str) -> ActionToken | None:
    """The opened link this session holds, while its form is still valid."""
    if not isinstance(binding, dict) or binding.get("purpose") != purpose:
        return None
    row = (
        db.session.get(ActionToken, binding.get("id"))
        if isinstance(binding.get("id"), int)
        else None
    )
    nonce = binding.get("nonce")
    if row is None or not isinstance(nonce, str) or not usable_action_token(row, purpose):
        return None
    if row.binding_hash is None or not secrets.compare_digest(row.binding_hash, _hash_token(nonce)):
        return None
    form_minutes = current_app.config["LINK_FORM_MINUTES"]
    if row.opened_at is None or utcnow() - row.opened_at > timedelta(minutes=form_minutes):
        return None
    return row


def redeem_action_token(row: ActionToken, new_password: str) -> User | None:
    """Use an opened link once to set a password. Two concurrent uses: only one succeeds."""
    now: datetime = utcnow()
    claimed = db.session.execute(
        update(ActionToken)
        .where(ActionToken.id == row.id, ActionToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    user = row.user
    set_password(user, new_password)
    record_audit_event(
        f"auth.{row.purpose}_used",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        actor_role=user.role,
        company_id=user.company_id,
    )
    return user


def may_request_reset(user: User) -> bool:
    """Per-account limit on reset links, so that nobody can mail-bomb a user or keep killing
    their link by rotating addresses (RESET_REQUESTS_PER_HOUR / _PER_DAY)."""
    now = utcnow()
    config = current_app.config
    for window, limit in (
        (timedelta(hours=1), config["RESET_REQUESTS_PER_HOUR"]),
        (timedelta(days=1), config["RESET_REQUESTS_PER_DAY"]),
    ):
        count = db.session.scalar(
            select(func.count())
            .select_from(ActionToken)
            .where(
                ActionToken.user_id == user.id,
                ActionToken.purpose == RESET,
                ActionToken.created_at > now - window,
            )
        )
        if count >= limit:
            return False
    return True


def find_action_token(token: str) -> ActionToken | None:
    """The row of a link secret, whatever its state (for auditing a refused link)."""
    return db.session.scalar(
        select(ActionToken).where(ActionToken.token_hash == _hash_token(token))
    )

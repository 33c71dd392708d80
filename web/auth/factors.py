"""Second factors: passkeys (WebAuthn), an authenticator app (TOTP) with recovery codes, who
must have one, and the recent check that sensitive actions ask for (step-up).

Passkeys use py_webauthn (discoverable credentials, user verification required): a passkey is a
sign-in on its own, password and second factor in one. TOTP uses pyotp (RFC 6238, 30-second
steps, ±1 step, a code is never accepted twice). The ten recovery codes are single use and only
their keyed hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import delete, func, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from web.audit import record_audit_event
from web.certificates.keys import key_encryption_key
from web.extensions import db
from web.mail import send_mail
from web.models import RecoveryCode, Role, TotpFactor, User, WebAuthnCredential, utcnow

# Operators hold the signing keys; support agents see every tenant: both must have a factor.
FACTOR_REQUIRED_ROLES = frozenset({Role.OPERATOR, Role.SUPPORT})
RECOVERY_CODE_COUNT = 10
TOTP_STEP_SECONDS = 30
TOTP_VALID_WINDOW = 1  # steps either side: a phone clock up to 30 s off still works
CEREMONY_SECONDS = 300  # a WebAuthn challenge is good for this long
PASSKEY_NAME_MAX = 80

# Session keys: the factor was checked in this session, and when something was last checked.
SESSION_FACTOR_OK = "factor_ok"
SESSION_VERIFIED_AT = "verified_at"


class FactorKind(StrEnum):
    PASSKEY = "passkey"
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


FACTOR_LABELS = {
    FactorKind.PASSKEY: _l("Passkey"),
    FactorKind.TOTP: _l("Authenticator app"),
    FactorKind.RECOVERY_CODE: _l("Recovery code"),
}


class CodeCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    REPLAYED = "replayed"


class FactorError(ValueError):
    """A factor ceremony that failed; the message is translated and safe to show."""


# --- who needs what ---------------------------------------------------------------------------


def has_totp(user: User) -> bool:
    return totp_factor_of(user) is not None


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    return list(
        db.session.scalars(
            select(WebAuthnCredential)
            .where(WebAuthnCredential.user_id == user.id)
            .order_by(WebAuthnCredential.created_at)
        )
    )


def factor_count(user: User) -> int:
    passkeys = db.session.scalar(
        select(func.count())
        .select_from(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user.id)
    )
    return passkeys + (1 if has_totp(user) else 0)


def factor_required(user: User) -> bool:
    """Must this user pass a second factor after the password? Operators and support agents
    always; employer admins when their company requires it or once they have enrolled one."""
    role = user.role_enum
    if role in FACTOR_REQUIRED_ROLES:
        return True
    if role is Role.EMPLOYER_ADMIN:
        company = user.company
        return bool(company and company.require_second_factor) or factor_count(user) > 0
    return False


def factor_asked(user: User) -> bool:
    """Employer admins are asked to enrol (a notice on their pages) even where not required."""
    return user.role_enum is Role.EMPLOYER_ADMIN and factor_count(user) == 0


def needs_enrolment(user: User) -> bool:
    """True while this session may reach only the enrolment page."""
    return factor_required(user) and not session.get(SESSION_FACTOR_OK)


def mark_verified(*, factor: bool) -> None:
    """Record in the session that the user just proved who they are (with a factor or not)."""
    session[SESSION_VERIFIED_AT] = int(time.time())
    if factor:
        session[SESSION_FACTOR_OK] = True


def recently_verified() -> bool:
    verified_at = session.get(SESSION_VERIFIED_AT)
    if not isinstance(verified_at, int):
        return False
    return time.time() - verified_at < current_app.config["STEP_UP_MINUTES"] * 60


# --- TOTP -------------------------------------------------------------------------------------


def totp_factor_of(user: User) -> TotpFactor | None:
    return db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))


def _aad(user_id: int) -> bytes:
    return f"totp:{user_id}".encode()


def _encrypt_secret(secret: str, user_id: int) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key_encryption_key()).encrypt(nonce, secret.encode(), _aad(user_id))


def _decrypt_secret(factor: TotpFactor) -> str:
    blob = factor.secret_encrypted
    return AESGCM(key_encryption_key()).decrypt(blob[:12], blob[12:], _aad(factor.user_id)).decode()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["PROVIDER_NAME"]
    )


def totp_qr_svg(uri: str, label: str) -> Markup:
    """The otpauth:// URI as an inline SVG (qrcode's path image: no script, no style)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    svg = image.to_string(encoding="unicode")
    # The drawing is made from the matrix alone; the label is escaped.
    head = f'<svg class="qr" role="img" aria-label="{Markup.escape(label)}" '
    return Markup(svg.replace("<svg ", head, 1))  # noqa: S704  # nosec B704


def _clean_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isascii() and ch.isalnum()).upper()


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    code = _clean_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int((time.time() if now is None else now) // TOTP_STEP_SECONDS)
    for candidate in range(step - TOTP_VALID_WINDOW, step + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(candidate * TOTP_STEP_SECONDS), code):
            return candidate
    return None


def check_totp(user: User, code: str) -> CodeCheck:
    """Check an app code; the step it matched is used up (conditional UPDATE: two requests with
    the same code, only one wins)."""
    factor = totp_factor_of(user)
    if factor is None:
        return CodeCheck.WRONG
    step = _matching_step(_decrypt_secret(factor), code)
    if step is None:
        return CodeCheck.WRONG
    claimed = db.session.execute(
        update(TotpFactor)
        .where(
            TotpFactor.id == factor.id,
            (TotpFactor.last_used_step.is_(None)) | (TotpFactor.last_used_step < step),
        )
        .values(last_used_step=step)
    ).rowcount
    return CodeCheck.OK if claimed == 1 else CodeCheck.REPLAYED


def enrol_totp(user: User, secret: str, code: str) -> list[str]:
    """Store the app's secret once a code proves the app has it; returns new recovery codes."""
    if has_totp(user):
        raise FactorError(_("An authenticator app is already set up. Remove it first."))
    step = _matching_step(secret, code)
    if step is None:
        raise FactorError(_("That code is wrong. Check the time on your phone and try again."))
    db.session.add(
        TotpFactor(
            user_id=user.id, secret_encrypted=_encrypt_secret(secret, user.id), last_used_step=step
        )
    )
    codes = new_recovery_codes(user)
    factor_changed(user, FactorKind.TOTP, added=True)
    return codes


def remove_totp(user: User) -> bool:
    removed = db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id)).rowcount
    if removed:
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        factor_changed(user, FactorKind.TOTP, added=False)
    return bool(removed)


# --- recovery codes ---------------------------------------------------------------------------

_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _recovery_hash(code: str) -> str:
    # Keyed: 50 random bits are too few against an offline search of a stolen table alone.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"recovery:" + _clean_code(code).encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh single-use codes (the old ones die); shown once, stored as keyed hashes."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    return codes


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def use_recovery_code(user: User, code: str) -> bool:
    """Use a recovery code once (conditional UPDATE)."""
    if len(_clean_code(code)) != 10:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    return used == 1


def check_code(user: User, code: str) -> tuple[CodeCheck, FactorKind]:
    """A six-digit app code or a recovery code, whichever the user typed."""
    if len(_clean_code(code)) == 10:
        ok = use_recovery_code(user, code)
        return (CodeCheck.OK if ok else CodeCheck.WRONG), FactorKind.RECOVERY_CODE
    return check_totp(user, code), FactorKind.TOTP


# --- passkeys ---------------------------------------------------------------------------------


def relying_party() -> tuple[str, str]:
    """The relying-party id (the host) and the origin, both from PUBLIC_BASE_URL."""
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def _store_challenge(name: str, challenge: bytes, user_id: int | None = None) -> None:
    session[name] = {
        "challenge": bytes_to_base64url(challenge),
        "at": int(time.time()),
        "user_id": user_id,
    }


def _take_challenge(name: str) -> dict[str, Any]:
    stored = session.pop(name, None)
    if not isinstance(stored, dict) or time.time() - stored.get("at", 0) > CEREMONY_SECONDS:
        raise FactorError(_("The passkey request has expired. Please try again."))
    return stored


def _user_handle(user: User) -> bytes:
    if not user.webauthn_handle:
        user.webauthn_handle = bytes_to_base64url(secrets.token_bytes(32))
    return base64url_to_bytes(user.webauthn_handle)


def registration_options(user: User) -> str:
    """JSON options for navigator.credentials.create (a discoverable credential, with UV)."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["PROVIDER_NAME"],
        user_name=user.email,
        user_id=_user_handle(user),
        user_display_name=user.email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
            for c in passkeys_of(user)
        ],
    )
    _store_challenge("webauthn_register", options.challenge, user.id)
    return options_to_json(options)


def finish_registration(user: User, credential: Any, name: str) -> WebAuthnCredential:
    stored = _take_challenge("webauthn_register")
    if stored.get("user_id") != user.id:
        raise FactorError(_("The passkey request has expired. Please try again."))
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(stored["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError):
        raise FactorError(_("This passkey could not be checked. Please try again.")) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(
        select(WebAuthnCredential.id).where(WebAuthnCredential.credential_id == credential_id)
    ):
        raise FactorError(_("This passkey is already registered."))
    passkey = WebAuthnCredential(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name or "").strip()[:PASSKEY_NAME_MAX] or _("Passkey"),
    )
    db.session.add(passkey)
    factor_changed(user, FactorKind.PASSKEY, added=True)
    return passkey


def authentication_options(user: User | None = None) -> str:
    """JSON options for navigator.credentials.get: any passkey of this site (sign-in), or one
    of ``user``'s (step-up, second factor)."""
    rp_id, _origin = relying_party()
    allowed = (
        [
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
            for c in passkeys_of(user)
        ]
        if user is not None
        else None
    )
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _store_challenge("webauthn_authenticate", options.challenge, user.id if user else None)
    return options_to_json(options)


def finish_authentication(credential: Any) -> User:
    """The user whose passkey signed the challenge (raises FactorError otherwise)."""
    stored = _take_challenge("webauthn_authenticate")
    failure = FactorError(_("This passkey was not accepted. Please try again."))
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str) or len(raw_id) > 1400:
        raise failure
    passkey = db.session.scalar(
        select(WebAuthnCredential).where(WebAuthnCredential.credential_id == raw_id)
    )
    if passkey is None:
        raise failure
    if stored.get("user_id") is not None and stored["user_id"] != passkey.user_id:
        raise failure
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(stored["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError):
        raise failure from None
    handle = credential.get("response", {}).get("userHandle")
    user = passkey.user
    if handle and handle != user.webauthn_handle:
        raise failure
    if not user.active:
        raise failure
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    return user


def remove_passkey(user: User, passkey_id: int) -> bool:
    passkey = db.session.scalar(
        select(WebAuthnCredential).where(
            WebAuthnCredential.id == passkey_id, WebAuthnCredential.user_id == user.id
        )
    )
    if passkey is None:
        return False
    db.session.delete(passkey)
    factor_changed(user, FactorKind.PASSKEY, added=False)
    return True


def parse_credential(body: object) -> dict[str, Any]:
    """The credential object of a ceremony's JSON body (raises FactorError on anything else)."""
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        raise FactorError(_("This passkey could not be checked. Please try again."))
    # A round trip through JSON: the library gets plain data, nothing else.
    return json.loads(json.dumps(body["credential"]))


# --- removing a factor, audit and mail --------------------------------------------------------


@dataclass(frozen=True)
class RemovalCheck:
    allowed: bool
    reason: str = ""


def may_remove_own_factor(user: User) -> RemovalCheck:
    """A user whose role requires a factor cannot remove their last one: another operator must
    (so a stolen session cannot quietly strip the account's protection)."""
    if user.role_enum in FACTOR_REQUIRED_ROLES and factor_count(user) <= 1:
        return RemovalCheck(
            False,
            _(
                "This is your last second factor, and your role requires one. Add another first, "
                "or ask another operator to remove it."
            ),
        )
    if (
        user.role_enum is Role.EMPLOYER_ADMIN
        and user.company is not None
        and user.company.require_second_factor
        and factor_count(user) <= 1
    ):
        return RemovalCheck(
            False,
            _("Your company requires a second factor. Add another before removing this one."),
        )
    return RemovalCheck(True)


def reset_factors(operator: User, user: User) -> int:
    """Another operator removes every factor of a staff account (a lost phone): the user must
    enrol again at the next sign-in, which is all they can reach until then."""
    if operator.id == user.id:
        raise FactorError(_("Another operator must do this."))
    passkeys = db.session.execute(
        delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)
    ).rowcount
    totp = db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id)).rowcount
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    from web.auth.services import revoke_all_sign_ins

    revoke_all_sign_ins(user)
    record_audit_event(
        "auth.factors_reset",
        object_type="user",
        object_id=user.id,
        message=f"{passkeys} passkeys, {totp} authenticator apps removed by another operator",
        company_id=user.company_id,
    )
    _mail_factor_change(user, "reset")
    return passkeys + totp


def factor_changed(user: User, kind: FactorKind, *, added: bool) -> None:
    """Audit a factor added or removed, and tell the user by mail (a change they did not make
    is the sign of a stolen session)."""
    record_audit_event(
        "auth.factor_added" if added else "auth.factor_removed",
        object_type="user",
        object_id=user.id,
        message=kind.value,
        company_id=user.company_id,
    )
    _mail_factor_change(user, ("added" if added else "removed") + ":" + kind.value)


def _mail_factor_change(user: User, change: str) -> None:
    from web.auth.services import _locale_of

    with force_locale(_locale_of(user)):
        what = {
            "added:passkey": _("A passkey was added to your A1 Wallet account."),
            "removed:passkey": _("A passkey was removed from your A1 Wallet account."),
            "added:totp": _("An authenticator app was set up for your A1 Wallet account."),
            "removed:totp": _("The authenticator app was removed from your A1 Wallet account."),
            "reset": _(
                "An operator removed every second factor of your A1 Wallet account. You will "
                "set up a new one at your next sign-in."
            ),
        }[change]
        send_mail(
            user.email,
            _("A1 Wallet: your sign-in methods changed"),
            what
            + "\n\n"
            + _(
                "If this was not you, contact support at once: %(email)s",
                email=current_app.config["SUPPORT_EMAIL"],
            ),
        )

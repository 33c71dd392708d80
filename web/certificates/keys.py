"""The provider's signing keys: creation, encryption at rest, rotation, retirement, revocation,
and the published trust and revocation lists.

Every key has a document class, the kind of certificate it may sign (``provisional`` or
``official``, the QR's kind names): each class has its own active key and its own rotation, and a
key never signs, nor vouches in any verifier for, a certificate of the other class."""

from __future__ import annotations

import base64
import binascii
import os
from datetime import date, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import verifier
from web.audit import record_audit_event
from web.extensions import db
from web.models import Certificate, CertificateKind, CertificateStatus, KeyState, SigningKey, utcnow

# One definition: the document classes are the verifier's kind names, and the register's
# certificate kinds are the same words.
DOCUMENT_CLASSES: tuple[str, ...] = verifier.DOCUMENT_CLASSES
assert {kind.value for kind in CertificateKind} == set(DOCUMENT_CLASSES)


class SigningKeyError(ValueError):
    """A key operation that cannot be done (wrong state, wrong class, no reason), with a
    translated message for the operator's page and the command line, and the input it is about
    (``kid``, ``document_class`` or ``reason``)."""

    def __init__(self, message: str, field: str = "kid") -> None:
        super().__init__(message)
        self.field = field


class UnknownSigningKeyError(SigningKeyError):
    """No key has this kid."""


def check_document_class(document_class: str) -> str:
    if document_class not in DOCUMENT_CLASSES:
        raise SigningKeyError(
            _(
                "“%(value)s” is not a document class: one of %(classes)s.",
                value=str(document_class)[:20],
                classes=", ".join(DOCUMENT_CLASSES),
            ),
            "document_class",
        )
    return document_class


def key_encryption_key() -> bytes:
    """The 32-byte AES key from A1W_KEY_ENCRYPTION_KEY or instance/key_encryption_key."""
    text = current_app.config["KEY_ENCRYPTION_KEY"].strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise RuntimeError("A1W_KEY_ENCRYPTION_KEY must be 32 bytes in base64url (43 characters)")
    return raw


def _encrypt_private_key(private_key: ec.EllipticCurvePrivateKey, kid: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    # The kid is bound in as associated data: a ciphertext moved to another row fails to open.
    return nonce + AESGCM(key_encryption_key()).encrypt(nonce, der, kid.encode())


def private_key_of(key: SigningKey) -> ec.EllipticCurvePrivateKey:
    blob = key.private_key_encrypted
    der = AESGCM(key_encryption_key()).decrypt(blob[:12], blob[12:], key.kid.encode())
    private_key = serialization.load_der_private_key(der, password=None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    return private_key


def public_key_of(key: SigningKey) -> ec.EllipticCurvePublicKey:
    public_key = serialization.load_der_public_key(key.public_key_der)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return public_key


def create_signing_key(document_class: str, *, activate: bool) -> SigningKey:
    """A new P-256 key of a class, published at once (in the trust list before it ever signs)."""
    check_document_class(document_class)
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    kid = verifier.kid_text(verifier.kid_for_public_key(public_key))
    now = utcnow()
    key = SigningKey(
        kid=kid,
        public_key_der=public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        private_key_encrypted=_encrypt_private_key(private_key, kid),
        state=KeyState.ACTIVE.value if activate else KeyState.PUBLISHED.value,
        document_class=document_class,
        active_marker=1 if activate else None,
        created_at=now,
        published_at=now,
        activated_at=now if activate else None,
    )
    db.session.add(key)
    record_audit_event(
        "key.created",
        object_type="signing_key",
        object_id=kid,
        message=f"{document_class}, {'active' if activate else 'published'}",
    )
    return key


def _current_active_key(document_class: str) -> SigningKey | None:
    return db.session.scalar(
        select(SigningKey).where(
            SigningKey.document_class == document_class, SigningKey.active_marker == 1
        )
    )


def active_signing_key(document_class: str) -> SigningKey:
    """The key that signs certificates of this class now. The first call for a class creates
    its first key (the first start of the app, the first official certificate)."""
    check_document_class(document_class)
    key = _current_active_key(document_class)
    if key is not None:
        return key
    savepoint = db.session.begin_nested()
    try:
        key = create_signing_key(document_class, activate=True)
        savepoint.commit()
        return key
    except IntegrityError:
        # Another worker created the first key of this class at the same moment: use theirs.
        savepoint.rollback()
        key = _current_active_key(document_class)
        assert key is not None
        return key


def check_key_may_sign(key: SigningKey, kind: str) -> None:
    """Refuse, never sign silently: only the active key of the certificate's kind's class."""
    if key.document_class != kind:
        raise SigningKeyError(
            f"key {key.kid} signs {key.document_class} certificates, not {kind} ones"
        )
    if key.state != KeyState.ACTIVE.value or key.active_marker is None:
        raise SigningKeyError(f"key {key.kid} is {key.state}; only the active key signs")


def get_key(kid: str) -> SigningKey:
    key = db.session.get(SigningKey, (kid or "").strip().lower()[:16])
    if key is None:
        raise UnknownSigningKeyError(
            _("No signing key has the id “%(kid)s”.", kid=str(kid or "").strip()[:20])
        )
    return key


def _why(reason: str) -> str:
    """The operator's reason as the audit trail keeps it ("" when none was given)."""
    reason = (reason or "").strip()
    return f"why: {reason}" if reason else ""


def _retire(key: SigningKey, now: datetime) -> None:
    key.state = KeyState.RETIRED.value
    key.active_marker = None
    key.retired_at = now


def activate_key(kid: str) -> SigningKey:
    """Make a published key the signing key of its class; that class's active key retires."""
    key = get_key(kid)
    if key.state != KeyState.PUBLISHED.value:
        raise SigningKeyError(
            f"key {key.kid} is {key.state}; only a published key can become active"
        )
    now = utcnow()
    current = _current_active_key(key.document_class)
    if current is not None:
        _retire(current, now)
        db.session.flush()  # free the active marker before taking it
    key.state = KeyState.ACTIVE.value
    key.active_marker = 1
    key.activated_at = now
    record_audit_event("key.activated", object_type="signing_key", object_id=key.kid)
    return key


def rotate_keys(
    document_class: str, *, reason: str = "", replacing: str | None = None
) -> tuple[SigningKey, SigningKey | None]:
    """Publish a new key of the class and make it active; the class's old active key retires
    (it keeps verifying). The other class's key is not touched. ``replacing``: the kid the
    caller saw signing; when another key signs by now (a page left open, a second click) nothing
    is rotated twice."""
    check_document_class(document_class)
    old = _current_active_key(document_class)
    if replacing is not None and (old is None or old.kid != replacing.strip().lower()):
        raise SigningKeyError(
            _("This key no longer signs: another key replaced it in the meantime.")
        )
    new = create_signing_key(document_class, activate=False)
    db.session.flush()
    activate_key(new.kid)
    replaced = f"replaces {old.kid}" if old else "first key"
    record_audit_event(
        "key.rotated",
        object_type="signing_key",
        object_id=new.kid,
        message="; ".join(filter(None, (f"{document_class}: {replaced}", _why(reason)))),
    )
    return new, old


def retire_key(kid: str, reason: str = "") -> SigningKey:
    """Stop a published key from ever signing. The active key is not retired on its own: a
    rotation retires it, so that its class always has a key that signs."""
    key = get_key(kid)
    if key.state == KeyState.REVOKED.value:
        raise SigningKeyError(_("Key %(kid)s is revoked: it cannot be retired.", kid=key.kid))
    if key.state == KeyState.ACTIVE.value:
        raise SigningKeyError(
            _(
                "Key %(kid)s is the key that signs: rotate instead, so that a new key signs.",
                kid=key.kid,
            )
        )
    if key.state != KeyState.RETIRED.value:
        _retire(key, utcnow())
        record_audit_event(
            "key.retired",
            object_type="signing_key",
            object_id=key.kid,
            message=_why(reason),
        )
    return key


def revoke_key(kid: str, reason: str) -> SigningKey:
    """A revoked key never verifies again. If it was active, a new key of its class takes over
    at once. The reason is required: it is what the audit trail keeps of a compromise."""
    key = get_key(kid)
    if key.state == KeyState.REVOKED.value:
        raise SigningKeyError(_("Key %(kid)s is already revoked.", kid=key.kid))
    reason = (reason or "").strip()
    if not reason:
        raise SigningKeyError(_("Say why the key is revoked."), "reason")
    was_active = key.state == KeyState.ACTIVE.value
    key.state = KeyState.REVOKED.value
    key.active_marker = None
    key.revoked_at = utcnow()
    key.revocation_reason = reason[:500]
    record_audit_event(
        "key.revoked", object_type="signing_key", object_id=key.kid, message=_why(reason)
    )
    if was_active:
        db.session.flush()
        create_signing_key(key.document_class, activate=True)
    return key


def live_certificate_counts(today: date) -> dict[str, int]:
    """How many certificates in use each key signed, by kid: active (not withdrawn, replaced or
    waiting for review) and not yet ended, those that start later included. One grouped query."""
    rows = db.session.execute(
        select(Certificate.signing_kid, func.count())
        .where(
            Certificate.signing_kid.is_not(None),
            Certificate.status == CertificateStatus.ACTIVE.value,
            Certificate.valid_to >= today,
        )
        .group_by(Certificate.signing_kid)
    )
    return dict(rows.all())


def _last_valid_day_signed_by() -> dict[str, date]:
    rows = db.session.execute(
        select(Certificate.signing_kid, func.max(Certificate.valid_to))
        .where(Certificate.signing_kid.is_not(None))
        .group_by(Certificate.signing_kid)
    )
    return {row[0]: row[1] for row in rows}


def trust_list_document(today: date | None = None) -> dict:
    """keys.json: every key that may verify — published, active, and retired keys while a
    certificate they signed is still within its dates — with its document class. Revoked keys
    never appear."""
    today = today or utcnow().date()
    last_days = _last_valid_day_signed_by()
    entries = []
    keys = db.session.scalars(
        select(SigningKey)
        .where(SigningKey.state != KeyState.REVOKED.value)
        .order_by(SigningKey.published_at, SigningKey.kid)
    )
    for key in keys:
        if key.state == KeyState.RETIRED.value:
            last = last_days.get(key.kid)
            # One day of grace: the last day ends at 24:00 UTC−12 (verifier/FORMAT.md §3).
            if last is None or last + timedelta(days=1) < today:
                continue
        entries.append(
            verifier.public_key_document_entry(
                public_key_of(key),
                key.state,
                key.activated_at or key.published_at,
                key.retired_at,
                document_class=key.document_class,
            )
        )
    return verifier.keys_document(entries)


def revocation_document() -> dict:
    """revoked.json: withdrawn certificates and revoked keys."""
    certificate_ids = db.session.scalars(
        select(Certificate.id)
        .where(Certificate.status == CertificateStatus.WITHDRAWN.value)
        .order_by(Certificate.id)
    )
    kids = db.session.scalars(
        select(SigningKey.kid)
        .where(SigningKey.state == KeyState.REVOKED.value)
        .order_by(SigningKey.kid)
    )
    return verifier.revoked_document(list(certificate_ids), list(kids))


def verification_key_set() -> verifier.KeySet:
    """The server's own key set: the same documents a third party would download."""
    return verifier.KeySet.from_document(trust_list_document())


def revocation_set() -> verifier.RevocationSet:
    return verifier.RevocationSet.from_document(revocation_document())

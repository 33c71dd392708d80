"""The operator's signing keys: every key with its class, state, dates and the certificates in
use it signed; rotate a class, retire a published key, revoke a compromised one, re-sign what a
revoked key signed. The rules are web/certificates/keys.py's, shared with `flask keys …`. Every
action is sensitive: the operator's second factor is asked again after STEP_UP_MINUTES."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from web.access import roles_required
from web.audit import record_audit_event
from web.auth.guards import require_recent_factor
from web.certificates.keys import (
    DOCUMENT_CLASSES,
    SigningKeyError,
    UnknownSigningKeyError,
    active_signing_key,
    live_certificate_counts,
    retire_key,
    revoke_key,
    rotate_keys,
)
from web.certificates.review import review_queue_size
from web.certificates.services import resign_certificates
from web.extensions import db
from web.models import CertificateKind, KeyState, Role, SigningKey, utcnow
from web.operator import bp
from web.operator.forms import KeyActionForm


@dataclass(frozen=True)
class RefusedKeyAction:
    """What the page shows beside the form that was refused, with what the operator typed."""

    action: str  # rotate, retire, revoke, resign
    kid: str
    field: str  # kid, document_class or reason
    message: str
    reason: str


def _keys_page(refused: RefusedKeyAction | None = None, status: int = 200) -> tuple[str, int]:
    keys = db.session.scalars(
        select(SigningKey).order_by(
            SigningKey.document_class, SigningKey.created_at.desc(), SigningKey.kid
        )
    ).all()
    signing = {key.document_class for key in keys if key.state == KeyState.ACTIVE.value}
    return render_template(
        "operator/keys.html",
        keys=keys,
        live=live_certificate_counts(utcnow().date()),
        classes_without_key=[
            CertificateKind(c).signing_class_label for c in DOCUMENT_CLASSES if c not in signing
        ],
        refused=refused,
        waiting=review_queue_size(),
    ), status


@bp.route("/keys")
@roles_required(Role.OPERATOR)
def keys() -> tuple[str, int]:
    return _keys_page()


def _refused(action: str, form: KeyActionForm, exc: SigningKeyError) -> tuple[str, int]:
    """Nothing changed; the refusal is audited and shown beside the input it is about."""
    db.session.rollback()
    kid = (form.kid.data or "").strip()[:16]
    record_audit_event(
        f"key.{action}_refused",
        object_type="signing_key",
        object_id=kid or None,
        outcome="refused",  # the operator may; the key's state or the input did not allow it
        message=str(exc),
    )
    db.session.commit()
    # What was posted names no key or class, or lacks the reason: 422. The key's state does not
    # allow the action (revoked, the signing key, replaced meanwhile): 409.
    bad_input = isinstance(exc, UnknownSigningKeyError) or exc.field != "kid"
    status = 422 if bad_input else 409
    refused = RefusedKeyAction(action, kid, exc.field, str(exc), form.reason.data or "")
    return _keys_page(refused, status)


@bp.route("/keys/rotate", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def rotate_signing_key() -> Response | tuple[str, int]:
    form = KeyActionForm()
    try:
        new, old = rotate_keys(
            form.document_class.data or "",
            reason=form.reason.data or "",
            replacing=form.kid.data or "",
        )
    except SigningKeyError as exc:
        return _refused("rotate", form, exc)
    db.session.commit()
    if old is not None:
        message = _(
            "%(documents)s: the new key %(new)s signs from now on. Key %(old)s is retired: it no"
            " longer signs, and what it signed still verifies.",
            documents=new.document_class_label,
            new=new.kid,
            old=old.kid,
        )
    else:
        message = _(
            "%(documents)s: the new key %(new)s signs from now on.",
            documents=new.document_class_label,
            new=new.kid,
        )
    flash(message, "info")
    return redirect(url_for("operator.keys"))


@bp.route("/keys/retire", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def retire_signing_key() -> Response | tuple[str, int]:
    form = KeyActionForm()
    try:
        key = retire_key(form.kid.data or "", form.reason.data or "")
    except SigningKeyError as exc:
        return _refused("retire", form, exc)
    db.session.commit()
    flash(_("Key %(kid)s is retired: it will never sign.", kid=key.kid), "info")
    return redirect(url_for("operator.keys"))


@bp.route("/keys/revoke", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def revoke_signing_key() -> Response | tuple[str, int]:
    form = KeyActionForm()
    try:
        key = revoke_key(form.kid.data or "", form.reason.data or "")
    except SigningKeyError as exc:
        return _refused("revoke", form, exc)
    db.session.commit()
    if key.activated_at is not None and key.retired_at is None:  # it was the signing key
        message = _(
            "Key %(kid)s is revoked: nothing it signed verifies any more. The new key %(new)s"
            " signs in its place. Re-sign what the revoked key signed: the button is in its row.",
            kid=key.kid,
            new=active_signing_key(key.document_class).kid,
        )
    else:
        message = _(
            "Key %(kid)s is revoked: nothing it signed verifies any more. Re-sign what it"
            " signed: the button is in its row.",
            kid=key.kid,
        )
    flash(message, "info")
    return redirect(url_for("operator.keys"))


@bp.route("/keys/resign", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def resign_signing_key() -> Response | tuple[str, int]:
    form = KeyActionForm()
    kid = (form.kid.data or "").strip().lower()
    try:
        resigned = resign_certificates(kid, today=utcnow().date(), actor=current_user)
    except SigningKeyError as exc:
        return _refused("resign", form, exc)
    db.session.commit()
    if resigned:
        flash(
            ngettext(
                "%(num)d certificate signed by key %(kid)s is signed again by key %(new)s:"
                " it verifies again.",
                "%(num)d certificates signed by key %(kid)s are signed again by key %(new)s:"
                " they verify again.",
                len(resigned),
                kid=kid,
                new=", ".join(sorted({c.signing_kid for c in resigned if c.signing_kid})),
            ),
            "info",
        )
    else:
        flash(
            _("Nothing to re-sign: no certificate in use was signed by key %(kid)s.", kid=kid),
            "info",
        )
    return redirect(url_for("operator.keys"))

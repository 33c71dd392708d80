"""Signing keys in the operator console: the list, and revoking a compromised key (a sensitive
action: the operator's second factor is asked again after STEP_UP_MINUTES)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from web.access import roles_required
from web.auth.guards import require_recent_factor
from web.certificates.keys import SigningKeyError, revoke_key
from web.extensions import db
from web.models import KeyState, Role, SigningKey
from web.operator import bp
from web.operator.forms import RevokeKeyForm


def _keys_page(form: RevokeKeyForm | None = None, status: int = 200) -> tuple[str, int]:
    keys = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())).all()
    return render_template("operator/keys.html", keys=keys, form=form or RevokeKeyForm()), status


@bp.route("/keys")
@roles_required(Role.OPERATOR)
def keys() -> tuple[str, int]:
    return _keys_page()


@bp.route("/keys/revoke", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def revoke_signing_key() -> Response | tuple[str, int]:
    form = RevokeKeyForm()
    if not form.validate_on_submit():
        return _keys_page(form, 400)
    key = db.session.get(SigningKey, form.kid.data)
    if key is None or key.state == KeyState.REVOKED.value:
        form.kid.errors.append(_("No key that can still be revoked has this id."))
        return _keys_page(form, 404)
    try:
        revoke_key(key.kid, form.reason.data)
    except SigningKeyError:
        db.session.rollback()
        form.kid.errors.append(_("No key that can still be revoked has this id."))
        return _keys_page(form, 409)
    db.session.commit()
    flash(_("The key is revoked: nothing it signed verifies any more."), "info")
    return redirect(url_for("operator.keys"))

"""Login, logout, devices, invitations and password reset."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from web.access import public, roles_required
from web.audit import record_audit_event
from web.auth import bp
from web.auth.forms import (
    ChangePasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    ResetRequestForm,
)
from web.auth.services import (
    INVITE,
    RESET,
    authenticate,
    find_user_by_email,
    issue_action_token,
    open_sign_ins,
    peek_action_token,
    redeem_action_token,
    revoke_all_sign_ins,
    revoke_sign_in,
    set_password,
    start_sign_in,
)
from web.extensions import csrf, db, limiter
from web.forms import select_choices
from web.i18n import LANGUAGE_NAMES, app_languages
from web.mail import send_mail
from web.models import Role, SignIn
from web.urls import public_url

ALL_ROLES = tuple(Role)


def home_for(role: Role) -> str:
    return {
        Role.EMPLOYEE: url_for("wallet.home"),
        Role.EMPLOYER_ADMIN: url_for("admin.employees"),
        Role.OPERATOR: url_for("operator.outbox"),
        Role.SUPPORT: url_for("support.queue"),
    }.get(role, url_for("auth.account"))


def _login_account_key() -> str:
    # Hash the address: the rate-limit store is no place for personal data.
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
@public
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role_enum))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role_enum))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            # Employees carry the wallet abroad: 90-day remember-me unless the phone is shared.
            remember = user.role_enum is Role.EMPLOYEE and not form.shared_device.data
            session.clear()  # a fresh session at login (ASVS 7.2.4)
            start_sign_in(user, remember=remember)
            db.session.commit()
            login_user(user, remember=remember)
            return redirect(_safe_next(request.args.get("next")) or home_for(user.role_enum))
        record_audit_event("auth.login_failed", outcome="denied")
        db.session.commit()
        flash(_("Wrong email or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@roles_required(*ALL_ROLES)
def logout() -> Response:
    revoke_sign_in(current_user.get_id())
    record_audit_event("auth.logout", object_type="sign_in")
    db.session.commit()
    logout_user()
    session.clear()
    response = make_response(redirect(url_for("auth.login")))
    # Wipe what the phone kept (cached certificate pages, IndexedDB); DESIGN §6.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/account")
@roles_required(*ALL_ROLES)
def account() -> str:
    return render_template(
        "auth/account.html",
        sign_ins=open_sign_ins(current_user),
        current_sign_in_id=current_user.get_id(),
        password_form=ChangePasswordForm(),
        language_form=_language_form(),
    )


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@roles_required(*ALL_ROLES)
def sign_out_everywhere() -> Response:
    count = revoke_all_sign_ins(current_user)
    record_audit_event("auth.sign_out_everywhere", message=f"{count} sign-ins revoked")
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out on every device."), "info")
    response = make_response(redirect(url_for("auth.login")))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/account/devices/sign-out", methods=["POST"])
@roles_required(*ALL_ROLES)
def sign_out_device() -> Response:
    """Sign out one of the user's devices, named by its logout token (never its session id)."""
    token = request.form.get("device", "")
    sign_in = (
        db.session.scalar(select(SignIn).where(SignIn.logout_token == token)) if token else None
    )
    if sign_in is None or sign_in.user_id != current_user.id:
        abort(404)
    revoke_sign_in(sign_in.id)
    record_audit_event("auth.device_signed_out", object_type="sign_in")
    db.session.commit()
    if sign_in.id == current_user.get_id():
        logout_user()
        session.clear()
        response = make_response(redirect(url_for("auth.login")))
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    flash(_("That device is signed out."), "info")
    return redirect(
        request.referrer if _safe_next(_path_of(request.referrer)) else url_for("auth.account")
    )


def _path_of(url: str | None) -> str | None:
    return urlsplit(url).path if url else None


@bp.route("/logout/device", methods=["POST"])
@public
@csrf.exempt  # the token itself is the proof: a secret only this device's pages held
@limiter.limit("30 per minute")
def logout_device() -> Response:
    """The end of an offline logout: the phone, back online, revokes its own sign-in."""
    payload = request.get_json(silent=True) or {}
    token = str(payload.get("token", ""))[:64]
    sign_in = (
        db.session.scalar(select(SignIn).where(SignIn.logout_token == token)) if token else None
    )
    if sign_in is not None and sign_in.revoked_at is None:
        revoke_sign_in(sign_in.id)
        record_audit_event(
            "auth.logout_offline",
            object_type="sign_in",
            actor_id=sign_in.user_id,
            actor_role=sign_in.user.role,
            company_id=sign_in.user.company_id,
        )
        db.session.commit()
    response = make_response("", 204)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/account/password", methods=["POST"])
@roles_required(*ALL_ROLES)
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if authenticate(current_user.email, form.current_password.data) is None:
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            set_password(user, form.password.data)  # ends every sign-in, this one too
            record_audit_event("auth.password_changed", object_type="user", object_id=user.id)
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your password is changed. Sign in again with the new one."), "info")
            return redirect(url_for("auth.login"))
    return (
        render_template(
            "auth/account.html",
            sign_ins=open_sign_ins(current_user),
            current_sign_in_id=current_user.get_id(),
            password_form=form,
            language_form=_language_form(),
        ),
        400,
    )


def _language_form() -> LanguageForm:
    form = LanguageForm()
    form.lang.choices = select_choices([(code, LANGUAGE_NAMES[code]) for code in app_languages()])
    return form


@bp.route("/language", methods=["POST"])
@public
def set_language() -> Response:
    form = _language_form()
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.lang.data
    if current_user.is_authenticated:
        current_user.locale = form.lang.data
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.index"))


def _set_password_page(token: str, purpose: str, template: str) -> Response | tuple[str, int]:
    if peek_action_token(token, purpose) is None:
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        user = redeem_action_token(token, purpose, form.password.data)
        if user is None:
            return render_template("auth/link_invalid.html"), 404
        db.session.commit()
        flash(_("Your password is set. You can sign in now."), "info")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per 10 minutes", methods=["POST"])
def accept_invitation(token: str) -> Response | tuple[str, int]:
    return _set_password_page(token, INVITE, "auth/accept_invitation.html")


@bp.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit("5 per 10 minutes;20 per day", methods=["POST"])
def request_password_reset() -> Response | str:
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is not None and user.active:
            token = issue_action_token(user, RESET)
            record_audit_event(
                "auth.reset_requested",
                object_type="user",
                object_id=user.id,
                actor_id=user.id,
                actor_role=user.role,
                company_id=user.company_id,
            )
            db.session.commit()
            send_mail(
                user.email,
                _("Reset your A1 Wallet password"),
                _(
                    "Open this link to choose a new password (valid %(hours)d hours):\n%(link)s",
                    hours=current_app.config["PASSWORD_RESET_HOURS"],
                    link=public_url("auth.reset_password", token=token),
                ),
            )
        # The same answer whether or not the address exists (no account enumeration).
        flash(_("If that address has an account, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per 10 minutes", methods=["POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    return _set_password_page(token, RESET, "auth/reset_password.html")

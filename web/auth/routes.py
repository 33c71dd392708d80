"""Login, logout, devices, invitations and password reset."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
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
from web.auth.factors import (
    FACTOR_LABELS,
    CodeCheck,
    FactorError,
    FactorKind,
    authentication_options,
    check_code,
    enrol_totp,
    factor_asked,
    factor_count,
    factor_required,
    finish_authentication,
    finish_registration,
    has_totp,
    mark_verified,
    may_remove_own_factor,
    needs_enrolment,
    new_recovery_codes,
    new_totp_secret,
    parse_credential,
    passkeys_of,
    recently_verified,
    registration_options,
    remove_passkey,
    remove_totp,
    reset_factors,
    totp_qr_svg,
    totp_uri,
    unused_recovery_codes,
)
from web.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    CompanyFactorForm,
    ConfirmPasswordForm,
    DisplayNameForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    RemoveFactorForm,
    ResetFactorsForm,
    ResetRequestForm,
    TotpEnrolForm,
)
from web.auth.guards import enrolment_gate, require_recent_factor
from web.auth.reset import start_password_reset
from web.auth.services import (
    DISPLAY_NAME_ROLES,
    INVITE,
    RESET,
    authenticate,
    bound_action_token,
    find_action_token,
    find_user_by_email,
    open_action_token,
    open_sign_ins,
    redeem_action_token,
    revoke_all_sign_ins,
    revoke_sign_in,
    set_display_name,
    set_password,
    start_sign_in,
)
from web.auth.throttle import (
    clear_failures,
    client_address,
    forget_old_failures,
    record_failure,
    seconds_to_wait,
)
from web.extensions import csrf, db, limiter
from web.forms import select_choices
from web.i18n import LANGUAGE_NAMES, app_languages, select_locale
from web.mail import mail_configured
from web.models import Role, SignIn, User

ALL_ROLES = tuple(Role)
PENDING_LOGIN = "pending_login"  # password checked, second factor to come
PENDING_SECONDS = 300
MAX_FACTOR_TRIES = 5  # wrong codes before the password must be typed again
LINK_SESSION_KEY = "one_time_link"
TOTP_SESSION_KEY = "totp_enrolment"
# Answers the service worker may keep for offline use (when the sign-in is not a shared device).
# The wallet's pages, the authority's PDF and the posted-worker declaration's receipt; the same
# paths as PERSONAL in templates/pwa/sw.js.
OFFLINE_KEEPABLE = re.compile(
    r"^/(wallet/|certificates/[^/]+/document$|declarations/trips/\d+/receipt$)"
)


def home_for(role: Role) -> str:
    return {
        Role.EMPLOYEE: url_for("wallet.home"),
        Role.EMPLOYER_ADMIN: url_for("admin.employees"),
        Role.OPERATOR: url_for("operator.outbox"),
        Role.SUPPORT: url_for("support.queue"),
    }.get(role, url_for("auth.account"))


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Failed sign-in steps (the password, then the second factor) are limited per client, each step
# by the same LOGIN_LIMIT_PER_CLIENT.
failed_sign_ins_limited = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=_failed,
)


@bp.route("/")
@public
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role_enum))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@failed_sign_ins_limited
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role_enum))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data
        wait = seconds_to_wait(email)
        if wait:
            # Only this client is slowed down on this account: the owner elsewhere is not.
            record_audit_event("auth.login_throttled", outcome="denied")
            db.session.commit()
            flash(
                _("Too many failed attempts from this device. Try again in %(s)d seconds.", s=wait),
                "error",
            )
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        user = authenticate(email, form.password.data)
        if user is not None:
            clear_failures(email)
            # Employees carry the wallet abroad: 90-day remember-me unless the phone is shared.
            remember = user.role_enum is Role.EMPLOYEE and not form.shared_device.data
            if factor_required(user) and factor_count(user) > 0:
                session.clear()
                session[PENDING_LOGIN] = {
                    "user_id": user.id,
                    "remember": remember,
                    "at": int(time.time()),
                    "next": _safe_next(request.args.get("next")),
                    "tries": 0,
                }
                db.session.commit()
                return redirect(url_for("auth.login_factor"))
            return _complete_sign_in(user, remember=remember, factor=False)
        record_failure(email, find_user_by_email(email))
        forget_old_failures()
        record_audit_event("auth.login_failed", outcome="denied")
        db.session.commit()
        flash(_("Wrong email or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _complete_sign_in(
    user: User, *, remember: bool, factor: bool, next_url: str | None = None
) -> Response:
    session.clear()  # a fresh session at login (ASVS 7.2.4)
    start_sign_in(user, remember=remember)
    db.session.commit()
    login_user(user, remember=remember)
    mark_verified(factor=factor)
    if needs_enrolment(user):
        flash(
            _(
                "Your account needs a second factor. "
                "Add a passkey or an authenticator app to go on."
            ),
            "info",
        )
        return redirect(url_for("auth.security"))
    if factor_asked(user):
        flash(
            _(
                "Protect your account: add a passkey or an authenticator app "
                "under Sign-in security."
            ),
            "info",
        )
    return redirect(next_url or _safe_next(request.args.get("next")) or home_for(user.role_enum))


def _pending_user() -> tuple[User, dict] | None:
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user_id"))
    if user is None or not user.active:
        return None
    return user, pending


@bp.route("/login/factor", methods=["GET", "POST"])
@public
@failed_sign_ins_limited
def login_factor() -> Response | str | tuple[str, int]:
    """The second step of a password sign-in: an app code, a recovery code or a passkey."""
    found = _pending_user()
    if found is None:
        session.pop(PENDING_LOGIN, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        result, kind = check_code(user, form.code.data)
        if result is CodeCheck.OK:
            record_audit_event(
                "auth.factor_verified",
                message=kind.value,
                actor_id=user.id,
                actor_role=user.role,
                company_id=user.company_id,
            )
            if kind is FactorKind.RECOVERY_CODE:
                _recovery_code_used(user)
            return _complete_sign_in(
                user, remember=pending["remember"], factor=True, next_url=pending.get("next")
            )
        _factor_failed(user, result)
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= MAX_FACTOR_TRIES:
            session.pop(PENDING_LOGIN, None)
            db.session.commit()
            flash(_("Too many wrong codes. Please sign in again."), "error")
            return redirect(url_for("auth.login"))
        session[PENDING_LOGIN] = pending
        db.session.commit()
        form.code.errors.append(_code_message(result))
        status = 401
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "auth/login_factor.html",
            form=form,
            has_totp=has_totp(user),
            has_passkey=bool(passkeys_of(user)),
        ),
        status,
    )


def _code_message(result: CodeCheck) -> str:
    if result is CodeCheck.REPLAYED:
        return _("This code was already used. Wait for the next code in your app.")
    return _("That code is wrong. Check the time on your phone and try again.")


def _factor_failed(user: User, result: CodeCheck) -> None:
    record_audit_event(
        "auth.totp_replayed" if result is CodeCheck.REPLAYED else "auth.factor_failed",
        outcome="denied",
        actor_id=user.id,
        actor_role=user.role,
        company_id=user.company_id,
    )
    record_failure(user.email, user)


def _recovery_code_used(user: User) -> None:
    left = unused_recovery_codes(user)
    record_audit_event(
        "auth.recovery_code_used",
        object_type="user",
        object_id=user.id,
        message=f"{left} left",
        actor_id=user.id,
        actor_role=user.role,
        company_id=user.company_id,
    )


def _ceremony_user() -> tuple[str, User | None]:
    """Which passkey ceremony this is: a step-up of the signed-in user, the second step of a
    password sign-in, or a sign-in with a passkey alone."""
    if current_user.is_authenticated:
        return "step_up", current_user._get_current_object()
    found = _pending_user()
    if found is not None:
        return "second", found[0]
    return "sign_in", None


@bp.route("/login/passkey/options", methods=["POST"])
@public
@limiter.limit("60 per 10 minutes")
def passkey_options() -> Response:
    _context, user = _ceremony_user()
    response = make_response(authentication_options(user))
    response.mimetype = "application/json"
    return response


@bp.route("/login/passkey", methods=["POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"],
    key_func=client_address,
    deduct_when=lambda response: response.status_code != 200,
)
def passkey_sign_in() -> Response | tuple[Response, int]:
    """Verify a passkey assertion (JSON ``{"credential", "shared_device"}``); answers JSON with
    where to go next."""
    context, expected = _ceremony_user()
    body = request.get_json(silent=True)
    try:
        credential = parse_credential(body)
    except FactorError as error:
        return jsonify({"error": str(error)}), 400  # not even a credential: nothing to audit
    try:
        user = finish_authentication(credential)
        if expected is not None and user.id != expected.id:
            raise FactorError(_("This passkey was not accepted. Please try again."))
    except FactorError as error:
        db.session.rollback()
        record_audit_event(
            "auth.passkey_refused",
            outcome="denied",
            message=context,
            **({} if expected is None else {"actor_id": expected.id, "actor_role": expected.role}),
        )
        db.session.commit()
        return jsonify({"error": str(error)}), 400
    record_audit_event(
        "auth.factor_verified",
        message="passkey",
        actor_id=user.id,
        actor_role=user.role,
        company_id=user.company_id,
    )
    if context == "step_up":
        db.session.commit()
        mark_verified(factor=True)
        return jsonify(
            {"redirect": _safe_next((body or {}).get("next")) or url_for("auth.security")}
        )
    if context == "second":
        pending = session[PENDING_LOGIN]
        remember, next_url = pending["remember"], pending.get("next")
    else:
        shared = bool((body or {}).get("shared_device"))
        remember, next_url = user.role_enum is Role.EMPLOYEE and not shared, None
    response = _complete_sign_in(user, remember=remember, factor=True, next_url=next_url)
    return jsonify({"redirect": response.headers["Location"]})


@bp.route("/logout", methods=["POST"])
@roles_required(*ALL_ROLES)
def logout() -> Response:
    revoke_sign_in(current_user.get_id())
    record_audit_event("auth.logout", object_type="sign_in")
    db.session.commit()
    session.clear()  # first: logout_user() then marks the remember cookie for deletion
    logout_user()
    response = make_response(redirect(url_for("auth.login")))
    # Wipe what the phone kept (cached certificate pages, IndexedDB); docs/design.md §5.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/account")
@roles_required(*ALL_ROLES)
def account() -> str:
    return render_template(
        "auth/account.html",
        sign_ins=open_sign_ins(current_user),
        current_sign_in_id=current_user.get_id(),
        password_form=ChangePasswordForm(user=current_user._get_current_object()),
        language_form=_language_form(),
        display_form=_display_name_form(),
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
    form = ChangePasswordForm(user=current_user._get_current_object())
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
            display_form=_display_name_form(),
        ),
        400,
    )


def _display_name_form() -> DisplayNameForm | None:
    """The name employees read, for support agents and operators only (None for the others)."""
    if current_user.role not in DISPLAY_NAME_ROLES:
        return None
    return DisplayNameForm(display_name=current_user.display_name or "")


@bp.route("/account/display-name", methods=["POST"])
@roles_required(*DISPLAY_NAME_ROLES)
def change_display_name() -> Response | tuple[str, int]:
    form = DisplayNameForm()
    if form.validate_on_submit():
        set_display_name(current_user._get_current_object(), form.display_name.data)
        db.session.commit()
        flash(_("Your name is saved."), "info")
        return redirect(url_for("auth.account"))
    return (
        render_template(
            "auth/account.html",
            sign_ins=open_sign_ins(current_user),
            current_sign_in_id=current_user.get_id(),
            password_form=ChangePasswordForm(user=current_user._get_current_object()),
            language_form=_language_form(),
            display_form=form,
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


def _open_link(token: str, purpose: str) -> Response | tuple[str, int]:
    """First open of a one-time link: exchange the secret for a form bound to this browser,
    and leave the URL that carries it at once."""
    binding = open_action_token(token, purpose)
    if binding is None:
        _audit_refused_link(token, purpose)
        return render_template("auth/link_invalid.html"), 404
    session[LINK_SESSION_KEY] = binding
    db.session.commit()
    return redirect(url_for("auth.choose_password"))


def _audit_refused_link(token: str, purpose: str) -> None:
    # Only for a link that once existed (expired, used, opened elsewhere, address changed):
    # random guesses write nothing, so an anonymous client cannot fill the audit trail.
    row = find_action_token(token)
    if row is not None:
        record_audit_event(
            "auth.link_refused",
            object_type="user",
            object_id=row.user_id,
            outcome="denied",
            message=purpose,
            actor_id=None,
            company_id=row.user.company_id,
        )
        db.session.commit()


@bp.route("/invitation/<token>")
@public
@limiter.limit("30 per 10 minutes")
def accept_invitation(token: str) -> Response | tuple[str, int]:
    return _open_link(token, INVITE)


@bp.route("/reset-password/<token>")
@public
@limiter.limit("30 per 10 minutes")
def reset_password(token: str) -> Response | tuple[str, int]:
    return _open_link(token, RESET)


@bp.route("/choose-password", methods=["GET", "POST"])
@public
@limiter.limit("30 per 10 minutes", methods=["POST"])
def choose_password() -> Response | tuple[str, int]:
    """The form an opened invitation or reset link leads to (no secret in this URL)."""
    binding = session.get(LINK_SESSION_KEY)
    purpose = binding.get("purpose") if isinstance(binding, dict) else None
    row = bound_action_token(binding, purpose) if purpose in (INVITE, RESET) else None
    if row is None:
        session.pop(LINK_SESSION_KEY, None)
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm(user=row.user)
    template = "auth/accept_invitation.html" if purpose == INVITE else "auth/reset_password.html"
    if form.validate_on_submit():
        user = redeem_action_token(row, form.password.data)
        session.pop(LINK_SESSION_KEY, None)
        if user is None:
            return render_template("auth/link_invalid.html"), 404
        db.session.commit()
        if purpose == INVITE:
            # The invited person just proved the link and chose the password: signed in at
            # once, as the login form would (an employee's own phone is remembered and keeps
            # the wallet offline, unless they said the device is shared).
            flash(_("Your password is set. Welcome!"), "info")
            shared = bool(request.form.get("shared_device"))
            remember = user.role_enum is Role.EMPLOYEE and not shared
            return _complete_sign_in(user, remember=remember, factor=False)
        flash(_("Your password is set. You can sign in now."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        record_audit_event(
            "auth.password_refused",
            object_type="user",
            object_id=row.user_id,
            outcome="denied",
            actor_id=None,
            company_id=row.user.company_id,
        )
        db.session.commit()
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form), status


@bp.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit("5 per 10 minutes;20 per day", methods=["POST"])
def request_password_reset() -> Response | str | tuple[str, int]:
    form = ResetRequestForm()
    if not mail_configured():
        # Nobody could receive the link, and a link must never go to the log: refuse, and say
        # whom to ask instead.
        if request.method == "POST":
            record_audit_event("auth.reset_refused", outcome="denied", message="no mail server")
            db.session.commit()
        status = 409 if request.method == "POST" else 200
        return render_template("auth/reset_request.html", form=form, no_mail=True), status
    if form.validate_on_submit():
        # The lookup and the mail run after this answer, which is the same, and as fast,
        # whether or not the address has an account (no account enumeration).
        start_password_reset(form.email.data, select_locale())
        flash(_("If that address has an account, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form, no_mail=False)


# --- Sign-in security: passkeys, authenticator app, recovery codes, step-up ---------------------

STAFF_ROLES_WITH_TOTP = (Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR)


def _security_page(status: int = 200, **forms: object) -> tuple[str, int]:
    user = current_user._get_current_object()
    return (
        render_template(
            "auth/security.html",
            passkeys=passkeys_of(user),
            has_totp=has_totp(user),
            recovery_left=unused_recovery_codes(user),
            totp_allowed=user.role_enum in STAFF_ROLES_WITH_TOTP,
            enrolment_required=needs_enrolment(user),
            factor_required=factor_required(user),
            company=user.company if user.role_enum is Role.EMPLOYER_ADMIN else None,
            company_form=forms.get("company_form") or CompanyFactorForm(),
            remove_form=RemoveFactorForm(),
            reset_form=forms.get("reset_form") or ResetFactorsForm(),
            labels=FACTOR_LABELS,
        ),
        status,
    )


@bp.route("/account/security")
@roles_required(*ALL_ROLES)
def security() -> tuple[str, int]:
    return _security_page()


def _json_step_up() -> tuple[Response, int] | None:
    if recently_verified():
        return None
    return jsonify({"redirect": url_for("auth.step_up", next=url_for("auth.security"))}), 403


@bp.route("/account/passkeys/options", methods=["POST"])
@roles_required(*ALL_ROLES)
def passkey_register_options() -> Response | tuple[Response, int]:
    refused = _json_step_up()
    if refused:
        return refused
    response = make_response(registration_options(current_user._get_current_object()))
    response.mimetype = "application/json"
    db.session.commit()  # the user handle, made once
    return response


@bp.route("/account/passkeys", methods=["POST"])
@roles_required(*ALL_ROLES)
@limiter.limit("20 per hour")
def passkey_register() -> Response | tuple[Response, int]:
    refused = _json_step_up()
    if refused:
        return refused
    body = request.get_json(silent=True)
    user = current_user._get_current_object()
    try:
        credential = parse_credential(body)
    except FactorError as error:
        return jsonify({"error": str(error)}), 400  # not even a credential: nothing to audit
    try:
        name = body.get("name")
        finish_registration(user, credential, name if isinstance(name, str) else "")
    except FactorError as error:
        db.session.rollback()
        record_audit_event("auth.passkey_refused", outcome="denied", message="register")
        db.session.commit()
        return jsonify({"error": str(error)}), 400
    db.session.commit()
    mark_verified(factor=True)  # the new passkey just proved itself (with user verification)
    flash(_("Your passkey is saved."), "info")
    return jsonify({"redirect": url_for("auth.security")})


@bp.route("/account/passkeys/remove", methods=["POST"])
@roles_required(*ALL_ROLES)
@require_recent_factor
def passkey_remove() -> Response | tuple[str, int]:
    form = RemoveFactorForm()
    user = current_user._get_current_object()
    check = may_remove_own_factor(user)
    if not form.validate_on_submit() or not form.factor.data.isdigit():
        abort(400)
    if not check.allowed:
        record_audit_event("auth.factor_remove_refused", outcome="denied", message="last factor")
        db.session.commit()
        flash(check.reason, "error")
        return _security_page(409)
    if not remove_passkey(user, int(form.factor.data)):
        abort(404)
    db.session.commit()
    flash(_("The passkey is removed."), "info")
    return redirect(url_for("auth.security"))


@bp.route("/account/totp", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES_WITH_TOTP)
@require_recent_factor
def totp_enrol() -> Response | tuple[str, int] | str:
    user = current_user._get_current_object()
    if has_totp(user):
        return redirect(url_for("auth.security"))
    secret = session.get(TOTP_SESSION_KEY)
    if not isinstance(secret, str):
        secret = session[TOTP_SESSION_KEY] = new_totp_secret()
    form = TotpEnrolForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = enrol_totp(user, secret, form.code.data)
        except FactorError as error:
            db.session.rollback()
            record_audit_event("auth.factor_failed", outcome="denied", message="totp enrolment")
            db.session.commit()
            form.code.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            session.pop(TOTP_SESSION_KEY, None)
            mark_verified(factor=True)
            return render_template("auth/recovery_codes.html", codes=codes)
    elif request.method == "POST":
        status = 400
    uri = totp_uri(secret, user)
    return (
        render_template(
            "auth/totp_enrol.html",
            form=form,
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr=totp_qr_svg(uri, _("QR code to scan with your authenticator app")),
        ),
        status,
    )


@bp.route("/account/totp/remove", methods=["POST"])
@roles_required(*STAFF_ROLES_WITH_TOTP)
@require_recent_factor
def totp_remove() -> Response | tuple[str, int]:
    form = RemoveFactorForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    check = may_remove_own_factor(user)
    if not check.allowed:
        record_audit_event("auth.factor_remove_refused", outcome="denied", message="last factor")
        db.session.commit()
        flash(check.reason, "error")
        return _security_page(409)
    remove_totp(user)
    db.session.commit()
    flash(_("The authenticator app is removed."), "info")
    return redirect(url_for("auth.security"))


@bp.route("/account/recovery-codes", methods=["POST"])
@roles_required(*STAFF_ROLES_WITH_TOTP)
@require_recent_factor
def recovery_codes_renew() -> Response | str:
    form = RemoveFactorForm()
    user = current_user._get_current_object()
    if not form.validate_on_submit() or not has_totp(user):
        abort(400)
    codes = new_recovery_codes(user)
    record_audit_event("auth.recovery_codes_renewed", object_type="user", object_id=user.id)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/account/company-factor", methods=["POST"])
@roles_required(Role.EMPLOYER_ADMIN)
@require_recent_factor
def company_factor() -> Response | tuple[str, int]:
    form = CompanyFactorForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    if form.require.data and factor_count(user) == 0:
        flash(_("Add a passkey or an authenticator app for yourself first."), "error")
        return _security_page(409, company_form=form)
    user.company.require_second_factor = bool(form.require.data)
    record_audit_event(
        "company.second_factor_required" if form.require.data else "company.second_factor_optional",
        object_type="company",
        object_id=user.company_id,
    )
    db.session.commit()
    flash(_("The company setting is saved."), "info")
    return redirect(url_for("auth.security"))


@bp.route("/account/staff-factors/reset", methods=["POST"])
@roles_required(Role.OPERATOR)
@require_recent_factor
def staff_factors_reset() -> Response | tuple[str, int]:
    """Another operator removes a staff member's factors (lost phone, lost security key)."""
    form = ResetFactorsForm()
    if not form.validate_on_submit():
        return _security_page(400, reset_form=form)
    target = find_user_by_email(form.email.data)
    operator = current_user._get_current_object()
    if target is None or target.role_enum is Role.EMPLOYEE or target.id == operator.id:
        record_audit_event("auth.factors_reset_refused", outcome="denied")
        db.session.commit()
        form.email.errors.append(
            _("Give the address of another staff member (not an employee, not yourself).")
        )
        return _security_page(400, reset_form=form)
    reset_factors(operator, target)
    db.session.commit()
    flash(_("Their second factors are removed; they set up a new one at the next sign-in."), "info")
    return redirect(url_for("auth.security"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
@limiter.limit("30 per 10 minutes", methods=["POST"])
def step_up() -> Response | tuple[str, int]:
    """Prove it is you again: app code, recovery code or passkey; the password when the
    account has no second factor."""
    user = current_user._get_current_object()
    next_url = _safe_next(request.args.get("next")) or url_for("auth.security")
    uses_factor = factor_count(user) > 0
    form = CodeForm() if uses_factor else ConfirmPasswordForm()
    status = 200
    if form.validate_on_submit():
        if uses_factor:
            result, kind = check_code(user, form.code.data)
            ok = result is CodeCheck.OK
        else:
            ok = authenticate(user.email, form.password.data) is not None
            result, kind = (CodeCheck.OK if ok else CodeCheck.WRONG), None
        if ok:
            record_audit_event("auth.step_up", message=kind.value if kind else "password")
            if kind is FactorKind.RECOVERY_CODE:
                _recovery_code_used(user)
            db.session.commit()
            mark_verified(factor=uses_factor)
            return redirect(next_url)
        _factor_failed(user, result)
        db.session.commit()
        field = form.code if uses_factor else form.password
        field.errors.append(_code_message(result) if uses_factor else _("The password is wrong."))
        status = 401
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "auth/step_up.html",
            form=form,
            uses_factor=uses_factor,
            has_totp=has_totp(user),
            has_passkey=bool(passkeys_of(user)),
            next_url=next_url,
        ),
        status,
    )


bp.before_app_request(enrolment_gate)


@bp.after_app_request
def _mark_offline_copies(response: Response) -> Response:
    """Tell the service worker which answers it may keep for offline use: personal pages only
    for an employee's own phone (remember-me), never on a shared device."""
    if (
        response.status_code == 200
        and OFFLINE_KEEPABLE.match(request.path)
        and current_user.is_authenticated
        and current_user.role_enum is Role.EMPLOYEE
    ):
        sign_in = db.session.get(SignIn, current_user.get_id())
        if sign_in is not None and sign_in.remember:
            response.headers["X-A1W-Offline"] = "keep"
    return response

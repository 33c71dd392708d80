"""Forgot password: the lookup and the mail run after the answer, in the background.

The page answers at once and in the same way whether or not the address has an account, so
neither its words nor its timing tell an attacker which addresses exist. Without a mail server
a reset is refused outright (nobody could receive the link, and it must never go to the log).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from web.audit import record_audit_event
from web.auth.services import RESET, find_user_by_email, issue_action_token, may_request_reset
from web.extensions import db
from web.mail import send_mail
from web.urls import public_url

log = logging.getLogger("a1wallet.auth")

# Two threads: enough for a human-paced form that is limited to 5 requests per 10 minutes.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-reset")
_pending: set[Future] = set()
_lock = threading.Lock()


def start_password_reset(email: str, locale: str) -> None:
    """Queue the reset for ``email`` and return at once; ``locale`` is the page's language, for
    an account that has not chosen one."""
    app = current_app._get_current_object()
    future = _executor.submit(_reset_in_background, app, email, locale)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait_for_pending_resets(timeout: float = 10) -> None:
    """Block until every queued reset has run (tests, and a clean shutdown)."""
    with _lock:
        futures = set(_pending)
    wait(futures, timeout=timeout)


def _reset_in_background(app: Flask, email: str, locale: str) -> None:
    # A request context of our own: translations, and links built from PUBLIC_BASE_URL.
    with app.test_request_context("/"):
        try:
            send_reset_link(email, locale)
        except Exception:
            db.session.rollback()
            # Never the address or the link: only that it failed, and why.
            log.exception("password reset could not be completed")


def send_reset_link(email: str, locale: str) -> None:
    """Issue a reset link for an active account with this address and mail it; nothing for an
    unknown or inactive address; a refusal (audited) when the account asked too often."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    if not may_request_reset(user):
        record_audit_event(
            "auth.reset_limited",
            object_type="user",
            object_id=user.id,
            outcome="denied",
            actor_id=None,
            company_id=user.company_id,
        )
        db.session.commit()
        return
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
    with force_locale(user.locale or locale):
        send_mail(
            user.email,
            _("Reset your A1 Wallet password"),
            _(
                "Open this link to choose a new password (valid %(hours)d hours):\n%(link)s",
                hours=current_app.config["PASSWORD_RESET_HOURS"],
                link=public_url("auth.reset_password", token=token),
            ),
            template="password_reset",
        )

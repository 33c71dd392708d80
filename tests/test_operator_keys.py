"""The operator's signing-keys page (issue 15, points 3 and 6): each key with its class, state and
dates in words and the certificates in use it signed; rotate, retire, revoke and re-sign through
the same services as `flask keys …`, each a CSRF POST for operators only, after a recent second
factor, audited with the actor and the reason; bad input answers 4xx with a message."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.helpers import (
    csrf_token,
    post_form,
    recorded_statements,
    status_via_published_lists,
)
from web.certificates.keys import (
    SigningKeyError,
    active_signing_key,
    create_signing_key,
    live_certificate_counts,
    revoke_key,
    rotate_keys,
)
from web.certificates.services import CertificateInput, issue_provisional_certificate
from web.extensions import db
from web.i18n import format_day
from web.models import (
    AuditEvent,
    Certificate,
    CertificateKind,
    CertificateStatus,
    Employee,
    KeyState,
    Role,
    SigningKey,
    User,
)

TODAY = date.today()
OPERATOR = "olivia.ops@example.com"


@pytest.fixture
def operator(app, data, client) -> int:
    user_id = data.user(Role.OPERATOR, email=OPERATOR)
    assert AuthActions(client).login(OPERATOR).status_code == 302
    return user_id


@pytest.fixture
def employee_id(data) -> int:
    return data.employee(data.company("Keys GmbH"))


def _issue(app, employee_id: int, start: date | None = None, end: date | None = None) -> str:
    with app.app_context():
        cert = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput("A1", "DE", ["FR"], start or TODAY, end or TODAY + timedelta(days=30)),
            actor=None,
        )
        db.session.commit()
        return cert.id


def _signing_kid(app, document_class: str = "provisional") -> str:
    with app.app_context():
        kid = active_signing_key(document_class).kid
        db.session.commit()
        return kid


def _key(app, kid: str) -> SigningKey:
    with app.app_context():
        key = db.session.get(SigningKey, kid)
        db.session.expunge(key)
        return key


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for event in events:
            db.session.expunge(event)
        return list(events)


def _post(client, path: str, form: dict[str, str]):
    return post_form(client, path, form, token_from="/operator/keys")


def _row(html: str, kid: str) -> str:
    """The table row of one key."""
    match = re.search(rf'<tr>\s*<th scope="row" id="key-{kid}">.*?</tr>', html, re.S)
    assert match, f"no row for {kid}"
    return match.group(0)


def _count_in_row(html: str, kid: str) -> int:
    match = re.search(r'<td class="key-count">\s*(\d+)', _row(html, kid))
    assert match
    return int(match.group(1))


# --- the list ---------------------------------------------------------------------------------


def test_the_page_lists_every_key_in_words_with_its_certificates_in_use(
    app, client, data, operator, employee_id
):
    in_use = [_issue(app, employee_id), _issue(app, employee_id, start=TODAY + timedelta(days=9))]
    _issue(app, employee_id, TODAY - timedelta(days=30), TODAY - timedelta(days=1))  # ended
    withdrawn = _issue(app, employee_id)
    with app.app_context():
        from web.certificates.services import revoke_certificate

        revoke_certificate(db.session.get(Certificate, withdrawn), "trip cancelled", actor=None)
        first = db.session.get(Certificate, in_use[0]).signing_kid
        _new, _old = rotate_keys("provisional")
        db.session.commit()
        second = _new.kid
        published = create_signing_key("official", activate=False).kid
        db.session.commit()
    _issue(app, employee_id)  # signed by the second provisional key
    official = data.certificate(employee_id, kind="official")  # signed by the official key
    official_kid = official.signing_kid

    html = client.get("/operator/keys").get_data(as_text=True)
    counts = {kid: _count_in_row(html, kid) for kid in (first, second, official_kid, published)}
    assert counts == {first: 2, second: 1, official_kid: 1, published: 0}
    # States and classes in words, from the one definition next to the enums.
    chip = '<span class="chip chip-key-{}">{}</span>'
    assert chip.format("retired", "Retired") in _row(html, first)
    assert chip.format("active", "Signing") in _row(html, second)
    assert chip.format("published", "Published") in _row(html, published)
    assert "Provisional statements" in _row(html, first)
    assert "Official certificates" in _row(html, official_kid)
    # Dates with the month in words (the app's |day filter).
    with app.test_request_context():
        today_words = format_day(TODAY)
    assert re.search(r"[A-Z][a-z]{2}", today_words)
    assert f"Created {today_words}" in _row(html, first)
    assert f"Retired {today_words}" in _row(html, first)
    assert f"Signing from {today_words}" in _row(html, second)
    # Each state offers what it allows.
    assert "Rotate" in _row(html, second) and "Retire" not in _row(html, second)
    assert "Retire" in _row(html, published) and "Rotate" not in _row(html, published)
    assert "Revoke" in _row(html, first) and "Re-sign" not in _row(html, first)
    # No inline label table left in the template.
    assert ">published<" not in html and ">active<" not in html


def test_the_counts_come_from_one_grouped_query(app, client, operator, employee_id):
    for _ in range(3):
        _issue(app, employee_id)
        with app.app_context():
            rotate_keys("provisional")
            db.session.commit()
    with recorded_statements(app) as statements:
        html = client.get("/operator/keys").get_data(as_text=True)
    assert html.count('<td class="key-count">') == 4
    counting = [s for s in statements if "signing_kid" in s and "count(" in s.lower()]
    assert len(counting) == 1, counting
    assert "GROUP BY" in counting[0].upper()


def test_live_certificate_counts_leave_out_what_is_not_in_use(app, data, employee_id):
    kept = _issue(app, employee_id)
    _issue(app, employee_id, TODAY - timedelta(days=20), TODAY - timedelta(days=1))
    pending = data.certificate(employee_id, kind="official")
    with app.app_context():
        db.session.get(Certificate, pending.id).status = CertificateStatus.PENDING_REVIEW.value
        db.session.commit()
        kid = db.session.get(Certificate, kept).signing_kid
        assert live_certificate_counts(TODAY) == {kid: 1}
        # The day after the last day, nothing is in use any more.
        assert live_certificate_counts(TODAY + timedelta(days=31)) == {}


def test_the_page_is_in_the_readers_language(app, client, operator, employee_id):
    _issue(app, employee_id)
    kid = _signing_kid(app)
    post_form(client, "/language", {"lang": "fr"}, token_from="/operator/keys")
    html = client.get("/operator/keys").get_data(as_text=True)
    with app.test_request_context(), force_locale("fr"):
        signing = KeyState.ACTIVE.label
        documents = CertificateKind.PROVISIONAL.signing_class_label
        created = format_day(TODAY)
    assert signing != "Signing" and documents != "Provisional statements"
    row = _row(html, kid)
    assert signing in row and documents in row and created in row
    assert "Signing" not in row and "Rotate" not in row and "Revoke" not in row


def test_every_state_and_class_has_words():
    assert {state: bool(state.label) for state in KeyState} == dict.fromkeys(KeyState, True)
    assert all(kind.signing_class_label for kind in CertificateKind)


# --- the sub-navigation -----------------------------------------------------------------------


def test_keys_and_reviews_share_a_sub_navigation_with_the_queue_size(
    app, client, data, operator, employee_id
):
    for _ in range(2):
        cert = data.certificate(employee_id, kind="official")
        with app.app_context():
            db.session.get(Certificate, cert.id).status = CertificateStatus.PENDING_REVIEW.value
            db.session.commit()
    for path, current in (
        ("/operator/keys", "Signing keys"),
        ("/operator/reviews", "Certificates to check"),
    ):
        html = client.get(path).get_data(as_text=True)
        nav = re.search(r'<nav class="subnav".*?</nav>', html, re.S).group(0)
        assert 'href="/operator/keys"' in nav and 'href="/operator/reviews"' in nav
        assert "2 waiting" in nav
        assert re.search(rf'aria-current="page">{current}', nav), path


def test_a_support_agent_with_the_review_right_sees_the_reviews_only(app, client, data):
    agent = data.user(Role.SUPPORT, email="sam.support@example.com")
    with app.app_context():
        db.session.get(User, agent).can_review_certificates = True
        db.session.commit()
    AuthActions(client).login("sam.support@example.com")
    html = client.get("/operator/reviews").get_data(as_text=True)
    nav = re.search(r'<nav class="subnav".*?</nav>', html, re.S).group(0)
    assert 'href="/operator/reviews"' in nav and "/operator/keys" not in nav
    assert client.get("/operator/keys").status_code == 403


# --- rotate -----------------------------------------------------------------------------------


def test_rotate_from_the_page(app, client, operator):
    old = _signing_kid(app, "official")
    other = _signing_kid(app, "provisional")
    response = _post(
        client,
        "/operator/keys/rotate",
        {"kid": old, "document_class": "official", "reason": "yearly rotation"},
    )
    assert response.status_code == 302
    page = client.get("/operator/keys").get_data(as_text=True)
    with app.app_context():
        new = active_signing_key("official").kid
    assert new != old
    assert f"Official certificates: the new key {new} signs from now on." in page
    assert _key(app, old).state == "retired" and _key(app, other).state == "active"
    (event,) = _events(app, "key.rotated")
    assert (event.actor_id, event.object_id) == (operator, new)
    assert event.message == f"official: replaces {old}; why: yearly rotation"


def test_a_second_rotate_from_a_stale_page_changes_nothing(app, client, operator):
    old = _signing_kid(app, "provisional")
    form = {"kid": old, "document_class": "provisional", "reason": ""}
    assert _post(client, "/operator/keys/rotate", form).status_code == 302
    again = _post(client, "/operator/keys/rotate", form)
    assert again.status_code == 409
    assert "This key no longer signs" in again.get_data(as_text=True)
    assert len(_events(app, "key.rotated")) == 1
    assert len(_events(app, "key.rotate_refused")) == 1


def test_rotate_refuses_an_unknown_class(app, client, operator):
    kid = _signing_kid(app)
    response = _post(
        client, "/operator/keys/rotate", {"kid": kid, "document_class": "authority", "reason": ""}
    )
    assert response.status_code == 422
    assert "is not a document class" in response.get_data(as_text=True)
    assert _key(app, kid).state == "active"


# --- retire -----------------------------------------------------------------------------------


def test_retire_a_published_key(app, client, operator):
    with app.app_context():
        kid = create_signing_key("provisional", activate=False).kid
        db.session.commit()
    response = _post(client, "/operator/keys/retire", {"kid": kid, "reason": "never needed"})
    assert response.status_code == 302
    assert f"Key {kid} is retired" in client.get("/operator/keys").get_data(as_text=True)
    assert _key(app, kid).state == "retired"
    (event,) = _events(app, "key.retired")
    assert (event.actor_id, event.message) == (operator, "why: never needed")


def test_retiring_the_signing_key_or_an_unknown_one_is_refused(app, client, operator):
    kid = _signing_kid(app)
    active = _post(client, "/operator/keys/retire", {"kid": kid, "reason": ""})
    assert active.status_code == 409
    assert "rotate instead" in active.get_data(as_text=True)
    assert _key(app, kid).state == "active"
    unknown = _post(client, "/operator/keys/retire", {"kid": "00000000000000ff", "reason": ""})
    assert unknown.status_code == 422
    assert "No signing key has the id “00000000000000ff”." in unknown.get_data(as_text=True)


# --- revoke -----------------------------------------------------------------------------------


def test_revoke_needs_a_reason_and_says_so_beside_the_field(app, client, operator):
    kid = _signing_kid(app)
    response = _post(client, "/operator/keys/revoke", {"kid": kid, "reason": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="revoke-{kid}-reason-error">([^<]+)</p>', html)
    assert error and error.group(1) == "Say why the key is revoked."
    assert f'id="revoke-{kid}-reason"' in html and 'aria-invalid="true"' in html
    assert _key(app, kid).state == "active"
    assert _events(app, "key.revoked") == []


def test_revoke_from_the_page(app, client, operator, employee_id):
    certificate_id = _issue(app, employee_id)
    kid = _signing_kid(app)
    response = _post(client, "/operator/keys/revoke", {"kid": kid, "reason": "laptop stolen"})
    assert response.status_code == 302
    html = client.get("/operator/keys").get_data(as_text=True)
    with app.app_context():
        new = active_signing_key("provisional").kid
    assert f"Key {kid} is revoked: nothing it signed verifies any more." in html
    assert f"The new key {new} signs in its place." in html
    key = _key(app, kid)
    assert (key.state, key.revocation_reason) == ("revoked", "laptop stolen")
    (event,) = _events(app, "key.revoked")
    assert (event.actor_id, event.message) == (operator, "why: laptop stolen")
    # Its row now offers the re-signing, and says the certificate does not verify.
    row = _row(html, kid)
    assert "Re-sign with the new key" in row and "It does not verify" in row
    assert status_via_published_lists(client, app, certificate_id) == "key_revoked"


def test_revoking_a_revoked_or_unknown_key_is_refused(app, client, operator):
    kid = _signing_kid(app)
    assert _post(client, "/operator/keys/revoke", {"kid": kid, "reason": "x"}).status_code == 302
    again = _post(client, "/operator/keys/revoke", {"kid": kid, "reason": "x"})
    assert again.status_code == 409
    assert f"Key {kid} is already revoked." in again.get_data(as_text=True)
    unknown = _post(client, "/operator/keys/revoke", {"kid": "nonsense", "reason": "x"})
    assert unknown.status_code == 422
    assert "No signing key has the id" in unknown.get_data(as_text=True)
    assert len(_events(app, "key.revoked")) == 1
    assert len(_events(app, "key.revoke_refused")) == 2


def test_the_service_and_the_command_line_need_a_reason_too(app, runner):
    kid = _signing_kid(app)
    with app.app_context(), pytest.raises(SigningKeyError) as refused:
        revoke_key(kid, "")
    assert refused.value.field == "reason"
    assert runner.invoke(args=["keys", "revoke", kid]).exit_code == 2  # --reason is required
    assert _key(app, kid).state == "active"


# --- re-sign ----------------------------------------------------------------------------------


def test_resign_from_the_page_makes_the_certificates_verify_again(
    app, client, data, operator, employee_id
):
    in_use = [_issue(app, employee_id), _issue(app, employee_id)]
    official = data.certificate(employee_id, kind="official")
    kid = _signing_kid(app)
    # The signing key cannot be re-signed from: revoke it first.
    refused = _post(client, "/operator/keys/resign", {"kid": kid})
    assert refused.status_code == 409
    assert "revoke it or rotate first" in refused.get_data(as_text=True)
    _post(client, "/operator/keys/revoke", {"kid": kid, "reason": "leaked"})
    assert [status_via_published_lists(client, app, c) for c in in_use] == ["key_revoked"] * 2

    response = _post(client, "/operator/keys/resign", {"kid": kid})
    assert response.status_code == 302
    html = client.get("/operator/keys").get_data(as_text=True)
    with app.app_context():
        new = active_signing_key("provisional").kid
    assert f"2 certificates signed by key {kid} are signed again by key {new}" in html
    assert [status_via_published_lists(client, app, c) for c in in_use] == ["valid"] * 2
    assert status_via_published_lists(client, app, official.id) == "valid"  # other class untouched
    assert _count_in_row(html, kid) == 0 and _count_in_row(html, new) == 2
    (event,) = _events(app, "key.resigned")
    assert (event.actor_id, event.object_id) == (operator, kid)
    assert event.message == f"2 certificates signed again by {new}"
    assert {e.actor_id for e in _events(app, "certificate.resigned")} == {operator}
    # Nothing left: said so, still a success.
    _post(client, "/operator/keys/resign", {"kid": kid})
    assert "Nothing to re-sign" in client.get("/operator/keys").get_data(as_text=True)


def test_resign_by_the_command_line_is_audited_as_the_command_line(app, runner, employee_id):
    _issue(app, employee_id)
    kid = _signing_kid(app)
    assert runner.invoke(args=["keys", "revoke", kid, "--reason", "drill"]).exit_code == 0
    assert runner.invoke(args=["keys", "resign", kid]).exit_code == 0
    (event,) = _events(app, "key.resigned")
    assert (event.actor_id, event.actor_role) == (None, "cli")


# --- who may, and how -------------------------------------------------------------------------

ACTIONS = {
    "/operator/keys/rotate": {"document_class": "provisional"},
    "/operator/keys/retire": {},
    "/operator/keys/revoke": {"reason": "test"},
    "/operator/keys/resign": {},
}


@pytest.mark.parametrize("role", ["employer_admin", "employee", "support", "support_reviewer"])
def test_only_operators_reach_the_page_and_its_actions(app, client, data, role):
    kid = _signing_kid(app)
    company = data.company()
    if role == "employee":
        email = data.email_of_employee(data.employee(company))
    else:
        email = f"{role}@example.com"
        enum_role = Role.EMPLOYER_ADMIN if role == "employer_admin" else Role.SUPPORT
        user_id = data.user(enum_role, company if role == "employer_admin" else None, email=email)
        with app.app_context():
            db.session.get(User, user_id).can_review_certificates = role == "support_reviewer"
            db.session.commit()
    AuthActions(client).login(email)
    token = csrf_token(client, "/account" if role != "employee" else "/wallet/settings")
    assert client.get("/operator/keys").status_code == 403
    for path, extra in ACTIONS.items():
        response = client.post(path, data={"kid": kid, "csrf_token": token, **extra})
        assert response.status_code == 403, (path, response.status_code)
    assert _key(app, kid).state == "active"
    assert [e.action for e in _events(app, "key.rotated")] == []


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    kid = _signing_kid(app)
    assert client.get("/operator/keys").headers["Location"].startswith("/login")
    token = csrf_token(client, "/login")
    response = client.post(
        "/operator/keys/revoke", data={"kid": kid, "reason": "x", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _key(app, kid).state == "active"


@pytest.mark.parametrize("path", list(ACTIONS))
def test_every_action_needs_the_csrf_token(app, client, operator, path):
    kid = _signing_kid(app)
    response = client.post(path, data={"kid": kid, **ACTIONS[path]})
    assert response.status_code == 400
    assert _key(app, kid).state == "active"
    with app.app_context():
        assert db.session.scalar(select(sa.func.count()).select_from(SigningKey)) == 1


@pytest.mark.parametrize("path", list(ACTIONS))
def test_every_action_asks_for_the_second_factor_again_after_10_minutes(
    app, client, operator, path
):
    kid = _signing_kid(app)
    token = csrf_token(client, "/operator/keys")
    with client.session_transaction() as session:
        session["verified_at"] = int(time.time()) - 11 * 60
    response = client.post(
        path,
        data={"kid": kid, "csrf_token": token, **ACTIONS[path]},
        headers={"Referer": "http://localhost/operator/keys"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/confirm?next=/operator/keys")
    assert _key(app, kid).state == "active"
    with app.app_context():
        assert db.session.scalar(select(sa.func.count()).select_from(SigningKey)) == 1


# --- the confirm dialog's markup --------------------------------------------------------------


def test_irreversible_actions_are_forms_with_a_dialog_and_work_without_script(
    app, client, operator
):
    kid = _signing_kid(app)
    html = client.get("/operator/keys").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="/operator/keys/revoke" class="confirm-form" data-confirm>'
        r".*?</form>",
        _row(html, kid),
        re.S,
    ).group(0)
    assert re.search(r'name="csrf_token" value="[^"]+"', form)
    assert f'<input type="hidden" name="kid" value="{kid}">' in form
    # Without JS the button submits the form with the reason typed beside it.
    assert re.search(
        rf'<input id="revoke-{kid}-reason" name="reason" type="text"[^>]* required', form
    )
    assert re.search(r'<button type="submit" class="button danger" data-confirm-open', form)
    # With JS it opens a dialog named by its title, described by what will happen.
    dialog = re.search(r"<dialog .*?</dialog>", form, re.S).group(0)
    assert f'aria-labelledby="revoke-{kid}-title"' in dialog
    assert f'<h2 id="revoke-{kid}-title">Revoke key {kid}?</h2>' in dialog
    assert f'aria-describedby="revoke-{kid}-body"' in dialog
    assert "data-confirm-cancel" in dialog and "Revoke the key" in dialog
    assert '/static/js/confirm.js"' in html

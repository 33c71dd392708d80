"""Signing keys: encryption at rest, document classes, rotation, retirement, revocation, the
published lists, and the migration that gave keys a class."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

import verifier
from app import create_app
from tests.conftest import base_config
from tests.helpers import empty_database, status_via_published_lists
from web.certificates.keys import (
    SigningKeyError,
    active_signing_key,
    private_key_of,
    retire_key,
    revoke_key,
    rotate_keys,
    trust_list_document,
)
from web.certificates.services import (
    CertificateInput,
    issue_provisional_certificate,
    sign_certificate,
)
from web.extensions import db
from web.models import AuditEvent, Certificate, CertificateStatus, Employee, SigningKey

TODAY = date.today()


@pytest.fixture
def employee_id(data):
    return data.employee(data.company())


def _issue(app, employee_id, days=30) -> str:
    with app.app_context():
        cert = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput("A1", "DE", ["FR"], TODAY, TODAY + timedelta(days=days)),
            actor=None,
        )
        db.session.commit()
        return cert.id


def test_first_use_creates_one_active_key(app):
    with app.app_context():
        assert db.session.scalar(select(SigningKey)) is None
        key = active_signing_key("provisional")
        db.session.commit()
        assert key.state == "active" and key.activated_at is not None
        assert key.document_class == "provisional"
        assert active_signing_key("provisional").kid == key.kid
        assert len(db.session.scalars(select(SigningKey)).all()) == 1


def test_each_document_class_has_its_own_active_key(app, client):
    with app.app_context():
        provisional = active_signing_key("provisional")
        official = active_signing_key("official")  # the first of its class, made on demand
        db.session.commit()
        assert provisional.kid != official.kid
        assert (official.document_class, official.state) == ("official", "active")
        assert active_signing_key("official").kid == official.kid
        assert active_signing_key("provisional").kid == provisional.kid
        with pytest.raises(SigningKeyError, match="document class"):
            active_signing_key("authority")
        provisional_kid, official_kid = provisional.kid, official.kid
    # The trust list publishes each key's class.
    listed = {k["kid"]: k["document_class"] for k in client.get("/verify/keys.json").json["keys"]}
    assert listed == {provisional_kid: "provisional", official_kid: "official"}


def test_the_register_kinds_are_the_verifier_kinds():
    from web.certificates.keys import DOCUMENT_CLASSES
    from web.models import CertificateKind

    assert DOCUMENT_CLASSES == verifier.KINDS
    assert {kind.value for kind in CertificateKind} == set(verifier.KINDS)


def _signed_official(app, data, employee_id) -> str:
    """An official certificate in use, signed as a reviewer's confirmation signs it."""
    certificate_id = data.certificate(employee_id, kind="official").id
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        certificate.status = CertificateStatus.ACTIVE.value
        sign_certificate(certificate)
        db.session.commit()
    return certificate_id


def test_official_and_provisional_certificates_are_signed_by_their_class_key(
    app, client, data, employee_id
):
    provisional_id = _issue(app, employee_id)
    official_id = _signed_official(app, data, employee_id)
    with app.app_context():
        provisional = db.session.get(Certificate, provisional_id)
        official = db.session.get(Certificate, official_id)
        assert db.session.get(SigningKey, provisional.signing_kid).document_class == "provisional"
        assert db.session.get(SigningKey, official.signing_kid).document_class == "official"
        assert provisional.signing_kid != official.signing_kid
    # A third party with the published lists: both valid, each with its own key.
    assert status_via_published_lists(client, app, provisional_id) == "valid"
    assert status_via_published_lists(client, app, official_id) == "valid"


def test_signing_with_a_key_of_the_other_class_raises_and_signs_nothing(
    app, data, employee_id, monkeypatch
):
    official_id = data.certificate(employee_id, kind="official").id
    with app.app_context():
        provisional_key = active_signing_key("provisional")
        db.session.commit()
        certificate = db.session.get(Certificate, official_id)
        before = (certificate.qr_text, certificate.signing_kid)
        # Whatever hands the signer the wrong key, it refuses rather than sign.
        monkeypatch.setattr(
            "web.certificates.services.active_signing_key", lambda _kind: provisional_key
        )
        with pytest.raises(SigningKeyError, match="signs provisional certificates"):
            sign_certificate(certificate)
        assert (certificate.qr_text, certificate.signing_kid) == before


def test_only_the_active_key_signs(app, data, employee_id, monkeypatch):
    certificate_id = _issue(app, employee_id)
    with app.app_context():
        _new, old = rotate_keys("provisional")
        db.session.commit()
        monkeypatch.setattr("web.certificates.services.active_signing_key", lambda _kind: old)
        with pytest.raises(SigningKeyError, match="only the active key signs"):
            sign_certificate(db.session.get(Certificate, certificate_id))


def test_private_key_is_encrypted_at_rest(app):
    with app.app_context():
        key = active_signing_key("provisional")
        db.session.commit()
        private_der = private_key_of(key).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        assert private_der not in key.private_key_encrypted
        assert private_der[-32:] not in key.private_key_encrypted
    # Another key-encryption key cannot open it.
    app.config["KEY_ENCRYPTION_KEY"] = "A" * 43
    with app.app_context(), pytest.raises(Exception) as raised:
        private_key_of(db.session.get(SigningKey, key.kid))
    assert type(raised.value).__name__ == "InvalidTag"


def test_keys_json_has_no_private_material_and_caches(app, client, employee_id, caplog):
    caplog.set_level(logging.DEBUG)
    _issue(app, employee_id)
    response = client.get("/verify/keys.json")
    body = response.get_data(as_text=True)
    doc = json.loads(body)
    assert [k["state"] for k in doc["keys"]] == ["active"]
    assert "private" not in body.lower()
    assert response.headers["ETag"] and "max-age=" in response.headers["Cache-Control"]
    again = client.get("/verify/keys.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    with app.app_context():
        encrypted = db.session.scalar(select(SigningKey.private_key_encrypted))
    assert encrypted.hex() not in caplog.text
    revoked = client.get("/verify/revoked.json")
    assert revoked.json == {"format": "A1W1", "certificates": [], "keys": []}
    assert revoked.headers["ETag"]


def test_rotation_keeps_old_certificates_valid(app, client, employee_id):
    old_cert = _issue(app, employee_id)
    with app.app_context():
        old_kid = db.session.get(Certificate, old_cert).signing_kid
        new_key, retired = rotate_keys("provisional")
        db.session.commit()
        new_kid = new_key.kid
        assert retired.kid == old_kid and retired.state == "retired" and retired.retired_at
    new_cert = _issue(app, employee_id)
    with app.app_context():
        assert db.session.get(Certificate, new_cert).signing_kid == new_kid
    assert status_via_published_lists(client, app, old_cert) == "valid"
    assert status_via_published_lists(client, app, new_cert) == "valid"
    states = {k["kid"]: k["state"] for k in client.get("/verify/keys.json").json["keys"]}
    assert states == {old_kid: "retired", new_kid: "active"}


def test_retired_key_leaves_the_trust_list_after_its_certificates_expire(app, employee_id):
    cert_id = _issue(app, employee_id, days=5)
    with app.app_context():
        old_kid = db.session.get(Certificate, cert_id).signing_kid
        rotate_keys("provisional")
        db.session.commit()
        kids = [k["kid"] for k in trust_list_document(TODAY + timedelta(days=6))["keys"]]
        assert old_kid in kids  # the last day still holds somewhere on Earth
        kids = [k["kid"] for k in trust_list_document(TODAY + timedelta(days=7))["keys"]]
        assert old_kid not in kids


def test_revoked_key_never_verifies_again(app, client, employee_id, tmp_path, database_url):
    cert_id = _issue(app, employee_id)
    with app.app_context():
        kid = db.session.get(Certificate, cert_id).signing_kid
        revoke_key(kid, "private key leaked")
        db.session.commit()
        # The revoked active key was replaced: new certificates are signed again.
        assert active_signing_key("provisional").kid != kid
    assert status_via_published_lists(client, app, cert_id) == "key_revoked"
    assert kid in client.get("/verify/revoked.json").json["keys"]
    assert kid not in {k["kid"] for k in client.get("/verify/keys.json").json["keys"]}
    # A stale copy of keys.json that still lists the key does not bring it back.
    with app.app_context():
        text = db.session.get(Certificate, cert_id).qr_text
    stale_keys = verifier.KeySet.from_document(
        {
            "format": "A1W1",
            "keys": [
                verifier.public_key_document_entry(
                    serialization.load_der_public_key(db_public_key(app, kid)),
                    "active",
                    verifier.parse_utc("2026-01-01T00:00:00Z"),
                    None,
                    document_class="provisional",
                )
            ],
        }
    )
    fresh_revoked = verifier.RevocationSet.from_document(client.get("/verify/revoked.json").json)
    assert verifier.verify_qr_text(text, stale_keys, fresh_revoked).status == "key_revoked"
    # After a restart (a new app on the same database) it is still revoked.
    restarted = create_app({**base_config(tmp_path / "restart", database_url)})
    assert status_via_published_lists(restarted.test_client(), restarted, cert_id) == "key_revoked"
    with restarted.app_context(), pytest.raises(SigningKeyError):
        retire_key(kid)


def db_public_key(app, kid) -> bytes:
    with app.app_context():
        return db.session.get(SigningKey, kid).public_key_der


def test_cannot_retire_the_active_key(app):
    with app.app_context():
        key = active_signing_key("official")
        db.session.commit()
        with pytest.raises(SigningKeyError, match="rotate instead"):
            retire_key(key.kid)
        with pytest.raises(SigningKeyError, match="No signing key"):
            retire_key("0000000000000000")


def _listed(runner) -> dict[str, tuple[str, str]]:
    """`keys list` as {kid: (document class, state)}."""
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    return {kid: (document_class, state) for kid, document_class, state, *_dates in lines}


def test_cli_keys(runner, app, employee_id):
    listed = _listed(runner)  # the first key of each class, published before it ever signs
    assert sorted(listed.values()) == [("official", "active"), ("provisional", "active")]
    first = next(kid for kid, (cls, _state) in listed.items() if cls == "provisional")
    official = next(kid for kid, (cls, _state) in listed.items() if cls == "official")
    rotated = runner.invoke(args=["keys", "rotate", "--class", "provisional"])
    assert rotated.exit_code == 0
    report = json.loads(rotated.output)
    assert report["retired"] == first and report["document_class"] == "provisional"
    # The official key was not touched by the provisional rotation.
    assert _listed(runner)[official] == ("official", "active")
    assert runner.invoke(args=["keys", "retire", first]).exit_code == 0
    revoked = runner.invoke(args=["keys", "revoke", first, "--reason", "drill"])
    assert revoked.exit_code == 0 and "\tprovisional\trevoked\t" in revoked.output
    assert runner.invoke(args=["keys", "retire", first]).exit_code == 2
    assert runner.invoke(args=["keys", "revoke", "nonsense"]).exit_code == 2
    final = _listed(runner)
    assert sorted(v for v in final.values() if v[1] == "active") == [
        ("official", "active"),
        ("provisional", "active"),
    ]


def test_cli_rotation_is_per_class(runner, app):
    listed = _listed(runner)
    provisional = next(kid for kid, (cls, _s) in listed.items() if cls == "provisional")
    official = next(kid for kid, (cls, _s) in listed.items() if cls == "official")
    # Which class is never guessed.
    missing = runner.invoke(args=["keys", "rotate"])
    assert missing.exit_code == 2 and "--class" in missing.output
    wrong = runner.invoke(args=["keys", "rotate", "--class", "authority"])
    assert wrong.exit_code == 2
    rotated = runner.invoke(args=["keys", "rotate", "--class", "official"])
    assert rotated.exit_code == 0, rotated.output
    report = json.loads(rotated.output)
    assert report["document_class"] == "official" and report["retired"] == official
    after = _listed(runner)
    assert after[official] == ("official", "retired")
    assert after[report["active"]] == ("official", "active")
    assert after[provisional] == ("provisional", "active")
    with app.app_context():
        audited = db.session.scalars(
            select(AuditEvent.message).where(AuditEvent.action == "key.rotated")
        ).all()
    assert audited == [f"official: replaces {official}"]


def test_resign_after_compromise_gives_certificates_in_use_a_valid_signature(
    app, client, runner, employee_id
):
    in_use = _issue(app, employee_id)
    with app.app_context():
        ended = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput(
                "A1", "DE", ["FR"], TODAY - timedelta(days=9), TODAY - timedelta(days=1)
            ),
            actor=None,
        ).id
        db.session.commit()
    withdrawn = _issue(app, employee_id)
    with app.app_context():
        from web.certificates.services import revoke_certificate

        kid = db.session.get(Certificate, in_use).signing_kid
        cert = db.session.get(Certificate, withdrawn)
        revoke_certificate(cert, "trip cancelled", actor=None)
        db.session.commit()
    assert runner.invoke(args=["keys", "resign", kid]).exit_code == 2  # the active key: refused
    assert runner.invoke(args=["keys", "revoke", kid, "--reason", "leaked"]).exit_code == 0
    assert status_via_published_lists(client, app, in_use) == "key_revoked"

    result = runner.invoke(args=["keys", "resign", kid])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["resigned"] == 1 and report["document_class"] == "provisional"
    with app.app_context():
        assert report["signing_kids"] == [active_signing_key("provisional").kid] != [kid]
    assert status_via_published_lists(client, app, in_use) == "valid"
    assert status_via_published_lists(client, app, withdrawn) == "key_revoked"  # left as it was
    with app.app_context():
        assert db.session.get(Certificate, ended).signing_kid == kid
        audited = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == "certificate.resigned")
        ).all()
    assert audited == [in_use]
    assert runner.invoke(args=["keys", "resign", "0000000000000000"]).exit_code == 2


def test_resign_after_an_official_key_is_compromised_uses_the_new_official_key(
    app, client, runner, data, employee_id
):
    provisional_id = _issue(app, employee_id)
    official_id = _signed_official(app, data, employee_id)
    with app.app_context():
        kid = db.session.get(Certificate, official_id).signing_kid
        provisional_kid = db.session.get(Certificate, provisional_id).signing_kid
    assert runner.invoke(args=["keys", "revoke", kid, "--reason", "leaked"]).exit_code == 0
    assert status_via_published_lists(client, app, official_id) == "key_revoked"
    with app.app_context():
        replacement = active_signing_key("official").kid  # made by the revocation
        assert replacement != kid
        assert active_signing_key("provisional").kid == provisional_kid  # untouched

    result = runner.invoke(args=["keys", "resign", kid])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {"resigned": 1, "document_class": "official", "signing_kids": [replacement]}
    assert status_via_published_lists(client, app, official_id) == "valid"
    assert status_via_published_lists(client, app, provisional_id) == "valid"
    with app.app_context():
        assert db.session.get(Certificate, provisional_id).signing_kid == provisional_kid


def test_resign_leaves_certificates_waiting_for_review_unsigned(app, runner, data, employee_id):
    official_id = _signed_official(app, data, employee_id)
    with app.app_context():
        certificate = db.session.get(Certificate, official_id)
        kid = certificate.signing_kid
        # As the transition left them: back in review, still naming the key that signed them.
        certificate.status = CertificateStatus.PENDING_REVIEW.value
        db.session.commit()
    assert runner.invoke(args=["keys", "revoke", kid, "--reason", "drill"]).exit_code == 0
    result = runner.invoke(args=["keys", "resign", kid])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["resigned"] == 0
    with app.app_context():
        assert db.session.get(Certificate, official_id).signing_kid == kid


# --- the transition: migration 0008 gives every existing key a class ---------------------------

BEFORE_CLASSES = "0007_official_review"
WITH_CLASSES = "0008_key_document_class"


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of this run's kind: a schema of its own on PostgreSQL."""
    with empty_database(tmp_path, "key_class_transition") as url:
        yield url


def _seed_before_classes(connection, now) -> dict[str, str]:
    """At 0007: one key that signed everything, as before classes, and its certificates."""
    from web.certificates.keys import _encrypt_private_key

    tables = sa.MetaData()
    tables.reflect(connection)

    def insert(table: str, **row) -> None:
        connection.execute(tables.tables[table].insert().values(**row))

    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = verifier.kid_text(verifier.kid_for_public_key(private_key.public_key()))
    insert(
        "signing_key",
        kid=kid,
        public_key_der=private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        private_key_encrypted=_encrypt_private_key(private_key, kid),
        state="active",
        active_marker=1,
        created_at=now,
        published_at=now,
        activated_at=now,
    )
    insert("company", id=1, name="Transition GmbH", seat_state="DE", created_at=now)
    insert(
        "user_account",
        id=1,
        email="e@t.example",
        role="employee",
        company_id=1,
        active=True,
        created_at=now,
    )
    insert("user_account", id=2, email="op@t.example", role="operator", active=True, created_at=now)
    insert(
        "employee",
        id=1,
        company_id=1,
        user_id=1,
        family_name="Kowalska",
        given_names="Ewa",
        birth_date=date(1980, 2, 3),
        nationality="PL",
        residence_state="PL",
        home_state="PL",
        created_at=now,
    )
    ids = {}
    for name, kind, status, signed in (
        ("official", "official", "active", True),  # recorded by an operator: 0007 left it signed
        ("provisional", "provisional", "active", True),
        ("official_withdrawn", "official", "withdrawn", True),
        ("official_in_review", "official", "pending_review", False),
    ):
        certificate_id = verifier.certificate_id_text(os.urandom(10))
        claims = verifier.CertificateClaims(
            certificate_id=verifier.parse_certificate_id(certificate_id),
            document_type="A1",
            kind=kind,
            legislation_state="PL",
            work_states=("DE",),
            family_name="Kowalska",
            given_names="Ewa",
            family_name_ascii=None,
            given_names_ascii=None,
            birth_date=date(1980, 2, 3),
            valid_from=TODAY - timedelta(days=10),
            valid_to=TODAY + timedelta(days=90),
            issuer="A1W",
            issuing_institution="PL:ZUS" if kind == "official" else None,
        )
        qr = verifier.qr_text(verifier.sign_certificate(claims, private_key), "https://a1.example")
        insert(
            "certificate",
            id=certificate_id,
            company_id=1,
            employee_id=1,
            document_type="A1",
            kind=kind,
            legislation_state="PL",
            work_states="DE",
            valid_from=claims.valid_from,
            valid_to=claims.valid_to,
            issuing_institution=claims.issuing_institution,
            status=status,
            verification_code=f"{len(ids):012d}",
            qr_text=qr if signed else None,
            signing_kid=kid if signed else None,
            created_by_id=2,
            created_at=now,
        )
        ids[name] = certificate_id
    ids["kid"] = kid
    return ids


def test_the_transition_classes_old_keys_provisional_and_sends_their_official_records_to_review(
    tmp_path, empty_database_url
):
    from flask_migrate import downgrade, upgrade

    from web.certificates.keys import trust_list_document
    from web.verify.services import (
        NOT_GENUINE,
        VALID_OFFICIAL,
        VALID_PROVISIONAL,
        verify_for_inspector,
    )

    app = create_app(base_config(tmp_path, empty_database_url))
    now = datetime.now(UTC).replace(tzinfo=None)
    with app.app_context():
        upgrade(revision=BEFORE_CLASSES)
        with db.engine.begin() as connection:
            ids = _seed_before_classes(connection, now)
        kid = ids["kid"]
        with db.engine.begin() as connection:
            qr_texts = dict(
                connection.execute(sa.text("SELECT id, qr_text FROM certificate")).all()
            )

        upgrade(revision=WITH_CLASSES)
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT kid, document_class, state, active_marker FROM signing_key")
            ).all()
            assert [tuple(row) for row in rows] == [(kid, "provisional", "active", 1)]
            certificates = {
                row.id: (row.status, row.qr_text, row.signing_kid)
                for row in connection.execute(
                    sa.text("SELECT id, status, qr_text, signing_kid FROM certificate")
                )
            }
            events = connection.execute(
                sa.text(
                    "SELECT action, object_id, actor_role, message FROM audit_event "
                    "ORDER BY action, object_id"
                )
            ).all()
        # The official record the provisional-class key signed waits for review, unsigned.
        assert certificates[ids["official"]] == ("pending_review", None, None)
        # The rest is as it was.
        assert certificates[ids["provisional"]] == ("active", qr_texts[ids["provisional"]], kid)
        assert certificates[ids["official_withdrawn"]] == (
            "withdrawn",
            qr_texts[ids["official_withdrawn"]],
            kid,
        )
        assert certificates[ids["official_in_review"]] == ("pending_review", None, None)
        # One audit event per key and per certificate sent back, saying why.
        assert [(e.action, e.object_id, e.actor_role) for e in events] == [
            ("certificate.review_required", ids["official"], "migration"),
            ("key.classified", kid, "migration"),
        ]
        assert kid in events[0].message and "provisional-class key" in events[0].message

        # Downgrade: the older code's single active key is the provisional one.
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO signing_key (kid, public_key_der, private_key_encrypted, state, "
                    "document_class, active_marker, created_at, published_at) VALUES "
                    "('00000000000000aa', :der, :der, 'active', 'official', 1, :now, :now)"
                ),
                {"der": b"x", "now": now},
            )
        downgrade(revision=BEFORE_CLASSES)
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("signing_key")}
            assert "document_class" not in columns
            active = connection.execute(
                sa.text("SELECT kid FROM signing_key WHERE active_marker = 1")
            ).all()
            assert [row.kid for row in active] == [kid]
            connection.execute(sa.text("DELETE FROM signing_key WHERE kid = '00000000000000aa'"))
            connection.commit()
        upgrade()  # to the newest revision

        # The app on the upgraded database: the old official QR is not genuine (kind mismatch),
        # the provisional one still valid, and the trust list says the old key is provisional.
        assert verify_for_inspector(qr_texts[ids["official"]]).state == NOT_GENUINE
        assert verify_for_inspector(qr_texts[ids["official"]]).reason == "kind_mismatch"
        assert verify_for_inspector(qr_texts[ids["provisional"]]).state == VALID_PROVISIONAL
        listed = {k["kid"]: k["document_class"] for k in trust_list_document()["keys"]}
        assert listed == {kid: "provisional"}
        # Once a reviewer confirms it, the official key (made on first use) signs it again.
        certificate = db.session.get(Certificate, ids["official"])
        certificate.status = CertificateStatus.ACTIVE.value
        sign_certificate(certificate)
        db.session.commit()
        assert certificate.signing_kid != kid
        assert db.session.get(SigningKey, certificate.signing_kid).document_class == "official"
        assert verify_for_inspector(certificate.qr_text).state == VALID_OFFICIAL
        db.session.remove()
        db.engine.dispose()

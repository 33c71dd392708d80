"""Signing keys: encryption at rest, rotation, retirement, revocation, the published lists."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

import verifier
from app import create_app
from tests.conftest import base_config
from web.certificates.keys import (
    SigningKeyError,
    active_signing_key,
    private_key_of,
    retire_key,
    revoke_key,
    rotate_keys,
    trust_list_document,
)
from web.certificates.services import CertificateInput, issue_provisional_certificate
from web.extensions import db
from web.models import AuditEvent, Certificate, Employee, SigningKey

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


def _status_via_published_lists(client, app, certificate_id) -> str:
    """What a third-party verifier answers after downloading keys.json and revoked.json."""
    keys = verifier.KeySet.from_document(client.get("/verify/keys.json").json)
    revoked = verifier.RevocationSet.from_document(client.get("/verify/revoked.json").json)
    with app.app_context():
        text = db.session.get(Certificate, certificate_id).qr_text
    return verifier.verify_qr_text(text, keys, revoked).status


def test_first_use_creates_one_active_key(app):
    with app.app_context():
        assert db.session.scalar(select(SigningKey)) is None
        key = active_signing_key()
        db.session.commit()
        assert key.state == "active" and key.activated_at is not None
        assert active_signing_key().kid == key.kid
        assert len(db.session.scalars(select(SigningKey)).all()) == 1


def test_private_key_is_encrypted_at_rest(app):
    with app.app_context():
        key = active_signing_key()
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
        new_key, retired = rotate_keys()
        db.session.commit()
        new_kid = new_key.kid
        assert retired.kid == old_kid and retired.state == "retired" and retired.retired_at
    new_cert = _issue(app, employee_id)
    with app.app_context():
        assert db.session.get(Certificate, new_cert).signing_kid == new_kid
    assert _status_via_published_lists(client, app, old_cert) == "valid"
    assert _status_via_published_lists(client, app, new_cert) == "valid"
    states = {k["kid"]: k["state"] for k in client.get("/verify/keys.json").json["keys"]}
    assert states == {old_kid: "retired", new_kid: "active"}


def test_retired_key_leaves_the_trust_list_after_its_certificates_expire(app, employee_id):
    cert_id = _issue(app, employee_id, days=5)
    with app.app_context():
        old_kid = db.session.get(Certificate, cert_id).signing_kid
        rotate_keys()
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
        assert active_signing_key().kid != kid
    assert _status_via_published_lists(client, app, cert_id) == "key_revoked"
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
                )
            ],
        }
    )
    fresh_revoked = verifier.RevocationSet.from_document(client.get("/verify/revoked.json").json)
    assert verifier.verify_qr_text(text, stale_keys, fresh_revoked).status == "key_revoked"
    # After a restart (a new app on the same database) it is still revoked.
    restarted = create_app({**base_config(tmp_path / "restart", database_url)})
    assert _status_via_published_lists(restarted.test_client(), restarted, cert_id) == "key_revoked"
    with restarted.app_context(), pytest.raises(SigningKeyError):
        retire_key(kid)


def db_public_key(app, kid) -> bytes:
    with app.app_context():
        return db.session.get(SigningKey, kid).public_key_der


def test_cannot_retire_the_active_key(app):
    with app.app_context():
        key = active_signing_key()
        db.session.commit()
        with pytest.raises(SigningKeyError, match="rotate instead"):
            retire_key(key.kid)
        with pytest.raises(SigningKeyError, match="no signing key"):
            retire_key("0000000000000000")


def test_cli_keys(runner, app, employee_id):
    listed = runner.invoke(args=["keys", "list"])
    assert listed.exit_code == 0 and "\tactive\t" in listed.output
    first = listed.output.split("\t")[0]
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0
    assert json.loads(rotated.output)["retired"] == first
    assert runner.invoke(args=["keys", "retire", first]).exit_code == 0
    revoked = runner.invoke(args=["keys", "revoke", first, "--reason", "drill"])
    assert revoked.exit_code == 0 and "\trevoked\t" in revoked.output
    assert runner.invoke(args=["keys", "retire", first]).exit_code == 2
    assert runner.invoke(args=["keys", "revoke", "nonsense"]).exit_code == 2
    final = runner.invoke(args=["keys", "list"]).output
    assert final.count("\tactive\t") == 1


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
    assert _status_via_published_lists(client, app, in_use) == "key_revoked"

    result = runner.invoke(args=["keys", "resign", kid])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["resigned"] == 1 and report["signing_kid"] != kid
    assert _status_via_published_lists(client, app, in_use) == "valid"
    assert _status_via_published_lists(client, app, withdrawn) == "key_revoked"  # left as it was
    with app.app_context():
        assert db.session.get(Certificate, ended).signing_kid == kid
        audited = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == "certificate.resigned")
        ).all()
    assert audited == [in_use]
    assert runner.invoke(args=["keys", "resign", "0000000000000000"]).exit_code == 2

"""verifier: the keys.json and revoked.json documents (FORMAT.md §5 and §6)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import (
    KeySet,
    RevocationSet,
    format_utc,
    keys_document,
    kid_for_public_key,
    parse_utc,
    public_key_document_entry,
    revoked_document,
)

KEY_A = ec.derive_private_key(0xA1, ec.SECP256R1()).public_key()
KEY_B = ec.derive_private_key(0xB2, ec.SECP256R1()).public_key()
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def document() -> dict:
    return keys_document(
        [
            public_key_document_entry(KEY_A, "active", SINCE, None, document_class="official"),
            public_key_document_entry(KEY_B, "retired", SINCE, UNTIL, document_class="provisional"),
        ]
    )


def test_entry_shape() -> None:
    entry = public_key_document_entry(KEY_B, "retired", SINCE, UNTIL, document_class="official")
    der = KEY_B.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert entry == {
        "kid": kid_for_public_key(KEY_B).hex(),
        "alg": "ES256",
        "crv": "P-256",
        "public_key": base64.b64encode(der).decode("ascii"),
        "state": "retired",
        "not_before": "2026-01-01T00:00:00Z",
        "not_after": "2026-04-01T07:30:00Z",  # converted to UTC
        "document_class": "official",
    }
    json.dumps(entry)  # JSON-ready as it is


def test_document_round_trip() -> None:
    doc = json.loads(json.dumps(document()))
    assert doc["format"] == "A1W1"
    keys = KeySet.from_document(doc)
    assert len(keys) == 2
    assert keys.kids == {kid_for_public_key(KEY_A).hex(), kid_for_public_key(KEY_B).hex()}
    loaded = keys.get(kid_for_public_key(KEY_A))
    assert loaded is not None and loaded.public_numbers() == KEY_A.public_numbers()
    assert keys.get(bytes(8)) is None
    assert keys.document_class(kid_for_public_key(KEY_A)) == "official"
    assert keys.document_class(kid_for_public_key(KEY_B)) == "provisional"
    assert keys.document_class(bytes(8)) is None


def test_a_key_listed_without_a_class_is_provisional() -> None:
    """A keys.json written before document classes: its keys never vouch for official records."""
    doc = document()
    del doc["keys"][0]["document_class"]
    keys = KeySet.from_document(doc)
    assert keys.document_class(kid_for_public_key(KEY_A)) == "provisional"
    assert KeySet.from_public_keys([KEY_A]).document_class(kid_for_public_key(KEY_A)) == (
        "provisional"
    )
    official = KeySet.from_public_keys([KEY_A], document_class="official")
    assert official.document_class(kid_for_public_key(KEY_A)) == "official"


def test_key_set_classes_are_checked() -> None:
    kid = kid_for_public_key(KEY_A)
    with pytest.raises(ValueError):
        KeySet({kid: KEY_A}, {kid: "authority"})
    with pytest.raises(ValueError):
        KeySet({kid: KEY_A}, {kid_for_public_key(KEY_B): "official"})  # a class for no key
    with pytest.raises(ValueError):
        KeySet.from_public_keys([KEY_A], document_class="Official")


def test_unknown_members_are_ignored() -> None:
    doc = document()
    doc["generated_at"] = "2026-01-01T00:00:00Z"
    doc["keys"][0]["comment"] = "rotated in January"
    assert len(KeySet.from_document(doc)) == 2


def _broken(change) -> dict:
    doc = copy.deepcopy(document())
    change(doc)
    return doc


OTHER_CURVE_DER = (
    ec.generate_private_key(ec.SECP384R1())
    .public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param([], id="not an object"),
        pytest.param(_broken(lambda d: d.update(format="A1W2")), id="other format"),
        pytest.param(_broken(lambda d: d.pop("format")), id="no format"),
        pytest.param(_broken(lambda d: d.update(keys={})), id="keys not a list"),
        pytest.param(_broken(lambda d: d.pop("keys")), id="no keys"),
        pytest.param(_broken(lambda d: d["keys"].append("key")), id="entry not an object"),
        pytest.param(_broken(lambda d: d["keys"][0].update(alg="HS256")), id="alg HS256"),
        pytest.param(_broken(lambda d: d["keys"][0].update(alg="none")), id="alg none"),
        pytest.param(_broken(lambda d: d["keys"][0].update(crv="P-384")), id="crv P-384"),
        pytest.param(_broken(lambda d: d["keys"][0].update(state="revoked")), id="revoked state"),
        pytest.param(_broken(lambda d: d["keys"][0].pop("state")), id="no state"),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(document_class="authority")), id="unknown class"
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(document_class="OFFICIAL")), id="class in caps"
        ),
        pytest.param(_broken(lambda d: d["keys"][0].update(document_class=None)), id="class null"),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(document_class=["official"])), id="class list"
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(kid=d["keys"][1]["kid"])), id="kid of B"
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(kid=d["keys"][0]["kid"].upper())), id="kid upper"
        ),
        pytest.param(_broken(lambda d: d["keys"].append(d["keys"][0])), id="kid twice"),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(public_key=d["keys"][0]["public_key"][:-4])),
            id="cut base64",
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(public_key="not base64!")), id="not base64"
        ),
        pytest.param(
            _broken(
                lambda d: d["keys"][0].update(
                    public_key=d["keys"][0]["public_key"].replace("+", "-").replace("/", "_") + "-_"
                )
            ),
            id="base64url",
        ),
        pytest.param(
            _broken(
                lambda d: d["keys"][0].update(
                    public_key=base64.b64encode(OTHER_CURVE_DER).decode(),
                    kid=hashlib.sha256(OTHER_CURVE_DER).hexdigest()[:16],
                )
            ),
            id="P-384 key with matching kid",
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(not_before="2026-01-01T00:00:00+00:00")),
            id="offset instead of Z",
        ),
        pytest.param(
            _broken(lambda d: d["keys"][0].update(not_before="2026-02-30T00:00:00Z")),
            id="impossible date",
        ),
        pytest.param(_broken(lambda d: d["keys"][0].update(not_before=None)), id="no not_before"),
        pytest.param(
            _broken(lambda d: d["keys"][1].update(not_after="2025-01-01T00:00:00Z")),
            id="not_after before not_before",
        ),
    ],
)
def test_malformed_keys_documents_are_rejected_whole(doc) -> None:
    with pytest.raises(ValueError):
        KeySet.from_document(doc)


def test_the_broken_fixtures_really_differ() -> None:
    # Guard the parametrized cases above against a change helper that silently does nothing.
    assert _broken(lambda d: d["keys"][0].update(alg="HS256")) != document()


def test_entry_arguments_are_checked() -> None:
    official = {"document_class": "official"}
    with pytest.raises(ValueError):
        public_key_document_entry(KEY_A, "revoked", SINCE, None, **official)
    with pytest.raises(ValueError):
        public_key_document_entry(KEY_A, "active", dt.datetime(2026, 1, 1), None, **official)
    with pytest.raises(ValueError):
        public_key_document_entry(
            ec.generate_private_key(ec.SECP384R1()).public_key(), "active", SINCE, None, **official
        )
    with pytest.raises(ValueError):
        public_key_document_entry(KEY_A, "active", SINCE, None, document_class="authority")
    with pytest.raises(TypeError):  # the class is never implied when a list is written
        public_key_document_entry(KEY_A, "active", SINCE, None)  # type: ignore[call-arg]


def test_revocation_documents() -> None:
    doc = revoked_document(["zzzzzzzzzzzzzzzz", "0000000000000001"], ["ABCDEF0123456789"])
    assert doc == {
        "format": "A1W1",
        "certificates": ["0000000000000001", "ZZZZZZZZZZZZZZZZ"],  # canonical and sorted
        "keys": ["abcdef0123456789"],
    }
    revoked = RevocationSet.from_document(json.loads(json.dumps(doc)))
    assert revoked.certificate_ids == {"0000000000000001", "ZZZZZZZZZZZZZZZZ"}
    assert revoked.kids == {"abcdef0123456789"}
    assert revoked.is_certificate_revoked(bytes(9) + b"\x01")
    assert not revoked.is_certificate_revoked(bytes(10))
    empty = RevocationSet.from_document({"format": "A1W1", "certificates": [], "keys": []})
    assert empty == RevocationSet() and not empty.certificate_ids and not empty.kids


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "A1W2", "certificates": [], "keys": []},
        {"certificates": [], "keys": []},
        {"format": "A1W1", "keys": []},
        {"format": "A1W1", "certificates": []},
        {"format": "A1W1", "certificates": "0000000000000001", "keys": []},
        {"format": "A1W1", "certificates": ["000000000000001"], "keys": []},
        {"format": "A1W1", "certificates": ["000000000000000U"], "keys": []},
        {"format": "A1W1", "certificates": [1], "keys": []},
        {"format": "A1W1", "certificates": [], "keys": ["abcdef012345678"]},
        {"format": "A1W1", "certificates": [], "keys": ["abcdef012345678g"]},
        {"format": "A1W1", "certificates": [], "keys": [None]},
    ],
)
def test_malformed_revocation_documents_are_rejected(doc) -> None:
    with pytest.raises(ValueError):
        RevocationSet.from_document(doc)


def test_utc_timestamps() -> None:
    moment = dt.datetime(2026, 5, 1, 12, 0, 5, 999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_utc(moment) == "2026-05-01T10:00:05Z"
    assert parse_utc("2026-05-01T10:00:05Z") == dt.datetime(2026, 5, 1, 10, 0, 5, tzinfo=dt.UTC)
    for bad in ["2026-05-01T10:00:05", "2026-05-01 10:00:05Z", "2026-05-01T10:00:05.1Z", 0]:
        with pytest.raises(ValueError):
            parse_utc(bad)

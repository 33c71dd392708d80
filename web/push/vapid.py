"""VAPID: the application server's key pair, generated once and kept (changing it would end
every subscription), and the `sub` contact that push services require."""

from __future__ import annotations

import base64
import os
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid02

# Push services refuse a contact that is a placeholder (Apple answers 403 BadJwtToken).
_PLACEHOLDER_HOSTS = (
    "localhost",
    "*.localhost",
    "*.local",
    "*.test",
    "*.example",
    "*.invalid",
    "example.com",
    "example.org",
    "example.net",
    "127.*",
    "[::1]",
)


class VapidConfigurationError(RuntimeError):
    pass


def _key_path() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "vapid_private.pem"


def _load_or_create_private_key() -> ec.EllipticCurvePrivateKey:
    configured = current_app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        text = configured.strip()
        if "BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:  # raw 32-byte private number, base64url (what `vapid --gen` users often keep)
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    path = _key_path()
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first: use theirs
        return _load_or_create_private_key()
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def vapid() -> Vapid02:
    """The application server key as py-vapid wants it (one per process)."""
    cached = current_app.extensions.get("a1w_vapid")
    if cached is None:
        cached = Vapid02.from_pem(
            _load_or_create_private_key().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        current_app.extensions["a1w_vapid"] = cached
    return cached


def application_server_key() -> str:
    """The public key for `pushManager.subscribe`: base64url of the uncompressed P-256 point."""
    raw = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_subject() -> str:
    """VAPID_SUBJECT, else mailto:SUPPORT_EMAIL; refused when it is a placeholder."""
    subject = (current_app.config.get("VAPID_SUBJECT") or "").strip()
    if not subject:
        subject = "mailto:" + current_app.config["SUPPORT_EMAIL"]
    check_vapid_subject(subject)
    return subject


def check_vapid_subject(subject: str) -> None:
    if subject.startswith("mailto:"):
        host = subject.rpartition("@")[2].lower()
        if "@" not in subject or not host:
            raise VapidConfigurationError(f"VAPID subject {subject!r} is not an email address")
    elif subject.startswith("https://"):
        host = (urlsplit(subject).hostname or "").lower()
    else:
        raise VapidConfigurationError("VAPID_SUBJECT must be a mailto: or https:// address")
    if not host or any(fnmatch(host, pattern) for pattern in _PLACEHOLDER_HOSTS):
        raise VapidConfigurationError(
            f"VAPID subject {subject!r} is a placeholder that push services refuse: set "
            "VAPID_SUBJECT (or SUPPORT_EMAIL) to a real address"
        )

"""Configuration read from the environment, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def instance_secret(instance_path: Path, filename: str, nbytes: int = 32) -> str:
    """Read a secret kept in instance/, generating it once (mode 0600) when it is missing.

    A secret that changed at every start would log everyone out (SECRET_KEY) or make stored
    data unreadable (key-encryption key), so it is written once and then only read.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / filename
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        value = secrets.token_urlsafe(nbytes)
        fh.write(value)
    return value


def normalise_database_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Every setting comes from an environment variable of the same name; README lists them."""

    def __init__(self, instance_path: Path | None = None) -> None:
        instance = Path(instance_path or os.environ.get("A1W_INSTANCE_PATH") or DEFAULT_INSTANCE)
        instance.mkdir(parents=True, exist_ok=True)
        self.INSTANCE_PATH = str(instance)
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or instance_secret(instance, "secret_key")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'a1wallet.sqlite3'}"
        )
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip(
            "/"
        )
        https = self.PUBLIC_BASE_URL.startswith("https://")

        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "a1w")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)

        self.SUPPORT_PHONE = os.environ.get("SUPPORT_PHONE", "+49 30 1234 5678")
        self.SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@a1wallet.example")
        self.PROVIDER_NAME = os.environ.get("PROVIDER_NAME", "A1 Wallet")

        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
        self.MAIL_PORT = _int("MAIL_PORT", 587)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "A1 Wallet <no-reply@a1wallet.example>")

        # Cookies: Secure whenever the public address is HTTPS; Lax keeps links from mail working.
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", https)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_DURATION = timedelta(days=_int("REMEMBER_DAYS", 90))
        # Employer admins, support agents and operators: a sign-in ends after this many
        # minutes without a request, and in any case this many hours after the login. Employees
        # are exempt: their phone stays signed in for REMEMBER_DAYS.
        self.STAFF_IDLE_MINUTES = _int("STAFF_IDLE_MINUTES", 30)
        self.STAFF_SESSION_HOURS = _int("STAFF_SESSION_HOURS", 12)
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=self.STAFF_SESSION_HOURS)
        # "strong" would log out travellers whose IP changes at every border (DESIGN §3).
        self.SESSION_PROTECTION = "basic"

        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.WTF_CSRF_SSL_STRICT = https
        self.MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # uploads of 10 MB plus form overhead
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.LANGUAGES = ("en", "fr", "de")

        # Encrypts the private signing keys at rest (AES-256-GCM). Keep it apart from the database
        # backups: with both, a thief could sign certificates.
        self.KEY_ENCRYPTION_KEY = os.environ.get("A1W_KEY_ENCRYPTION_KEY") or instance_secret(
            instance, "key_encryption_key"
        )
        self.PROVIDER_ID = os.environ.get("PROVIDER_ID", "A1W")  # the CWT issuer in every QR
        self.DOCUMENTS_PATH = os.environ.get("DOCUMENTS_PATH") or str(instance / "documents")
        self.PROVISIONAL_ISSUE_LIMIT_PER_HOUR = _int("PROVISIONAL_ISSUE_LIMIT_PER_HOUR", 60)
        # Public verification: a scan is cheap to allow; typed lookups are guesses (ASVS 2.2.1).
        self.VERIFY_PAGE_LIMIT = os.environ.get("VERIFY_PAGE_LIMIT", "120 per minute")
        self.VERIFY_LOOKUP_LIMIT = os.environ.get(
            "VERIFY_LOOKUP_LIMIT", "10 per 10 minutes;100 per hour"
        )
        # Web push (DESIGN §8).
        self.VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
        self.VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
        self.PUSH_ALLOWED_ENDPOINTS = [
            p.strip()
            for p in os.environ.get(
                "PUSH_ALLOWED_ENDPOINTS",
                "https://fcm.googleapis.com/,https://updates.push.services.mozilla.com/,"
                "https://web.push.apple.com/,https://*.notify.windows.com/,"
                "https://*.push.apple.com/",
            ).split(",")
            if p.strip()
        ]
        self.REMINDER_DAYS = [
            int(d) for d in os.environ.get("REMINDER_DAYS", "30,14,7,1").split(",") if d.strip()
        ]
        self.UNCOVERED_TRIP_DAYS = _int("UNCOVERED_TRIP_DAYS", 14)
        self.PUSH_MAX_ATTEMPTS = _int("PUSH_MAX_ATTEMPTS", 8)
        self.INCIDENT_ESCALATE_MINUTES = _int("INCIDENT_ESCALATE_MINUTES", 5)
        self.ASK_LIMIT = os.environ.get("ASK_LIMIT", "60 per minute")
        self.INVITATION_DAYS = _int("INVITATION_DAYS", 7)
        self.PASSWORD_RESET_HOURS = _int("PASSWORD_RESET_HOURS", 24)
        self.LOGIN_LIMIT_PER_CLIENT = os.environ.get(
            "LOGIN_LIMIT_PER_CLIENT", "30 per 10 minutes;200 per day"
        )
        self.LOGIN_LIMIT_PER_ACCOUNT = os.environ.get(
            "LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes;100 per hour"
        )
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}

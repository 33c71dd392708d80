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


def _days(name: str, default: str) -> list[int]:
    """A comma-separated list of day counts, e.g. "30,14,7,1"."""
    return [int(d) for d in os.environ.get(name, default).split(",") if d.strip()]


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
        # No X-RateLimit-* headers: they cost two more storage reads (Redis round trips) per
        # limited request, a third of the busiest page's time; a 429 still says Retry-After
        # (web/errors.py). benchmarks/verify_page.py.
        self.RATELIMIT_HEADERS_ENABLED = False
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)

        self.SUPPORT_PHONE = os.environ.get("SUPPORT_PHONE", "+49 30 1234 5678")
        self.SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@a1wallet.example")
        self.PROVIDER_NAME = os.environ.get("PROVIDER_NAME", "A1 Wallet")

        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
        self.MAIL_PORT = _int("MAIL_PORT", 587)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)  # STARTTLS
        # Implicit TLS (SMTPS) from the first byte, the usual on port 465.
        self.MAIL_USE_SSL = _bool("MAIL_USE_SSL", self.MAIL_PORT == 465)
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
        # "strong" would log out travellers whose IP changes at every border (docs/design.md §2).
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
        # Web push (docs/design.md §7).
        self.VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
        self.VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
        # Push service hostnames subscriptions may point to: a name, or *. and a domain (any name
        # below it); matched against the parsed hostname, never the URL (web/push/endpoints.py).
        self.PUSH_ALLOWED_HOSTS = [
            h.strip()
            for h in os.environ.get(
                "PUSH_ALLOWED_HOSTS",
                "fcm.googleapis.com,*.push.services.mozilla.com,*.push.apple.com,"
                "*.notify.windows.com",
            ).split(",")
            if h.strip()
        ]
        # Tests and local development only: http(s)://127.0.0.1 or [::1] endpoints (the push
        # service stand-in); refused at start unless PUBLIC_BASE_URL is a loopback address.
        self.PUSH_ALLOW_LOOPBACK_ENDPOINTS = _bool("PUSH_ALLOW_LOOPBACK_ENDPOINTS", False)
        self.PUSH_SEND_DEADLINE_SECONDS = float(os.environ.get("PUSH_SEND_DEADLINE_SECONDS") or 10)
        self.PUSH_RELAY_CONCURRENCY = _int("PUSH_RELAY_CONCURRENCY", 8)
        self.REMINDER_DAYS = _days("REMINDER_DAYS", "30,14,7,1")
        self.UNCOVERED_TRIP_DAYS = _int("UNCOVERED_TRIP_DAYS", 14)
        # Days before a posted-worker declaration's file-by date when the admins are reminded.
        self.DECLARATION_REMINDER_DAYS = _days("DECLARATION_REMINDER_DAYS", "5,1")
        self.PUSH_MAX_ATTEMPTS = _int("PUSH_MAX_ATTEMPTS", 8)
        # Minutes, fractions allowed (a test or a demo may escalate after a few seconds).
        self.INCIDENT_ESCALATE_MINUTES = float(os.environ.get("INCIDENT_ESCALATE_MINUTES") or 5)
        # Taps of one employee this close together are one inspection: they join its incident.
        self.INCIDENT_JOIN_MINUTES = _int("INCIDENT_JOIN_MINUTES", 15)
        self.ASK_LIMIT = os.environ.get("ASK_LIMIT", "60 per minute")
        self.INVITATION_DAYS = _int("INVITATION_DAYS", 7)
        # Invitations one admin may mail or create: a person passing links on needs a few
        # seconds each; a loop (or a stolen session) mail-bombing employees is stopped.
        self.INVITATION_LIMIT = os.environ.get("INVITATION_LIMIT", "60 per 10 minutes;500 per day")
        # Seconds one request may spend mailing invitations (after a CSV import): well within
        # gunicorn's 30 s worker timeout; the rest are sent from the import report.
        self.INVITATION_BATCH_SECONDS = float(os.environ.get("INVITATION_BATCH_SECONDS") or 15)
        self.PASSWORD_RESET_HOURS = _int("PASSWORD_RESET_HOURS", 24)
        self.LOGIN_LIMIT_PER_CLIENT = os.environ.get(
            "LOGIN_LIMIT_PER_CLIENT", "30 per 10 minutes;200 per day"
        )
        # No lock-out by strangers: failures count per (account, client) pair; after this many
        # in 15 minutes each further try from that pair waits twice as long (1 s … 15 min).
        self.LOGIN_FREE_FAILURES = _int("LOGIN_FREE_FAILURES", 5)
        # Failures on one account from all clients in 15 minutes that tell the operators.
        self.LOGIN_ATTACK_REPORT_FAILURES = _int("LOGIN_ATTACK_REPORT_FAILURES", 20)
        # OWASP (2025): scrypt N=2^17, r=8, p=1. Older hashes are upgraded at the next sign-in.
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
        # Sensitive actions ask for the second factor again after this many minutes.
        self.STEP_UP_MINUTES = _int("STEP_UP_MINUTES", 10)
        # A one-time link, once opened, leaves a form valid this long in that browser only.
        self.LINK_FORM_MINUTES = _int("LINK_FORM_MINUTES", 15)
        self.RESET_REQUESTS_PER_HOUR = _int("RESET_REQUESTS_PER_HOUR", 3)
        self.RESET_REQUESTS_PER_DAY = _int("RESET_REQUESTS_PER_DAY", 10)
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
        # Periodic jobs (web/jobs/): how often escalation runs, how often each scheduler looks
        # whether a daily job is due.
        self.ESCALATION_CHECK_SECONDS = _int("ESCALATION_CHECK_SECONDS", 60)
        self.DAILY_JOBS_CHECK_SECONDS = _int("DAILY_JOBS_CHECK_SECONDS", 600)
        # Retention (web/jobs/retention.py, docs/deploy.md "Retention").
        self.RETENTION_INCIDENT_LOCATION_DAYS = _int("RETENTION_INCIDENT_LOCATION_DAYS", 30)
        self.RETENTION_CLOSED_INCIDENT_MONTHS = _int("RETENTION_CLOSED_INCIDENT_MONTHS", 24)
        self.RETENTION_CERTIFICATE_YEARS = _int("RETENTION_CERTIFICATE_YEARS", 5)
        self.RETENTION_DECLARATION_YEARS = _int("RETENTION_DECLARATION_YEARS", 2)
        self.RETENTION_PUSH_MESSAGE_DAYS = _int("RETENTION_PUSH_MESSAGE_DAYS", 30)
        self.RETENTION_MAIL_MESSAGE_DAYS = _int("RETENTION_MAIL_MESSAGE_DAYS", 30)
        self.RETENTION_SIGN_IN_DAYS = _int("RETENTION_SIGN_IN_DAYS", 90)
        self.RETENTION_IMPORT_DAYS = _int("RETENTION_IMPORT_DAYS", 30)
        # GET /metrics: loopback clients, or this bearer token (web/metrics.py).
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}

"""The data model: typed SQLAlchemy 2 models. Every company-owned row carries company_id."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.vocabulary import (  # noqa: F401  the domain's words, re-exported for the models' users
    Art16Agreement,
    CertificateKind,
    CertificateStatus,
    DocumentType,
    EmploymentStatus,
    IncidentOutcome,
    IncidentStatus,
    KeyState,
    RequestKind,
    RequestStatus,
    Role,
    TripKind,
    TripStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite (no time zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


# Enumerations are stored as plain strings, not database enums: the same migration then runs on
# SQLite and PostgreSQL and a new value needs no ALTER TYPE. Services and forms validate them.


class Company(db.Model):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    seat_state: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The company's admins must sign in with a second factor (passkey or TOTP app).
    require_second_factor: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    users: Mapped[list[User]] = relationship(back_populates="company")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Employees choose whether an "authority is asking" alert carries their location.
    # Support agents off duty get no alert pushes (but escalations reach everyone).
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    location_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Support agents review official certificates only when an operator gave them this right.
    can_review_certificates: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    # How employees read a support agent or operator ("Maria from support"); else from the e-mail.
    display_name: Mapped[str | None] = mapped_column(String(80))

    # The WebAuthn user handle: random, so a passkey reveals nothing about the account.
    webauthn_handle: Mapped[str | None] = mapped_column(String(64), unique=True)

    company: Mapped[Company | None] = relationship(back_populates="users")
    employee: Mapped[Employee | None] = relationship(back_populates="user", uselist=False)

    # Set per request by the user loader: flask-login's id is the sign-in record, not the user,
    # so that logging out one device revokes exactly that device (docs/design.md §2).
    current_sign_in_id = None  # not a column: a plain attribute, str once loaded

    def get_id(self) -> str:
        if not self.current_sign_in_id:
            raise RuntimeError("user has no current sign-in record")
        return self.current_sign_in_id

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return bool(self.active)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class SignIn(db.Model):
    """One login on one device. Revoking it ends that device's session and remember cookie."""

    __tablename__ = "sign_in"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    device_label: Mapped[str] = mapped_column(String(120), default="")
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lets a phone that logged out offline end this sign-in once it is back online. It can only
    # end this one sign-in, so the page may keep it while the cookie is being wiped.
    logout_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(24)
    )

    user: Mapped[User] = relationship()

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)


class ActionToken(db.Model):
    """A one-time link (invitation, password reset). Only a hash of the secret is stored."""

    __tablename__ = "action_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The link dies when the address it was sent to changes (hash of the address at issue).
    email_hash: Mapped[str | None] = mapped_column(String(64))
    # First open: the secret is exchanged for a short-lived form bound to that browser session.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    binding_hash: Mapped[str | None] = mapped_column(String(64))
    # How an invitation was handed over (InvitationDelivery): mailed, shown to the admin, or
    # a mail that failed. None for password resets.
    delivery: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship()


class WebAuthnCredential(db.Model):
    """A passkey: the public half of a key pair kept by the user's device or security key."""

    __tablename__ = "webauthn_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class TotpFactor(db.Model):
    """An authenticator app (RFC 6238). The secret is encrypted with the key-encryption key."""

    __tablename__ = "totp_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The last 30-second step a code was accepted for: a code is never accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One of the ten single-use codes given with a TOTP app; only a hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """A failed sign-in, keyed by hashes of the account and of the client (no personal data)."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_login_failure_account_client", "account_key", "client_key"),)


class Employee(db.Model):
    __tablename__ = "employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    family_name_ascii: Mapped[str | None] = mapped_column(String(100))
    given_names_ascii: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(String(2))
    residence_state: Mapped[str] = mapped_column(String(2))
    home_state: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The CSV import that created this employee (its report lists who still needs an
    # invitation); cleared when retention deletes the uploaded file.
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("employee_import.id", ondelete="SET NULL"), index=True
    )

    company: Mapped[Company] = relationship()
    user: Mapped[User] = relationship(back_populates="employee")
    trips: Mapped[list[Trip]] = relationship(back_populates="employee", order_by="Trip.start_date")
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="employee", order_by="Certificate.valid_from"
    )

    __table_args__ = (Index("ix_employee_company_family", "company_id", "family_name"),)

    @property
    def display_name(self) -> str:
        return f"{self.given_names} {self.family_name}"

    @property
    def active(self) -> bool:
        return self.user.active


class Trip(db.Model):
    __tablename__ = "trip"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    destination_state: Mapped[str] = mapped_column(String(2))
    work_states: Mapped[str] = mapped_column(String(120))  # comma-separated alpha-2 codes
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24), default=TripKind.POSTING.value)
    purpose: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(24), default=TripStatus.PLANNED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The facts the engine needs beyond the employee's record (web/trips/coverage.py).
    employment_status: Mapped[str] = mapped_column(
        String(32), default=EmploymentStatus.EMPLOYED.value, server_default="employed"
    )
    prior_insurance_months: Mapped[int | None] = mapped_column(Integer)
    replacing_posted_worker: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    employer_substantial_activity: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    work_split: Mapped[str] = mapped_column(String(200), default="", server_default="")
    art16_agreement: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    # A person recruited for the posting: the state whose legislation applied just before.
    previous_legislation_state: Mapped[str | None] = mapped_column(String(2))
    # A self-employed person working in several states: where the fixed place of business is.
    fixed_place_of_business: Mapped[str | None] = mapped_column(String(2))
    # The end first filed with the authority, from the requests (web/trips/assessment.py).
    original_end_date: Mapped[date | None] = mapped_column(Date)
    # The engine's last answer: the whole result as JSON, and two columns to filter on.
    coverage_json: Mapped[str | None] = mapped_column(Text)
    coverage_type: Mapped[str | None] = mapped_column(String(32))
    coverage_category: Mapped[str | None] = mapped_column(String(16))
    determined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    employee: Mapped[Employee] = relationship(back_populates="trips")

    __table_args__ = (Index("ix_trip_company_start", "company_id", "start_date"),)

    @property
    def work_state_list(self) -> list[str]:
        return [s for s in self.work_states.split(",") if s]


class Certificate(db.Model):
    """An A1 or CoC, official (from an authority) or provisional (signed by the provider)."""

    __tablename__ = "certificate"

    # 16 Crockford-Base32 characters: the 10 random bytes that the signed QR carries.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trip.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    legislation_state: Mapped[str] = mapped_column(String(2))
    work_states: Mapped[str] = mapped_column(String(120))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date, index=True)
    issuing_institution: Mapped[str | None] = mapped_column(String(120))
    authority_reference: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.ACTIVE.value)
    verification_code: Mapped[str] = mapped_column(String(12), unique=True)
    qr_text: Mapped[str | None] = mapped_column(Text)
    signing_kid: Mapped[str | None] = mapped_column(ForeignKey("signing_key.kid"), index=True)
    document_path: Mapped[str | None] = mapped_column(String(255))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_filename: Mapped[str | None] = mapped_column(String(255))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))
    superseded_by_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The issuing form's (or client's) Idempotency-Key: a replayed issue finds this certificate.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # The provider's review of an official certificate (four eyes: never its recorder).
    institution_other_justification: Mapped[str | None] = mapped_column(String(500))
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(500))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))

    employee: Mapped[Employee] = relationship(back_populates="certificates")
    trip: Mapped[Trip | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    # One certificate per key and company (NULLs, certificates issued without a key, are distinct).
    __table_args__ = (UniqueConstraint("company_id", "idempotency_key"),)

    @property
    def work_state_list(self) -> list[str]:
        return [s for s in self.work_states.split(",") if s]

    @property
    def verification_code_display(self) -> str:
        c = self.verification_code
        return f"{c[0:4]}-{c[4:8]}-{c[8:12]}"

    def display_status(self, today: date) -> str:
        """valid / not_yet_valid / expired / withdrawn / superseded, for lists and chips."""
        if self.status != CertificateStatus.ACTIVE:
            return self.status
        if today < self.valid_from:
            return "not_yet_valid"
        if today > self.valid_to:
            return "expired"
        return "valid"


class SigningKey(db.Model):
    """An ES256 key of the provider. The private half is stored encrypted (AES-GCM)."""

    __tablename__ = "signing_key"
    __table_args__ = (
        # One active key per document class at most, even when two workers create the first
        # key of a class at the same moment (NULL markers do not collide).
        UniqueConstraint("document_class", "active_marker"),
        CheckConstraint("document_class IN ('provisional', 'official')", name="document_class"),
    )

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex of 8 bytes
    public_key_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default=KeyState.PUBLISHED.value)
    # The kind of certificate the key may sign (CertificateKind's values, which are the QR's
    # kind names): a key that signs provisional statements never signs an official record.
    document_class: Mapped[str] = mapped_column(
        String(16),
        default=CertificateKind.PROVISIONAL.value,
        server_default=CertificateKind.PROVISIONAL.value,
    )
    # 1 for the active key of its class, NULL otherwise.
    active_marker: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(String(500))

    @property
    def state_label(self) -> str:
        return KeyState(self.state).label

    @property
    def document_class_label(self) -> str:
        return CertificateKind(self.document_class).signing_class_label


class PushSubscription(db.Model):
    """A browser's push subscription (one per user and device)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048))
    endpoint_hash: Mapped[str] = mapped_column(
        String(64), unique=True
    )  # endpoints are too long to index
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    device_label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a relay until lease_until (then due again: at least once)
    SENT = "sent"
    GONE = "gone"  # the subscription no longer exists (404/410)
    DEAD = "dead"  # gave up after retries, or refused for good: shown in the operator console


class OutboxMessage(db.Model):
    """A push message to one subscription, written in the same transaction as its cause."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscription.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # reminder.expiry, reminder.trip, alert, …
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(500))
    topic: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    ttl: Mapped[int] = mapped_column(Integer, default=86400)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone acknowledged it

    # The relay's queries: high-urgency messages first, then the others, each oldest due first.
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_urgency_due", "status", "urgency", "next_attempt_at"),
    )


class Reminder(db.Model):
    """One reminder that was sent: the unique key makes every reminder go out exactly once,
    however often, and on however many machines, the reminder job runs."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # expiry, renewal, uncovered_trip
    subject_id: Mapped[str] = mapped_column(String(32))  # certificate or trip id
    threshold_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "subject_id", "threshold_days"),)


class Incident(db.Model):
    """ "An authority is asking": one per tap, however often the phone replays the alert."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trip.id"))
    certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    country: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    tapped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.NEW.value, index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    message_to_employee: Mapped[str | None] = mapped_column(String(1000))

    employee: Mapped[Employee] = relationship()
    trip: Mapped[Trip | None] = relationship()
    certificate: Mapped[Certificate | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    notes: Mapped[list[IncidentNote]] = relationship(
        back_populates="incident", order_by="IncidentNote.created_at"
    )
    # Every tap that joined this incident (the first one too), in time order.
    taps: Mapped[list[IncidentTap]] = relationship(
        back_populates="incident", order_by="IncidentTap.tapped_at"
    )

    # A replayed alert (same phone, same key) finds the incident instead of making another.
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)


class IncidentTap(db.Model):
    """One tap of "An authority is asking". Taps of one employee close together (one inspection)
    join the same open incident; the key finds the incident again when the phone replays it."""

    __tablename__ = "incident_tap"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    tapped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="taps")

    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)


class CertificateRequest(db.Model):
    """A request filed with the authority: draft → submitted → issued or refused.

    ``kind`` says what is asked: the first certificate of a trip, an extension (a new period), an
    Art 16 derogation (a posting beyond 24 months) or the renewal of a multi-state A1.
    """

    __tablename__ = "certificate_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), default=RequestKind.INITIAL.value)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.DRAFT.value)
    document_type: Mapped[str] = mapped_column(String(8))
    certificate_type: Mapped[str] = mapped_column(String(32))
    legislation_state: Mapped[str] = mapped_column(String(2))
    issuer: Mapped[str | None] = mapped_column(String(200))
    work_states: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    lead_time_days: Mapped[int] = mapped_column(Integer)
    # The preconditions the admin confirms before submitting (docs/legal-rules.md §3).
    registered_for_period: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_insurance_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    not_replacing_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    substantial_activity_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_by: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    provisional_certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    previous_certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificate.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    employee: Mapped[Employee] = relationship()
    trip: Mapped[Trip] = relationship()
    certificate: Mapped[Certificate | None] = relationship(foreign_keys=[certificate_id])
    provisional_certificate: Mapped[Certificate | None] = relationship(
        foreign_keys=[provisional_certificate_id]
    )
    previous_certificate: Mapped[Certificate | None] = relationship(
        foreign_keys=[previous_certificate_id]
    )

    @property
    def work_state_list(self) -> list[str]:
        return [s for s in self.work_states.split(",") if s]


class FilingState(db.Model):
    """A state where the provider files certificate requests with the authority itself (the
    "official" category); the operator keeps the list. ``lead_time_days``: the usual time from
    filing to the authority's document, as the operator knows it."""

    __tablename__ = "provider_filing_state"

    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=30)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IncidentNote(db.Model):
    __tablename__ = "incident_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class EmployeeImport(db.Model):
    """An uploaded CSV kept until the admin confirms it, so a report never loses the file."""

    __tablename__ = "employee_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_count: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(db.Model):
    """Who did what to which object, when, with what outcome. Never personal data in message."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str | None] = mapped_column(String(24))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    message: Mapped[str] = mapped_column(String(500), default="")


class JobRunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(db.Model):
    """One run of a periodic job (web/jobs/): the row is the claim. Its unique (job, period)
    makes each job run once per period however many schedulers run, on however many machines;
    the last succeeded row gives the job's last success time (metrics)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))  # e.g. 2026-12-02T14:47 or 2026-12-02
    status: Mapped[str] = mapped_column(String(16), default=JobRunStatus.RUNNING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    runner: Mapped[str] = mapped_column(String(120), default="")  # host:pid, for the operator
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(500))  # the job's counts, JSON
    error: Mapped[str | None] = mapped_column(String(200))  # exception class, no personal data

    __table_args__ = (
        UniqueConstraint("job", "period"),
        Index("ix_job_run_job_status", "job", "status", "finished_at"),
    )


class Declaration(db.Model):
    """The posted-worker declaration of one trip in its host state (web/declarations/): the
    answer that decides whether one is needed, the filing with the national portal and its
    receipt, and the fields of the EU standard declaration form, so that filing can be automated
    once portals open an interface. Whether one is needed and by when is computed from the
    versioned rules (web/declarations/data/rules.json), never stored."""

    __tablename__ = "declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"), unique=True)
    # "Does the employee provide a service there?" — None until answered; the exemption chosen
    # (a code of web/declarations/rules.py) when the host state's rules list one that applies.
    provides_service: Mapped[bool | None] = mapped_column(Boolean)
    exemption: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The filing: the day it was filed, the portal's receipt number, the receipt (PDF or image,
    # kept under DOCUMENTS_PATH like the authorities' PDFs).
    filed_on: Mapped[date | None] = mapped_column(Date)
    receipt_number: Mapped[str | None] = mapped_column(String(100))
    receipt_path: Mapped[str | None] = mapped_column(String(255))
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))
    receipt_filename: Mapped[str | None] = mapped_column(String(255))
    receipt_media_type: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The EU standard form's items the trip and the employee record do not already hold.
    provider_registration: Mapped[str] = mapped_column(String(64), default="", server_default="")
    provider_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    recipient_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recipient_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    workplace_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    sector: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    contact_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trip: Mapped[Trip] = relationship()

    # Not a column: the file of a receipt a new filing replaced, deleted after the commit.
    replaced_receipt_path = None


class MailOutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one sender until lease_until
    SENT = "sent"
    NOT_SENT = "not_sent"  # no mail server configured: nothing was sent, nothing will be
    DEAD = "dead"  # failed MAIL_MAX_ATTEMPTS times


class MailOutboxMessage(db.Model):
    """An e-mail written in the same transaction as its cause (a reminder's unique row) and
    sent afterwards by whichever sender claims it first (web/declarations/mail.py)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    template: Mapped[str] = mapped_column(String(32))  # names the kind of mail in the log
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailOutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_mail_outbox_status", "status"),)

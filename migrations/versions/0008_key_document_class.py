"""signing keys get a document class

Revision ID: 0008_key_document_class
Revises: 0007_official_review
Create Date: 2026-12-02

Every signing key now has a document class, ``provisional`` or ``official`` (the QR's ``kind``
names): a key signs only certificates of its own class, each class has its own active key, and
verifiers refuse a token whose kind differs from its key's class (``kind_mismatch``).

Note for the audit trail
------------------------
Until this revision one key signed both kinds, and the official certificates it signed were
never confirmed by the provider. So:

- every existing key becomes class ``provisional`` (one ``key.classified`` audit event each);
  it keeps verifying the provisional certificates it signed, and can never again vouch for an
  official record, in our verifiers or in anyone's who reads the published class;
- every current (``active``) official certificate still signed by such a key goes back to
  ``pending_review``: its QR text and signing key are cleared, and one
  ``certificate.review_required`` audit event (actor role ``migration``) names the key that had
  signed it. A provider reviewer confirms it in the review queue, which signs it with the
  ``official`` key (created on first use: ``flask --app app keys list`` shows it). Until then an
  inspector scanning its old QR reads "Not genuine" (``kind_mismatch``); printed copies must be
  replaced after the confirmation;
- withdrawn and superseded official certificates keep their record as it was (they are not in
  use; their old QR answers "Not genuine" too).

Downgrade: the column and the per-class rule go; an active ``official`` key is retired (the older
code has one active key, the provisional one). Certificates stay as they are.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008_key_document_class"
down_revision = "0007_official_review"
branch_labels = None
depends_on = None

_audit_event = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime()),
    sa.column("actor_role", sa.String()),
    sa.column("company_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("message", sa.String()),
)
_certificate = sa.table(
    "certificate",
    sa.column("id", sa.String()),
    sa.column("company_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("status", sa.String()),
    sa.column("qr_text", sa.Text()),
    sa.column("signing_kid", sa.String()),
)
_signing_key = sa.table(
    "signing_key",
    sa.column("kid", sa.String()),
    sa.column("state", sa.String()),
    sa.column("document_class", sa.String()),
    sa.column("active_marker", sa.Integer()),
    sa.column("retired_at", sa.DateTime()),
)


_AUDIT_COLUMNS = (
    "at",
    "actor_role",
    "company_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "message",
)


def _insert_audit_events(now, action, object_type, table, object_id, company_id, message, where):
    """One audit event per row of `table` matching `where`, written by the database itself."""
    rows = (
        sa.select(
            sa.literal(now, sa.DateTime()),
            sa.literal("migration"),
            company_id,
            sa.literal(action),
            sa.literal(object_type),
            object_id,
            sa.literal("ok"),
            message,
        )
        .select_from(table)
        .where(where)
    )
    op.get_bind().execute(sa.insert(_audit_event).from_select(_AUDIT_COLUMNS, rows))


def upgrade():
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "document_class",
                sa.String(length=16),
                nullable=False,
                server_default="provisional",
            )
        )
        batch_op.drop_constraint(batch_op.f("uq_signing_key_active_marker"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_signing_key_document_class"), ["document_class", "active_marker"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_signing_key_document_class"),
            "document_class IN ('provisional', 'official')",
        )

    now = datetime.now(UTC).replace(tzinfo=None)  # the app stores naive UTC
    _insert_audit_events(
        now,
        "key.classified",
        "signing_key",
        _signing_key,
        _signing_key.c.kid,
        sa.null(),
        sa.literal("class provisional: it signed before keys had a class (migration 0008)"),
        sa.true(),
    )

    certificate = _certificate.c
    signed_official = sa.and_(
        certificate.kind == "official",
        certificate.status == "active",
        certificate.signing_kid.is_not(None),
    )
    _insert_audit_events(
        now,
        "certificate.review_required",
        "certificate",
        _certificate,
        certificate.id,
        certificate.company_id,
        sa.literal("official, signed by ")
        + certificate.signing_kid
        + sa.literal(
            ", a provisional-class key: back to review, to be confirmed and signed by the "
            "official key (migration 0008)"
        ),
        signed_official,
    )
    op.get_bind().execute(
        sa.update(_certificate)
        .where(signed_official)
        .values(status="pending_review", qr_text=None, signing_kid=None)
    )


def downgrade():
    # The older code allows one active key: the provisional key stays, an official one retires.
    op.get_bind().execute(
        sa.update(_signing_key)
        .where(_signing_key.c.document_class == "official", _signing_key.c.state == "active")
        .values(
            state="retired",
            active_marker=None,
            retired_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_signing_key_document_class"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_signing_key_document_class"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_signing_key_active_marker"), ["active_marker"]
        )
        batch_op.drop_column("document_class")

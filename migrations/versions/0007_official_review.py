"""official certificates wait for provider review

Revision ID: 0007_official_review
Revises: 0006_certificate_requests
Create Date: 2026-12-02

An official certificate recorded by a customer is stored as ``pending_review``, unsigned, until a
provider reviewer (an operator, or a support agent given ``can_review_certificates``) confirms
it; only then is it signed. The review's who/when/why is kept on the certificate.

Existing official certificates that no operator recorded were signed without any check: they go
into the review queue (status ``pending_review``, their QR and key cleared), so nothing a
customer alone recorded keeps answering "official" to an inspector.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_official_review"
down_revision = "0006_certificate_requests"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "can_review_certificates", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("institution_other_justification", sa.String(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("supersedes_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_certificate_supersedes_id_certificate"),
            "certificate",
            ["supersedes_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificate_reviewed_by_id_user_account"),
            "user_account",
            ["reviewed_by_id"],
            ["id"],
        )
    # Recorded by an operator: that was the provider's check (as the filing workflow now does).
    op.execute(
        sa.text(
            "UPDATE certificate SET reviewed_by_id = created_by_id, reviewed_at = created_at "
            "WHERE kind = 'official' AND status IN ('active', 'superseded') AND created_by_id IN "
            "(SELECT id FROM user_account WHERE role = 'operator')"
        )
    )
    # Recorded by a customer (or by no one known) and signed at once: review them now.
    op.execute(
        sa.text(
            "UPDATE certificate SET status = 'pending_review', qr_text = NULL, signing_kid = NULL "
            "WHERE kind = 'official' AND status = 'active' AND (created_by_id IS NULL OR "
            "created_by_id NOT IN (SELECT id FROM user_account WHERE role = 'operator'))"
        )
    )


def downgrade():
    # The older code knows no review: what is not confirmed must not look valid there.
    op.execute(
        sa.text(
            "UPDATE certificate SET status = 'withdrawn' "
            "WHERE status IN ('pending_review', 'rejected')"
        )
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_certificate_reviewed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_certificate_supersedes_id_certificate"), type_="foreignkey"
        )
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("institution_other_justification")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("can_review_certificates")

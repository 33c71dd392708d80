"""posted-worker declarations per trip, and the mail outbox of their reminders

Revision ID: 0014_declarations
Revises: 0013_account_factors
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_declarations"
down_revision = "0013_account_factors"
branch_labels = None
depends_on = None


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False, server_default="")


def upgrade():
    op.create_table(
        "declaration",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("trip_id", sa.Integer(), sa.ForeignKey("trip.id"), nullable=False, unique=True),
        sa.Column("provides_service", sa.Boolean(), nullable=True),
        sa.Column("exemption", sa.String(32), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("receipt_number", sa.String(100), nullable=True),
        sa.Column("receipt_path", sa.String(255), nullable=True),
        sa.Column("receipt_sha256", sa.String(64), nullable=True),
        sa.Column("receipt_filename", sa.String(255), nullable=True),
        sa.Column("receipt_media_type", sa.String(32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        _text("provider_registration", 64),
        _text("provider_address", 300),
        _text("recipient_name", 200),
        _text("recipient_address", 300),
        _text("workplace_address", 300),
        _text("sector", 200),
        _text("contact_name", 200),
        _text("contact_email", 254),
        _text("contact_phone", 40),
        _text("contact_address", 300),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_declaration_company_id", "declaration", ["company_id"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_mail_outbox_user_id", "mail_outbox", ["user_id"])
    op.create_index("ix_mail_outbox_status", "mail_outbox", ["status"])


def downgrade():
    op.drop_index("ix_mail_outbox_status", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_user_id", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_declaration_company_id", table_name="declaration")
    op.drop_table("declaration")

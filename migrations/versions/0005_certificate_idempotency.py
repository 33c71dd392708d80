"""certificates: idempotency key of the issuing request

Revision ID: 0005_certificate_idempotency
Revises: 0004
Create Date: 2026-11-23 09:00:00

A replayed "issue provisional certificate" request (same key, same company) finds the
certificate already issued instead of signing a second one. Existing rows keep NULL: a unique
constraint treats NULLs as distinct on SQLite and PostgreSQL alike.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_certificate_idempotency"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificate_company_id"), ["company_id", "idempotency_key"]
        )


def downgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certificate_company_id"), type_="unique")
        batch_op.drop_column("idempotency_key")

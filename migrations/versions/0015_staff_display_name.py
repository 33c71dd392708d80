"""the name a support agent or operator is shown by to employees ("Maria from support")

Revision ID: 0015_staff_display_name
Revises: 0014_declarations
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_staff_display_name"
down_revision = "0014_declarations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("display_name", sa.String(80), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("display_name")

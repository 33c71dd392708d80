"""invitations after a CSV import: which import made an employee, how each link was handed over

Revision ID: 0016_invitations
Revises: 0015_staff_display_name
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_invitations"
down_revision = "0015_staff_display_name"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("employee") as batch:
        batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_employee_import_id_employee_import",
            "employee_import",
            ["import_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_employee_import_id", ["import_id"], unique=False)
    with op.batch_alter_table("action_token") as batch:
        batch.add_column(sa.Column("delivery", sa.String(16), nullable=True))


def downgrade():
    with op.batch_alter_table("action_token") as batch:
        batch.drop_column("delivery")
    with op.batch_alter_table("employee") as batch:
        batch.drop_index("ix_employee_import_id")
        batch.drop_constraint("fk_employee_import_id_employee_import", type_="foreignkey")
        batch.drop_column("import_id")

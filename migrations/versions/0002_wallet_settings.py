"""wallet: location consent, offline logout token

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:05:45.486255

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("location_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logout_token", sa.String(length=64), nullable=True))
    # Existing sign-ins get a token each before the column becomes required.
    connection = op.get_bind()
    sign_in = sa.table("sign_in", sa.column("id", sa.String), sa.column("logout_token", sa.String))
    for (sign_in_id,) in connection.execute(sa.select(sign_in.c.id)).all():
        connection.execute(
            sign_in.update()
            .where(sign_in.c.id == sign_in_id)
            .values(logout_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.alter_column("logout_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_sign_in_logout_token"), ["logout_token"])


def downgrade():
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sign_in_logout_token"), type_="unique")
        batch_op.drop_column("logout_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("location_consent")

"""accounts: passkeys, TOTP, recovery codes, login throttling

Revision ID: 0013_account_factors
Revises: 0012_operations
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_account_factors'
down_revision = '0012_operations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("company") as batch:
        batch.add_column(
            sa.Column(
                "require_second_factor", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("webauthn_handle", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_user_account_webauthn_handle", ["webauthn_handle"])
    with op.batch_alter_table("action_token") as batch:
        batch.add_column(sa.Column("email_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("binding_hash", sa.String(64), nullable=True))
    op.create_table(
        "webauthn_credential",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_webauthn_credential_user_id", "webauthn_credential", ["user_id"])
    op.create_table(
        "totp_factor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False, unique=True
        ),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_login_failure_created_at", "login_failure", ["created_at"])
    op.create_index(
        "ix_login_failure_account_client", "login_failure", ["account_key", "client_key"]
    )


def downgrade():
    op.drop_table("login_failure")
    op.drop_index("ix_recovery_code_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("totp_factor")
    op.drop_index("ix_webauthn_credential_user_id", table_name="webauthn_credential")
    op.drop_table("webauthn_credential")
    with op.batch_alter_table("action_token") as batch:
        batch.drop_column("binding_hash")
        batch.drop_column("opened_at")
        batch.drop_column("email_hash")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint("uq_user_account_webauthn_handle", type_="unique")
        batch.drop_column("webauthn_handle")
    with op.batch_alter_table("company") as batch:
        batch.drop_column("require_second_factor")

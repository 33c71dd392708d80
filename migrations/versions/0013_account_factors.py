"""accounts: passkeys, TOTP, recovery codes, login throttling

Revision ID: 0013_account_factors
Revises: 0012_operations
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0013_account_factors'
down_revision = '0012_operations'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

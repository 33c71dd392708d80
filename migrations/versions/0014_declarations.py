"""posted-worker declarations per trip

Revision ID: 0014_declarations
Revises: 0013_account_factors
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0014_declarations'
down_revision = '0013_account_factors'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

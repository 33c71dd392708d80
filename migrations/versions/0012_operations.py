"""operations: job runs, retention

Revision ID: 0012_operations
Revises: 0011_coverage_catalogue
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0012_operations'
down_revision = '0011_coverage_catalogue'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

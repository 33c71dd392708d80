"""incidents join repeated taps

Revision ID: 0010_incident_taps
Revises: 0009_push_hardening
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0010_incident_taps'
down_revision = '0009_push_hardening'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

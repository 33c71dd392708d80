"""coverage: trip history for the engine

Revision ID: 0011_coverage_catalogue
Revises: 0010_incident_taps
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0011_coverage_catalogue'
down_revision = '0010_incident_taps'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

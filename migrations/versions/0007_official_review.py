"""official certificates wait for provider review

Revision ID: 0007_official_review
Revises: 0006_certificate_requests
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0007_official_review'
down_revision = '0006_certificate_requests'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

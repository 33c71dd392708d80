"""signing keys get a document class

Revision ID: 0008_key_document_class
Revises: 0007_official_review
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0008_key_document_class'
down_revision = '0007_official_review'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

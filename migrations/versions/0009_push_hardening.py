"""push subscriptions and relay hardening

Revision ID: 0009_push_hardening
Revises: 0008_key_document_class
Create Date: 2026-12-02

Placeholder: filled by the change that needs it.
"""

revision = '0009_push_hardening'
down_revision = '0008_key_document_class'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

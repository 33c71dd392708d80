"""push subscriptions and relay hardening

Revision ID: 0009_push_hardening
Revises: 0008_key_document_class
Create Date: 2026-12-02

The relay claims high-urgency messages ("an authority is asking", escalations) before anything
else: an index on (status, urgency, next_attempt_at) keeps that claim an index range scan however
many reminders are queued.
"""

from alembic import op

revision = '0009_push_hardening'
down_revision = '0008_key_document_class'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_urgency_due', ['status', 'urgency', 'next_attempt_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_urgency_due')

"""incidents join repeated taps

Revision ID: 0010_incident_taps
Revises: 0009_push_hardening
Create Date: 2026-12-02

Every tap of "An authority is asking" is a row of incident_tap; taps of one employee close
together join one open incident. Each existing incident gets its one tap.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_incident_taps'
down_revision = '0009_push_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'incident_tap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=64), nullable=False),
        sa.Column('tapped_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['incident_id'], ['incident.id'], name=op.f('fk_incident_tap_incident_id_incident')
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name=op.f('fk_incident_tap_user_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_tap')),
        sa.UniqueConstraint('user_id', 'idempotency_key', name=op.f('uq_incident_tap_user_id')),
    )
    with op.batch_alter_table('incident_tap', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_incident_tap_incident_id'), ['incident_id'], unique=False
        )
    op.execute(
        "INSERT INTO incident_tap (incident_id, user_id, idempotency_key, tapped_at, created_at) "
        "SELECT id, user_id, idempotency_key, tapped_at, created_at FROM incident"
    )


def downgrade():
    with op.batch_alter_table('incident_tap', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_tap_incident_id'))
    op.drop_table('incident_tap')

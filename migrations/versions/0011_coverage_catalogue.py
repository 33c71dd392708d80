"""coverage: trip history for the engine

Revision ID: 0011_coverage_catalogue
Revises: 0010_incident_taps
Create Date: 2026-12-02

The facts the coverage engine needs beyond the employee's record: the legislation that applied
before a person recruited for the posting, a self-employed person's fixed place of business, and
the end first filed with the authority (computed from the requests, kept on the trip).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_coverage_catalogue"
down_revision = "0010_incident_taps"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trip") as batch:
        batch.add_column(sa.Column("previous_legislation_state", sa.String(2), nullable=True))
        batch.add_column(sa.Column("fixed_place_of_business", sa.String(2), nullable=True))
        batch.add_column(sa.Column("original_end_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("trip") as batch:
        batch.drop_column("original_end_date")
        batch.drop_column("fixed_place_of_business")
        batch.drop_column("previous_legislation_state")

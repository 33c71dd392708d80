"""operations: job runs, retention

Revision ID: 0012_operations
Revises: 0011_coverage_catalogue
Create Date: 2026-12-02

The job_run table: one row per run of a periodic job (web/jobs/), unique per job and period, so
that several schedulers run each job once per period. Retention (web/jobs/retention.py) needs
no schema change.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012_operations'
down_revision = '0011_coverage_catalogue'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("runner", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_job_run_job")),
    )
    op.create_index(
        "ix_job_run_job_status", "job_run", ["job", "status", "finished_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_job_run_job_status", table_name="job_run")
    op.drop_table("job_run")

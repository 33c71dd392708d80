"""declaration reminders keyed by the date they are about: "42" → "42:20261215"

Since 2edb19a the declaration reminders are claimed once per (trip, file-by date, threshold) and
once per (trip, start date): Reminder.subject_id is "<trip id>:<YYYYMMDD>". Rows written before
carry the plain trip id, so without this revision every reminder already sent would be sent again
after the upgrade. Each old row gets the date the reminder job computes for the trip as it is now:
the file-by date for "decl_due" (from the host state's rules, web/declarations/rules.py, the same
function the job uses, so the keys match), the start date for "decl_started". A reminder whose
trip is gone never matches a trip again and is left as it is; other kinds are not touched.

Downgrade strips the date again; of rows that would then collide (the same trip reminded about
two dates) one is kept, which is what the older code would have recorded.

Revision ID: 0017_declaration_reminder_keys
Revises: 0016_invitations
Create Date: 2026-12-03
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0017_declaration_reminder_keys"
down_revision = "0016_invitations"
branch_labels = None
depends_on = None

DUE = "decl_due"
STARTED = "decl_started"

_reminder = sa.table(
    "reminder",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("threshold_days", sa.Integer),
)
_trip = sa.table(
    "trip",
    sa.column("id", sa.Integer),
    sa.column("destination_state", sa.String),
    sa.column("start_date", sa.Date),
)


def _file_by(destination: str, start: date) -> date:
    """The trip's file-by date as the reminder job computes it now; the start date where the
    rules give none (such a trip is not reminded about any more, so any key is safe)."""
    # The rules are versioned data shipped with the code, read the way the job reads them.
    from web.declarations.rules import rule_for

    rule = rule_for(destination)
    return rule.file_by(start) if rule is not None and rule.required else start


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def upgrade():
    bind = op.get_bind()
    old = bind.execute(
        sa.select(
            _reminder.c.id,
            _reminder.c.kind,
            _reminder.c.subject_id,
            _reminder.c.threshold_days,
            _trip.c.destination_state,
            _trip.c.start_date,
        )
        .join(_trip, sa.cast(_trip.c.id, sa.String) == _reminder.c.subject_id)
        .where(_reminder.c.kind.in_((DUE, STARTED)))
    ).all()
    taken = {
        (row.kind, row.subject_id, row.threshold_days)
        for row in bind.execute(
            sa.select(_reminder.c.kind, _reminder.c.subject_id, _reminder.c.threshold_days).where(
                _reminder.c.kind.in_((DUE, STARTED)), _reminder.c.subject_id.contains(":")
            )
        )
    }
    for row in old:
        start = _as_date(row.start_date)
        day = _file_by(row.destination_state, start) if row.kind == DUE else start
        subject = f"{row.subject_id}:{day:%Y%m%d}"
        key = (row.kind, subject, row.threshold_days)
        if key in taken:
            # The newer code already claimed it (it ran before this revision): one row is enough.
            bind.execute(sa.delete(_reminder).where(_reminder.c.id == row.id))
            continue
        taken.add(key)
        bind.execute(
            sa.update(_reminder).where(_reminder.c.id == row.id).values(subject_id=subject)
        )


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            _reminder.c.id, _reminder.c.kind, _reminder.c.subject_id, _reminder.c.threshold_days
        )
        .where(_reminder.c.kind.in_((DUE, STARTED)))
        .order_by(_reminder.c.id)
    ).all()
    taken = {(r.kind, r.subject_id, r.threshold_days) for r in rows if ":" not in r.subject_id}
    for row in rows:
        if ":" not in row.subject_id:
            continue
        key = (row.kind, row.subject_id.split(":", 1)[0], row.threshold_days)
        if key in taken:
            bind.execute(sa.delete(_reminder).where(_reminder.c.id == row.id))
            continue
        taken.add(key)
        bind.execute(sa.update(_reminder).where(_reminder.c.id == row.id).values(subject_id=key[1]))

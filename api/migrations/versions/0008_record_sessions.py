"""record sessions: a record names its session's slot, carries a note, and a correction supersedes it

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06 23:50:00

- ``slot``: the session (assignment, day, slot) a record is of.  Records made before are
  matched to their day's slots of the assignment in the order they were made (what the
  服务记录 page showed); a record with no session left that day keeps an empty slot.
- ``outcome``: ``cancelled`` is split into ``cancelled_by_volunteer`` and
  ``cancelled_by_beneficiary``.  Who cancelled an old record is unknown; it becomes
  ``cancelled_by_beneficiary``, which does not count against the volunteer's reliability.
  The column widens to 32 characters.
- ``note``, ``correction_reason`` and ``superseded_by`` (the row that corrected this one).

Independent of 0007 (another branch's scenario table): it touches ``servicerecord`` only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # matcher.format.schema.DAYS, frozen here


def _slots(value: Any) -> list[str]:
    """A JSON column's list (SQLite's driver hands the text, PostgreSQL's the list)."""
    parsed = json.loads(value) if isinstance(value, str) else value
    return [str(s) for s in parsed or []]


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _backfill_slots() -> None:
    """Give each existing record the next unrecorded slot of its assignment on its day."""
    conn = op.get_bind()
    assignments = {
        row.id: _slots(row.slots) for row in conn.execute(sa.text("SELECT id, slots FROM planassignment"))
    }
    taken: dict[tuple[int, dt.date], int] = {}
    records = conn.execute(sa.text("SELECT id, assignment_id, served_on FROM servicerecord ORDER BY id"))
    updates = []
    for row in records.fetchall():
        day = _day(row.served_on)
        of_day = [
            s for s in assignments.get(row.assignment_id, []) if s.partition("-")[0] == _DAYS[day.weekday()]
        ]
        used = taken.get((row.assignment_id, day), 0)
        if used < len(of_day):
            taken[(row.assignment_id, day)] = used + 1
            updates.append({"id": row.id, "slot": of_day[used]})
    if updates:
        conn.execute(sa.text("UPDATE servicerecord SET slot = :slot WHERE id = :id"), updates)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("servicerecord", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slot", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("correction_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_servicerecord_superseded_by", "servicerecord", ["superseded_by"], ["id"]
        )
        batch_op.alter_column(
            "outcome",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
            existing_server_default="served",
        )
    op.execute("UPDATE servicerecord SET outcome = 'cancelled_by_beneficiary' WHERE outcome = 'cancelled'")
    _backfill_slots()


def downgrade() -> None:
    """Revert this revision: superseded records are dropped (0006 counts every row), both
    cancellations become ``cancelled``, and the slots, notes and reasons are lost."""
    # One statement: a chain of corrections (a -> b -> c) goes at once, so no row is left
    # pointing at a deleted one.
    op.execute("DELETE FROM servicerecord WHERE superseded_by IS NOT NULL")
    op.execute("UPDATE servicerecord SET outcome = 'cancelled' WHERE outcome LIKE 'cancelled_by_%'")
    with op.batch_alter_table("servicerecord", schema=None) as batch_op:
        batch_op.drop_constraint("fk_servicerecord_superseded_by", type_="foreignkey")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("correction_reason")
        batch_op.drop_column("note")
        batch_op.drop_column("slot")
        batch_op.alter_column(
            "outcome",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=False,
            existing_server_default="served",
        )

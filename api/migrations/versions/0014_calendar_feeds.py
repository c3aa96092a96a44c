"""calendar feeds: a volunteer's secret iCalendar link (the digest of its secret), one live at a time

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:01:01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "revoked_at IS NULL"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "calendarfeed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("station_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendarfeed_digest"), ["digest"], unique=True)
        batch_op.create_index(batch_op.f("ix_calendarfeed_station_id"), ["station_id"], unique=False)
        # One live link per volunteer (a partial unique index, on both databases).
        batch_op.create_index(
            "uq_calendarfeed_live",
            ["volunteer_id"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade() -> None:
    """Revert this revision (every calendar link stops working)."""
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.drop_index("uq_calendarfeed_live")
        batch_op.drop_index(batch_op.f("ix_calendarfeed_station_id"))
        batch_op.drop_index(batch_op.f("ix_calendarfeed_digest"))

    op.drop_table("calendarfeed")

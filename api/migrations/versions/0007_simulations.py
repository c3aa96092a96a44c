"""simulations: 情景模拟 jobs (a scenario run on a station's week), claimed from the same queue as plans

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "simulation",
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("scenario_text", sa.Text(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    # Workers look for queued and solving rows every half second.
    with op.batch_alter_table("simulation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_simulation_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_simulation_station_id"), ["station_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("simulation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulation_station_id"))
        batch_op.drop_index(batch_op.f("ix_simulation_state"))

    op.drop_table("simulation")

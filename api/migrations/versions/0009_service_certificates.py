"""service certificates: each 志愿服务证明 issued, found by its verification code

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:30:00

A new table only (``servicecertificate``); independent of 0007 (another branch's scenario table).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "servicecertificate",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("volunteer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("station_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issued_by"], ["token.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("servicecertificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_servicecertificate_volunteer_id"), ["volunteer_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision (the issued certificates' rows are dropped: their codes no longer check)."""
    with op.batch_alter_table("servicecertificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_servicecertificate_volunteer_id"))
    op.drop_table("servicecertificate")

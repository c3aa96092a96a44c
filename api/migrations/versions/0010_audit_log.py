"""audit log: every write's actor, time, record and change (append-only)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:10:00

A new table only (``auditentry``).  On PostgreSQL a trigger refuses UPDATE and DELETE of its
rows, so the log stays append-only even for a client that bypasses the service.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = (
    """CREATE FUNCTION auditentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auditentry is append-only';
END $$""",
    """CREATE TRIGGER auditentry_append_only BEFORE UPDATE OR DELETE ON auditentry
    FOR EACH ROW EXECUTE FUNCTION auditentry_append_only()""",
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("station_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditentry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_actor_token_id"), ["actor_token_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_station_id"), ["station_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in _REFUSE:
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision (the log is dropped)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER auditentry_append_only ON auditentry")
        op.execute("DROP FUNCTION auditentry_append_only()")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditentry_station_id"))
        batch_op.drop_index(batch_op.f("ix_auditentry_actor_token_id"))
        batch_op.drop_index(batch_op.f("ix_auditentry_at"))
    op.drop_table("auditentry")

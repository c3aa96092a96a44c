"""record outcome: a service record says whether the session was served, a no-show or cancelled

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("servicerecord", schema=None) as batch_op:
        # A default on the server: every record stored before this revision was a served session.
        batch_op.add_column(
            sa.Column(
                "outcome",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="served",
            )
        )


def downgrade() -> None:
    """Revert this revision (no-show and cancelled records, of 0 hours, are dropped first)."""
    op.execute("DELETE FROM servicerecord WHERE outcome <> 'served'")
    with op.batch_alter_table("servicerecord", schema=None) as batch_op:
        batch_op.drop_column("outcome")

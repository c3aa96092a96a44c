"""contact details: volunteers' phone and WeChat id; beneficiaries' address and contact person

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("wechat", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        # Empty text, not null, for the people stored before: their address is not known.
        batch_op.add_column(
            sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    """Revert this revision (the contact details are dropped)."""
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_name")
        batch_op.drop_column("address")
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_column("wechat")
        batch_op.drop_column("phone")

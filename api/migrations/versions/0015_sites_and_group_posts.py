"""sites and group posts (多人岗位, format 2): the site table; a need at a beneficiary or a site, for
one or more volunteers, with a priority (at a site) and a lead

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:01:25

A need stored before this revision is a beneficiary's need for one volunteer (``volunteers_min``
and ``volunteers_max`` 1, no priority of its own, no lead): the week's problem it makes is the
same as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named so that the downgrade can drop it (SQLite's batch mode and PostgreSQL alike).
SITE_FK = "fk_need_site_id_site"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "site",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("station_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["district"], ["district.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_station_id"), ["station_id"], unique=False)

    with op.batch_alter_table("need", schema=None) as batch_op:
        # Defaults on the server: the needs stored before this revision are for one volunteer.
        batch_op.add_column(sa.Column("volunteers_min", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("volunteers_max", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lead_certifications", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("lead_skills", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("site_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        # A need at a site has no beneficiary: exactly one of the two (checked by the service).
        batch_op.alter_column("beneficiary_id", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.create_index(batch_op.f("ix_need_site_id"), ["site_id"], unique=False)
        batch_op.create_foreign_key(SITE_FK, "site", ["site_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    """Revert this revision (the needs at sites are deleted: a need needs a beneficiary again)."""
    op.execute("DELETE FROM need WHERE beneficiary_id IS NULL")
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_constraint(SITE_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_need_site_id"))
        batch_op.alter_column("beneficiary_id", existing_type=sa.VARCHAR(), nullable=False)
        batch_op.drop_column("site_id")
        batch_op.drop_column("lead_skills")
        batch_op.drop_column("lead_certifications")
        batch_op.drop_column("priority")
        batch_op.drop_column("volunteers_max")
        batch_op.drop_column("volunteers_min")

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_station_id"))

    op.drop_table("site")

"""The audit family: ``AuditEntry`` (one row per written record, append-only) and ``AuditPublic``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow

ACTOR_KINDS = ("api", "web", "cli", "job", "system")
"""Who can write: a token over the API or the web pages, the command line, a job, or the
process itself with no caller (``system``: start-up, a test's own set-up)."""

AUDIT_ACTIONS = ("create", "update", "delete")


class AuditEntry(SQLModel, table=True):
    """One write to one record: who, when, what and the changed fields (before and after).

    Written by :mod:`api.audit` in the same transaction as the write it describes; no route
    or service updates or deletes a row (on PostgreSQL a trigger refuses it).
    """

    id: int | None = TableField(default=None, primary_key=True)
    at: dt.datetime = TableField(default_factory=utcnow, index=True)
    actor_token_id: int | None = TableField(default=None, index=True, description="The caller's token.")
    actor_label: str = TableField(default="", description="The token's label, or the CLI's user.")
    actor_kind: str = TableField(max_length=16, description=" / ".join(ACTOR_KINDS))
    station_id: str | None = TableField(default=None, index=True, description="The record's station.")
    entity: str = TableField(max_length=64, description="The table written (volunteer, need, …).")
    entity_id: str = TableField(max_length=128, description="The record's id.")
    action: str = TableField(max_length=16, description=" / ".join(AUDIT_ACTIONS))
    changes: dict[str, Any] = TableField(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="{field: [before, after]} of the fields written.",
    )


class AuditPublic(BaseModel):
    """An audit entry as ``GET /v1/audit`` shows it."""

    id: int
    at: dt.datetime
    actor_token_id: int | None = Field(description="The token that wrote (null: the CLI or a job).")
    actor_label: str = Field(description="Its label; the CLI's entries name the system user.")
    actor_kind: str = Field(description=" / ".join(ACTOR_KINDS))
    station_id: str | None = Field(description="The station the record belongs to (null: the centre's).")
    entity: str = Field(description="What was written: volunteer, beneficiary, need, certificate, …")
    entity_id: str
    action: str = Field(description=" / ".join(AUDIT_ACTIONS))
    changes: dict[str, Any] = Field(description="{field: [before, after]} of the changed fields only.")

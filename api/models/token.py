"""The token family: the ``Token`` table (a SHA-256 digest, never the secret), ``TokenCreate``,
``TokenPublic`` and ``TokenCreated`` (with the secret, shown once)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow
from matcher.format.bounds import Id


class Token(SQLModel, table=True):
    """An API token: the SHA-256 of its secret, scoped to one station or (station empty) the centre."""

    id: int | None = TableField(default=None, primary_key=True)
    digest: str = TableField(unique=True, index=True, max_length=64)
    station_id: str | None = TableField(default=None, foreign_key="station.id")
    label: str = ""
    created_at: dt.datetime = TableField(default_factory=utcnow)
    last_used_at: dt.datetime | None = TableField(
        default=None, description="When it last authenticated a request."
    )
    revoked_at: dt.datetime | None = TableField(
        default=None, description="When it was revoked; it no longer works."
    )


class TokenPublic(BaseModel):
    """A token as clients see it (never its secret or digest)."""

    id: int
    station_id: str | None = Field(description="The station it sees, or null for the centre.")
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="Last request it authenticated (to the minute).")
    revoked_at: dt.datetime | None = Field(description="When it was revoked; a revoked token gets 401.")


class TokenCreate(BaseModel):
    """A new token for one station, or (``station_id`` null) for the centre."""

    model_config = ConfigDict(extra="forbid")

    station_id: Id | None = Field(default=None, description="The station it will see; null: the centre.")
    label: Annotated[str, Field(strict=True, max_length=100)] = Field(
        default="", description="Who holds it, e.g. 'Xiongguan station coordinator'."
    )


class TokenCreated(TokenPublic):
    """A created token, with its secret (shown this once)."""

    secret: str = Field(description="Send as 'Authorization: Bearer <secret>'; it is not stored.")

"""The calendar family: ``CalendarFeed`` (a volunteer's secret iCalendar link: the SHA-256 digest of its
secret, never the secret), ``CalendarFeedPublic`` (whether a live link exists, never the secret) and
``CalendarFeedCreated`` (with the subscription URLs, shown once)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy import Index, text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow


class CalendarFeed(SQLModel, table=True):
    """A volunteer's calendar link (``GET /cal/<secret>.ics``): the SHA-256 of its secret.

    A volunteer has at most one live link (``revoked_at`` empty): a partial unique index holds it,
    so two links made at the same moment cannot both stay live.
    """

    __table_args__ = (
        Index(
            "uq_calendarfeed_live",
            "volunteer_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = TableField(default=None, primary_key=True)
    volunteer_id: str = TableField(foreign_key="volunteer.id", max_length=64)
    station_id: str = TableField(
        foreign_key="station.id", index=True, max_length=64, description="The volunteer's station."
    )
    digest: str = TableField(unique=True, index=True, max_length=64)
    created_at: dt.datetime = TableField(default_factory=utcnow)
    revoked_at: dt.datetime | None = TableField(
        default=None, description="When it was revoked (or replaced by a new link); it answers 404 since."
    )


class CalendarFeedPublic(BaseModel):
    """A volunteer's calendar link as clients see it: whether one is live, never its secret."""

    volunteer_id: str
    live: bool = Field(description="Whether the volunteer has a live link (made and not revoked).")
    created_at: dt.datetime | None = Field(description="When the live link was made; null without one.")


class CalendarFeedCreated(CalendarFeedPublic):
    """A new calendar link, with its subscription URLs (shown this once: only a digest is stored)."""

    url: str = Field(description="The feed, https://…/cal/<secret>.ics: anyone holding it reads the feed.")
    webcal_url: str = Field(
        description="The same feed as webcal://…: a phone opening it offers to subscribe its calendar."
    )

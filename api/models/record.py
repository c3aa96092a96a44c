"""The service-record family: the ``ServiceRecord`` table (hours actually served), ``RecordCreate`` and
``RecordPublic``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow
from matcher.format import bounds
from matcher.format.bounds import Rating, RecordHours, ServiceDay

MAX_ID = 2**31 - 1
"""The largest row id (an INTEGER column): larger ids are refused with 422, not looked up."""

OUTCOMES = ("served", "no_show", "cancelled")
"""How a planned session went: served (hours > 0), the volunteer did not come, or it was cancelled."""

Outcome = Literal["served", "no_show", "cancelled"]


class ServiceRecord(SQLModel, table=True):
    """Hours actually served for an assignment (服务记录)."""

    id: int | None = TableField(default=None, primary_key=True)
    assignment_id: int = TableField(foreign_key="planassignment.id", index=True)
    volunteer_id: str = TableField(foreign_key="volunteer.id", index=True)
    served_on: dt.date
    hours: float = TableField(
        ge=0, le=bounds.RECORD_HOURS_MAX, description="Hours served: more than 0 if served, else 0."
    )
    outcome: str = TableField(
        default="served", max_length=16, description="served, no_show or cancelled (only served counts)."
    )
    rating: int | None = TableField(
        default=None,
        ge=bounds.RATING_MIN,
        le=bounds.RATING_MAX,
        description="The beneficiary's rating, if given.",
    )
    created_at: dt.datetime = TableField(default_factory=utcnow)


class RecordCreate(BaseModel):
    """Hours served on one day for an assignment (an unknown field is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    assignment_id: int = Field(
        ge=1, le=MAX_ID, description="The assignment (row id of a finished plan version)."
    )
    served_on: ServiceDay = Field(description="The day served: within the plan's week.")
    hours: RecordHours | None = Field(
        default=None,
        description="Hours actually served: required when the outcome is served; left out (0) when the "
        "session was a no-show or cancelled.",
    )
    rating: Rating | None = Field(default=None, description="The beneficiary's rating, if given.")
    outcome: Outcome = Field(
        default="served",
        description="served (the default), no_show (the volunteer did not come) or cancelled; only served "
        "sessions count towards hours and stars.",
    )


class RecordPublic(BaseModel):
    """A service record as clients see it."""

    id: int
    assignment_id: int
    plan_id: int
    need_id: str
    volunteer_id: str
    served_on: dt.date
    hours: float = Field(description="Hours served (0 for a no-show or a cancelled session).")
    rating: int | None
    outcome: Outcome = Field(default="served", description="served, no_show or cancelled.")
    created_at: dt.datetime

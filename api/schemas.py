"""Request and response shapes that are not tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from matcher.format.bounds import WeekStart


class PlanRequest(BaseModel):
    """Ask for a station's plan of a week (generating a week again supersedes its earlier versions)."""

    model_config = ConfigDict(extra="forbid")

    week_start: WeekStart = Field(description="The Monday of the week to plan (2000-01-03 .. 2099-12-28).")


class PlanPublic(BaseModel):
    """A plan version (or a /v1/solve job) as clients see it."""

    id: int
    station_id: str | None
    week_start: dt.date
    version: int
    parent_id: int | None = Field(description="The version this one was re-solved from.")
    state: str = Field(description="queued, solving, done, failed or cancelled.")
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    plan: dict[str, Any] | None = Field(default=None, description="The format-1 plan, once done.")
    current: bool = Field(
        default=False,
        description="Whether this is the week's current version (the newest not failed or cancelled); "
        "only the current version takes a change set.",
    )


class DiffEntry(BaseModel):
    """One need whose volunteer or slots differ between two versions."""

    need: str
    before: dict[str, Any] | None = Field(
        description="{volunteer, slots} in `against`, or null if unmet/absent."
    )
    after: dict[str, Any] | None = Field(description="{volunteer, slots} in this version, or null.")


class PlanDiff(BaseModel):
    """What moved between two plan versions."""

    plan: int
    against: int
    changed: list[DiffEntry]

"""The plan family: ``PlanVersion`` (a week's plan version, or an integrator's job) with its
``PlanAssignment`` and ``PlanUnmet`` rows, ``PlanRequest``, ``PlanPublic`` (with each assignment's
stable id and sessions, ``AssignmentPublic``) and the diff shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import json_list, utcnow
from api.models.record import MAX_ID
from matcher.format.bounds import Id, WeekStart

JOB_STATES = ("queued", "solving", "done", "failed", "cancelled", "reverted")
"""A job's states; ``reverted``: a finished re-solve undone (``POST /v1/plans/{id}/revert``),
its parent current again."""


class QueuedJob(SQLModel):
    """The job queue's columns (:mod:`api.jobs`), declared once for every kind of job row
    (plan versions, simulations): a queued row is claimed by one worker at a time."""

    claimed_by: str | None = TableField(
        default=None, max_length=200, description="The worker that runs (or last ran) the job."
    )
    lease_until: dt.datetime | None = TableField(
        default=None, description="The claim holds until then unless its worker renews it."
    )
    attempts: int = TableField(default=0, ge=0, description="Times a worker claimed the job.")
    started_at: dt.datetime | None = TableField(default=None, description="When its latest run started.")
    cancel_requested: bool = TableField(default=False, description="DELETE asked the running job to stop.")


class PlanVersion(QueuedJob, table=True):
    """One version of a week's plan, or an integrator's solve job (``station_id`` empty).

    ``successor_of`` is the version a re-solve started from; it is unique, so of two
    concurrent change sets on one version only one can create the next version (the
    other gets 409).  It is cleared when the job fails or is cancelled, or the version is
    reverted, which leaves the version it started from open to another change set.
    """

    __table_args__ = (UniqueConstraint("successor_of", name="uq_plan_successor"),)

    id: int | None = TableField(default=None, primary_key=True)
    station_id: str | None = TableField(default=None, foreign_key="station.id", index=True)
    token_id: int | None = TableField(
        default=None, foreign_key="token.id", description="Who asked (for /v1/solve)."
    )
    week_start: dt.date
    version: int = TableField(default=1, ge=1)
    parent_id: int | None = TableField(default=None, foreign_key="planversion.id")
    successor_of: int | None = TableField(default=None, foreign_key="planversion.id")
    state: str = TableField(default="queued", index=True, description=" / ".join(JOB_STATES))
    problem: dict[str, Any] = TableField(sa_column=Column(JSON, nullable=False))
    changes: dict[str, Any] | None = TableField(default=None, sa_column=Column(JSON, nullable=True))
    plan: dict[str, Any] | None = TableField(default=None, sa_column=Column(JSON, nullable=True))
    base: dict[str, Any] | None = TableField(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="A station re-solve's plan in force: the part of the parent's plan that still holds "
        "for the station's data when the change set came (``plan``); the changed problem is ``problem``. "
        "Rows stored before issue 16 also hold that problem before the changes (``problem``), unread.",
    )
    error: str | None = TableField(default=None, sa_column=Column(Text, nullable=True))
    progress: dict[str, Any] | None = TableField(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="The running solve's latest progress report (a JobProgress), kept once it ends.",
    )
    created_at: dt.datetime = TableField(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    published_at: dt.datetime | None = TableField(
        default=None,
        description="When the coordinator published it (volunteers and families were told); empty: a draft.",
    )


class PlanAssignment(SQLModel, table=True):
    """An assignment of a finished plan version, kept as a row so service records can point at it: its
    ``id`` is the assignment's stable id, shown in the plan's responses and exports (never in the
    format-1 plan document, which belongs to the exchange format)."""

    id: int | None = TableField(default=None, primary_key=True)
    plan_id: int = TableField(foreign_key="planversion.id", index=True, ondelete="CASCADE")
    need_id: str
    volunteer_id: str = TableField(index=True)
    slots: list[str] = json_list()


class PlanUnmet(SQLModel, table=True):
    """An unmet need of a finished plan version, with its reason codes."""

    id: int | None = TableField(default=None, primary_key=True)
    plan_id: int = TableField(foreign_key="planversion.id", index=True, ondelete="CASCADE")
    need_id: str
    reasons: list[str] = json_list()


class PlanRequest(BaseModel):
    """Ask for a station's plan of a week (generating a week again supersedes its earlier versions)."""

    model_config = ConfigDict(extra="forbid")

    week_start: WeekStart = Field(description="The Monday of the week to plan (2000-01-03 .. 2099-12-28).")


class JobProgress(BaseModel):
    """Where a solve stands (the engine's :class:`matcher.progress.Progress`, as shares of demand)."""

    elapsed_s: float = Field(description="Seconds since the solve started.")
    stage: str = Field(
        description="The engine's stage (one of matcher.progress.STAGES: start, city_search, columns, "
        "branch, prove …; done at the end)."
    )
    coverage: float = Field(description="Share of demand (0-1) the best plan so far meets.")
    bound: float | None = Field(description="Proved upper bound on that share, or null while there is none.")
    gap: float | None = Field(description="(bound - coverage) / bound: 0 when proved, null without a bound.")
    proved: bool = Field(description="The coverage is proved optimal.")


class StandinPublic(BaseModel):
    """A ranked stand-in (备选志愿者): who could take the session (or the assignment) as the plan
    stands, and why they rank where they do (:mod:`matcher.standins`)."""

    volunteer: str
    kept_pair: bool = Field(
        description="Served this beneficiary last week, or serves them elsewhere this week."
    )
    previous: bool = Field(description="Served this beneficiary last week.")
    km: float = Field(description="One trip's distance, km (0 or 3 nominal without locations).")
    hours: float = Field(description="Hours the plan already gives them this week.")
    no_shows: int = Field(description="No-shows over the recent weeks.")
    late_cancellations: int = Field(description="Late cancellations over the recent weeks.")
    rate: float | None = Field(description="Served rate over the recent weeks; null without history.")


class SessionPublic(BaseModel):
    """One session of an assignment: a day of the plan's week and a slot."""

    date: dt.date
    slot: str
    standins: list[StandinPublic] = Field(
        default_factory=list,
        description="Up to 3 ranked stand-ins for this one session, best first (`POST /v1/plans/{id}/swap` "
        "with this slot puts one in).",
    )


class AssignmentPublic(BaseModel):
    """An assignment of a finished station plan, with its stable id (what ``POST /v1/records`` names)."""

    id: int = Field(description="The assignment's id: stable for the life of the plan version.")
    need: str
    volunteer: str
    slots: list[str]
    sessions: list[SessionPublic] = Field(description="Its sessions, by day and slot, to record.")
    places_open: int | None = Field(
        default=None,
        description="A group post (多人岗位) staffed below its max: how many more volunteers would each "
        "raise its value (the format-2 plan's ``places_open``, on each member's row); null otherwise.",
    )
    standins: list[StandinPublic] = Field(
        default_factory=list,
        description="Up to 3 ranked stand-ins for all its sessions at once, best first (a swap without "
        "a slot); for a one-session assignment, its session's.",
    )


class SwapRequest(BaseModel):
    """Put a stand-in in a volunteer's place: one session of an assignment, or all of it."""

    model_config = ConfigDict(extra="forbid")

    assignment_id: int = Field(
        ge=1, le=MAX_ID, description="The assignment (its id in the plan's `assignments`)."
    )
    volunteer: Id = Field(description="The stand-in: one of the station's volunteers in this week's plan.")
    slot: Id | None = Field(
        default=None,
        description="The one session swapped (one of the assignment's slots); absent: every session.",
    )


class PlanPublic(BaseModel):
    """A plan version (or a /v1/solve job) as clients see it."""

    id: int
    station_id: str | None
    week_start: dt.date
    version: int
    parent_id: int | None = Field(description="The version this one was re-solved from.")
    state: str = Field(description="queued, solving, done, failed, cancelled or reverted (undone).")
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    plan: dict[str, Any] | None = Field(
        default=None,
        description="The plan, once done: format 1, or format 2 for a station's week with group posts.",
    )
    progress: JobProgress | None = Field(
        default=None,
        description="The solve's latest progress (incumbent and bound over time): updated about once a "
        "second while solving, the last report kept once it ends; null before it starts.",
    )
    assignments: list[AssignmentPublic] | None = Field(
        default=None,
        description="A finished station plan's assignments with their stable ids and sessions (what "
        "`POST /v1/records` names); null while not done, for an integrator's job and in lists.",
    )
    current: bool = Field(
        default=False,
        description="Whether this is the week's current version (the newest not failed, cancelled or "
        "reverted); only the current version takes a change set.",
    )
    published_at: dt.datetime | None = Field(
        default=None,
        description="When the week's volunteers and families were last told this version (publication, "
        "``POST /v1/plans/{id}/publish``); null for a draft.",
    )


class DiffEntry(BaseModel):
    """One need whose volunteer or slots differ between two versions (a group post: one entry per
    volunteer who joined, left or moved slots)."""

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

"""The service's data: SQLModel tables and their Create / Public shapes.

The hierarchy follows the service plan: volunteer centre > service stations > teams >
groups.  Volunteers, beneficiaries and needs carry the exchange-format fields (so the
week's problem is a straight read, :mod:`api.problem`) plus what a station keeps about
them (names, team and group, a minor's guardian consent).  Weekly plans are versions:
version 1 is generated, each change set makes the next one by re-solve.

Lists (skills, availability, windows …) are JSON columns: they are read and written
whole, never queried element by element.

Values reach these tables through the request models, which hold them to
:mod:`matcher.format.bounds`; the ``Field`` limits here restate the same constants for the record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from matcher.format import bounds
from matcher.format.schema import CERTIFICATION_KINDS

JOB_STATES = ("queued", "solving", "done", "failed", "cancelled")


def utcnow() -> dt.datetime:
    """Timezone-aware now, in UTC."""
    return dt.datetime.now(dt.UTC)


def _json(**kw: Any) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False), **kw)


# ------------------------------------------------------------------------ hierarchy


class Centre(SQLModel, table=True):
    """The city's volunteer centre (志愿服务中心)."""

    id: str = Field(primary_key=True, max_length=64)
    name: str


class District(SQLModel, table=True):
    """A district and its neighbours (symmetric, as in the exchange format)."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = ""
    neighbors: list[str] = _json()


class Station(SQLModel, table=True):
    """A community volunteer service station (志愿服务站)."""

    id: str = Field(primary_key=True, max_length=64)
    centre_id: str = Field(foreign_key="centre.id", index=True)
    name: str
    district: str = Field(foreign_key="district.id")


class Team(SQLModel, table=True):
    """A station's volunteer team (志愿服务队)."""

    id: str = Field(primary_key=True, max_length=64)
    station_id: str = Field(foreign_key="station.id", index=True)
    name: str


class VolunteerGroup(SQLModel, table=True):
    """A team's group (志愿服务小组)."""

    __tablename__ = "volunteer_group"
    id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(foreign_key="team.id", index=True)
    name: str


# ------------------------------------------------------------------------ volunteers


class VolunteerBase(SQLModel):
    """What a coordinator records about a volunteer."""

    id: str = Field(
        primary_key=True, max_length=bounds.ID_MAX_LENGTH, min_length=1, description="Volunteer id."
    )
    name: str = Field(default="", description="Name (personal data: never logged).")
    district: str = Field(foreign_key="district.id", description="District the volunteer serves in.")
    team_id: str | None = Field(default=None, foreign_key="team.id", description="Team, if any.")
    group_id: str | None = Field(default=None, foreign_key="volunteer_group.id", description="Group, if any.")
    max_hours: float = Field(ge=0, le=bounds.HOURS_IN_A_WEEK, description="Most hours a week.")
    max_beneficiaries: int = Field(
        default=3, ge=0, le=bounds.MAX_BENEFICIARIES_MAX, description="Most distinct beneficiaries a week."
    )
    minor: bool = Field(default=False, description="An under-18 'little volunteer'.")
    guardian_consent: bool = Field(
        default=False, description="A minor's guardian consented; a minor without it is never scheduled."
    )
    gender: str | None = Field(default=None, description="'f', 'm' or absent.")
    latitude: float | None = Field(default=None, ge=-bounds.LATITUDE_MAX, le=bounds.LATITUDE_MAX)
    longitude: float | None = Field(default=None, ge=-bounds.LONGITUDE_MAX, le=bounds.LONGITUDE_MAX)
    hours_before: float = Field(
        default=0, ge=0, le=bounds.HOURS_BEFORE_MAX, description="Hours served before Linli kept records."
    )


class Volunteer(VolunteerBase, table=True):
    """A registered volunteer of one station."""

    station_id: str = Field(foreign_key="station.id", index=True)
    skills: list[str] = _json(description="Service codes.")
    availability: list[str] = _json(description="Slots of a usual week.")


class Certificate(SQLModel, table=True):
    """A volunteer's certificate (first aid, law, fire safety …) with its expiry date."""

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", index=True, ondelete="CASCADE")
    kind: str = Field(description=f"One of {', '.join(CERTIFICATION_KINDS)}.")
    expires: dt.date


# ------------------------------------------------------------------------ beneficiaries


class Beneficiary(SQLModel, table=True):
    """A person the station serves (personal data: never logged)."""

    id: str = Field(primary_key=True, max_length=bounds.ID_MAX_LENGTH)
    station_id: str = Field(foreign_key="station.id", index=True)
    name: str = ""
    category: str
    district: str = Field(foreign_key="district.id")
    priority: int = Field(ge=bounds.PRIORITY_MIN, le=bounds.PRIORITY_MAX)
    volunteer_gender: str | None = None
    excluded_volunteers: list[str] = _json()
    latitude: float | None = Field(default=None, ge=-bounds.LATITUDE_MAX, le=bounds.LATITUDE_MAX)
    longitude: float | None = Field(default=None, ge=-bounds.LONGITUDE_MAX, le=bounds.LONGITUDE_MAX)


class Need(SQLModel, table=True):
    """A beneficiary's standing weekly need."""

    id: str = Field(primary_key=True, max_length=bounds.ID_MAX_LENGTH)
    beneficiary_id: str = Field(foreign_key="beneficiary.id", index=True, ondelete="CASCADE")
    service: str
    hours: float = Field(gt=0, le=bounds.SESSION_HOURS_MAX)
    sessions: int = Field(ge=1, le=bounds.SESSIONS_MAX)
    windows: list[str] = _json()
    requires: list[str] = _json()
    minor_ok: bool = False
    active: bool = Field(default=True, description="False once the need ended; kept for history.")


# ------------------------------------------------------------------------ plans


class PlanVersion(SQLModel, table=True):
    """One version of a week's plan, or an integrator's solve job (``station_id`` empty).

    ``successor_of`` is the version a re-solve started from; it is unique, so of two
    concurrent change sets on one version only one can create the next version (the
    other gets 409).  It is cleared when the job fails or is cancelled, which leaves the
    version it started from open to another change set.
    """

    __table_args__ = (UniqueConstraint("successor_of", name="uq_plan_successor"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: str | None = Field(default=None, foreign_key="station.id", index=True)
    token_id: int | None = Field(
        default=None, foreign_key="token.id", description="Who asked (for /v1/solve)."
    )
    week_start: dt.date
    version: int = Field(default=1, ge=1)
    parent_id: int | None = Field(default=None, foreign_key="planversion.id")
    successor_of: int | None = Field(default=None, foreign_key="planversion.id")
    state: str = Field(default="queued", index=True, description=" / ".join(JOB_STATES))
    problem: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    plan: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    base: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="A station re-solve's inputs: the station's problem when the change set came "
        "(its current people) and the part of the plan in force that still holds for it.",
    )
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    # The job queue (api.jobs): a queued row is claimed by one worker at a time.
    claimed_by: str | None = Field(
        default=None, max_length=200, description="The worker that runs (or last ran) the job."
    )
    lease_until: dt.datetime | None = Field(
        default=None, description="The claim holds until then unless its worker renews it."
    )
    attempts: int = Field(default=0, ge=0, description="Times a worker claimed the job.")
    started_at: dt.datetime | None = Field(default=None, description="When its latest run started.")
    cancel_requested: bool = Field(default=False, description="DELETE asked the running job to stop.")


class PlanAssignment(SQLModel, table=True):
    """An assignment of a finished plan version (kept as rows so service records can point at it)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="planversion.id", index=True, ondelete="CASCADE")
    need_id: str
    volunteer_id: str = Field(index=True)
    slots: list[str] = _json()


class PlanUnmet(SQLModel, table=True):
    """An unmet need of a finished plan version, with its reason codes."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="planversion.id", index=True, ondelete="CASCADE")
    need_id: str
    reasons: list[str] = _json()


# ------------------------------------------------------------------------ records, tokens


class ServiceRecord(SQLModel, table=True):
    """Hours actually served for an assignment (服务记录)."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="planassignment.id", index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", index=True)
    served_on: dt.date
    hours: float = Field(gt=0, le=bounds.RECORD_HOURS_MAX)
    rating: int | None = Field(
        default=None,
        ge=bounds.RATING_MIN,
        le=bounds.RATING_MAX,
        description="The beneficiary's rating, if given.",
    )
    created_at: dt.datetime = Field(default_factory=utcnow)


class Token(SQLModel, table=True):
    """An API token: the SHA-256 of its secret, scoped to one station or (station empty) the centre."""

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, index=True, max_length=64)
    station_id: str | None = Field(default=None, foreign_key="station.id")
    label: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_used_at: dt.datetime | None = Field(
        default=None, description="When it last authenticated a request."
    )
    revoked_at: dt.datetime | None = Field(
        default=None, description="When it was revoked; it no longer works."
    )

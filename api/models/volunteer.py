"""The volunteer family: ``VolunteerBase`` (what a coordinator records), the ``Volunteer`` table and its
``Certificate`` rows, ``VolunteerCreate`` (a registration, also one row of ``volunteers.csv``) and
``VolunteerPublic``.

Bounds come from :mod:`matcher.format.bounds`: the table's ``Field`` limits and the request types
name the same constants.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import FORBID, Flag, Key, Slots, both_or_neither, json_list
from matcher.format import bounds
from matcher.format.bounds import (
    CERTIFICATIONS_MAX,
    Hours,
    HoursBefore,
    Id,
    Latitude,
    Longitude,
    MaxBeneficiaries,
    Name,
)
from matcher.format.schema import CERTIFICATION_KINDS, Certification, Gender, ServiceCodes


class VolunteerBase(SQLModel):
    """What a coordinator records about a volunteer."""

    id: str = TableField(
        primary_key=True, max_length=bounds.ID_MAX_LENGTH, min_length=1, description="Volunteer id."
    )
    name: str = TableField(default="", description="Name (personal data: never logged).")
    district: str = TableField(foreign_key="district.id", description="District the volunteer serves in.")
    team_id: str | None = TableField(default=None, foreign_key="team.id", description="Team, if any.")
    group_id: str | None = TableField(
        default=None, foreign_key="volunteer_group.id", description="Group, if any."
    )
    max_hours: float = TableField(ge=0, le=bounds.HOURS_IN_A_WEEK, description="Most hours a week.")
    max_beneficiaries: int = TableField(
        default=3, ge=0, le=bounds.MAX_BENEFICIARIES_MAX, description="Most distinct beneficiaries a week."
    )
    minor: bool = TableField(default=False, description="An under-18 'little volunteer'.")
    guardian_consent: bool = TableField(
        default=False, description="A minor's guardian consented; a minor without it is never scheduled."
    )
    gender: str | None = TableField(default=None, description="'f', 'm' or absent.")
    latitude: float | None = TableField(default=None, ge=-bounds.LATITUDE_MAX, le=bounds.LATITUDE_MAX)
    longitude: float | None = TableField(default=None, ge=-bounds.LONGITUDE_MAX, le=bounds.LONGITUDE_MAX)
    hours_before: float = TableField(
        default=0, ge=0, le=bounds.HOURS_BEFORE_MAX, description="Hours served before Linli kept records."
    )


class Volunteer(VolunteerBase, table=True):
    """A registered volunteer of one station."""

    station_id: str = TableField(foreign_key="station.id", index=True)
    skills: list[str] = json_list(description="Service codes.")
    availability: list[str] = json_list(description="Slots of a usual week.")


class Certificate(SQLModel, table=True):
    """A volunteer's certificate (first aid, law, fire safety …) with its expiry date."""

    id: int | None = TableField(default=None, primary_key=True)
    volunteer_id: str = TableField(foreign_key="volunteer.id", index=True, ondelete="CASCADE")
    kind: str = TableField(description=f"One of {', '.join(CERTIFICATION_KINDS)}.")
    expires: dt.date


class VolunteerCreate(BaseModel):
    """A volunteer as a coordinator registers them (also one row of ``volunteers.csv``)."""

    model_config = FORBID

    id: Key = Field(description="Volunteer id, unique in the city.")
    name: Name = Field(default="", description="Name (personal data: never logged).")
    district: Id = Field(description="District the volunteer serves in.")
    team_id: Id | None = Field(default=None, description="The station's team, if any.")
    group_id: Id | None = Field(default=None, description="A group of that team, if any.")
    skills: ServiceCodes = Field(description="Service codes the volunteer can deliver.")
    availability: Slots = Field(description="Slots of a usual week, e.g. 'mon-am'.")
    certificates: Annotated[list[Certification], Field(max_length=CERTIFICATIONS_MAX)] = Field(
        default_factory=list, description="Certificates held, with expiry dates."
    )
    max_hours: Hours = Field(description="Most hours a week.")
    max_beneficiaries: MaxBeneficiaries = Field(default=3, description="Most distinct beneficiaries a week.")
    minor: Flag = Field(default=False, description="An under-18 'little volunteer'.")
    guardian_consent: Flag = Field(
        default=False, description="A minor's guardian consented; a minor without it is never scheduled."
    )
    gender: Gender | None = Field(default=None, description="'f', 'm' or absent.")
    latitude: Latitude | None = Field(default=None, description="Latitude (with longitude), or absent.")
    longitude: Longitude | None = Field(default=None, description="Longitude (with latitude), or absent.")
    hours_before: HoursBefore = Field(default=0.0, description="Hours served before Linli kept records.")

    @model_validator(mode="after")
    def _location(self) -> Self:
        both_or_neither(self.latitude, self.longitude)
        return self


class VolunteerPublic(VolunteerCreate):
    """A volunteer of a station, with certificates."""

    station_id: str = Field(description="The volunteer's station.")

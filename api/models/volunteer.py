"""The volunteer family: ``VolunteerBase`` (every field a coordinator records, declared once), the
``Volunteer`` table and its ``Certificate`` rows, ``VolunteerCreate`` (a registration, also one row of
``volunteers.csv``), ``VolunteerUpdate`` (a PATCH) and ``VolunteerPublic``.

The fields' types are the request types of :mod:`matcher.format.bounds` and
:mod:`matcher.format.schema` (strict, bounded); the table does not validate on construction, so they
bind the requests (``VolunteerCreate``, ``VolunteerUpdate``), and give the table its column types.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import (
    FieldSerializationInfo,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.contacts import mask
from api.models.common import (
    FORBID,
    KEY_TEXT,
    PLAIN_TEXT,
    Flag,
    Key,
    Phone,
    Slots,
    WeChatId,
    both_or_neither,
    partial,
)
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
    """What a coordinator records about a volunteer (the table's columns and the request's fields)."""

    id: Key = Field(primary_key=True, sa_type=KEY_TEXT, description="Volunteer id, unique in the city.")
    name: Name = Field(default="", sa_type=PLAIN_TEXT, description="Name (personal data: never logged).")
    district: Id = Field(
        foreign_key="district.id", sa_type=PLAIN_TEXT, description="District the volunteer serves in."
    )
    team_id: Id | None = Field(default=None, foreign_key="team.id", description="The station's team, if any.")
    group_id: Id | None = Field(
        default=None, foreign_key="volunteer_group.id", description="A group of that team, if any."
    )
    skills: ServiceCodes = Field(sa_type=JSON, description="Service codes the volunteer can deliver.")
    availability: Slots = Field(sa_type=JSON, description="Slots of a usual week, e.g. 'mon-am'.")
    max_hours: Hours = Field(description="Most hours a week.")
    max_beneficiaries: MaxBeneficiaries = Field(default=3, description="Most distinct beneficiaries a week.")
    minor: Flag = Field(default=False, description="An under-18 'little volunteer'.")
    guardian_consent: Flag = Field(
        default=False, description="A minor's guardian consented; a minor without it is never scheduled."
    )
    gender: Gender | None = Field(default=None, sa_type=PLAIN_TEXT, description="'f', 'm' or absent.")
    latitude: Latitude | None = Field(default=None, description="Latitude (with longitude), or absent.")
    longitude: Longitude | None = Field(default=None, description="Longitude (with latitude), or absent.")
    hours_before: HoursBefore = Field(default=0.0, description="Hours served before Linli kept records.")
    phone: Phone | None = Field(
        default=None,
        sa_type=PLAIN_TEXT,
        description="Mobile phone (personal data: never logged, masked in lists), or absent.",
    )
    wechat: WeChatId | None = Field(
        default=None, sa_type=PLAIN_TEXT, description="WeChat id (personal data), or absent."
    )
    active: Flag = Field(
        default=True,
        description="False once deactivated (DELETE): left out of lists and plans, kept for history.",
    )


class Volunteer(VolunteerBase, table=True):
    """A registered volunteer of one station (certificates: :class:`Certificate` rows)."""

    station_id: str = Field(foreign_key="station.id", index=True)


class Certificate(SQLModel, table=True):
    """A volunteer's certificate (first aid, law, fire safety …) with its expiry date."""

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", index=True, ondelete="CASCADE")
    kind: str = Field(description=f"One of {', '.join(CERTIFICATION_KINDS)}.")
    expires: dt.date


class VolunteerCreate(VolunteerBase):
    """A volunteer as a coordinator registers them (also one row of ``volunteers.csv``)."""

    model_config = FORBID

    # Not on VolunteerBase: certificates are rows of their own table, not a column.
    certificates: Annotated[list[Certification], Field(max_length=CERTIFICATIONS_MAX)] = Field(
        default_factory=list, description="Certificates held, with expiry dates."
    )

    @model_validator(mode="after")
    def _location(self) -> Self:
        both_or_neither(self.latitude, self.longitude)
        return self


class VolunteerUpdate(partial(VolunteerCreate)):  # type: ignore[misc]  # fields made from VolunteerCreate's
    """A change to a volunteer: only the fields sent change (the id cannot); certificates sent replace
    the stored ones.  The volunteer it makes is checked whole, as a registration is."""


class VolunteerPublic(VolunteerCreate):
    """A volunteer of a station, with certificates (``active`` false: deactivated)."""

    station_id: str = Field(description="The volunteer's station.")


class VolunteerListItem(VolunteerPublic):
    """A volunteer as a list shows them: the contact details masked (``138****1234``).

    Every list of volunteers answers with this model, so a list route cannot show a full
    number: whatever it is given is masked here (:mod:`api.contacts`), and only the volunteer's
    own ``GET …/volunteers/{id}`` (:class:`VolunteerPublic`) shows them in full."""

    phone: str | None = Field(default=None, description="Mobile phone, masked (138****1234), or absent.")
    wechat: str | None = Field(default=None, description="WeChat id, masked (w****8), or absent.")

    @field_validator("phone", "wechat", mode="before")
    @classmethod
    def _masked(cls, value: object, info: ValidationInfo) -> object:
        return mask(str(info.field_name), value)

    @field_serializer("phone", "wechat")
    def _shown(self, value: object, info: FieldSerializationInfo) -> object:
        # Built without validation (``model_construct``, as the list routes do for speed and for
        # rows stored before a bound): masked on the way out too.
        return mask(info.field_name, value)

"""The site family: ``SiteBase`` (every field, declared once), the ``Site`` table, ``SiteCreate``
(also one row of ``sites.csv``), ``SiteUpdate`` (a PATCH) and ``SitePublic`` (with needs).

A site is a place where group posts (多人岗位, format 2) are held: a square, a crossroads, a school
gate, a river bank.  It is the station's, as its beneficiaries are; its needs are posts.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from api.models.common import (
    ADDRESS_MAX_LENGTH,
    FORBID,
    KEY_TEXT,
    PLAIN_TEXT,
    Flag,
    Key,
    both_or_neither,
    partial,
)
from api.models.need import NeedPublic
from matcher.format.bounds import Id, Latitude, Longitude, Name


class SiteBase(SQLModel):
    """A place of group posts: the table's columns and the request's fields."""

    id: Key = Field(
        primary_key=True,
        sa_type=KEY_TEXT,
        description="Site id, unique in the city (and distinct from every beneficiary's id).",
    )
    name: Annotated[Name, Field(min_length=1)] = Field(
        sa_type=PLAIN_TEXT, description="地点名称: what coordinators call it, e.g. 雄关广场."
    )
    district: Id = Field(
        foreign_key="district.id", sa_type=PLAIN_TEXT, description="所在社区: the district the site lies in."
    )
    address: Annotated[Name, Field(max_length=ADDRESS_MAX_LENGTH)] = Field(
        default="",
        sa_type=PLAIN_TEXT,
        description="Where volunteers gather, e.g. 雄关广场东门, or empty.",
    )
    latitude: Latitude | None = Field(default=None, description="Latitude (with longitude), or absent.")
    longitude: Longitude | None = Field(default=None, description="Longitude (with latitude), or absent.")
    active: Flag = Field(
        default=True,
        description="False once deactivated (DELETE): left out of lists and plans (its needs too), kept"
        " for history.",
    )


class Site(SiteBase, table=True):
    """A place of group posts of a station."""

    station_id: str = Field(foreign_key="station.id", index=True)


class SiteCreate(SiteBase):
    """A place of group posts (also one row of ``sites.csv``)."""

    model_config = FORBID

    @model_validator(mode="after")
    def _location(self) -> Self:
        both_or_neither(self.latitude, self.longitude)
        return self


class SiteUpdate(partial(SiteCreate)):  # type: ignore[misc]  # fields made from SiteCreate's
    """A change to a site: only the fields sent change (the id cannot; needs: their own routes).
    The site it makes is checked whole, as a registration is."""


class SitePublic(SiteCreate):
    """A site of a station, with its needs (ended ones too, ``active`` false)."""

    station_id: str = Field(description="The site's station.")
    needs: list[NeedPublic] = Field(default_factory=list, description="Posts at the site, by id.")

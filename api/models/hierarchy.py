"""The hierarchy: the city's centre, districts, stations, teams and groups (tables and public shapes)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import json_list


class Centre(SQLModel, table=True):
    """The city's volunteer centre (志愿服务中心)."""

    id: str = TableField(primary_key=True, max_length=64)
    name: str


class District(SQLModel, table=True):
    """A district and its neighbours (symmetric, as in the exchange format)."""

    id: str = TableField(primary_key=True, max_length=64)
    name: str = ""
    neighbors: list[str] = json_list()


class Station(SQLModel, table=True):
    """A community volunteer service station (志愿服务站)."""

    id: str = TableField(primary_key=True, max_length=64)
    centre_id: str = TableField(foreign_key="centre.id", index=True)
    name: str
    district: str = TableField(foreign_key="district.id")


class Team(SQLModel, table=True):
    """A station's volunteer team (志愿服务队)."""

    id: str = TableField(primary_key=True, max_length=64)
    station_id: str = TableField(foreign_key="station.id", index=True)
    name: str


class VolunteerGroup(SQLModel, table=True):
    """A team's group (志愿服务小组)."""

    __tablename__ = "volunteer_group"
    id: str = TableField(primary_key=True, max_length=64)
    team_id: str = TableField(foreign_key="team.id", index=True)
    name: str


class GroupPublic(BaseModel):
    """A group of a team."""

    id: str
    name: str


class TeamPublic(BaseModel):
    """A team of a station, with its groups."""

    id: str
    name: str
    groups: list[GroupPublic]


class StationPublic(BaseModel):
    """A station, with its teams."""

    id: str
    centre_id: str
    name: str
    district: str
    teams: list[TeamPublic]

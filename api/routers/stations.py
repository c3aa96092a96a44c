"""The hierarchy: the centre's stations, with their teams and groups."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import PrincipalDep, SessionDep, StationDep
from api.models import Station, Team, VolunteerGroup

router = APIRouter(prefix="/v1", tags=["stations"])


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
    teams: list[TeamPublic] = []


@router.get("/stations", response_model=list[StationPublic])
def list_stations(session: SessionDep, principal: PrincipalDep) -> list[StationPublic]:
    """Every station the caller may see (the centre: all; a station: itself)."""
    query = select(Station).order_by(col(Station.id))
    if not principal.is_centre:
        query = query.where(Station.id == principal.station_id)
    return [StationPublic(**s.model_dump()) for s in session.exec(query)]


@router.get("/stations/{station_id}", response_model=StationPublic)
def get_station(station: StationDep, session: SessionDep) -> StationPublic:
    """A station with its teams and groups."""
    teams = []
    for team in session.exec(select(Team).where(Team.station_id == station.id).order_by(col(Team.id))):
        groups = session.exec(
            select(VolunteerGroup).where(VolunteerGroup.team_id == team.id).order_by(col(VolunteerGroup.id))
        )
        teams.append(
            TeamPublic(id=team.id, name=team.name, groups=[GroupPublic(id=g.id, name=g.name) for g in groups])
        )
    return StationPublic(**station.model_dump(), teams=teams)

"""The hierarchy: the centre's stations, with their teams and groups."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session, col, select

from api.deps import PrincipalDep, SessionDep, StationDep
from api.models import GroupPublic, Station, StationPublic, Team, TeamPublic, VolunteerGroup

router = APIRouter(prefix="/v1", tags=["stations"])


def _teams(session: Session, station_ids: list[str]) -> dict[str, list[TeamPublic]]:
    """Teams (with groups) of the given stations, by station; two queries in all."""
    teams = list(
        session.exec(select(Team).where(col(Team.station_id).in_(station_ids)).order_by(col(Team.id)))
    )
    groups: dict[str, list[GroupPublic]] = {t.id: [] for t in teams}
    if teams:
        query = select(VolunteerGroup).where(col(VolunteerGroup.team_id).in_(list(groups)))
        for g in session.exec(query.order_by(col(VolunteerGroup.id))):
            groups[g.team_id].append(GroupPublic(id=g.id, name=g.name))
    out: dict[str, list[TeamPublic]] = {s: [] for s in station_ids}
    for t in teams:
        out[t.station_id].append(TeamPublic(id=t.id, name=t.name, groups=groups[t.id]))
    return out


@router.get("/stations", response_model=list[StationPublic])
def list_stations(session: SessionDep, principal: PrincipalDep) -> list[StationPublic]:
    """Every station the caller may see (the centre: all; a station: itself), with teams and groups."""
    query = select(Station).order_by(col(Station.id))
    if not principal.is_centre:
        query = query.where(Station.id == principal.station_id)
    found = list(session.exec(query))
    teams = _teams(session, [s.id for s in found])
    return [StationPublic(**s.model_dump(), teams=teams[s.id]) for s in found]


@router.get("/stations/{station_id}", response_model=StationPublic)
def get_station(station: StationDep, session: SessionDep) -> StationPublic:
    """A station with its teams and groups."""
    return StationPublic(**station.model_dump(), teams=_teams(session, [station.id])[station.id])

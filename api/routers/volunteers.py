"""A station's volunteers: register, read, list, change and deactivate (JSON), import and export (CSV,
XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlmodel import Session

from api import csvio
from api.crud.volunteers import read_volunteers, volunteer_data
from api.deps import SessionDep, StationDep, not_found
from api.models import VolunteerCreate, VolunteerListItem, VolunteerPublic, VolunteerUpdate
from api.routers.spreadsheets import add_spreadsheet_routes
from api.services import people
from api.services.spreadsheets import IncludeInactive

router = APIRouter(prefix="/v1", tags=["people"])


@router.get("/stations/{station_id}/volunteers", response_model=list[VolunteerListItem])
def list_volunteers(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[VolunteerListItem]:
    """The station's active volunteers by id, each with certificates (deactivated ones too if asked);
    phone and WeChat id masked (138****1234): the volunteer's own GET shows them in full."""
    found = read_volunteers(session, station.id, active_only=not include_inactive).values()
    return [people.volunteer_list_item(v, certs) for v, certs in found]


@router.post(
    "/stations/{station_id}/volunteers",
    status_code=status.HTTP_201_CREATED,
    response_model=VolunteerPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_volunteer(body: VolunteerCreate, station: StationDep, session: SessionDep) -> VolunteerPublic:
    """Register a volunteer of the station (409 if the id is taken)."""
    people.register_volunteer(session, station.id, body)
    return get_volunteer(station, session, body.id)


@router.get("/stations/{station_id}/volunteers/{volunteer_id}", response_model=VolunteerPublic)
def get_volunteer(station: StationDep, session: SessionDep, volunteer_id: str) -> VolunteerPublic:
    """One volunteer of the station, with certificates (a deactivated one too: ``active`` false)."""
    found = read_volunteers(session, station.id, volunteer_id).get(volunteer_id)
    if found is None:
        raise not_found("volunteer", volunteer_id)
    return people.volunteer_public(*found)


@router.patch("/stations/{station_id}/volunteers/{volunteer_id}", response_model=VolunteerPublic)
def update_volunteer(
    body: VolunteerUpdate, station: StationDep, session: SessionDep, volunteer_id: str
) -> VolunteerPublic:
    """Change the fields sent (certificates sent replace the stored ones); the volunteer is checked
    whole, as a registration is (422 naming the field).  ``{"active": true}`` restores a deactivated one."""
    people.update_volunteer(session, station.id, volunteer_id, body)
    return get_volunteer(station, session, volunteer_id)


@router.delete("/stations/{station_id}/volunteers/{volunteer_id}", response_model=VolunteerPublic)
def delete_volunteer(station: StationDep, session: SessionDep, volunteer_id: str) -> VolunteerPublic:
    """Deactivate a volunteer (soft delete, 200 with the volunteer, ``active`` false): left out of lists,
    exports and new plans; plans, service records and the ledger keep referring to them."""
    found = read_volunteers(session, station.id, volunteer_id).get(volunteer_id)
    if found is None:
        raise not_found("volunteer", volunteer_id)
    people.deactivate(session, found[0])
    return get_volunteer(station, session, volunteer_id)


def _rows(session: Session, station_id: str, include_inactive: bool) -> list[dict[str, Any]]:
    found = read_volunteers(session, station_id, active_only=not include_inactive).values()
    return [volunteer_data(v, certs) for v, certs in found]


add_spreadsheet_routes(
    router,
    "volunteers",
    csvio.VOLUNTEER_COLUMNS,
    _rows,
    people.import_volunteers,
    records="the station's volunteers",
    what="The station's active volunteers as CSV, by id (`include_inactive=true`: all).",
)

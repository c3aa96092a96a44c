"""A station's volunteers: register, read, list, change and deactivate (JSON), import and export (CSV,
XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from api import csvio
from api.crud.volunteers import read_volunteers, volunteer_data
from api.deps import SessionDep, StationDep, not_found
from api.models import ImportResult, VolunteerCreate, VolunteerPublic, VolunteerUpdate
from api.services import people
from api.services.spreadsheets import (
    CSV_BODY,
    CSV_OK,
    IMPORT_RESPONSES,
    XLSX_OK,
    CsvBody,
    IncludeInactive,
    export,
    rejected,
)

router = APIRouter(prefix="/v1", tags=["people"])


@router.get("/stations/{station_id}/volunteers", response_model=list[VolunteerPublic])
def list_volunteers(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[VolunteerPublic]:
    """The station's active volunteers by id, each with certificates (deactivated ones too if asked)."""
    found = read_volunteers(session, station.id, active_only=not include_inactive).values()
    return [people.volunteer_public(v, certs) for v, certs in found]


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


@router.get(
    "/stations/{station_id}/volunteers.csv",
    response_class=Response,
    responses=CSV_OK,
    description="The station's active volunteers as CSV, by id (`include_inactive=true`: all).\n\n"
    + csvio.describe(csvio.VOLUNTEER_COLUMNS),
)
def export_volunteers(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> Response:
    """The station's volunteers as CSV (the columns :func:`import_volunteers` reads)."""
    rows = _rows(session, station.id, include_inactive)
    return export("csv", csvio.VOLUNTEER_COLUMNS, rows, "volunteers", station.id)


@router.get(
    "/stations/{station_id}/volunteers.xlsx",
    response_class=Response,
    responses=XLSX_OK,
    description="The station's volunteers as an Excel workbook: the rows and columns of volunteers.csv.",
)
def export_volunteers_xlsx(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> Response:
    """The station's volunteers as XLSX (the columns of :func:`export_volunteers`)."""
    rows = _rows(session, station.id, include_inactive)
    return export("xlsx", csvio.VOLUNTEER_COLUMNS, rows, "volunteers", station.id)


@router.put(
    "/stations/{station_id}/volunteers.csv",
    response_model=ImportResult,
    responses=IMPORT_RESPONSES,
    openapi_extra=CSV_BODY,
    description="Create or update the station's volunteers by id, all or nothing.\n\n"
    + csvio.describe(csvio.VOLUNTEER_COLUMNS),
)
def import_volunteers(station: StationDep, session: SessionDep, body: CsvBody) -> ImportResult | JSONResponse:
    """Upsert volunteers from CSV; any bad row: 422 listing every bad row, nothing written."""
    result = people.import_volunteers(session, station.id, body)
    return rejected(result) if isinstance(result, list) else result

"""Beneficiaries' standing needs: add, change and end one (JSON), import and export (CSV, XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from api import csvio
from api.crud.beneficiaries import read_beneficiaries
from api.deps import SessionDep, StationDep
from api.models import ImportResult, NeedCreate, NeedPublic, NeedUpdate
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


@router.post(
    "/stations/{station_id}/beneficiaries/{beneficiary_id}/needs",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_need(
    body: NeedCreate, station: StationDep, session: SessionDep, beneficiary_id: str
) -> NeedPublic:
    """Add a standing need to a beneficiary of the station (409 if the id is taken)."""
    return people.add_need(session, station.id, beneficiary_id, body)


@router.patch(
    "/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}", response_model=NeedPublic
)
def update_need(
    body: NeedUpdate, station: StationDep, session: SessionDep, beneficiary_id: str, need_id: str
) -> NeedPublic:
    """Change the fields sent (``beneficiary_id``: move it to another beneficiary of the station); the
    need is checked whole, as a new one is (422 naming the field).  ``{"active": true}`` restores it."""
    return people.update_need(session, station.id, beneficiary_id, need_id, body)


@router.delete(
    "/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}", response_model=NeedPublic
)
def delete_need(station: StationDep, session: SessionDep, beneficiary_id: str, need_id: str) -> NeedPublic:
    """End a need (soft delete, 200 with the need, ``active`` false): left out of new plans, kept for
    history."""
    need = people.find_need(session, station.id, beneficiary_id, need_id)
    people.deactivate(session, need)
    return people.need_public(need)


def _rows(session: Session, station_id: str, include_inactive: bool) -> list[dict[str, Any]]:
    found = read_beneficiaries(session, station_id, active_only=not include_inactive).values()
    needs = (n for _, ns in found for n in ns)
    return [n.model_dump() for n in sorted(needs, key=lambda n: n.id)]


@router.get(
    "/stations/{station_id}/needs.csv",
    response_class=Response,
    responses=CSV_OK,
    description="The needs (ended ones too, `active` false) of the beneficiaries beneficiaries.csv lists"
    " (`include_inactive=true`: of deactivated beneficiaries too), as CSV, by id.\n\n"
    + csvio.describe(csvio.NEED_COLUMNS),
)
def export_needs(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> Response:
    """The needs of the station's beneficiaries as CSV (the columns :func:`import_needs` reads)."""
    return export(
        "csv", csvio.NEED_COLUMNS, _rows(session, station.id, include_inactive), "needs", station.id
    )


@router.get(
    "/stations/{station_id}/needs.xlsx",
    response_class=Response,
    responses=XLSX_OK,
    description="The needs of the station's beneficiaries as an Excel workbook, by id: the columns of"
    " needs.csv.",
)
def export_needs_xlsx(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> Response:
    """The needs of the station's beneficiaries as XLSX (the columns of :func:`export_needs`)."""
    return export(
        "xlsx", csvio.NEED_COLUMNS, _rows(session, station.id, include_inactive), "needs", station.id
    )


@router.put(
    "/stations/{station_id}/needs.csv",
    response_model=ImportResult,
    responses=IMPORT_RESPONSES,
    openapi_extra=CSV_BODY,
    description="Create or update needs of the station's beneficiaries by id, all or nothing.\n\n"
    + csvio.describe(csvio.NEED_COLUMNS),
)
def import_needs(station: StationDep, session: SessionDep, body: CsvBody) -> ImportResult | JSONResponse:
    """Upsert needs from CSV; any bad row: 422 listing every bad row, nothing written."""
    result = people.import_needs(session, station.id, body)
    return rejected(result) if isinstance(result, list) else result

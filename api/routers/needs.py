"""Beneficiaries' standing needs: add, change and end one (JSON), import and export (CSV, XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlmodel import Session

from api import csvio
from api.crud.beneficiaries import read_beneficiaries
from api.crud.sites import read_sites
from api.deps import SessionDep, StationDep
from api.models import NeedCreate, NeedPublic, NeedUpdate
from api.routers.spreadsheets import add_spreadsheet_routes
from api.services import people

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
    return people.end_need(session, station.id, beneficiary_id, need_id)


def _rows(session: Session, station_id: str, include_inactive: bool) -> list[dict[str, Any]]:
    found = read_beneficiaries(session, station_id, active_only=not include_inactive).values()
    at_sites = read_sites(session, station_id, active_only=not include_inactive).values()
    needs = [n for _, ns in found for n in ns] + [n for _, ns in at_sites for n in ns]
    return [n.model_dump() for n in sorted(needs, key=lambda n: n.id)]


add_spreadsheet_routes(
    router,
    "needs",
    csvio.NEED_COLUMNS,
    _rows,
    people.import_needs,
    records="needs of the station's beneficiaries and sites",
    what="The needs (ended ones too, `active` false) of the beneficiaries beneficiaries.csv lists and"
    " the posts at the sites sites.csv lists (`include_inactive=true`: of deactivated ones too), as"
    " CSV, by id.",
)

"""A station's beneficiaries: register, read, list (JSON, with needs), change and deactivate, import and
export (CSV, XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlmodel import Session

from api import csvio
from api.crud.beneficiaries import beneficiary_data, read_beneficiaries
from api.deps import SessionDep, StationDep
from api.models import BeneficiaryCreate, BeneficiaryListItem, BeneficiaryPublic, BeneficiaryUpdate
from api.routers.spreadsheets import add_spreadsheet_routes
from api.services import people
from api.services.spreadsheets import IncludeInactive

router = APIRouter(prefix="/v1", tags=["people"])


@router.get("/stations/{station_id}/beneficiaries", response_model=list[BeneficiaryListItem])
def list_beneficiaries(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[BeneficiaryListItem]:
    """The station's active beneficiaries by id, each with needs (deactivated ones too if asked);
    address, contact person and phone masked: the beneficiary's own GET shows them in full."""
    found = read_beneficiaries(session, station.id, active_only=not include_inactive).values()
    return [people.beneficiary_list_item(b, needs) for b, needs in found]


@router.post(
    "/stations/{station_id}/beneficiaries",
    status_code=status.HTTP_201_CREATED,
    response_model=BeneficiaryPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_beneficiary(
    body: BeneficiaryCreate, station: StationDep, session: SessionDep
) -> BeneficiaryPublic:
    """Register a beneficiary of the station (409 if the id is taken); add needs with POST …/needs."""
    people.register_beneficiary(session, station.id, body)
    return get_beneficiary(station, session, body.id)


@router.get("/stations/{station_id}/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic)
def get_beneficiary(station: StationDep, session: SessionDep, beneficiary_id: str) -> BeneficiaryPublic:
    """One beneficiary of the station, with needs (a deactivated one too: ``active`` false)."""
    return people.beneficiary_public(*people.find_beneficiary(session, station.id, beneficiary_id))


@router.patch("/stations/{station_id}/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic)
def update_beneficiary(
    body: BeneficiaryUpdate, station: StationDep, session: SessionDep, beneficiary_id: str
) -> BeneficiaryPublic:
    """Change the fields sent; the beneficiary is checked whole, as a registration is (422 naming the
    field).  ``{"active": true}`` restores a deactivated one.  Needs: their own routes."""
    people.update_beneficiary(session, station.id, beneficiary_id, body)
    return get_beneficiary(station, session, beneficiary_id)


@router.delete("/stations/{station_id}/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic)
def delete_beneficiary(station: StationDep, session: SessionDep, beneficiary_id: str) -> BeneficiaryPublic:
    """Deactivate a beneficiary (soft delete, 200 with the beneficiary, ``active`` false): left out of
    lists, exports and new plans with their needs; plans and service records keep referring to them."""
    people.deactivate(session, people.find_beneficiary(session, station.id, beneficiary_id)[0])
    return get_beneficiary(station, session, beneficiary_id)


def _rows(session: Session, station_id: str, include_inactive: bool) -> list[dict[str, Any]]:
    found = read_beneficiaries(session, station_id, active_only=not include_inactive).values()
    return [beneficiary_data(b) for b, _ in found]


add_spreadsheet_routes(
    router,
    "beneficiaries",
    csvio.BENEFICIARY_COLUMNS,
    _rows,
    people.import_beneficiaries,
    records="the station's beneficiaries",
    what="The station's active beneficiaries as CSV, by id (`include_inactive=true`: all; needs: needs.csv).",
)

"""A station's sites (places of group posts, 多人岗位): register, read, list (JSON, with needs),
change and deactivate, their needs, import and export (CSV, XLSX)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlmodel import Session

from api import csvio
from api.crud.sites import read_sites, site_data
from api.deps import SessionDep, StationDep
from api.models import NeedCreate, NeedPublic, NeedUpdate, SiteCreate, SitePublic, SiteUpdate
from api.routers.spreadsheets import add_spreadsheet_routes
from api.services import people, sites
from api.services.spreadsheets import IncludeInactive

router = APIRouter(prefix="/v1", tags=["people"])


@router.get("/stations/{station_id}/sites", response_model=list[SitePublic])
def list_sites(
    station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[SitePublic]:
    """The station's active sites by id, each with its needs (deactivated sites too if asked)."""
    found = read_sites(session, station.id, active_only=not include_inactive).values()
    return [sites.site_public(s, needs) for s, needs in found]


@router.post(
    "/stations/{station_id}/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SitePublic,
    responses={409: {"description": "The id is taken."}},
)
def create_site(body: SiteCreate, station: StationDep, session: SessionDep) -> SitePublic:
    """Register a site of the station (409 if the id is taken); add its posts with POST …/needs."""
    sites.register_site(session, station.id, body)
    return get_site(station, session, body.id)


@router.get("/stations/{station_id}/sites/{site_id}", response_model=SitePublic)
def get_site(station: StationDep, session: SessionDep, site_id: str) -> SitePublic:
    """One site of the station, with its needs (a deactivated one too: ``active`` false)."""
    return sites.site_public(*sites.find_site(session, station.id, site_id))


@router.patch("/stations/{station_id}/sites/{site_id}", response_model=SitePublic)
def update_site(body: SiteUpdate, station: StationDep, session: SessionDep, site_id: str) -> SitePublic:
    """Change the fields sent; the site is checked whole, as a registration is (422 naming the field).
    ``{"active": true}`` restores a deactivated one.  Needs: their own routes."""
    sites.update_site(session, station.id, site_id, body)
    return get_site(station, session, site_id)


@router.delete("/stations/{station_id}/sites/{site_id}", response_model=SitePublic)
def delete_site(station: StationDep, session: SessionDep, site_id: str) -> SitePublic:
    """Deactivate a site (soft delete, 200 with the site, ``active`` false): left out of lists, exports
    and new plans with its needs; plans and service records keep referring to it."""
    people.deactivate(session, sites.find_site(session, station.id, site_id)[0])
    return get_site(station, session, site_id)


@router.post(
    "/stations/{station_id}/sites/{site_id}/needs",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_site_need(body: NeedCreate, station: StationDep, session: SessionDep, site_id: str) -> NeedPublic:
    """Add a post at a site of the station (``priority`` required; 409 if the id is taken)."""
    return sites.add_site_need(session, station.id, site_id, body)


@router.patch("/stations/{station_id}/sites/{site_id}/needs/{need_id}", response_model=NeedPublic)
def update_site_need(
    body: NeedUpdate, station: StationDep, session: SessionDep, site_id: str, need_id: str
) -> NeedPublic:
    """Change the fields sent (``site_id``: move it to another site of the station); the need is
    checked whole, as a new one is (422 naming the field).  ``{"active": true}`` restores it."""
    return sites.update_site_need(session, station.id, site_id, need_id, body)


@router.delete("/stations/{station_id}/sites/{site_id}/needs/{need_id}", response_model=NeedPublic)
def delete_site_need(station: StationDep, session: SessionDep, site_id: str, need_id: str) -> NeedPublic:
    """End a post (soft delete, 200 with the need, ``active`` false): left out of new plans, kept for
    history."""
    return sites.end_site_need(session, station.id, site_id, need_id)


def _rows(session: Session, station_id: str, include_inactive: bool) -> list[dict[str, Any]]:
    found = read_sites(session, station_id, active_only=not include_inactive).values()
    return [site_data(s) for s, _ in found]


add_spreadsheet_routes(
    router,
    "sites",
    csvio.SITE_COLUMNS,
    _rows,
    sites.import_sites,
    records="the station's sites",
    what="The station's active sites as CSV, by id (`include_inactive=true`: all; their posts: needs.csv).",
)

"""Sites (places of group posts, 多人岗位) and their needs: JSON and CSV, station by station.

The same rules as :mod:`api.services.people`: references resolve within the caller's station (the
district exists; a need's site is the station's), a PATCH is checked whole as a new record is,
DELETE is soft (``active`` false), and a CSV import is an all-or-nothing upsert by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from api.crud.sites import SITES, site_data
from api.models import ImportResult, Need, NeedCreate, NeedPublic, Site, SiteCreate, SitePublic
from api.services.people import (
    References,
    add_place_need,
    end_place_need,
    find_place,
    find_place_need,
    import_places,
    need_public,
    register_place,
    update_place,
    update_place_need,
)
from api.services.spreadsheets import CsvUpload


def site_public(s: Site, needs: list[Need]) -> SitePublic:
    """A stored site with its needs, as a response shows it."""
    return SitePublic.model_construct(
        **site_data(s), station_id=s.station_id, needs=[need_public(n) for n in needs]
    )


def site_problems(s: SiteCreate, refs: References, _before: Mapping[str, Any] | None) -> list[str]:
    """``field: message`` for each reference of ``s`` that does not resolve (or clashes) in the station."""
    problems = []
    if s.district not in refs.districts:
        problems.append(f"district: unknown district '{s.district}'")
    if s.id in refs.beneficiaries:
        # Format 2 counts a site as one place beside the beneficiaries: the ids must not meet.
        problems.append(f"id: '{s.id}' is also a beneficiary's id")
    return problems


def find_site(session: Session, station_id: str, site_id: str) -> tuple[Site, list[Need]]:
    """A site of the station with its needs: 404 if it is not the station's."""
    return find_place(session, SITES, station_id, site_id)


def register_site(session: Session, station_id: str, body: SiteCreate) -> None:
    """Store a new site of the station: 422 for a reference out of it, 409 for an id in use."""
    register_place(session, SITES, station_id, body, site_problems)


def update_site(session: Session, station_id: str, site_id: str, patch: BaseModel) -> None:
    """Change a site of the station: 404 if not the station's, 422 naming the field."""
    update_place(session, SITES, station_id, site_id, patch, site_problems)


def add_site_need(session: Session, station_id: str, site_id: str, body: NeedCreate) -> NeedPublic:
    """Store a new need (a post) at a site of the station: 404 if not the station's, 422 naming the
    field (a priority is required at a site), 409 for an id in use."""
    return add_place_need(session, SITES, station_id, site_id, body)


def find_site_need(session: Session, station_id: str, site_id: str, need_id: str) -> Need:
    """A need at a site of the station: 404 if the site is not the station's or the need not the site's."""
    return find_place_need(session, SITES, station_id, site_id, need_id)


def end_site_need(session: Session, station_id: str, site_id: str, need_id: str) -> NeedPublic:
    """End a post at a site of the station (soft delete, ``active`` false): 404 if not the station's."""
    return end_place_need(session, SITES, station_id, site_id, need_id)


def update_site_need(
    session: Session, station_id: str, site_id: str, need_id: str, patch: BaseModel
) -> NeedPublic:
    """Change a need at a site of the station (``site_id`` moves it to another of the station's
    sites): 404 if not the station's, 422 naming the field."""
    return update_place_need(session, SITES, station_id, site_id, need_id, patch)


def import_sites(session: Session, station_id: str, body: CsvUpload) -> ImportResult | list[str]:
    """Upsert the station's sites from CSV: the counts, or every bad row (nothing written)."""
    return import_places(session, SITES, station_id, body, site_problems)

"""Sites (places of group posts, 多人岗位) and their needs: JSON and CSV, station by station.

The same rules as :mod:`api.services.people`: references resolve within the caller's station (the
district exists; a need's site is the station's), a PATCH is checked whole as a new record is,
DELETE is soft (``active`` false), and a CSV import is an all-or-nothing upsert by id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel
from sqlmodel import Session

from api import csvio
from api.crud.common import taken_ids, taken_message
from api.crud.needs import store_needs
from api.crud.sites import read_sites, site_data, store_sites
from api.deps import not_found
from api.models import ImportResult, Need, NeedCreate, NeedPublic, Site, SiteCreate, SitePublic
from api.services.people import (
    References,
    commit,
    need_at,
    need_problems,
    need_public,
    patched,
    unprocessable,
)
from api.services.spreadsheets import CsvUpload, read_rows

logger = logging.getLogger(__name__)


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
    found = read_sites(session, station_id, site_id).get(site_id)
    if found is None:
        raise not_found("site", site_id)
    return found


def register_site(session: Session, station_id: str, body: SiteCreate) -> None:
    """Store a new site of the station: 422 for a reference out of it, 409 for an id in use."""
    unprocessable(site_problems(body, References.load(session, station_id), None))
    conflict = taken_message("site", body.id)
    if session.get(Site, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    store_sites(session, station_id, [body], {})
    commit(session, conflict)
    logger.info("station %s: site %s registered", station_id, body.id)


def update_site(session: Session, station_id: str, site_id: str, patch: BaseModel) -> None:
    """Change a site of the station: 404 if not the station's, 422 naming the field."""
    current = read_sites(session, station_id, site_id)
    if site_id not in current:
        raise not_found("site", site_id)
    before = site_data(current[site_id][0])
    record = patched(SiteCreate, before, patch)
    unprocessable(site_problems(record, References.load(session, station_id), before))
    store_sites(session, station_id, [record], current)
    commit(session, "the site changed meanwhile: nothing was written, try again")
    logger.info("station %s: site %s changed", station_id, site_id)


def add_site_need(session: Session, station_id: str, site_id: str, body: NeedCreate) -> NeedPublic:
    """Store a new need (a post) at a site of the station: 404 if not the station's, 422 naming the
    field (a priority is required at a site), 409 for an id in use."""
    find_site(session, station_id, site_id)
    conflict = taken_message("need", body.id)
    if session.get(Need, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    need = need_at(body, site_id=site_id)
    store_needs(session, [need], {})
    commit(session, conflict)
    logger.info("station %s: need %s added at site %s", station_id, body.id, site_id)
    return need


def find_site_need(session: Session, station_id: str, site_id: str, need_id: str) -> Need:
    """A need at a site of the station: 404 if the site is not the station's or the need not the site's."""
    need = next((n for n in find_site(session, station_id, site_id)[1] if n.id == need_id), None)
    if need is None:
        raise not_found("need", need_id)
    return need


def update_site_need(
    session: Session, station_id: str, site_id: str, need_id: str, patch: BaseModel
) -> NeedPublic:
    """Change a need at a site of the station (``site_id`` moves it to another of the station's
    sites): 404 if not the station's, 422 naming the field."""
    need = find_site_need(session, station_id, site_id, need_id)
    before = need.model_dump()
    record = patched(NeedPublic, before, patch)
    unprocessable(need_problems(record, References.load(session, station_id), before))
    store_needs(session, [record], {need_id: need})
    commit(session, "the need changed meanwhile: nothing was written, try again")
    session.refresh(need)
    logger.info("station %s: need %s changed", station_id, need_id)
    return need_public(need)


def import_sites(session: Session, station_id: str, body: CsvUpload) -> ImportResult | list[str]:
    """Upsert the station's sites from CSV: the counts, or every bad row (nothing written)."""
    current = read_sites(session, station_id)
    refs = References.load(session, station_id)
    records, errors = read_rows(
        body,
        csvio.SITE_COLUMNS,
        SiteCreate,
        {i: site_data(s) for i, (s, _) in current.items()},
        lambda ids: taken_ids(session, Site, ids),
        lambda rec, before: site_problems(rec, refs, before),
    )
    if errors:
        return errors
    created, updated = store_sites(session, station_id, records, current)
    commit(session, "the station's sites changed during the import: nothing was written, try again")
    logger.info("station %s: sites.csv imported, %d created, %d updated", station_id, created, updated)
    return ImportResult(created=created, updated=updated)

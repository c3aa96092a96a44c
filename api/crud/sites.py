"""Sites in the database: a station's sites (places of group posts) with their needs, and upserts.

:mod:`api.crud.places` applied to sites (``need.site_id``, :data:`api.csvio.SITE_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from api import csvio
from api.crud.places import PlaceKind, place_data, read_places, store_places
from api.models import Need, Site, SiteCreate

Sites = dict[str, tuple[Site, list[Need]]]

SITES = PlaceKind(Site, SiteCreate, "site_id", csvio.SITE_COLUMNS, "site", "sites")
"""Sites as places with needs."""


def read_sites(
    session: Session, station_id: str, ident: str | None = None, *, active_only: bool = False
) -> Sites:
    """The station's sites (or just ``ident``; ``active_only``: not deactivated ones) by id, each with
    its needs (ended ones too)."""
    return read_places(session, SITES, station_id, ident, active_only=active_only)


def site_data(s: Site) -> dict[str, Any]:
    """A stored site as :class:`SiteCreate` fields."""
    return place_data(s)


def store_sites(
    session: Session, station_id: str, records: Sequence[SiteCreate], current: Sites
) -> tuple[int, int]:
    """Insert or update sites (their needs untouched); (created, updated)."""
    return store_places(session, SITES, station_id, records, current)

"""Sites in the database: a station's sites (places of group posts) with their needs, and upserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from api.models import Need, Site, SiteCreate
from matcher.format.bounds import is_id

Sites = dict[str, tuple[Site, list[Need]]]


def read_sites(
    session: Session, station_id: str, ident: str | None = None, *, active_only: bool = False
) -> Sites:
    """The station's sites (or just ``ident``; ``active_only``: not deactivated ones) by id, each with
    its needs (ended ones too)."""
    if ident is not None and not is_id(ident):  # names nothing (NUL would fail PostgreSQL's query)
        return {}
    query = select(Site).where(Site.station_id == station_id)
    needs = select(Need).join(Site, col(Need.site_id) == col(Site.id)).where(Site.station_id == station_id)
    if ident is not None:
        query = query.where(Site.id == ident)
        needs = needs.where(Need.site_id == ident)
    if active_only:
        query = query.where(col(Site.active).is_(True))
        needs = needs.where(col(Site.active).is_(True))
    out: Sites = {s.id: (s, []) for s in session.exec(query.order_by(col(Site.id)))}
    for n in session.exec(needs.order_by(col(Need.id))):
        out[str(n.site_id)][1].append(n)
    return out


def site_data(s: Site) -> dict[str, Any]:
    """A stored site as :class:`SiteCreate` fields."""
    return s.model_dump(exclude={"station_id"})


def store_sites(
    session: Session, station_id: str, records: Sequence[SiteCreate], current: Sites
) -> tuple[int, int]:
    """Insert or update sites (their needs untouched); (created, updated)."""
    created = updated = 0
    for rec in records:
        fields = rec.model_dump()
        known = current.get(rec.id)
        if known is None:
            session.add(Site(station_id=station_id, **fields))
            created += 1
        else:
            known[0].sqlmodel_update(fields)
            session.add(known[0])
            updated += 1
    session.flush()
    return created, updated

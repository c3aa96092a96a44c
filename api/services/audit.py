"""Reading the audit log (the entries are written by :mod:`api.audit`, never by a service)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from api.auth import Principal
from api.models import AuditEntry, AuditPublic


@dataclass(frozen=True)
class AuditFilter:
    """Which entries: of one entity (table) and id, written in ``[start, end]``."""

    entity: str | None = None
    entity_id: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and how many match in all."""

    items: list[AuditPublic]
    total: int


def list_entries(
    session: Session, principal: Principal, where: AuditFilter, limit: int, offset: int = 0
) -> AuditPage:
    """Entries the caller may see, oldest first: all for the centre, its station's for a station.

    An entry of another station's record is not shown to a station, whatever the filter: asking
    for another station's volunteer finds nothing, as asking for one that does not exist.
    """
    query = select(AuditEntry)
    if not principal.is_centre:
        query = query.where(AuditEntry.station_id == principal.station_id)
    if where.entity is not None:
        query = query.where(AuditEntry.entity == where.entity)
    if where.entity_id is not None:
        query = query.where(AuditEntry.entity_id == where.entity_id)
    if where.start is not None:
        query = query.where(col(AuditEntry.at) >= where.start)
    if where.end is not None:
        query = query.where(col(AuditEntry.at) <= where.end)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(AuditEntry.id)).offset(offset).limit(limit))
    return AuditPage([AuditPublic.model_validate(r, from_attributes=True) for r in rows], int(total))

"""Volunteers in the database: a station's volunteers with their certificates, and upserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, delete, select

from api.crud.common import chunks
from api.models import (
    Certificate,
    Volunteer,
    VolunteerCreate,
)
from matcher.format.bounds import is_id
from matcher.format.schema import Certification

Volunteers = dict[str, tuple[Volunteer, list[Certification]]]


def read_volunteers(
    session: Session, station_id: str, ident: str | None = None, *, active_only: bool = False
) -> Volunteers:
    """The station's volunteers (or just ``ident``; ``active_only``: not deactivated ones) by id, each
    with certificates."""
    if ident is not None and not is_id(ident):  # names nothing (NUL would fail PostgreSQL's query)
        return {}
    query = select(Volunteer).where(Volunteer.station_id == station_id)
    certs = (
        select(Certificate)
        .join(Volunteer, col(Certificate.volunteer_id) == col(Volunteer.id))
        .where(Volunteer.station_id == station_id)
    )
    if ident is not None:
        query = query.where(Volunteer.id == ident)
        certs = certs.where(Certificate.volunteer_id == ident)
    if active_only:
        query = query.where(col(Volunteer.active).is_(True))
        certs = certs.where(col(Volunteer.active).is_(True))
    out: Volunteers = {v.id: (v, []) for v in session.exec(query.order_by(col(Volunteer.id)))}
    for c in session.exec(certs.order_by(col(Certificate.id))):
        # Built, not validated: a certificate stored before the bounds must not make reads fail.
        out[c.volunteer_id][1].append(Certification.model_construct(kind=c.kind, expires=c.expires))
    return out


def volunteer_data(v: Volunteer, certs: list[Certification]) -> dict[str, Any]:
    """A stored volunteer as :class:`VolunteerCreate` fields."""
    return {**v.model_dump(exclude={"station_id"}), "certificates": list(certs)}


def store_volunteers(
    session: Session, station_id: str, records: Sequence[VolunteerCreate], current: Volunteers
) -> tuple[int, int]:
    """Insert or update volunteers (certificates replaced when they differ); (created, updated)."""
    created = updated = 0
    replaced: list[str] = []
    certificates: list[Certificate] = []
    for rec in records:
        fields = rec.model_dump(exclude={"certificates"})
        known = current.get(rec.id)
        if known is None:
            session.add(Volunteer(station_id=station_id, **fields))
            created += 1
        else:
            row, before = known
            row.sqlmodel_update(fields)
            session.add(row)
            updated += 1
            if before == rec.certificates:
                continue
            replaced.append(rec.id)
        certificates += [
            Certificate(volunteer_id=rec.id, kind=c.kind, expires=c.expires) for c in rec.certificates
        ]
    session.flush()
    for chunk in chunks(replaced):
        session.exec(delete(Certificate).where(col(Certificate.volunteer_id).in_(chunk)))
    session.add_all(certificates)
    session.flush()
    return created, updated

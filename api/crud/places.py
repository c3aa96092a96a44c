"""Places with needs in the database: a station's beneficiaries or sites, each with its needs, and upserts.

A beneficiary and a site are stored alike: a row of the station with an id, an ``active`` flag and
needs that point back at it by one foreign-key column of ``need`` (``beneficiary_id`` or ``site_id``),
read and written as CSV/XLSX by one set of columns.  :class:`PlaceKind` names those three things;
:mod:`api.crud.beneficiaries` and :mod:`api.crud.sites` are this module applied to each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlmodel import Session, col, select

from api.csvio import Column
from api.models import Beneficiary, BeneficiaryCreate, Need, Site, SiteCreate
from matcher.format.bounds import is_id

P = TypeVar("P", Beneficiary, Site)
"""The table of a place with needs."""

C = TypeVar("C", BeneficiaryCreate, SiteCreate)
"""Its create model (the CSV's record)."""


@dataclass(frozen=True)
class PlaceKind(Generic[P, C]):
    """One kind of place with needs: its table, its create model, the need's column naming it and
    its CSV/XLSX columns."""

    table: type[P]
    create: type[C]
    need_owner: Literal["beneficiary_id", "site_id"]
    """The column of ``need`` holding the place's id."""
    columns: Sequence[Column]
    """The place's CSV/XLSX columns (:mod:`api.csvio`)."""
    name: str
    """The place's kind as messages name it: ``beneficiary``, ``site``."""
    plural: str
    """As messages and logs name several: ``beneficiaries``, ``sites``."""


def read_places(
    session: Session,
    kind: PlaceKind[P, C],
    station_id: str,
    ident: str | None = None,
    *,
    active_only: bool = False,
) -> dict[str, tuple[P, list[Need]]]:
    """The station's places of ``kind`` (or just ``ident``; ``active_only``: not deactivated ones) by id,
    each with its needs (ended ones too)."""
    if ident is not None and not is_id(ident):  # names nothing (NUL would fail PostgreSQL's query)
        return {}
    table = kind.table
    owner = getattr(Need, kind.need_owner)
    query = select(table).where(table.station_id == station_id)
    needs = select(Need).join(table, col(owner) == col(table.id)).where(table.station_id == station_id)
    if ident is not None:
        query = query.where(table.id == ident)
        needs = needs.where(owner == ident)
    if active_only:
        query = query.where(col(table.active).is_(True))
        needs = needs.where(col(table.active).is_(True))
    out: dict[str, tuple[P, list[Need]]] = {
        p.id: (p, []) for p in session.exec(query.order_by(col(table.id)))
    }
    for n in session.exec(needs.order_by(col(Need.id))):
        out[str(getattr(n, kind.need_owner))][1].append(n)
    return out


def place_data(place: Beneficiary | Site) -> dict[str, Any]:
    """A stored place as its create model's fields."""
    return place.model_dump(exclude={"station_id"})


def store_places(
    session: Session,
    kind: PlaceKind[P, C],
    station_id: str,
    records: Sequence[C],
    current: dict[str, tuple[P, list[Need]]],
) -> tuple[int, int]:
    """Insert or update places of ``kind`` (their needs untouched); (created, updated)."""
    created = updated = 0
    for rec in records:
        fields = rec.model_dump()
        known = current.get(rec.id)
        if known is None:
            session.add(kind.table(station_id=station_id, **fields))
            created += 1
        else:
            known[0].sqlmodel_update(fields)
            session.add(known[0])
            updated += 1
    session.flush()
    return created, updated

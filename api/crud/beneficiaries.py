"""Beneficiaries in the database: a station's beneficiaries with their needs, and upserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from api.models import (
    Beneficiary,
    BeneficiaryCreate,
    Need,
)
from matcher.format.bounds import is_id

Beneficiaries = dict[str, tuple[Beneficiary, list[Need]]]


def read_beneficiaries(
    session: Session, station_id: str, ident: str | None = None, *, active_only: bool = False
) -> Beneficiaries:
    """The station's beneficiaries (or just ``ident``; ``active_only``: not deactivated ones) by id, each
    with needs (ended ones too)."""
    if ident is not None and not is_id(ident):  # names nothing (NUL would fail PostgreSQL's query)
        return {}
    query = select(Beneficiary).where(Beneficiary.station_id == station_id)
    needs = (
        select(Need)
        .join(Beneficiary, col(Need.beneficiary_id) == col(Beneficiary.id))
        .where(Beneficiary.station_id == station_id)
    )
    if ident is not None:
        query = query.where(Beneficiary.id == ident)
        needs = needs.where(Need.beneficiary_id == ident)
    if active_only:
        query = query.where(col(Beneficiary.active).is_(True))
        needs = needs.where(col(Beneficiary.active).is_(True))
    out: Beneficiaries = {b.id: (b, []) for b in session.exec(query.order_by(col(Beneficiary.id)))}
    for n in session.exec(needs.order_by(col(Need.id))):
        out[str(n.beneficiary_id)][1].append(n)
    return out


def beneficiary_data(b: Beneficiary) -> dict[str, Any]:
    """A stored beneficiary as :class:`BeneficiaryCreate` fields."""
    return b.model_dump(exclude={"station_id"})


def store_beneficiaries(
    session: Session, station_id: str, records: Sequence[BeneficiaryCreate], current: Beneficiaries
) -> tuple[int, int]:
    """Insert or update beneficiaries (their needs untouched); (created, updated)."""
    created = updated = 0
    for rec in records:
        fields = rec.model_dump()
        known = current.get(rec.id)
        if known is None:
            session.add(Beneficiary(station_id=station_id, **fields))
            created += 1
        else:
            known[0].sqlmodel_update(fields)
            session.add(known[0])
            updated += 1
    session.flush()
    return created, updated

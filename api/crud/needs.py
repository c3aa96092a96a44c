"""Needs in the database: upserts (a station's needs are read with its beneficiaries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session

from api.models import (
    Need,
    NeedPublic,
)


def store_needs(
    session: Session, records: Sequence[NeedPublic], current: Mapping[str, Need]
) -> tuple[int, int]:
    """Insert or update needs; (created, updated)."""
    created = updated = 0
    for rec in records:
        fields = rec.model_dump()
        row = current.get(rec.id)
        if row is None:
            session.add(Need(**fields))
            created += 1
        else:
            row.sqlmodel_update(fields)
            session.add(row)
            updated += 1
    session.flush()
    return created, updated

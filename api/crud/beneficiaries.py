"""Beneficiaries in the database: a station's beneficiaries with their needs, and upserts.

:mod:`api.crud.places` applied to beneficiaries (``need.beneficiary_id``,
:data:`api.csvio.BENEFICIARY_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from api import csvio
from api.crud.places import PlaceKind, place_data, read_places, store_places
from api.models import Beneficiary, BeneficiaryCreate, Need

Beneficiaries = dict[str, tuple[Beneficiary, list[Need]]]

BENEFICIARIES = PlaceKind(
    Beneficiary,
    BeneficiaryCreate,
    "beneficiary_id",
    csvio.BENEFICIARY_COLUMNS,
    "beneficiary",
    "beneficiaries",
)
"""Beneficiaries as places with needs."""


def read_beneficiaries(
    session: Session, station_id: str, ident: str | None = None, *, active_only: bool = False
) -> Beneficiaries:
    """The station's beneficiaries (or just ``ident``; ``active_only``: not deactivated ones) by id, each
    with needs (ended ones too)."""
    return read_places(session, BENEFICIARIES, station_id, ident, active_only=active_only)


def beneficiary_data(b: Beneficiary) -> dict[str, Any]:
    """A stored beneficiary as :class:`BeneficiaryCreate` fields."""
    return place_data(b)


def store_beneficiaries(
    session: Session, station_id: str, records: Sequence[BeneficiaryCreate], current: Beneficiaries
) -> tuple[int, int]:
    """Insert or update beneficiaries (their needs untouched); (created, updated)."""
    return store_places(session, BENEFICIARIES, station_id, records, current)

"""What the crud modules share: chunked ``IN (...)`` queries and id look-ups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlmodel import Session, col, select

from api.models import (
    Beneficiary,
    Need,
    Site,
    Volunteer,
)


def chunks(ids: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def taken_ids(
    session: Session, model: type[Volunteer | Beneficiary | Site | Need], ids: list[str]
) -> set[str]:
    """Which of ``ids`` exist (in any station)."""
    found: set[str] = set()
    for chunk in chunks(ids):
        found.update(session.exec(select(model.id).where(col(model.id).in_(chunk))))
    return found


def taken_message(what: str, ident: str) -> str:
    """The one answer for an id that is in use, in this station or another.

    Ids are unique in the city, so a new record cannot take an id in use anywhere; the
    answer is the same wherever it is used, so it tells nothing about other stations.
    """
    return f"{what} '{ident}' is already in use (ids are unique in the city)".lstrip()

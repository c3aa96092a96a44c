"""A station's volunteers, beneficiaries or needs a page at a time: searched, counted, ordered and
paged in the database (``LIKE``, ``COUNT``, ``ORDER BY``, ``LIMIT``/``OFFSET``), on SQLite and
PostgreSQL alike, so that a list of 4,000 volunteers loads one page of rows, not the station.

A search is a list of :class:`Term` (one per word, all must match); a word matches a record
when it is part of its id, name or district (case-insensitively), or when the caller resolved it
to codes the record has: districts whose names hold it, services or categories whose names (in
the page's language, which the database does not know) hold it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, func, or_
from sqlmodel import Session, col, select

from api.crud.common import chunks
from api.models import Beneficiary, Certificate, Need, Volunteer
from matcher.format.schema import Certification


@dataclass(frozen=True)
class Term:
    """One word of a search and the codes it names (resolved by the caller from their names).

    ``text`` is looked for (case-insensitively, as a substring) in the record's id, name and district
    (and, for a need, its beneficiary's id and name); ``districts``, ``services`` and ``categories``
    are codes a record matches by having one of them.
    """

    text: str
    districts: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


@dataclass
class Found:
    """One page of a search: how many records match in all, and the page's records (in order)."""

    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def _holds(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text``, case-insensitively (``%``, ``_`` and ``\\`` in it are literal).

    PostgreSQL's ``ILIKE`` folds every letter; SQLite's ``lower()`` folds ASCII ones only (ids and
    codes are ASCII, and Chinese has no case), so ``É`` and ``é`` differ there.
    """
    return col(column).icontains(text, autoescape=True)


def _in(column: Any, codes: Collection[str]) -> ColumnElement[bool]:
    return col(column).in_(sorted(codes)) if codes else false()


def _lists_any(column: Any, codes: Collection[str]) -> list[ColumnElement[bool]]:
    """A JSON list column holds one of ``codes``: its text holds ``"code"`` (quoted, so a code is
    never found inside another one), on SQLite's and PostgreSQL's JSON alike."""
    text = cast(column, String)
    return [text.contains(f'"{code}"', autoescape=True) for code in sorted(codes)]


def _page(query: Any, order: Sequence[Any], offset: int, limit: int | None) -> Any:
    query = query.order_by(*order).offset(offset)
    return query if limit is None else query.limit(limit)


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def search_volunteers(
    session: Session,
    station_id: str,
    terms: Sequence[Term],
    *,
    active_only: bool,
    offset: int = 0,
    limit: int | None = None,
) -> Found:
    """The station's volunteers matching every term, by id, ``limit`` of them from ``offset``
    (:class:`~api.crud.volunteers.volunteer_data` fields, certificates included), and their count."""
    query = select(Volunteer).where(Volunteer.station_id == station_id)
    if active_only:
        query = query.where(col(Volunteer.active).is_(True))
    for t in terms:
        query = query.where(
            or_(
                _holds(Volunteer.id, t.text),
                _holds(Volunteer.name, t.text),
                _holds(Volunteer.district, t.text),
                _in(Volunteer.district, t.districts),
                *_lists_any(Volunteer.skills, t.services),
            )
        )
    total = _count(session, query)
    rows = list(session.exec(_page(query, [col(Volunteer.id)], offset, limit))) if total else []
    certs: dict[str, list[Certification]] = {v.id: [] for v in rows}
    for chunk in chunks(list(certs)):
        found = select(Certificate).where(col(Certificate.volunteer_id).in_(chunk))
        for c in session.exec(found.order_by(col(Certificate.id))):
            # Built, not validated (as read_volunteers): an old certificate must not fail the list.
            certs[c.volunteer_id].append(Certification.model_construct(kind=c.kind, expires=c.expires))
    return Found(
        total,
        [{**v.model_dump(exclude={"station_id"}), "certificates": certs[v.id]} for v in rows],
    )


def search_beneficiaries(
    session: Session,
    station_id: str,
    terms: Sequence[Term],
    *,
    active_only: bool,
    offset: int = 0,
    limit: int | None = None,
) -> Found:
    """The station's beneficiaries matching every term, by id, ``limit`` of them from ``offset``
    (:class:`~api.models.BeneficiaryCreate` fields), and their count."""
    query = select(Beneficiary).where(Beneficiary.station_id == station_id)
    if active_only:
        query = query.where(col(Beneficiary.active).is_(True))
    for t in terms:
        query = query.where(
            or_(
                _holds(Beneficiary.id, t.text),
                _holds(Beneficiary.name, t.text),
                _holds(Beneficiary.district, t.text),
                _in(Beneficiary.district, t.districts),
                _in(Beneficiary.category, t.categories),
            )
        )
    total = _count(session, query)
    rows = session.exec(_page(query, [col(Beneficiary.id)], offset, limit)) if total else []
    return Found(total, [b.model_dump(exclude={"station_id"}) for b in rows])


def search_needs(
    session: Session,
    station_id: str,
    terms: Sequence[Term],
    *,
    active_only: bool,
    offset: int = 0,
    limit: int | None = None,
    ident: str | None = None,
) -> Found:
    """The needs of the station's beneficiaries matching every term (or just ``ident``), by
    beneficiary then need id, ``limit`` of them from ``offset`` (:class:`~api.models.NeedPublic`
    fields and ``beneficiary_name``, the name or else the id), and their count."""
    query = (
        select(Need, Beneficiary.name)
        .join(Beneficiary, col(Need.beneficiary_id) == col(Beneficiary.id))
        .where(Beneficiary.station_id == station_id)
    )
    if ident is not None:
        query = query.where(Need.id == ident)
    if active_only:
        query = query.where(col(Need.active).is_(True))
    for t in terms:
        query = query.where(
            or_(
                _holds(Need.id, t.text),
                _holds(Beneficiary.name, t.text),
                _holds(Need.beneficiary_id, t.text),
                _in(Need.service, t.services),
            )
        )
    total = _count(session, query)
    order = [col(Need.beneficiary_id), col(Need.id)]
    rows = session.exec(_page(query, order, offset, limit)) if total else []
    return Found(
        total, [{**n.model_dump(), "beneficiary_name": name or n.beneficiary_id} for n, name in rows]
    )

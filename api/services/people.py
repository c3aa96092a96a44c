"""Volunteers, beneficiaries and their standing needs: JSON and CSV, station by station.

Values are held to the exchange format's rules (service codes, the week's 21 slots,
certification kinds, categories, gender ``f``/``m``, strict numbers) and to its bounds
(:mod:`matcher.format.bounds`: ``max_hours`` 0-168, ids of the safe alphabet, names of at most 100
characters …), so whatever is stored here makes a valid week's problem.  References must resolve within the
caller's station: the district exists, team and group are the station's, excluded
volunteers are the station's volunteers, a need's beneficiary (or site) is the station's.

CSV import (``PUT …/volunteers.csv`` …) is an upsert by id, all or nothing: every row is
checked first, and one bad row means 422 listing every bad row, with nothing written.

A PATCH changes only the fields it sends; the record it makes is then checked whole, exactly
as a new one (the create model, the references in the station).  DELETE is soft: it sets
``active`` false, so plans, service records and the ledger keep referring to the record; a
PATCH ``{"active": true}`` restores it.

Beneficiaries' personal data (names, locations) are never logged: the log gets counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api import csvio
from api.crud.beneficiaries import BENEFICIARIES, beneficiary_data, read_beneficiaries
from api.crud.common import taken_ids, taken_message
from api.crud.needs import store_needs
from api.crud.places import C, P, PlaceKind, place_data, read_places, store_places
from api.crud.sites import read_sites
from api.crud.volunteers import read_volunteers, store_volunteers, volunteer_data
from api.deps import not_found
from api.models import (
    Beneficiary,
    BeneficiaryCreate,
    BeneficiaryListItem,
    BeneficiaryPublic,
    District,
    ImportResult,
    Need,
    NeedCreate,
    NeedPublic,
    Site,
    Team,
    Volunteer,
    VolunteerCreate,
    VolunteerGroup,
    VolunteerListItem,
    VolunteerPublic,
)
from api.services.spreadsheets import CsvUpload, read_rows
from matcher.format.errors import format_error_details
from matcher.format.schema import Certification

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def volunteer_public(v: Volunteer, certs: list[Certification]) -> VolunteerPublic:
    return VolunteerPublic.model_construct(**volunteer_data(v, certs), station_id=v.station_id)


def volunteer_list_item(v: Volunteer, certs: list[Certification]) -> VolunteerListItem:
    """A volunteer as lists show them: built as stored (not validated), contact details masked by
    the model."""
    return VolunteerListItem.model_construct(**volunteer_data(v, certs), station_id=v.station_id)


def beneficiary_list_item(b: Beneficiary, needs: list[Need]) -> BeneficiaryListItem:
    """A beneficiary as lists show them: built as stored, contact details masked by the model."""
    return BeneficiaryListItem.model_construct(
        **beneficiary_data(b), station_id=b.station_id, needs=[need_public(n) for n in needs]
    )


def need_public(n: Need) -> NeedPublic:
    return NeedPublic.model_construct(**n.model_dump())


def beneficiary_public(b: Beneficiary, needs: list[Need]) -> BeneficiaryPublic:
    return BeneficiaryPublic.model_construct(
        **beneficiary_data(b), station_id=b.station_id, needs=[need_public(n) for n in needs]
    )


@dataclass(frozen=True)
class References:
    """What a station's records may refer to."""

    districts: frozenset[str]
    teams: frozenset[str]
    group_team: Mapping[str, str]
    volunteers: frozenset[str]
    beneficiaries: frozenset[str]
    sites: frozenset[str]

    @classmethod
    def load(cls, session: Session, station_id: str) -> References:
        teams = frozenset(session.exec(select(Team.id).where(Team.station_id == station_id)))
        groups = session.exec(
            select(VolunteerGroup)
            .join(Team, col(VolunteerGroup.team_id) == col(Team.id))
            .where(Team.station_id == station_id)
        )
        return cls(
            districts=frozenset(session.exec(select(District.id))),
            teams=teams,
            group_team={g.id: g.team_id for g in groups},
            volunteers=frozenset(
                session.exec(select(Volunteer.id).where(Volunteer.station_id == station_id))
            ),
            beneficiaries=frozenset(
                session.exec(select(Beneficiary.id).where(Beneficiary.station_id == station_id))
            ),
            sites=frozenset(session.exec(select(Site.id).where(Site.station_id == station_id))),
        )


def volunteer_problems(v: VolunteerCreate, refs: References, _before: Mapping[str, Any] | None) -> list[str]:
    """``field: message`` for each reference of ``v`` that does not resolve in the station."""
    problems = []
    if v.district not in refs.districts:
        problems.append(f"district: unknown district '{v.district}'")
    if v.team_id is not None and v.team_id not in refs.teams:
        problems.append(f"team_id: unknown team '{v.team_id}'")
    if v.group_id is not None:
        team = refs.group_team.get(v.group_id)
        if team is None:
            problems.append(f"group_id: unknown group '{v.group_id}'")
        elif v.team_id is None:
            problems.append(f"team_id: required with group_id (group '{v.group_id}' is in team '{team}')")
        elif v.team_id != team:
            problems.append(f"group_id: group '{v.group_id}' is in team '{team}', not in '{v.team_id}'")
    return problems


def beneficiary_problems(
    b: BeneficiaryCreate, refs: References, before: Mapping[str, Any] | None
) -> list[str]:
    """``field: message`` for each reference of ``b`` that does not resolve in the station.

    An exclusion already stored stays valid even if the volunteer is no longer the
    station's (it is moot then: the week's problem drops it).
    """
    problems = []
    if b.district not in refs.districts:
        problems.append(f"district: unknown district '{b.district}'")
    kept = set(before["excluded_volunteers"]) if before is not None else set()
    for i, v in enumerate(b.excluded_volunteers):
        if v not in refs.volunteers and v not in kept:
            problems.append(f"excluded_volunteers[{i}]: unknown volunteer '{v}'")
    return problems


def need_problems(n: NeedPublic, refs: References, _before: Mapping[str, Any] | None) -> list[str]:
    """``field: message`` if the need's beneficiary or site is not the station's."""
    if n.beneficiary_id is not None and n.beneficiary_id not in refs.beneficiaries:
        return [f"beneficiary_id: unknown beneficiary '{n.beneficiary_id}'"]
    if n.site_id is not None and n.site_id not in refs.sites:
        return [f"site_id: unknown site '{n.site_id}'"]
    return []


def need_at(body: NeedCreate, beneficiary_id: str | None = None, site_id: str | None = None) -> NeedPublic:
    """``body`` as a need of the beneficiary or the site, checked whole (a priority only at a
    site …): 422 naming the field."""
    return patched(NeedPublic, {"beneficiary_id": beneficiary_id, "site_id": site_id}, body)


def unprocessable(problems: list[str]) -> None:
    """422 naming the first field, if there are problems."""
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems[0])


def commit(session: Session, conflict: str) -> None:
    """Commit, or 409 with ``conflict`` if a key was taken meanwhile."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict) from None


# ------------------------------------------------------------------------ registering one record


def register_volunteer(session: Session, station_id: str, body: VolunteerCreate) -> None:
    """Store a new volunteer of the station: 422 for a reference out of the station, 409 for an id in use."""
    unprocessable(volunteer_problems(body, References.load(session, station_id), None))
    conflict = taken_message("volunteer", body.id)
    if session.get(Volunteer, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    store_volunteers(session, station_id, [body], {})
    commit(session, conflict)
    logger.info("station %s: volunteer %s registered", station_id, body.id)


def register_beneficiary(session: Session, station_id: str, body: BeneficiaryCreate) -> None:
    """Store a new beneficiary of the station: 422 for a reference out of it, 409 for an id in use."""
    register_place(session, BENEFICIARIES, station_id, body, beneficiary_problems)


def add_need(session: Session, station_id: str, beneficiary_id: str, body: NeedCreate) -> NeedPublic:
    """Store a new need of a beneficiary of the station: 404 if not the station's, 409 for an id in use."""
    return add_place_need(session, BENEFICIARIES, station_id, beneficiary_id, body)


# ------------------------------------------------------------------------ changing one record (PATCH, DELETE)


def patched(model: type[M], before: Mapping[str, Any], patch: BaseModel) -> M:
    """The stored record ``before`` with the fields ``patch`` sends, validated whole as ``model``.

    422 naming the field if the result is not a valid record (a latitude without longitude …).
    """
    try:
        return model.model_validate({**before, **patch.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=format_error_details(dict(exc.errors()[0]))
        ) from None


def deactivate(session: Session, row: Volunteer | Beneficiary | Site | Need) -> None:
    """Soft delete: ``active`` false (plans, service records and the ledger keep referring to it)."""
    row.active = False
    session.add(row)
    commit(session, "the record changed meanwhile: try again")
    session.refresh(row)


def update_volunteer(session: Session, station_id: str, volunteer_id: str, patch: BaseModel) -> None:
    """Change a volunteer of the station: 404 if not the station's, 422 naming the field."""
    current = read_volunteers(session, station_id, volunteer_id)
    if volunteer_id not in current:
        raise not_found("volunteer", volunteer_id)
    before = volunteer_data(*current[volunteer_id])
    record = patched(VolunteerCreate, before, patch)
    unprocessable(volunteer_problems(record, References.load(session, station_id), before))
    store_volunteers(session, station_id, [record], current)
    commit(session, "the volunteer changed meanwhile: nothing was written, try again")
    logger.info("station %s: volunteer %s changed", station_id, volunteer_id)


def update_beneficiary(session: Session, station_id: str, beneficiary_id: str, patch: BaseModel) -> None:
    """Change a beneficiary of the station: 404 if not the station's, 422 naming the field."""
    update_place(session, BENEFICIARIES, station_id, beneficiary_id, patch, beneficiary_problems)


def find_beneficiary(
    session: Session, station_id: str, beneficiary_id: str
) -> tuple[Beneficiary, list[Need]]:
    """A beneficiary of the station with needs: 404 if not the station's."""
    return find_place(session, BENEFICIARIES, station_id, beneficiary_id)


def find_need(session: Session, station_id: str, beneficiary_id: str, need_id: str) -> Need:
    """A need of a beneficiary of the station: 404 if the beneficiary is not the station's or the need
    not the beneficiary's."""
    return find_place_need(session, BENEFICIARIES, station_id, beneficiary_id, need_id)


def end_need(session: Session, station_id: str, beneficiary_id: str, need_id: str) -> NeedPublic:
    """End a need of a beneficiary of the station (soft delete, ``active`` false): 404 if not the
    station's."""
    return end_place_need(session, BENEFICIARIES, station_id, beneficiary_id, need_id)


def update_need(
    session: Session, station_id: str, beneficiary_id: str, need_id: str, patch: BaseModel
) -> NeedPublic:
    """Change a need of a beneficiary of the station (``beneficiary_id`` moves it to another of the
    station's beneficiaries): 404 if not the station's, 422 naming the field."""
    return update_place_need(session, BENEFICIARIES, station_id, beneficiary_id, need_id, patch)


# ------------------------------------------------------------------------ CSV imports (all or nothing)


def import_volunteers(session: Session, station_id: str, body: CsvUpload) -> ImportResult | list[str]:
    """Upsert the station's volunteers from CSV: the counts, or every bad row (nothing written)."""
    current = read_volunteers(session, station_id)
    refs = References.load(session, station_id)
    records, errors = read_rows(
        body,
        csvio.VOLUNTEER_COLUMNS,
        VolunteerCreate,
        {i: volunteer_data(v, certs) for i, (v, certs) in current.items()},
        lambda ids: taken_ids(session, Volunteer, ids),
        lambda rec, before: volunteer_problems(rec, refs, before),
    )
    if errors:
        return errors
    created, updated = store_volunteers(session, station_id, records, current)
    commit(session, "the station's volunteers changed during the import: nothing was written, try again")
    logger.info("station %s: volunteers.csv imported, %d created, %d updated", station_id, created, updated)
    return ImportResult(created=created, updated=updated)


def import_beneficiaries(session: Session, station_id: str, body: CsvUpload) -> ImportResult | list[str]:
    """Upsert the station's beneficiaries from CSV: the counts, or every bad row (nothing written)."""
    return import_places(session, BENEFICIARIES, station_id, body, beneficiary_problems)


def import_needs(session: Session, station_id: str, body: CsvUpload) -> ImportResult | list[str]:
    """Upsert needs of the station's beneficiaries and sites from CSV: the counts, or every bad row
    (none written)."""
    current = {n.id: n for _, ns in read_beneficiaries(session, station_id).values() for n in ns}
    current.update((n.id, n) for _, ns in read_sites(session, station_id).values() for n in ns)
    refs = References.load(session, station_id)
    records, errors = read_rows(
        body,
        csvio.NEED_COLUMNS,
        NeedPublic,
        {i: n.model_dump() for i, n in current.items()},
        lambda ids: taken_ids(session, Need, ids),
        lambda rec, before: need_problems(rec, refs, before),
    )
    if errors:
        return errors
    created, updated = store_needs(session, records, current)
    commit(session, "the station's needs changed during the import: nothing was written, try again")
    logger.info("station %s: needs.csv imported, %d created, %d updated", station_id, created, updated)
    return ImportResult(created=created, updated=updated)


# ---------------------------------------------------------------- places with needs (beneficiaries, sites)
# One implementation for both kinds of place (api.crud.places.PlaceKind): the wrappers above and
# api.services.sites differ only in the kind and in their reference checks.

PlaceProblems = Callable[[C, References, Mapping[str, Any] | None], list[str]]
"""``field: message`` for each reference of a place record that does not resolve in the station."""


def find_place(
    session: Session, kind: PlaceKind[P, C], station_id: str, place_id: str
) -> tuple[P, list[Need]]:
    """A place of the station with its needs: 404 naming the kind if it is not the station's."""
    found = read_places(session, kind, station_id, place_id).get(place_id)
    if found is None:
        raise not_found(kind.name, place_id)
    return found


def register_place(
    session: Session, kind: PlaceKind[P, C], station_id: str, body: C, problems: PlaceProblems[C]
) -> None:
    """Store a new place of the station: 422 for a reference out of it, 409 for an id in use."""
    unprocessable(problems(body, References.load(session, station_id), None))
    conflict = taken_message(kind.name, body.id)
    if session.get(kind.table, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    store_places(session, kind, station_id, [body], {})
    commit(session, conflict)
    logger.info("station %s: %s %s registered", station_id, kind.name, body.id)


def update_place(
    session: Session,
    kind: PlaceKind[P, C],
    station_id: str,
    place_id: str,
    patch: BaseModel,
    problems: PlaceProblems[C],
) -> None:
    """Change a place of the station: 404 if not the station's, 422 naming the field."""
    current = read_places(session, kind, station_id, place_id)
    if place_id not in current:
        raise not_found(kind.name, place_id)
    before = place_data(current[place_id][0])
    record = patched(kind.create, before, patch)
    unprocessable(problems(record, References.load(session, station_id), before))
    store_places(session, kind, station_id, [record], current)
    commit(session, f"the {kind.name} changed meanwhile: nothing was written, try again")
    logger.info("station %s: %s %s changed", station_id, kind.name, place_id)


def add_place_need(
    session: Session, kind: PlaceKind[P, C], station_id: str, place_id: str, body: NeedCreate
) -> NeedPublic:
    """Store a new need of a place of the station: 404 if not the station's, 422 naming the field (a
    priority only at a site …), 409 for an id in use."""
    find_place(session, kind, station_id, place_id)
    conflict = taken_message("need", body.id)
    if session.get(Need, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    need = need_at(body, **{kind.need_owner: place_id})
    store_needs(session, [need], {})
    commit(session, conflict)
    logger.info("station %s: need %s added at %s %s", station_id, body.id, kind.name, place_id)
    return need


def find_place_need(
    session: Session, kind: PlaceKind[P, C], station_id: str, place_id: str, need_id: str
) -> Need:
    """A need of a place of the station: 404 if the place is not the station's or the need not the
    place's."""
    need = next((n for n in find_place(session, kind, station_id, place_id)[1] if n.id == need_id), None)
    if need is None:
        raise not_found("need", need_id)
    return need


def update_place_need(
    session: Session, kind: PlaceKind[P, C], station_id: str, place_id: str, need_id: str, patch: BaseModel
) -> NeedPublic:
    """Change a need of a place of the station (its ``beneficiary_id`` or ``site_id`` moves it to
    another of the station's places): 404 if not the station's, 422 naming the field."""
    need = find_place_need(session, kind, station_id, place_id, need_id)
    before = need.model_dump()
    record = patched(NeedPublic, before, patch)
    unprocessable(need_problems(record, References.load(session, station_id), before))
    store_needs(session, [record], {need_id: need})
    commit(session, "the need changed meanwhile: nothing was written, try again")
    session.refresh(need)
    logger.info("station %s: need %s changed", station_id, need_id)
    return need_public(need)


def end_place_need(
    session: Session, kind: PlaceKind[P, C], station_id: str, place_id: str, need_id: str
) -> NeedPublic:
    """End a need of a place of the station (soft delete, ``active`` false: left out of new plans, kept
    for history): 404 if the place is not the station's or the need not the place's."""
    need = find_place_need(session, kind, station_id, place_id, need_id)
    deactivate(session, need)
    return need_public(need)


def import_places(
    session: Session, kind: PlaceKind[P, C], station_id: str, body: CsvUpload, problems: PlaceProblems[C]
) -> ImportResult | list[str]:
    """Upsert the station's places of ``kind`` from CSV: the counts, or every bad row (nothing written)."""
    current = read_places(session, kind, station_id)
    refs = References.load(session, station_id)
    records, errors = read_rows(
        body,
        kind.columns,
        kind.create,
        {i: place_data(p) for i, (p, _) in current.items()},
        lambda ids: taken_ids(session, kind.table, ids),
        lambda rec, before: problems(rec, refs, before),
    )
    if errors:
        return errors
    created, updated = store_places(session, kind, station_id, records, current)
    commit(session, f"the station's {kind.plural} changed during the import: nothing was written, try again")
    logger.info(
        "station %s: %s.csv imported, %d created, %d updated", station_id, kind.plural, created, updated
    )
    return ImportResult(created=created, updated=updated)

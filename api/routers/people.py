"""Volunteers, beneficiaries and their standing needs: JSON and CSV, station by station.

Values are held to the exchange format's rules (service codes, the week's 21 slots,
certification kinds, categories, gender ``f``/``m``, strict numbers) and to its bounds
(:mod:`matcher.format.bounds`: ``max_hours`` 0-168, ids of the safe alphabet, names of at most 100
characters …), so whatever is stored here makes a valid week's problem.  References must resolve within the
caller's station: the district exists, team and group are the station's, excluded
volunteers are the station's volunteers, a need's beneficiary is the station's.

CSV import (``PUT …/volunteers.csv`` …) is an upsert by id, all or nothing: every row is
checked first, and one bad row means 422 listing every bad row, with nothing written.

Beneficiaries' personal data (names, locations) are never logged: the log gets counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from api import csvio, tables
from api.deps import SessionDep, StationDep, not_found
from api.models import (
    Beneficiary,
    BeneficiaryCreate,
    BeneficiaryPublic,
    Certificate,
    District,
    ImportErrors,
    ImportResult,
    Need,
    NeedCreate,
    NeedPublic,
    Team,
    Volunteer,
    VolunteerCreate,
    VolunteerGroup,
    VolunteerPublic,
)
from matcher.format.bounds import (
    is_id,
)
from matcher.format.errors import format_error_details
from matcher.format.schema import (
    Certification,
)

router = APIRouter(prefix="/v1", tags=["people"])
logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# ------------------------------------------------------------------------ value types


# ------------------------------------------------------------------------ shapes


# ------------------------------------------------------------------------ loading


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


Volunteers = dict[str, tuple[Volunteer, list[Certification]]]
Beneficiaries = dict[str, tuple[Beneficiary, list[Need]]]


def _volunteers(session: Session, station_id: str, ident: str | None = None) -> Volunteers:
    """The station's volunteers (or just ``ident``) by id, each with certificates."""
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
    out: Volunteers = {v.id: (v, []) for v in session.exec(query.order_by(col(Volunteer.id)))}
    for c in session.exec(certs.order_by(col(Certificate.id))):
        # Built, not validated: a certificate stored before the bounds must not make reads fail.
        out[c.volunteer_id][1].append(Certification.model_construct(kind=c.kind, expires=c.expires))
    return out


def _beneficiaries(session: Session, station_id: str, ident: str | None = None) -> Beneficiaries:
    """The station's beneficiaries (or just ``ident``) by id, each with needs."""
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
    out: Beneficiaries = {b.id: (b, []) for b in session.exec(query.order_by(col(Beneficiary.id)))}
    for n in session.exec(needs.order_by(col(Need.id))):
        out[n.beneficiary_id][1].append(n)
    return out


def _volunteer_data(v: Volunteer, certs: list[Certification]) -> dict[str, Any]:
    """A stored volunteer as :class:`VolunteerCreate` fields."""
    return {**v.model_dump(exclude={"station_id"}), "certificates": list(certs)}


def _beneficiary_data(b: Beneficiary) -> dict[str, Any]:
    """A stored beneficiary as :class:`BeneficiaryCreate` fields."""
    return b.model_dump(exclude={"station_id"})


# Stored records are shown as stored, not validated again: a row stored before the bounds
# (matcher.format.bounds) must stay readable, and exportable as CSV, so that it can be fixed.


def _volunteer_public(v: Volunteer, certs: list[Certification]) -> VolunteerPublic:
    return VolunteerPublic.model_construct(**_volunteer_data(v, certs), station_id=v.station_id)


def _need_public(n: Need) -> NeedPublic:
    return NeedPublic.model_construct(**n.model_dump())


def _beneficiary_public(b: Beneficiary, needs: list[Need]) -> BeneficiaryPublic:
    return BeneficiaryPublic.model_construct(
        **_beneficiary_data(b), station_id=b.station_id, needs=[_need_public(n) for n in needs]
    )


@dataclass(frozen=True)
class _References:
    """What a station's records may refer to."""

    districts: frozenset[str]
    teams: frozenset[str]
    group_team: Mapping[str, str]
    volunteers: frozenset[str]
    beneficiaries: frozenset[str]

    @classmethod
    def load(cls, session: Session, station_id: str) -> _References:
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
        )


def _volunteer_problems(
    v: VolunteerCreate, refs: _References, _before: Mapping[str, Any] | None
) -> list[str]:
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


def _beneficiary_problems(
    b: BeneficiaryCreate, refs: _References, before: Mapping[str, Any] | None
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


def _need_problems(n: NeedPublic, refs: _References, _before: Mapping[str, Any] | None) -> list[str]:
    """``field: message`` if the need's beneficiary is not the station's."""
    if n.beneficiary_id not in refs.beneficiaries:
        return [f"beneficiary_id: unknown beneficiary '{n.beneficiary_id}'"]
    return []


def taken_message(what: str, ident: str) -> str:
    """The one answer for an id that is in use, in this station or another.

    Ids are unique in the city, so a new record cannot take an id in use anywhere; the
    answer is the same wherever it is used, so it tells nothing about other stations.
    """
    return f"{what} '{ident}' is already in use (ids are unique in the city)".lstrip()


def _unprocessable(problems: list[str]) -> None:
    """422 naming the first field, if there are problems."""
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems[0])


def _commit(session: Session, conflict: str) -> None:
    """Commit, or 409 with ``conflict`` if a key was taken meanwhile."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict) from None


# ------------------------------------------------------------------------ writing


def _store_volunteers(
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
    for chunk in _chunks(replaced):
        session.exec(delete(Certificate).where(col(Certificate.volunteer_id).in_(chunk)))
    session.add_all(certificates)
    session.flush()
    return created, updated


def _store_beneficiaries(
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


def _store_needs(
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


# ------------------------------------------------------------------------ JSON: volunteers


@router.get("/stations/{station_id}/volunteers", response_model=list[VolunteerPublic])
def list_volunteers(station: StationDep, session: SessionDep) -> list[VolunteerPublic]:
    """The station's volunteers by id, each with certificates."""
    return [_volunteer_public(v, certs) for v, certs in _volunteers(session, station.id).values()]


@router.post(
    "/stations/{station_id}/volunteers",
    status_code=status.HTTP_201_CREATED,
    response_model=VolunteerPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_volunteer(body: VolunteerCreate, station: StationDep, session: SessionDep) -> VolunteerPublic:
    """Register a volunteer of the station (409 if the id is taken)."""
    _unprocessable(_volunteer_problems(body, _References.load(session, station.id), None))
    conflict = taken_message("volunteer", body.id)
    if session.get(Volunteer, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    _store_volunteers(session, station.id, [body], {})
    _commit(session, conflict)
    logger.info("station %s: volunteer %s registered", station.id, body.id)
    return get_volunteer(station, session, body.id)


@router.get("/stations/{station_id}/volunteers/{volunteer_id}", response_model=VolunteerPublic)
def get_volunteer(station: StationDep, session: SessionDep, volunteer_id: str) -> VolunteerPublic:
    """One volunteer of the station, with certificates."""
    found = _volunteers(session, station.id, volunteer_id).get(volunteer_id)
    if found is None:
        raise not_found("volunteer", volunteer_id)
    return _volunteer_public(*found)


# ------------------------------------------------------------------------ JSON: beneficiaries


@router.get("/stations/{station_id}/beneficiaries", response_model=list[BeneficiaryPublic])
def list_beneficiaries(station: StationDep, session: SessionDep) -> list[BeneficiaryPublic]:
    """The station's beneficiaries by id, each with needs."""
    return [_beneficiary_public(b, needs) for b, needs in _beneficiaries(session, station.id).values()]


@router.post(
    "/stations/{station_id}/beneficiaries",
    status_code=status.HTTP_201_CREATED,
    response_model=BeneficiaryPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_beneficiary(
    body: BeneficiaryCreate, station: StationDep, session: SessionDep
) -> BeneficiaryPublic:
    """Register a beneficiary of the station (409 if the id is taken); add needs with POST …/needs."""
    _unprocessable(_beneficiary_problems(body, _References.load(session, station.id), None))
    conflict = taken_message("beneficiary", body.id)
    if session.get(Beneficiary, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    _store_beneficiaries(session, station.id, [body], {})
    _commit(session, conflict)
    logger.info("station %s: beneficiary %s registered", station.id, body.id)
    return get_beneficiary(station, session, body.id)


@router.get("/stations/{station_id}/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic)
def get_beneficiary(station: StationDep, session: SessionDep, beneficiary_id: str) -> BeneficiaryPublic:
    """One beneficiary of the station, with needs."""
    found = _beneficiaries(session, station.id, beneficiary_id).get(beneficiary_id)
    if found is None:
        raise not_found("beneficiary", beneficiary_id)
    return _beneficiary_public(*found)


@router.post(
    "/stations/{station_id}/beneficiaries/{beneficiary_id}/needs",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedPublic,
    responses={409: {"description": "The id is taken."}},
)
def create_need(
    body: NeedCreate, station: StationDep, session: SessionDep, beneficiary_id: str
) -> NeedPublic:
    """Add a standing need to a beneficiary of the station (409 if the id is taken)."""
    if not _beneficiaries(session, station.id, beneficiary_id):
        raise not_found("beneficiary", beneficiary_id)
    conflict = taken_message("need", body.id)
    if session.get(Need, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=conflict)
    need = NeedPublic(**body.model_dump(), beneficiary_id=beneficiary_id)
    _store_needs(session, [need], {})
    _commit(session, conflict)
    logger.info("station %s: need %s added", station.id, body.id)
    return need


# ------------------------------------------------------------------------ CSV

_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The CSV text itself, not a form upload: UTF-8 (a byte-order mark is fine) or"
        " GBK/GB18030 as Excel for Chinese saves it; declare the charset (`text/csv; charset=gbk`)"
        " or leave it to be recognised.",
    }
}
_CSV_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "The CSV file (UTF-8 with a byte-order mark), one row per record.",
    }
}
_XLSX_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {tables.XLSX_MEDIA_TYPE: {}},
        "description": "The same rows as the CSV export, as an Excel workbook.",
    }
}
_IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The station's data changed during the import; nothing was written."},
    415: {"description": "The body is not CSV text."},
    422: {"model": ImportErrors, "description": "Some rows are bad; nothing was written."},
}
_NOT_CSV = ("application/json", "multipart/", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class CsvUpload:
    """A CSV request body as sent: its bytes and the charset its ``Content-Type`` declares (or None)."""

    data: bytes
    charset: str | None


async def csv_body(request: Request) -> CsvUpload:
    """The request body, which must be the CSV text itself (415 for JSON or a form upload)."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(_NOT_CSV):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="content-type: send the CSV text itself as the body, with content type text/csv",
        )
    return CsvUpload(await request.body(), csvio.charset_of(content_type))


CsvBody = Annotated[CsvUpload, Depends(csv_body)]


def _export(
    fmt: tables.Format,
    columns: Sequence[csvio.Column],
    records: Sequence[Mapping[str, Any]],
    name: str,
    station_id: str,
) -> Response:
    """``records`` as the file ``{name}-{station_id}.csv`` or ``.xlsx`` (the columns the import reads)."""
    header = [c.name for c in columns]
    return tables.export(fmt, header, csvio.cells(columns, records), f"{name}-{station_id}", name)


def _rejected(errors: list[str]) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=ImportErrors(detail=errors[0], errors=errors).model_dump(),
    )


def _taken(session: Session, model: type[Volunteer | Beneficiary | Need], ids: list[str]) -> set[str]:
    """Which of ``ids`` exist (in any station)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(session.exec(select(model.id).where(col(model.id).in_(chunk))))
    return found


def read_rows(
    body: CsvUpload,
    columns: Sequence[csvio.Column],
    model: type[M],
    current: Mapping[str, Mapping[str, Any]],
    taken: Callable[[list[str]], set[str]],
    check: Callable[[M, Mapping[str, Any] | None], list[str]],
) -> tuple[list[M], list[str]]:
    """Validate every row of an import.

    Parameters
    ----------
    body
        The request body (decoded as :func:`api.csvio.decode` says).
    columns
        The file's columns.
    model
        The shape of one row; it must have a string ``id``.
    current
        The station's records by id, as ``model`` fields: a row with such an id updates
        it, and a column the header leaves out keeps the stored value.
    taken
        Which of some ids (not the station's) exist elsewhere: such a row is an error.
    check
        ``field: message`` for each reference of a valid row (and its stored version) that
        does not resolve.

    Returns
    -------
    tuple[list[M], list[str]]
        The rows as ``model``, and the errors, ``row N: field: message`` in row order
        (the header is row 1).  Only when there are no errors are the rows complete.
    """
    try:
        table = csvio.read_csv(csvio.decode(body.data, body.charset), columns)
    except csvio.CsvError as exc:
        return [], [exc.message]
    if table.errors:
        return [], table.errors
    new = sorted({r.values["id"] for r in table.rows if isinstance(r.values.get("id"), str)} - set(current))
    elsewhere = taken(new) if new else set()
    header = set(table.header)
    records: list[M] = []
    errors: list[str] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        problems = list(row.errors)
        ident = row.values.get("id")
        before = current.get(ident) if isinstance(ident, str) else None
        if isinstance(ident, str):
            if ident in first_row:
                problems.append(f"id: '{ident}' is already on row {first_row[ident]}")
            first_row.setdefault(ident, row.number)
            if ident in elsewhere:
                problems.append(f"id: {taken_message('', ident)}")
        kept = {k: v for k, v in (before or {}).items() if k not in header}
        try:
            record = model.model_validate({**kept, **row.values})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if not (error["loc"] and error["loc"][0] in row.failed):
                    problems.append(format_error_details(dict(error)))
        else:
            problems += check(record, before)
            records.append(record)
        errors += [f"row {row.number}: {p}" for p in problems]
    return records, errors


@router.get(
    "/stations/{station_id}/volunteers.csv",
    response_class=Response,
    responses=_CSV_OK,
    description="The station's volunteers as CSV, by id.\n\n" + csvio.describe(csvio.VOLUNTEER_COLUMNS),
)
def export_volunteers(station: StationDep, session: SessionDep) -> Response:
    """The station's volunteers as CSV (the columns :func:`import_volunteers` reads)."""
    return _export(
        "csv", csvio.VOLUNTEER_COLUMNS, _volunteer_rows(session, station.id), "volunteers", station.id
    )


@router.get(
    "/stations/{station_id}/volunteers.xlsx",
    response_class=Response,
    responses=_XLSX_OK,
    description="The station's volunteers as an Excel workbook, by id: the columns of volunteers.csv.",
)
def export_volunteers_xlsx(station: StationDep, session: SessionDep) -> Response:
    """The station's volunteers as XLSX (the columns of :func:`export_volunteers`)."""
    rows = _volunteer_rows(session, station.id)
    return _export("xlsx", csvio.VOLUNTEER_COLUMNS, rows, "volunteers", station.id)


def _volunteer_rows(session: Session, station_id: str) -> list[dict[str, Any]]:
    return [_volunteer_data(v, certs) for v, certs in _volunteers(session, station_id).values()]


@router.put(
    "/stations/{station_id}/volunteers.csv",
    response_model=ImportResult,
    responses=_IMPORT_RESPONSES,
    openapi_extra=_CSV_BODY,
    description="Create or update the station's volunteers by id, all or nothing.\n\n"
    + csvio.describe(csvio.VOLUNTEER_COLUMNS),
)
def import_volunteers(station: StationDep, session: SessionDep, body: CsvBody) -> ImportResult | JSONResponse:
    """Upsert volunteers from CSV; any bad row: 422 listing every bad row, nothing written."""
    current = _volunteers(session, station.id)
    refs = _References.load(session, station.id)
    records, errors = read_rows(
        body,
        csvio.VOLUNTEER_COLUMNS,
        VolunteerCreate,
        {i: _volunteer_data(v, certs) for i, (v, certs) in current.items()},
        lambda ids: _taken(session, Volunteer, ids),
        lambda rec, before: _volunteer_problems(rec, refs, before),
    )
    if errors:
        return _rejected(errors)
    created, updated = _store_volunteers(session, station.id, records, current)
    _commit(session, "the station's volunteers changed during the import: nothing was written, try again")
    logger.info("station %s: volunteers.csv imported, %d created, %d updated", station.id, created, updated)
    return ImportResult(created=created, updated=updated)


@router.get(
    "/stations/{station_id}/beneficiaries.csv",
    response_class=Response,
    responses=_CSV_OK,
    description="The station's beneficiaries as CSV, by id (needs: needs.csv).\n\n"
    + csvio.describe(csvio.BENEFICIARY_COLUMNS),
)
def export_beneficiaries(station: StationDep, session: SessionDep) -> Response:
    """The station's beneficiaries as CSV (the columns :func:`import_beneficiaries` reads)."""
    rows = _beneficiary_rows(session, station.id)
    return _export("csv", csvio.BENEFICIARY_COLUMNS, rows, "beneficiaries", station.id)


@router.get(
    "/stations/{station_id}/beneficiaries.xlsx",
    response_class=Response,
    responses=_XLSX_OK,
    description="The station's beneficiaries as an Excel workbook, by id: the columns of beneficiaries.csv.",
)
def export_beneficiaries_xlsx(station: StationDep, session: SessionDep) -> Response:
    """The station's beneficiaries as XLSX (the columns of :func:`export_beneficiaries`)."""
    rows = _beneficiary_rows(session, station.id)
    return _export("xlsx", csvio.BENEFICIARY_COLUMNS, rows, "beneficiaries", station.id)


def _beneficiary_rows(session: Session, station_id: str) -> list[dict[str, Any]]:
    return [_beneficiary_data(b) for b, _ in _beneficiaries(session, station_id).values()]


@router.put(
    "/stations/{station_id}/beneficiaries.csv",
    response_model=ImportResult,
    responses=_IMPORT_RESPONSES,
    openapi_extra=_CSV_BODY,
    description="Create or update the station's beneficiaries by id, all or nothing.\n\n"
    + csvio.describe(csvio.BENEFICIARY_COLUMNS),
)
def import_beneficiaries(
    station: StationDep, session: SessionDep, body: CsvBody
) -> ImportResult | JSONResponse:
    """Upsert beneficiaries from CSV; any bad row: 422 listing every bad row, nothing written."""
    current = _beneficiaries(session, station.id)
    refs = _References.load(session, station.id)
    records, errors = read_rows(
        body,
        csvio.BENEFICIARY_COLUMNS,
        BeneficiaryCreate,
        {i: _beneficiary_data(b) for i, (b, _) in current.items()},
        lambda ids: _taken(session, Beneficiary, ids),
        lambda rec, before: _beneficiary_problems(rec, refs, before),
    )
    if errors:
        return _rejected(errors)
    created, updated = _store_beneficiaries(session, station.id, records, current)
    _commit(session, "the station's beneficiaries changed during the import: nothing was written, try again")
    logger.info(
        "station %s: beneficiaries.csv imported, %d created, %d updated", station.id, created, updated
    )
    return ImportResult(created=created, updated=updated)


@router.get(
    "/stations/{station_id}/needs.csv",
    response_class=Response,
    responses=_CSV_OK,
    description="The needs of the station's beneficiaries as CSV, by id.\n\n"
    + csvio.describe(csvio.NEED_COLUMNS),
)
def export_needs(station: StationDep, session: SessionDep) -> Response:
    """The needs of the station's beneficiaries as CSV (the columns :func:`import_needs` reads)."""
    return _export("csv", csvio.NEED_COLUMNS, _need_rows(session, station.id), "needs", station.id)


@router.get(
    "/stations/{station_id}/needs.xlsx",
    response_class=Response,
    responses=_XLSX_OK,
    description="The needs of the station's beneficiaries as an Excel workbook, by id: the columns of"
    " needs.csv.",
)
def export_needs_xlsx(station: StationDep, session: SessionDep) -> Response:
    """The needs of the station's beneficiaries as XLSX (the columns of :func:`export_needs`)."""
    return _export("xlsx", csvio.NEED_COLUMNS, _need_rows(session, station.id), "needs", station.id)


def _need_rows(session: Session, station_id: str) -> list[dict[str, Any]]:
    needs = (n for _, ns in _beneficiaries(session, station_id).values() for n in ns)
    return [n.model_dump() for n in sorted(needs, key=lambda n: n.id)]


@router.put(
    "/stations/{station_id}/needs.csv",
    response_model=ImportResult,
    responses=_IMPORT_RESPONSES,
    openapi_extra=_CSV_BODY,
    description="Create or update needs of the station's beneficiaries by id, all or nothing.\n\n"
    + csvio.describe(csvio.NEED_COLUMNS),
)
def import_needs(station: StationDep, session: SessionDep, body: CsvBody) -> ImportResult | JSONResponse:
    """Upsert needs from CSV; any bad row: 422 listing every bad row, nothing written."""
    current = {n.id: n for _, ns in _beneficiaries(session, station.id).values() for n in ns}
    refs = _References.load(session, station.id)
    records, errors = read_rows(
        body,
        csvio.NEED_COLUMNS,
        NeedPublic,
        {i: n.model_dump() for i, n in current.items()},
        lambda ids: _taken(session, Need, ids),
        lambda rec, before: _need_problems(rec, refs, before),
    )
    if errors:
        return _rejected(errors)
    created, updated = _store_needs(session, records, current)
    _commit(session, "the station's needs changed during the import: nothing was written, try again")
    logger.info("station %s: needs.csv imported, %d created, %d updated", station.id, created, updated)
    return ImportResult(created=created, updated=updated)

"""Service records (服务记录, the 台账), cumulative hours, star levels and reliability.

A record is how one session (an assignment's slot on its day) of a finished plan version
went: served (hours, optional rating and note), a no-show, or cancelled by the volunteer or
by the beneficiary.  A session is recorded once; ``POST /v1/records`` with ``correction:
{reason}`` corrects it (one route: the correction names the session as the record did, and
goes through the same checks).  The rules are :mod:`api.services.records`', shared with the
coordinators' pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlmodel import col, select

from api.deps import MAX_ID, PrincipalDep, SessionDep, StationDep, plan_in_scope, station_in_scope
from api.models import Outcome, RecordCreate, RecordPublic, Reliability, Station, Volunteer
from api.models.ledger import Ledger, LedgerPublic
from api.services import ledger_book, records
from api.services.ledger import CENTRE, YEAR_MAX, YEAR_MIN, build_ledger
from api.services.records import RecordFilter, volunteer_in_scope
from api.services.versions import visible_stations
from api.settings import get_settings
from api.stars import ServiceSummary, recorded_hours, summarize
from api.tables import XLSX_MEDIA_TYPE, content_disposition
from matcher.format.bounds import ServiceDay

router = APIRouter(prefix="/v1", tags=["records"])

PAGE_MAX = 1000
"""Most records of one page."""
PAGE_DEFAULT = 500
"""Records of a page when ``limit`` is left out."""
WEEKS_MAX = 52
"""The longest reliability history: a year."""


def star_thresholds() -> tuple[float, ...]:
    """Dependency: the configured star thresholds (``LINLI_STAR_HOURS``); tests may override it."""
    return get_settings().star_hours


ThresholdsDep = Annotated[tuple[float, ...], Depends(star_thresholds)]


@router.post(
    "/records",
    status_code=status.HTTP_201_CREATED,
    response_model=RecordPublic,
    responses={
        409: {
            "description": "The plan is not done; the session is recorded already (send `correction`); "
            "or a correction names a session not recorded yet."
        }
    },
)
def create_record(body: RecordCreate, session: SessionDep, principal: PrincipalDep) -> RecordPublic:
    """Record how one session of an assignment went, or correct its record.

    The session is ``assignment_id`` (an id of the plan's ``assignments``), ``served_on``
    and ``slot`` (may be left out when the assignment has one session that day).  A
    session is recorded once: a second record is 409 unless it carries ``correction:
    {"reason": …}``, which makes it the session's record and keeps the old one, marked
    ``superseded_by`` the new one.  A volunteer's served hours on a day are at most what the
    plan gives them that day, unless corrected with a reason.

    404 if the caller may not see the assignment's station; 422 naming the field
    (``served_on`` outside the plan's week or without a session, ``slot``, ``hours``,
    ``rating``, ``correction.reason``).
    """
    return records.create_record(session, principal, body)


def record_filter(
    start: Annotated[
        ServiceDay | None, Query(alias="from", description="Only sessions on or after this day.")
    ] = None,
    end: Annotated[
        ServiceDay | None, Query(alias="to", description="Only sessions on or before this day.")
    ] = None,
    station_id: Annotated[str | None, Query(description="Only this station's records (the centre).")] = None,
    volunteer_id: Annotated[str | None, Query(description="Only this volunteer's records.")] = None,
    plan_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only records of this plan version.")
    ] = None,
    outcome: Annotated[Outcome | None, Query(description="Only records with this outcome.")] = None,
    include_superseded: Annotated[
        bool, Query(description="Also the records a correction superseded (the ledger's history).")
    ] = False,
) -> RecordFilter:
    """Dependency: `GET /v1/records`' filters (ids not resolved yet); `from` after `to` is 422."""
    if start is not None and end is not None and start > end:
        raise records.unprocessable(f"query.from: {start} is after to ({end})")
    return RecordFilter(
        station_id=station_id,
        volunteer_id=volunteer_id,
        plan_ids=[plan_id] if plan_id is not None else None,
        start=start,
        end=end,
        outcome=outcome,
        include_superseded=include_superseded,
    )


@dataclass(frozen=True)
class Paging:
    """A page of a list: at most ``limit`` items after the first ``offset``."""

    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Records per page (1-1000).")] = PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Records to skip.")] = 0,
) -> Paging:
    """Dependency: ``limit`` and ``offset``."""
    return Paging(limit, offset)


@router.get("/records", response_model=list[RecordPublic])
def list_records(
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    where: Annotated[RecordFilter, Depends(record_filter)],
    page: Annotated[Paging, Depends(paging)],
) -> list[RecordPublic]:
    """Service records of the caller's stations (the centre: all), by day served, then id.

    Filters: ``from``, ``to`` (days, inclusive), ``station_id``, ``volunteer_id``,
    ``plan_id``, ``outcome``; current records only unless ``include_superseded``.  Paged by
    ``limit`` (default 500, at most 1000) and ``offset``; the ``X-Total-Count`` header
    says how many match in all.  An unknown parameter is 422 (as on every route), ``from``
    after ``to`` is 422; 404 if ``station_id``, ``volunteer_id`` or ``plan_id`` is of
    another station.
    """
    if where.station_id is not None:
        station_in_scope(session, principal, where.station_id)
    if where.volunteer_id is not None:
        volunteer_in_scope(session, principal, where.volunteer_id)
    for plan_id in where.plan_ids or ():
        plan_in_scope(session, principal, plan_id)
    found = records.list_records(session, principal, where, limit=page.limit, offset=page.offset)
    response.headers["X-Total-Count"] = str(found.total)
    return found.items


@router.get("/volunteers/{volunteer_id}/service", response_model=ServiceSummary)
def volunteer_service(
    volunteer_id: str, session: SessionDep, principal: PrincipalDep, thresholds: ThresholdsDep
) -> ServiceSummary:
    """A volunteer's cumulative hours and star level (404 for another station's volunteer)."""
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    return summarize(volunteer, recorded_hours(session, [volunteer.id])[volunteer.id], thresholds)


@router.get("/volunteers/{volunteer_id}/reliability", response_model=Reliability)
def volunteer_reliability(
    volunteer_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    weeks: Annotated[int, Query(ge=1, le=WEEKS_MAX, description="Whole weeks of history (1-52).")] = 4,
    before: Annotated[
        ServiceDay | None,
        Query(description="The history ends with the week before this day's week (default: today's)."),
    ] = None,
) -> Reliability:
    """A volunteer's sessions over the last ``weeks`` whole weeks: planned (in each week's plan in
    force), recorded, served, no-shows, late cancellations (cancelled by the volunteer while still
    planned), cancelled by the beneficiary, and the rate served / (served + no-shows + late
    cancellations).  Only current records count.  404 for another station's volunteer."""
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    day = before if before is not None else dt.date.today()
    return records.reliability(session, [volunteer], day, weeks)[volunteer.id]


@router.get("/stations/{station_id}/service", response_model=list[ServiceSummary])
def station_service(
    station: StationDep, session: SessionDep, thresholds: ThresholdsDep
) -> list[ServiceSummary]:
    """Cumulative hours and star level of every volunteer of the station, by volunteer id."""
    volunteers = session.exec(
        select(Volunteer).where(Volunteer.station_id == station.id).order_by(col(Volunteer.id))
    ).all()
    recorded = recorded_hours(session, [v.id for v in volunteers])
    return [summarize(v, recorded[v.id], thresholds) for v in volunteers]


# ------------------------------------------------------------------------ the year ledger (年度台账)

Year = Annotated[
    int | None,
    Query(ge=YEAR_MIN, le=YEAR_MAX, description="The calendar year (2000-2099; default: this year)."),
]


def _ledger(
    session: SessionDep, stations: list[Station], year: int | None, thresholds: tuple[float, ...], scope: str
) -> Ledger:
    return build_ledger(
        session, stations, year if year is not None else dt.date.today().year, thresholds, scope
    )


def _workbook(ledger: Ledger) -> Response:
    return Response(
        ledger_book.workbook(ledger),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(ledger_book.filename(ledger))},
    )


@router.get("/stations/{station_id}/ledger", response_model=LedgerPublic)
def station_ledger(
    station: StationDep, session: SessionDep, thresholds: ThresholdsDep, year: Year = None
) -> Ledger:
    """The station's year ledger (年度台账): totals, served hours by programme and month, coverage of
    demand by week, volunteers (hours, star levels, award candidates) and beneficiaries.

    The figures of the workbook ``…/ledger.xlsx`` (whose 服务记录 sheet lists the sessions, as
    ``GET /v1/records?from=Y-01-01&to=Y-12-31`` does).  Only current records count.  404 for
    another station; 422 naming ``year`` outside 2000-2099.
    """
    return _ledger(session, [station], year, thresholds, station.id)


@router.get(
    "/stations/{station_id}/ledger.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The workbook."}},
)
def station_ledger_xlsx(
    station: StationDep, session: SessionDep, thresholds: ThresholdsDep, year: Year = None
) -> Response:
    """The station's year ledger as an Excel workbook: sheets 汇总, 服务记录, 志愿者, 服务对象.
    404 for another station; 422 naming ``year``."""
    return _workbook(_ledger(session, [station], year, thresholds, station.id))


@router.get("/ledger", response_model=LedgerPublic)
def centre_ledger(
    session: SessionDep, principal: PrincipalDep, thresholds: ThresholdsDep, year: Year = None
) -> Ledger:
    """The year ledger of every station the caller sees (the centre: all, a row per station;
    a station's token: its own), as ``/v1/stations/{id}/ledger``."""
    return _ledger(session, visible_stations(session, principal), year, thresholds, CENTRE)


@router.get(
    "/ledger.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The workbook."}},
)
def centre_ledger_xlsx(
    session: SessionDep, principal: PrincipalDep, thresholds: ThresholdsDep, year: Year = None
) -> Response:
    """The centre's year ledger as one workbook for every station the caller sees."""
    return _workbook(_ledger(session, visible_stations(session, principal), year, thresholds, CENTRE))

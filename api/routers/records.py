"""Service records (服务记录), cumulative hours and star levels.

A record is how one day of an assignment of a finished plan version went: the hours
served, or a no-show or a cancelled session (0 hours).  The rules (the week's hours cap,
the plan's week, the station's volunteers) are :mod:`api.services.records`', shared with
the coordinators' pages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlmodel import col, select

from api.deps import MAX_ID, PrincipalDep, SessionDep, StationDep, plan_in_scope
from api.models import RecordCreate, RecordPublic, Volunteer
from api.services import records
from api.services.records import volunteer_in_scope
from api.settings import get_settings
from api.stars import ServiceSummary, recorded_hours, summarize

router = APIRouter(prefix="/v1", tags=["records"])


def star_thresholds() -> tuple[float, ...]:
    """Dependency: the configured star thresholds (``LINLI_STAR_HOURS``); tests may override it."""
    return get_settings().star_hours


ThresholdsDep = Annotated[tuple[float, ...], Depends(star_thresholds)]


@router.post("/records", status_code=status.HTTP_201_CREATED, response_model=RecordPublic)
def create_record(body: RecordCreate, session: SessionDep, principal: PrincipalDep) -> RecordPublic:
    """Record how one day of an assignment of a finished plan version went (served, no_show, cancelled).

    404 if the caller may not see the assignment's station; 422 naming ``served_on`` if
    the day is outside the plan's week, naming ``hours`` if the volunteer's hours on the
    need that week would exceed the planned hours x sessions.
    """
    return records.create_record(session, principal, body)


@router.get("/records", response_model=list[RecordPublic])
def list_records(
    session: SessionDep,
    principal: PrincipalDep,
    volunteer_id: Annotated[str | None, Query(description="Only this volunteer's records.")] = None,
    plan_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only records of this plan version.")
    ] = None,
) -> list[RecordPublic]:
    """Service records of the caller's stations (the centre: all), by day served.

    404 if ``volunteer_id`` or ``plan_id`` is of another station.
    """
    if volunteer_id is not None:
        volunteer_in_scope(session, principal, volunteer_id)
    if plan_id is not None:
        plan_in_scope(session, principal, plan_id)
    return records.list_records(session, principal, volunteer_id, [plan_id] if plan_id is not None else None)


@router.get("/volunteers/{volunteer_id}/service", response_model=ServiceSummary)
def volunteer_service(
    volunteer_id: str, session: SessionDep, principal: PrincipalDep, thresholds: ThresholdsDep
) -> ServiceSummary:
    """A volunteer's cumulative hours and star level (404 for another station's volunteer)."""
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    return summarize(volunteer, recorded_hours(session, [volunteer.id])[volunteer.id], thresholds)


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

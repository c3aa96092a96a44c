"""Service records (服务记录), cumulative hours and star levels.

A record is the hours a volunteer actually served on one day for an assignment of a
finished plan version.  The hours of one volunteer on one need in one week are capped, in
total, at what the plan asked for (the need's hours per session x its sessions); records
against earlier and later versions of the same week count together, so a re-solve cannot
double the week's hours.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlmodel import Session, col, select

from api.auth import Principal
from api.db import write_transaction
from api.deps import MAX_ID, PrincipalDep, SessionDep, StationDep, not_found, plan_in_scope
from api.models import PlanAssignment, PlanVersion, RecordCreate, RecordPublic, ServiceRecord, Volunteer
from api.settings import get_settings
from api.stars import TOLERANCE, ServiceSummary, recorded_hours, summarize
from matcher.format.bounds import is_id

router = APIRouter(prefix="/v1", tags=["records"])


def star_thresholds() -> tuple[float, ...]:
    """Dependency: the configured star thresholds (``LINLI_STAR_HOURS``); tests may override it."""
    return get_settings().star_hours


ThresholdsDep = Annotated[tuple[float, ...], Depends(star_thresholds)]


def _public(record: ServiceRecord, assignment: PlanAssignment) -> RecordPublic:
    assert record.id is not None
    return RecordPublic(
        id=record.id,
        assignment_id=record.assignment_id,
        plan_id=assignment.plan_id,
        need_id=assignment.need_id,
        volunteer_id=record.volunteer_id,
        served_on=record.served_on,
        hours=record.hours,
        rating=record.rating,
        created_at=record.created_at,
    )


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def _hours(value: float) -> str:
    return f"{value:g}"


def volunteer_in_scope(session: Session, principal: Principal, volunteer_id: str) -> Volunteer:
    """A volunteer the caller may see; 404 otherwise.

    Parameters
    ----------
    session
        Database session.
    principal
        The caller.
    volunteer_id
        The volunteer's id.

    Returns
    -------
    Volunteer
        The volunteer.

    Raises
    ------
    HTTPException
        404 if there is no such volunteer or it belongs to another station.
    """
    # A malformed id names nothing (and NUL would fail PostgreSQL's query rather than find nothing).
    volunteer = session.get(Volunteer, volunteer_id) if is_id(volunteer_id) else None
    if volunteer is None or not principal.may_see(volunteer.station_id):
        raise not_found("volunteer", volunteer_id)
    return volunteer


def _week_hours(session: Session, assignment: PlanAssignment, plan: PlanVersion) -> float:
    """Hours already recorded for the assignment's volunteer and need in any version of its week."""
    rows = session.exec(
        select(ServiceRecord.hours)
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
        .where(
            PlanAssignment.need_id == assignment.need_id,
            PlanAssignment.volunteer_id == assignment.volunteer_id,
            PlanVersion.station_id == plan.station_id,
            PlanVersion.week_start == plan.week_start,
        )
    )
    return math.fsum(float(h) for h in rows)


@router.post("/records", status_code=status.HTTP_201_CREATED, response_model=RecordPublic)
def create_record(body: RecordCreate, session: SessionDep, principal: PrincipalDep) -> RecordPublic:
    """Record the hours served on one day for an assignment of a finished plan version.

    404 if the caller may not see the assignment's station; 422 naming ``served_on`` if
    the day is outside the plan's week, naming ``hours`` if the volunteer's hours on the
    need that week would exceed the planned hours x sessions.
    """
    write_transaction(session)  # the hours cap is read, then written: one writer at a time
    assignment = session.get(PlanAssignment, body.assignment_id)
    plan = session.get(PlanVersion, assignment.plan_id) if assignment is not None else None
    # Integrator jobs (no station) have no volunteers of the service: nothing to record against.
    if (
        assignment is None
        or plan is None
        or plan.station_id is None
        or not principal.may_see(plan.station_id)
    ):
        raise not_found("assignment", body.assignment_id)
    if plan.state != "done":
        raise _conflict(f"plan {plan.id} is {plan.state}, not done")
    last_day = plan.week_start + dt.timedelta(days=6)
    if not plan.week_start <= body.served_on <= last_day:
        raise _unprocessable(
            f"served_on: {body.served_on} is outside the plan's week {plan.week_start} .. {last_day}"
        )
    need = next((n for n in plan.problem.get("needs", []) if n.get("id") == assignment.need_id), None)
    if need is None:  # pragma: no cover - a stored plan always matches its problem
        raise _conflict(f"need '{assignment.need_id}' is not in plan {plan.id}'s problem")
    per_session, sessions = float(need["hours"]), int(need["sessions"])
    planned = per_session * sessions
    # Lock the volunteer row (PostgreSQL) so concurrent records cannot both pass the cap.
    volunteer = session.exec(
        select(Volunteer).where(Volunteer.id == assignment.volunteer_id).with_for_update()
    ).first()
    if volunteer is None or volunteer.station_id != plan.station_id:
        # Hours go only onto a volunteer of the plan's own station: a plan that names
        # anyone else (left the station, or an old plan made before ids were scoped)
        # cannot write onto another station's record.
        raise _conflict(f"volunteer '{assignment.volunteer_id}' is not a volunteer of this station")
    already = _week_hours(session, assignment, plan)
    if already + body.hours > planned + TOLERANCE:
        raise _unprocessable(
            f"hours: {_hours(body.hours)} more would make {_hours(already + body.hours)} for need "
            f"'{assignment.need_id}' this week, over the {_hours(planned)} planned "
            f"({_hours(per_session)} x {sessions} sessions)"
        )
    record = ServiceRecord(
        assignment_id=body.assignment_id,
        volunteer_id=volunteer.id,
        served_on=body.served_on,
        hours=body.hours,
        rating=body.rating,
    )
    session.add(record)
    session.commit()
    session.refresh(record)
    session.refresh(assignment)
    return _public(record, assignment)


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
    query = (
        select(ServiceRecord, PlanAssignment)
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
    )
    if not principal.is_centre:
        query = query.where(PlanVersion.station_id == principal.station_id)
    if volunteer_id is not None:
        volunteer_in_scope(session, principal, volunteer_id)
        query = query.where(ServiceRecord.volunteer_id == volunteer_id)
    if plan_id is not None:
        plan_in_scope(session, principal, plan_id)
        query = query.where(PlanAssignment.plan_id == plan_id)
    rows = session.exec(query.order_by(col(ServiceRecord.served_on), col(ServiceRecord.id)))
    return [_public(record, assignment) for record, assignment in rows]


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

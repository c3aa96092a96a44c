"""Service records (服务记录): record how a session of a finished plan went, and read them back.

A record is one day of an assignment of a finished plan version: served (with the hours
actually served), a no-show (the volunteer did not come) or cancelled; the latter two hold
0 hours.  The hours of one volunteer on one need in one week are capped, in total, at what
the plan asked for (the need's hours per session x its sessions); records against earlier
and later versions of the same week count together, so a re-solve cannot double the
week's hours.  Only served sessions count towards hours and stars (:mod:`api.stars`).

The API's routes (:mod:`api.routers.records`) and the coordinators' pages
(:mod:`web.records_pages`) both record through :func:`create_record`.  Errors are
``HTTPException`` s, as in :mod:`api.services.people`: 404 out of scope, 409 for a plan
not done, 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from fastapi import HTTPException, status
from sqlmodel import Session, col, select

from api.auth import Principal
from api.db import write_transaction
from api.deps import not_found
from api.models import PlanAssignment, PlanVersion, RecordCreate, RecordPublic, ServiceRecord, Volunteer
from api.stars import TOLERANCE
from matcher.format.bounds import is_id


def public(record: ServiceRecord, assignment: PlanAssignment) -> RecordPublic:
    """The client's view of a record."""
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
        outcome=record.outcome,  # stored as text, one of OUTCOMES
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


def week_hours(session: Session, assignment: PlanAssignment, plan: PlanVersion) -> float:
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


def _served_hours(body: RecordCreate) -> float:
    """The hours the record stores: a served session's (required), else 0 (none may be sent)."""
    if body.outcome == "served":
        if body.hours is None:
            raise _unprocessable("hours: required when the outcome is served")
        return float(body.hours)
    if body.hours is not None:
        raise _unprocessable(f"hours: a session with outcome {body.outcome} has no hours; leave hours out")
    return 0.0


def create_record(session: Session, principal: Principal, body: RecordCreate) -> RecordPublic:
    """Record how one day of an assignment of a finished plan version went.

    404 if the caller may not see the assignment's station; 409 if the plan is not done;
    422 naming ``served_on`` if the day is outside the plan's week, naming ``hours`` if a
    served session has none, another has some, or the volunteer's hours on the need that
    week would exceed the planned hours x sessions.
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
    hours = _served_hours(body)
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
    already = week_hours(session, assignment, plan)
    if already + hours > planned + TOLERANCE:
        raise _unprocessable(
            f"hours: {_hours(hours)} more would make {_hours(already + hours)} for need "
            f"'{assignment.need_id}' this week, over the {_hours(planned)} planned "
            f"({_hours(per_session)} x {sessions} sessions)"
        )
    record = ServiceRecord(
        assignment_id=body.assignment_id,
        volunteer_id=volunteer.id,
        served_on=body.served_on,
        hours=hours,
        outcome=body.outcome,
        rating=body.rating,
    )
    session.add(record)
    session.commit()
    session.refresh(record)
    session.refresh(assignment)
    return public(record, assignment)


def list_records(
    session: Session,
    principal: Principal,
    volunteer_id: str | None = None,
    plan_ids: Sequence[int] | None = None,
) -> list[RecordPublic]:
    """Service records of the caller's stations (the centre: all), by day served.

    ``volunteer_id`` and ``plan_ids`` narrow the list; they must have been resolved in
    the caller's scope already.
    """
    query = (
        select(ServiceRecord, PlanAssignment)
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
    )
    if not principal.is_centre:
        query = query.where(PlanVersion.station_id == principal.station_id)
    if volunteer_id is not None:
        query = query.where(ServiceRecord.volunteer_id == volunteer_id)
    if plan_ids is not None:
        query = query.where(col(PlanAssignment.plan_id).in_(list(plan_ids)))
    rows = session.exec(query.order_by(col(ServiceRecord.served_on), col(ServiceRecord.id)))
    return [public(record, assignment) for record, assignment in rows]

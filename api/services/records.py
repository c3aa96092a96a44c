"""Service records (服务记录, the 台账): record how a session of a finished plan went, correct a
record, read them back, and each volunteer's reliability.

A *session* is one slot of an assignment of a finished plan version on its day of the
plan's week (``mon-am`` of a week starting 2026-12-07 is 2026-12-07's morning).  Its record
says how it went: ``served`` (the hours actually served, an optional rating 1-5 and note),
``no_show``, ``cancelled_by_volunteer`` or ``cancelled_by_beneficiary`` (those hold 0 hours).

The rules, shared by the API (:mod:`api.routers.records`) and the coordinators' pages
(:mod:`web.records_pages`), which both record through :func:`create_record`:

- A session is recorded once.  The session is the volunteer's slot of the need on that
  day, whichever version of the week the assignment came from, so a re-solve cannot
  record it twice.  A second record is 409 unless it carries a ``correction`` with a
  reason: the new row is then current and the old one is kept, its ``superseded_by``
  pointing at the new one.  Only current rows count towards hours, stars and reliability.
- A volunteer's served hours on one day, over every current record of that day, are at
  most what the plan gave them that day (each session's hours); a correction, which
  always has a reason, may exceed that.

Errors are ``HTTPException`` s, as in :mod:`api.services.people`: 404 out of scope, 409
for a plan not done or a session recorded already, 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, status
from sqlmodel import Session, col, func, select

from api.auth import Principal
from api.db import write_transaction
from api.deps import not_found
from api.models import (
    PlanAssignment,
    PlanVersion,
    RecordCreate,
    RecordPublic,
    Reliability,
    ServiceRecord,
    Volunteer,
)
from api.services.planning import sessions_of
from api.stars import TOLERANCE
from matcher.format.bounds import is_id
from matcher.format.schema import DAYS

_CHUNK = 500  # ids per IN (...) query: well under SQLite's bound-parameter limit


def unprocessable(detail: str) -> HTTPException:
    """The 422 naming the field its message starts with."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def _hours(value: float) -> str:
    return f"{value:g}"


def public(record: ServiceRecord, assignment: PlanAssignment, corrects: int | None = None) -> RecordPublic:
    """The client's view of a record (``corrects``: the record it superseded, if any)."""
    assert record.id is not None
    return RecordPublic(
        id=record.id,
        assignment_id=record.assignment_id,
        plan_id=assignment.plan_id,
        need_id=assignment.need_id,
        volunteer_id=record.volunteer_id,
        served_on=record.served_on,
        slot=record.slot,
        outcome=record.outcome,  # stored as text, one of OUTCOMES
        hours=record.hours,
        rating=record.rating,
        note=record.note,
        correction_reason=record.correction_reason,
        corrects=corrects,
        superseded_by=record.superseded_by,
        created_at=record.created_at,
    )


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


def need_stem(need_id: str) -> str:
    """The need a (possibly split) need id comes from: a swap of one session of several splits
    ``n`` into ``n+<slot>`` and ``n+rest`` (:func:`matcher.standins.swap`), the same sessions of the
    same need, so a session is the same whichever of them it was recorded against."""
    return need_id.split("+", 1)[0]


def session_record(
    session: Session, assignment: PlanAssignment, plan: PlanVersion, day: dt.date, slot: str
) -> ServiceRecord | None:
    """The current record of a session: the assignment's volunteer in ``slot`` of its need on
    ``day``, recorded against any version of the plan's week; None while unrecorded.

    The session is the volunteer's, so each member of a group post records their own; a need
    split by a swap (``n+rest``, ``n+sat-am``) is the need it came from (:func:`need_stem`): a
    session recorded against ``n`` in an older version is not recorded again against
    ``n+rest`` (a volunteer serves one need at a slot, so the stems cannot mix two sessions)."""
    stem = need_stem(assignment.need_id)
    found = session.exec(
        select(ServiceRecord, PlanAssignment.need_id)
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
        .where(
            PlanVersion.station_id == plan.station_id,
            PlanVersion.week_start == plan.week_start,
            PlanAssignment.volunteer_id == assignment.volunteer_id,
            ServiceRecord.served_on == day,
            ServiceRecord.slot == slot,
            col(ServiceRecord.superseded_by).is_(None),
        )
        .order_by(col(ServiceRecord.id))
    )
    return next((record for record, need in found if need_stem(need) == stem), None)


def planned_day_hours(session: Session, plan: PlanVersion, volunteer_id: str, day: dt.date) -> float:
    """The hours ``plan`` gives the volunteer on ``day``: their sessions that day, at their needs' hours."""
    hours = {n["id"]: float(n["hours"]) for n in plan.problem.get("needs", [])}
    rows = session.exec(
        select(PlanAssignment).where(
            PlanAssignment.plan_id == plan.id, PlanAssignment.volunteer_id == volunteer_id
        )
    )
    return math.fsum(
        hours.get(a.need_id, 0.0)
        for a in rows
        for when, _slot in sessions_of(plan.week_start, a.slots)
        if when == day
    )


def recorded_day_hours(session: Session, volunteer_id: str, day: dt.date) -> float:
    """The volunteer's served hours on ``day`` over their current records."""
    rows = session.exec(
        select(ServiceRecord.hours).where(
            ServiceRecord.volunteer_id == volunteer_id,
            ServiceRecord.served_on == day,
            ServiceRecord.outcome == "served",
            col(ServiceRecord.superseded_by).is_(None),
        )
    )
    return math.fsum(float(h) for h in rows)


def _session_slot(assignment: PlanAssignment, plan: PlanVersion, body: RecordCreate) -> str:
    """The slot the record is of: the one sent, or the assignment's only session that day (422 otherwise)."""
    ours = sessions_of(plan.week_start, assignment.slots)
    listed = ", ".join(f"{d} {s}" for d, s in ours) or "none"
    that_day = [s for d, s in ours if d == body.served_on]
    if body.slot is not None:
        if body.slot not in assignment.slots:
            raise unprocessable(
                f"slot: '{body.slot}' is not a session of assignment {assignment.id} (its sessions: {listed})"
            )
        if body.slot not in that_day:
            raise unprocessable(
                f"slot: '{body.slot}' is not on {body.served_on} ({DAYS[body.served_on.weekday()]}); "
                f"assignment {assignment.id}'s sessions: {listed}"
            )
        return body.slot
    if not that_day:
        raise unprocessable(
            f"served_on: assignment {assignment.id} has no session on {body.served_on} "
            f"({DAYS[body.served_on.weekday()]}); its sessions: {listed}"
        )
    if len(that_day) > 1:
        raise unprocessable(
            f"slot: required: assignment {assignment.id} has {len(that_day)} sessions on "
            f"{body.served_on} ({', '.join(that_day)})"
        )
    return that_day[0]


def _served_hours(body: RecordCreate) -> float:
    """The hours the record stores: a served session's (required), else 0 (none may be sent)."""
    if body.outcome == "served":
        if body.hours is None:
            raise unprocessable("hours: required when the outcome is served")
        return float(body.hours)
    if body.hours is not None:
        raise unprocessable(f"hours: a session with outcome {body.outcome} has no hours; leave hours out")
    if body.rating is not None:
        raise unprocessable(f"rating: only a served session is rated, not one with outcome {body.outcome}")
    return 0.0


def create_record(session: Session, principal: Principal, body: RecordCreate) -> RecordPublic:
    """Record how one session of an assignment of a finished plan version went, or correct its record.

    404 if the caller may not see the assignment's station; 409 if the plan is not done,
    if the session is recorded already and ``correction`` is absent, or if ``correction``
    is given for a session not recorded yet; 422 naming ``served_on`` (outside the plan's
    week, or no session of the assignment that day), ``slot`` (not the assignment's, or
    needed to tell the day's sessions apart), ``hours`` (missing for a served session,
    sent for another, or over the day's planned hours without a correction) or
    ``rating``.
    """
    write_transaction(session)  # the session and the day's hours are read, then written: one writer
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
        raise unprocessable(
            f"served_on: {body.served_on} is outside the plan's week {plan.week_start} .. {last_day}"
        )
    slot = _session_slot(assignment, plan, body)
    hours = _served_hours(body)
    # Lock the volunteer row (PostgreSQL) so concurrent records of their sessions are serial.
    volunteer = session.exec(
        select(Volunteer).where(Volunteer.id == assignment.volunteer_id).with_for_update()
    ).first()
    if volunteer is None or volunteer.station_id != plan.station_id:
        # Hours go only onto a volunteer of the plan's own station: a plan that names
        # anyone else (left the station, or an old plan made before ids were scoped)
        # cannot write onto another station's record.
        raise _conflict(f"volunteer '{assignment.volunteer_id}' is not a volunteer of this station")
    what = f"the session {body.served_on} {slot} of need '{assignment.need_id}' (volunteer '{volunteer.id}')"
    old = session_record(session, assignment, plan, body.served_on, slot)
    if old is not None and body.correction is None:
        raise _conflict(
            f"{what} is recorded already (record {old.id}, {old.outcome}); to change it send "
            "correction: {reason}"
        )
    if old is None and body.correction is not None:
        raise _conflict(f"correction: {what} has no record to correct; record it without correction")
    if hours > 0 and body.correction is None:
        planned = planned_day_hours(session, plan, volunteer.id, body.served_on)
        already = recorded_day_hours(session, volunteer.id, body.served_on)
        if already + hours > planned + TOLERANCE:
            raise unprocessable(
                f"hours: {_hours(hours)} more would make {_hours(already + hours)} h for volunteer "
                f"'{volunteer.id}' on {body.served_on}, over the {_hours(planned)} h the plan gives them "
                "that day (a correction with a reason may exceed it)"
            )
    record = ServiceRecord(
        assignment_id=body.assignment_id,
        volunteer_id=volunteer.id,
        served_on=body.served_on,
        slot=slot,
        hours=hours,
        outcome=body.outcome,
        rating=body.rating,
        note=body.note,
        correction_reason=body.correction.reason if body.correction is not None else None,
    )
    session.add(record)
    session.flush()  # the new row's id, for the old row's link
    if old is not None:
        old.superseded_by = record.id
        session.add(old)
    session.commit()
    session.refresh(record)
    session.refresh(assignment)
    return public(record, assignment, old.id if old is not None else None)


# ------------------------------------------------------------------------ reading records


@dataclass(frozen=True)
class RecordFilter:
    """What :func:`list_records` narrows to; every id resolved in the caller's scope already."""

    station_id: str | None = None
    volunteer_id: str | None = None
    plan_ids: Sequence[int] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    outcome: str | None = None
    include_superseded: bool = False


@dataclass(frozen=True)
class RecordPage:
    """One page of records, and how many match in all."""

    items: list[RecordPublic]
    total: int


def _corrected(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """For each of ``ids`` that corrected another record: that record's id."""
    out: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(ServiceRecord.id, ServiceRecord.superseded_by).where(
                col(ServiceRecord.superseded_by).in_(list(ids[start : start + _CHUNK]))
            )
        )
        for old, new in rows:
            if old is not None and new is not None:
                out[new] = old
    return out


def list_records(
    session: Session,
    principal: Principal,
    where: RecordFilter | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> RecordPage:
    """Service records of the caller's stations (the centre: all), by day served, then id.

    Only current records unless ``where.include_superseded``; ``limit`` and ``offset``
    page them (``total`` counts every match).
    """
    where = where or RecordFilter()
    query = (
        select(ServiceRecord, PlanAssignment)
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
    )
    if not principal.is_centre:
        query = query.where(PlanVersion.station_id == principal.station_id)
    if where.station_id is not None:
        query = query.where(PlanVersion.station_id == where.station_id)
    if where.volunteer_id is not None:
        query = query.where(ServiceRecord.volunteer_id == where.volunteer_id)
    if where.plan_ids is not None:
        query = query.where(col(PlanAssignment.plan_id).in_(list(where.plan_ids)))
    if where.start is not None:
        query = query.where(col(ServiceRecord.served_on) >= where.start)
    if where.end is not None:
        query = query.where(col(ServiceRecord.served_on) <= where.end)
    if where.outcome is not None:
        query = query.where(ServiceRecord.outcome == where.outcome)
    if not where.include_superseded:
        query = query.where(col(ServiceRecord.superseded_by).is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(col(ServiceRecord.served_on), col(ServiceRecord.id)).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = list(session.exec(query))
    corrects = _corrected(session, [r.id for r, _a in rows if r.id is not None])
    return RecordPage([public(r, a, corrects.get(r.id or 0)) for r, a in rows], int(total))


# ------------------------------------------------------------------------ reliability


def history_window(before: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the ``weeks`` whole weeks before ``before``'s week."""
    monday = before - dt.timedelta(days=before.weekday())
    return monday - dt.timedelta(weeks=weeks), monday - dt.timedelta(days=1)


def planned_sessions(
    session: Session, volunteers: Sequence[Volunteer], start: dt.date, end: dt.date
) -> Counter[str]:
    """Sessions each volunteer had in the plan in force (each week's newest finished version of
    their station) with a day in ``start`` .. ``end``."""
    ids = {v.id for v in volunteers}
    stations = sorted({v.station_id for v in volunteers})
    newest: dict[tuple[str, dt.date], PlanVersion] = {}
    for plan in session.exec(
        select(PlanVersion).where(
            col(PlanVersion.station_id).in_(stations),
            PlanVersion.state == "done",
            col(PlanVersion.week_start) >= start - dt.timedelta(days=6),
            col(PlanVersion.week_start) <= end,
        )
    ):
        assert plan.station_id is not None
        key = (plan.station_id, plan.week_start)
        if key not in newest or plan.version > newest[key].version:
            newest[key] = plan
    plans = {p.id: p for p in newest.values() if p.id is not None}
    counts: Counter[str] = Counter({v: 0 for v in ids})
    plan_ids = sorted(plans)
    for first in range(0, len(plan_ids), _CHUNK):
        rows = session.exec(
            select(PlanAssignment).where(col(PlanAssignment.plan_id).in_(plan_ids[first : first + _CHUNK]))
        )
        for a in rows:
            if a.volunteer_id in ids:
                week = plans[a.plan_id].week_start
                counts[a.volunteer_id] += sum(1 for d, _s in sessions_of(week, a.slots) if start <= d <= end)
    return counts


def reliability(
    session: Session, volunteers: Sequence[Volunteer], before: dt.date, weeks: int
) -> dict[str, Reliability]:
    """Each volunteer's sessions in the ``weeks`` whole weeks before ``before``'s week: planned,
    recorded, and how the current records went.

    This is what ranking backups reads: ``rate`` is served / (served + no-shows + late
    cancellations), None for a volunteer without such sessions.  A late cancellation is a
    session the volunteer cancelled while it was still in the plan
    (``cancelled_by_volunteer``): a cancellation in time is a withdrawal (a change set),
    after which the re-solve no longer plans the session.

    Parameters
    ----------
    session
        Database session.
    volunteers
        The volunteers (already resolved in the caller's scope).
    before
        A day of the week the history ends before (normally today).
    weeks
        How many whole weeks the history covers.

    Returns
    -------
    dict
        Volunteer id to :class:`~api.models.Reliability`.
    """
    start, end = history_window(before, weeks)
    planned = planned_sessions(session, volunteers, start, end)
    ids = [v.id for v in volunteers]
    outcomes: dict[str, Counter[str]] = {v: Counter() for v in ids}
    for first in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(ServiceRecord.volunteer_id, ServiceRecord.outcome).where(
                col(ServiceRecord.volunteer_id).in_(ids[first : first + _CHUNK]),
                col(ServiceRecord.served_on) >= start,
                col(ServiceRecord.served_on) <= end,
                col(ServiceRecord.superseded_by).is_(None),
            )
        )
        for volunteer_id, outcome in rows:
            outcomes[volunteer_id][outcome] += 1
    out = {}
    for v in ids:
        seen = outcomes[v]
        served, no_shows, late = seen["served"], seen["no_show"], seen["cancelled_by_volunteer"]
        counted = served + no_shows + late
        out[v] = Reliability(
            volunteer=v,
            weeks=weeks,
            start=start,
            end=end,
            planned=planned[v],
            recorded=sum(seen.values()),
            served=served,
            no_shows=no_shows,
            late_cancellations=late,
            cancelled_by_beneficiary=seen["cancelled_by_beneficiary"],
            rate=served / counted if counted else None,
        )
    return out

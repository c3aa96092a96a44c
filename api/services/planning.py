"""From the database to a format-1 problem, and from a finished plan back to rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, delete, func, select

from api.models import (
    Beneficiary,
    Certificate,
    District,
    Need,
    PlanAssignment,
    PlanUnmet,
    PlanVersion,
    Site,
    Volunteer,
)
from matcher.format.io import parse
from matcher.format.reasons import CAPACITY_TAKEN
from matcher.format.schema import DAYS, Assignment, Objective, Plan, Problem, Unmet
from matcher.format.validate import continuity_of, coverage_of, validate_plan


def schedulable(v: Volunteer) -> bool:
    """A minor is scheduled only with the guardian's consent recorded."""
    return not v.minor or v.guardian_consent


def unplanned_posts(session: Session, station_id: str) -> int:
    """How many of the station's active needs are group posts (多人岗位: at a site, or asking for more
    than one volunteer), which the week's plan does not yet place as posts: a need at a site is
    left out, a beneficiary's need for several volunteers gets one (the engine solves posts in
    format 2; building the station's week as format 2 is the next step of issue 20).  The week
    pages say so, so a coordinator never takes a plan without them for a plan with them."""
    at_sites = session.exec(
        select(func.count())
        .select_from(Need)
        .join(Site, col(Site.id) == col(Need.site_id))
        .where(Site.station_id == station_id, col(Site.active).is_(True), col(Need.active).is_(True))
    ).one()
    several = session.exec(
        select(func.count())
        .select_from(Need)
        .join(Beneficiary, col(Beneficiary.id) == col(Need.beneficiary_id))
        .where(
            Beneficiary.station_id == station_id,
            col(Beneficiary.active).is_(True),
            col(Need.active).is_(True),
            col(Need.volunteers_max) > 1,
        )
    ).one()
    return int(at_sites) + int(several)


def build_problem(session: Session, station_id: str, week_start: dt.date, time_limit: float) -> Problem:
    """The station's week as a problem.

    Volunteers are the station's (minors without consent left out), beneficiaries and
    their active needs the station's; every district of the city is listed (neighbours
    must resolve); ``previous`` holds the volunteer-beneficiary pairs of the latest
    finished version of the week before.

    Raises
    ------
    matcher.format.errors.InputError
        If the stored data do not make a valid problem (the message names the field).
    """
    active_vols = select(Volunteer).where(Volunteer.station_id == station_id, col(Volunteer.active).is_(True))
    vols = [v for v in session.exec(active_vols) if schedulable(v)]
    vol_ids = {v.id for v in vols}
    certs: dict[str, list[dict[str, str]]] = {}
    if vol_ids:
        for c in session.exec(select(Certificate).where(col(Certificate.volunteer_id).in_(vol_ids))):
            certs.setdefault(c.volunteer_id, []).append({"kind": c.kind, "expires": c.expires.isoformat()})
    active_bens = select(Beneficiary).where(
        Beneficiary.station_id == station_id, col(Beneficiary.active).is_(True)
    )
    bens = list(session.exec(active_bens))
    ben_ids = {b.id for b in bens}
    needs = (
        list(
            session.exec(
                select(Need)
                .where(col(Need.beneficiary_id).in_(ben_ids), col(Need.active).is_(True))
                .order_by(col(Need.id))
            )
        )
        if ben_ids
        else []
    )
    previous = last_week_pairs(session, station_id, week_start)
    doc: dict[str, Any] = {
        "format": 1,
        "week_start": week_start.isoformat(),
        "districts": [{"id": d.id, "neighbors": list(d.neighbors)} for d in session.exec(select(District))],
        "reach": "adjacent",
        "volunteers": [_volunteer(v, certs.get(v.id, [])) for v in sorted(vols, key=lambda v: v.id)],
        "beneficiaries": [_beneficiary(b, vol_ids) for b in sorted(bens, key=lambda b: b.id)],
        "needs": [_need(n) for n in needs],
        "previous": [
            {"volunteer": v, "beneficiary": b} for v, b in sorted(previous) if v in vol_ids and b in ben_ids
        ],
        "time_limit_s": time_limit,
    }
    return parse(Problem, doc, "problem")


def last_week_pairs(session: Session, station_id: str, week_start: dt.date) -> set[tuple[str, str]]:
    """(volunteer, beneficiary) pairs of the latest finished plan version of the week before."""
    before = week_start - dt.timedelta(days=7)
    latest = session.exec(
        select(PlanVersion)
        .where(
            PlanVersion.station_id == station_id,
            PlanVersion.week_start == before,
            PlanVersion.state == "done",
        )
        .order_by(col(PlanVersion.version).desc())
    ).first()
    if latest is None or latest.plan is None:
        return set()
    ben_of = {n["id"]: n["beneficiary"] for n in latest.problem["needs"]}
    return {(a["volunteer"], ben_of[a["need"]]) for a in latest.plan["assignments"]}


def _volunteer(v: Volunteer, certs: list[dict[str, str]]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": v.id,
        "district": v.district,
        "skills": list(v.skills),
        "certifications": certs,
        "availability": list(v.availability),
        "max_hours": float(v.max_hours),
        "max_beneficiaries": v.max_beneficiaries,
        "minor": v.minor,
    }
    if v.gender is not None:
        doc["gender"] = v.gender
    if v.latitude is not None and v.longitude is not None:
        doc["location"] = [v.latitude, v.longitude]
    return doc


def _beneficiary(b: Beneficiary, vol_ids: set[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": b.id,
        "category": b.category,
        "district": b.district,
        "priority": b.priority,
        # Exclusions of volunteers not in this week's problem are moot (and must not dangle).
        "excluded_volunteers": [x for x in b.excluded_volunteers if x in vol_ids],
    }
    if b.volunteer_gender is not None:
        doc["volunteer_gender"] = b.volunteer_gender
    if b.latitude is not None and b.longitude is not None:
        doc["location"] = [b.latitude, b.longitude]
    return doc


def _need(n: Need) -> dict[str, Any]:
    return {
        "id": n.id,
        "beneficiary": n.beneficiary_id,
        "service": n.service,
        "hours": float(n.hours),
        "sessions": n.sessions,
        "windows": list(n.windows),
        "requires": list(n.requires),
        "minor_ok": n.minor_ok,
    }


def slot_day(slot: str) -> int | None:
    """The weekday (0 Monday … 6 Sunday) of a slot such as ``mon-am``; None for a slot without one."""
    day = slot.partition("-")[0]
    return DAYS.index(day) if day in DAYS else None


def sessions_of(week_start: dt.date, slots: Iterable[str]) -> list[tuple[dt.date, str]]:
    """An assignment's sessions: (day, slot) for each slot of its plan's week, by day then slot order."""
    out = []
    for slot in slots:
        day = slot_day(slot)
        if day is not None:
            out.append((week_start + dt.timedelta(days=day), slot))
    return sorted(out, key=lambda s: s[0])


def store_plan(session: Session, version: PlanVersion, plan: Plan) -> None:
    """Write a finished plan into its version: the JSON and one row per assignment and unmet need."""
    assert version.id is not None
    session.exec(delete(PlanAssignment).where(col(PlanAssignment.plan_id) == version.id))
    session.exec(delete(PlanUnmet).where(col(PlanUnmet.plan_id) == version.id))
    for a in plan.assignments:
        session.add(
            PlanAssignment(plan_id=version.id, need_id=a.need, volunteer_id=a.volunteer, slots=list(a.slots))
        )
    for u in plan.unmet:
        session.add(PlanUnmet(plan_id=version.id, need_id=u.need, reasons=list(u.reasons)))
    version.plan = plan.model_dump(mode="json", exclude_none=True)


def _plan_of(problem: Problem, assignments: list[Assignment]) -> Plan:
    """A plan of ``problem`` with just these assignments (the other needs unmet)."""
    taken = {a.need for a in assignments}
    return Plan(
        format=1,
        status="feasible",
        assignments=assignments,
        unmet=[Unmet(need=n.id, reasons=[CAPACITY_TAKEN]) for n in problem.needs if n.id not in taken],
        objective=Objective(
            coverage=float(coverage_of(problem, taken)),
            coverage_bound=float(coverage_of(problem, [n.id for n in problem.needs])),
            continuity=continuity_of(problem, assignments),
        ),
        solve_seconds=0.0,
    )


def carried_plan(problem: Problem, plan: Plan) -> Plan:
    """The part of a plan in force that still holds for ``problem``, the station's current data.

    People change between a week's generation and a cancellation: a volunteer registers,
    a need ends, a certificate lapses, a cap is lowered.  A change set is applied to the
    station's data as they are *now*, so the plan in force is first cut down to what is
    still valid there: an assignment is carried when its need and volunteer are still
    in the problem and every assignment of that volunteer passes the validator's rules
    together (a volunteer with any that fail is re-planned whole).  The rest of the
    needs are open to the re-solve like any unmet need.
    """
    needs = {n.id for n in problem.needs}
    volunteers = {v.id for v in problem.volunteers}
    candidates = [a for a in plan.assignments if a.need in needs and a.volunteer in volunteers]
    whole = _plan_of(problem, candidates)
    if not validate_plan(problem, whole):
        return whole  # the usual case: nothing that matters changed since the plan was made
    by_volunteer: dict[str, list[Assignment]] = {}
    for a in candidates:
        by_volunteer.setdefault(a.volunteer, []).append(a)
    kept = [
        a for own in by_volunteer.values() if not validate_plan(problem, _plan_of(problem, own)) for a in own
    ]
    return _plan_of(problem, kept)


def changed_needs(problem: Problem, before: Plan | None, after: Plan) -> list[str]:
    """Needs of ``problem`` whose volunteer or slots differ between two plans, in problem order."""

    def where(plan: Plan | None) -> dict[str, tuple[str, frozenset[str]]]:
        if plan is None:
            return {}
        return {a.need: (a.volunteer, frozenset(a.slots)) for a in plan.assignments}

    old, new = where(before), where(after)
    return [n.id for n in problem.needs if old.get(n.id) != new.get(n.id)]

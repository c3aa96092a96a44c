"""From the database to a week's problem, and from a finished plan back to rows.

A station without group posts (多人岗位) gets a format-1 problem, exactly as before; a station with
active needs at its sites, or needs for several volunteers or with a lead, gets a format-2 problem
(``docs/format.md``, "Format 2"), which the engine solves with its posts model
(:func:`matcher.solve.solve_any`).  The stored plan is the engine's, in the problem's format; the
readers of stored plans go through :func:`plan_rows` and :func:`place_of`, which read both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, delete, select

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
from api.services import plan_posts
from matcher.format.io import parse
from matcher.format.reasons import CAPACITY_TAKEN
from matcher.format.schema import (
    DAYS,
    AnyPlan,
    Assignment,
    Objective,
    Plan,
    Plan2,
    PostAssignment,
    Problem,
    Problem2,
    Unmet,
)
from matcher.format.validate import continuity_of, coverage_of, validate_plan


def schedulable(v: Volunteer) -> bool:
    """A minor is scheduled only with the guardian's consent recorded."""
    return not v.minor or v.guardian_consent


def build_problem(
    session: Session, station_id: str, week_start: dt.date, time_limit: float, *, format2: bool = False
) -> Problem | Problem2:
    """The station's week as a problem: format 1, or format 2 when the station has group posts.

    Volunteers are the station's (minors without consent left out), beneficiaries and
    their active needs the station's, and its active sites with their active needs (posts);
    every district of the city is listed (neighbours must resolve); ``previous`` holds the
    volunteer-beneficiary pairs of the latest finished version of the week before.  The
    problem is format 2 when any of those needs is at a site, asks for more than one
    volunteer or names a lead; otherwise it is format 1, exactly as before posts existed
    (``format2``: format 2 regardless, for a re-solve of a week planned in format 2).

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
    active_sites = select(Site).where(Site.station_id == station_id, col(Site.active).is_(True))
    sites = sorted(session.exec(active_sites), key=lambda s: s.id)
    site_ids = {s.id for s in sites}
    site_needs = (
        list(
            session.exec(
                select(Need)
                .where(col(Need.site_id).in_(site_ids), col(Need.active).is_(True))
                .order_by(col(Need.id))
            )
        )
        if site_ids
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
    if not format2 and not site_needs and not any(_is_post_or_led(n) for n in needs):
        return parse(Problem, doc, "problem")
    doc["format"] = 2
    # Only the sites with active posts are listed: a site without one says nothing to the week.
    used = {n.site_id for n in site_needs}
    doc["sites"] = [_site(s) for s in sites if s.id in used]
    doc["needs"] = sorted((_need2(n) for n in [*needs, *site_needs]), key=lambda n: str(n["id"]))
    return parse(Problem2, doc, "problem")


def _is_post_or_led(n: Need) -> bool:
    """Whether a beneficiary's need says something format 1 cannot: several volunteers, or a lead."""
    return n.volunteers_max > 1 or bool(n.lead_certifications) or bool(n.lead_skills)


def _site(s: Site) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": s.id, "name": s.name, "district": s.district}
    if s.latitude is not None and s.longitude is not None:
        doc["location"] = [s.latitude, s.longitude]
    return doc


def _need2(n: Need) -> dict[str, Any]:
    """A need in format 2: its beneficiary or site (with its priority), staffing and lead."""
    doc = _need(n)
    if n.site_id is not None:
        del doc["beneficiary"]
        doc["site"] = n.site_id
        doc["priority"] = n.priority
    doc["volunteers"] = {"min": n.volunteers_min, "max": n.volunteers_max}
    if n.lead_certifications or n.lead_skills:
        doc["lead"] = {"certifications": list(n.lead_certifications), "skills": list(n.lead_skills)}
    return doc


def parse_problem(doc: dict[str, Any], path: str = "problem") -> Problem | Problem2:
    """A stored problem document of either format, parsed like input (a 422 naming the field)."""
    if doc.get("format") == 2:
        return parse(Problem2, doc, path)
    return parse(Problem, doc, path)


def parse_plan(doc: dict[str, Any], path: str = "plan") -> Plan | Plan2:
    """A stored plan document of either format, parsed like input (a 422 naming the field)."""
    if doc.get("format") == 2:
        return parse(Plan2, doc, path)
    return parse(Plan, doc, path)


def plan_rows(plan: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """A stored plan document's assignments as (need, volunteer, slots), one per volunteer: a format-1
    assignment is one, a format-2 post one per volunteer on it (in the plan's order)."""
    return [(a["need"], v, list(a["slots"])) for a in plan["assignments"] for v in plan_posts.members(a)]


def place_of(need: dict[str, Any]) -> str:
    """A stored need's beneficiary, or its site (a format-2 post at a site has no beneficiary)."""
    return str(need.get("beneficiary") or need.get("site") or "")


is_post = plan_posts.is_post
"""Whether a stored need is a group post (at a site, or for more than one volunteer)."""


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
    # Pairs are a volunteer and a beneficiary: posts at sites carry no pair.
    ben_of = {n["id"]: n["beneficiary"] for n in latest.problem["needs"] if "beneficiary" in n}
    return {(v, ben_of[need]) for need, v, _ in plan_rows(latest.plan) if need in ben_of}


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


def store_plan(session: Session, version: PlanVersion, plan: AnyPlan) -> None:
    """Write a finished plan into its version: the JSON and one row per assignment and unmet need.

    A format-2 post gets one row per volunteer on it (the same need, the post's slots), so each
    member's service record, ledger line and calendar event points at their own row."""
    assert version.id is not None
    session.exec(delete(PlanAssignment).where(col(PlanAssignment.plan_id) == version.id))
    session.exec(delete(PlanUnmet).where(col(PlanUnmet.plan_id) == version.id))
    for a in plan.assignments:
        members = a.volunteers if isinstance(a, PostAssignment) else [a.volunteer]
        for volunteer in members:
            session.add(
                PlanAssignment(
                    plan_id=version.id, need_id=a.need, volunteer_id=volunteer, slots=list(a.slots)
                )
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


def carried_plan2(problem: Problem2, plan: Plan2) -> Plan2:
    """The part of a format-2 plan in force that still names what ``problem`` has: each assignment of
    a need still in it whose sessions still fit its windows, with those of its volunteers still in it
    (an assignment left without any is dropped).  :func:`matcher.resolve_posts.resolve_posts` then
    keeps of each what still holds (its volunteers still eligible and free at its slots, a post
    still at its minimum with its lead) and releases the rest."""
    needs = {n.id: n for n in problem.needs}
    volunteers = {v.id for v in problem.volunteers}
    kept = []
    for a in plan.assignments:
        members = [v for v in a.volunteers if v in volunteers]
        need = needs.get(a.need)
        # A need changed since (its windows or sessions) is re-staffed from scratch.
        fits = need is not None and len(a.slots) == need.sessions and set(a.slots) <= set(need.windows)
        if fits and members:
            kept.append(a.model_copy(update={"volunteers": members, "places_open": None}))
    return plan.model_copy(update={"assignments": kept, "changed": None})


def changed_needs2(problem: Problem2, before: Plan | Plan2 | None, after: Plan2) -> list[str]:
    """Needs of ``problem`` whose volunteers or slots differ between two plans, in problem order
    (a format-1 plan before is read as one volunteer per need)."""

    def where(plan: Plan | Plan2 | None) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        if plan is None:
            return {}
        doc = plan.model_dump(mode="json")
        out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        for need, volunteer, slots in plan_rows(doc):
            members, at = out.get(need, (frozenset(), frozenset(slots)))
            out[need] = (members | {volunteer}, at)
        return out

    old, new = where(before), where(after)
    return [n.id for n in problem.needs if old.get(n.id) != new.get(n.id)]

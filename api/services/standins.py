"""Ranked stand-ins (备选志愿者) on a station's plan, and the one-click swap (issue 19).

The engine (:mod:`matcher.standins`) lists, for every session and every assignment of a
finished plan, the volunteers who could take it over as the plan stands, ranked by kept
pair, travel, reliability and load; this module feeds it the version's problem and plan
and each volunteer's record (:func:`api.services.records.reliability`, the
:data:`RELIABILITY_WEEKS` whole weeks before the plan's week), and puts the lists on the
plan's response and exports.

:func:`swap` makes the week's next version at once, without a solve: the change set the
swap amounts to (the leaving volunteer withdrawn from the slots they leave; a need split
when one session of several moves) applied to the version's problem, and the plan with
the stand-in in place, held to the independent validator.  The new version is ``done``
and current; later change sets carry the swap's change set like any other
(:func:`api.services.versions.chain_changes`).

A week with group posts (多人岗位, a format-2 plan) gets the same help (:mod:`matcher.standins_posts`):
a one-to-one need's stand-ins as in format 1, and for each member of a post, who could take that
member's place at all the post's slots; the swap replaces the member (a post is swapped whole,
never one session of it) and the new version is held to the format-2 validator
(:func:`matcher.format.validate2.validate_plan2`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.models import (
    AssignmentPublic,
    PlanPublic,
    PlanVersion,
    StandinPublic,
    SwapRequest,
    Volunteer,
)
from api.models.common import utcnow
from api.services import publication, records, versions
from api.services.errors import ConflictError
from api.services.planning import store_plan
from api.services.versions import Row
from matcher.format.changes import apply_changes
from matcher.format.errors import InputError
from matcher.format.io import parse
from matcher.format.schema import AnyPlan, AnyProblem, ChangeSet, Plan, Plan2, Problem, Problem2
from matcher.format.validate import validate_plan
from matcher.format.validate2 import validate_plan2
from matcher.resolve_posts import apply_changes2
from matcher.standins import DEFAULT_K, AssignmentStandins, Reliability, Standin, standins, swap
from matcher.standins_posts import standins2, swap2

RELIABILITY_WEEKS = 8
"""Whole weeks of service records before the plan's week that rank stand-ins by reliability."""

STANDINS_HEADER = "standins"
"""The export's column of stand-ins, added last so the columns before it keep their places."""


def _documents(version: PlanVersion) -> tuple[Problem, Plan] | tuple[Problem2, Plan2]:
    """The version's problem and plan in their format, parsed like input (a stored document no longer
    valid is a 422)."""
    assert version.plan is not None
    if version.plan.get("format") == 2:
        return parse(Problem2, version.problem, "problem"), parse(Plan2, version.plan, "plan")
    return parse(Problem, version.problem, "problem"), parse(Plan, version.plan, "plan")


def reliability_of(
    session: Session, station_id: str, problem: AnyProblem, week_start: dt.date
) -> dict[str, Reliability]:
    """The problem's volunteers' records over the weeks before ``week_start``, as the engine reads them."""
    ids = [v.id for v in problem.volunteers]
    people: list[Volunteer] = []
    for first in range(0, len(ids), 500):
        people += session.exec(
            select(Volunteer).where(
                Volunteer.station_id == station_id, col(Volunteer.id).in_(ids[first : first + 500])
            )
        )
    found = records.reliability(session, people, week_start, RELIABILITY_WEEKS)
    return {
        v: Reliability(no_shows=r.no_shows, late_cancellations=r.late_cancellations, rate=r.rate)
        for v, r in found.items()
    }


def plan_standins(
    session: Session, version: PlanVersion, k: int = DEFAULT_K
) -> list[AssignmentStandins] | None:
    """Each assignment's ranked stand-ins (a format-2 week: each volunteer on each assignment's); None
    for a version without them (not done, an integrator's job, or stored documents that no longer
    parse: the plan is still shown and exported, without stand-ins; a swap on it is 422 naming the
    field)."""
    if version.station_id is None or version.state != "done" or version.plan is None:
        return None
    try:
        problem, plan = _documents(version)
    except InputError:
        return None
    records = reliability_of(session, version.station_id, problem, version.week_start)
    if isinstance(problem, Problem2):
        assert isinstance(plan, Plan2)
        return standins2(problem, plan, k, records)
    assert isinstance(plan, Plan)
    return standins(problem, plan, k, records)


def _public(s: Standin) -> StandinPublic:
    return StandinPublic(
        volunteer=s.volunteer,
        kept_pair=s.kept_pair,
        previous=s.previous,
        km=s.km,
        hours=s.hours,
        no_shows=s.no_shows,
        late_cancellations=s.late_cancellations,
        rate=s.rate,
    )


def with_standins(
    assignments: list[AssignmentPublic] | None, found: Sequence[AssignmentStandins] | None
) -> list[AssignmentPublic] | None:
    """The assignments with their stand-ins: per session, and for all sessions at once."""
    if assignments is None or found is None:
        return assignments
    # One list per volunteer on each need (a post's members each have their own).
    by_row = {(f.need, f.volunteer): f for f in found}
    out = []
    for a in assignments:
        f = by_row.get((a.need, a.volunteer))
        if f is None:
            out.append(a)
            continue
        sessions = [
            s.model_copy(update={"standins": [_public(x) for x in f.sessions.get(s.slot, [])]})
            for s in a.sessions
        ]
        out.append(a.model_copy(update={"sessions": sessions, "standins": [_public(x) for x in f.whole]}))
    return out


def describe(session: Session, version: PlanVersion) -> PlanPublic:
    """:func:`api.services.versions.describe` with each assignment's stand-ins."""
    public = versions.describe(session, version)
    found = plan_standins(session, version) if public.assignments is not None else None
    return public.model_copy(update={"assignments": with_standins(public.assignments, found)})


def plan_table(session: Session, version: PlanVersion) -> versions.PlanTable:
    """The plan's export (:func:`api.services.versions.plan_table`) with a last column of stand-ins.

    A one-session assignment lists its stand-ins as ``v0012;v0040;v0007``; one of several
    sessions lists each session's, ``sat-am: v0012;v0040 / mon-am: v0007``; a group post's member
    (a row per member) lists who could take their place at all its sessions, ``v0012;v0040``; an
    unmet need's cell is empty.
    """
    table = versions.plan_table(session, version)
    found = plan_standins(session, version)
    cells: dict[tuple[str, str], str] = {}
    for f in found or []:
        if f.whole_only:
            cells[(f.need, f.volunteer)] = ";".join(x.volunteer for x in f.whole)
            continue
        lists = [(slot, ";".join(x.volunteer for x in listed)) for slot, listed in f.sessions.items()]
        text = lists[0][1] if len(lists) == 1 else " / ".join(f"{s}: {v}" for s, v in lists)
        cells[(f.need, f.volunteer)] = text
    rows: list[Row] = [
        [*row, cells.get((str(row[0]), str(row[5])), "") if row[5] else ""] for row in table.rows
    ]
    return versions.PlanTable((*table.header, STANDINS_HEADER), rows, table.name)


def _swapped(
    problem: AnyProblem, plan: AnyPlan, need: str, leaving: str, body: SwapRequest
) -> tuple[AnyProblem, ChangeSet, AnyPlan]:
    """The swap in either format: the changed problem, the change set and the plan, validated (422
    naming the rule when the stand-in cannot take it)."""
    if isinstance(problem, Problem2):
        assert isinstance(plan, Plan2)
        changes, new2 = swap2(problem, plan, need, leaving, body.volunteer, body.slot)
        changed2 = apply_changes2(problem, changes)
        violations = validate_plan2(changed2, new2)
        changed: AnyProblem
        new_plan: AnyPlan
        changed, new_plan = changed2, new2
    else:
        assert isinstance(plan, Plan)
        changes, new1 = swap(problem, plan, need, body.volunteer, body.slot)
        changed1 = apply_changes(problem, changes)
        violations = validate_plan(changed1, new1)
        changed, new_plan = changed1, new1
    if violations:
        raise InputError(f"volunteer: '{body.volunteer}' cannot take it: {violations[0]}")
    return changed, changes, new_plan


def swap_version(session: Session, version: PlanVersion, body: SwapRequest) -> PlanVersion:
    """Put a stand-in in a volunteer's place: the week's next version, done at once (no solve).

    Only the current, finished version of a station's plan takes a swap.  The assignment
    must be one of this version's and the volunteer one of the station's volunteers in
    this week's problem (422 naming the field otherwise, the same answer whether or not the
    id exists elsewhere); the plan with the swap must keep every rule (422 naming the
    rule, from the independent validator).  The new version stores the changed problem,
    the swap's change set (``changes``) and the plan, with its assignment rows.

    Raises
    ------
    ConflictError
        When the version is an integrator's job, not done, superseded or already has a
        successor (a concurrent swap or change set took it first).
    InputError
        As above.
    """
    if version.station_id is None:
        raise ConflictError(f"plan {version.id} is an integrator's job: only a station's plan takes a swap")
    if version.state != "done" or version.plan is None:
        raise ConflictError(f"plan {version.id} is {version.state}, not done")
    if not versions.is_current(session, version):
        raise ConflictError(f"plan {version.id} is superseded: swap in the week's current version")
    row = next((a for a in versions.assignment_rows(session, version) if a.id == body.assignment_id), None)
    if row is None:
        raise InputError(f"assignment_id: {body.assignment_id} is not an assignment of plan {version.id}")
    volunteer = session.get(Volunteer, body.volunteer)
    if volunteer is None or volunteer.station_id != version.station_id:
        raise InputError(f"volunteer: '{body.volunteer}' is not one of this station's volunteers")
    problem, plan = _documents(version)
    if body.volunteer not in {v.id for v in problem.volunteers}:
        raise InputError(
            f"volunteer: '{body.volunteer}' is not in this week's plan (registered, activated or given "
            "consent after it was made): apply a change set to plan with them"
        )
    changed, changes, new_plan = _swapped(problem, plan, row.need_id, row.volunteer_id, body)
    now = utcnow()
    new = PlanVersion(
        station_id=version.station_id,
        week_start=version.week_start,
        version=versions._next_version(session, version.station_id, version.week_start),
        parent_id=version.id,
        successor_of=version.id,
        state="done",
        problem=changed.model_dump(mode="json", exclude_none=True),
        changes=changes.model_dump(mode="json", exclude_none=True),
        created_at=now,
        finished_at=now,
    )
    session.add(new)
    try:
        session.flush()  # the successor slot and the version number are unique: a race is a 409
        store_plan(session, new, new_plan)
        # Once the week is published, the swap is told to the two volunteers and the family at once,
        # in this transaction (the outbox): a swap is a change like any other.
        publication.on_new_current(session, new)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"plan {version.id} already has a newer version: reload it") from None
    session.refresh(new)
    return new

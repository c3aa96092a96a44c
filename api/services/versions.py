"""Plan versions: generate a week, queue an integrator's problem, re-solve after a change set,
cancel, compare and export; and the look-ups the coordinators' pages show.

The routes of :mod:`api.routers.plans` and :mod:`api.routers.solve`, and the pages of
:mod:`web.views`, call these.  Every station, plan version or principal handed in has been
resolved in the caller's scope already (:func:`api.deps.station_in_scope`,
:func:`api.deps.plan_in_scope`); nothing here looks an id up on a caller's behalf.  Errors
are domain errors: :class:`~api.services.errors.ConflictError` (409) and
:class:`~matcher.format.errors.InputError` (422), mapped to HTTP by :mod:`api.main`.

Each document is converted once on the way to the stored version: a change set is applied
here, once, and the changed problem stored in the new version is what its job re-solves
(:func:`matcher.resolve.resolve_changed`); ``tests/service/services/test_conversions.py``
counts the conversions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.auth import Principal
from api.jobs import JobRunner
from api.models import (
    AssignmentPublic,
    Beneficiary,
    DiffEntry,
    District,
    JobProgress,
    PlanAssignment,
    PlanDiff,
    PlanPublic,
    PlanVersion,
    ServiceRecord,
    SessionPublic,
    Station,
    Volunteer,
)
from api.services.errors import ConflictError
from api.services.planning import (
    build_problem,
    carried_plan,
    carried_plan2,
    is_post,
    parse_plan,
    place_of,
    plan_rows,
    sessions_of,
)
from api.settings import get_settings
from matcher.format.changes import apply_changes, check_changes, still_applicable
from matcher.format.errors import InputError
from matcher.format.io import parse, parse_problem
from matcher.format.schema import ChangeSet, Plan, Plan2, Problem, Problem2, Withdrawal
from matcher.format.versions import plan_as_format2
from matcher.resolve import check_plan_in_force
from matcher.resolve_posts import apply_changes2, check_plan_in_force2

LIVE = ("queued", "solving", "done")
"""States of a version that can be (or become) the week's plan; failed, cancelled and reverted cannot."""

RUNNING = ("queued", "solving")
"""States of a version whose job has not finished."""


# ------------------------------------------------------------------------ reading versions


def current_version(session: Session, station_id: str, week_start: dt.date) -> PlanVersion | None:
    """The station's current plan version of a week: the newest one not failed, cancelled or reverted.

    Each week has one current version.  Generating the week again supersedes the whole
    chain before it; a change set makes the next version of the chain.  Only the current
    version takes a change set (a superseded one answers 409).
    """
    return session.exec(
        select(PlanVersion)
        .where(
            PlanVersion.station_id == station_id,
            PlanVersion.week_start == week_start,
            col(PlanVersion.state).in_(LIVE),
        )
        .order_by(col(PlanVersion.version).desc())
    ).first()


def is_current(session: Session, version: PlanVersion) -> bool:
    """Whether ``version`` is its week's current version (an integrator's job: not superseded)."""
    if version.station_id is None:
        return version.state in LIVE
    current = current_version(session, version.station_id, version.week_start)
    return current is not None and current.id == version.id


def public(
    version: PlanVersion,
    with_plan: bool = True,
    current: bool = False,
    assignments: list[AssignmentPublic] | None = None,
) -> PlanPublic:
    """The client's view of a version (``assignments``: :func:`assignments_of`, for a finished one)."""
    assert version.id is not None
    return PlanPublic(
        current=current,
        id=version.id,
        station_id=version.station_id,
        week_start=version.week_start,
        version=version.version,
        parent_id=version.parent_id,
        state=version.state,
        error=version.error,
        created_at=version.created_at,
        finished_at=version.finished_at,
        plan=version.plan if with_plan else None,
        assignments=assignments if with_plan else None,
        progress=progress_of(version),
        published_at=version.published_at,
    )


def progress_of(version: PlanVersion) -> JobProgress | None:
    """The version's latest progress report; None when there is none or it is not one (a row
    written by another release is shown without progress rather than failing the request)."""
    if version.progress is None:
        return None
    try:
        return JobProgress.model_validate(version.progress)
    except ValidationError:
        return None


def assignment_rows(session: Session, version: PlanVersion) -> list[PlanAssignment]:
    """The version's assignment rows, in the order the plan lists them (by row id)."""
    return list(
        session.exec(
            select(PlanAssignment)
            .where(PlanAssignment.plan_id == version.id)
            .order_by(col(PlanAssignment.id))
        )
    )


def assignments_of(session: Session, version: PlanVersion) -> list[AssignmentPublic] | None:
    """A finished station plan's assignments with their stable ids and sessions (what service
    records name); None for a version not done, or an integrator's job (nothing is recorded
    against those).  The ids belong to the service, not to the format-1 plan document."""
    if version.station_id is None or version.state != "done" or version.plan is None:
        return None
    # A format-2 post has one row per member; its open places are the plan's, per need.
    open_places = {a["need"]: a.get("places_open") for a in version.plan.get("assignments", [])}
    return [
        AssignmentPublic(
            id=a.id,
            need=a.need_id,
            volunteer=a.volunteer_id,
            slots=list(a.slots),
            sessions=[SessionPublic(date=d, slot=s) for d, s in sessions_of(version.week_start, a.slots)],
            places_open=open_places.get(a.need_id),
        )
        for a in assignment_rows(session, version)
        if a.id is not None
    ]


def describe(session: Session, version: PlanVersion) -> PlanPublic:
    """The client's view of a version: the plan, its assignments' ids, whether it is current now."""
    return public(version, current=is_current(session, version), assignments=assignments_of(session, version))


def station_versions(
    session: Session, station: Station, week_start: dt.date | None = None
) -> list[PlanPublic]:
    """The station's plan versions (of one week, or all), newest first, without the plan bodies."""
    query = select(PlanVersion).where(PlanVersion.station_id == station.id)
    if week_start is not None:
        query = query.where(col(PlanVersion.week_start) == week_start)
    versions = session.exec(
        query.order_by(col(PlanVersion.week_start).desc(), col(PlanVersion.version).desc())
    )
    out, weeks = [], set()
    for v in versions:  # newest first: the first live version of each week is its current one
        current = v.state in LIVE and v.week_start not in weeks
        if current:
            weeks.add(v.week_start)
        out.append(public(v, with_plan=False, current=current))
    return out


def week_versions(
    session: Session, station: Station, week_start: dt.date
) -> tuple[PlanVersion | None, PlanVersion | None]:
    """The week's newest finished version (the one shown), and a newer one still queued or solving."""
    shown = session.exec(
        select(PlanVersion)
        .where(
            PlanVersion.station_id == station.id,
            PlanVersion.week_start == week_start,
            PlanVersion.state == "done",
        )
        .order_by(col(PlanVersion.version).desc())
    ).first()
    current = current_version(session, station.id, week_start)
    pending = current if current is not None and current.state in RUNNING else None
    return shown, pending


def _next_version(session: Session, station_id: str, week_start: dt.date) -> int:
    """The number the week's next version takes (1 for the first)."""
    latest = session.exec(
        select(func.max(PlanVersion.version)).where(
            PlanVersion.station_id == station_id, PlanVersion.week_start == week_start
        )
    ).one()
    return (latest or 0) + 1


def _store(
    session: Session, jobs: JobRunner, version: PlanVersion, conflict: str | None = None
) -> PlanVersion:
    """Commit a new queued version and wake a worker.

    ``conflict`` is the 409's message when a concurrent request took the version's number
    (or its parent's successor slot) first; without it (an integrator's job: no number to
    race for) a failed commit is not expected and propagates.
    """
    session.add(version)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if conflict is None:
            raise
        raise ConflictError(conflict) from None
    session.refresh(version)
    assert version.id is not None
    jobs.submit(version.id)  # the worker reads the job's inputs from the row, by this id
    return version


# ------------------------------------------------------------------------ new versions


def generate(session: Session, jobs: JobRunner, station: Station, week_start: dt.date) -> PlanVersion:
    """Queue a solve of the station's week, built from its data as they are now.

    Raises
    ------
    InputError
        When the stored data do not make a valid problem (the message names the field).
    ConflictError
        When another generation of the week took the version number first.
    """
    problem = build_problem(session, station.id, week_start, get_settings().solve_time_limit)
    version = PlanVersion(
        station_id=station.id,
        week_start=week_start,
        version=_next_version(session, station.id, week_start),
        problem=problem.model_dump(mode="json", exclude_none=True),
    )
    return _store(session, jobs, version, "another plan of this week was just created")


def queue_problem(session: Session, jobs: JobRunner, body: bytes, principal: Principal) -> PlanVersion:
    """Validate an integrator's problem (JSON, format 1 or 2) and queue its solve, owned by its token.

    A format-2 problem (``"format": 2``) is solved by the job as a format-2 problem
    (:func:`api.jobs.run_task`), its plan in format 2; anything else is read as format 1,
    with format 1's errors.

    Raises
    ------
    InputError
        When the body is not a valid problem, or asks for more time than the service's
        maximum (``LINLI_MAX_TIME_LIMIT``).
    """
    problem = parse_problem(body, "body")
    limit = get_settings().max_time_limit
    if problem.time_limit_s > limit:
        # One long job would hold a solve process for as long as it asks.
        raise InputError(
            f"time_limit_s: {problem.time_limit_s:g} s exceeds the service's maximum of {limit:g} s"
        )
    version = PlanVersion(
        token_id=principal.token_id,
        week_start=problem.week_start,
        problem=problem.model_dump(mode="json", exclude_none=True),
    )
    return _store(session, jobs, version)


class _InForce(NamedTuple):
    """What a change set applies to: the problem, the next version's number and what the job keeps."""

    problem: Problem | Problem2
    version: int
    base: dict[str, Any] | None


def chain_changes(session: Session, version: PlanVersion) -> list[ChangeSet]:
    """The change sets that made ``version`` from its week's generated version, oldest first
    (stored documents are parsed like input: one that no longer parses is a 422 naming it)."""
    chain: list[ChangeSet] = []
    seen: set[int] = set()
    current: PlanVersion | None = version
    while current is not None and current.changes is not None and current.id not in seen:
        assert current.id is not None
        seen.add(current.id)
        chain.append(parse(ChangeSet, current.changes, f"plan {current.id}: changes"))
        current = session.get(PlanVersion, current.parent_id) if current.parent_id is not None else None
    return chain[::-1]


def _station_in_force(
    session: Session, version: PlanVersion, parent: Plan | Plan2, changes: ChangeSet
) -> _InForce:
    """A station's plan in force: the station's people as they are now, and what still holds of
    ``parent`` (the version's plan) for them.  A week planned in format 2 (group posts) stays in
    format 2, and a format-1 plan of a week whose station has posts now is read in format 2."""
    assert version.station_id is not None
    current = current_version(session, version.station_id, version.week_start)
    if current is None or current.id != version.id:
        newer = "" if current is None else f" by version {current.version} (plan {current.id})"
        raise ConflictError(
            f"plan {version.id} is superseded{newer}: apply the change set to the current version"
        )
    if changes.volunteers_added:
        raise InputError(
            "volunteers_added[0]: a station's plan uses its registered volunteers: "
            "register the volunteer with the station first, then apply the change set"
        )
    problem = build_problem(
        session,
        version.station_id,
        version.week_start,
        get_settings().solve_time_limit,
        format2=isinstance(parent, Plan2),
    )
    # The week's earlier change sets still hold: a volunteer withdrawn in version 2 must not
    # come back in version 3 because version 3's change set only cancels a need.
    for earlier in chain_changes(session, version):
        problem = apply_any(problem, still_applicable(problem, earlier))  # type: ignore[arg-type]
    carried: Plan | Plan2
    if isinstance(problem, Problem2):
        # What still holds of each post is decided by the re-solve (matcher.resolve_posts), which
        # keeps a post's volunteers still eligible and free and releases one below its minimum.
        carried = carried_plan2(problem, parent if isinstance(parent, Plan2) else plan_as_format2(parent))
    else:
        assert isinstance(parent, Plan)
        # Valid for ``problem`` by construction (carried_plan keeps only what passes the
        # validator), so neither this request nor the job checks it again.
        carried = carried_plan(problem, parent)
    return _InForce(
        problem,
        _next_version(session, version.station_id, version.week_start),
        {"plan": carried.model_dump(mode="json", exclude_none=True)},
    )


def apply_any(problem: Problem | Problem2, changes: ChangeSet) -> Problem | Problem2:
    """A change set applied to a problem of either format (422 naming the field for an id it lacks)."""
    if not isinstance(problem, Problem2):
        return apply_changes(problem, changes)
    check_changes(problem, changes)  # type: ignore[arg-type]  # reads only what both formats share
    # Several withdrawals of one volunteer add up (a whole-week one absorbs the others), as in
    # format 1; apply_changes2 reads one per volunteer.
    merged: dict[str, set[str] | None] = {}
    for w in changes.volunteers_withdrawn:
        before = merged.get(w.volunteer, set())
        merged[w.volunteer] = None if w.slots is None or before is None else before | set(w.slots)
    withdrawals = [
        Withdrawal(volunteer=v, slots=None if slots is None else sorted(slots)) for v, slots in merged.items()
    ]
    return apply_changes2(problem, changes.model_copy(update={"volunteers_withdrawn": withdrawals}))


def apply_change_set(
    session: Session, jobs: JobRunner, version: PlanVersion, changes: ChangeSet
) -> PlanVersion:
    """Queue the re-solve of the week's current version after a change set: the next version.

    For a station's plan the change set is applied to the station's people as they are
    now (volunteers registered since the plan was made can take freed needs; people who
    left are gone) with the week's earlier change sets carried onto them
    (:func:`chain_changes`, :func:`matcher.format.changes.still_applicable`), keeping what
    still holds of the plan in force; every id it names must be one of the station's.  An
    integrator's job is its own world: the change set is applied to its problem, and its
    plan must still be valid for it.

    The change set is applied here, once: the new version stores the changed problem
    (``problem``), the change set (``changes``) and, for a station, the plan in force
    (``base``); its job re-solves from those without applying anything again.

    Raises
    ------
    ConflictError
        When the version is not done, is superseded, or already has a successor.
    InputError
        When the change set names something the problem does not have, adds volunteers to
        a station's plan, or a stored document is not valid (the message names the field).
    """
    if version.state != "done" or version.plan is None:
        raise ConflictError(f"plan {version.id} is {version.state}, not done")
    # Stored documents are parsed like any input: one stored before a bound was added is
    # a 422 naming its field, never a 500.
    parent = parse_plan(version.plan, "plan")
    if version.station_id is None:  # an integrator's job: its own problem is the whole world
        in_force = _InForce(parse_problem(version.problem, "problem"), version.version + 1, None)
    else:
        in_force = _station_in_force(session, version, parent, changes)
    changed = apply_any(in_force.problem, changes)  # 422 naming the field for an id not in the problem
    if version.station_id is None:
        # Checked here, where the problem before the changes is at hand: the job only sees
        # the changed one (a station's carried plan is valid by construction).
        if isinstance(in_force.problem, Problem2):
            if not isinstance(parent, Plan2):
                raise InputError("plan: a format-1 plan for a format-2 problem")
            check_plan_in_force2(in_force.problem, parent)
        else:
            if not isinstance(parent, Plan):
                raise InputError("plan: a format-2 plan for a format-1 problem")
            check_plan_in_force(in_force.problem, parent)
    new = PlanVersion(
        station_id=version.station_id,
        token_id=version.token_id,
        week_start=version.week_start,
        version=in_force.version,
        parent_id=version.id,
        successor_of=version.id,
        problem=changed.model_dump(mode="json", exclude_none=True),
        changes=changes.model_dump(mode="json", exclude_none=True),
        base=in_force.base,
    )
    return _store(
        session,
        jobs,
        new,
        f"plan {version.id} already has a newer version: apply the change set to that one",
    )


def cancel(session: Session, jobs: JobRunner, version: PlanVersion) -> PlanVersion:
    """Cancel a queued or running solve; the version it started from stays as it was.

    Returns the version as it is afterwards.

    Raises
    ------
    ConflictError
        When the job is neither queued nor running (it finished meanwhile, or never ran).
    """
    assert version.id is not None
    if version.state not in RUNNING or not jobs.cancel(version.id):
        raise ConflictError(f"plan {version.id} is {version.state}: nothing to cancel")
    session.refresh(version)
    return version


def revert(session: Session, version: PlanVersion) -> PlanVersion:
    """Undo a re-solve: withdraw the week's current version so the version it came from is current again.

    The version is marked ``reverted`` (not live: it can never be the week's plan again) and
    its ``successor_of`` is cleared, as for a failed or cancelled job, so the parent takes
    another change set.  Returns the parent, current now; if the week was published, the parent
    is published again in the same transaction (:func:`api.services.publication.on_new_current`).

    Raises
    ------
    ConflictError
        When the version is not done, has no parent (a week's first version: generate
        the week again instead), is not the week's current version, or has service
        records (hours served against its assignments).
    """
    assert version.id is not None
    if version.state != "done":
        raise ConflictError(f"plan {version.id} is {version.state}, not done")
    parent = session.get(PlanVersion, version.parent_id) if version.parent_id is not None else None
    if parent is None or parent.state != "done":
        raise ConflictError(f"plan {version.id} has no finished version to go back to")
    if not is_current(session, version):
        raise ConflictError(f"plan {version.id} is not the week's current version: only that one is undone")
    recorded = session.exec(
        select(ServiceRecord.id)
        .join(PlanAssignment, col(PlanAssignment.id) == col(ServiceRecord.assignment_id))
        .where(PlanAssignment.plan_id == version.id)
    ).first()
    if recorded is not None:  # hours served count in the volunteers' ledger: not undone behind its back
        raise ConflictError(f"plan {version.id} has service records: apply a change set instead")
    # One conditional UPDATE: of two reverts (or a revert and anything else settling the
    # row) at once, one wins and the other is 409.
    result = session.execute(
        update(PlanVersion)
        .where(col(PlanVersion.id) == version.id, col(PlanVersion.state) == "done")
        .values(state="reverted", successor_of=None)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ConflictError(f"plan {version.id} changed meanwhile: reload it")
    from api.services import publication  # imported here: it imports this module

    publication.on_new_current(session, parent)  # a published week tells people, in this transaction
    session.commit()
    session.refresh(version)
    session.refresh(parent)
    return parent


# ------------------------------------------------------------------------ comparing, exporting


def _done(version: PlanVersion) -> dict[str, Any]:
    """The version's plan document; 409 (:class:`ConflictError`) while it has none."""
    if version.plan is None:
        raise ConflictError(f"plan {version.id} is {version.state}, not done")
    return version.plan


def _where(plan: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Each assigned need's volunteers, each with its (sorted) slots: one for a format-1 need,
    each member for a format-2 post."""
    out: dict[str, dict[str, list[str]]] = {}
    for need, volunteer, slots in plan_rows(plan):
        out.setdefault(need, {})[volunteer] = sorted(slots)
    return out


def _entries(
    need: str, post: bool, before: dict[str, list[str]], after: dict[str, list[str]]
) -> list[DiffEntry]:
    """What changed of one need: one entry for a one-volunteer need ({volunteer, slots} before and
    after), one per volunteer who joined, left or moved slots for a post."""
    if before == after:
        return []
    if not post and len(before) <= 1 and len(after) <= 1:
        old = next(({"volunteer": v, "slots": s} for v, s in before.items()), None)
        new = next(({"volunteer": v, "slots": s} for v, s in after.items()), None)
        return [DiffEntry(need=need, before=old, after=new)]
    return [
        DiffEntry(
            need=need,
            before=None if v not in before else {"volunteer": v, "slots": before[v]},
            after=None if v not in after else {"volunteer": v, "slots": after[v]},
        )
        for v in sorted(before.keys() | after.keys())
        if before.get(v) != after.get(v)
    ]


def diff(version: PlanVersion, other: PlanVersion) -> PlanDiff:
    """Needs whose volunteers or slots differ between ``version`` and ``other`` (both finished).

    Needs are listed in ``version``'s problem order, then those only ``other`` has; a group
    post's change is listed per volunteer (who joined, who left, whose slots moved).
    """
    after, before = _where(_done(version)), _where(_done(other))
    docs = {n["id"]: n for n in other.problem["needs"]}
    docs.update({n["id"]: n for n in version.problem["needs"]})
    needs = [n["id"] for n in version.problem["needs"]]
    needs += [n["id"] for n in other.problem["needs"] if n["id"] not in set(needs)]
    assert version.id is not None and other.id is not None
    return PlanDiff(
        plan=version.id,
        against=other.id,
        changed=[
            e for n in needs for e in _entries(n, is_post(docs[n]), before.get(n, {}), after.get(n, {}))
        ],
    )


PLAN_HEADER = (
    "need",
    "beneficiary",
    "service",
    "hours",
    "sessions",
    "volunteer",
    "slots",
    "reasons",
    "assignment_id",
)
"""The columns of a plan's export (``assignment_id``: what a service record names; empty for an
unmet need; added last so the columns before it keep their places)."""

Row = Sequence[str | float | int]


class PlanTable(NamedTuple):
    """A finished plan as a table: one row per need (assigned, then unmet), and a file name."""

    header: tuple[str, ...]
    rows: list[Row]
    name: str


def plan_table(session: Session, version: PlanVersion) -> PlanTable:
    """The week's plan, one row per assignment (a group post: one per volunteer on it), then one per
    unmet need, in :data:`PLAN_HEADER`'s columns (``beneficiary``: a post's site for a need at one).

    Raises
    ------
    ConflictError
        When the version has no plan (yet).
    """
    plan = _done(version)
    needs = {n["id"]: n for n in version.problem["needs"]}
    # Each volunteer has at most one row per need in a plan: its row's id, by need and volunteer.
    ids: dict[tuple[str, str], str | int] = {
        (a.need_id, a.volunteer_id): a.id for a in assignment_rows(session, version) if a.id is not None
    }
    rows = [(need, volunteer, ";".join(slots), "") for need, volunteer, slots in plan_rows(plan)]
    rows += [(u["need"], "", "", ";".join(u["reasons"])) for u in plan["unmet"]]
    cells: list[Row] = []
    for need_id, volunteer, slots, reasons in rows:
        n = needs[need_id]
        assignment: str | int = ids.get((need_id, volunteer), "") if volunteer else ""
        cells.append(
            [
                need_id,
                place_of(n),
                n["service"],
                n["hours"],
                n["sessions"],
                volunteer,
                slots,
                reasons,
                assignment,
            ]
        )
    name = f"plan-{version.station_id or 'job'}-{version.week_start}-v{version.version}"
    return PlanTable(PLAN_HEADER, cells, name)


# ------------------------------------------------------------------------ the pages' look-ups


class Names(NamedTuple):
    """Display names by id (the id stands in for an empty name)."""

    volunteers: dict[str, str]
    beneficiaries: dict[str, str]
    districts: dict[str, str]


def people_names(session: Session, station: Station) -> Names:
    """The station's volunteers' and beneficiaries' names, and every district's."""
    vols = {
        v.id: v.name or v.id
        for v in session.exec(select(Volunteer).where(Volunteer.station_id == station.id))
    }
    bens = {
        b.id: b.name or b.id
        for b in session.exec(select(Beneficiary).where(Beneficiary.station_id == station.id))
    }
    districts = {d.id: d.name or d.id for d in session.exec(select(District))}
    return Names(vols, bens, districts)


def visible_stations(session: Session, principal: Principal) -> list[Station]:
    """The stations ``principal`` may see, by id: every one for the centre, its own for a station."""
    query = select(Station).order_by(col(Station.id))
    if not principal.is_centre:
        query = query.where(Station.id == principal.station_id)
    return list(session.exec(query))

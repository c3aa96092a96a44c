"""Weekly plans: generate, poll, cancel, re-solve after a change set, diff, CSV and XLSX export."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api import tables
from api.deps import MAX_ID, PlanDep, PrincipalDep, SessionDep, StationDep, plan_in_scope
from api.jobs import JobRunner
from api.models import DiffEntry, PlanDiff, PlanPublic, PlanRequest, PlanVersion
from api.services.planning import build_problem, carried_plan
from api.settings import get_settings
from matcher.format.changes import apply_changes
from matcher.format.io import parse
from matcher.format.schema import ChangeSet, Plan, Problem

router = APIRouter(prefix="/v1", tags=["plans"])


def runner(request: Request) -> JobRunner:
    """The app's job runner."""
    jobs: JobRunner = request.app.state.jobs
    return jobs


LIVE = ("queued", "solving", "done")
"""States of a version that can be (or become) the week's plan; failed and cancelled cannot."""


def current_version(session: Session, station_id: str, week_start: dt.date) -> PlanVersion | None:
    """The station's current plan version of a week: the newest one not failed or cancelled.

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


def public(version: PlanVersion, with_plan: bool = True, current: bool = False) -> PlanPublic:
    """The client's view of a version."""
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
    )


@router.post("/stations/{station_id}/plans", status_code=status.HTTP_202_ACCEPTED, response_model=PlanPublic)
def generate(body: PlanRequest, station: StationDep, session: SessionDep, request: Request) -> PlanPublic:
    """Build the week's problem from the station's data and solve it off the request thread."""
    problem = build_problem(session, station.id, body.week_start, get_settings().solve_time_limit)
    latest = session.exec(
        select(func.max(PlanVersion.version)).where(
            PlanVersion.station_id == station.id, PlanVersion.week_start == body.week_start
        )
    ).one()
    version = PlanVersion(
        station_id=station.id,
        week_start=body.week_start,
        version=(latest or 0) + 1,
        problem=problem.model_dump(mode="json", exclude_none=True),
    )
    session.add(version)
    try:
        session.commit()
    except IntegrityError:  # pragma: no cover - two generations racing for one version number
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="another plan of this week was just created"
        ) from None
    session.refresh(version)
    assert version.id is not None
    runner(request).submit(version.id)
    return public(version, current=True)


@router.get("/stations/{station_id}/plans", response_model=list[PlanPublic])
def list_plans(
    station: StationDep,
    session: SessionDep,
    week_start: Annotated[dt.date | None, Query(description="Only this week (ISO date).")] = None,
) -> list[PlanPublic]:
    """The station's plan versions, newest first (without the plan bodies)."""
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


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def get_plan(plan: PlanDep, session: SessionDep) -> PlanPublic:
    """Poll a plan version: its state, and the format-1 plan once done."""
    return public(plan, current=is_current(session, plan))


@router.get("/plans/{plan_id}/problem")
def get_problem(plan: PlanDep) -> dict[str, Any]:
    """The format-1 problem this version solved (for a re-solve: the changed problem)."""
    return plan.problem


@router.delete("/plans/{plan_id}", response_model=PlanPublic)
def cancel(plan: PlanDep, session: SessionDep, request: Request) -> PlanPublic:
    """Cancel a queued or running solve; the version it started from stays as it was."""
    assert plan.id is not None
    if plan.state not in ("queued", "solving") or not runner(request).cancel(plan.id):
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"plan {plan.id} is {plan.state}: nothing to cancel"
        )
    session.refresh(plan)
    return public(plan, current=is_current(session, plan))


@router.post(
    "/plans/{plan_id}/changes",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanPublic,
    responses={409: {"description": "The version is not done, or not the week's current version."}},
)
def change(changes: ChangeSet, plan: PlanDep, session: SessionDep, request: Request) -> PlanPublic:
    """Apply a format-1 change set to the week's current version: the next version, by re-solve.

    For a station's plan the change set is applied to the station's people as they are
    now (volunteers registered since the plan was made can take freed needs; people who
    left are gone), keeping what still holds of the plan in force; every id it names must
    be one of the station's (422 otherwise, the same answer whether or not the id exists
    elsewhere).  New volunteers are registered with the station first, not added here.
    """
    assert plan.id is not None
    if plan.state != "done" or plan.plan is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"plan {plan.id} is {plan.state}, not done")
    # Stored documents are parsed like any input: one stored before a bound was added is
    # a 422 naming its field, never a 500.
    parent = parse(Plan, plan.plan, "plan")
    base: dict[str, Any] | None = None
    if plan.station_id is None:  # an integrator's job: its own problem is the whole world
        problem = parse(Problem, plan.problem, "problem")
        latest = plan.version
    else:
        current = current_version(session, plan.station_id, plan.week_start)
        if current is None or current.id != plan.id:
            newer = "" if current is None else f" by version {current.version} (plan {current.id})"
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"plan {plan.id} is superseded{newer}: apply the change set to the current version",
            )
        if changes.volunteers_added:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="volunteers_added[0]: a station's plan uses its registered volunteers: "
                "register the volunteer with the station first, then apply the change set",
            )
        problem = build_problem(session, plan.station_id, plan.week_start, get_settings().solve_time_limit)
        base = {
            "problem": problem.model_dump(mode="json", exclude_none=True),
            "plan": carried_plan(problem, parent).model_dump(mode="json", exclude_none=True),
        }
        latest = session.exec(
            select(func.max(PlanVersion.version)).where(
                PlanVersion.station_id == plan.station_id, PlanVersion.week_start == plan.week_start
            )
        ).one()
    changed = apply_changes(problem, changes)  # 422 naming the field for an id not in the problem
    version = PlanVersion(
        station_id=plan.station_id,
        token_id=plan.token_id,
        week_start=plan.week_start,
        version=(latest or plan.version) + 1,
        parent_id=plan.id,
        successor_of=plan.id,
        problem=changed.model_dump(mode="json", exclude_none=True),
        changes=changes.model_dump(mode="json", exclude_none=True),
        base=base,
    )
    session.add(version)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"plan {plan.id} already has a newer version: apply the change set to that one",
        ) from None
    session.refresh(version)
    assert version.id is not None
    runner(request).submit(version.id)  # the worker reads its inputs (base, changes) from the row
    return public(version, current=True)


def _where(plan: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if plan is None:
        return {}
    return {
        a["need"]: {"volunteer": a["volunteer"], "slots": sorted(a["slots"])} for a in plan["assignments"]
    }


@router.get("/plans/{plan_id}/diff", response_model=PlanDiff)
def diff(
    plan: PlanDep,
    session: SessionDep,
    principal: PrincipalDep,
    against: Annotated[int, Query(ge=1, le=MAX_ID, description="The other version's id.")],
) -> PlanDiff:
    """Needs whose volunteer or slots differ between this version and ``against``."""
    other = plan_in_scope(session, principal, against)
    for version in (plan, other):
        if version.plan is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail=f"plan {version.id} is {version.state}, not done"
            )
    after, before = _where(plan.plan), _where(other.plan)
    needs = [n["id"] for n in plan.problem["needs"]]
    needs += [n["id"] for n in other.problem["needs"] if n["id"] not in set(needs)]
    assert plan.id is not None and other.id is not None
    return PlanDiff(
        plan=plan.id,
        against=other.id,
        changed=[
            DiffEntry(need=n, before=before.get(n), after=after.get(n))
            for n in needs
            if before.get(n) != after.get(n)
        ],
    )


_PLAN_HEADER = ("need", "beneficiary", "service", "hours", "sessions", "volunteer", "slots", "reasons")


def _plan_export(plan: PlanVersion, fmt: tables.Format) -> Response:
    """The week's plan, one row per need (assigned, then unmet), as ``fmt``."""
    if plan.plan is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"plan {plan.id} is {plan.state}, not done")
    needs = {n["id"]: n for n in plan.problem["needs"]}
    rows = [(a["need"], a["volunteer"], ";".join(a["slots"]), "") for a in plan.plan["assignments"]]
    rows += [(u["need"], "", "", ";".join(u["reasons"])) for u in plan.plan["unmet"]]
    cells: list[list[tables.Cell]] = []
    for need_id, volunteer, slots, reasons in rows:
        n = needs[need_id]
        cells.append(
            [need_id, n["beneficiary"], n["service"], n["hours"], n["sessions"], volunteer, slots, reasons]
        )
    name = f"plan-{plan.station_id or 'job'}-{plan.week_start}-v{plan.version}"
    return tables.export(fmt, _PLAN_HEADER, cells, name, "plan")


@router.get(
    "/plans/{plan_id}/assignments.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per need: assigned or unmet."}},
)
def export_csv(plan: PlanDep) -> Response:
    """The week's plan as CSV: need, beneficiary, service, hours, sessions, volunteer, slots, reasons."""
    return _plan_export(plan, "csv")


@router.get(
    "/plans/{plan_id}/assignments.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {tables.XLSX_MEDIA_TYPE: {}},
            "description": "The rows of assignments.csv as an Excel workbook.",
        }
    },
)
def export_xlsx(plan: PlanDep) -> Response:
    """The week's plan as XLSX: the columns of :func:`export_csv`."""
    return _plan_export(plan, "xlsx")

"""Weekly plans: generate, poll, cancel, re-solve after a change set, diff, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from api.deps import MAX_ID, PlanDep, PrincipalDep, SessionDep, StationDep, plan_in_scope
from api.jobs import JobRunner
from api.models import PlanVersion
from api.problem import build_problem
from api.schemas import DiffEntry, PlanDiff, PlanPublic, PlanRequest
from api.settings import get_settings
from matcher.changes import apply_changes
from matcher.schema import ChangeSet, Problem

router = APIRouter(prefix="/v1", tags=["plans"])


def runner(request: Request) -> JobRunner:
    """The app's job runner."""
    jobs: JobRunner = request.app.state.jobs
    return jobs


def public(version: PlanVersion, with_plan: bool = True) -> PlanPublic:
    """The client's view of a version."""
    assert version.id is not None
    return PlanPublic(
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
    if body.week_start.weekday() != 0:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="week_start: must be a Monday")
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
    return public(version)


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
    return [public(v, with_plan=False) for v in versions]


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def get_plan(plan: PlanDep) -> PlanPublic:
    """Poll a plan version: its state, and the format-1 plan once done."""
    return public(plan)


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
    return public(plan)


@router.post("/plans/{plan_id}/changes", status_code=status.HTTP_202_ACCEPTED, response_model=PlanPublic)
def change(changes: ChangeSet, plan: PlanDep, session: SessionDep, request: Request) -> PlanPublic:
    """Apply a format-1 change set: the next version, by re-solve (409 if this version already has one)."""
    assert plan.id is not None
    if plan.state != "done" or plan.plan is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"plan {plan.id} is {plan.state}, not done")
    original = Problem.model_validate(plan.problem)
    changed = apply_changes(original, changes)
    if plan.station_id is not None:
        latest = session.exec(
            select(func.max(PlanVersion.version)).where(
                PlanVersion.station_id == plan.station_id, PlanVersion.week_start == plan.week_start
            )
        ).one()
    else:
        latest = plan.version
    version = PlanVersion(
        station_id=plan.station_id,
        token_id=plan.token_id,
        week_start=plan.week_start,
        version=(latest or plan.version) + 1,
        parent_id=plan.id,
        successor_of=plan.id,
        problem=changed.model_dump(mode="json", exclude_none=True),
        changes=changes.model_dump(mode="json", exclude_none=True),
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
    runner(request).submit(version.id)
    return public(version)


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


@router.get(
    "/plans/{plan_id}/assignments.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per need: assigned or unmet."}},
)
def export_csv(plan: PlanDep) -> Response:
    """The week's plan as CSV: need, beneficiary, service, volunteer, slots, hours, reasons."""
    if plan.plan is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"plan {plan.id} is {plan.state}, not done")
    needs = {n["id"]: n for n in plan.problem["needs"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["need", "beneficiary", "service", "hours", "sessions", "volunteer", "slots", "reasons"])
    rows = [(a["need"], a["volunteer"], ";".join(a["slots"]), "") for a in plan.plan["assignments"]]
    rows += [(u["need"], "", "", ";".join(u["reasons"])) for u in plan.plan["unmet"]]
    for need_id, volunteer, slots, reasons in rows:
        n = needs[need_id]
        writer.writerow(
            [need_id, n["beneficiary"], n["service"], n["hours"], n["sessions"], volunteer, slots, reasons]
        )
    filename = f"plan-{plan.station_id or 'job'}-{plan.week_start}-v{plan.version}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

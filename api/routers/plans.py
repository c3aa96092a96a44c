"""Weekly plans: generate, poll, cancel, re-solve after a change set, swap in a stand-in, revert, diff,
CSV and XLSX export.

Thin routes over :mod:`api.services.versions`: each parses the request (the station and
plan versions resolved in the caller's scope by :mod:`api.deps`), calls one service
function and shapes the answer.  The services' domain errors become HTTP answers in
:mod:`api.main` (``ConflictError`` 409, ``InputError`` 422).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from api import tables
from api.deps import MAX_ID, JobsDep, PlanDep, PrincipalDep, SessionDep, StationDep, plan_in_scope
from api.models import PlanDiff, PlanPublic, PlanRequest, PlanVersion, SwapRequest
from api.services import standins, versions
from matcher.format.schema import ChangeSet

router = APIRouter(prefix="/v1", tags=["plans"])


@router.post("/stations/{station_id}/plans", status_code=status.HTTP_202_ACCEPTED, response_model=PlanPublic)
def generate(body: PlanRequest, station: StationDep, session: SessionDep, jobs: JobsDep) -> PlanPublic:
    """Build the week's problem from the station's data and solve it off the request thread."""
    version = versions.generate(session, jobs, station, body.week_start)
    return versions.public(version, current=True)


@router.get("/stations/{station_id}/plans", response_model=list[PlanPublic])
def list_plans(
    station: StationDep,
    session: SessionDep,
    week_start: Annotated[dt.date | None, Query(description="Only this week (ISO date).")] = None,
) -> list[PlanPublic]:
    """The station's plan versions, newest first (without the plan bodies)."""
    return versions.station_versions(session, station, week_start)


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def get_plan(plan: PlanDep, session: SessionDep) -> PlanPublic:
    """Poll a plan version: its state, and once done the format-1 plan and (a station's plan) its
    assignments with their stable ids and sessions, which service records name, each with its
    ranked stand-ins (备选志愿者)."""
    return standins.describe(session, plan)


@router.get("/plans/{plan_id}/problem")
def get_problem(plan: PlanDep) -> dict[str, Any]:
    """The problem this version solved (for a re-solve: the changed problem): format 1, or format 2
    for a station's week with group posts (sites, posts)."""
    return plan.problem


@router.delete("/plans/{plan_id}", response_model=PlanPublic)
def cancel(plan: PlanDep, session: SessionDep, jobs: JobsDep) -> PlanPublic:
    """Cancel a queued or running solve; the version it started from stays as it was."""
    return versions.describe(session, versions.cancel(session, jobs, plan))


@router.post(
    "/plans/{plan_id}/changes",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanPublic,
    responses={409: {"description": "The version is not done, or not the week's current version."}},
)
def change(changes: ChangeSet, plan: PlanDep, session: SessionDep, jobs: JobsDep) -> PlanPublic:
    """Apply a format-1 change set to the week's current version: the next version, by re-solve.

    For a station's plan the change set is applied to the station's people as they are
    now (volunteers registered since the plan was made can take freed needs; people who
    left are gone), keeping what still holds of the plan in force; every id it names must
    be one of the station's (422 otherwise, the same answer whether or not the id exists
    elsewhere).  New volunteers are registered with the station first, not added here.
    """
    version = versions.apply_change_set(session, jobs, plan, changes)
    return versions.public(version, current=True)


@router.post(
    "/plans/{plan_id}/revert",
    response_model=PlanPublic,
    responses={
        409: {"description": "The version is not done, has no parent, or is not the week's current version."}
    },
)
def revert(plan: PlanDep, session: SessionDep) -> PlanPublic:
    """Undo a re-solve: the version is marked ``reverted`` and the one it came from is current again.

    Answers the parent version, now current (it takes a change set again).
    """
    return versions.describe(session, versions.revert(session, plan))


@router.post(
    "/plans/{plan_id}/swap",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanPublic,
    responses={
        409: {"description": "Not a station's plan, not done, or not the week's current version."},
        422: {"description": "An assignment or volunteer not of this plan, or a swap that breaks a rule."},
    },
)
def swap(body: SwapRequest, plan: PlanDep, session: SessionDep) -> PlanPublic:
    """Put a stand-in in a volunteer's place, for one session (``slot``) or all of the assignment:
    the week's next version at once, without a solve, held to the validator like any plan.

    The leaving volunteer is withdrawn from the slots they leave (the version's change set,
    which later change sets carry); one session of a need of several splits the need.
    """
    return standins.describe(session, standins.swap_version(session, plan, body))


@router.get("/plans/{plan_id}/diff", response_model=PlanDiff)
def diff(
    plan: PlanDep,
    session: SessionDep,
    principal: PrincipalDep,
    against: Annotated[int, Query(ge=1, le=MAX_ID, description="The other version's id.")],
) -> PlanDiff:
    """Needs whose volunteer or slots differ between this version and ``against``."""
    other = plan_in_scope(session, principal, against)  # 404 for an id out of the caller's scope
    return versions.diff(plan, other)


def _plan_export(session: SessionDep, plan: PlanVersion, fmt: tables.Format) -> Response:
    """The week's plan, one row per need (assigned, then unmet), as ``fmt``."""
    table = standins.plan_table(session, plan)
    return tables.export(fmt, table.header, table.rows, table.name, "plan")


@router.get(
    "/plans/{plan_id}/assignments.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per need: assigned or unmet."}},
)
def export_csv(plan: PlanDep, session: SessionDep) -> Response:
    """The week's plan as CSV: need, beneficiary, service, hours, sessions, volunteer, slots, reasons,
    assignment_id (what ``POST /v1/records`` names; empty for an unmet need), standins (the ranked
    stand-ins: ``v0012;v0040;v0007``, or per session ``sat-am: v0012 / mon-am: v0040``)."""
    return _plan_export(session, plan, "csv")


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
def export_xlsx(plan: PlanDep, session: SessionDep) -> Response:
    """The week's plan as XLSX: the columns of :func:`export_csv`."""
    return _plan_export(session, plan, "xlsx")

"""``POST /v1/solve``: a whole format-1 problem in, a job whose result is a format-1 plan.

A city's problem is megabytes of JSON: parsing and validating it takes about half a
second, which on the event loop would stall every other request.  The body is therefore
read raw and validated in the thread pool; the OpenAPI schema still documents it as a
:class:`~matcher.format.schema.Problem` (see :func:`api.main.create_app`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.auth import Principal
from api.deps import PrincipalDep, SessionDep
from api.models import PlanPublic, PlanVersion
from api.routers.plans import public, runner
from api.settings import get_settings
from matcher.format.errors import InputError
from matcher.format.io import parse
from matcher.format.schema import Problem

router = APIRouter(prefix="/v1", tags=["solve"])

PROBLEM_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _queue(body: bytes, principal: Principal, session: Session) -> PlanVersion:
    """Validate the problem and store the job (runs in the thread pool)."""
    problem = parse(Problem, body, "body")
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
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


@router.post(
    "/solve",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanPublic,
    openapi_extra={"requestBody": PROBLEM_BODY},
)
async def solve_problem(request: Request, principal: PrincipalDep, session: SessionDep) -> PlanPublic:
    """Queue a solve of an integrator's own problem; poll ``GET /v1/plans/{id}`` for the plan.

    The job belongs to the token that asked (and the centre); change sets apply to it
    like to a station's plan.
    """
    version = await run_in_threadpool(_queue, await request.body(), principal, session)
    assert version.id is not None
    runner(request).submit(version.id)
    return public(version)

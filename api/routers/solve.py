"""``POST /v1/solve``: a whole problem in, a job whose result is its plan, in the problem's format.

A format-1 problem gets a format-1 plan, exactly as before format 2; a format-2 problem
(``"format": 2``: sites, group posts) gets a format-2 plan (:func:`matcher.solve.solve_any`).

A city's problem is megabytes of JSON: parsing and validating it takes about half a
second, which on the event loop would stall every other request.  The body is therefore
read raw and validated in the thread pool; the OpenAPI schema still documents it, as either
:class:`~matcher.format.schema.Problem` or :class:`~matcher.format.schema.Problem2` (see
:func:`api.main.create_app`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool

from api.deps import JobsDep, PrincipalDep, SessionDep
from api.models import PlanPublic
from api.services import versions

router = APIRouter(prefix="/v1", tags=["solve"])

PROBLEM_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyProblem"}}},
}


@router.post(
    "/solve",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PlanPublic,
    openapi_extra={"requestBody": PROBLEM_BODY},
)
async def solve_problem(
    request: Request, principal: PrincipalDep, session: SessionDep, jobs: JobsDep
) -> PlanPublic:
    """Queue a solve of an integrator's own problem; poll ``GET /v1/plans/{id}`` for the plan.

    The job belongs to the token that asked (and the centre); change sets apply to it
    like to a station's plan.
    """
    # Validated and stored in the thread pool: a city's problem takes about half a second.
    version = await run_in_threadpool(versions.queue_problem, session, jobs, await request.body(), principal)
    return versions.public(version)

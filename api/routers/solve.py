"""``POST /v1/solve``: a whole format-1 problem in, a job whose result is a format-1 plan."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api.deps import PrincipalDep, SessionDep
from api.jobs import Task
from api.models import PlanVersion
from api.routers.plans import public, runner
from api.schemas import PlanPublic
from matcher.schema import Problem

router = APIRouter(prefix="/v1", tags=["solve"])


@router.post("/solve", status_code=status.HTTP_202_ACCEPTED, response_model=PlanPublic)
def solve_problem(
    problem: Problem, principal: PrincipalDep, session: SessionDep, request: Request
) -> PlanPublic:
    """Queue a solve of an integrator's own problem; poll ``GET /v1/plans/{id}`` for the plan.

    The job belongs to the token that asked (and the centre); change sets apply to it
    like to a station's plan.
    """
    version = PlanVersion(
        token_id=principal.token_id,
        week_start=problem.week_start,
        problem=problem.model_dump(mode="json", exclude_none=True),
    )
    session.add(version)
    session.commit()
    session.refresh(version)
    assert version.id is not None
    runner(request).submit(version.id, Task("solve", version.problem))
    return public(version)

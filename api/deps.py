"""Request dependencies: the database session, the caller, and scoped look-ups.

A station's token sees only its station: anything of another station answers 404, as if
it did not exist, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.audit import Actor, current_actor, set_session_actor
from api.auth import Principal, authenticate
from api.db import get_session
from api.jobs import JobRunner
from api.models import PlanVersion, Simulation, Station
from api.services import simulations

SessionDep = Annotated[Session, Depends(get_session)]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A station's or the centre's token (`linli token create`), sent as `Bearer <token>`.",
)
"""The OpenAPI security scheme: /docs' Authorize button sends the token with every request."""


def authenticated(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token.

    The request's session writes as the caller from here on (the audit log's actor).
    """
    principal = authenticate(session, credentials.credentials if credentials is not None else None)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="authorization: a valid 'Bearer <token>' header is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    set_session_actor(session, Actor("api", principal.token_id, principal.label))
    return principal


async def get_principal(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    """The caller (:func:`authenticated`), also made the actor of the request's context.

    Async on purpose: a sync dependency runs in a copy of the context, so what it sets is lost;
    this one runs in the request's own task, whose context the route (and any session it or a
    service opens, e.g. a job's cancel) runs in.
    """
    current_actor.set(Actor("api", principal.token_id, principal.label))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def not_found(what: str, ident: object) -> HTTPException:
    """The 404 for something missing or out of the caller's scope."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} '{ident}' not found")


def station_in_scope(session: Session, principal: Principal, station_id: str) -> Station:
    """The station, if the caller may see it; 404 otherwise."""
    station = session.get(Station, station_id)
    if station is None or not principal.may_see(station.id):
        raise not_found("station", station_id)
    return station


def plan_in_scope(session: Session, principal: Principal, plan_id: int) -> PlanVersion:
    """A plan version (or /v1/solve job) the caller may see; 404 otherwise."""
    plan = session.get(PlanVersion, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    if plan.station_id is None:
        visible = principal.is_centre or plan.token_id == principal.token_id
    else:
        visible = principal.may_see(plan.station_id)
    if not visible:
        raise not_found("plan", plan_id)
    return plan


def scoped_station(session: SessionDep, principal: PrincipalDep, station_id: str) -> Station:
    """Path dependency: ``{station_id}`` in the caller's scope."""
    return station_in_scope(session, principal, station_id)


MAX_ID = 2**31 - 1
"""Largest integer id (PostgreSQL ``integer``; SQLite's driver overflows above 64 bits)."""

PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="A plan version's id.")]


def scoped_plan(session: SessionDep, principal: PrincipalDep, plan_id: PlanId) -> PlanVersion:
    """Path dependency: ``{plan_id}`` in the caller's scope."""
    return plan_in_scope(session, principal, plan_id)


SimulationId = Annotated[int, Path(ge=1, le=MAX_ID, description="A simulation's id.")]


def scoped_simulation(
    session: SessionDep, principal: PrincipalDep, simulation_id: SimulationId
) -> Simulation:
    """Path dependency: ``{simulation_id}`` in the caller's scope (another station's is 404)."""
    row = simulations.in_scope(session, principal, simulation_id)
    if row is None:
        raise not_found("simulation", simulation_id)
    return row


StationDep = Annotated[Station, Depends(scoped_station)]
PlanDep = Annotated[PlanVersion, Depends(scoped_plan)]
SimulationDep = Annotated[Simulation, Depends(scoped_simulation)]


def job_runner(request: Request) -> JobRunner:
    """The app's job runner (made in :func:`api.main.create_app`'s lifespan): queue and cancel jobs."""
    jobs: JobRunner = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobRunner, Depends(job_runner)]

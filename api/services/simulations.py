"""情景模拟: run a scenario (a shipped one, or one's YAML) on a station's week, as a job.

The web app's page (:mod:`web.scenario_pages`) and the API's routes
(:mod:`api.routers.simulations`) both call these.  :func:`start` validates the scenario, caps it
for a station (a few runs, short solves, small advice: the answer comes in a couple of
minutes on the service's own solve processes) and queues a :class:`~api.models.Simulation`
row; a worker runs it (:mod:`api.simulation_job`).  Scopes are the callers' as everywhere: a
simulation of another station is not found.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlmodel import Session, col, select

from api.auth import Principal
from api.jobs import ACTIVE, SIMULATION, JobRunner
from api.models import (
    District,
    Simulation,
    SimulationProgress,
    SimulationPublic,
    SimulationRequest,
    Station,
)
from api.services.errors import ConflictError
from matcher.format.errors import InputError
from scenarios.model import Scenario, check_districts, read_scenario, shipped_scenarios

MAX_RUN_SECONDS = 10.0
"""Most solver seconds per run: a station-size week is proved in a few (a run still settles)."""

ADVICE_CANDIDATES_MAX = 3
"""Most recruitments the advice tries for a station."""

ADVICE_RUNS_MAX = 2
"""Most runs per tried recruitment."""

RECENT = 10
"""Simulations the page lists."""

STATION_BASE: dict[str, Any] = {"problem": "(the station's week)"}
"""The ``base`` given to a scenario sent without one: never read (the station's week replaces it)."""


@functools.cache
def shipped() -> dict[str, str]:
    """The shipped scenarios: name -> YAML text (package data of :mod:`scenarios`)."""
    return shipped_scenarios()


def for_station(text: str, runs: int) -> Scenario:
    """The scenario in ``text``, capped for a station's simulation: ``runs`` runs, at most
    :data:`MAX_RUN_SECONDS` per solve, the advice small.

    Raises
    ------
    InputError
        Naming the field: ``yaml: invalid YAML (line 3, column 7: …)``,
        ``yaml.perturbations[0].rate: …``.
    """
    try:
        scenario = read_scenario(text, "yaml", base=STATION_BASE)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if message.startswith("yaml") else f"yaml.{message}") from None
    advice = scenario.advice.model_copy(
        update={
            "candidates": min(scenario.advice.candidates, ADVICE_CANDIDATES_MAX),
            "runs": min(scenario.advice.runs, ADVICE_RUNS_MAX, runs),
        }
    )
    return scenario.model_copy(
        update={"runs": runs, "time_limit": min(scenario.time_limit, MAX_RUN_SECONDS), "advice": advice}
    )


def start(
    session: Session, jobs: JobRunner, station: Station, body: SimulationRequest, token_id: int | None = None
) -> Simulation:
    """Queue a simulation of ``body``'s scenario on the station's week.

    Raises
    ------
    InputError
        Naming the field: neither or both of ``scenario`` and ``yaml``, an unknown shipped
        scenario, a bad scenario, or a district the station's city does not have.
    """
    if (body.scenario is None) == (body.yaml is None):
        raise InputError("scenario: give either a shipped scenario's name or its yaml text (not both)")
    if body.scenario is not None:
        if body.scenario not in shipped():
            raise InputError(
                f"scenario: unknown scenario {body.scenario!r} (shipped: {', '.join(sorted(shipped()))})"
            )
        text = shipped()[body.scenario]
    else:
        assert body.yaml is not None
        text = body.yaml
    scenario = for_station(text, body.runs)
    try:
        check_districts(scenario, session.exec(select(District.id)).all())
    except InputError as exc:
        raise InputError(f"yaml.{exc}") from None
    row = Simulation(
        station_id=station.id,
        token_id=token_id,
        week_start=body.week_start,
        name=scenario.name,
        scenario=scenario.model_dump(mode="json"),
        scenario_text=text,
        runs=scenario.runs,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    assert row.id is not None
    jobs.submit(row.id)  # wakes the worker, which claims jobs of every kind
    return row


def in_scope(session: Session, principal: Principal, simulation_id: int) -> Simulation | None:
    """The simulation, if the caller may see its station; None otherwise (as if it did not exist)."""
    row = session.get(Simulation, simulation_id)
    if row is None or not principal.may_see(row.station_id):
        return None
    return row


def cancel(session: Session, jobs: JobRunner, row: Simulation) -> Simulation:
    """Cancel a queued or running simulation (a running one's process is killed).

    Raises
    ------
    ConflictError
        When it is neither queued nor running.
    """
    assert row.id is not None
    if row.state not in ACTIVE or not jobs.cancel(row.id, kind=SIMULATION):
        raise ConflictError(f"simulation {row.id} is {row.state}: nothing to cancel")
    session.refresh(row)
    return row


def recent(session: Session, station: Station, limit: int = RECENT) -> list[Simulation]:
    """The station's latest simulations, newest first."""
    return list(
        session.exec(
            select(Simulation)
            .where(Simulation.station_id == station.id)
            .order_by(col(Simulation.id).desc())
            .limit(limit)
        )
    )


def progress_of(row: Simulation) -> SimulationProgress | None:
    """The row's latest progress, or None before the job wrote one (or if it cannot be read)."""
    if not row.progress:
        return None
    try:
        return SimulationProgress.model_validate(row.progress)
    except ValueError:
        return None


def public(row: Simulation, with_report: bool = True) -> SimulationPublic:
    """The simulation as clients see it."""
    assert row.id is not None
    return SimulationPublic(
        id=row.id,
        station_id=row.station_id,
        week_start=row.week_start,
        name=row.name,
        runs=row.runs,
        state=row.state,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        progress=progress_of(row),
        report=row.report if with_report else None,
    )

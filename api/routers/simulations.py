"""情景模拟 over the API: run a scenario on a station's week as a job, poll it, cancel it.

Thin routes over :mod:`api.services.simulations`, which the web app's page calls too.  A
simulation is a job of the same queue as plans (:mod:`api.jobs`): ``POST`` answers 202 with
the queued row, ``GET`` shows its progress and, once done, its report; ``DELETE`` cancels it.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import JobsDep, PrincipalDep, SessionDep, SimulationDep, StationDep
from api.models import ScenarioPublic, SimulationPublic, SimulationRequest
from api.services import simulations
from scenarios.model import read_scenario

router = APIRouter(prefix="/v1", tags=["simulations"])


@router.get("/scenarios", response_model=list[ScenarioPublic])
def list_scenarios(_principal: PrincipalDep) -> list[ScenarioPublic]:
    """The scenarios shipped with Linli (winter attrition, a station's closure, a recruitment drive …)."""
    out = []
    for name, text in simulations.shipped().items():
        scenario = read_scenario(text, name)
        out.append(ScenarioPublic(name=name, description=scenario.description, runs=scenario.runs, yaml=text))
    return out


@router.post(
    "/stations/{station_id}/simulations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SimulationPublic,
)
def start(
    body: SimulationRequest, station: StationDep, session: SessionDep, jobs: JobsDep, principal: PrincipalDep
) -> SimulationPublic:
    """Run a scenario (a shipped one by name, or YAML) ``runs`` times on the station's week, off the request.

    The station's week (its volunteers, beneficiaries and needs as they are now) replaces the
    scenario's ``base``; each solve gets at most 10 seconds and the recruit-first advice tries
    at most 3 recruitments, 2 runs each.  422 names the field (``yaml.perturbations[0].rate``).
    """
    row = simulations.start(session, jobs, station, body, principal.token_id)
    return simulations.public(row)


@router.get("/stations/{station_id}/simulations", response_model=list[SimulationPublic])
def list_simulations(station: StationDep, session: SessionDep) -> list[SimulationPublic]:
    """The station's latest simulations, newest first (without their reports)."""
    return [simulations.public(row, with_report=False) for row in simulations.recent(session, station)]


@router.get("/simulations/{simulation_id}", response_model=SimulationPublic)
def get_simulation(simulation: SimulationDep) -> SimulationPublic:
    """Poll a simulation: its state and progress, and its report once done."""
    return simulations.public(simulation)


@router.delete("/simulations/{simulation_id}", response_model=SimulationPublic)
def cancel(simulation: SimulationDep, session: SessionDep, jobs: JobsDep) -> SimulationPublic:
    """Cancel a queued or running simulation (409 once it has ended)."""
    return simulations.public(simulations.cancel(session, jobs, simulation))

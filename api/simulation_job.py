"""A simulation job's process (情景模拟): the station's week from the database, the scenario's
Monte Carlo runs on it, the report stored on the row.

The worker (:mod:`api.jobs`) claims a :class:`~api.models.Simulation` row and calls
:func:`run_job` in a process of its own (so a cancel kills it, and its solves with it).  The
job reads everything by the row's id: the station, the week and the scenario as the service
validated and capped it (:func:`api.services.simulations.start`).  The station's week replaces
the scenario's ``base``; the runs are solved one after another in this process
(:func:`scenarios.simulate.simulate`, one CP-SAT worker each), and their progress is written on
the row about once a second.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.jobs import KINDS, PROGRESS_EVERY_S, SIMULATION, record, write_progress
from api.models import Simulation
from api.services.planning import build_problem
from matcher.format.schema import AnyProblem
from scenarios.model import Scenario, parse_scenario
from scenarios.simulate import simulate


class ProgressWriter:
    """The simulation's :class:`scenarios.simulate.Progress`: phase, solves done of the phase's
    total and the seconds since the job started, written on the row.

    :func:`~scenarios.simulate.simulate` starts a phase for the base and the runs, then one
    for the advice's runs (when there is advice).  At most one write every ``every_s`` seconds,
    but a phase's start and its last solve always (the page shows each phase begin and end).
    """

    PHASES = ("runs", "advice")

    def __init__(
        self, engine: Engine, job_id: int, claim: str, attempt: int, every_s: float = PROGRESS_EVERY_S
    ) -> None:
        self.engine, self.job_id, self.claim, self.attempt = engine, job_id, claim, attempt
        self.every_s = every_s
        self.started = time.monotonic()
        self.phase = "prepare"
        self.phases = 0
        self.done = 0
        self.total = 0
        self.written = 0
        self._last = -math.inf

    def fields(self) -> dict[str, Any]:
        """The progress as stored (:class:`api.models.SimulationProgress`)."""
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "elapsed_s": round(time.monotonic() - self.started, 3),
        }

    def write(self, force: bool = False) -> None:
        """Store the progress now (``force``), or if the last write is old enough."""
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        if write_progress(
            self.engine, KINDS[SIMULATION], self.job_id, self.claim, self.attempt, self.fields()
        ):
            self.written += 1

    def start(self, description: str, total: int) -> None:
        """A phase of ``total`` solves begins (the first is the runs, the second the advice)."""
        self.phase = self.PHASES[min(self.phases, len(self.PHASES) - 1)]
        self.phases += 1
        self.done, self.total = 0, total
        self.write(force=True)

    def advance(self) -> None:
        """One solve of the phase finished."""
        self.done += 1
        self.write(force=self.done == self.total)


def station_week(engine: Engine, job_id: int) -> tuple[Simulation, AnyProblem]:
    """The job's row and the station's week as it is now (the solver's own limit is the scenario's)."""
    with Session(engine) as session:
        row = session.get(Simulation, job_id)
        if row is None:
            raise LookupError(f"simulation {job_id} is gone")
        scenario = parse_scenario(row.scenario, "scenario")
        problem = build_problem(session, row.station_id, row.week_start, scenario.time_limit)
        session.expunge(row)
        return row, problem


def run_simulation(
    row: Simulation, problem: AnyProblem, progress: ProgressWriter | None = None
) -> dict[str, Any]:
    """Run the row's scenario on ``problem`` (the station's week); returns the report.

    The report's ``scenario.base`` names the station and the week instead of the scenario's
    own base, which was replaced.

    Raises
    ------
    matcher.format.errors.InputError
        If a perturbation names a district the station's city does not have.
    """
    scenario: Scenario = parse_scenario(row.scenario, "scenario")
    sim = simulate(scenario, Path("."), runs=row.runs, progress=progress, problem=problem)
    report = sim.report
    report["scenario"]["base"] = {"station": row.station_id, "week_start": row.week_start.isoformat()}
    report["seconds"] = round(sim.seconds, 3)
    return report


def run_job(engine: Engine, job_id: int, claim: str, attempt: int) -> None:
    """Run a claimed simulation here: build the week, simulate (writing progress as it goes), and
    write the report if the claim holds."""
    kind = KINDS[SIMULATION]
    progress = ProgressWriter(engine, job_id, claim, attempt)
    progress.write(force=True)  # "prepare": the page shows the job started
    try:
        row, problem = station_week(engine, job_id)
        report = run_simulation(row, problem, progress)
    except Exception as exc:  # shown to the coordinator as the job's error
        record(engine, kind, job_id, claim, attempt, "failed", error=f"{type(exc).__name__}: {exc}")
        return
    progress.phase, progress.done = "done", progress.total
    progress.write(force=True)
    record(engine, kind, job_id, claim, attempt, "done", report)

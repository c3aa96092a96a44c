"""The record of a solve's phases, and the CP-SAT settings they share."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from matcher.params import SolveParams


@dataclass
class Phase:
    """What one CP-SAT run did."""

    name: str
    status: str
    seconds: float
    objective: float
    bound: float


def default_workers() -> int:
    """CP-SAT search workers: at least 8 so the portfolio keeps its LNS and bound workers."""
    return max(8, os.cpu_count() or 1)


def make_solver(seconds: float, workers: int | None, seed: int, log: bool) -> cp_model.CpSolver:
    """A CP-SAT solver with a time limit (never unlimited)."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, seconds)
    solver.parameters.num_workers = workers or default_workers()
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    return solver


def phase(name: str, solver: cp_model.CpSolver, status: cp_model.CpSolverStatus, seconds: float) -> Phase:
    """Summarise one CP-SAT run."""
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return Phase(
        name=name,
        status=solver.status_name(status),
        seconds=seconds,
        objective=solver.objective_value if found else math.nan,
        bound=solver.best_objective_bound,
    )


@dataclass
class Search:
    """Settings shared by the phases of one :func:`matcher.solve.solve` call, and their record."""

    deadline: float
    """When the search must end (``time.perf_counter()`` time), before the plan is written."""
    params: SolveParams = field(default_factory=SolveParams)
    phases: list[Phase] = field(default_factory=list)

    def solver(self, seconds: float) -> cp_model.CpSolver:
        """A solver for a phase of at most ``seconds``."""
        p = self.params
        return make_solver(seconds, p.workers, p.seed, p.log)

"""Large-neighbourhood search: re-optimise a cluster of volunteers at a time.

Each step frees a few dozen volunteers linked through shared candidate needs, keeps
every other assignment fixed, and solves the sub-model (same rules, same objective,
built by :func:`matcher.model.full.build` over the freed volunteers' pairs) exactly or
nearly so with CP-SAT.  The new assignments replace the old ones when they are at least
as good, so the plan never gets worse and always stays valid: a freed volunteer's
capacity is entirely inside the sub-model, and a need held by a fixed volunteer is left
out of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matcher.clock import Deadline, OutOfTimeError
from matcher.model.evaluate import coverage_units, primary_of
from matcher.model.full import LinliModel, build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.params import DEFAULTS
from matcher.search.transfer import extract, hint, hinted_objective


@dataclass
class LNSStats:
    """What a search did."""

    steps: int = 0
    improved: int = 0
    seconds: float = 0.0


def neighbourhood(inst: Instance, pairs: Pairs, seed: int, size: int, rng: np.random.Generator) -> list[int]:
    """Up to ``size`` volunteers reached from ``seed`` through shared candidate needs.

    Breadth-first over the volunteer-need graph, neighbours in random order, so clusters
    follow competition for the same needs (and so district boundaries).
    """
    chosen = [seed]
    seen = {seed}
    frontier = [seed]
    while frontier and len(chosen) < size:
        nxt: list[int] = []
        for v in frontier:
            needs = [int(pairs.need[p]) for p in pairs.by_vol[v]]
            rng.shuffle(needs)
            for n in needs:
                for q in pairs.by_need[n]:
                    w = int(pairs.vol[q])
                    if w not in seen:
                        seen.add(w)
                        chosen.append(w)
                        nxt.append(w)
                        if len(chosen) >= size:
                            return chosen
        frontier = nxt
    return chosen


def around_unmet(
    inst: Instance, pairs: Pairs, plan: Chosen, size: int, rng: np.random.Generator
) -> list[int] | None:
    """Volunteers who could take an unmet need (picked by value), then their neighbours.

    Gains come from placing an unmet need, which means moving what its candidates hold
    now; freeing exactly those volunteers targets the moves that can pay.
    """
    unmet = [n for n in np.flatnonzero(pairs.by_need.sizes()).tolist() if n not in plan]
    if not unmet:
        return None
    weights = inst.need_value[unmet].astype(float)
    n = unmet[int(rng.choice(len(unmet), p=weights / weights.sum()))]
    cand = [int(pairs.vol[p]) for p in pairs.by_need[n]]
    rng.shuffle(cand)
    chosen = cand[:size]
    if len(chosen) < size:
        extra = neighbourhood(inst, pairs, chosen[0], size, rng)
        chosen += [v for v in extra if v not in set(chosen)][: size - len(chosen)]
    return chosen


class Working:
    """A plan being improved one neighbourhood at a time, with the volunteer holding each need."""

    def __init__(self, pairs: Pairs, chosen: Chosen) -> None:
        self.pairs = pairs
        self.plan = dict(chosen)
        self.holder = {n: int(pairs.vol[p]) for n, (p, _) in self.plan.items()}

    def free(
        self, inst: Instance, volunteers: set[int], deadline: Deadline
    ) -> tuple[LinliModel, np.ndarray, Chosen] | None:
        """The sub-model of the freed volunteers, the pairs it numbers, and their part of
        the plan in its numbering (None if they have no pairs).

        A freed volunteer's capacity is entirely inside the sub-model, and a need held by a
        volunteer who is not freed is left out of it, so any plan of the sub-model can
        replace their part of the plan.  Raises OutOfTimeError past ``deadline``.
        """
        pairs, holder = self.pairs, self.holder
        keep = np.array(
            [
                p
                for v in sorted(volunteers)
                for p in pairs.by_vol[v]
                if holder.get(int(pairs.need[p]), v) in volunteers
            ],
            dtype=np.int64,
        )
        if len(keep) == 0:
            return None
        lm = build(inst, pairs.subset(inst, keep), deadline)
        local = {p: i for i, p in enumerate(keep.tolist())}
        current = {n: (local[p], slots) for n, (p, slots) in self.plan.items() if holder[n] in volunteers}
        return lm, keep, current

    def replace(self, current: Chosen, found: Chosen, keep: np.ndarray) -> None:
        """Put the sub-model's plan ``found`` (over the pairs ``keep``) in place of ``current``."""
        for n in current:
            del self.plan[n]
            del self.holder[n]
        for n, (q, slots) in found.items():
            p = int(keep[q])
            self.plan[n] = (p, slots)
            self.holder[n] = int(self.pairs.vol[p])


def step_solver(step_seconds: float, deadline: Deadline, rng: np.random.Generator) -> cp_model.CpSolver:
    """CP-SAT for one neighbourhood: one worker, a seed from ``rng``, the step's time limit."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, min(step_seconds, deadline.remaining()))
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(rng.integers(1 << 30))
    return solver


def improve(
    inst: Instance,
    pairs: Pairs,
    chosen: Chosen,
    deadline: Deadline,
    *,
    size: int = DEFAULTS.lns_size,
    step_seconds: float = DEFAULTS.lns_step_s,
    max_growth: int = DEFAULTS.lns_max_growth,
    seed: int = 0,
    max_stall: int | None = None,
    target: int | None = None,
    stop: Callable[[int], bool] | None = None,
    on_step: Callable[[cp_model.CpSolver], None] | None = None,
    on_gain: Callable[[Chosen], None] | None = None,
    stats: LNSStats | None = None,
) -> Chosen:
    """Improve a valid plan until the deadline.

    Parameters
    ----------
    inst, pairs
        The compiled problem and its eligible pairs.
    chosen
        A valid plan (need -> (pair, slots)); not modified.
    deadline
        When to stop.
    size
        Volunteers freed per step.
    step_seconds
        CP-SAT time limit per step.
    max_growth
        Neighbourhoods grow (when the search stalls) to at most this many times ``size``.
    seed
        Random seed (the search is deterministic for a seed when every step finishes).
    max_stall
        Stop after this many steps in a row without a gain (default: enough steps to
        free every volunteer about three times; 0: never, run to the deadline).
    target
        Stop once the plan covers this many coverage units (a bound: nothing more to gain).
    stop
        Called with the plan's coverage units before each step; the search stops when it
        returns True (a search beside another solver reports its progress this way).
    on_step
        Called with each step's CP-SAT solver before it solves (so that another thread can
        cut the step short with ``stop_search``).
    on_gain
        Called with a copy of the plan after each step that improves it.
    stats
        Filled in with what the search did.

    Returns
    -------
    Chosen
        A valid plan at least as good on coverage, then continuity.
    """
    stats = stats if stats is not None else LNSStats()
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    work = Working(pairs, chosen)
    active = np.flatnonzero(pairs.by_vol.sizes()).tolist()
    stall_limit = max_stall if max_stall is not None else max(10, 3 * len(active) // max(1, size))
    stall = 0
    grow = max(10, len(active) // max(1, size))
    largest = min(len(active), max_growth * size)
    covered = coverage_units(inst, work.plan)
    while (
        active
        and deadline.remaining() > 0.05
        and (stall_limit == 0 or stall < stall_limit)
        and (target is None or covered < target)
        and (stop is None or not stop(covered))
    ):
        stats.steps += 1
        stall += 1
        if stall % grow == 0 and size < largest:
            # Stuck at this size: widen the neighbourhoods (adaptive LNS), within bounds so
            # a sub-model never approaches the size of the whole city.
            size = min(largest, size * 2)
            step_seconds *= 2
        targeted = around_unmet(inst, pairs, work.plan, size, rng) if stats.steps % 2 == 0 else None
        free = set(targeted or neighbourhood(inst, pairs, int(rng.choice(active)), size, rng))
        try:
            step = work.free(inst, free, deadline)
        except OutOfTimeError:
            break
        if step is None:
            continue
        lm, keep, current = step
        before = primary_of(inst, lm.plan_of(current), lm.lex)
        hint(lm, current)
        solver = step_solver(step_seconds, deadline, rng)
        if on_step is not None:
            on_step(solver)
        status = solver.solve(lm.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        found = extract(lm, solver)
        after = primary_of(inst, lm.plan_of(found), lm.lex)
        if after < before:
            continue
        if after > before:
            stats.improved += 1
            stall = 0
        covered += coverage_units(inst, found) - coverage_units(inst, current)
        work.replace(current, found, keep)
        if after > before and on_gain is not None:
            on_gain(dict(work.plan))
    stats.seconds += time.perf_counter() - start
    return work.plan


def polish(
    inst: Instance,
    pairs: Pairs,
    chosen: Chosen,
    deadline: Deadline,
    *,
    size: int = DEFAULTS.polish_size,
    step_seconds: float = DEFAULTS.polish_step_s,
    seed: int = 0,
    max_stall: int | None = None,
    stats: LNSStats | None = None,
    tick: Callable[[], None] | None = None,
) -> Chosen:
    """Levels 2 and 3 of a plan whose coverage is settled, one neighbourhood at a time.

    Each step frees a cluster of volunteers (as :func:`improve` does) and solves their
    sub-model with coverage held at least where it was, maximising the secondary value
    (continuity; for a re-solve, stays and backs first) and then minimising travel and
    load spread (:meth:`matcher.model.full.LinliModel.polish`), as one exact objective.  Every
    term is a sum over volunteers, so the sub-model's gain is the plan's gain.  A
    full-model CP-SAT run at 300 volunteers found nothing in its half second (its presolve
    alone takes longer); sub-models of a dozen volunteers solve in about 25 ms.

    Parameters
    ----------
    inst, pairs
        The compiled problem and its eligible pairs.
    chosen
        A valid plan (need -> (pair, slots)); not modified.
    deadline
        When to stop.
    size
        Volunteers freed per step.
    step_seconds
        CP-SAT time limit per step.
    seed
        Random seed.
    max_stall
        Stop after this many steps in a row without a gain (default: enough steps to
        free every volunteer about twice).
    stats
        Filled in with what the search did.
    tick
        Called before each step (a progress heartbeat; the plan is the caller's once this
        returns).

    Returns
    -------
    Chosen
        A valid plan with the same coverage or more, secondary value at least as high, and
        at most the same travel and load at that secondary value.
    """
    stats = stats if stats is not None else LNSStats()
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    work = Working(pairs, chosen)
    active = np.flatnonzero(pairs.by_vol.sizes()).tolist()
    stall_limit = max_stall if max_stall is not None else max(2, 2 * len(active) // max(1, size))
    stall = 0
    while active and deadline.remaining() > 0.02 and stall < stall_limit:
        if tick is not None:
            tick()
        stats.steps += 1
        stall += 1
        free = set(neighbourhood(inst, pairs, int(rng.choice(active)), size, rng))
        try:
            step = work.free(inst, free, deadline)
        except OutOfTimeError:
            break
        if step is None:
            continue
        lm, keep, current = step
        lm.model.add(lm.coverage >= coverage_units(inst, current))
        lm.model.add(lm.secondary >= lm.secondary_of(current))
        lower = lm.polish()
        lm.model.minimize(lower)
        # One objective for both levels: a unit of the secondary value outweighs any
        # travel and load the sub-model can hold.
        weight = round(_largest(lm.model)) + 1
        lm.model.maximize(weight * lm.secondary - lower)
        hint(lm, current)
        before = hinted_objective(lm.model)
        solver = step_solver(step_seconds, deadline, rng)
        status = solver.solve(lm.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= before + 0.5:
            continue
        stats.improved += 1
        stall = 0
        work.replace(current, extract(lm, solver), keep)
    stats.seconds += time.perf_counter() - start
    return work.plan


def _largest(model: cp_model.CpModel) -> float:
    """The largest value the model's objective can take over its variables' domains
    (its terms are all minimised, so this is the largest term sum)."""
    objective = model.proto.objective
    total = 0.0
    for var, coef in zip(objective.vars, objective.coeffs, strict=True):
        domain = model.proto.variables[var].domain
        total += max(coef * domain[0], coef * domain[len(domain) - 1])
    return total

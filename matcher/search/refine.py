"""Levels 2-3 once coverage is proved: continuity, then travel and load.

Each never lowers a level above it.  On the full model (up to
:attr:`matcher.params.SolveParams.full_polish_max_pairs` pairs, or a re-solve's move
budget) each level is one CP-SAT phase hinted with the plan so far; above, one
neighbourhood search (:func:`matcher.search.lns.polish`) does both.  Either way for at most half
the time the first phase took, at least :attr:`matcher.params.SolveParams.min_polish_s`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from matcher.clock import Deadline, OutOfTimeError
from matcher.model.evaluate import coverage_units
from matcher.model.full import LinliModel, build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.params import SolveParams
from matcher.search import lns
from matcher.search.trace import Phase, Search, phase
from matcher.search.transfer import extract, hint


def full_model_settles(inst: Instance, pairs: Pairs, both_levels: bool, params: SolveParams) -> bool:
    """Whether the levels after a proved coverage are settled on the full model (which must
    then be built) rather than by neighbourhoods (:func:`matcher.search.lns.polish`).

    The full model is used where it solves them in its budget (up to
    ``params.full_polish_max_pairs`` pairs), and where neighbourhoods may not go: a re-solve's
    move budget spans the whole plan.  Nothing is needed when both levels are proved and
    level 3 is not asked for.
    """
    refine = params.refine
    if both_levels and not refine:
        return False
    return not refine or inst.move_budget is not None or len(pairs) <= params.full_polish_max_pairs


def settle_lower_levels(
    inst: Instance,
    pairs: Pairs,
    lm: LinliModel | None,
    plan: IndexedPlan,
    search: Search,
    both_levels: bool,
    tick: Callable[[], None] | None = None,
) -> IndexedPlan:
    """Once coverage is proved: level 2 if not proved with it, then level 3 if
    ``search.params.refine``.  ``tick``: a progress heartbeat, called at each step of the
    neighbourhood search.

    Returns the plan, improved or as it was.  On the full model (see :func:`full_model_settles`) each
    level is one CP-SAT phase with the levels before it fixed; otherwise one neighbourhood
    search does both (at 300 volunteers the full model's phases found nothing in their
    half second each, its presolve alone taking longer).  Either way for at most half the
    time the proof took, at least ``min_polish_s``.
    """
    refine = search.params.refine
    # The phases below work on a view of the plan and update it in place.
    chosen = plan.to_chosen()
    if not full_model_settles(inst, pairs, both_levels, search.params):
        if not refine:
            return plan
        t = time.perf_counter()
        budget = polish_budget(search)
        if budget <= 0.01:
            return plan
        stats = lns.LNSStats()
        p = search.params
        found = lns.polish(
            inst,
            pairs,
            chosen,
            Deadline(t + budget),
            size=p.polish_size,
            step_seconds=p.polish_step_s,
            seed=p.seed,
            stats=stats,
            tick=tick,
        )
        chosen.clear()
        chosen.update(found)
        search.phases.append(
            Phase(
                name="continuity+travel+load (neighbourhoods)",
                status=f"{stats.improved} of {stats.steps} steps improved",
                seconds=time.perf_counter() - t,
                objective=math.nan,
                bound=math.nan,
            )
        )
        return IndexedPlan.from_chosen(inst, pairs, chosen)
    if lm is None:
        try:
            lm = build(inst, pairs, Deadline(search.deadline))
        except OutOfTimeError:
            return plan  # out of time: the proved plan stands
    if not both_levels and lm.secondary_max:
        keep_secondary(lm, chosen, search)
    if refine:
        polish(lm, chosen, search)
    return IndexedPlan.from_chosen(inst, pairs, chosen)


def keep_secondary(lm: LinliModel, chosen: Chosen, search: Search) -> None:
    """Level 2 on its own: coverage fixed at its proved optimum, maximise continuity.

    (For a re-solve, the stays and backs that rank above continuity too.)
    """
    lm.model.add(lm.coverage >= coverage_units(lm.vars.inst, chosen))
    lm.model.maximize(lm.secondary)
    follow_up("continuity", lm, chosen, search)


def polish(lm: LinliModel, chosen: Chosen, search: Search) -> None:
    """Level 3: keep the levels 1-2 values reached, minimise travel and load spread."""
    lm.model.add(lm.coverage >= coverage_units(lm.vars.inst, chosen))
    lm.model.add(lm.secondary >= lm.secondary_of(chosen))
    lm.model.minimize(lm.polish())
    follow_up("travel+load", lm, chosen, search)


def polish_budget(search: Search) -> float:
    """Seconds for a phase after the proof: half the first phase's, at least
    ``min_polish_s``, never past the deadline."""
    first = search.phases[0].seconds if search.phases else 0.0
    return min(Deadline(search.deadline).remaining(), max(search.params.min_polish_s, first / 2))


def follow_up(name: str, lm: LinliModel, chosen: Chosen, search: Search) -> None:
    """Run a later phase, hinted with ``chosen``, for at most half the time phase 1 took.

    Updates ``chosen`` in place when CP-SAT finds a plan; the constraints already added
    keep every earlier level at least as good.
    """
    budget = polish_budget(search)
    if budget <= 0.01:
        return
    hint(lm, chosen)
    solver = search.solver(budget)
    t = time.perf_counter()
    status = solver.solve(lm.model)
    search.phases.append(phase(name, solver, status, time.perf_counter() - t))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen.clear()
        chosen.update(extract(lm, solver))

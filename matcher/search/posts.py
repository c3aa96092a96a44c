"""Solve a format-2 problem with posts: the exact posts model (:mod:`matcher.model.posts`) by HiGHS.

A greedy plan (:mod:`matcher.model.posts.greedy`) comes first, in milliseconds; then HiGHS's
branch-and-cut on the exported model (:func:`matcher.search.mip.solve_mip`), whose plan replaces
the greedy one when better.  At station size (300 volunteers, a tenth of needs posts) HiGHS
reached 0.2% of its bound in a minute, where CP-SAT's plan stayed 6-15% below, so HiGHS is the
default; ``prover="cp-sat"`` keeps CP-SAT, started from the greedy plan (both solve the same
model, so every plan keeps every rule).
The objective is levels 1-2 weighted into one (:mod:`matcher.model.posts.model`); the plan is
``optimal`` only when HiGHS closed the gap on it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from matcher.format.schema import Plan2, Problem2
from matcher.model.posts import model as posts_model
from matcher.model.posts.greedy import Team, greedy, hint, value_of
from matcher.model.posts.instance import PostInstance
from matcher.model.posts.model import PostsTooLargeError, build, plan_of
from matcher.model.posts.variables import PostVars
from matcher.search.mip import MipResult, lp_dual_bound, mip_input, solve_input

__all__ = ["PostsResult", "PostsTooLargeError", "solve_posts"]

LP_SHARE = 0.3
"""Most share of HiGHS's time for the LP relaxation's bound (2.4 s of 20 at station size, idle)."""


def _fix(pv: PostVars, fixed: dict[int, Team]) -> None:
    """Each fixed need runs at its slots with at least its volunteers."""
    for n, (team, slots) in fixed.items():
        pv.model.add(pv.run[n] == 1)
        for w in slots:
            pv.model.add(pv.chosen[n, w] == 1)
        for v in team:
            pv.model.add(pv.join[v, n] == 1)


@dataclass
class PostsResult:
    """The plan and the figures behind it (coverage and bound exact)."""

    plan: Plan2
    coverage: Fraction
    coverage_bound: Fraction
    pairs: int
    build_seconds: float


def solve_posts(
    problem: Problem2,
    time_limit: float,
    *,
    workers: int | None = None,
    prover: Literal["highs", "cp-sat"] = "highs",
    log: bool = False,
    start: dict[int, Team] | None = None,
    fixed: dict[int, Team] | None = None,
    inst: PostInstance | None = None,
) -> PostsResult:
    """Solve ``problem`` (format 2, with posts) on the exact posts model within ``time_limit`` seconds.

    ``start``, a plan (need index -> (volunteer indices, slots)) keeping every rule, is used as
    the start when it covers more than the greedy plan.  ``fixed`` assignments (a re-solve's
    kept ones) stay: their need runs at their slots with at least their volunteers (more may
    join, up to ``max``).  ``inst``: ``problem`` already compiled (:meth:`PostInstance.of`).

    Raises
    ------
    PostsTooLargeError
        When the problem has more than :data:`matcher.model.posts.model.MAX_PAIRS` eligible
        volunteer-need pairs.
    """
    started = time.monotonic()
    inst = inst or PostInstance.of(problem)
    if inst.pairs > posts_model.MAX_PAIRS:
        raise PostsTooLargeError(
            f"problem: {inst.pairs} eligible volunteer-need pairs, more than the {posts_model.MAX_PAIRS} "
            "the exact model of group posts (format 2) takes; solve it by district, or as format 1 "
            "without posts"
        )
    pv, coverage, _, k = build(inst)
    _fix(pv, fixed or {})
    first = greedy(inst, fixed=fixed)  # a valid plan in milliseconds, kept if the solver finds no better
    if start is not None and value_of(inst, start) > value_of(inst, first):
        first = start
    hint(pv, first)
    start_values = list(pv.model.proto.solution_hint.values)
    built = time.monotonic() - started
    left = max(0.05, time_limit - built)
    weight = k + 1
    upper = sum(pn.unit_value * pn.high for pn in inst.needs if len(pn.eligible) >= pn.low)
    coverage_vars = [(join.Index(), inst.needs[n].unit_value) for (_, n), join in pv.join.items()]
    value: Callable[[cp_model.IntVar], bool] | None = None
    if prover == "highs":
        # Without the start: started from it, HiGHS turns its own heuristics down and kept the
        # greedy plan for 45 s at station size, where on its own it reached 0.2% of its bound
        # in a minute.  The greedy plan stays the fallback.
        pv.model.clear_hints()  # type: ignore[no-untyped-call]
        result = _lp_then_mip(pv, start_values, time_limit - (time.monotonic() - started))
        greedy_covered = sum(start_values[i] * unit for i, unit in coverage_vars)
        rounded = start_values
        covered = greedy_covered
        proved_units = None
        if result.values is not None:
            mip_values = [round(x) for x in result.values]
            mip_covered = sum(mip_values[i] * unit for i, unit in coverage_vars)
            if mip_covered >= greedy_covered:
                rounded, covered = mip_values, mip_covered
                proved_units = covered if result.optimal else None
        bound_obj = result.bound

        def value(var: cp_model.IntVar) -> bool:
            return bool(rounded[var.Index()])

    else:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = workers or 8
        solver.parameters.log_search_progress = log
        status = solver.solve(pv.model)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if found:
            covered = round(solver.value(coverage))

            def value(var: cp_model.IntVar) -> bool:
                return bool(solver.boolean_value(var))

        else:  # no plan in time (its start is one): keep the start
            covered = sum(start_values[i] * unit for i, unit in coverage_vars)

            def value(var: cp_model.IntVar) -> bool:
                return bool(start_values[var.Index()])

        bound_obj = solver.best_objective_bound if found else None
        proved_units = covered if status == cp_model.OPTIMAL else None
    if proved_units is not None:
        bound = proved_units
    elif bound_obj is None or not math.isfinite(bound_obj):
        bound = upper
    else:
        bound = math.floor(bound_obj + 1e-6) // weight
    bound = max(covered, min(bound, upper))
    plan = plan_of(inst, pv, value, covered, bound, time.monotonic() - started)
    return PostsResult(plan, inst.coverage(covered), inst.coverage(bound), inst.pairs, built)


def _lp_then_mip(pv: PostVars, start_values: list[int], seconds: float) -> MipResult:
    """HiGHS on the model within ``seconds``: the LP relaxation's bound, then branch-and-cut.

    The LP's bound comes first: HiGHS's branch-and-cut spends seconds in presolve and root
    cuts at station size, and without its root it has no bound at all.  When the start
    (``start_values``, every variable) meets the LP's bound, it is optimal on both levels and
    branch-and-cut is skipped.  The result's bound is the lower of the two.
    """
    started = time.monotonic()
    inp = mip_input(pv.model)
    # The margin (0.5 s): writing the plan and its unmet reasons after HiGHS stops.
    lp_bound = lp_dual_bound(inp, max(0.05, LP_SHARE * (seconds - 0.5)))
    start_objective = inp.scale * (float(inp.cost @ np.asarray(start_values, dtype=float)) + inp.offset)
    if lp_bound is not None and math.floor(lp_bound + 1e-6) <= round(start_objective):
        return MipResult(optimal=False, values=None, objective=-math.inf, bound=lp_bound, seconds=0.0)
    left = seconds - (time.monotonic() - started) - 0.5
    result = solve_input(inp, max(0.05, left), threads=1)
    if lp_bound is not None and (
        result.bound is None or not math.isfinite(result.bound) or lp_bound < result.bound
    ):
        result = dataclasses.replace(result, bound=lp_bound)
    return result

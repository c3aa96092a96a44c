"""Helper processes beside the main search (``matcher.search.portfolio``); a deterministic solve."""

from __future__ import annotations

import time
from typing import Any

import pytest
from engine_support import (
    compiled,
    plan_of,
)
from helpers import (
    solve_and_check,
)
from oracles import mip_optimum, small_problem

from matcher.clock import Deadline
from matcher.format.validate import validate_plan
from matcher.model.evaluate import coverage_units, primary_of
from matcher.model.full import build
from matcher.model.plan import Chosen, IndexedPlan
from matcher.params import SolveParams
from matcher.search import colgen, greedy, proof, stages
from matcher.search.mip import solve_mip
from matcher.search.portfolio import STOP_WAIT_S, SearchBeside
from matcher.search.transfer import extract_values
from matcher.solve import solve


@pytest.mark.parametrize("seed", range(4))
def test_deterministic_solve_depends_on_the_problem_only(seed: int) -> None:
    """solve(deterministic=True): a valid plan, the same twice, flagged deterministic, exact when optimal."""
    problem = small_problem(seed)
    first = solve(problem, 20, deterministic=True, refine=False)
    second = solve(problem, 20, deterministic=True, refine=False)
    assert validate_plan(problem, first.plan) == []
    assert first.deterministic and second.deterministic
    assert first.plan.assignments == second.plan.assignments
    assert first.coverage <= first.coverage_bound
    if first.status == "optimal":
        assert first.coverage == mip_optimum(problem).coverage


@pytest.mark.parametrize("seed", range(4))
def test_search_beside_sends_its_plans_and_stops_when_told(seed: int) -> None:
    """The search in its own process reaches a small optimum, and stops at once when told or done."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    start = greedy.fill(inst, pairs)
    enough = int(opt.coverage * inst.scale)
    until = time.perf_counter() + 10
    search = SearchBeside(inst, pairs, start, enough, until, SolveParams(lns_size=8, seed=seed))
    while not search.report(-1) and time.perf_counter() < until:
        time.sleep(0.01)
    plan = search.result()
    assert validate_plan(problem, plan_of(problem, plan)) == []
    assert coverage_units(inst, plan) == search.covered == enough
    # told to stop long before its deadline, with a target out of reach
    endless = SearchBeside(
        inst, pairs, start, enough + 10**6, time.perf_counter() + 60, SolveParams(lns_size=8, seed=seed)
    )
    time.sleep(0.2)
    told = time.perf_counter()
    plan = endless.result()
    assert time.perf_counter() - told < STOP_WAIT_S  # it said it was done: it was not killed
    assert validate_plan(problem, plan_of(problem, plan)) == []
    # ended before it is asked for its plan (a stop signal then finds no one listening)
    ended = SearchBeside(
        inst, pairs, start, enough + 10**6, time.perf_counter(), SolveParams(lns_size=8, seed=seed)
    )
    time.sleep(0.2)
    assert ended.result() == start


@pytest.mark.parametrize("seed", range(8))
def test_pair_bounds_keep_the_optimum_and_the_pool_plan_is_valid(seed: int) -> None:
    """Zero pairs for a target at the optimum keep the MIP optimum; the pool's plan is valid, no worse."""
    problem, inst, pairs = compiled(seed)
    lm = build(inst, pairs, Deadline.after(10))
    best = solve_mip(lm.model, 20)
    assert best.optimal and best.values is not None
    optimum = round(best.objective)
    weight = lm.lex.weight
    start = greedy.fill(inst, pairs)
    cg = colgen.prove(inst, pairs, start, weight, Deadline.after(10))
    bounds = cg.pair_bounds(optimum, Deadline.after(10))
    zero = bounds.zero(optimum)
    fixed = solve_mip(lm.model, 20, zero=[lm.vars.x[p].index for p in zero])
    assert fixed.optimal and round(fixed.objective) == optimum
    assert all(bounds.bound[p] >= optimum for p, _ in extract_values(lm, best.values).values())

    def value(chosen: Chosen) -> int:
        return primary_of(inst, IndexedPlan.from_chosen(inst, pairs, chosen), lm.lex)

    floor = value(start) + 1
    pooled = cg.pair_bounds(floor, Deadline.after(10)).plan(inst, start, floor, optimum, Deadline.after(10))
    assert validate_plan(problem, plan_of(problem, pooled)) == []
    assert value(pooled) >= value(start)


def test_proof_beside_the_search_matches_the_exact_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no plan nor bound from the columns nor branching, HiGHS beside the search proves the optimum."""
    prove = colgen.prove
    searched: list[int] = []
    proving: list[int] = []
    prove_with_highs = proof.prove_with_highs

    def planless(*args: object, **kwargs: object) -> colgen.ColgenResult:
        # keep the multipliers (for pair fixing) but no plan and no bound: HiGHS must prove
        result = prove(*args, **kwargs)  # type: ignore[arg-type]
        result.found, result.primary, result.bound = None, -1, None
        return result

    class Counted(SearchBeside):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            searched.append(1)  # the search itself runs in another process
            super().__init__(*args, **kwargs)

    def highs(*args: object, **kwargs: object) -> object:
        proving.append(1)
        return prove_with_highs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(colgen, "prove", planless)
    # no coverage master, so no branching beside HiGHS: HiGHS proves
    monkeypatch.setattr(colgen.ColgenResult, "coverage_master", lambda *args: None)
    monkeypatch.setattr(stages, "SearchBeside", Counted)
    monkeypatch.setattr(proof, "prove_with_highs", highs)
    for seed in range(8):
        problem = small_problem(seed)
        opt = mip_optimum(problem)
        result = solve_and_check(problem, time_limit=20)
        assert result.status == "optimal"
        assert result.coverage == opt.coverage
        assert result.continuity == opt.continuity
    assert searched and proving

"""The MIP stage (``matcher.search.mip``, HiGHS) and the CP-SAT/full-model provers against the MIP oracle."""

from __future__ import annotations

import time

import numpy as np
import pytest
from engine_support import (
    compiled,
    plan_of,
)
from oracles import mip_optimum, small_problem

from matcher.format.validate import validate_plan
from matcher.model.full import build
from matcher.search import greedy
from matcher.search.mip import solve_input, solve_mip
from matcher.search.portfolio import MipBeside
from matcher.search.prebuild import prebuilt_of
from matcher.search.transfer import extract_indexed, hint
from matcher.solve import solve


@pytest.mark.parametrize("seed", range(4))
def test_cpsat_prover_matches_the_mip_too(seed: int) -> None:
    """The CP-SAT proving path (the fallback to HiGHS) reaches the same exact optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve(problem, 20, prover="cpsat")
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal"
    assert result.coverage == opt.coverage
    assert result.continuity == opt.continuity


@pytest.mark.parametrize("seed", range(4))
def test_full_model_prover_matches_the_mip_too(seed: int) -> None:
    """Without column generation, HiGHS on the full model reaches the same exact optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve(problem, 20, columns=False)
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal"
    assert result.coverage == opt.coverage
    assert result.continuity == opt.continuity


@pytest.mark.parametrize("seed", range(4))
def test_highs_stopped_at_its_first_bound_keeps_a_true_bound(seed: int) -> None:
    """solve_mip stopped by its callback as soon as it can be returns a bound never below the optimum."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    lm = build(inst, pairs)
    hint(lm, greedy.fill(inst, pairs))
    calls: list[tuple[float, float]] = []

    def stop(value: float, bound: float) -> bool:
        calls.append((value, bound))
        return True

    result = solve_mip(lm.model, 20, stop=stop)
    weight = lm.lex.weight
    assert result.bound is not None
    assert result.bound >= weight * opt.coverage * inst.scale + opt.continuity
    assert all(bound >= value for value, bound in calls)
    if calls:
        assert not result.optimal or result.objective >= result.bound - 0.5


@pytest.mark.parametrize("seed", range(3))
def test_mip_built_beside_is_the_mip_built_here(seed: int) -> None:
    """The forked builder sends the same HiGHS input (matrix, bounds, cost, start) and literal map."""
    problem, inst, pairs = compiled(seed)
    start = greedy.fill(inst, pairs)
    zero = list(range(0, len(pairs), 3))
    beside = MipBeside(inst, pairs, time.perf_counter() + 20)
    got = beside.request(start, zero, time.perf_counter() + 20)
    assert got is not None
    lm = build(inst, pairs)
    hint(lm, start)
    here = prebuilt_of(lm, zero)
    assert (got.mip.a != here.mip.a).nnz == 0
    for name in ("row_lo", "row_hi", "col_lo", "col_hi", "cost", "start"):
        assert np.array_equal(getattr(got.mip, name), getattr(here.mip, name)), name
    assert (got.mip.scale, got.mip.offset) == (here.mip.scale, here.mip.offset)
    assert got.literals == here.literals and got.lex == here.lex
    values = solve_input(got.mip, 20).values
    assert values is not None
    found = extract_indexed(inst, pairs, got.literals, values)
    assert validate_plan(problem, plan_of(problem, found)) == []


def test_mip_beside_gives_up_cleanly() -> None:
    """Out of time while building, the builder answers None at once; told to end, it ends."""
    _, inst, pairs = compiled(0)
    late = MipBeside(inst, pairs, time.perf_counter() - 1)
    t = time.perf_counter()
    assert late.request({}, [], time.perf_counter() + 10) is None
    assert time.perf_counter() - t < 5
    unused = MipBeside(inst, pairs, time.perf_counter() + 20)
    unused.close()
    assert not unused._proc.is_alive()

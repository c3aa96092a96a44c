"""Exact oracles, independent of the engine's model, against the solver's optimum.

* a brute-force search over every plan of tiny problems (<= 4 volunteers, <= 6 needs), which
  also gives the lexicographic second level (most ``previous`` pairs kept among the
  coverage-optimal plans);
* a MIP written from FORMAT.md and solved with ``scipy.optimize.milp`` (HiGHS) for small
  problems (<= 15 volunteers, <= 25 needs), in two stages: coverage, then continuity.

Both oracles share only the schema and the rule helpers of ``helpers.py`` (written from the
spec) with the engine; each oracle's own witness plan is checked by ``validate_plan`` too, so a
too-permissive oracle cannot pass unnoticed.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from helpers import (
    random_problem,
    solve_and_check,
    statically_eligible,
)
from oracles import brute_force, mip_optimum, small_problem, tiny_problem, witness_plan

from matcher.format.schema import Problem
from matcher.format.validate import validate_plan

BRUTE_FORCE_SEEDS = range(40)
MIP_SEEDS = range(20)


# ---------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", BRUTE_FORCE_SEEDS)
def test_solver_matches_brute_force(seed: int) -> None:
    """On a tiny random problem the solver's coverage and continuity equal the exhaustive optimum."""
    problem = tiny_problem(seed)
    opt = brute_force(problem)
    assert validate_plan(problem, witness_plan(problem, opt)) == []
    result = solve_and_check(problem, time_limit=10)
    assert result.status == "optimal"
    assert result.coverage == opt.coverage
    assert result.coverage_bound >= opt.coverage
    assert result.continuity == opt.continuity


def test_brute_force_instances_are_not_trivial() -> None:
    """The tiny problems exercise the hard parts: binding capacity and previous pairs kept."""
    binding = kept = 0
    for seed in BRUTE_FORCE_SEEDS:
        problem = tiny_problem(seed)
        opt = brute_force(problem)
        taken = {a.need for a in opt.assignments}
        eligible = {
            n.id for n in problem.needs if any(statically_eligible(problem, v, n) for v in problem.volunteers)
        }
        binding += bool(eligible - taken)
        kept += opt.continuity > 0
    assert binding >= 5, binding
    assert kept >= 5, kept


# ----------------------------------------------------------------------------------- MIP


@pytest.mark.parametrize("seed", MIP_SEEDS)
def test_solver_matches_mip(seed: int) -> None:
    """On a small random problem the solver's optimum equals the independent MIP's, both levels."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    assert validate_plan(problem, witness_plan(problem, opt)) == []
    result = solve_and_check(problem, time_limit=20)
    assert result.status == "optimal"
    assert abs(float(result.coverage - opt.coverage)) <= 1e-6
    assert result.coverage == opt.coverage
    assert result.coverage_bound >= opt.coverage
    assert result.continuity == opt.continuity


def test_mip_agrees_with_brute_force() -> None:
    """The two oracles agree with each other on the tiny problems."""
    for seed in range(10):
        problem = tiny_problem(seed)
        bf, mip = brute_force(problem), mip_optimum(problem)
        assert (bf.coverage, bf.continuity) == (mip.coverage, mip.continuity), seed


def test_oracles_on_the_example(example_problem: Problem) -> None:
    """Sanity: on the shared example both oracles give coverage 43 and continuity 1."""
    bf, mip = brute_force(example_problem), mip_optimum(example_problem)
    assert (bf.coverage, bf.continuity) == (Fraction(43), 1)
    assert (mip.coverage, mip.continuity) == (Fraction(43), 1)


def test_short_time_limits_never_overstate_optimality() -> None:
    """Cut-short solves keep coverage_bound >= the MIP optimum and claim optimal only at it."""
    problem = random_problem(random.Random(0), volunteers=40, needs=60, beneficiaries=35)
    opt = mip_optimum(problem)
    build = solve_and_check(problem, time_limit=10).build_seconds
    # limits just past the model build, where CP-SAT is stopped before or soon after its first plan
    for extra in (0.012, 0.02, 0.03, 0.05, 0.08):
        for _ in range(2):
            result = solve_and_check(problem, time_limit=build + extra)
            assert result.coverage <= opt.coverage
            assert result.coverage_bound >= opt.coverage, (extra, result.status, result.phases)
            if result.status == "optimal":
                assert result.coverage == opt.coverage, (extra, result.phases)

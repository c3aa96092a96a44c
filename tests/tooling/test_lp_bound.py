"""The natural model's LP bound (``benchmarks/lp_bound.py``) against exact optima."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import make_problem, random_problem, statically_eligible, to_problem, volunteer
from oracles import mip_optimum

# `benchmarks` is not an installed package: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.lp_bound import (
    Multipliers,
    Structure,
    build_lp,
    eligible_pairs,
    lp_bound,
    lp_bound_report,
    price,
    solve_lp,
)
from matcher.format.schema import Problem
from matcher.model.instance import Instance

SEEDS = range(6)


def small(seed: int) -> Problem:
    """A random problem of 6-15 volunteers and 12-25 needs with capacity that binds."""
    rng = random.Random(2000 + seed)
    return random_problem(
        rng,
        volunteers=rng.randint(6, 15),
        needs=rng.randint(12, 25),
        n_slots=rng.choice((None, 6, 8)),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_bound_is_at_least_the_optimum(seed: int) -> None:
    """On a small random problem the LP bound is at least the exact (MIP) optimum coverage."""
    problem = small(seed)
    bound = lp_bound(problem, time_limit=30)
    assert bound is not None
    assert bound >= float(mip_optimum(problem).coverage) - 1e-6


def test_example_bound(example_problem: Problem) -> None:
    """On the shared example the LP bound is at least its optimum, 43."""
    bound = lp_bound(example_problem, time_limit=30)
    assert bound is not None
    assert bound >= 43 - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_pairs_follow_the_spec(seed: int) -> None:
    """The LP's pairs are exactly those the spec's static rules allow (``helpers.statically_eligible``)."""
    problem = small(seed)
    pairs = eligible_pairs(Instance.from_problem(problem))
    got = set(zip(pairs.vol.tolist(), pairs.need.tolist(), strict=True))
    want = {
        (vi, ni)
        for ni, n in enumerate(problem.needs)
        for vi, v in enumerate(problem.volunteers)
        if statically_eligible(problem, v, n)
    }
    assert got == want


def test_any_multipliers_give_a_bound() -> None:
    """The Lagrangian bound is above the LP optimum for arbitrary multipliers, and meets it at the duals."""
    problem = small(0)
    inst = Instance.from_problem(problem)
    pairs = eligible_pairs(inst)
    structure = Structure.of(inst, pairs)
    model = build_lp(inst, pairs, structure)
    solution = solve_lp(model, 30, "dual-simplex")
    assert solution.optimal
    at_duals, _, _ = price(inst, pairs, structure, Multipliers.of(model, solution.row_dual))
    assert at_duals == pytest.approx(solution.objective, abs=1e-6)
    rng = np.random.default_rng(0)
    for _ in range(5):
        noisy = Multipliers.of(model, -rng.exponential(2.0, model.n_rows))
        assert price(inst, pairs, structure, noisy)[0] >= solution.objective - 1e-6


def test_restricted_lp_duals_still_bound() -> None:
    """Duals of the LP over half the pairs still bound the full LP's optimum from above."""
    problem = small(1)
    inst = Instance.from_problem(problem)
    pairs = eligible_pairs(inst)
    structure = Structure.of(inst, pairs)
    full = solve_lp(build_lp(inst, pairs, structure), 30, "dual-simplex")
    half = build_lp(inst, pairs, structure, np.arange(0, len(pairs), 2))
    restricted = solve_lp(half, 30, "dual-simplex")
    assert restricted.objective <= full.objective + 1e-6
    assert (
        price(inst, pairs, structure, Multipliers.of(half, restricted.row_dual))[0] >= full.objective - 1e-6
    )


def test_no_pairs() -> None:
    """A problem where nobody can take anything has bound 0 and an empty LP."""
    problem = to_problem(make_problem(volunteers=[volunteer(skills=["tutoring"])]))
    report = lp_bound_report(problem)
    assert report.bound == 0.0
    assert report.pairs == 0

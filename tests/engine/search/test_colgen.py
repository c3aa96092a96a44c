"""Column generation (``matcher.search.colgen``): bounds and pricing against brute force and the MIP."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_support import (
    brute_price,
    compiled,
    plan_of,
    small_volunteers,
)
from oracles import mip_optimum

from matcher.clock import Deadline
from matcher.format.validate import validate_plan
from matcher.model.evaluate import LexObjective, primary_of
from matcher.model.plan import IndexedPlan
from matcher.search import colgen, greedy
from matcher.solve import solve


@pytest.mark.parametrize("seed", range(6))
def test_column_bound_is_never_below_the_optimum(seed: int) -> None:
    """The Lagrangian bound of column generation holds, and its plan is valid."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    weight = LexObjective.of_columns(inst, pairs).weight
    result = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    assert result.bound is not None and result.found is not None
    assert result.bound >= weight * opt.coverage * inst.scale + opt.continuity
    assert validate_plan(problem, plan_of(problem, result.found)) == []
    found = IndexedPlan.from_chosen(inst, pairs, result.found)
    assert result.primary == primary_of(inst, found, LexObjective.of_columns(inst, pairs))


@pytest.mark.parametrize("seed", [93, 139, 168, 196, *range(4)])
def test_coverage_bound_holds_and_equals_the_coverage_only_master(seed: int) -> None:
    """From the primary columns and basis, the coverage bound holds and equals a fresh coverage-only run's."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    weight = LexObjective.of_columns(inst, pairs).weight
    start = greedy.fill(inst, pairs)
    cg = colgen.prove(inst, pairs, start, weight, Deadline.after(20))
    assert cg.bound is not None
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound is not None
    units = master.bound
    assert opt.coverage * inst.scale <= units <= cg.bound // weight
    fresh = colgen.prove(dataclasses.replace(inst, previous=[]), pairs, start, 1, Deadline.after(20))
    assert units == fresh.bound


def test_coverage_bound_proves_what_the_primary_bound_cannot() -> None:
    """On a problem whose primary bound carries a unit of continuity, the columns alone prove coverage."""
    problem, inst, pairs = compiled(196)
    opt = mip_optimum(problem)
    weight = LexObjective.of_columns(inst, pairs).weight
    cg = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    assert cg.bound is not None and cg.bound // weight == opt.coverage * inst.scale + 1
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound == opt.coverage * inst.scale
    result = solve(problem, 20)
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal" and result.coverage == opt.coverage == result.coverage_bound
    assert [p.name for p in result.phases if "HiGHS" in p.name] == []


def test_pricing_matches_brute_force() -> None:
    """A volunteer's pricing (pruned by the hours, slots and beneficiaries left) finds the exact best set."""
    checked = 0
    for inst, pairs, v, rng in small_volunteers(range(10), 11):
        bens = {int(inst.need_ben[int(pairs.need[p])]) for p in pairs.by_vol[v]}
        previous = set(rng.choice(sorted(bens), size=min(2, len(bens)), replace=False).tolist())
        vol = colgen.Volunteer(inst, pairs, v, 3, previous)
        for _ in range(3):
            lam = np.floor(rng.uniform(0, 3, inst.n_needs) * inst.need_value * 1024) / 1024
            value, items = vol.price(lam, Deadline.after(5))
            assert value == brute_price(vol, lam)
            assert value == (vol.worth(items) - sum(lam[vol.need[i]] for i in items) if items else 0.0)
            checked += 1
    assert checked > 100


def test_pricing_cut_short_returns_an_upper_bound() -> None:
    """A volunteer's pricing stopped after one step returns at least the exact maximum (a bound)."""
    cut_short = 0
    for inst, pairs, v, rng in small_volunteers(range(6), 10**6):
        vol = colgen.Volunteer(inst, pairs, v, 1, set())
        for _ in range(5):
            lam = np.floor(rng.uniform(0, 1, inst.n_needs) * inst.need_value * 1024) / 1024
            exact, _ = vol.price(lam, Deadline.after(5))
            short, items = vol.price(lam, Deadline.after(5), max_steps=1)
            assert short >= exact
            assert vol.worth(items) - sum(lam[vol.need[i]] for i in items) <= exact + 1e-9
            cut_short += short > exact
    assert cut_short > 0

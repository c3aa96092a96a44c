"""The city-size bound and path (``matcher.search.citybound``)."""

from __future__ import annotations

import time

import pytest
from engine_support import (
    DEFAULTS,
)
from helpers import (
    solve_and_check,
)
from oracles import mip_optimum, small_problem

from matcher.clock import Deadline
from matcher.model.eligibility import build_pairs
from matcher.model.instance import Instance
from matcher.params import SolveParams
from matcher.search import citybound, greedy
from matcher.synth.generate import generate_city


def test_city_path_is_valid_and_keeps_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the full-model size the LNS path returns a valid plan, better than greedy, in time."""
    problem = generate_city(400, 300, seed=3)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    greedy_units = sum(int(inst.need_value[n]) for n in greedy.fill(inst, pairs))
    start = time.perf_counter()
    result = solve_and_check(problem, time_limit=3, params=SolveParams(full_model_max_pairs=100))
    assert time.perf_counter() - start < 3 + 1.0
    assert result.coverage * inst.scale >= greedy_units
    assert result.coverage <= result.coverage_bound


@pytest.mark.parametrize(
    ("max_core_pairs", "price_steps"),
    [
        (DEFAULTS.city_max_core_pairs, DEFAULTS.city_price_steps),
        (0, DEFAULTS.city_price_steps),
        (DEFAULTS.city_max_core_pairs, 1),
    ],
    ids=["whole-core", "split-by-district", "pricing-cut-short"],
)
def test_city_bound_is_never_below_the_optimum(max_core_pairs: int, price_steps: int) -> None:
    """The city bound holds from any plan (whole or split core, exact or short pricing), often below reach."""
    params = SolveParams(city_max_core_pairs=max_core_pairs, city_price_steps=price_steps)
    below = 0
    for seed in range(12):
        problem = small_problem(seed)
        inst = Instance.from_problem(problem)
        pairs = build_pairs(inst)
        opt_units = mip_optimum(problem).coverage * inst.scale
        reachable = int(inst.need_value[pairs.by_need.sizes() > 0].sum())
        for plan in ({}, greedy.fill(inst, pairs)):
            result = citybound.bound(inst, pairs, plan, Deadline.after(20), params)
            assert opt_units <= result.units <= reachable
            below += result.units < reachable
    assert below > 0


@pytest.mark.parametrize("seed", range(4))
def test_city_path_bound_is_never_below_the_optimum(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """solve() at city size (bound computed beside the search) never reports a bound below the optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve_and_check(problem, time_limit=3, params=SolveParams(full_model_max_pairs=10))
    assert result.coverage <= opt.coverage <= result.coverage_bound

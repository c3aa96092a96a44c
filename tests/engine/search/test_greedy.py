"""The greedy stage (``matcher.search.greedy``): its plans are valid and never beaten by solve."""

from __future__ import annotations

import random

import pytest
from engine_support import (
    plan_of,
)
from helpers import (
    random_problem,
)
from oracles import small_problem

from matcher.format.schema import Assignment, Objective, Plan, Unmet
from matcher.format.validate import validate_plan
from matcher.model.eligibility import build_pairs
from matcher.model.instance import Instance
from matcher.search import greedy
from matcher.solve import solve
from matcher.synth.generate import generate_city


@pytest.mark.parametrize("seed", range(12))
def test_greedy_plan_is_always_valid(seed: int) -> None:
    """The greedy hint is a valid plan, also when it tops up part of another plan."""
    rng = random.Random(seed)
    problem = random_problem(rng, volunteers=rng.randint(3, 20), needs=rng.randint(5, 40))
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    chosen = greedy.fill(inst, pairs)
    assert validate_plan(problem, plan_of(problem, chosen)) == []
    half = dict(list(chosen.items())[: len(chosen) // 2])
    topped = greedy.fill(inst, pairs, half)
    assert set(half) <= set(topped)
    assert validate_plan(problem, plan_of(problem, topped)) == []


def test_plan_helper_rejects_a_broken_plan() -> None:
    """plan_of feeds the validator faithfully: a plan with a need taken twice is refused."""
    problem = small_problem(0)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    chosen = greedy.fill(inst, pairs)
    plan = plan_of(problem, chosen)
    first = plan.assignments[0]
    broken = Plan(
        format=1,
        status="feasible",
        assignments=[
            *plan.assignments,
            Assignment(need=first.need, volunteer=first.volunteer, slots=first.slots),
        ],
        unmet=[Unmet(need=u.need, reasons=u.reasons) for u in plan.unmet],
        objective=Objective(**plan.objective.model_dump()),
        solve_seconds=0.0,
    )
    assert validate_plan(problem, broken) != []


def test_solve_returns_at_least_the_greedy_plan() -> None:
    """Whatever CP-SAT does in a short run, the plan is never worse than the greedy hint."""
    problem = generate_city(150, 110, seed=5)
    inst = Instance.from_problem(problem)
    greedy_units = sum(int(inst.need_value[n]) for n in greedy.fill(inst, build_pairs(inst)))
    result = solve(problem, 0.5)
    assert validate_plan(problem, result.plan) == []
    assert result.coverage * inst.scale >= greedy_units

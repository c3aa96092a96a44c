"""The city route of posts (matcher.search.posts_city), forced on small generated cities."""

from __future__ import annotations

import pytest

from matcher.format.schema import Plan, Plan2, Problem, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.search import posts_city
from matcher.solve import solve, solve_any
from matcher.synth.generate import generate_city_with_posts


def _one_to_one(problem: Problem, seconds: float) -> Plan:
    return solve(problem, min(seconds, 3.0)).plan


def _city(seed: int) -> Problem2:
    return generate_city_with_posts(60, 45, seed=seed, posts=0.3, time_limit_s=10.0)


@pytest.mark.parametrize("seed", [1, 3])
def test_city_route_plan_is_valid_and_below_the_optimum(seed: int) -> None:
    problem = _city(seed)
    result = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert validate_plan2(problem, result.plan) == []
    mins = {n.id: n.volunteers.min for n in problem.needs}
    assert all(len(a.volunteers) >= mins[a.need] for a in result.plan.assignments)
    assert result.posts_run > 0
    exact = solve_any(problem, 20.0)  # station route: proves its optimum at this size
    assert exact.route == "posts"
    assert result.coverage <= exact.coverage_bound
    assert result.coverage <= result.coverage_bound


def test_the_repair_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the repair, seats filled below a post's minimum (or without its lead) reach the plan
    and the validator refuses it; with it, the plan is valid."""
    problem = _city(1)
    repaired = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert repaired.repaired + repaired.released > 0
    monkeypatch.setattr(posts_city, "_repair", lambda *args: (0, 0))
    broken = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert validate_plan2(problem, broken.plan) != []


def test_solve_any_routes_large_problems_to_the_city_route(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _city(2)
    monkeypatch.setattr("matcher.solve.CITY_CANDIDATES", 0)
    result = solve_any(problem, 6.0)
    assert result.route == "posts-city"
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == []

"""Rule 10 (post_size): a post runs with min..max volunteers, and none when it does not run."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes


def test_size_alone() -> None:
    problem = problem2([vol("v1"), vol("v2"), vol("v3"), vol("v4")], [post(low=2, high=3)])
    rules = ["post_size", "post_sessions"]
    assert allows(problem, rules, {"n1": (["v1", "v2"], ["sat-am"])})
    assert allows(problem, rules, {"n1": (["v1", "v2", "v3"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["v1", "v2", "v3", "v4"], ["sat-am"])})
    assert allows(problem, rules, {})


def test_solve_takes_up_to_max_and_says_how_many_more() -> None:
    plan = solve_checked(problem2([vol("v1"), vol("v2"), vol("v3")], [post(low=2, high=5)]))
    assert teams(plan)["n1"][0] == ["v1", "v2", "v3"]
    assert plan.assignments[0].places_open == 2
    assert plan.objective.coverage == 3 * 2 * 1 * 3


def test_below_min_the_post_does_not_run() -> None:
    plan = solve_checked(problem2([vol("v1"), vol("v2", availability=["sat-pm"])], [post(low=2, high=3)]))
    assert unmet(plan) == {"n1": [codes.NO_AVAILABLE_SLOT, codes.TOO_FEW_VOLUNTEERS_TOGETHER]}
    assert plan.objective.coverage == 0

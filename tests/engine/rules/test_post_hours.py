"""Rule 5 for posts (post_hours): every post a volunteer is on counts its hours x sessions."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, vol


def test_hours_alone() -> None:
    problem = problem2([vol("v1", max_hours=3)], [post("n1"), post("n2", site="s2")])
    rules = ["post_hours"]
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n2": (["v1"], ["sun-am"])})
    assert allows(problem, rules, {"n1": (["v1"], ["sat-am"])})


def test_solve_keeps_hours() -> None:
    problem = problem2(
        [vol("v1", max_hours=3), vol("v2")], [post("n1", high=2), post("n2", site="s2", high=2)]
    )
    plan = solve_checked(problem)
    assert plan.objective.coverage == 3 * 2 * 3  # three volunteer-sessions of 2 h at priority 3

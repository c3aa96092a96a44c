"""Rule 1 for posts (post_sessions): a running post has exactly ``sessions`` chosen windows."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, vol


def test_sessions_alone() -> None:
    problem = problem2([vol("v1")], [post(sessions=2, windows=["sat-am", "sat-pm", "sun-am"])])
    rules = ["post_sessions"]
    assert allows(problem, rules, {"n1": (["v1"], ["sat-am", "sun-am"])})
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am", "sat-pm", "sun-am"])})


def test_solve_chooses_sessions_slots() -> None:
    plan = solve_checked(problem2([vol("v1")], [post(sessions=2, windows=["sat-am", "sat-pm", "sun-am"])]))
    assert len(teams(plan)["n1"][1]) == 2

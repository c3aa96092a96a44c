"""Rules 1 and 3 for posts (post_together): everyone on a post is free at every chosen window."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes


def test_together_alone() -> None:
    problem = problem2(
        [vol("v1", availability=["sat-am"]), vol("v2", availability=["sun-am"]), vol("v3")],
        [post(low=1, high=3)],
    )
    rules = ["post_together"]
    assert allows(problem, rules, {"n1": (["v1", "v3"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["v1", "v2"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["v2"], ["sat-am"])})


def test_two_sessions_need_a_team_free_at_both() -> None:
    """v1 is free only on Saturday, v2 only on Sunday: free at one window each, never together."""
    problem = problem2(
        [
            vol("v1", availability=["sat-am", "sun-am"]),
            vol("v2", availability=["sat-am", "sun-am", "sat-pm"]),
        ],
        [post(low=2, high=2, sessions=2, windows=["sat-am", "sun-am", "sat-pm"])],
    )
    plan = solve_checked(problem)
    assert teams(plan) == {"n1": (["v1", "v2"], ["sat-am", "sun-am"])}
    apart = problem2(
        [vol("v1", availability=["sat-am", "sat-pm"]), vol("v2", availability=["sun-am", "sat-pm"])],
        [post(low=2, high=2, sessions=2, windows=["sat-am", "sun-am", "sat-pm"])],
    )
    assert unmet(solve_checked(apart)) == {"n1": [codes.TOO_FEW_VOLUNTEERS_TOGETHER]}

"""Rule 4 for posts (post_slots): a volunteer serves one session per slot, across posts."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, vol


def test_slots_alone() -> None:
    problem = problem2([vol("v1"), vol("v2")], [post("n1", high=2), post("n2", site="s2", high=2)])
    rules = ["post_together", "post_slots"]
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n2": (["v1"], ["sat-am"])})
    assert allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n2": (["v1"], ["sun-am"])})
    assert allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n2": (["v2"], ["sat-am"])})
    assert allows(problem, ["post_together"], {"n1": (["v1"], ["sat-am"]), "n2": (["v1"], ["sat-am"])})


def test_two_posts_at_one_slot_split_the_volunteers() -> None:
    problem = problem2(
        [vol("v1", availability=["sat-am"]), vol("v2", availability=["sat-am"])],
        [
            post("n1", high=2, windows=["sat-am"]),
            post("n2", site="s2", high=2, windows=["sat-am"], priority=2),
        ],
    )
    plan = solve_checked(problem)
    assert teams(plan) == {"n1": (["v1", "v2"], ["sat-am"])}

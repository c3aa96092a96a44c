"""Rule 6 for posts (post_places): max_beneficiaries counts distinct places, a site as one."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, vol


def test_places_alone() -> None:
    problem = problem2(
        [vol("v1", max_beneficiaries=1)],
        [post("n1"), post("n2", site="s2"), post("n3", windows=["sat-pm"])],
    )
    rules = ["post_places"]
    assert not allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n2": (["v1"], ["sun-am"])})
    assert allows(problem, rules, {"n1": (["v1"], ["sat-am"]), "n3": (["v1"], ["sat-pm"])})  # one site, twice


def test_solve_counts_a_site_once() -> None:
    problem = problem2(
        [vol("v1", max_beneficiaries=1)],
        [post("n1"), post("n2", site="s2", priority=1), post("n3", windows=["sat-pm"])],
    )
    plan = solve_checked(problem)
    assert sorted(a.need for a in plan.assignments) == ["n1", "n3"]

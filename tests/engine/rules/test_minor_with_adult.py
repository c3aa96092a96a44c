"""Rule 12 (minor_with_adult): a minor on a group post serves beside an adult; rule 8 stays a filter."""

from __future__ import annotations

from posts_support import allows, post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes


def test_minor_with_adult_alone() -> None:
    problem = problem2(
        [vol("m1", minor=True), vol("m2", minor=True), vol("a1")], [post(low=1, high=3, minor_ok=True)]
    )
    rules = ["minor_with_adult"]
    assert not allows(problem, rules, {"n1": (["m1"], ["sat-am"])})
    assert not allows(problem, rules, {"n1": (["m1", "m2"], ["sat-am"])})
    assert allows(problem, rules, {"n1": (["m1", "m2", "a1"], ["sat-am"])})
    assert allows(problem, rules, {"n1": (["a1"], ["sat-am"])})


def test_one_person_need_keeps_format_1s_rule() -> None:
    """A 1/1 minor_ok need: a minor alone is fine (rule 8 only)."""
    plan = solve_checked(problem2([vol("m1", minor=True)], [post(minor_ok=True)]))
    assert teams(plan)["n1"][0] == ["m1"]


def test_only_minors_free_together() -> None:
    problem = problem2(
        [vol("m1", minor=True), vol("m2", minor=True), vol("a1", availability=["sat-pm"])],
        [post(low=2, high=3, minor_ok=True)],
    )
    assert unmet(solve_checked(problem)) == {"n1": [codes.NO_AVAILABLE_SLOT, codes.NO_ADULT_ALONGSIDE]}


def test_minors_not_on_posts_not_minor_ok() -> None:
    plan = solve_checked(problem2([vol("m1", minor=True), vol("a1")], [post(low=1, high=2)]))
    assert teams(plan)["n1"][0] == ["a1"]
    assert plan.assignments[0].places_open == 1

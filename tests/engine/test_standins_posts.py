"""Stand-ins and the swap in a format-2 week (group posts, :mod:`matcher.standins_posts`).

The lists are held to the independent validator (:func:`matcher.format.validate2.validate_plan2`,
which shares nothing with the stand-ins' code): with room for everyone, a volunteer is listed
for a member's place (or a one-to-one session) exactly when the swap that puts them there gives a
valid plan, and the lists are in format 1's order (:func:`matcher.standins.rank_key`).
"""

from __future__ import annotations

import pytest
from helpers import Doc
from hypothesis import given
from posts_support import post, problem2, vol
from strategies import SETTINGS, post_problems

from matcher.format.errors import InputError
from matcher.format.evaluate import continuity2_of, coverage2_of
from matcher.format.io import parse_problem
from matcher.format.schema import Plan2, PostAssignment, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.resolve_posts import apply_changes2
from matcher.solve import solve_any
from matcher.standins import Standin, rank_key
from matcher.standins_posts import standins2, swap2


def _valid_swap(problem: Problem2, plan: Plan2, need: str, leaving: str, v: str, slot: str | None) -> bool:
    try:
        changes, new = swap2(problem, plan, need, leaving, v, slot)
    except InputError:
        return False
    return validate_plan2(apply_changes2(problem, changes), new) == []


def _in_order(listed: list[Standin], problem: Problem2) -> None:
    position = {v.id: i for i, v in enumerate(problem.volunteers)}
    keys = [(*rank_key(s), position[s.volunteer]) for s in listed]
    assert keys == sorted(keys)


def check_plan(problem: Problem2, plan: Plan2) -> int:
    """Every list of every member is exactly the volunteers whose swap validates, in ranked order;
    the number of stand-ins listed."""
    k = len(problem.volunteers)
    found = standins2(problem, plan, k)
    assert [(f.need, f.volunteer) for f in found] == [
        (a.need, v) for a in plan.assignments for v in a.volunteers
    ]
    needs = {n.id: n for n in problem.needs}
    listed = 0
    for f in found:
        a = next(x for x in plan.assignments if x.need == f.need)
        assert f.whole_only == (not needs[f.need].is_plain)
        others = [v.id for v in problem.volunteers]
        whole = {v for v in others if _valid_swap(problem, plan, f.need, f.volunteer, v, None)}
        assert {s.volunteer for s in f.whole} == whole, (f.need, f.volunteer)
        _in_order(f.whole, problem)
        listed += len(f.whole)
        if f.whole_only:
            assert f.sessions == {}
            continue
        assert list(f.sessions) == a.slots
        for slot, got in f.sessions.items():
            one = {v for v in others if _valid_swap(problem, plan, f.need, f.volunteer, v, slot)}
            assert {s.volunteer for s in got} == one, (f.need, slot)
            _in_order(got, problem)
    return listed


@SETTINGS
@given(post_problems())
def test_random_posts_weeks_list_exactly_the_valid_swaps(doc: Doc) -> None:
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    plan = solve_any(problem, 10.0, workers=2).plan
    assert isinstance(plan, Plan2)
    check_plan(problem, plan)


def _week(
    volunteers: list[Doc], needs: list[Doc], teams: dict[str, tuple[list[str], list[str]]]
) -> tuple[Problem2, Plan2]:
    """A problem and a hand-made plan of it (valid by the validator)."""
    problem = problem2(volunteers, needs)
    assignments = [PostAssignment(need=n, volunteers=v, slots=s) for n, (v, s) in teams.items()]
    cov = coverage2_of(problem, assignments)
    plan = Plan2.model_validate(
        {
            "format": 2,
            "status": "feasible",
            "assignments": [
                {
                    **a.model_dump(exclude_none=True),
                    **(
                        {"places_open": need.volunteers.max - len(a.volunteers)}
                        if len(a.volunteers) < need.volunteers.max
                        else {}
                    ),
                }
                for a in assignments
                for need in problem.needs
                if need.id == a.need
            ],
            "unmet": [
                {"need": n.id, "reasons": ["capacity_taken"]} for n in problem.needs if n.id not in teams
            ],
            "objective": {
                "coverage": float(cov),
                "coverage_bound": 1000,
                "continuity": continuity2_of(problem, assignments),
            },
            "solve_seconds": 0.0,
        }
    )
    assert validate_plan2(problem, plan) == []
    return problem, plan


def test_the_only_lead_holder_gives_way_to_lead_holders_only() -> None:
    """A river patrol needs a first-aider: when its only one leaves, only first-aiders stand in;
    when another member leaves, anyone able does."""
    aid = {"certifications": [{"kind": "first_aid", "expires": "2027-12-31"}]}
    volunteers = [vol("lead", **aid), vol("m1"), vol("spare"), vol("spare-aid", **aid)]
    needs = [post("n1", 2, 3, lead={"certifications": ["first_aid"]})]
    problem, plan = _week(volunteers, needs, {"n1": (["lead", "m1"], ["sat-am"])})
    by = {f.volunteer: f for f in standins2(problem, plan, 5)}
    assert [s.volunteer for s in by["lead"].whole] == ["spare-aid"]
    assert {s.volunteer for s in by["m1"].whole} == {"spare", "spare-aid"}
    assert check_plan(problem, plan) == 3


def test_a_minor_stands_in_only_beside_an_adult() -> None:
    """Rule 12: a minor may take a member's place on a group post only if an adult stays on it."""
    volunteers = [vol("adult"), vol("kid1", minor=True), vol("kid2", minor=True), vol("adult2")]
    needs = [post("n1", 2, 3, minor_ok=True)]
    problem, plan = _week(volunteers, needs, {"n1": (["adult", "kid1"], ["sat-am"])})
    by = {f.volunteer: f for f in standins2(problem, plan, 5)}
    assert [s.volunteer for s in by["adult"].whole] == ["adult2"]  # the only adult leaves
    assert {s.volunteer for s in by["kid1"].whole} == {"kid2", "adult2"}  # an adult stays
    check_plan(problem, plan)


def test_a_member_busy_or_out_of_hours_is_no_stand_in_and_a_site_counts_once() -> None:
    """Free at ALL the post's slots, within max_hours, within max_beneficiaries counting the site once."""
    volunteers = [
        vol("a"),
        vol("b"),
        vol("busy", availability=["sat-am"]),  # free at one of the post's two slots only
        vol("tired", max_hours=3),  # 2 h planned elsewhere, the post adds 4
        vol("here", max_beneficiaries=1),  # serves the same site already: room
        vol("full", max_beneficiaries=1),  # serves another place: no room
    ]
    needs = [
        post("n1", 2, 3, sessions=2, windows=["sat-am", "sun-am"]),
        post("n2", 1, 3, windows=["sat-pm"]),
        post("n3", 1, 1, site="s2", windows=["sat-pm"]),
    ]
    teams = {
        "n1": (["a", "b"], ["sat-am", "sun-am"]),
        "n2": (["tired", "here"], ["sat-pm"]),
        "n3": (["full"], ["sat-pm"]),
    }
    problem, plan = _week(volunteers, needs, teams)
    by = {(f.need, f.volunteer): f for f in standins2(problem, plan, 5)}
    assert [s.volunteer for s in by["n1", "a"].whole] == ["here"]
    assert by["n1", "a"].whole[0].kept_pair  # serves the square elsewhere this week
    check_plan(problem, plan)


def test_swap_replaces_the_member_and_names_the_field() -> None:
    volunteers = [vol("a"), vol("b"), vol("c")]
    needs = [post("n1", 2, 3, sessions=2, windows=["sat-am", "sun-am"])]
    problem, plan = _week(volunteers, needs, {"n1": (["a", "b"], ["sat-am", "sun-am"])})
    changes, new = swap2(problem, plan, "n1", "a", "c")
    assert new.assignments[0].volunteers == ["c", "b"] and new.changed == ["n1"]
    assert changes.volunteers_withdrawn[0].volunteer == "a"
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    for args, field in [
        (("n9", "a", "c", None), "need:"),
        (("n1", "c", "a", None), "volunteer:"),
        (("n1", "a", "b", None), "volunteer:"),
        (("n1", "a", "zz", None), "volunteer:"),
        (("n1", "a", "c", "sat-am"), "slot:"),  # a post is swapped whole
        (("n1", "a", "c", "mon-am"), "slot:"),
    ]:
        with pytest.raises(InputError, match=f"^{field}"):
            swap2(problem, plan, *args)


def test_one_session_of_a_one_to_one_need_splits_it() -> None:
    """A beneficiary's need for one volunteer keeps format 1's per-session swap (the need split)."""
    volunteers = [vol("a"), vol("c", availability=["sun-am"])]
    needs = [
        {
            "id": "n-care",
            "beneficiary": "b1",
            "service": "civility_guidance",
            "hours": 1,
            "sessions": 2,
            "windows": ["sat-am", "sun-am"],
        }
    ]
    problem, plan = _week(volunteers, needs, {"n-care": (["a"], ["sat-am", "sun-am"])})
    found = standins2(problem, plan, 3)[0]
    assert not found.whole_only and found.whole == []
    assert [s.volunteer for s in found.sessions["sun-am"]] == ["c"] and found.sessions["sat-am"] == []
    changes, new = swap2(problem, plan, "n-care", "a", "c", "sun-am")
    assert changes.needs_cancelled == ["n-care"] and new.changed == ["n-care+sun-am", "n-care+rest"]
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    check_plan(problem, plan)

"""Rules 2 (skill) and 7 (reach): matcher.model.rules.skill_in_reach.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import pytest
from helpers import (
    Doc,
    assigned,
    beneficiary,
    district,
    make_problem,
    need,
    reasons,
    solve_and_check,
    to_problem,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.instance import Instance
from matcher.model.rules.skill_in_reach import RULE, Candidates


def test_rule2_skill_allowed_and_refused() -> None:
    """A need for a skill the only volunteer has is assigned; one for another skill is refused."""
    doc = make_problem(
        volunteers=[volunteer(skills=["life_care"], availability=["mon-am", "mon-pm"])],
        needs=[
            need("n1", service="life_care", windows=["mon-am"]),
            need("n2", service="tutoring", windows=["mon-pm"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1"}
    assert reasons(result) == {"n2": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


def _reach_problem(reach: str | None) -> Doc:
    # a lists nothing, b lists a only, c is on its own
    doc = make_problem(
        districts=[district("a"), district("b", ["a"]), district("c")],
        volunteers=[volunteer(district="a", availability=["mon-am", "tue-am", "wed-am"])],
        beneficiaries=[
            beneficiary("b-same", district="a"),
            beneficiary("b-next", district="b"),
            beneficiary("b-far", district="c"),
        ],
        needs=[
            need("n-same", beneficiary="b-same", windows=["mon-am"]),
            need("n-next", beneficiary="b-next", windows=["tue-am"]),
            need("n-far", beneficiary="b-far", windows=["wed-am"]),
        ],
    )
    if reach is not None:
        doc["reach"] = reach
    return doc


def test_rule7_reach_same() -> None:
    """reach same: only the volunteer's own district is served."""
    result = solve_and_check(_reach_problem("same"))
    assert assigned(result) == {"n-same": "v1"}
    assert reasons(result) == {
        "n-next": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH],
        "n-far": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH],
    }


@pytest.mark.parametrize("reach", ["adjacent", None])
def test_rule7_reach_adjacent_is_symmetric(reach: str | None) -> None:
    """reach adjacent (also the default): a neighbour listed on one side only is in reach."""
    result = solve_and_check(_reach_problem(reach))
    assert assigned(result) == {"n-same": "v1", "n-next": "v1"}
    assert reasons(result) == {"n-far": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


def test_rule7_symmetric_from_the_listing_side() -> None:
    """A volunteer of the district that lists the neighbour serves there too (b lists a)."""
    doc = make_problem(
        districts=[district("a"), district("b", ["a"])],
        volunteers=[volunteer(district="b")],
        beneficiaries=[beneficiary(district="a")],
    )
    assert assigned(solve_and_check(doc)) == {"n1": "v1"}


def test_rule7_neighbours_are_not_transitive() -> None:
    """A neighbour of a neighbour is out of reach."""
    doc = make_problem(
        districts=[district("a", ["b"]), district("b", ["c"]), district("c")],
        volunteers=[volunteer(district="a")],
        beneficiaries=[beneficiary(district="c")],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


# ------------------------------------------------------------------------ the rule alone


def test_candidates_have_the_skill_and_are_in_reach() -> None:
    """Candidates: the service in skills and a district in reach (rule 2's skill, rule 7)."""
    doc = make_problem(
        districts=[district("d1", ["d2"]), district("d2"), district("d3")],
        volunteers=[
            volunteer("v1"),
            volunteer("v2", skills=["tutoring"]),
            volunteer("v3", district="d2"),
            volunteer("v4", district="d3"),
        ],
        reach="adjacent",
    )
    inst = Instance.from_problem(to_problem(doc))
    assert Candidates(inst)(0).tolist() == [0, 2]
    assert RULE.keep is None and RULE.code == codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH

"""Rule 6 (max_beneficiaries): matcher.model.rules.max_beneficiaries.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import pytest
from engine_support import greedy_allows, kept, model_allows, priced
from helpers import (
    Doc,
    assigned,
    beneficiary,
    make_problem,
    need,
    reasons,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.rules.max_beneficiaries import RULE


def test_rule6_max_beneficiaries_binds() -> None:
    """With max_beneficiaries 1 only one of two beneficiaries is served; the other is capacity_taken."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"], max_beneficiaries=1)],
        beneficiaries=[beneficiary("b1"), beneficiary("b2")],
        needs=[need("n1"), need("n2", beneficiary="b2", windows=["tue-am"])],
    )
    result = solve_and_check(doc)
    assert len(result.plan.assignments) == 1
    assert [u.reasons for u in result.plan.unmet] == [[codes.CAPACITY_TAKEN]]


def test_rule6_several_needs_of_one_beneficiary_count_once() -> None:
    """max_beneficiaries 1 still allows every need of the same beneficiary."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am", "wed-am"], max_beneficiaries=1)],
        beneficiaries=[beneficiary("b1"), beneficiary("b2", priority=1)],
        needs=[
            need("n1", windows=["mon-am"]),
            need("n2", windows=["tue-am"]),
            need("n3", beneficiary="b2", windows=["wed-am"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1", "n2": "v1"}
    assert reasons(result) == {"n3": [codes.CAPACITY_TAKEN]}


def test_rule6_zero_max_beneficiaries() -> None:
    """max_beneficiaries 0 refuses every need with no_beneficiary_capacity."""
    doc = make_problem(volunteers=[volunteer(max_beneficiaries=0)])
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_BENEFICIARY_CAPACITY]}


def test_rule6_default_is_three() -> None:
    """Without max_beneficiaries a volunteer serves at most three beneficiaries."""
    slots = ["mon-am", "tue-am", "wed-am", "thu-am"]
    doc = make_problem(
        volunteers=[volunteer(availability=slots)],
        beneficiaries=[beneficiary(f"b{i}") for i in range(4)],
        needs=[need(f"n{i}", beneficiary=f"b{i}", windows=[s]) for i, s in enumerate(slots)],
    )
    result = solve_and_check(doc)
    assert len(result.plan.assignments) == 3
    assert [u.reasons for u in result.plan.unmet] == [[codes.CAPACITY_TAKEN]]


# ------------------------------------------------------------------------ the rule alone

WEEK = ["mon-am", "tue-am", "wed-am"]


def _three_beneficiaries(most: int) -> Doc:
    """One volunteer free in three slots; one need of each of three beneficiaries, one per slot."""
    return make_problem(
        volunteers=[volunteer(availability=WEEK, max_beneficiaries=most)],
        beneficiaries=[beneficiary(f"b{i}") for i in (1, 2, 3)],
        needs=[need(f"n{i}", beneficiary=f"b{i}", windows=[s]) for i, s in enumerate(WEEK, 1)],
    )


def test_filter_refuses_a_volunteer_with_no_room() -> None:
    """max_beneficiaries 0 is refused by the filter; 1 is kept."""
    doc = make_problem(
        volunteers=[volunteer("v1", max_beneficiaries=0), volunteer("v2", max_beneficiaries=1)]
    )
    assert kept(RULE, doc) == {"v1": False, "v2": True}


def test_model_caps_distinct_beneficiaries() -> None:
    """Two beneficiaries fit max_beneficiaries 2; three do not."""
    doc = _three_beneficiaries(2)
    assert model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2")])
    assert not model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])


def test_greedy_stops_at_max_beneficiaries() -> None:
    """The greedy occupancy refuses a third beneficiary under max_beneficiaries 2."""
    doc = _three_beneficiaries(2)
    assert greedy_allows(RULE, doc, [("v1", "n1"), ("v1", "n2")])
    assert not greedy_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])
    assert greedy_allows(RULE, _three_beneficiaries(3), [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])


def test_greedy_counts_a_beneficiary_once() -> None:
    """Needs of one beneficiary take one place."""
    doc = make_problem(
        volunteers=[volunteer(availability=WEEK, max_beneficiaries=1)],
        needs=[need(f"n{i}", windows=[s]) for i, s in enumerate(WEEK, 1)],
    )
    assert greedy_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])
    assert model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])


@pytest.mark.parametrize(("most", "taken"), [(1, 1), (2, 2), (3, 3)])
def test_pricing_takes_what_max_beneficiaries_allows(most: int, taken: int) -> None:
    """Pricing's best set serves as many beneficiaries as max_beneficiaries allows."""
    assert len(priced(_three_beneficiaries(most))) == taken


def test_pricing_counts_a_beneficiary_once() -> None:
    """With max_beneficiaries 1, pricing's best set is both needs of b1, never b2's in between."""
    doc = make_problem(
        volunteers=[volunteer(availability=WEEK, max_beneficiaries=1)],
        beneficiaries=[beneficiary("b1"), beneficiary("b2")],
        needs=[
            need("n1", windows=["mon-am"]),
            need("n2", beneficiary="b2", windows=["tue-am"]),
            need("n3", windows=["wed-am"]),
        ],
    )
    assert priced(doc) == {"n1", "n3"}

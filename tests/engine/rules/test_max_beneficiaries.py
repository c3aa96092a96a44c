"""Rule 6 (max_beneficiaries): matcher.model.rules.max_beneficiaries.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from helpers import (
    assigned,
    beneficiary,
    make_problem,
    need,
    reasons,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes


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

"""Rules 1 and 4 (distinct slots, one session per slot): matcher.model.rules.one_session_per_slot.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from helpers import (
    beneficiary,
    make_problem,
    need,
    slots_of,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes


def test_rule4_two_needs_compete_for_the_only_slot() -> None:
    """Two needs for the volunteer's only slot: one is assigned, the other is capacity_taken."""
    doc = make_problem(
        beneficiaries=[beneficiary("b1"), beneficiary("b2")],
        needs=[need("n1"), need("n2", beneficiary="b2")],
    )
    result = solve_and_check(doc)
    assert len(result.plan.assignments) == 1
    (left,) = result.plan.unmet
    assert left.reasons == [codes.CAPACITY_TAKEN]


def test_rule4_needs_share_a_volunteer_in_different_slots() -> None:
    """Two needs fit one volunteer when they can use different slots."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm"])],
        needs=[need("n1", windows=["mon-am", "mon-pm"]), need("n2", windows=["mon-am"])],
    )
    result = solve_and_check(doc)
    assert slots_of(result) == {"n1": ["mon-pm"], "n2": ["mon-am"]}

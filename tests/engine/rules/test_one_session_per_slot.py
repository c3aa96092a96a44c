"""Rules 1 and 4 (distinct slots, one session per slot): matcher.model.rules.one_session_per_slot.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from engine_support import greedy_allows, model_allows, priced
from helpers import (
    Doc,
    beneficiary,
    make_problem,
    need,
    slots_of,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.rules.one_session_per_slot import RULE


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


# ------------------------------------------------------------------------ the rule alone


def _two_needs(windows: list[str]) -> Doc:
    """One volunteer free mon-am and mon-pm; n1 in ``windows``, n2 in mon-am only."""
    return make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm"])],
        needs=[need("n1", windows=windows), need("n2", windows=["mon-am"])],
    )


def test_model_allows_one_session_per_slot() -> None:
    """Two needs whose only slot is the same cannot both be taken; with another slot they can."""
    same = _two_needs(["mon-am"])
    assert model_allows(RULE, same, [("v1", "n1")])
    assert not model_allows(RULE, same, [("v1", "n1"), ("v1", "n2")])
    assert model_allows(RULE, _two_needs(["mon-am", "mon-pm"]), [("v1", "n1"), ("v1", "n2")])


def test_greedy_places_sessions_in_distinct_slots() -> None:
    """The greedy occupancy re-places sessions to fit both needs, and refuses a clash."""
    assert not greedy_allows(RULE, _two_needs(["mon-am"]), [("v1", "n1"), ("v1", "n2")])
    assert greedy_allows(RULE, _two_needs(["mon-am", "mon-pm"]), [("v1", "n1"), ("v1", "n2")])


def test_pricing_places_sessions_in_distinct_slots() -> None:
    """Pricing's best set holds one of two needs for the same slot, both when they can move."""
    assert len(priced(_two_needs(["mon-am"]))) == 1
    assert priced(_two_needs(["mon-am", "mon-pm"])) == {"n1", "n2"}


def test_pricing_matches_sessions_to_slots() -> None:
    """Three needs with three slots between them, but n2 and n3 need the same one: two are taken."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am", "wed-am"])],
        needs=[
            need("n1", windows=["mon-am", "tue-am"]),
            need("n2", windows=["wed-am"]),
            need("n3", windows=["wed-am"]),
        ],
    )
    best = priced(doc)
    assert len(best) == 2 and "n1" in best

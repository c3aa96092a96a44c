"""Rule 5 (max_hours): matcher.model.rules.max_hours.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from fractions import Fraction

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
from matcher.model.rules.max_hours import RULE


@pytest.mark.parametrize(("max_hours", "fits"), [(3, True), (3.0, True), (2.9, False), (2.99, False)])
def test_rule5_fractional_hours_of_one_need(max_hours: float, fits: bool) -> None:
    """1.5 h x 2 sessions fits max_hours 3 exactly, not 2.9: exceeds_max_hours."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"], max_hours=max_hours)],
        needs=[need(hours=1.5, sessions=2, windows=["mon-am", "tue-am"])],
    )
    result = solve_and_check(doc)
    if fits:
        assert assigned(result) == {"n1": "v1"}
        assert result.coverage == Fraction(9)
    else:
        assert reasons(result) == {"n1": [codes.EXCEEDS_MAX_HOURS]}


@pytest.mark.parametrize(("max_hours", "both"), [(3, True), (2.9, False)])
def test_rule5_hours_summed_over_needs(max_hours: float, both: bool) -> None:
    """Two 1.5-hour needs both fit max_hours 3; with 2.9 one is left as capacity_taken."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"], max_hours=max_hours)],
        beneficiaries=[beneficiary("b1"), beneficiary("b2")],
        needs=[need("n1", hours=1.5), need("n2", beneficiary="b2", hours=1.5, windows=["tue-am"])],
    )
    result = solve_and_check(doc)
    if both:
        assert assigned(result) == {"n1": "v1", "n2": "v1"}
    else:
        assert len(result.plan.assignments) == 1
        assert [u.reasons for u in result.plan.unmet] == [[codes.CAPACITY_TAKEN]]


def test_rule5_zero_max_hours_refuses_everything() -> None:
    """max_hours 0 leaves the need unmet with exceeds_max_hours."""
    doc = make_problem(volunteers=[volunteer(max_hours=0)])
    assert reasons(solve_and_check(doc)) == {"n1": [codes.EXCEEDS_MAX_HOURS]}


# ------------------------------------------------------------------------ the rule alone

WEEK = ["mon-am", "tue-am", "wed-am"]


def _three_two_hour_needs(max_hours: float) -> Doc:
    """One volunteer free in three slots; three 2-hour needs of one beneficiary, one per slot."""
    return make_problem(
        volunteers=[volunteer(availability=WEEK, max_hours=max_hours)],
        needs=[need(f"n{i}", hours=2, windows=[s]) for i, s in enumerate(WEEK, 1)],
    )


def test_filter_refuses_a_need_longer_than_max_hours() -> None:
    """The filter keeps a candidate whose max_hours holds the need alone."""
    doc = make_problem(
        volunteers=[volunteer("v1", max_hours=1.5), volunteer("v2", max_hours=2)], needs=[need(hours=2)]
    )
    assert kept(RULE, doc) == {"v1": False, "v2": True}


def test_model_caps_the_hours_summed_over_needs() -> None:
    """Two 2-hour needs fit max_hours 5; three do not."""
    doc = _three_two_hour_needs(5)
    assert model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2")])
    assert not model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])


def test_greedy_stops_at_max_hours() -> None:
    """The greedy occupancy refuses the third 2-hour need under max_hours 5."""
    doc = _three_two_hour_needs(5)
    assert greedy_allows(RULE, doc, [("v1", "n1"), ("v1", "n2")])
    assert not greedy_allows(RULE, doc, [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])
    assert greedy_allows(RULE, _three_two_hour_needs(6), [("v1", "n1"), ("v1", "n2"), ("v1", "n3")])


@pytest.mark.parametrize(("max_hours", "taken"), [(5, 2), (6, 3), (3.9, 1)])
def test_pricing_takes_what_max_hours_allows(max_hours: float, taken: int) -> None:
    """Pricing's best set holds as many 2-hour needs as max_hours allows."""
    assert len(priced(_three_two_hour_needs(max_hours))) == taken

"""Rule 5 (max_hours): matcher.model.rules.max_hours.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
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

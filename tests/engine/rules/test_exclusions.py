"""Rule 9, second half (excluded_volunteers): matcher.model.rules.exclusions.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

from engine_support import kept
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
from matcher.model.rules.exclusions import RULE


def test_rule9_exclusion() -> None:
    """An excluded volunteer never serves that beneficiary (volunteer_excluded) but serves others."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"])],
        beneficiaries=[beneficiary("b1", excluded_volunteers=["v1"]), beneficiary("b2")],
        needs=[need("n1"), need("n2", beneficiary="b2", windows=["tue-am"])],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n2": "v1"}
    assert reasons(result) == {"n1": [codes.VOLUNTEER_EXCLUDED]}


def test_rule9_exclusion_picks_the_other_volunteer() -> None:
    """With an excluded and a free candidate, the free one is paired."""
    doc = make_problem(
        volunteers=[volunteer("v1"), volunteer("v2")],
        beneficiaries=[beneficiary(excluded_volunteers=["v1"])],
    )
    assert assigned(solve_and_check(doc)) == {"n1": "v2"}


# ------------------------------------------------------------------------ the rule alone


def test_filter_refuses_excluded_volunteers() -> None:
    """An excluded volunteer is refused, the others kept."""
    doc = make_problem(
        volunteers=[volunteer("v1"), volunteer("v2")],
        beneficiaries=[beneficiary(excluded_volunteers=["v2"])],
    )
    assert kept(RULE, doc) == {"v1": True, "v2": False}

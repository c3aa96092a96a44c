"""Rule 8 (minors take only minor_ok needs): matcher.model.rules.minors.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import pytest
from engine_support import kept
from helpers import (
    assigned,
    make_problem,
    need,
    reasons,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.rules.minors import RULE


def test_rule8_minor_takes_only_minor_ok_needs() -> None:
    """A minor takes the minor_ok need; the other need is minor_not_allowed."""
    doc = make_problem(
        volunteers=[volunteer(minor=True, availability=["mon-am", "tue-am"])],
        needs=[
            need("n1", minor_ok=True),
            need("n2", windows=["tue-am"]),
            need("n3", windows=["tue-am"], minor_ok=False),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1"}
    assert reasons(result) == {
        "n2": [codes.MINOR_NOT_ALLOWED],
        "n3": [codes.MINOR_NOT_ALLOWED],
    }


def test_rule8_adult_takes_minor_ok_need() -> None:
    """minor_ok does not keep adults away."""
    doc = make_problem(needs=[need(minor_ok=True)])
    assert assigned(solve_and_check(doc)) == {"n1": "v1"}


# ------------------------------------------------------------------------ the rule alone


@pytest.mark.parametrize(("minor_ok", "minor_kept"), [(False, False), (True, True)])
def test_filter_keeps_minors_for_minor_ok_needs(minor_ok: bool, minor_kept: bool) -> None:
    """Adults are always kept; minors only for minor_ok needs."""
    doc = make_problem(
        volunteers=[volunteer("v1", minor=True), volunteer("v2")], needs=[need(minor_ok=minor_ok)]
    )
    assert kept(RULE, doc) == {"v1": minor_kept, "v2": True}

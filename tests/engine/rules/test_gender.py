"""Rule 9, first half (volunteer_gender): matcher.model.rules.gender.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import pytest
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
from matcher.model.rules.gender import RULE


@pytest.mark.parametrize(("gender", "ok"), [("f", True), ("m", False), (None, False)])
def test_rule9_volunteer_gender(gender: str | None, ok: bool) -> None:
    """volunteer_gender f: a woman serves; a man or a volunteer with no gender is gender_mismatch."""
    vol = volunteer() if gender is None else volunteer(gender=gender)
    doc = make_problem(volunteers=[vol], beneficiaries=[beneficiary(volunteer_gender="f")])
    result = solve_and_check(doc)
    if ok:
        assert assigned(result) == {"n1": "v1"}
    else:
        assert reasons(result) == {"n1": [codes.GENDER_MISMATCH]}


def test_rule9_gender_request_picks_the_matching_volunteer() -> None:
    """Of two volunteers only the one of the requested gender is paired; the other serves elsewhere."""
    doc = make_problem(
        volunteers=[volunteer("v-m", gender="m"), volunteer("v-f", gender="f")],
        beneficiaries=[beneficiary("b1", volunteer_gender="f"), beneficiary("b2")],
        needs=[need("n1"), need("n2", beneficiary="b2")],
    )
    assert assigned(solve_and_check(doc)) == {"n1": "v-f", "n2": "v-m"}


# ------------------------------------------------------------------------ the rule alone


def test_filter_keeps_the_requested_gender_only() -> None:
    """A stated volunteer_gender keeps that gender; another, or none given, is refused."""
    doc = make_problem(
        volunteers=[volunteer("v1", gender="f"), volunteer("v2", gender="m"), volunteer("v3")],
        beneficiaries=[beneficiary(volunteer_gender="f")],
    )
    assert kept(RULE, doc) == {"v1": True, "v2": False, "v3": False}
    assert kept(RULE, make_problem(volunteers=[volunteer("v1", gender="m"), volunteer("v2")])) == {
        "v1": True,
        "v2": True,
    }

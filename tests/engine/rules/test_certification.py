"""Rule 2 (certifications valid for the week): matcher.model.rules.certification.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import pytest
from engine_support import kept
from helpers import (
    Doc,
    assigned,
    beneficiary,
    district,
    make_problem,
    need,
    reasons,
    solve_and_check,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.rules.certification import RULE


def _cert_problem(certifications: list[Doc]) -> Doc:
    return make_problem(
        volunteers=[volunteer(certifications=certifications)],
        needs=[need(requires=["first_aid"])],
    )


@pytest.mark.parametrize(
    ("expires", "counts"),
    [
        ("2026-12-13", True),  # week_start + 6 days: valid through Sunday
        ("2026-12-12", False),  # week_start + 5 days: runs out on Saturday
        ("2027-06-01", True),
        ("2026-12-07", False),  # expires on the Monday itself
        ("2025-01-01", False),
    ],
)
def test_rule2_certification_expiry_boundary(expires: str, counts: bool) -> None:
    """A certification counts only if it expires on or after week_start + 6 days."""
    result = solve_and_check(_cert_problem([{"kind": "first_aid", "expires": expires}]))
    if counts:
        assert assigned(result) == {"n1": "v1"}
    else:
        assert reasons(result) == {"n1": [codes.NO_CERTIFIED_VOLUNTEER]}


def test_rule2_certification_of_another_kind_or_missing_is_refused() -> None:
    """Holding a different certification, or none, does not satisfy ``requires``."""
    other = solve_and_check(_cert_problem([{"kind": "health_care", "expires": "2030-01-01"}]))
    assert reasons(other) == {"n1": [codes.NO_CERTIFIED_VOLUNTEER]}
    none = solve_and_check(_cert_problem([]))
    assert reasons(none) == {"n1": [codes.NO_CERTIFIED_VOLUNTEER]}


def test_rule2_one_valid_copy_of_a_certification_suffices() -> None:
    """An expired and a valid first_aid certificate together count as valid."""
    certs = [
        {"kind": "first_aid", "expires": "2026-12-12"},
        {"kind": "first_aid", "expires": "2026-12-13"},
    ]
    assert assigned(solve_and_check(_cert_problem(certs))) == {"n1": "v1"}


def test_rule2_certified_and_uncertified_side_by_side() -> None:
    """In one problem the boundary-certified volunteer's need is met, the day-short one's is not."""
    doc = make_problem(
        districts=[district("d1"), district("d2")],
        reach="same",
        volunteers=[
            volunteer("v-ok", certifications=[{"kind": "first_aid", "expires": "2026-12-13"}]),
            volunteer(
                "v-short", district="d2", certifications=[{"kind": "first_aid", "expires": "2026-12-12"}]
            ),
        ],
        beneficiaries=[beneficiary("b1"), beneficiary("b2", district="d2")],
        needs=[
            need("n1", requires=["first_aid"]),
            need("n2", beneficiary="b2", requires=["first_aid"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v-ok"}
    assert reasons(result) == {"n2": [codes.NO_CERTIFIED_VOLUNTEER]}


def test_rule2_all_required_certifications_needed() -> None:
    """A need requiring two kinds is refused to a volunteer holding only one of them."""
    doc = make_problem(
        volunteers=[
            volunteer("v1", certifications=[{"kind": "first_aid", "expires": "2030-01-01"}]),
        ],
        needs=[need("n1", requires=["first_aid", "health_care"])],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_CERTIFIED_VOLUNTEER]}


# ------------------------------------------------------------------------ the rule alone


def test_filter_keeps_valid_certificates_only() -> None:
    """Valid for the week is kept; expired, or missing, is refused."""
    doc = make_problem(
        volunteers=[
            volunteer("v1", certifications=[{"kind": "first_aid", "expires": "2030-01-01"}]),
            volunteer("v2", certifications=[{"kind": "first_aid", "expires": "2020-01-01"}]),
            volunteer("v3"),
        ],
        needs=[need(requires=["first_aid"])],
    )
    assert kept(RULE, doc) == {"v1": True, "v2": False, "v3": False}

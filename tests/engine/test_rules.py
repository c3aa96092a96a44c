"""Hard rules 1-9 and the objective on tiny hand-made problems.

Each rule gets a case where one pair is allowed (and assigned) and one is refused (and the
need is unmet with the reason code of :mod:`matcher.format.reasons`).  Every solve goes through
:func:`helpers.solve_and_check`, which validates the plan with ``validate_plan``.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from helpers import (
    Doc,
    assigned,
    beneficiary,
    district,
    load_example_doc,
    make_problem,
    need,
    reasons,
    slots_of,
    solve_and_check,
    to_problem,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.format.schema import Problem
from matcher.format.validate import validate_plan
from matcher.solve import solve

# ------------------------------------------------------------------------------ rule 1


def test_rule1_exactly_sessions_distinct_slots_in_windows() -> None:
    """A 2-session need gets exactly its two windows that the volunteer is free in."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm", "tue-am", "tue-pm"])],
        needs=[need(sessions=2, windows=["mon-pm", "tue-pm", "wed-am"])],
    )
    result = solve_and_check(doc)
    assert slots_of(result) == {"n1": ["mon-pm", "tue-pm"]}


def test_rule1_need_in_free_windows_assigned_other_windows_refused() -> None:
    """A need whose window the volunteer is free in is taken; one outside it is no_available_slot."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"])],
        needs=[need("n1", windows=["mon-am"]), need("n2", windows=["mon-pm", "wed-eve"])],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1"}
    assert reasons(result) == {"n2": [codes.NO_AVAILABLE_SLOT]}


def test_rule1_more_sessions_than_windows_is_unmet_not_an_error() -> None:
    """sessions > number of windows leaves the need unmet with no_available_slot."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm", "tue-am"])],
        needs=[need("n1", sessions=3, windows=["mon-am", "mon-pm"]), need("n2", windows=["tue-am"])],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n2": "v1"}
    assert reasons(result) == {"n1": [codes.NO_AVAILABLE_SLOT]}


# ------------------------------------------------------------------------------ rule 2


def test_rule2_skill_allowed_and_refused() -> None:
    """A need for a skill the only volunteer has is assigned; one for another skill is refused."""
    doc = make_problem(
        volunteers=[volunteer(skills=["life_care"], availability=["mon-am", "mon-pm"])],
        needs=[
            need("n1", service="life_care", windows=["mon-am"]),
            need("n2", service="tutoring", windows=["mon-pm"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1"}
    assert reasons(result) == {"n2": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


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


# ------------------------------------------------------------------------------ rule 3


def test_rule3_slot_must_be_in_availability() -> None:
    """Of a need's windows only those in the volunteer's availability are used."""
    doc = make_problem(
        volunteers=[volunteer(availability=["wed-eve", "sun-am"])],
        needs=[need(windows=["mon-am", "wed-eve", "sat-pm"])],
    )
    assert slots_of(solve_and_check(doc)) == {"n1": ["wed-eve"]}


def test_rule3_free_in_too_few_windows_is_refused() -> None:
    """A 2-session need is refused to a volunteer free in only one of its windows."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "sun-eve"])],
        needs=[need(sessions=2, windows=["mon-am", "mon-pm"])],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_AVAILABLE_SLOT]}


# ------------------------------------------------------------------------------ rule 4


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


# ------------------------------------------------------------------------------ rule 5


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


# ------------------------------------------------------------------------------ rule 6


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


# ------------------------------------------------------------------------------ rule 7


def _reach_problem(reach: str | None) -> Doc:
    # a lists nothing, b lists a only, c is on its own
    doc = make_problem(
        districts=[district("a"), district("b", ["a"]), district("c")],
        volunteers=[volunteer(district="a", availability=["mon-am", "tue-am", "wed-am"])],
        beneficiaries=[
            beneficiary("b-same", district="a"),
            beneficiary("b-next", district="b"),
            beneficiary("b-far", district="c"),
        ],
        needs=[
            need("n-same", beneficiary="b-same", windows=["mon-am"]),
            need("n-next", beneficiary="b-next", windows=["tue-am"]),
            need("n-far", beneficiary="b-far", windows=["wed-am"]),
        ],
    )
    if reach is not None:
        doc["reach"] = reach
    return doc


def test_rule7_reach_same() -> None:
    """reach same: only the volunteer's own district is served."""
    result = solve_and_check(_reach_problem("same"))
    assert assigned(result) == {"n-same": "v1"}
    assert reasons(result) == {
        "n-next": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH],
        "n-far": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH],
    }


@pytest.mark.parametrize("reach", ["adjacent", None])
def test_rule7_reach_adjacent_is_symmetric(reach: str | None) -> None:
    """reach adjacent (also the default): a neighbour listed on one side only is in reach."""
    result = solve_and_check(_reach_problem(reach))
    assert assigned(result) == {"n-same": "v1", "n-next": "v1"}
    assert reasons(result) == {"n-far": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


def test_rule7_symmetric_from_the_listing_side() -> None:
    """A volunteer of the district that lists the neighbour serves there too (b lists a)."""
    doc = make_problem(
        districts=[district("a"), district("b", ["a"])],
        volunteers=[volunteer(district="b")],
        beneficiaries=[beneficiary(district="a")],
    )
    assert assigned(solve_and_check(doc)) == {"n1": "v1"}


def test_rule7_neighbours_are_not_transitive() -> None:
    """A neighbour of a neighbour is out of reach."""
    doc = make_problem(
        districts=[district("a", ["b"]), district("b", ["c"]), district("c")],
        volunteers=[volunteer(district="a")],
        beneficiaries=[beneficiary(district="c")],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


# ------------------------------------------------------------------------------ rule 8


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


# ------------------------------------------------------------------------------ rule 9


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


def test_reasons_list_every_refusing_rule() -> None:
    """An unmet need lists the first refusing rule of each candidate, in REASON_CODES order."""
    valid = [{"kind": "first_aid", "expires": "2030-01-01"}]
    doc = make_problem(
        volunteers=[
            volunteer("v-busy", availability=["sun-eve"], certifications=valid),
            volunteer("v-minor", minor=True, certifications=valid),
            volunteer("v-cert", certifications=[{"kind": "first_aid", "expires": "2026-12-12"}]),
        ],
        needs=[need(requires=["first_aid"])],
    )
    assert reasons(solve_and_check(doc)) == {
        "n1": [codes.NO_CERTIFIED_VOLUNTEER, codes.MINOR_NOT_ALLOWED, codes.NO_AVAILABLE_SLOT]
    }
    doc["needs"][0]["requires"] = []
    assert assigned(solve_and_check(doc)) == {"n1": "v-cert"}


def test_reasons_mixed_candidates() -> None:
    """A need refused by a minor and by an excluded volunteer carries both codes."""
    doc = make_problem(
        volunteers=[volunteer("v-minor", minor=True), volunteer("v-ex")],
        beneficiaries=[beneficiary(excluded_volunteers=["v-ex"])],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.MINOR_NOT_ALLOWED, codes.VOLUNTEER_EXCLUDED]}


# ------------------------------------------------------------------------- the example


def test_example_problem(example_problem: Problem) -> None:
    """The shared example: coverage 43, proved optimal, bound 43, continuity 1, rehab unmet."""
    result = solve_and_check(example_problem)
    assert result.status == "optimal"
    assert result.coverage == 43
    assert result.coverage_bound == 43
    assert result.continuity == 1
    assert result.plan.objective.coverage == 43
    assert result.plan.objective.coverage_bound == 43
    unmet = reasons(result)
    assert list(unmet) == ["n-sun-rehab"]
    assert codes.NO_CERTIFIED_VOLUNTEER in unmet["n-sun-rehab"]
    assert assigned(result)["n-chen-care"] == "v-wang"


# ------------------------------------------------------------------------- the objective


def test_priority_wins_the_contested_slot() -> None:
    """A priority-5 need wins the only slot over a priority-1 need listed first."""
    doc = make_problem(
        beneficiaries=[beneficiary("b-low", priority=1), beneficiary("b-high", priority=5)],
        needs=[need("n-low", beneficiary="b-low"), need("n-high", beneficiary="b-high")],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n-high": "v1"}
    assert reasons(result) == {"n-low": [codes.CAPACITY_TAKEN]}
    assert result.coverage == 5


def test_coverage_weighs_hours_and_sessions_not_priority_alone() -> None:
    """Priority 1 x 3 h x 2 sessions (6) beats priority 5 x 1 h x 1 session (5) for the same hours cap."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"], max_hours=6)],
        beneficiaries=[beneficiary("b-high", priority=5), beneficiary("b-low", priority=1)],
        needs=[
            need("n-high", beneficiary="b-high", hours=1, windows=["mon-am"]),
            need("n-low", beneficiary="b-low", hours=3, sessions=2, windows=["mon-am", "tue-am"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n-low": "v1"}
    assert result.coverage == 6


def test_two_small_needs_beat_one_bigger_one() -> None:
    """Coverage is a sum: two priority-3 needs (6) beat one priority-5 need (5) competing with both."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"])],
        beneficiaries=[beneficiary("b1", priority=5), beneficiary("b2", priority=3)],
        needs=[
            need("n-big", beneficiary="b1", sessions=2, hours=0.5, windows=["mon-am", "tue-am"]),
            need("n-a", beneficiary="b2", windows=["mon-am"]),
            need("n-b", beneficiary="b2", windows=["tue-am"]),
        ],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n-a": "v1", "n-b": "v1"}
    assert result.coverage == 6


def test_continuity_keeps_the_previous_pair() -> None:
    """Among equal-coverage plans the previous volunteer-beneficiary pair is kept."""
    doc = make_problem(
        volunteers=[volunteer("v1"), volunteer("v2"), volunteer("v3")],
        previous=[{"volunteer": "v2", "beneficiary": "b1"}],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v2"}
    assert result.continuity == 1


def test_continuity_several_pairs() -> None:
    """Two previous pairs that can both be kept are both kept (continuity 2)."""
    doc = make_problem(
        volunteers=[volunteer("v1"), volunteer("v2")],
        beneficiaries=[beneficiary("b1"), beneficiary("b2")],
        needs=[need("n1"), need("n2", beneficiary="b2")],
        previous=[{"volunteer": "v2", "beneficiary": "b1"}, {"volunteer": "v1", "beneficiary": "b2"}],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v2", "n2": "v1"}
    assert result.continuity == 2


def test_continuity_never_costs_coverage() -> None:
    """Coverage comes first: the previous volunteer takes the higher-value need of someone else."""
    doc = make_problem(
        beneficiaries=[beneficiary("b1", priority=1), beneficiary("b2", priority=2)],
        needs=[need("n1"), need("n2", beneficiary="b2")],
        previous=[{"volunteer": "v1", "beneficiary": "b1"}],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n2": "v1"}
    assert result.continuity == 0
    assert result.coverage == 2


def test_continuity_counts_a_repeated_pair_once() -> None:
    """A previous pair listed twice counts once."""
    pair = {"volunteer": "v1", "beneficiary": "b1"}
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"])],
        needs=[need("n1"), need("n2", windows=["tue-am"])],
        previous=[pair, dict(pair)],
    )
    result = solve_and_check(doc)
    assert result.continuity == 1
    assert result.plan.objective.continuity == 1


def test_coverage_exact_with_tenths() -> None:
    """0.1 h x 3 sessions x priority 1 is exactly 0.3, and reported as 0.3."""
    slots = ["mon-am", "mon-pm", "mon-eve"]
    doc = make_problem(
        volunteers=[volunteer(availability=slots, max_hours=0.3)],
        beneficiaries=[beneficiary(priority=1)],
        needs=[need(hours=0.1, sessions=3, windows=slots)],
    )
    result = solve_and_check(doc)
    assert result.coverage == Fraction(3, 10)
    assert result.coverage_bound == Fraction(3, 10)
    assert result.plan.objective.coverage == 0.3
    assert result.status == "optimal"


def test_coverage_exact_tenths_summed() -> None:
    """0.1 + 0.2 hours are exactly 0.3 (not 0.30000000000000004) and fit max_hours 0.3."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm"], max_hours=0.3)],
        beneficiaries=[beneficiary(priority=1)],
        needs=[need("n1", hours=0.1), need("n2", hours=0.2, windows=["mon-pm"])],
    )
    result = solve_and_check(doc)
    assert len(result.plan.assignments) == 2
    assert result.coverage == Fraction(3, 10)
    assert result.plan.objective.coverage == 0.3


def test_coverage_exact_sum_of_one_and_a_half_hour_needs() -> None:
    """Several 1.5-hour needs of mixed priority add up exactly."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    priorities = [1, 2, 3, 4, 5, 3, 2]
    doc = make_problem(
        volunteers=[volunteer(availability=[f"{d}-pm" for d in days], max_hours=12)],
        beneficiaries=[beneficiary(f"b{i}", priority=p) for i, p in enumerate(priorities)],
        needs=[
            need(f"n{i}", beneficiary=f"b{i}", hours=1.5, windows=[f"{d}-pm"]) for i, d in enumerate(days)
        ],
        districts=[district()],
    )
    doc["volunteers"][0]["max_beneficiaries"] = 7
    result = solve_and_check(doc)
    # 12 hours hold 8 sessions of 1.5 h: all seven fit.
    assert len(result.plan.assignments) == 7
    assert result.coverage == Fraction(3, 2) * sum(priorities)
    assert result.plan.objective.coverage == 30


def test_coverage_fractional_cap_drops_the_cheapest() -> None:
    """With max_hours 4.5 three of four 1.5-hour needs fit; the priority-1 one is left."""
    slots = ["mon-am", "tue-am", "wed-am", "thu-am"]
    doc = make_problem(
        volunteers=[volunteer(availability=slots, max_hours=4.5, max_beneficiaries=4)],
        beneficiaries=[beneficiary(f"b{i}", priority=p) for i, p in enumerate([2, 1, 5, 3])],
        needs=[need(f"n{i}", beneficiary=f"b{i}", hours=1.5, windows=[s]) for i, s in enumerate(slots)],
    )
    result = solve_and_check(doc)
    assert set(assigned(result)) == {"n0", "n2", "n3"}
    assert result.coverage == Fraction(3, 2) * 10
    assert reasons(result) == {"n1": [codes.CAPACITY_TAKEN]}


def test_custom_slots() -> None:
    """A problem with its own slot list is solved in those slots."""
    doc = make_problem(
        slots=["early", "late"],
        volunteers=[volunteer(availability=["late"])],
        needs=[need(windows=["early", "late"])],
    )
    assert slots_of(solve_and_check(doc)) == {"n1": ["late"]}


def test_empty_problem() -> None:
    """No volunteers and no needs: an empty optimal plan with coverage 0."""
    result = solve_and_check(make_problem(volunteers=[], beneficiaries=[], needs=[]))
    assert result.status == "optimal"
    assert result.plan.assignments == [] and result.plan.unmet == []
    assert result.coverage == 0 == result.coverage_bound


def test_no_volunteers() -> None:
    """Needs with no volunteer at all are unmet with no_volunteer_with_skill_in_reach."""
    result = solve_and_check(make_problem(volunteers=[]))
    assert reasons(result) == {"n1": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}
    assert result.coverage_bound == 0


# ---------------------------------------------------------------------------- time limit


def test_time_limit_must_be_positive() -> None:
    """solve() refuses a non-positive time limit with a ValueError."""
    problem = to_problem(make_problem())
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="time_limit"):
            solve(problem, bad)


def test_tiny_time_limit_still_gives_a_valid_plan() -> None:
    """A limit too short for CP-SAT still returns a valid (greedy) plan with a true bound."""
    doc = load_example_doc()
    result = solve_and_check(doc, time_limit=1e-4)
    assert result.coverage_bound >= 43


def test_time_limit_is_respected_on_a_city() -> None:
    """solve() returns within its wall-clock limit (building included) on a 500-volunteer city."""
    from matcher.synth.generate import generate_city

    problem = generate_city(500, 400, seed=1)
    limit = 0.5
    start = time.perf_counter()
    result = solve(problem, limit)
    elapsed = time.perf_counter() - start
    assert validate_plan(problem, result.plan) == []
    assert elapsed <= 1.5 * limit + 0.5, (
        f"solve took {elapsed:.2f} s for a {limit} s limit (build {result.build_seconds:.2f} s)"
    )

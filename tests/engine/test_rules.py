"""Reasons, the example problem and the objective on tiny hand-made problems.

Each hard rule's own cases are in ``tests/engine/rules/test_<rule>.py``; here, what spans
rules.  Every solve goes through :func:`helpers.solve_and_check`, which validates the plan
with ``validate_plan``.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from helpers import (
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

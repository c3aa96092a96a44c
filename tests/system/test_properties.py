"""Property-based tests: random valid problems, solved under a short limit, keep every promise.

The strategies build exchange-format dicts with consistent references (districts, slots,
volunteers and beneficiaries named in exclusions and ``previous``) and vary reach, default or
custom slots, fractional hours, minors, gender requests, exclusions, previous pairs and
certificates around the week's expiry deadline.
"""

from __future__ import annotations

from fractions import Fraction

from helpers import (
    Doc,
    exact,
    in_reach,
    solve_and_check,
    to_problem,
    usable_slots,
)
from hypothesis import HealthCheck, given, settings
from strategies import (
    DEADLINE,
    SETTINGS,
    TIME_LIMIT,
    problems,
)

from matcher.format import reasons as codes
from matcher.format.io import parse
from matcher.format.schema import Need, Plan, Problem, Volunteer
from matcher.solve import SolveResult


def _ben(problem: Problem, n: Need) -> str:
    return next(b.district for b in problem.beneficiaries if b.id == n.beneficiary)


def first_refusal(problem: Problem, v: Volunteer, n: Need) -> str | None:
    """The code of the first hard rule refusing a skilled, in-reach volunteer (None: none does)."""
    ben = next(b for b in problem.beneficiaries if b.id == n.beneficiary)
    if any(not any(c.kind == k and c.expires >= DEADLINE for c in v.certifications) for k in n.requires):
        return codes.NO_CERTIFIED_VOLUNTEER
    if v.minor and not n.minor_ok:
        return codes.MINOR_NOT_ALLOWED
    if ben.volunteer_gender is not None and v.gender != ben.volunteer_gender:
        return codes.GENDER_MISMATCH
    if v.id in ben.excluded_volunteers:
        return codes.VOLUNTEER_EXCLUDED
    if len(usable_slots(problem, v, n)) < n.sessions:
        return codes.NO_AVAILABLE_SLOT
    if exact(n.hours) * n.sessions > exact(v.max_hours):
        return codes.EXCEEDS_MAX_HOURS
    if v.max_beneficiaries < 1:
        return codes.NO_BENEFICIARY_CAPACITY
    return None


def skilled_in_reach(problem: Problem, n: Need) -> list[Volunteer]:
    """Volunteers with the need's service whose district reaches the beneficiary's."""
    district = _ben(problem, n)
    return [
        v for v in problem.volunteers if n.service in v.skills and in_reach(problem, v.district, district)
    ]


def solved(doc: Doc) -> tuple[Problem, SolveResult]:
    problem = to_problem(doc)
    return problem, solve_and_check(problem, TIME_LIMIT)


@SETTINGS
@given(problems())
def test_plan_valid_complete_and_bounded(doc: Doc) -> None:
    """Every plan validates, lists each need once, and keeps coverage <= bound (= when optimal)."""
    problem, result = solved(doc)  # solve_and_check asserts validity and completeness
    assert Fraction(0) <= result.coverage <= result.coverage_bound
    assert result.status in ("optimal", "feasible")
    if result.status == "optimal":
        assert result.coverage == result.coverage_bound
    assert result.plan.objective.coverage_bound >= result.plan.objective.coverage
    reachable = sum(
        (
            next(b.priority for b in problem.beneficiaries if b.id == n.beneficiary)
            * exact(n.hours)
            * n.sessions
            for n in problem.needs
        ),
        Fraction(0),
    )
    assert result.coverage_bound <= reachable


@SETTINGS
@given(problems())
def test_unmet_reasons_are_true(doc: Doc) -> None:
    """Unmet reasons are known codes and true: e.g. no_volunteer_with_skill_in_reach means none exists."""
    problem, result = solved(doc)
    needs = {n.id: n for n in problem.needs}
    for unmet in result.plan.unmet:
        assert unmet.reasons and set(unmet.reasons) <= set(codes.REASON_CODES)
        n = needs[unmet.need]
        candidates = skilled_in_reach(problem, n)
        if codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH in unmet.reasons:
            assert candidates == [], (unmet, [v.id for v in candidates])
            assert unmet.reasons == [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]
            continue
        refusals = {first_refusal(problem, v, n) for v in candidates}
        expected = {codes.CAPACITY_TAKEN if r is None else r for r in refusals}
        assert set(unmet.reasons) == expected, (unmet, expected)
        assert unmet.reasons == [c for c in codes.REASON_CODES if c in expected]


@SETTINGS
@given(problems())
def test_plan_is_maximal(doc: Doc) -> None:
    """No unmet need could still be added as it stands: no eligible volunteer has room for it."""
    problem, result = solved(doc)
    vols = {v.id: v for v in problem.volunteers}
    needs = {n.id: n for n in problem.needs}
    busy: dict[str, set[str]] = {v: set() for v in vols}
    hours: dict[str, Fraction] = {v: Fraction(0) for v in vols}
    serves: dict[str, set[str]] = {v: set() for v in vols}
    for a in result.plan.assignments:
        n = needs[a.need]
        busy[a.volunteer].update(a.slots)
        hours[a.volunteer] += exact(n.hours) * n.sessions
        serves[a.volunteer].add(n.beneficiary)
    for unmet in result.plan.unmet:
        n = needs[unmet.need]
        for v in skilled_in_reach(problem, n):
            if first_refusal(problem, v, n) is not None:
                continue
            free = [s for s in usable_slots(problem, v, n) if s not in busy[v.id]]
            room = hours[v.id] + exact(n.hours) * n.sessions <= exact(v.max_hours)
            place = n.beneficiary in serves[v.id] or len(serves[v.id]) < v.max_beneficiaries
            assert not (len(free) >= n.sessions and room and place), (unmet.need, v.id)


@SETTINGS
@given(problems())
def test_problem_round_trips(doc: Doc) -> None:
    """Problem.model_validate_json(p.model_dump_json()) == p, with and without None fields."""
    p = to_problem(doc)
    assert Problem.model_validate_json(p.model_dump_json()) == p
    assert Problem.model_validate_json(p.model_dump_json(exclude_none=True)) == p
    assert parse(Problem, p.model_dump(mode="json"), "problem") == p


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_plan_round_trips(doc: Doc) -> None:
    """A solved plan survives its own JSON (Plan.to_json) unchanged."""
    _, result = solved(doc)
    assert parse(Plan, result.plan.to_json(), "plan") == result.plan

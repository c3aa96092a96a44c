"""Tests for the independent plan checker :mod:`matcher.format.validate`."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from matcher.format.reasons import REASON_CODES
from matcher.format.schema import Assignment, Certification, Plan, Problem, Unmet
from matcher.format.validate import (
    certification_valid,
    continuity_of,
    coverage_of,
    hours_fraction,
    validate_plan,
)

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "example-problem.json"

Doc = dict[str, Any]

#: The optimal plan for example-problem.json, made by hand.
OPTIMAL_PLAN: Doc = {
    "format": 1,
    "status": "optimal",
    "assignments": [
        {"need": "n-chen-care", "volunteer": "v-wang", "slots": ["mon-am", "wed-am"]},
        {"need": "n-chen-talk", "volunteer": "v-wang", "slots": ["fri-pm"]},
        {"need": "n-xiaohua-homework", "volunteer": "v-li", "slots": ["tue-eve", "thu-eve"]},
        {"need": "n-sun-clean", "volunteer": "v-zhao", "slots": ["mon-pm"]},
    ],
    "unmet": [{"need": "n-sun-rehab", "reasons": ["no_certified_volunteer"]}],
    "objective": {"coverage": 43, "coverage_bound": 43, "continuity": 1},
    "solve_seconds": 0.01,
}


@pytest.fixture
def problem_doc() -> Doc:
    """The example problem as a fresh, mutable JSON object."""
    data: Doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def plan_doc() -> Doc:
    """The hand-made optimal plan as a fresh, mutable JSON object."""
    return copy.deepcopy(OPTIMAL_PLAN)


def _problem(doc: Doc) -> Problem:
    return Problem.model_validate_json(json.dumps(doc))


def _plan(doc: Doc) -> Plan:
    return Plan.model_validate_json(json.dumps(doc))


def check(problem_doc: Doc, plan_doc: Doc) -> list[str]:
    """Validate both documents through JSON, then check the plan."""
    return validate_plan(_problem(problem_doc), _plan(plan_doc))


def assert_only_rule(violations: list[str], rule: int) -> None:
    """There is at least one violation and every one is tagged with ``rule``."""
    tag = f"(rule {rule})"
    assert violations, f"expected a {tag} violation"
    assert all(tag in v for v in violations), violations


def assert_single(violations: list[str], *fragments: str) -> None:
    """Exactly one violation, containing every fragment."""
    assert len(violations) == 1, violations
    for fragment in fragments:
        assert fragment in violations[0], violations


def _volunteer(doc: Doc, volunteer_id: str) -> Doc:
    return next(v for v in doc["volunteers"] if v["id"] == volunteer_id)


def _beneficiary(doc: Doc, beneficiary_id: str) -> Doc:
    return next(b for b in doc["beneficiaries"] if b["id"] == beneficiary_id)


def _need(doc: Doc, need_id: str) -> Doc:
    return next(n for n in doc["needs"] if n["id"] == need_id)


def _assignment(plan: Doc, need_id: str) -> Doc:
    return next(a for a in plan["assignments"] if a["need"] == need_id)


# ----------------------------------------------------------------------- helpers


def test_hours_fraction_is_exact_decimal() -> None:
    """JSON numbers are read as the decimal they were written as."""
    assert hours_fraction(1.5) == Fraction(3, 2)
    assert hours_fraction(0.1) == Fraction(1, 10)
    assert hours_fraction(2) == 2
    assert hours_fraction(0.1) * 3 == hours_fraction(0.3)


def test_hours_fraction_rejects_non_finite() -> None:
    """Infinity and NaN have no exact value."""
    with pytest.raises(ValueError):
        hours_fraction(float("inf"))
    with pytest.raises(ValueError):
        hours_fraction(float("nan"))


def test_coverage_of_example(problem_doc: Doc) -> None:
    """The optimal plan covers 43; fractional hours give 1.5 x 2 x priority 4 = 12 exactly."""
    problem = _problem(problem_doc)
    assigned = [a["need"] for a in OPTIMAL_PLAN["assignments"]]
    assert coverage_of(problem, assigned) == 43
    assert coverage_of(problem, ["n-xiaohua-homework"]) == 12
    assert coverage_of(problem, ["n-xiaohua-homework", "n-xiaohua-homework"]) == 12
    assert coverage_of(problem, []) == 0
    with pytest.raises(KeyError):
        coverage_of(problem, ["n-ghost"])


def test_continuity_of_counts_duplicate_previous_pairs_once(problem_doc: Doc) -> None:
    """A previous pair listed twice and served by two needs counts once."""
    problem_doc["previous"].append({"volunteer": "v-wang", "beneficiary": "b-grandma-chen"})
    problem_doc["previous"].append({"volunteer": "v-li", "beneficiary": "b-mr-sun"})
    problem = _problem(problem_doc)
    assignments = [Assignment.model_validate(a) for a in OPTIMAL_PLAN["assignments"]]
    assert continuity_of(problem, assignments) == 1
    assert continuity_of(problem, assignments[2:]) == 0


def test_certification_valid_on_deadline(problem_doc: Doc) -> None:
    """A certification counts if it expires on or after week_start + 6 days."""
    problem = _problem(problem_doc)
    assert problem.certification_deadline == dt.date(2026, 12, 13)
    on_time = Certification(kind="first_aid", expires=dt.date(2026, 12, 13))
    too_early = Certification(kind="first_aid", expires=dt.date(2026, 12, 12))
    assert certification_valid(on_time, problem)
    assert not certification_valid(too_early, problem)


# ------------------------------------------------------------------- valid plans


def test_optimal_example_plan_is_valid(problem_doc: Doc, plan_doc: Doc) -> None:
    """The hand-made optimal plan of the example problem has no violation."""
    assert check(problem_doc, plan_doc) == []


def test_changed_field_is_not_checked(problem_doc: Doc, plan_doc: Doc) -> None:
    """``changed`` belongs to re-solve and is ignored here."""
    plan_doc["changed"] = ["n-ghost"]
    assert check(problem_doc, plan_doc) == []


def test_float_rounding_in_coverage_is_tolerated(problem_doc: Doc, plan_doc: Doc) -> None:
    """Reported coverage within 1e-6 of the exact value is accepted."""
    plan_doc["objective"]["coverage"] = 43.0000000001
    plan_doc["objective"]["coverage_bound"] = 43.0000000001
    assert check(problem_doc, plan_doc) == []


def test_feasible_plan_may_have_a_higher_bound(problem_doc: Doc, plan_doc: Doc) -> None:
    """A feasible plan's bound may exceed its coverage."""
    plan_doc["status"] = "feasible"
    plan_doc["objective"]["coverage_bound"] = 46
    assert check(problem_doc, plan_doc) == []


def test_neighbours_are_symmetric(problem_doc: Doc, plan_doc: Doc) -> None:
    """A neighbour listed only on the volunteer's side still counts (rule 7)."""
    problem_doc["districts"] = [
        {"id": "xiongguan", "neighbors": []},
        {"id": "jingtie", "neighbors": ["changcheng", "xiongguan"]},
        {"id": "changcheng", "neighbors": []},
    ]
    assert check(problem_doc, plan_doc) == []


def test_fractional_hours_fit_max_hours_exactly(problem_doc: Doc, plan_doc: Doc) -> None:
    """1.5 h x 2 sessions is exactly 3 h, within max_hours 3 (rule 5)."""
    _volunteer(problem_doc, "v-li")["max_hours"] = 3
    assert check(problem_doc, plan_doc) == []


def test_decimal_hours_sum_exactly(problem_doc: Doc, plan_doc: Doc) -> None:
    """0.1 h x 3 sessions fits max_hours 0.3, although 0.1 * 3 > 0.3 in floats (rule 5)."""
    need = _need(problem_doc, "n-xiaohua-homework")
    need["hours"] = 0.1
    need["sessions"] = 3
    need["windows"] = ["tue-eve", "thu-eve", "sat-am"]
    _volunteer(problem_doc, "v-li")["max_hours"] = 0.3
    _assignment(plan_doc, "n-xiaohua-homework")["slots"] = ["tue-eve", "thu-eve", "sat-am"]
    coverage = 20 + 5 + 6 + 4 * 0.1 * 3  # the float an engine might report: 32.2000...
    plan_doc["objective"]["coverage"] = coverage
    plan_doc["objective"]["coverage_bound"] = coverage
    assert check(problem_doc, plan_doc) == []


# -------------------------------------------------------------- format and needs


def test_format_must_be_1(problem_doc: Doc, plan_doc: Doc) -> None:
    """A plan whose format is not 1 is refused."""
    plan = _plan(plan_doc).model_copy(update={"format": 2})
    assert_single(validate_plan(_problem(problem_doc), plan), "format")


def test_unknown_volunteer(problem_doc: Doc, plan_doc: Doc) -> None:
    """An assignment naming a volunteer not in the problem is refused."""
    _assignment(plan_doc, "n-sun-clean")["volunteer"] = "v-ghost"
    assert_single(check(problem_doc, plan_doc), "assignments[3]", "unknown volunteer 'v-ghost'")


def test_unknown_need_in_assignments(problem_doc: Doc, plan_doc: Doc) -> None:
    """An assignment naming a need not in the problem is refused."""
    plan_doc["assignments"].append({"need": "n-ghost", "volunteer": "v-zhao", "slots": []})
    assert_single(check(problem_doc, plan_doc), "assignments[4]", "unknown need 'n-ghost'")


def test_unknown_need_in_unmet(problem_doc: Doc, plan_doc: Doc) -> None:
    """An unmet entry naming a need not in the problem is refused."""
    plan_doc["unmet"].append({"need": "n-ghost", "reasons": ["capacity_taken"]})
    assert_single(check(problem_doc, plan_doc), "unmet[1]", "unknown need 'n-ghost'")


def test_missing_need(problem_doc: Doc, plan_doc: Doc) -> None:
    """A need in neither assignments nor unmet is refused."""
    plan_doc["unmet"] = []
    assert_single(check(problem_doc, plan_doc), "needs[3]", "'n-sun-rehab'", "neither")


def test_duplicate_need_assigned_and_unmet(problem_doc: Doc, plan_doc: Doc) -> None:
    """A need both assigned and unmet is refused."""
    plan_doc["unmet"].append({"need": "n-chen-care", "reasons": ["capacity_taken"]})
    assert_single(check(problem_doc, plan_doc), "unmet[1]", "already appears at assignments[0]")


def test_duplicate_need_assigned_twice(problem_doc: Doc, plan_doc: Doc) -> None:
    """A need assigned to two volunteers breaks rule 1."""
    # v-zhao takes n-sun-clean a second time, at another slot that is otherwise valid.
    _volunteer(problem_doc, "v-zhao")["availability"].append("tue-pm")
    _volunteer(problem_doc, "v-zhao")["max_hours"] = 9
    plan_doc["assignments"].append({"need": "n-sun-clean", "volunteer": "v-zhao", "slots": ["tue-pm"]})
    assert_single(check(problem_doc, plan_doc), "assignments[4]", "already appears", "(rule 1)")


# ----------------------------------------------------------------------- unmet


def test_unknown_reason_code(problem_doc: Doc, plan_doc: Doc) -> None:
    """A reason that is not a stable code is refused."""
    plan_doc["unmet"][0]["reasons"] = ["too_hard"]
    assert_single(check(problem_doc, plan_doc), "unmet[0]", "'too_hard'", "reason code")


def test_duplicate_reason_code(problem_doc: Doc, plan_doc: Doc) -> None:
    """A reason listed twice is refused."""
    plan_doc["unmet"][0]["reasons"] = ["no_certified_volunteer", "no_certified_volunteer"]
    assert_single(check(problem_doc, plan_doc), "unmet[0]", "more than once")


def test_every_reason_code_is_accepted(problem_doc: Doc, plan_doc: Doc) -> None:
    """All stable codes together are accepted."""
    plan_doc["unmet"][0]["reasons"] = list(REASON_CODES)
    assert check(problem_doc, plan_doc) == []


def test_empty_reasons(problem_doc: Doc, plan_doc: Doc) -> None:
    """An unmet need without reasons is refused even if the schema was bypassed."""
    plan = _plan(plan_doc)
    empty = Unmet.model_construct(need="n-sun-rehab", reasons=[])
    plan = plan.model_copy(update={"unmet": [empty]})
    assert_single(validate_plan(_problem(problem_doc), plan), "unmet[0]", "empty")


# ------------------------------------------------------------------ hard rules


def test_rule1_wrong_number_of_sessions(problem_doc: Doc, plan_doc: Doc) -> None:
    """Fewer slots than sessions breaks rule 1."""
    _assignment(plan_doc, "n-chen-care")["slots"] = ["mon-am"]
    assert_only_rule(check(problem_doc, plan_doc), 1)


def test_rule1_repeated_slot(problem_doc: Doc, plan_doc: Doc) -> None:
    """The same slot twice in one assignment breaks rule 1 (slots must be distinct)."""
    _assignment(plan_doc, "n-chen-care")["slots"] = ["mon-am", "mon-am"]
    assert_only_rule(check(problem_doc, plan_doc), 1)


def test_rule1_slot_outside_windows(problem_doc: Doc, plan_doc: Doc) -> None:
    """A slot the volunteer has but the need's windows lack breaks rule 1."""
    _volunteer(problem_doc, "v-wang")["availability"].append("sat-am")
    _assignment(plan_doc, "n-chen-care")["slots"] = ["mon-am", "sat-am"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 1)
    assert "windows" in violations[0]


def test_rule1_unknown_slot(problem_doc: Doc, plan_doc: Doc) -> None:
    """A slot that is not one of the problem's slots breaks rule 1."""
    _assignment(plan_doc, "n-chen-talk")["slots"] = ["fri-noon"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 1)
    assert "unknown slot 'fri-noon'" in violations[0]


def test_rule1_custom_slots(problem_doc: Doc, plan_doc: Doc) -> None:
    """Slots are the problem's own list when given: a default slot missing from it is unknown."""
    problem_doc["slots"] = ["mon-am", "mon-pm", "tue-eve", "wed-am", "wed-pm", "wed-eve", "thu-am", "thu-eve"]
    problem_doc["slots"] += ["fri-pm", "sat-am", "sat-pm", "sun-am", "tue-pm"]
    assert check(problem_doc, plan_doc) == []
    _assignment(plan_doc, "n-chen-care")["slots"] = ["mon-am", "mon-eve"]
    assert_only_rule(check(problem_doc, plan_doc), 1)


def test_rule2_missing_skill(problem_doc: Doc, plan_doc: Doc) -> None:
    """A volunteer without the need's service breaks rule 2."""
    _volunteer(problem_doc, "v-wang")["skills"] = ["life_care"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 2)
    assert "skill 'emotional_support'" in violations[0]


def test_rule2_missing_certification(problem_doc: Doc, plan_doc: Doc) -> None:
    """A volunteer without a required certification breaks rule 2."""
    _volunteer(problem_doc, "v-li")["certifications"] = [{"kind": "first_aid", "expires": "2030-01-01"}]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 2)
    assert "'child_safeguarding'" in violations[0]


def test_rule2_certification_expires_before_week_end(problem_doc: Doc, plan_doc: Doc) -> None:
    """A certification expiring one day before week_start + 6 days breaks rule 2."""
    _volunteer(problem_doc, "v-li")["certifications"][0]["expires"] = "2026-12-12"
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 2)
    assert "2026-12-13" in violations[0]


def test_rule2_expired_certification_example(problem_doc: Doc, plan_doc: Doc) -> None:
    """Giving n-sun-rehab to v-zhao, whose health_care expires 2026-12-10, breaks rule 2."""
    plan_doc["unmet"] = []
    plan_doc["assignments"].append({"need": "n-sun-rehab", "volunteer": "v-zhao", "slots": ["wed-pm"]})
    plan_doc["objective"] = {"coverage": 46, "coverage_bound": 46, "continuity": 1}
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 2)
    assert "2026-12-10" in violations[0]


def test_rule3_slot_not_available(problem_doc: Doc, plan_doc: Doc) -> None:
    """A slot outside the volunteer's availability breaks rule 3."""
    _volunteer(problem_doc, "v-wang")["availability"] = ["mon-am", "wed-am"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 3)
    assert violations[0].startswith("assignments[1] (need 'n-chen-talk', volunteer 'v-wang'): slot 'fri-pm'")


def test_rule4_two_sessions_in_one_slot(problem_doc: Doc, plan_doc: Doc) -> None:
    """One volunteer in two needs at the same slot breaks rule 4."""
    _need(problem_doc, "n-chen-talk")["windows"].append("wed-am")
    _assignment(plan_doc, "n-chen-talk")["slots"] = ["wed-am"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 4)
    assert "assignments[0]" in violations[0]


def test_rule5_too_many_hours(problem_doc: Doc, plan_doc: Doc) -> None:
    """5 hours for a volunteer with max_hours 4.5 breaks rule 5."""
    _volunteer(problem_doc, "v-wang")["max_hours"] = 4.5
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 5)
    assert violations[0].startswith("volunteers[0] ('v-wang')")


def test_rule5_fractional_hours(problem_doc: Doc, plan_doc: Doc) -> None:
    """1.5 h x 2 sessions is more than max_hours 2.9 (rule 5)."""
    _volunteer(problem_doc, "v-li")["max_hours"] = 2.9
    assert_only_rule(check(problem_doc, plan_doc), 5)


def test_rule6_too_many_beneficiaries(problem_doc: Doc, plan_doc: Doc) -> None:
    """Serving a beneficiary with max_beneficiaries 0 breaks rule 6."""
    _volunteer(problem_doc, "v-wang")["max_beneficiaries"] = 0
    assert_only_rule(check(problem_doc, plan_doc), 6)


def test_rule6_counts_distinct_beneficiaries(problem_doc: Doc, plan_doc: Doc) -> None:
    """Two needs of one beneficiary count once, so max_beneficiaries 1 is enough."""
    _volunteer(problem_doc, "v-wang")["max_beneficiaries"] = 1
    assert check(problem_doc, plan_doc) == []


def test_rule7_reach_same(problem_doc: Doc, plan_doc: Doc) -> None:
    """With reach 'same', v-li (jingtie) may not serve b-xiaohua (xiongguan)."""
    problem_doc["reach"] = "same"
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 7)
    assert "n-xiaohua-homework" in violations[0]


def test_rule7_district_not_adjacent(problem_doc: Doc, plan_doc: Doc) -> None:
    """changcheng is not a neighbour of xiongguan, so a volunteer there breaks rule 7."""
    _volunteer(problem_doc, "v-li")["district"] = "changcheng"
    assert_only_rule(check(problem_doc, plan_doc), 7)


def test_rule8_minor_on_adult_need(problem_doc: Doc, plan_doc: Doc) -> None:
    """A minor volunteer on a need that is not minor_ok breaks rule 8."""
    _volunteer(problem_doc, "v-li")["minor"] = True
    assert_only_rule(check(problem_doc, plan_doc), 8)


def test_rule8_minor_ok_need(problem_doc: Doc, plan_doc: Doc) -> None:
    """A minor volunteer on a minor_ok need is fine."""
    _volunteer(problem_doc, "v-li")["minor"] = True
    _need(problem_doc, "n-xiaohua-homework")["minor_ok"] = True
    assert check(problem_doc, plan_doc) == []


def test_rule9_wrong_gender(problem_doc: Doc, plan_doc: Doc) -> None:
    """A male volunteer for a beneficiary asking for a female one breaks rule 9."""
    _volunteer(problem_doc, "v-wang")["gender"] = "m"
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 9)
    assert len(violations) == 2  # both of grandma Chen's needs


def test_rule9_no_gender_does_not_satisfy_request(problem_doc: Doc, plan_doc: Doc) -> None:
    """A volunteer with no gender does not satisfy a volunteer_gender request (rule 9)."""
    del _volunteer(problem_doc, "v-wang")["gender"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 9)
    assert "no gender" in violations[0]


def test_rule9_excluded_volunteer(problem_doc: Doc, plan_doc: Doc) -> None:
    """A volunteer the beneficiary excluded breaks rule 9."""
    _beneficiary(problem_doc, "b-xiaohua")["excluded_volunteers"] = ["v-li"]
    violations = check(problem_doc, plan_doc)
    assert_only_rule(violations, 9)
    assert "excluded" in violations[0]


# ------------------------------------------------------------------- objective


def test_wrong_coverage(problem_doc: Doc, plan_doc: Doc) -> None:
    """A reported coverage that differs from the recomputed one is refused."""
    plan_doc["status"] = "feasible"
    plan_doc["objective"]["coverage"] = 42
    assert_single(check(problem_doc, plan_doc), "objective.coverage", "43")


def test_coverage_off_by_more_than_tolerance(problem_doc: Doc, plan_doc: Doc) -> None:
    """A coverage off by 1e-5 is outside the 1e-6 tolerance."""
    plan_doc["status"] = "feasible"
    plan_doc["objective"]["coverage"] = 43.00001
    plan_doc["objective"]["coverage_bound"] = 44
    assert_single(check(problem_doc, plan_doc), "objective.coverage")


def test_wrong_continuity(problem_doc: Doc, plan_doc: Doc) -> None:
    """A reported continuity that differs from the recomputed one is refused."""
    plan_doc["objective"]["continuity"] = 0
    assert_single(check(problem_doc, plan_doc), "objective.continuity")


def test_optimal_with_bound_above_coverage(problem_doc: Doc, plan_doc: Doc) -> None:
    """An optimal plan must have coverage_bound equal to coverage."""
    plan_doc["objective"]["coverage_bound"] = 44
    assert_single(check(problem_doc, plan_doc), "objective.coverage_bound", "optimal")


def test_bound_below_coverage(problem_doc: Doc, plan_doc: Doc) -> None:
    """A coverage_bound below the coverage is refused."""
    plan_doc["status"] = "feasible"
    plan_doc["objective"]["coverage_bound"] = 42
    assert_single(check(problem_doc, plan_doc), "objective.coverage_bound", "below")


def test_infinite_bound(problem_doc: Doc, plan_doc: Doc) -> None:
    """A non-finite coverage_bound is refused."""
    plan_doc["status"] = "feasible"
    plan = _plan(plan_doc)
    objective = plan.objective.model_copy(update={"coverage_bound": float("inf")})
    plan = plan.model_copy(update={"objective": objective})
    assert_single(validate_plan(_problem(problem_doc), plan), "objective.coverage_bound", "finite")


# ----------------------------------------------------------------- independence


def test_validate_does_not_import_solver_libraries() -> None:
    """matcher.format.validate imports neither ortools nor numpy."""
    code = (
        "import sys, matcher.format.validate; "
        "assert 'ortools' not in sys.modules; assert 'numpy' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

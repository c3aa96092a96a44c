"""Format 2 (group posts): the schema, the plan's shape and the solver-free validator."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from matcher.format.errors import InputError
from matcher.format.evaluate import continuity2_of, coverage2_of, post_value
from matcher.format.io import parse, parse_plan, parse_problem
from matcher.format.schema import Plan, Plan2, Problem, Problem2
from matcher.format.validate2 import RULE_CHECKS2, validate_plan2

REPO = Path(__file__).resolve().parents[3]
EXAMPLE2 = REPO / "examples" / "example-problem-format2.json"
PLAN2 = REPO / "examples" / "example-plan-format2.json"
EXAMPLE1 = REPO / "examples" / "example-problem.json"

Doc = dict[str, Any]


@pytest.fixture
def problem_doc() -> Doc:
    """The format-2 example problem as a fresh dict."""
    data: Doc = json.loads(EXAMPLE2.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def plan_doc() -> Doc:
    """Its optimal plan (hand-checked: 20 + 3x2x4 + 2x3x3 = 62) as a fresh dict."""
    data: Doc = json.loads(PLAN2.read_text(encoding="utf-8"))
    return data


def _problem(doc: Doc) -> Problem2:
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    return problem


def _violations(problem_doc: Doc, plan_doc: Doc) -> list[str]:
    plan = parse_plan(plan_doc, "plan")
    assert isinstance(plan, Plan2)
    return validate_plan2(_problem(problem_doc), plan)


# ------------------------------------------------------------------ schema


def test_format1_files_parse_as_format1() -> None:
    problem = parse_problem(EXAMPLE1.read_bytes(), "problem")
    assert isinstance(problem, Problem)
    assert problem == parse(Problem, EXAMPLE1.read_bytes(), "problem")


def test_format1_rejects_format2_fields(make_problem: Callable[..., Doc]) -> None:
    doc = make_problem()
    doc["sites"] = []
    with pytest.raises(InputError, match="sites: unknown field"):
        parse_problem(doc, "problem")
    doc = make_problem()
    doc["needs"][0]["volunteers"] = {"min": 1, "max": 2}
    with pytest.raises(InputError, match=r"needs\[0\].volunteers: unknown field"):
        parse_problem(doc, "problem")


def test_example_parses_with_priorities(problem_doc: Doc) -> None:
    problem = _problem(problem_doc)
    assert [problem.priority_of(n) for n in problem.needs] == [5, 3, 2]
    assert problem.has_posts
    assert [n.is_post for n in problem.needs] == [False, True, True]
    assert problem.needs[0].volunteers.min == problem.needs[0].volunteers.max == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda n: n.pop("priority"), r"needs\[1\]: a need at a site gives its priority"),
        (lambda n: n.update(beneficiary="b-grandma-chen"), r"needs\[1\]: a need names exactly one"),
        (lambda n: (n.pop("site"), n.pop("priority")), r"needs\[1\]: a need names exactly one"),
        (
            lambda n: n.update(volunteers={"min": 5, "max": 4}),
            r"needs\[1\].volunteers: min 5 is more than max 4",
        ),
        (
            lambda n: n.update(volunteers={"min": 0, "max": 4}),
            r"needs\[1\].volunteers.min: must be at least 1",
        ),
        (
            lambda n: n.update(volunteers={"min": 2, "max": 51}),
            r"needs\[1\].volunteers.max: must be at most 50",
        ),
        (lambda n: n.update(volunteers={"min": 2.0, "max": 4}), r"needs\[1\].volunteers.min"),
        (lambda n: n.update(lead={}), r"needs\[1\].lead: a lead names at least one"),
        (lambda n: n.update(lead={"certifications": ["pilot"]}), r"unknown certification kind 'pilot'"),
        (lambda n: n.update(site="s-moon"), r"needs\[1\].site: unknown site 's-moon'"),
        (lambda n: n.update(crowd=3), r"needs\[1\].crowd: unknown field"),
        (lambda n: n.update(priority=6), r"needs\[1\].priority"),
    ],
)
def test_bad_format2_needs_are_refused(
    problem_doc: Doc, change: Callable[[Doc], object], message: str
) -> None:
    change(problem_doc["needs"][1])
    with pytest.raises(InputError, match=message):
        parse_problem(problem_doc, "problem")


def test_beneficiary_need_may_not_carry_priority(problem_doc: Doc) -> None:
    problem_doc["needs"][0]["priority"] = 2
    with pytest.raises(
        InputError, match=r"needs\[0\]: a beneficiary's need takes the beneficiary's priority"
    ):
        parse_problem(problem_doc, "problem")


def test_sites_are_checked(problem_doc: Doc) -> None:
    bad = copy.deepcopy(problem_doc)
    bad["sites"][0]["district"] = "atlantis"
    with pytest.raises(InputError, match=r"sites\[0\].district: unknown district 'atlantis'"):
        parse_problem(bad, "problem")
    bad = copy.deepcopy(problem_doc)
    bad["sites"][1]["id"] = "s-square"
    with pytest.raises(InputError, match=r"sites\[1\].id: duplicate id 's-square'"):
        parse_problem(bad, "problem")
    bad = copy.deepcopy(problem_doc)
    bad["sites"][0]["id"] = "b-grandma-chen"
    with pytest.raises(InputError, match=r"sites\[0\].id: 'b-grandma-chen' is also a beneficiary's id"):
        parse_problem(bad, "problem")


def test_plan_shape_round_trips(plan_doc: Doc) -> None:
    plan = parse_plan(plan_doc, "plan")
    assert isinstance(plan, Plan2)
    assert json.loads(plan.to_json()) == plan_doc
    assert plan.assignments[2].places_open == 2
    assert plan.assignments[1].places_open is None
    assert "places_open" not in plan_doc["assignments"][1]
    with pytest.raises(InputError, match=r"assignments\[0\].volunteers: .*at least 1"):
        parse_plan({**plan_doc, "assignments": [{"need": "n", "volunteers": [], "slots": []}]}, "plan")
    with pytest.raises(InputError):
        parse(Plan, plan_doc, "plan")


# ------------------------------------------------------------------ evaluator


def test_post_value_counts_each_volunteer(problem_doc: Doc, plan_doc: Doc) -> None:
    problem = _problem(problem_doc)
    assert post_value(problem, "n-square-guidance", 4) == 3 * 2 * 1 * 4
    assert post_value(problem, "n-square-guidance", 1) == 0  # below its minimum: it does not run
    assert post_value(problem, "n-chen-care", 1) == 5 * 2 * 2
    plan = parse_plan(plan_doc, "plan")
    assert isinstance(plan, Plan2)
    assert coverage2_of(problem, plan.assignments) == 62
    assert continuity2_of(problem, plan.assignments) == 1


# ------------------------------------------------------------------ validator


def test_the_example_plan_is_valid(problem_doc: Doc, plan_doc: Doc) -> None:
    assert _violations(problem_doc, plan_doc) == []


def test_every_rule_has_a_check() -> None:
    assert sorted(RULE_CHECKS2) == list(range(1, 13))


def _square(plan_doc: Doc) -> Doc:
    row: Doc = plan_doc["assignments"][1]
    assert row["need"] == "n-square-guidance"
    return row


def _river(plan_doc: Doc) -> Doc:
    row: Doc = plan_doc["assignments"][2]
    assert row["need"] == "n-river-patrol"
    return row


def test_rule10_too_few_volunteers(problem_doc: Doc, plan_doc: Doc) -> None:
    _square(plan_doc)["volunteers"] = ["v-wang"]
    _square(plan_doc)["places_open"] = 3
    plan_doc["objective"] = {"coverage": 38, "coverage_bound": 38, "continuity": 1}
    assert any("1 volunteers, for 2 to 4 (rule 10)" in v for v in _violations(problem_doc, plan_doc))


def test_rule10_too_many_volunteers(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["needs"][1]["volunteers"]["max"] = 3
    out = _violations(problem_doc, plan_doc)
    assert any("4 volunteers, for 2 to 3 (rule 10)" in v for v in out)


def test_places_open_must_be_right(problem_doc: Doc, plan_doc: Doc) -> None:
    _river(plan_doc)["places_open"] = 1
    assert any("places_open is 1, expected 2" in v for v in _violations(problem_doc, plan_doc))


def test_rule3_each_volunteer_free_at_every_slot(problem_doc: Doc, plan_doc: Doc) -> None:
    _river(plan_doc)["slots"] = ["sun-pm"]
    out = _violations(problem_doc, plan_doc)
    assert any(
        "volunteer 'v-zhao'): slot 'sun-pm' is not in the volunteer's availability (rule 3)" in v for v in out
    )
    assert any("volunteer 'v-xiaoming'): slot 'sun-pm'" in v for v in out)
    assert not any("volunteer 'v-chen'): slot 'sun-pm'" in v for v in out)


def test_rule4_one_session_per_slot_across_posts(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["needs"][2]["windows"] = ["sat-pm", "sun-am"]
    problem_doc["volunteers"][4]["max_hours"] = 9
    _river(plan_doc)["slots"] = ["sun-am"]
    _river(plan_doc)["volunteers"] = ["v-chen", "v-xiaoming"]
    _river(plan_doc)["places_open"] = 3
    plan_doc["objective"] = {"coverage": 56, "coverage_bound": 56, "continuity": 1}
    out = _violations(problem_doc, plan_doc)
    assert out == [
        "assignments[2] (need 'n-river-patrol', volunteer 'v-chen'): slot 'sun-am' is already taken by "
        "assignments[1] (need 'n-square-guidance') of the same volunteer (rule 4)"
    ]


def test_rule5_hours_count_each_post(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["volunteers"][2]["max_hours"] = 4  # v-zhao: 2 (square? no) + 3 (river)
    _square(plan_doc)["volunteers"] = ["v-wang", "v-li", "v-zhao"]
    _square(plan_doc)["places_open"] = 1
    plan_doc["objective"] = {"coverage": 56, "coverage_bound": 56, "continuity": 1}
    out = _violations(problem_doc, plan_doc)
    assert any("('v-zhao'): 5 hours assigned, more than max_hours 4 (rule 5)" in v for v in out)


def test_rule6_a_site_counts_as_one_place(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["volunteers"][0]["max_beneficiaries"] = 1  # v-wang: grandma chen and the square
    out = _violations(problem_doc, plan_doc)
    assert any("('v-wang'): serves 2 distinct beneficiaries and sites" in v for v in out)
    problem_doc["volunteers"][0]["max_beneficiaries"] = 2
    assert _violations(problem_doc, plan_doc) == []


def test_rule7_reach_from_the_site(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["reach"] = "same"
    out = _violations(problem_doc, plan_doc)
    assert any("volunteer 'v-li'): volunteer district 'jingtie' is out of reach" in v for v in out)


def test_rule11_lead(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["volunteers"][4]["certifications"][0]["expires"] = "2026-12-12"  # before the week's Sunday
    problem_doc["needs"][2]["lead"] = {"certifications": ["first_aid"], "skills": ["environment"]}
    out = _violations(problem_doc, plan_doc)
    assert out == ["assignments[2] (need 'n-river-patrol'): no volunteer on it holds the lead (rule 11)"]


def test_rule12_minors_need_an_adult_on_a_group_post(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["volunteers"][2]["minor"] = True
    problem_doc["volunteers"][4]["minor"] = True
    out = _violations(problem_doc, plan_doc)
    assert "assignments[2] (need 'n-river-patrol'): minors with no adult on it (rule 12)" in out
    problem_doc["volunteers"][4]["minor"] = False  # v-chen, an adult, beside the two minors
    assert not any("rule 12" in v for v in _violations(problem_doc, plan_doc))


def test_rule8_minor_on_a_post_not_minor_ok(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["needs"][2]["minor_ok"] = False
    out = _violations(problem_doc, plan_doc)
    assert any(
        "volunteer 'v-xiaoming'): the volunteer is a minor and the need is not minor_ok (rule 8)" in v
        for v in out
    )


def test_rule2_and_rule9_per_volunteer(problem_doc: Doc, plan_doc: Doc) -> None:
    problem_doc["volunteers"][2]["skills"] = ["civility_guidance"]
    problem_doc["beneficiaries"][0]["excluded_volunteers"] = ["v-wang"]
    out = _violations(problem_doc, plan_doc)
    assert any("volunteer 'v-zhao'): the volunteer lacks skill 'environment' (rule 2)" in v for v in out)
    assert any("excluded this volunteer (rule 9)" in v for v in out)


def test_objective_counts_volunteers(problem_doc: Doc, plan_doc: Doc) -> None:
    plan_doc["objective"]["coverage"] = 47  # as if each post counted once
    plan_doc["objective"]["coverage_bound"] = 47
    out = _violations(problem_doc, plan_doc)
    assert any("objective.coverage: reported 47, but the assignments cover 62" in v for v in out)


def test_unmet_post_reasons_are_known(problem_doc: Doc, plan_doc: Doc) -> None:
    del plan_doc["assignments"][2]
    plan_doc["unmet"] = [{"need": "n-river-patrol", "reasons": ["too_few_volunteers_together", "made_up"]}]
    plan_doc["objective"] = {"coverage": 44, "coverage_bound": 62, "continuity": 1}
    plan_doc["status"] = "feasible"
    out = _violations(problem_doc, plan_doc)
    assert out == ["unmet[0] (need 'n-river-patrol'): reasons[1] 'made_up' is not a known reason code"]


def test_cli_validates_format2(tmp_path: Path, plan_doc: Doc) -> None:
    bad = copy.deepcopy(plan_doc)
    _square(bad)["volunteers"] = ["v-wang", "v-li", "v-zhao", "v-zhao"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "linli.cli", "validate", str(EXAMPLE2), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "assignments[1].volunteers: 'v-zhao' is listed twice" in run.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "linli.cli", "validate", str(EXAMPLE2), str(PLAN2)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "valid: 3 assignments, 0 unmet, coverage 62" in ok.stdout

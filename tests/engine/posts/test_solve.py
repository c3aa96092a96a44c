"""Solving format 2: routing, the example, per-volunteer rules at sites, refusal, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import load_example_doc
from posts_support import post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes
from matcher.format.io import load_any_problem, parse, parse_problem
from matcher.format.schema import Plan2, Problem, Problem2
from matcher.format.versions import as_format1
from matcher.model.posts import model as posts_model
from matcher.search.posts import PostsTooLargeError, solve_posts
from matcher.solve import solve, solve_any

REPO = Path(__file__).resolve().parents[3]
EXAMPLE2 = REPO / "examples" / "example-problem-format2.json"


def test_example_is_solved_to_its_hand_checked_optimum() -> None:
    problem = load_any_problem(EXAMPLE2)
    assert isinstance(problem, Problem2)
    plan = solve_checked(problem)
    assert plan.status == "optimal"
    assert plan.objective.coverage == plan.objective.coverage_bound == 62
    assert plan.objective.continuity == 1
    shipped = json.loads((REPO / "examples" / "example-plan-format2.json").read_text(encoding="utf-8"))
    assert shipped["objective"]["coverage"] == 62


def test_format1_problem_keeps_format1_pipeline() -> None:
    problem = parse(Problem, load_example_doc(), "problem")
    a = solve_any(problem, 5.0)
    assert a.route == "one-to-one"
    assert a.plan.model_dump(exclude={"solve_seconds"}) == solve(problem, 5.0).plan.model_dump(
        exclude={"solve_seconds"}
    )


def test_format2_without_posts_takes_the_one_to_one_pipeline() -> None:
    doc = load_example_doc()
    doc["format"] = 2
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    assert not problem.has_posts
    result = solve_any(problem, 5.0)
    assert result.route == "one-to-one"
    assert isinstance(result.plan, Plan2)
    one = solve(as_format1(problem), 5.0).plan
    assert result.plan.objective.model_dump() == one.objective.model_dump()
    assert {a.need: a.volunteers for a in result.plan.assignments} == {
        a.need: [a.volunteer] for a in one.assignments
    }


def test_reach_is_counted_from_the_site() -> None:
    problem = problem2(
        [vol("v1", district="d2"), vol("v3", district="d3")],
        [post(low=1, high=2)],
    )
    plan = solve_checked(problem)
    assert teams(plan)["n1"][0] == ["v1"]
    same = problem2([vol("v1", district="d2")], [post()], reach="same")
    assert unmet(solve_checked(same)) == {"n1": [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]}


def test_a_beneficiarys_post_keeps_gender_and_exclusions() -> None:
    problem = problem2(
        [vol("v1", gender="f"), vol("v2", gender="m"), vol("v3", gender="f")],
        [post(site=None, priority=None, beneficiary="b1", low=1, high=3)],
        beneficiaries=[
            {
                "id": "b1",
                "category": "elderly",
                "district": "d1",
                "priority": 4,
                "volunteer_gender": "f",
                "excluded_volunteers": ["v3"],
            }
        ],
    )
    plan = solve_checked(problem)
    assert teams(plan)["n1"][0] == ["v1"]
    assert plan.objective.coverage == 4 * 2


def test_value_prefers_bigger_teams_over_a_lone_visit() -> None:
    """Two volunteers at a priority-3 post (12) beat one at a priority-5 visit (10) when they clash."""
    problem = problem2(
        [vol("v1", availability=["sat-am"]), vol("v2", availability=["sat-am"])],
        [
            post("n1", low=2, high=2, windows=["sat-am"]),
            post(
                "n2",
                site=None,
                priority=None,
                beneficiary="b1",
                service="civility_guidance",
                windows=["sat-am"],
            ),
        ],
        beneficiaries=[{"id": "b1", "category": "elderly", "district": "d1", "priority": 5}],
    )
    plan = solve_checked(problem)
    assert teams(plan) == {"n1": (["v1", "v2"], ["sat-am"])}
    assert unmet(plan) == {"n2": [codes.CAPACITY_TAKEN]}


def test_too_large_is_refused_with_a_reason_and_solve_any_takes_the_city_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(posts_model, "MAX_PAIRS", 1)
    problem = problem2([vol("v1"), vol("v2")], [post(high=2)])
    with pytest.raises(PostsTooLargeError, match="2 eligible volunteer-need pairs, more than the 1"):
        solve_posts(problem, 5.0)
    result = solve_any(problem, 5.0)  # what the compact model refuses never reaches it
    assert result.route == "posts-city"
    assert isinstance(result.plan, Plan2)
    assert teams(result.plan) == {"n1": (["v1", "v2"], ["sat-am"])}


def test_cli_solves_format2(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    run = subprocess.run(
        [sys.executable, "-m", "linli.cli", "solve", str(EXAMPLE2), "--out", str(out), "--summary"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["format"] == 2
    assert plan["objective"]["coverage"] == 62
    assert "posts: 2 of 2 run, 7 volunteers on them; 1 could take 2 more" in run.stdout


def test_cli_resolves_and_applies_format2(tmp_path: Path) -> None:
    """linli resolve and linli apply take a format-2 problem (the example's changes: v-li leaves)."""
    changes = tmp_path / "changes.json"
    changes.write_text(
        json.dumps({"format": 1, "volunteers_withdrawn": [{"volunteer": "v-li"}]}), encoding="utf-8"
    )
    out = tmp_path / "plan.json"
    plan2 = str(REPO / "examples" / "example-plan-format2.json")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "linli.cli",
            "resolve",
            str(EXAMPLE2),
            "--plan",
            plan2,
            "--changes",
            str(changes),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["format"] == 2
    assert plan["changed"] == ["n-square-guidance"]
    applied = subprocess.run(
        [sys.executable, "-m", "linli.cli", "apply", str(EXAMPLE2), str(changes)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    assert "v-li" not in [v["id"] for v in json.loads(applied.stdout)["volunteers"]]
    mixed = subprocess.run(
        [
            sys.executable,
            "-m",
            "linli.cli",
            "resolve",
            str(REPO / "examples" / "example-problem.json"),
            "--plan",
            plan2,
            "--changes",
            str(changes),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mixed.returncode == 2
    assert "format 2 plan for a format 1 problem" in mixed.stderr


def test_cp_sat_prover_solves_the_same_model() -> None:
    """prover="cp-sat": the same exact model, the same optimum on the example."""
    from matcher.format.validate2 import validate_plan2
    from matcher.search.posts import solve_posts

    problem = load_any_problem(EXAMPLE2)
    assert isinstance(problem, Problem2)
    result = solve_posts(problem, 10.0, prover="cp-sat", workers=2)
    assert validate_plan2(problem, result.plan) == []
    assert result.plan.status == "optimal"
    assert result.coverage == result.coverage_bound == 62


def test_greedy_start_keeps_every_rule() -> None:
    """The start alone (no solver time) is a valid plan: the greedy keeps every rule."""
    from matcher.format.validate2 import validate_plan2
    from matcher.synth.generate import generate_city_with_posts

    problem = generate_city_with_posts(60, 45, seed=5, posts=0.2)
    result = solve_any(problem, 0.5)
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == []
    assert result.coverage > 0


def test_a_beneficiarys_one_person_need_with_a_lead_keeps_the_lead() -> None:
    """Format 1 has no lead: such a need is not plain, so neither route drops the lead (rule 11)."""
    need = post("n1", 1, 1, lead={"certifications": ["first_aid"]})
    del need["site"], need["priority"]
    need["beneficiary"] = "b1"
    aid = [{"kind": "first_aid", "expires": "2027-12-31"}]
    # v1 served b1 last week (continuity pulls towards him) but holds no first aid.
    volunteers = [vol("v1"), vol("v2", certifications=aid)]
    for needs in ([need], [need, post("n2", 2, 3)]):
        problem = problem2(volunteers, needs, previous=[{"volunteer": "v1", "beneficiary": "b1"}])
        assert not problem.is_plain
        plan = solve_checked(problem)
        assert teams(plan)["n1"][0] == ["v2"]

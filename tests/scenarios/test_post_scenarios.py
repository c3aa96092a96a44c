"""Tests of the scenarios with group posts (format 2): ``add_posts`` and the shipped event weeks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher.format.errors import InputError
from matcher.format.evaluate import coverage2_of
from matcher.format.schema import Problem, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.synth.generate import generate_city
from scenarios.model import check_references, load_scenario, parse_scenario
from scenarios.output import markdown
from scenarios.perturbations import AddPosts, apply
from scenarios.perturbations.posts import as_format2
from scenarios.run import Task, measure2, run_task, solve_task
from scenarios.simulate import candidates, simulate

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
POST_SCENARIOS = ("civility-weekend", "tree-planting", "site-health-checks")

CROSSROADS: dict[str, Any] = {
    "kind": "add_posts",
    "sites": [{"id": "square", "name": "雄关广场", "district": "d1"}],
    "posts": [
        {
            "id": "guidance",
            "sites": ["square"],
            "service": "civility_guidance",
            "priority": 2,
            "hours": 3,
            "windows": ["sat-am", "sun-am"],
            "volunteers": {"min": 2, "max": 5},
            "minor_ok": True,
        },
        {
            "id": "crossroads",
            "per_district": {"count": 1.5, "name": "十字路口"},
            "service": "civility_guidance",
            "priority": 3,
            "hours": 2,
            "windows": ["sat-am", "sat-pm", "sun-am", "sun-pm"],
            "volunteers": {"min": 2, "max": 4},
            "lead": {"certifications": ["traffic"]},
            "minor_ok": True,
        },
    ],
}


def scenario(perturbations: list[dict[str, Any]], **fields: Any) -> Any:
    """A scenario on a generated city (replaced by the tests' base), advice off unless asked."""
    doc: dict[str, Any] = {
        "name": "posts",
        "base": {"generate": {"volunteers": 60, "beneficiaries": 45, "districts": 3, "seed": 5}},
        "runs": 2,
        "seed": 11,
        "time_limit": 3,
        "advice": {"candidates": 0},
        "perturbations": perturbations,
    }
    doc.update(fields)
    return parse_scenario(doc)


@pytest.fixture(scope="module")
def city() -> Problem:
    """A small three-district format-1 city."""
    return generate_city(60, 45, 3, seed=5)


def _districts(city: Problem) -> dict[str, Any]:
    """CROSSROADS with its named site in the city's first district."""
    doc = copy.deepcopy(CROSSROADS)
    doc["sites"][0]["district"] = city.districts[0].id
    return doc


def _add(city: Problem, doc: dict[str, Any], run: int, seed: int = 1) -> Problem2:
    p = scenario([doc]).perturbations[0]
    assert isinstance(p, AddPosts)
    out = apply(p, city, np.random.default_rng([seed, run, 0]), 0)
    assert isinstance(out, Problem2)
    return out


# ----------------------------------------------------------------------------- the perturbation


def test_add_posts_makes_a_valid_format2_week_keeping_the_care_visits(city: Problem) -> None:
    """The week becomes format 2: the old needs unchanged (one volunteer each), the posts added at
    their sites, and the whole re-validates as a format-2 problem."""
    week = _add(city, _districts(city), run=0)
    again = Problem2.model_validate(week.model_dump(mode="json"))
    assert again.format == 2
    old = {n.id: n for n in city.needs}
    kept = [n for n in week.needs if n.id in old]
    assert len(kept) == len(city.needs)
    for n in kept:
        assert n.beneficiary == old[n.id].beneficiary and n.volunteers.max == 1 and not n.is_post
        assert (n.hours, n.sessions, n.windows, n.requires) == (
            old[n.id].hours,
            old[n.id].sessions,
            old[n.id].windows,
            old[n.id].requires,
        )
    posts = [n for n in week.needs if n.is_post]
    square = [n for n in posts if n.id.endswith("+guidance")]
    assert len(square) == 1 and square[0].site == "p0.square" and square[0].volunteers.max == 5
    crossroads = [n for n in posts if n.id.endswith("+crossroads")]
    per = {d.id: sum(1 for n in crossroads if f".{d.id}." in str(n.site)) for d in city.districts}
    assert all(k in (1, 2) for k in per.values()), per
    assert all(n.lead is not None and n.lead.certifications == ["traffic"] for n in crossroads)
    names = {s.id: s.name for s in week.sites}
    assert names["p0.square"] == "雄关广场"
    assert all("十字路口" in names[str(n.site)] for n in crossroads)


def test_add_posts_is_deterministic_with_its_seed_and_draws_fractions(city: Problem) -> None:
    """The same (seed, run) gives the same week; over runs, a count of 1.5 gives one or two sites
    a district, about half the time each."""
    doc = _districts(city)
    assert _add(city, doc, run=3) == _add(city, doc, run=3)
    counts = [sum(n.id.endswith("+crossroads") for n in _add(city, doc, run=r).needs) for r in range(40)]
    assert len(set(counts)) > 1
    mean = sum(counts) / len(counts)
    assert 1.5 * 3 - 1 < mean < 1.5 * 3 + 1
    assert all(3 <= c <= 6 for c in counts)


def test_add_posts_on_a_format2_week_keeps_its_posts(city: Problem) -> None:
    """A second add_posts adds to the first one's posts (ids kept apart by the index)."""
    p = scenario([_districts(city), _districts(city)]).perturbations
    one = apply(p[0], city, np.random.default_rng(1), 0)
    two = apply(p[1], one, np.random.default_rng(2), 1)
    assert isinstance(one, Problem2) and isinstance(two, Problem2)
    Problem2.model_validate(two.model_dump(mode="json"))
    assert len(two.sites) > len(one.sites) and {s.id for s in one.sites} <= {s.id for s in two.sites}


def test_other_perturbations_keep_a_format2_week(city: Problem) -> None:
    """Attrition, recruitment and demand growth after add_posts keep the week format 2 and valid."""
    doc = _districts(city)
    district = city.districts[1].id
    sc = scenario(
        [
            doc,
            {"kind": "attrition", "rate": 0.3},
            {"kind": "recruitment", "count": 5, "skills": ["civility_guidance"], "district": district},
            {"kind": "demand_growth", "category": "elderly", "rate": 0.5},
        ]
    )
    week: Problem | Problem2 = city
    for j, p in enumerate(sc.perturbations):
        week = apply(p, week, np.random.default_rng([1, 0, j]), j)
    assert isinstance(week, Problem2)
    Problem2.model_validate(week.model_dump(mode="json"))
    assert any(v.id.startswith("p2") or "civility_guidance" in v.skills for v in week.volunteers)


BAD: list[tuple[list[tuple[str, Any]], str]] = [
    (
        [("posts.0.volunteers", {"min": 6, "max": 3})],
        "perturbations[0].posts[0].volunteers: min 6 is more than max 3",
    ),
    ([("posts.0.service", "guidance")], "perturbations[0].posts[0].service: unknown service code 'guidance'"),
    ([("posts.0.priority", 9)], "perturbations[0].posts[0].priority"),
    ([("posts.0.windows", ["sat-noon"])], "perturbations[0].posts[0].windows[0]: unknown slot 'sat-noon'"),
    (
        [("posts.0.per_district", {"count": 1, "name": "广场"})],
        "perturbations[0].posts[0]: give exactly one of 'sites' and 'per_district'",
    ),
    ([("posts.0.sites", ["nowhere"])], "perturbations[0].posts[0].sites[0]: unknown site 'nowhere'"),
    ([("posts.1.lead", {"certifications": ["trafic"]})], "perturbations[0].posts[1].lead.certifications[0]"),
    (
        [("posts.1.lead", {})],
        "perturbations[0].posts[1].lead: a lead names at least one certification or skill",
    ),
    ([("posts.0.minors", True)], "perturbations[0].posts[0].minors: unknown field"),
    ([("posts.1.id", "guidance")], "perturbations[0].posts[1].id: 'guidance' is listed twice"),
    ([("sites.0.district", "nowhere")], "perturbations[0].sites[0].district: unknown district 'nowhere'"),
    (
        [("posts.1.per_district", {"count": 1, "name": "路口", "districts": ["nowhere"]})],
        "perturbations[0].posts[1].per_district.districts[0]: unknown district 'nowhere'",
    ),
]


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *head, last = path.split(".")
    node: Any = doc
    for part in head:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(("edits", "expected"), BAD)
def test_a_bad_field_is_one_error_naming_it(
    city: Problem, edits: list[tuple[str, Any]], expected: str
) -> None:
    """A bad add_posts field gives one InputError line naming the field (as the service shows it)."""
    doc = _districts(city)
    for path, value in edits:
        _set(doc, path, value)
    with pytest.raises(InputError) as err:
        check_references(scenario([doc]), city)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(expected), message


# ----------------------------------------------------------------------------- measuring format 2


def test_format2_without_posts_measures_as_format1(city: Problem) -> None:
    """The same week written in format 2 (no posts) gives format 1's coverage, demand, categories,
    districts and reasons: a one-person need counts the same in both formats."""
    task = Task(0, (), 1, 10)
    one = run_task(city, task)
    two = run_task(as_format2(city), task)
    assert one.settled and two.settled
    assert (two.coverage, two.demand) == (one.coverage, one.demand)
    assert two.by_category == one.by_category and two.by_district == one.by_district
    assert two.posts is None and sum(two.reasons.values()) == sum(one.reasons.values())


def test_a_runs_coverage_is_the_plans_and_counts_each_post(city: Problem) -> None:
    """A run with posts: its plan is valid (validate2), its coverage is the plan's exact coverage
    (each volunteer on a post counted), and the posts' counts add up."""
    sc = scenario([_districts(city)])
    week, result = solve_task(city, Task(0, tuple(sc.perturbations), sc.seed, 5))
    assert isinstance(week, Problem2)
    assert validate_plan2(week, result.plan) == []
    r = measure2(week, 0, result.plan, result.plan.status == "optimal", 0.0)
    assert r.coverage == coverage2_of(week, result.plan.assignments) == result.plan.objective.coverage
    assert r.posts is not None
    posts = [n for n in week.needs if n.is_post]
    ran = {a.need: len(a.volunteers) for a in result.plan.assignments}
    assert r.posts.posts == len(posts) and r.posts.run + r.posts.not_run == len(posts)
    assert r.posts.run == sum(1 for n in posts if n.id in ran)
    assert r.posts.volunteers == sum(ran.get(n.id, 0) for n in posts)
    assert r.posts.places_open == sum(n.volunteers.max - ran[n.id] for n in posts if n.id in ran)
    full = sum(week.priority_of(n) * n.hours * n.sessions * n.volunteers.max for n in week.needs)
    assert float(r.demand) == pytest.approx(full)
    assert sum(c.covered for c in r.by_district.values()) == r.coverage
    assert sum(c.demand for c in r.by_category.values()) == r.demand
    assert set(r.posts.reasons) <= {code for u in result.plan.unmet for code in u.reasons}


def test_the_advice_recruits_for_posts_first_with_the_leads_certificate(city: Problem) -> None:
    """Posts left unstaffed come first in the advice, and recruits hold the lead's certificate
    when a quarter of the gap's value asks for a lead with it."""
    doc = _districts(city)
    doc["posts"] = [doc["posts"][1]]  # only the crossroads, each led by a traffic-certified volunteer
    doc["sites"] = []
    doc["posts"][0]["volunteers"] = {"min": 4, "max": 6}
    sc = scenario([doc], advice={"recruits": 5, "candidates": 2, "runs": 1})
    runs = [run_task(city, Task(i, tuple(sc.perturbations), sc.seed, 3)) for i in range(2)]
    assert all(r.posts is not None and (r.posts.not_run or r.posts.places_open) for r in runs)
    tried = candidates(sc, city, runs)
    assert tried and tried[0].skills == ["civility_guidance"] and "traffic" in tried[0].certifications
    assert tried[0].district in {d.id for d in city.districts}


# ----------------------------------------------------------------------------- shipped scenarios


@pytest.mark.parametrize("name", POST_SCENARIOS)
def test_shipped_post_scenario_runs_on_a_small_week(city: Problem, name: str) -> None:
    """Each shipped post scenario loads, applies to another week (the service's case: a format-1
    week with other district names), solves to valid plans and reports its posts."""
    sc, _ = load_scenario(SCENARIO_DIR / f"{name}.yaml")
    assert any(isinstance(p, AddPosts) for p in sc.perturbations)
    sc = sc.model_copy(
        update={"time_limit": 3.0, "advice": sc.advice.model_copy(update={"candidates": 1, "runs": 1})}
    )
    for run in range(2):
        week, result = solve_task(city, Task(run, tuple(sc.perturbations), sc.seed, sc.time_limit))
        assert isinstance(week, Problem2) and week.has_posts
        assert validate_plan2(week, result.plan) == []
    sim = simulate(sc, Path("."), runs=2, problem=city)
    report = sim.report
    posts = report["posts"]
    assert posts["posts"]["mean"] > 0 and posts["posts"]["base"] == 0
    assert posts["run"]["mean"] + posts["not_run"]["mean"] == pytest.approx(posts["posts"]["mean"])
    assert [row["posts_run"] for row in report["per_run"]] == [r.posts.run for r in sim.runs if r.posts]
    assert report["base"]["sites"] == 0
    assert len(report["recruit_first"]) == 1
    services = {post.service for p in sc.perturbations if isinstance(p, AddPosts) for post in p.posts}
    if posts["not_run"]["mean"] or posts["places_open"]["mean"]:  # the posts' gaps come first
        assert report["recruit_first"][0]["skill"] in services
    summary = markdown(report)
    assert "## Group posts" in summary and f"of {posts['posts']['mean']:.1f} posts run" in summary

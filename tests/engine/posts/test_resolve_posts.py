"""Re-solving format-2 plans: a withdrawal keeps, refills or releases a post; ``changed`` says which."""

from __future__ import annotations

import json
from pathlib import Path

from posts_support import post, problem2, solve_checked, vol

from matcher.format import reasons as codes
from matcher.format.io import load_any_problem, parse
from matcher.format.schema import ChangeSet, Plan2, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.progress import Progress
from matcher.resolve_posts import apply_changes2, resolve_posts

REPO = Path(__file__).resolve().parents[3]


def _example() -> tuple[Problem2, Plan2]:
    problem = load_any_problem(REPO / "examples" / "example-problem-format2.json")
    assert isinstance(problem, Problem2)
    plan = Plan2.model_validate_json(
        (REPO / "examples" / "example-plan-format2.json").read_text(encoding="utf-8")
    )
    return problem, plan


def _changes(**doc: object) -> ChangeSet:
    return parse(ChangeSet, {"format": 1, **doc}, "changes")


def _teams(plan: Plan2) -> dict[str, list[str]]:
    return {a.need: sorted(a.volunteers) for a in plan.assignments}


def test_losing_the_lead_releases_the_post_and_shrinks_another() -> None:
    """v-chen leaves: the river patrol has no first-aider left (released, unmet); the square keeps three."""
    problem, plan = _example()
    changes = _changes(volunteers_withdrawn=[{"volunteer": "v-chen"}])
    new = resolve_posts(problem, plan, changes, 10.0)
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    assert new.changed == ["n-square-guidance", "n-river-patrol"]
    assert _teams(new)["n-chen-care"] == ["v-wang"]  # untouched, not moved
    assert _teams(new)["n-square-guidance"] == ["v-li", "v-wang", "v-zhao"]
    assert {u.need: u.reasons for u in new.unmet} == {
        "n-river-patrol": [
            codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH,
            codes.NO_AVAILABLE_SLOT,
            codes.NO_LEAD_VOLUNTEER,
        ]
    }
    assert new.objective.coverage == 20 + 3 * 2 * 3


def test_a_post_still_at_its_minimum_is_kept() -> None:
    """The minor leaves the river patrol: two remain (its min), with the lead: kept, nothing moves."""
    problem, plan = _example()
    changes = _changes(volunteers_withdrawn=[{"volunteer": "v-xiaoming", "slots": ["sat-pm"]}])
    new = resolve_posts(problem, plan, changes, 10.0)
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    assert new.changed == ["n-river-patrol"]
    assert _teams(new)["n-river-patrol"] == ["v-chen", "v-zhao"]
    assert next(a for a in new.assignments if a.need == "n-river-patrol").places_open == 3


def test_a_post_is_refilled_by_a_new_volunteer() -> None:
    problem = problem2([vol("v1"), vol("v2"), vol("v3")], [post(low=2, high=3, windows=["sat-am"])])
    plan = Plan2.model_validate(
        {
            "format": 2,
            "status": "optimal",
            "assignments": [{"need": "n1", "volunteers": ["v1", "v2", "v3"], "slots": ["sat-am"]}],
            "unmet": [],
            "objective": {"coverage": 18, "coverage_bound": 18, "continuity": 0},
            "solve_seconds": 0.0,
        }
    )
    assert validate_plan2(problem, plan) == []
    changes = _changes(
        volunteers_withdrawn=[{"volunteer": "v3"}],
        volunteers_added=[json.loads(json.dumps(vol("v4")))],
    )
    new = resolve_posts(problem, plan, changes, 10.0)
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    assert _teams(new) == {"n1": ["v1", "v2", "v4"]}
    assert new.changed == ["n1"]


def test_below_its_minimum_a_post_is_released_whole_and_staffed_again_if_it_can_be() -> None:
    problem = problem2(
        [
            vol("v1", availability=["sat-am", "sun-am"]),
            vol("v2", availability=["sat-am"]),
            vol("v3", availability=["sun-am"]),
        ],
        [post(low=2, high=2)],
    )
    plan = Plan2.model_validate(
        {
            "format": 2,
            "status": "optimal",
            "assignments": [{"need": "n1", "volunteers": ["v1", "v2"], "slots": ["sat-am"]}],
            "unmet": [],
            "objective": {"coverage": 12, "coverage_bound": 12, "continuity": 0},
            "solve_seconds": 0.0,
        }
    )
    changes = _changes(volunteers_withdrawn=[{"volunteer": "v2"}])
    new = resolve_posts(problem, plan, changes, 10.0)
    assert validate_plan2(apply_changes2(problem, changes), new) == []
    assert [(a.volunteers, a.slots) for a in new.assignments] == [(["v1", "v3"], ["sun-am"])]
    assert new.changed == ["n1"]


def _changed_since(**volunteer_fields: dict[str, object]) -> Problem2:
    """The example's problem with volunteers' records changed since its plan was made (the service
    re-solves on its people as they are now)."""
    problem, _ = _example()
    doc = problem.model_dump(mode="json", exclude_none=True)
    for v in doc["volunteers"]:
        v.update(volunteer_fields.get(v["id"].replace("-", "_"), {}))
    changed = parse(Problem2, doc, "problem")
    return changed


def _hours(problem: Problem2, plan: Plan2, volunteer: str) -> float:
    needs = {n.id: n for n in problem.needs}
    return sum(
        needs[a.need].hours * needs[a.need].sessions for a in plan.assignments if volunteer in a.volunteers
    )


def test_a_kept_member_whose_max_hours_fell_is_released_where_he_no_longer_fits() -> None:
    """v-wang serves 6 h (Chen's care, 4 h, and the square, 2 h); his max_hours fell to 4 since: the
    plan in force no longer validates, the re-solve keeps him where he is worth most and releases
    him from the rest, and ``changed`` says where."""
    _, plan = _example()
    problem = _changed_since(v_wang={"max_hours": 4})
    assert validate_plan2(problem, plan) != []  # the plan in force breaks rule 5 now
    new = resolve_posts(problem, plan, ChangeSet(format=1), 10.0)
    assert validate_plan2(problem, new) == []
    assert _hours(problem, new, "v-wang") <= 4
    assert new.changed and set(new.changed) <= {"n-chen-care", "n-square-guidance"}
    before = _teams(plan)
    assert _teams(new)["n-river-patrol"] == before["n-river-patrol"]  # untouched: kept as it was


def test_a_kept_member_whose_max_beneficiaries_fell_keeps_one_place() -> None:
    """v-zhao is on the square and the river patrol (two places); max_beneficiaries fell to 1."""
    _, plan = _example()
    problem = _changed_since(v_zhao={"max_beneficiaries": 1})
    assert validate_plan2(problem, plan) != []
    new = resolve_posts(problem, plan, ChangeSet(format=1), 10.0)
    assert validate_plan2(problem, new) == []
    assert sum("v-zhao" in a.volunteers for a in new.assignments) == 1
    assert new.changed and set(new.changed) <= {"n-square-guidance", "n-river-patrol"}


def test_a_lost_certificate_or_availability_releases_the_member() -> None:
    """v-chen's first-aid certificate expired (the river patrol's only lead holder) and v-li is no
    longer free on Sunday morning: both are released, the plan stays valid."""
    _, plan = _example()
    problem = _changed_since(
        v_chen={"certifications": [{"kind": "first_aid", "expires": "2026-12-01"}]},
        v_li={"availability": ["sat-am"]},
    )
    assert validate_plan2(problem, plan) != []
    new = resolve_posts(problem, plan, ChangeSet(format=1), 10.0)
    assert validate_plan2(problem, new) == []
    teams = _teams(new)
    assert "v-li" not in teams.get("n-square-guidance", [])
    assert "n-river-patrol" in (new.changed or [])


def test_a_re_solve_reports_its_progress() -> None:
    """``start`` with the kept teams' coverage and no bound, then ``prove`` and ``done`` with the
    plan's figures; coverage never falls."""
    problem, plan = _example()
    changes = _changes(volunteers_withdrawn=[{"volunteer": "v-chen"}])
    reports: list[Progress] = []
    new = resolve_posts(problem, plan, changes, 10.0, reports.append)
    assert [r.stage for r in reports] == ["start", "prove", "done"]
    start, _, done = reports
    # v-chen's one-to-one visit goes; the square keeps three, the river patrol is released.
    assert start.bound is None and start.coverage == 20 + 3 * 2 * 3
    assert done.coverage == new.objective.coverage and done.bound == new.objective.coverage_bound
    assert done.proved == (new.status == "optimal")
    assert [r.coverage for r in reports] == sorted(r.coverage for r in reports)


def test_a_member_over_his_hours_keeps_the_post_that_would_not_run_without_him() -> None:
    """v1 serves a post at its min of two (3 x 2 h each, 12 in all) and a one-to-one visit (4 x 2 h,
    8); his max_hours fell to 2.  Keeping the visit (the more valuable per volunteer) would release
    the post whole, as no one else can take his place: the post is kept, the visit released."""

    def week(max_hours: float) -> Problem2:
        return problem2(
            [vol("v1", max_hours=max_hours), vol("v2", availability=["sat-am"])],
            [
                post("n1", low=2, high=2, windows=["sat-am"]),
                post("n2", site=None, priority=None, beneficiary="b1", windows=["sat-pm"]),
            ],
        )

    plan = solve_checked(week(10))
    assert _teams(plan) == {"n1": ["v1", "v2"], "n2": ["v1"]}
    now = week(2)
    new = resolve_posts(now, plan, ChangeSet(format=1), 10.0)
    assert validate_plan2(now, new) == []
    assert _teams(new) == {"n1": ["v1", "v2"]} and new.changed == ["n2"]
    assert new.objective.coverage == 12

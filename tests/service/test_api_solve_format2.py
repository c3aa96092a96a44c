"""``POST /v1/solve`` with a format-2 problem (group posts): the job's plan is format 2 and valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api_support import City

from matcher.format.io import parse
from matcher.format.schema import Plan2, Problem2
from matcher.format.validate2 import validate_plan2

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example2() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / "example-problem-format2.json").read_text("utf-8"))
    return doc


def test_a_format2_problem_gets_a_format2_plan(city: City) -> None:
    """The format-2 example through the API: done, format 2, every rule kept, its shipped optimum."""
    doc = _example2()
    r = city.client.post("/v1/solve", json=doc, headers=city.headers(city.stations[0]))
    assert r.status_code == 202, r.text
    body = city.wait(r.json()["id"], city.stations[0])
    assert body["state"] == "done", body
    plan = parse(Plan2, body["plan"], "plan")
    assert plan.format == 2
    problem = parse(Problem2, doc, "problem")
    assert validate_plan2(problem, plan) == []
    shipped = json.loads((EXAMPLES / "example-plan-format2.json").read_text("utf-8"))
    assert plan.objective.coverage == shipped["objective"]["coverage"]
    # A post's members are listed together, not as one-volunteer assignments.
    assert any(len(a.volunteers) > 1 for a in plan.assignments)


def test_a_change_set_on_a_format2_job_keeps_format2(city: City) -> None:
    """A volunteer withdrawn from an integrator's format-2 job: the re-solve is format 2, valid."""
    doc = _example2()
    h = city.headers()
    first = city.wait(city.client.post("/v1/solve", json=doc, headers=h).json()["id"])
    assert first["state"] == "done", first
    taken = next(a for a in first["plan"]["assignments"] if len(a["volunteers"]) > 1)
    withdrawn = {"volunteer": taken["volunteers"][0], "slots": taken["slots"][:1]}
    r = city.client.post(
        f"/v1/plans/{first['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [withdrawn]},
        headers=h,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"])
    assert second["state"] == "done", second
    plan = parse(Plan2, second["plan"], "plan")
    problem = parse(
        Problem2, city.client.get(f"/v1/plans/{second['id']}/problem", headers=h).json(), "problem"
    )
    assert validate_plan2(problem, plan) == []
    assert all(
        withdrawn["volunteer"] not in a.volunteers or not set(withdrawn["slots"]) & set(a.slots)
        for a in plan.assignments
    )
    assert taken["need"] in (plan.changed or [])


def test_a_bad_format2_problem_is_422_naming_the_field(city: City) -> None:
    """Format 2's own bounds answer 422 with the field, like format 1's."""
    doc = _example2()
    post = next(i for i, n in enumerate(doc["needs"]) if "site" in n)
    doc["needs"][post]["volunteers"] = {"min": 3, "max": 2}
    r = city.client.post("/v1/solve", json=doc, headers=city.headers())
    assert r.status_code == 422
    assert r.json()["detail"].startswith(f"needs[{post}]"), r.json()

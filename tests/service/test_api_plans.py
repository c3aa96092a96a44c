"""The coordinator service's plan workflow, on SQLite and on PostgreSQL.

Every finished plan is held to the independent validator against the problem the service
built; re-solves to the re-solve contract (kept assignments identical, ``changed`` exact).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from api_support import City
from sqlmodel import Session, select

from api.models import PlanAssignment, Volunteer
from matcher.format.io import parse
from matcher.format.schema import Plan, Problem
from matcher.format.validate import validate_plan
from matcher.synth.generate import generate_city

WEEK = "2026-12-07"


def _generate(city: City, station: str, week: str = WEEK) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": week}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] in ("queued", "solving")
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _final_progress_matches(body: dict[str, Any]) -> None:
    """The job's last progress report is the plan it stored: done, the same proof, and
    coverage over bound as the plan's own figures."""
    progress, objective = body["progress"], body["plan"]["objective"]
    assert progress is not None and progress["stage"] == "done"
    assert progress["proved"] == (body["plan"]["status"] == "optimal")
    assert 0 <= progress["coverage"] <= progress["bound"] <= 1
    if objective["coverage_bound"]:
        expected = objective["coverage"] / objective["coverage_bound"]
        assert progress["coverage"] / progress["bound"] == pytest.approx(expected)
    assert progress["gap"] == pytest.approx(1 - progress["coverage"] / progress["bound"], abs=1e-9)


def _checked(city: City, body: dict[str, Any], station: str | None) -> tuple[Problem, Plan]:
    """The version's problem and plan, with the plan validated against the problem."""
    doc = city.client.get(f"/v1/plans/{body['id']}/problem", headers=city.headers(station)).json()
    problem = parse(Problem, doc, "problem")
    plan = parse(Plan, body["plan"], "plan")
    assert validate_plan(problem, plan) == []
    return problem, plan


def test_generate_a_week(city: City) -> None:
    """POST plans answers 202; the poll ends done with a valid plan stored as rows too."""
    station = city.stations[0]
    body = _generate(city, station)
    problem, plan = _checked(city, body, station)
    assert body["version"] == 1 and body["station_id"] == station
    assert plan.assignments, "the demo station should cover something"
    _final_progress_matches(body)
    with Session(city.engine) as session:
        rows = session.exec(select(PlanAssignment).where(PlanAssignment.plan_id == body["id"])).all()
        assert sorted(r.need_id for r in rows) == sorted(a.need for a in plan.assignments)
        station_vols = {v.id for v in session.exec(select(Volunteer).where(Volunteer.station_id == station))}
    assert {v.id for v in problem.volunteers} <= station_vols


def test_minors_without_consent_are_never_scheduled(city: City) -> None:
    """A minor volunteer without recorded guardian consent is left out of the week's problem."""
    station = city.stations[0]
    with Session(city.engine) as session:
        minors = session.exec(select(Volunteer).where(Volunteer.station_id == station, Volunteer.minor)).all()
        assert minors, "the demo city has little volunteers"
        for v in minors:
            v.guardian_consent = False
            session.add(v)
        session.commit()
        ids = {v.id for v in minors}
    problem, plan = _checked(city, _generate(city, station), station)
    assert not ids & {v.id for v in problem.volunteers}
    assert not ids & {a.volunteer for a in plan.assignments}


def test_last_week_feeds_previous(city: City) -> None:
    """Next week's problem lists this week's pairs as ``previous``."""
    station = city.stations[0]
    _, plan = _checked(city, _generate(city, station), station)
    problem2, _ = _checked(city, _generate(city, station, "2026-12-14"), station)
    assert problem2.previous, "pairs of the week before"
    assert {(p.volunteer, p.beneficiary) for p in problem2.previous} <= {
        (a.volunteer, b) for a in plan.assignments for b in [_ben(problem2, a.need)] if b
    }


def _ben(problem: Problem, need: str) -> str | None:
    return next((n.beneficiary for n in problem.needs if n.id == need), None)


def test_change_set_makes_the_next_version(city: City) -> None:
    """A change set re-solves into version 2: kept assignments identical, `changed` and diff agree."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    first = _generate(city, station)
    _, plan1 = _checked(city, first, station)
    gone = plan1.assignments[0].volunteer
    r = c.post(
        f"/v1/plans/{first['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": gone}]},
        headers=h,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done" and second["version"] == 2 and second["parent_id"] == first["id"]
    problem2, plan2 = _checked(city, second, station)
    _final_progress_matches(second)  # the re-solve's progress counts the kept assignments too
    assert next(v for v in problem2.volunteers if v.id == gone).availability == []
    before = {a.need: (a.volunteer, sorted(a.slots)) for a in plan1.assignments}
    after = {a.need: (a.volunteer, sorted(a.slots)) for a in plan2.assignments}
    for need, (vol, slots) in before.items():
        if vol != gone:
            assert after[need] == (vol, slots)
    changed = [n.id for n in problem2.needs if before.get(n.id) != after.get(n.id)]
    assert plan2.changed == changed
    d = c.get(f"/v1/plans/{second['id']}/diff", params={"against": first["id"]}, headers=h).json()
    assert [e["need"] for e in d["changed"]] == changed


def test_two_concurrent_changes_one_wins(city: City) -> None:
    """Two change sets posted at once on one version: exactly one 202, the other 409; nothing lost."""
    station = city.stations[0]
    first = _generate(city, station)
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def post(need: str) -> None:
        barrier.wait()
        r = city.client.post(
            f"/v1/plans/{first['id']}/changes",
            json={"format": 1, "needs_cancelled": [need]},
            headers=city.headers(station),
        )
        codes.append(r.status_code)

    needs = [a["need"] for a in first["plan"]["assignments"][:2]]
    threads = [threading.Thread(target=post, args=(n,)) for n in needs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [202, 409]
    versions = city.client.get(f"/v1/stations/{station}/plans", headers=city.headers(station)).json()
    assert sorted(v["version"] for v in versions) == [1, 2]
    assert (
        city.client.get(f"/v1/plans/{first['id']}", headers=city.headers(station)).json()["plan"]
        == first["plan"]
    )


def test_cancel_a_running_solve_leaves_the_previous_version(city: City) -> None:
    """DELETE stops a running re-solve; the version it started from is intact and open again."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    first = _generate(city, station)
    r = c.post(f"/v1/plans/{first['id']}/changes", json={"format": 1}, headers=h)
    assert r.status_code == 202
    cancelled = c.delete(f"/v1/plans/{r.json()['id']}", headers=h)
    assert cancelled.status_code in (200, 409), cancelled.text  # 409 only if it already finished
    if cancelled.status_code == 200:
        assert cancelled.json()["state"] == "cancelled"
        again = c.post(f"/v1/plans/{first['id']}/changes", json={"format": 1}, headers=h)
        assert again.status_code == 202, again.text
        assert city.wait(again.json()["id"], station)["state"] == "done"
    assert c.get(f"/v1/plans/{first['id']}", headers=h).json()["plan"] == first["plan"]


def test_failed_solve_reports_its_error(city: City) -> None:
    """A problem the engine refuses (hours that cannot be combined exactly) ends failed with the message."""
    problem = city.client.get(
        f"/v1/plans/{_generate(city, city.stations[0])['id']}/problem", headers=city.headers()
    ).json()
    for i, need in enumerate(problem["needs"][:12]):
        need["hours"] = 1 + 1 / (7 + 2 * i)  # many unrelated fractions of an hour
    r = city.client.post("/v1/solve", json=problem, headers=city.headers())
    assert r.status_code == 202, r.text
    body = city.wait(r.json()["id"])
    assert body["state"] == "failed" and "common denominator" in (body["error"] or ""), body


def test_solve_endpoint_for_integrators(city: City, example_doc: dict[str, Any]) -> None:
    """POST /v1/solve takes a whole problem; the job's result is the format-1 plan (coverage 43)."""
    r = city.client.post("/v1/solve", json=example_doc, headers=city.headers(city.stations[1]))
    assert r.status_code == 202
    body = city.wait(r.json()["id"], city.stations[1])
    assert body["state"] == "done"
    assert body["plan"]["objective"]["coverage"] == 43
    # Another station's token cannot see the job; the centre can.
    assert (
        city.client.get(f"/v1/plans/{body['id']}", headers=city.headers(city.stations[0])).status_code == 404
    )
    assert city.client.get(f"/v1/plans/{body['id']}", headers=city.headers()).status_code == 200


def test_a_job_may_start_helper_processes(city: City) -> None:
    """A city-size solve, whose bound runs in a helper process, finishes as a job (jobs may have children)."""
    doc = generate_city(1000, 750, seed=1).model_dump(mode="json", exclude_none=True)
    doc["time_limit_s"] = 3
    r = city.client.post("/v1/solve", json=doc, headers=city.headers())
    assert r.status_code == 202, r.text
    body = city.wait(r.json()["id"])
    assert body["state"] == "done", body
    plan = parse(Plan, body["plan"], "plan")
    assert validate_plan(parse(Problem, doc, "problem"), plan) == []
    assert plan.objective.coverage <= plan.objective.coverage_bound


def test_bad_input_is_422_naming_the_field(city: City, example_doc: dict[str, Any]) -> None:
    """Bad problems and change sets answer 422 with the CLI's one-line message."""
    c, h = city.client, city.headers()
    example_doc["needs"][3]["windows"][1] = "mon-noon"
    r = c.post("/v1/solve", json=example_doc, headers=h)
    assert r.status_code == 422
    assert r.json() == {"detail": "needs[3].windows[1]: unknown slot 'mon-noon'"}
    station = city.stations[0]
    first = _generate(city, station)
    r = c.post(f"/v1/plans/{first['id']}/changes", json={"format": 1, "needs_cancelled": ["nope"]}, headers=h)
    assert (r.status_code, r.json()) == (422, {"detail": "needs_cancelled[0]: unknown need 'nope'"})
    r = c.post(f"/v1/plans/{first['id']}/changes", json={"format": 1, "extra": 1}, headers=h)
    assert (r.status_code, r.json()) == (422, {"detail": "extra: unknown field"})
    r = c.post(f"/v1/stations/{station}/plans", json={"week_start": "2026-12-08"}, headers=h)
    assert (r.status_code, r.json()) == (422, {"detail": "week_start: must be a Monday"})


def test_csv_export_of_a_week(city: City) -> None:
    """The week's plan as CSV: one row per need, assigned or unmet."""
    station = city.stations[0]
    body = _generate(city, station)
    r = city.client.get(f"/v1/plans/{body['id']}/assignments.csv", headers=city.headers(station))
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("\ufeffneed,beneficiary,service")  # the byte-order mark is for Excel
    assert len(lines) - 1 == len(body["plan"]["assignments"]) + len(body["plan"]["unmet"])


def test_tokens_are_required(city: City) -> None:
    """No token, a malformed header or an unknown token: 401."""
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer linli_wrong"}):
        assert city.client.get("/v1/stations", headers=headers).status_code == 401


def test_station_token_sees_only_its_station(city: City) -> None:
    """Station lists are scoped; the centre sees every station."""
    a, b = city.stations
    assert [s["id"] for s in city.client.get("/v1/stations", headers=city.headers(a)).json()] == [a]
    assert sorted(s["id"] for s in city.client.get("/v1/stations", headers=city.headers()).json()) == sorted(
        [a, b]
    )
    assert city.client.get(f"/v1/stations/{b}", headers=city.headers(a)).status_code == 404


def test_a_week_s_earlier_change_sets_still_hold_after_the_next(city: City) -> None:
    """Version 3 is made from the station's people as they are now with version 2's change
    set carried: the volunteer withdrawn stays withdrawn, the cancelled need stays cancelled,
    the urgent need stays added (before, version 3 brought them all back)."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    first = _generate(city, station)
    problem1, plan1 = _checked(city, first, station)
    gone = plan1.assignments[0].volunteer
    cancelled = next(a.need for a in plan1.assignments if a.volunteer != gone)
    ben = problem1.beneficiaries[0].id
    urgent = {
        "id": "urgent-1",
        "beneficiary": ben,
        "service": problem1.needs[0].service,
        "hours": 1,
        "sessions": 1,
        "windows": ["mon-am", "tue-am"],
    }
    r = c.post(
        f"/v1/plans/{first['id']}/changes",
        json={
            "format": 1,
            "volunteers_withdrawn": [{"volunteer": gone}],
            "needs_cancelled": [cancelled],
            "needs_added": [urgent],
        },
        headers=h,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done", second
    other = next(n.id for n in problem1.needs if n.id != cancelled)
    r = c.post(f"/v1/plans/{second['id']}/changes", json={"format": 1, "needs_cancelled": [other]}, headers=h)
    assert r.status_code == 202, r.text
    third = city.wait(r.json()["id"], station)
    assert third["state"] == "done", third
    problem3, plan3 = _checked(city, third, station)
    assert next(v for v in problem3.volunteers if v.id == gone).availability == []
    needs3 = {n.id for n in problem3.needs}
    assert cancelled not in needs3 and other not in needs3 and "urgent-1" in needs3
    assert all(a.volunteer != gone for a in plan3.assignments)

"""Stand-ins (备选志愿者) on a station's plan and the one-click swap, on SQLite and PostgreSQL.

Every listed stand-in the tests swap in gives a version whose plan the independent validator
accepts against the version's own (changed) problem; the swap's change set is carried by a
later change set like any other.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from api_support import City
from sqlmodel import Session, select

from api.models import PlanAssignment, PlanVersion, ServiceRecord, Volunteer
from matcher.format.io import parse
from matcher.format.schema import ChangeSet, Plan, Problem
from matcher.format.validate import validate_plan

WEEK = "2026-12-07"


def _plan(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _get(city: City, station: str, path: str) -> Any:
    r = city.client.get(path, headers=city.headers(station))
    assert r.status_code == 200, r.text
    return r.json()


def _swap(city: City, station: str, plan_id: int, body: dict[str, Any]) -> Any:
    return city.client.post(f"/v1/plans/{plan_id}/swap", json=body, headers=city.headers(station))


def _valid(city: City, station: str, version: dict[str, Any]) -> tuple[Problem, Plan]:
    problem = parse(Problem, _get(city, station, f"/v1/plans/{version['id']}/problem"), "problem")
    plan = parse(Plan, version["plan"], "plan")
    assert validate_plan(problem, plan) == []
    return problem, plan


def test_the_plan_lists_stand_ins_per_session_and_whole(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    problem, _ = _valid(city, station, plan)
    volunteers = {v.id for v in problem.volunteers}
    listed = 0
    for a in plan["assignments"]:
        assert len(a["standins"]) <= 3
        for s in a["sessions"]:
            assert len(s["standins"]) <= 3
            names = [x["volunteer"] for x in s["standins"]]
            assert a["volunteer"] not in names and set(names) <= volunteers and len(set(names)) == len(names)
            listed += len(names)
        if len(a["sessions"]) == 1:
            assert a["standins"] == a["sessions"][0]["standins"]
    assert listed, "the demo station should have some stand-ins"
    assert "standins" not in str(plan["plan"])  # the format-1 plan stays as the engine wrote it
    # stable between two reads
    assert _get(city, station, f"/v1/plans/{plan['id']}")["assignments"] == plan["assignments"]


def test_a_swap_is_the_next_version_at_once_and_valid(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    a = next(a for a in plan["assignments"] if a["standins"])
    standin = a["standins"][0]["volunteer"]
    r = _swap(city, station, plan["id"], {"assignment_id": a["id"], "volunteer": standin})
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["state"], new["current"], new["parent_id"], new["version"]) == (
        "done",
        True,
        plan["id"],
        plan["version"] + 1,
    )
    problem, swapped = _valid(city, station, new)
    by_need = {x.need: x for x in swapped.assignments}
    assert by_need[a["need"]].volunteer == standin and by_need[a["need"]].slots == a["slots"]
    # everything else stays where it was
    before = {x["need"]: (x["volunteer"], x["slots"]) for x in plan["plan"]["assignments"]}
    after = {x.need: (x.volunteer, x.slots) for x in swapped.assignments}
    assert {n for n in before if before[n] != after.get(n)} == {a["need"]}
    # the change set it amounts to: the volunteer who left is withdrawn from those slots
    with Session(city.engine) as db:
        row = db.get(PlanVersion, new["id"])
        assert row is not None and row.changes is not None
        changes = parse(ChangeSet, row.changes, "changes")
        rows = db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == new["id"])).all()
    assert [(w.volunteer, w.slots) for w in changes.volunteers_withdrawn] == [(a["volunteer"], a["slots"])]
    assert sorted((r.need_id, r.volunteer_id) for r in rows) == sorted(
        (x.need, x.volunteer) for x in swapped.assignments
    )
    assert not {s for v in problem.volunteers if v.id == a["volunteer"] for s in v.availability} & set(
        a["slots"]
    )
    # the old version is superseded: a second swap on it is 409, as a change set would be
    again = _swap(city, station, plan["id"], {"assignment_id": a["id"], "volunteer": standin})
    assert again.status_code == 409, again.text
    assert _get(city, station, f"/v1/plans/{plan['id']}")["current"] is False


def test_one_session_of_several_splits_the_need_and_a_later_change_set_carries_it(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    a, s = next(
        (a, s) for a in plan["assignments"] if len(a["sessions"]) > 1 for s in a["sessions"] if s["standins"]
    )
    standin = s["standins"][0]["volunteer"]
    r = _swap(city, station, plan["id"], {"assignment_id": a["id"], "volunteer": standin, "slot": s["slot"]})
    assert r.status_code == 201, r.text
    new = r.json()
    _, swapped = _valid(city, station, new)
    by_need = {x.need: x for x in swapped.assignments}
    assert a["need"] not in by_need
    moved = by_need[f"{a['need']}+{s['slot']}"]
    rest = by_need[f"{a['need']}+rest"]
    assert (moved.volunteer, moved.slots) == (standin, [s["slot"]])
    assert (rest.volunteer, sorted(rest.slots)) == (
        a["volunteer"],
        sorted(x for x in a["slots"] if x != s["slot"]),
    )
    assert swapped.objective.coverage == plan["plan"]["objective"]["coverage"]
    # A change set on the swapped version re-solves with the swap's change set carried.
    other = sorted({x.volunteer for x in swapped.assignments} - {standin, a["volunteer"]})[0]
    r = city.client.post(
        f"/v1/plans/{new['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": other}]},
        headers=city.headers(station),
    )
    assert r.status_code == 202, r.text
    third = city.wait(r.json()["id"], station)
    assert third["state"] == "done", third
    problem, plan3 = _valid(city, station, third)
    needs = {n.id for n in problem.needs}
    assert a["need"] not in needs and {moved.need, rest.need} <= needs
    leaver = next(v for v in problem.volunteers if v.id == a["volunteer"])
    assert s["slot"] not in leaver.availability
    assert all(x.volunteer != other for x in plan3.assignments)


def test_a_split_session_keeps_its_programme_and_family_in_the_year_ledger(city: City) -> None:
    """The swap's split need (``n7+sat-am``) is no stored need: the 台账 still counts its served
    hours under the need's programme and beneficiary, not under 其他."""
    station = city.stations[0]
    plan = _plan(city, station)
    a, s = next(
        (a, s) for a in plan["assignments"] if len(a["sessions"]) > 1 for s in a["sessions"] if s["standins"]
    )
    r = _swap(
        city,
        station,
        plan["id"],
        {"assignment_id": a["id"], "volunteer": s["standins"][0]["volunteer"], "slot": s["slot"]},
    )
    assert r.status_code == 201, r.text
    new = r.json()
    moved = next(x for x in new["assignments"] if x["need"] == f"{a['need']}+{s['slot']}")
    body = {"assignment_id": moved["id"], "served_on": s["date"], "slot": s["slot"], "hours": 1.0}
    r = city.client.post("/v1/records", json=body, headers=city.headers(station))
    assert r.status_code == 201, r.text
    problem = _get(city, station, f"/v1/plans/{plan['id']}/problem")
    need = next(n for n in problem["needs"] if n["id"] == a["need"])
    category = next(b["category"] for b in problem["beneficiaries"] if b["id"] == need["beneficiary"])
    year = dt.date.fromisoformat(s["date"]).year
    ledger = _get(city, station, f"/v1/stations/{station}/ledger?year={year}")
    hours = {p["programme"]: sum(p["months"]) for p in ledger["hours_by_programme"]}
    assert hours.get(category) == 1.0 and not hours.get("unknown"), hours


def test_a_swap_that_breaks_a_rule_is_422_naming_it(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    problem, _ = _valid(city, station, plan)
    a = plan["assignments"][0]
    listed = {x["volunteer"] for x in a["standins"]} | {a["volunteer"]}
    need = next(n for n in problem.needs if n.id == a["need"])
    # someone without the skill, or not free: never a listed stand-in
    wrong = next(v.id for v in problem.volunteers if v.id not in listed and need.service not in v.skills)
    r = _swap(city, station, plan["id"], {"assignment_id": a["id"], "volunteer": wrong})
    assert r.status_code == 422, r.text
    assert (
        r.json()["detail"].startswith(f"volunteer: '{wrong}' cannot take it: ")
        and "(rule 2)" in r.json()["detail"]
    )
    # the volunteer themself: they are withdrawn from the slots they leave
    r = _swap(city, station, plan["id"], {"assignment_id": a["id"], "volunteer": a["volunteer"]})
    assert r.status_code == 422 and "(rule 3)" in r.json()["detail"], r.text
    assert _get(city, station, f"/v1/plans/{plan['id']}")["current"] is True  # nothing was made


def test_bad_swaps_name_the_field(city: City, example_doc: dict[str, Any]) -> None:
    a_station, b_station = city.stations
    plan = _plan(city, a_station)
    theirs = _plan(city, b_station)
    a = plan["assignments"][0]
    with Session(city.engine) as db:
        some = db.exec(select(Volunteer).where(Volunteer.station_id == a_station)).first()
        assert some is not None
        # registered after the plan was made: a station's volunteer, not in the week's problem
        db.add(
            Volunteer(
                id="v-later",
                station_id=a_station,
                district=some.district,
                skills=["life_care"],
                availability=["mon-am"],
                max_hours=3,
            )
        )
        db.commit()
    cases = [
        (
            {"assignment_id": theirs["assignments"][0]["id"], "volunteer": a["volunteer"]},
            422,
            "assignment_id: ",
        ),
        ({"assignment_id": a["id"], "volunteer": theirs["assignments"][0]["volunteer"]}, 422, "volunteer: "),
        ({"assignment_id": a["id"], "volunteer": "v-later"}, 422, "volunteer: 'v-later' is not in this week"),
        ({"assignment_id": a["id"], "volunteer": a["volunteer"], "slot": "sun-eve-x"}, 422, "slot: "),
        ({"assignment_id": a["id"]}, 422, "volunteer"),
        ({"assignment_id": 0, "volunteer": "x"}, 422, "assignment_id"),
        ({"assignment_id": a["id"], "volunteer": "a b"}, 422, "volunteer"),
        ({"assignment_id": a["id"], "volunteer": "x", "extra": 1}, 422, "extra"),
    ]
    for body, status, start in cases:
        r = _swap(city, a_station, plan["id"], body)
        assert r.status_code == status, (body, r.text)
        assert start in str(r.json()["detail"]), (body, r.text)
    # another station's plan: 404, as a missing one
    r = _swap(
        city, a_station, theirs["id"], {"assignment_id": theirs["assignments"][0]["id"], "volunteer": "x"}
    )
    assert r.status_code == 404
    # an integrator's job takes no swap
    job = city.wait(city.client.post("/v1/solve", json=example_doc, headers=city.headers()).json()["id"])
    r = city.client.post(
        f"/v1/plans/{job['id']}/swap", json={"assignment_id": 1, "volunteer": "x"}, headers=city.headers()
    )
    assert r.status_code == 409, r.text


def test_the_exports_list_stand_ins_last(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    r = city.client.get(f"/v1/plans/{plan['id']}/assignments.csv", headers=city.headers(station))
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-2:] == ["assignment_id", "standins"]
    by_need = {a["need"]: a for a in plan["assignments"]}
    for line in csv.DictReader(io.StringIO(text)):
        a = by_need.get(line["need"])
        if a is None:
            assert line["standins"] == ""
        elif len(a["sessions"]) == 1:
            assert line["standins"] == ";".join(x["volunteer"] for x in a["sessions"][0]["standins"])
        else:
            for s in a["sessions"]:
                assert f"{s['slot']}: " + ";".join(x["volunteer"] for x in s["standins"]) in line["standins"]
    xlsx = city.client.get(f"/v1/plans/{plan['id']}/assignments.xlsx", headers=city.headers(station))
    assert xlsx.status_code == 200


def _key(x: dict[str, Any]) -> tuple[int, int, int, float, float]:
    """The documented ranking (docs/service.md), without the final position tie-break."""
    rate = 1.0 if x["rate"] is None else x["rate"]
    return (
        0 if x["kept_pair"] else 1,
        int(x["km"]),
        x["no_shows"] + x["late_cancellations"],
        -rate,
        x["hours"],
    )


def test_reliability_counts_in_the_ranking(city: City) -> None:
    """A no-show recorded the week before shows on the stand-in and ranks every list accordingly."""
    station = city.stations[0]
    plan = _plan(city, station)
    counts: dict[str, int] = {}
    for a in plan["assignments"]:
        for s in a["sessions"]:
            for x in s["standins"]:
                counts[x["volunteer"]] = counts.get(x["volunteer"], 0) + 1
    first = max(sorted(counts), key=lambda v: counts[v])
    earlier = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": "2026-11-30"}, headers=city.headers(station)
    )
    done = city.wait(earlier.json()["id"], station)
    theirs = [a for a in done["assignments"] if a["volunteer"] == first] or done["assignments"]
    session = theirs[0]["sessions"][0]
    with Session(city.engine) as db:
        db.add(
            ServiceRecord(
                assignment_id=theirs[0]["id"],
                volunteer_id=first,
                served_on=dt.date.fromisoformat(session["date"]),
                slot=session["slot"],
                outcome="no_show",
                hours=0,
            )
        )
        db.commit()
    again = _get(city, station, f"/v1/plans/{plan['id']}")
    seen = 0
    for a in again["assignments"]:
        for listed in [a["standins"], *(s["standins"] for s in a["sessions"])]:
            keys = [_key(x) for x in listed]
            assert keys == sorted(keys), listed
            for x in listed:
                if x["volunteer"] == first:
                    seen += 1
                    assert (x["no_shows"], x["rate"]) == (1, 0.0)
                else:
                    assert x["no_shows"] == 0
    # a volunteer listed so often before still stands in somewhere (or lost every list to others)
    assert seen <= sum(counts.values())
    assert (
        _get(city, station, f"/v1/plans/{plan['id']}")["assignments"] != plan["assignments"]
        or counts[first] == 0
    )

"""Undoing a re-solve (``POST /v1/plans/{id}/revert``), on SQLite and on PostgreSQL.

The reverted version leaves the week's live versions, the one it came from is current
again and takes another change set; only the week's current, finished re-solve is undone.
"""

from __future__ import annotations

from typing import Any

from api_support import City
from sqlmodel import Session, select

from api.models import PlanAssignment, PlanVersion

WEEK = "2026-12-07"


def _generate(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _withdraw(city: City, station: str, plan: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """A change set withdrawing the plan's ``index``-th assigned volunteer; the finished re-solve."""
    volunteer = sorted({a["volunteer"] for a in plan["plan"]["assignments"]})[index]
    r = city.client.post(
        f"/v1/plans/{plan['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": volunteer}]},
        headers=city.headers(station),
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done" and done["parent_id"] == plan["id"], done
    return done


def _current(city: City, station: str) -> list[int]:
    listed = city.client.get(
        f"/v1/stations/{station}/plans", params={"week_start": WEEK}, headers=city.headers(station)
    ).json()
    return [p["id"] for p in listed if p["current"]]


def test_revert_makes_the_parent_current_and_open_to_another_change_set(city: City) -> None:
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    first = _generate(city, station)
    second = _withdraw(city, station, first)
    assert _current(city, station) == [second["id"]]
    r = c.post(f"/v1/plans/{second['id']}/revert", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == first["id"] and body["current"] is True and body["state"] == "done"
    reverted = c.get(f"/v1/plans/{second['id']}", headers=h).json()
    assert reverted["state"] == "reverted" and reverted["current"] is False
    assert reverted["plan"] == second["plan"]  # kept, for the record
    assert _current(city, station) == [first["id"]]
    with Session(city.engine) as db:
        row = db.get(PlanVersion, second["id"])
        assert row is not None and row.successor_of is None and row.parent_id == first["id"]
    # the parent takes a change set again (its successor slot is free)
    third = _withdraw(city, station, first, index=1)
    assert third["version"] == 3 and _current(city, station) == [third["id"]]
    # a reverted version is not done any more: neither undone again nor changed
    assert c.post(f"/v1/plans/{second['id']}/revert", headers=h).status_code == 409
    r = c.post(f"/v1/plans/{second['id']}/changes", json={"format": 1}, headers=h)
    assert r.status_code == 409


def test_revert_is_409_unless_the_current_finished_re_solve(city: City) -> None:
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    first = _generate(city, station)
    r = c.post(f"/v1/plans/{first['id']}/revert", headers=h)  # a week's first version: nothing to go back to
    assert r.status_code == 409 and "no finished version" in r.json()["detail"]
    second = _withdraw(city, station, first)
    again = _generate(city, station)  # generating the week again supersedes the chain
    r = c.post(f"/v1/plans/{second['id']}/revert", headers=h)
    assert r.status_code == 409 and "not the week's current version" in r.json()["detail"]
    assert _current(city, station) == [again["id"]]
    # a job that has not finished is not undone
    with Session(city.engine) as db:
        row = db.get(PlanVersion, second["id"])
        assert row is not None
        row.state = "solving"
        db.add(row)
        db.commit()
    r = c.post(f"/v1/plans/{second['id']}/revert", headers=h)
    assert r.status_code == 409 and "solving, not done" in r.json()["detail"]


def test_revert_of_another_station_s_plan_is_404(city: City) -> None:
    mine, theirs = city.stations
    first = _generate(city, theirs)
    second = _withdraw(city, theirs, first)
    assert city.client.post(f"/v1/plans/{second['id']}/revert", headers=city.headers(mine)).status_code == 404
    assert city.client.post("/v1/plans/99999999/revert", headers=city.headers(mine)).status_code == 404
    assert _current(city, theirs) == [second["id"]]  # untouched
    # the centre may
    r = city.client.post(f"/v1/plans/{second['id']}/revert", headers=city.headers(None))
    assert r.status_code == 200 and r.json()["id"] == first["id"]


def test_revert_of_a_version_with_service_records_is_409(city: City) -> None:
    station = city.stations[0]
    first = _generate(city, station)
    second = _withdraw(city, station, first)
    with Session(city.engine) as db:
        row = db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == second["id"])).first()
        assert row is not None
        assignment = row.id
    listed = city.client.get(f"/v1/plans/{second['id']}", headers=city.headers(station)).json()
    session = next(a for a in listed["assignments"] if a["id"] == assignment)["sessions"][0]
    body = {
        "assignment_id": assignment,
        "served_on": session["date"],
        "slot": session["slot"],
        "outcome": "no_show",  # any record, even of 0 hours, is in the ledger
    }
    r = city.client.post("/v1/records", json=body, headers=city.headers(station))
    assert r.status_code in (200, 201), r.text
    r = city.client.post(f"/v1/plans/{second['id']}/revert", headers=city.headers(station))
    assert r.status_code == 409 and "service records" in r.json()["detail"]
    assert _current(city, station) == [second["id"]]

"""The outcome of a service record: served (hours), no_show, cancelled_by_volunteer or
cancelled_by_beneficiary (0 hours, not counted)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from api_support import City
from sqlmodel import Session, select

from api.migrate import config, upgrade
from api.models import PlanAssignment

WEEK = dt.date(2026, 12, 7)


def _assignment(city: City, station: str) -> tuple[int, str, list[dict[str, str]]]:
    """An assignment of a fresh plan with at least three sessions on days of their own, or the first."""
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done"
    assignments = plan["assignments"]
    assert assignments
    with Session(city.engine) as session:
        rows = {
            a.id for a in session.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan["id"]))
        }
    assert {a["id"] for a in assignments} == rows  # the response's ids are the rows records name
    best = max(assignments, key=lambda a: (len(a["sessions"]), -a["id"]))
    return best["id"], best["volunteer"], best["sessions"]


def _post(city: City, station: str, body: dict[str, Any]) -> Any:
    return city.client.post("/v1/records", json=body, headers=city.headers(station))


def _service(city: City, station: str, volunteer: str) -> dict[str, Any]:
    r = city.client.get(f"/v1/volunteers/{volunteer}/service", headers=city.headers(station))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_outcome_defaults_to_served_and_the_others_count_nothing(city: City) -> None:
    station = city.stations[0]
    assignment, volunteer, sessions = _assignment(city, station)
    outcomes = ("served", "no_show", "cancelled_by_volunteer", "cancelled_by_beneficiary")
    for outcome, session in zip(outcomes, sessions, strict=False):
        body: dict[str, Any] = {
            "assignment_id": assignment,
            "served_on": session["date"],
            "slot": session["slot"],
        }
        body |= {"hours": 1.0} if outcome == "served" else {"outcome": outcome, "note": "电话已通知"}
        r = _post(city, station, body)
        assert r.status_code == 201, r.text
        assert r.json()["outcome"] == outcome and r.json()["hours"] == (1.0 if outcome == "served" else 0.0)
    summary = _service(city, station, volunteer)
    assert summary["hours_recorded"] == 1.0
    listed = city.client.get(
        "/v1/records", params={"volunteer_id": volunteer}, headers=city.headers(station)
    ).json()
    recorded = outcomes[: len(sessions)]
    assert [x["outcome"] for x in listed] == list(recorded)
    assert [x["hours"] for x in listed] == [1.0] + [0.0] * (len(recorded) - 1)


def test_outcome_hours_rules_name_the_field(city: City) -> None:
    station = city.stations[0]
    assignment, _volunteer, sessions = _assignment(city, station)
    day, slot = sessions[0]["date"], sessions[0]["slot"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "served"}, "hours: "),  # served needs hours
        ({"outcome": "no_show", "hours": 1.0}, "hours: "),  # a no-show has none
        ({"outcome": "cancelled_by_volunteer", "hours": 0.5}, "hours: "),
        ({"outcome": "cancelled_by_beneficiary", "hours": 0}, "hours: "),
        ({"outcome": "no_show", "rating": 3}, "rating: "),  # only a served session is rated
        ({"outcome": "cancelled", "hours": 1.0}, "outcome: "),  # split in two: who cancelled?
        ({"outcome": "absent", "hours": 1.0}, "outcome: "),  # not an outcome
        ({"outcome": "no_show", "served_on": "2026-12-14"}, "served_on: "),
        ({"outcome": "no_show", "note": "x" * 501}, "note: "),
        ({"outcome": "no_show", "note": "两行\n备注"}, "note: "),
        ({"outcome": "no_show", "by": "me"}, "by: "),  # an unknown field
    ]
    for extra, prefix in cases:
        body = {"assignment_id": assignment, "served_on": day, "slot": slot} | extra
        r = _post(city, station, body)
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["detail"].startswith(prefix), (extra, r.json())
    assert city.client.get("/v1/records", headers=city.headers(station)).json() == []


def test_outcome_is_scoped_like_any_record(city: City) -> None:
    mine, theirs = city.stations[0], city.stations[1]
    assignment, _volunteer, sessions = _assignment(city, theirs)
    body = {
        "assignment_id": assignment,
        "served_on": sessions[0]["date"],
        "slot": sessions[0]["slot"],
        "outcome": "no_show",
    }
    assert _post(city, mine, body).status_code == 404
    assert _post(city, theirs, body).status_code == 201


def test_migration_0006_makes_existing_records_served(tmp_path: Path) -> None:
    """A 0005 database's records are served after the upgrade; the downgrade drops the others' rows."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0005")
    engine = sa.create_engine(url)  # SQLite leaves foreign keys unchecked unless asked: rows alone do
    insert = (
        "INSERT INTO servicerecord (id, assignment_id, volunteer_id, served_on, hours, created_at) "
        "VALUES (:id, 1, 'v', '2026-12-07', :hours, '2026-12-07 10:00:00')"
    )
    with engine.begin() as conn:
        conn.execute(sa.text(insert), {"id": 1, "hours": 1.5})
    upgrade(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT outcome FROM servicerecord")).scalars().all() == ["served"]
        no_show = insert.replace("created_at)", "created_at, outcome)").replace("00')", "00', 'no_show')")
        conn.execute(sa.text(no_show), {"id": 2, "hours": 0.0})
    command.downgrade(config(url), "0005")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM servicerecord")).scalars().all() == [1]
        assert "outcome" not in {c["name"] for c in sa.inspect(conn).get_columns("servicerecord")}
    engine.dispose()

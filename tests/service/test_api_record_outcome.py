"""The outcome of a service record: served (hours), no_show or cancelled (0 hours, not counted)."""

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


def _assignment(city: City, station: str) -> tuple[int, str]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done"
    with Session(city.engine) as session:
        row = session.exec(
            select(PlanAssignment).where(PlanAssignment.plan_id == plan["id"]).order_by(PlanAssignment.id)  # type: ignore[arg-type]
        ).first()
    assert row is not None and row.id is not None
    return row.id, row.volunteer_id


def _post(city: City, station: str, body: dict[str, Any]) -> Any:
    return city.client.post("/v1/records", json=body, headers=city.headers(station))


def _service(city: City, station: str, volunteer: str) -> dict[str, Any]:
    r = city.client.get(f"/v1/volunteers/{volunteer}/service", headers=city.headers(station))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_outcome_defaults_to_served_and_no_show_cancelled_count_nothing(city: City) -> None:
    station = city.stations[0]
    assignment, volunteer = _assignment(city, station)
    day = WEEK.isoformat()
    served = _post(city, station, {"assignment_id": assignment, "served_on": day, "hours": 1.0})
    assert served.status_code == 201, served.text
    assert served.json()["outcome"] == "served" and served.json()["hours"] == 1.0
    for outcome in ("no_show", "cancelled"):
        r = _post(city, station, {"assignment_id": assignment, "served_on": day, "outcome": outcome})
        assert r.status_code == 201, r.text
        assert r.json()["outcome"] == outcome and r.json()["hours"] == 0.0
    summary = _service(city, station, volunteer)
    assert summary["hours_recorded"] == 1.0
    listed = city.client.get(
        "/v1/records", params={"volunteer_id": volunteer}, headers=city.headers(station)
    ).json()
    assert [x["outcome"] for x in listed] == ["served", "no_show", "cancelled"]
    assert [x["hours"] for x in listed] == [1.0, 0.0, 0.0]


def test_outcome_hours_rules_name_the_field(city: City) -> None:
    station = city.stations[0]
    assignment, _volunteer = _assignment(city, station)
    day = WEEK.isoformat()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "served"}, "hours: "),  # served needs hours
        ({"outcome": "no_show", "hours": 1.0}, "hours: "),  # a no-show has none
        ({"outcome": "cancelled", "hours": 0.5}, "hours: "),
        ({"outcome": "cancelled", "hours": 0}, "hours: "),
        ({"outcome": "absent", "hours": 1.0}, "outcome: "),  # not an outcome
        ({"outcome": "no_show", "served_on": "2026-12-14"}, "served_on: "),
    ]
    for extra, prefix in cases:
        body = {"assignment_id": assignment, "served_on": day} | extra
        r = _post(city, station, body)
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["detail"].startswith(prefix), (extra, r.json())
    assert city.client.get("/v1/records", headers=city.headers(station)).json() == []


def test_outcome_is_scoped_like_any_record(city: City) -> None:
    mine, theirs = city.stations[0], city.stations[1]
    assignment, _volunteer = _assignment(city, theirs)
    body = {"assignment_id": assignment, "served_on": WEEK.isoformat(), "outcome": "no_show"}
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

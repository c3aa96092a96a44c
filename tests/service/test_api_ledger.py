"""The 台账 of issue 18 on SQLite and PostgreSQL: assignment ids in the plan's responses and
exports, sessions recorded once, corrections, the day's hours cap, record queries and paging,
reliability, scoping, and migration 0008."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from api_support import BACKENDS, POSTGRES_URL, City, postgres_available
from sqlmodel import Session, select

from api.migrate import config, upgrade
from api.models import PlanAssignment, ServiceRecord

WEEK = dt.date(2026, 12, 7)
NEXT_WEEK = (WEEK + dt.timedelta(days=7)).isoformat()


@dataclass(frozen=True)
class Sess:
    """One session of a plan: the assignment, its day and slot, and its need's hours."""

    assignment: int
    need: str
    volunteer: str
    day: str
    slot: str
    hours: float


def _plan(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _sessions(city: City, plan: dict[str, Any]) -> list[Sess]:
    problem = city.client.get(f"/v1/plans/{plan['id']}/problem", headers=city.headers()).json()
    hours = {n["id"]: float(n["hours"]) for n in problem["needs"]}
    return [
        Sess(a["id"], a["need"], a["volunteer"], s["date"], s["slot"], hours[a["need"]])
        for a in plan["assignments"]
        for s in a["sessions"]
    ]


def _post(city: City, station: str | None, s: Sess, **body: Any) -> Any:
    data = {"assignment_id": s.assignment, "served_on": s.day, "slot": s.slot} | body
    return city.client.post("/v1/records", json=data, headers=city.headers(station))


def _get(city: City, station: str | None, path: str, **params: Any) -> Any:
    return city.client.get(path, params=params, headers=city.headers(station))


def _detail(r: Any) -> str:
    detail: str = r.json()["detail"]
    return detail


# ------------------------------------------------------------------------ ids in the plan


def test_the_plans_response_and_exports_carry_the_assignment_ids(city: City) -> None:
    """GET /v1/plans/{id} lists each assignment's row id and sessions; the format-1 plan inside it
    is unchanged (no ids); the CSV and XLSX exports have an assignment_id column."""
    station = city.stations[0]
    plan = _plan(city, station)
    with Session(city.engine) as db:
        rows = {a.id: a for a in db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan["id"]))}
    got = plan["assignments"]
    assert {a["id"] for a in got} == set(rows) and len(got) == len(plan["plan"]["assignments"])
    for a in got:
        row = rows[a["id"]]
        assert (a["need"], a["volunteer"], a["slots"]) == (row.need_id, row.volunteer_id, row.slots)
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        expected = sorted(
            ((WEEK + dt.timedelta(days=days.index(s.split("-")[0]))).isoformat(), s) for s in row.slots
        )
        assert sorted((s["date"], s["slot"]) for s in a["sessions"]) == expected
    assert all("id" not in a for a in plan["plan"]["assignments"])  # the exchange format is untouched
    again = _get(city, station, f"/v1/plans/{plan['id']}").json()
    assert again["assignments"] == got  # stable
    listed = _get(city, station, f"/v1/stations/{station}/plans").json()
    assert all(v["assignments"] is None for v in listed)  # lists carry no bodies
    csv_text = _get(city, station, f"/v1/plans/{plan['id']}/assignments.csv").content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(csv_text)))
    by_need = {a["need"]: a["id"] for a in got}
    for line in table:
        assert line["assignment_id"] == (str(by_need[line["need"]]) if line["volunteer"] else "")
    xlsx = _get(city, station, f"/v1/plans/{plan['id']}/assignments.xlsx")
    assert xlsx.status_code == 200


def test_an_integrators_job_has_no_assignment_ids(city: City, example_doc: dict[str, Any]) -> None:
    r = city.client.post("/v1/solve", json=example_doc, headers=city.headers())
    done = city.wait(r.json()["id"])
    assert done["state"] == "done" and done["assignments"] is None


# ------------------------------------------------------------------------ bad records


def test_every_bad_record_is_422_or_409_with_a_clear_message(city: City) -> None:
    station = city.stations[0]
    plan = _plan(city, station)
    sessions = _sessions(city, plan)
    s = max(sessions, key=lambda x: x.hours)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"hours": -1}, 422, "hours: "),
        ({"hours": 0}, 422, "hours: "),
        ({"slot": "sun-eve" if s.slot != "sun-eve" else "sat-eve", "hours": 1.0}, 422, "slot: "),
        ({"served_on": NEXT_WEEK, "hours": 1.0}, 422, "served_on: "),
        ({"served_on": "2026-12-06", "hours": 1.0}, 422, "served_on: "),
        ({"hours": 1.0, "correction": {}}, 422, "correction.reason: "),
        ({"hours": 1.0, "correction": {"reason": "   "}}, 422, "correction.reason: "),
        ({"hours": 1.0, "correction": {"reason": "x" * 501}}, 422, "correction.reason: "),
        ({"hours": 1.0, "correction": {"reason": "签到表", "by": "me"}}, 422, "correction.by: "),
        ({"hours": 1.0, "correction": {"reason": "签到表"}}, 409, "correction: "),  # nothing to correct
    ]
    for body, code, prefix in cases:
        r = _post(city, station, s, **body)
        assert r.status_code == code and _detail(r).startswith(prefix), (body, r.text)
    # a day the assignment has no session on, the slot left out
    days = {x.day for x in sessions if x.assignment == s.assignment}
    free = next(d for d in ((WEEK + dt.timedelta(days=i)).isoformat() for i in range(7)) if d not in days)
    r = _post(city, station, s, served_on=free, slot=None, outcome="no_show")
    assert r.status_code == 422 and _detail(r).startswith("served_on: ") and "no session" in _detail(r)
    # the day's planned hours: more is refused, naming hours and the plan's figure
    day_hours = sum(x.hours for x in sessions if (x.volunteer, x.day) == (s.volunteer, s.day))
    r = _post(city, station, s, hours=day_hours + 0.25)
    assert r.status_code == 422 and _detail(r).startswith("hours: ") and f"{day_hours:g} h" in _detail(r)
    assert _post(city, station, s, hours=s.hours).status_code == 201
    # recorded once: the same session again is 409, whatever the outcome
    for body in ({"hours": s.hours}, {"outcome": "no_show"}):
        r = _post(city, station, s, **body)
        assert r.status_code == 409 and "recorded already" in _detail(r) and "correction" in _detail(r)
    with Session(city.engine) as db:
        assert len(db.exec(select(ServiceRecord)).all()) == 1


def test_two_sessions_of_a_day_share_the_days_cap(city: City) -> None:
    """A volunteer's hours of one day over all their sessions are at most the plan's for that day."""
    station = city.stations[0]
    sessions = _sessions(city, _plan(city, station))
    by_day: dict[tuple[str, str], list[Sess]] = {}
    for s in sessions:
        by_day.setdefault((s.volunteer, s.day), []).append(s)
    pair = next((v for v in by_day.values() if len(v) >= 2), None)
    if pair is None:
        pytest.skip("the demo plan gives nobody two sessions on one day")
    first, second = pair[0], pair[1]
    total = sum(x.hours for x in pair)
    assert _post(city, station, first, hours=first.hours).status_code == 201
    over = _post(city, station, second, hours=total - first.hours + 0.5)
    assert over.status_code == 422 and _detail(over).startswith("hours: "), over.text
    assert f"{total:g} h the plan gives them" in _detail(over)
    assert _post(city, station, second, hours=total - first.hours).status_code == 201  # exactly the day's


# ------------------------------------------------------------------------ corrections


def test_a_correction_supersedes_and_totals_count_the_current_row_only(city: City) -> None:
    station = city.stations[0]
    sessions = _sessions(city, _plan(city, station))
    s = max(sessions, key=lambda x: x.hours)
    before = _get(city, station, f"/v1/volunteers/{s.volunteer}/service").json()["hours_recorded"]
    first = _post(city, station, s, hours=s.hours, rating=4, note="准时到达")
    assert first.status_code == 201, first.text
    # corrected down to a no-show, then to served again above the day's plan (a correction may)
    second = _post(city, station, s, outcome="no_show", correction={"reason": "家属反映志愿者未到"})
    assert second.status_code == 201, second.text
    assert second.json()["corrects"] == first.json()["id"] and second.json()["superseded_by"] is None
    assert second.json()["correction_reason"] == "家属反映志愿者未到"
    assert _get(city, station, f"/v1/volunteers/{s.volunteer}/service").json()["hours_recorded"] == before
    over = s.hours + 1.0
    third = _post(city, station, s, hours=over, correction={"reason": "签到表：实际服务时间更长"})
    assert third.status_code == 201, third.text
    assert third.json()["corrects"] == second.json()["id"]
    service = _get(city, station, f"/v1/volunteers/{s.volunteer}/service").json()
    assert service["hours_recorded"] == before + over
    station_rows = _get(city, station, f"/v1/stations/{station}/service").json()
    assert next(x for x in station_rows if x["volunteer"] == s.volunteer)["hours_recorded"] == before + over
    current = _get(city, station, "/v1/records").json()
    assert [x["id"] for x in current] == [third.json()["id"]]
    history = _get(city, station, "/v1/records", include_superseded="true").json()
    links = {x["id"]: x["superseded_by"] for x in history}
    assert links == {
        first.json()["id"]: second.json()["id"],
        second.json()["id"]: third.json()["id"],
        third.json()["id"]: None,
    }
    # a plain record of the session stays 409
    assert _post(city, station, s, outcome="no_show").status_code == 409


# ------------------------------------------------------------------------ queries


def test_record_queries_filter_and_page(city: City) -> None:
    a, b = city.stations
    mine = _sessions(city, _plan(city, a))
    theirs = _sessions(city, _plan(city, b))
    outcomes = ("served", "no_show", "cancelled_by_volunteer", "cancelled_by_beneficiary")
    made: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, s in enumerate(mine):
        if (s.volunteer, s.day) in seen:  # one session a day per volunteer: the day's cap never bites
            continue
        seen.add((s.volunteer, s.day))
        outcome = outcomes[i % 4]
        body = {"hours": s.hours} if outcome == "served" else {"outcome": outcome}
        r = _post(city, a, s, **body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert len(made) >= 6
    assert _post(city, b, theirs[0], outcome="no_show").status_code == 201
    everything = _get(city, a, "/v1/records")
    assert everything.headers["x-total-count"] == str(len(made))
    assert [x["id"] for x in everything.json()] == [
        x["id"] for x in sorted(made, key=lambda x: (x["served_on"], x["id"]))
    ]
    # from / to, inclusive
    day = sorted({x["served_on"] for x in made})[1]
    got = _get(city, a, "/v1/records", **{"from": day, "to": day}).json()
    assert got and {x["served_on"] for x in got} == {day}
    assert len(_get(city, a, "/v1/records", **{"from": day}).json()) == sum(
        1 for x in made if x["served_on"] >= day
    )
    # outcome, volunteer, station (the centre)
    for outcome in outcomes:
        got = _get(city, a, "/v1/records", outcome=outcome).json()
        assert [x["id"] for x in got] == [x["id"] for x in everything.json() if x["outcome"] == outcome]
    volunteer = made[0]["volunteer_id"]
    got = _get(city, a, "/v1/records", volunteer_id=volunteer).json()
    assert got and {x["volunteer_id"] for x in got} == {volunteer}
    centre_all = _get(city, None, "/v1/records")
    assert centre_all.headers["x-total-count"] == str(len(made) + 1)
    assert len(_get(city, None, "/v1/records", station_id=a).json()) == len(made)
    assert len(_get(city, None, "/v1/records", station_id=b).json()) == 1
    # paging: pages of 4 put together are the whole list
    pages: list[int] = []
    for offset in range(0, len(made), 4):
        page = _get(city, a, "/v1/records", limit=4, offset=offset)
        assert page.headers["x-total-count"] == str(len(made))
        pages += [x["id"] for x in page.json()]
    assert pages == [x["id"] for x in everything.json()]
    assert _get(city, a, "/v1/records", offset=len(made)).json() == []
    # bad parameters: 422 naming them
    bad: list[tuple[dict[str, Any], str]] = [
        ({"status": "served"}, "query.status: unknown query parameter"),
        ({"since": "2026-12-07"}, "query.since: "),
        ({"from": "2026-12-09", "to": "2026-12-08"}, "query.from: "),
        ({"from": "yesterday"}, "query.from: "),
        ({"outcome": "cancelled"}, "query.outcome: "),
        ({"limit": 0}, "query.limit: "),
        ({"limit": 1001}, "query.limit: "),
        ({"offset": -1}, "query.offset: "),
    ]
    for params, prefix in bad:
        r = _get(city, a, "/v1/records", **params)
        assert r.status_code == 422 and _detail(r).startswith(prefix), (params, r.text)
    # another station's ids: 404; its records never show
    assert _get(city, a, "/v1/records", station_id=b).status_code == 404
    assert _get(city, a, "/v1/records", volunteer_id=theirs[0].volunteer).status_code == 404
    assert all(
        x["volunteer_id"] != theirs[0].volunteer or x["need_id"] != theirs[0].need for x in everything.json()
    )


# ------------------------------------------------------------------------ scoping


def test_another_stations_records_reliability_and_corrections_are_404(city: City) -> None:
    a, b = city.stations
    theirs = _sessions(city, _plan(city, b))
    s = theirs[0]
    assert _post(city, a, s, outcome="no_show").status_code == 404
    made = _post(city, b, s, outcome="no_show")
    assert made.status_code == 201
    r = _post(city, a, s, hours=s.hours, correction={"reason": "改为已服务"})
    assert r.status_code == 404
    assert _get(city, a, f"/v1/volunteers/{s.volunteer}/reliability").status_code == 404
    assert _get(city, b, f"/v1/volunteers/{s.volunteer}/reliability").status_code == 200
    assert _get(city, a, "/v1/records").json() == []
    assert _get(city, a, "/v1/records", include_superseded="true").json() == []
    with Session(city.engine) as db:
        rows = db.exec(select(ServiceRecord)).all()
    assert [(x.outcome, x.superseded_by) for x in rows] == [("no_show", None)]


# ------------------------------------------------------------------------ reliability


def test_reliability_counts_the_plans_sessions_and_how_they_went(city: City) -> None:
    station = city.stations[0]
    sessions = _sessions(city, _plan(city, station))
    counts: dict[str, int] = {}
    for s in sessions:
        counts[s.volunteer] = counts.get(s.volunteer, 0) + 1
    volunteer = max(counts, key=lambda v: (counts[v], v))
    if counts[volunteer] < 3:
        pytest.skip("the demo plan gives nobody three sessions")
    mine = [s for s in sessions if s.volunteer == volunteer]
    path = f"/v1/volunteers/{volunteer}/reliability"
    after = (WEEK + dt.timedelta(days=7)).isoformat()
    empty = _get(city, station, path, weeks=1, before=after).json()
    assert empty == {
        "volunteer": volunteer,
        "weeks": 1,
        "start": WEEK.isoformat(),
        "end": (WEEK + dt.timedelta(days=6)).isoformat(),
        "planned": len(mine),
        "recorded": 0,
        "served": 0,
        "no_shows": 0,
        "late_cancellations": 0,
        "cancelled_by_beneficiary": 0,
        "rate": None,
    }
    served, no_show, late = mine[0], mine[1], mine[2]
    assert _post(city, station, served, hours=served.hours).status_code == 201
    assert _post(city, station, no_show, outcome="no_show").status_code == 201
    assert _post(city, station, late, outcome="cancelled_by_volunteer").status_code == 201
    for extra in mine[3:4]:
        assert _post(city, station, extra, outcome="cancelled_by_beneficiary").status_code == 201
    got = _get(city, station, path, weeks=4, before=after).json()
    assert (got["planned"], got["served"], got["no_shows"], got["late_cancellations"]) == (len(mine), 1, 1, 1)
    assert got["cancelled_by_beneficiary"] == len(mine[3:4]) and got["recorded"] == 3 + len(mine[3:4])
    assert got["rate"] == pytest.approx(1 / 3)
    assert got["start"] == (WEEK - dt.timedelta(weeks=3)).isoformat()
    # a correction replaces the no-show: it counts once, as served
    fixed = _post(city, station, no_show, hours=no_show.hours, correction={"reason": "签到表补登"})
    assert fixed.status_code == 201, fixed.text
    got = _get(city, station, path, weeks=4, before=after).json()
    assert (got["served"], got["no_shows"], got["rate"]) == (2, 0, pytest.approx(2 / 3))
    # the week is outside a history that ends before it
    before_week = _get(city, station, path, weeks=4, before=WEEK.isoformat()).json()
    assert (before_week["planned"], before_week["recorded"]) == (0, 0)
    # bad parameters
    refused: list[tuple[dict[str, Any], str]] = [
        ({"weeks": 0}, "query.weeks: "),
        ({"weeks": 53}, "query.weeks: "),
        ({"n": 4}, "query.n: "),
        ({"before": "soon"}, "query.before: "),
    ]
    for params, prefix in refused:
        r = _get(city, station, path, **params)
        assert r.status_code == 422 and _detail(r).startswith(prefix), (params, r.text)
    assert _get(city, station, "/v1/volunteers/nobody/reliability").status_code == 404


# ------------------------------------------------------------------------ migration 0008


def _database_at(backend: str, tmp_path: Path, revision: str) -> Iterator[str]:
    """An empty database of ``backend`` migrated to ``revision`` only."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
        upgrade(url, revision)
        yield url
        return
    if not postgres_available():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"linli_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        upgrade(url, revision)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0008_matches_old_records_to_sessions(backend: str, tmp_path: Path) -> None:
    """0006 records get their day's slots in the order they were made (one left over keeps none);
    cancelled becomes cancelled_by_beneficiary; the downgrade drops superseded rows."""
    for url in _database_at(backend, tmp_path, "0006"):
        engine = sa.create_engine(url)
        rows: dict[str, dict[str, Any]] = {
            "centre": {"id": "c", "name": "centre"},
            "district": {"id": "d", "name": "", "neighbors": "[]"},
            "station": {"id": "s", "centre_id": "c", "name": "s", "district": "d"},
            "volunteer": {
                "id": "v",
                "name": "",
                "district": "d",
                "max_hours": 4.0,
                "max_beneficiaries": 3,
                "minor": False,
                "guardian_consent": False,
                "hours_before": 0.0,
                "station_id": "s",
                "skills": '["life_care"]',
                "availability": '["mon-am"]',
                "active": True,
            },
            "planversion": {
                "id": 1,
                "station_id": "s",
                "week_start": "2026-12-07",
                "version": 1,
                "state": "done",
                "problem": "{}",
                "created_at": "2026-12-06 10:00:00",
                "attempts": 1,
                "cancel_requested": False,
            },
            "planassignment": {
                "id": 1,
                "plan_id": 1,
                "need_id": "n",
                "volunteer_id": "v",
                "slots": '["mon-am", "mon-pm", "wed-am"]',
            },
        }
        with engine.begin() as conn:
            for table, row in rows.items():
                conn.execute(
                    sa.text(f"INSERT INTO {table} ({', '.join(row)}) VALUES (:{', :'.join(row)})"), row
                )
            insert = (
                "INSERT INTO servicerecord "
                "(id, assignment_id, volunteer_id, served_on, hours, outcome, created_at) "
                "VALUES (:id, 1, 'v', :day, :hours, :outcome, '2026-12-08 10:00:00')"
            )
            for rid, day, hours, outcome in [
                (1, "2026-12-07", 1.0, "served"),
                (2, "2026-12-07", 0.0, "cancelled"),
                (3, "2026-12-07", 0.0, "no_show"),  # a third record of a two-session day
                (4, "2026-12-09", 1.5, "served"),
                (5, "2026-12-10", 1.0, "served"),  # a day without a session
            ]:
                conn.execute(sa.text(insert), {"id": rid, "day": day, "hours": hours, "outcome": outcome})
        upgrade(url, "0008")
        with engine.begin() as conn:
            got = conn.execute(sa.text("SELECT id, slot, outcome FROM servicerecord ORDER BY id")).all()
            assert [tuple(r) for r in got] == [
                (1, "mon-am", "served"),
                (2, "mon-pm", "cancelled_by_beneficiary"),
                (3, None, "no_show"),
                (4, "wed-am", "served"),
                (5, None, "served"),
            ]
            conn.execute(sa.text("UPDATE servicerecord SET superseded_by = 4 WHERE id = 1"))
        command.downgrade(config(url), "0006")
        with engine.connect() as conn:
            got = conn.execute(sa.text("SELECT id, outcome FROM servicerecord ORDER BY id")).all()
            assert [tuple(r) for r in got] == [(2, "cancelled"), (3, "no_show"), (4, "served"), (5, "served")]
            columns = {c["name"] for c in sa.inspect(conn).get_columns("servicerecord")}
            assert not columns & {"slot", "note", "correction_reason", "superseded_by"}
        engine.dispose()

"""Changing and deactivating people: PATCH and soft DELETE of volunteers, beneficiaries and needs,
``?include_inactive``, the week's problem without deactivated people, the CSV ``active`` column and
migration 0004 — on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_support import BACKENDS, POSTGRES_URL, City, postgres_available
from sqlmodel import Session, SQLModel, select

from api.migrate import config, upgrade
from api.models import Certificate

WEEK = "2026-12-07"
CSV = {"Content-Type": "text/csv"}


def _station(city: City, station: str) -> dict[str, Any]:
    body: dict[str, Any] = city.client.get(f"/v1/stations/{station}", headers=city.headers(station)).json()
    return body


def _volunteer(city: City, station: str, **over: Any) -> dict[str, Any]:
    team = _station(city, station)["teams"][0]
    return {
        "id": f"v-{station}",
        "district": _station(city, station)["district"],
        "team_id": team["id"],
        "group_id": team["groups"][0]["id"],
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "certificates": [{"kind": "first_aid", "expires": "2027-05-01"}],
        "max_hours": 6,
        **over,
    }


def _beneficiary(city: City, station: str, **over: Any) -> dict[str, Any]:
    return {
        "id": f"b-{station}",
        "category": "elderly",
        "district": _station(city, station)["district"],
        "priority": 3,
        **over,
    }


NEED = {"service": "life_care", "hours": 1.5, "sessions": 1, "windows": ["mon-am"]}


def _people(city: City) -> dict[str, dict[str, str]]:
    """For each station: a new volunteer, a new beneficiary and a need of it (paths by kind)."""
    out = {}
    for station in city.stations:
        h = city.headers(station)
        base = f"/v1/stations/{station}"
        for path, body in (
            ("volunteers", _volunteer(city, station)),
            ("beneficiaries", _beneficiary(city, station)),
            (f"beneficiaries/b-{station}/needs", {**NEED, "id": f"n-{station}"}),
        ):
            r = city.client.post(f"{base}/{path}", json=body, headers=h)
            assert r.status_code == 201, r.text
        out[station] = {
            "volunteer": f"{base}/volunteers/v-{station}",
            "beneficiary": f"{base}/beneficiaries/b-{station}",
            "need": f"{base}/beneficiaries/b-{station}/needs/n-{station}",
        }
    return out


def _patch(city: City, station: str, path: str, body: Any) -> httpx.Response:
    response: httpx.Response = city.client.patch(path, json=body, headers=city.headers(station))
    return response


def _get(city: City, station: str, path: str, **params: Any) -> Any:
    r = city.client.get(path, params=params, headers=city.headers(station))
    assert r.status_code == 200, r.text
    return r.json()


def _need(city: City, station: str, paths: dict[str, str]) -> dict[str, Any]:
    needs = _get(city, station, paths["beneficiary"])["needs"]
    found: dict[str, Any] = next(n for n in needs if paths["need"].endswith("/" + n["id"]))
    return found


# ------------------------------------------------------------------------ PATCH


def test_patch_volunteer_changes_only_the_fields_sent(city: City) -> None:
    """A PATCH changes the fields sent, keeps the others; certificates sent replace the stored ones."""
    a = city.stations[0]
    path = _people(city)[a]["volunteer"]
    before = _get(city, a, path)
    r = _patch(city, a, path, {"max_hours": 8.5, "skills": ["recreation"], "gender": "m"})
    assert r.status_code == 200, r.text
    after = {**before, "max_hours": 8.5, "skills": ["recreation"], "gender": "m"}
    assert r.json() == after == _get(city, a, path)
    r = _patch(city, a, path, {"certificates": [{"kind": "legal", "expires": "2028-01-31"}], "team_id": None})
    assert r.status_code == 422 and r.json()["detail"].startswith("team_id: required with group_id"), r.text
    r = _patch(
        city,
        a,
        path,
        {"certificates": [{"kind": "legal", "expires": "2028-01-31"}], "team_id": None, "group_id": None},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        **after,
        "certificates": [{"kind": "legal", "expires": "2028-01-31"}],
        "team_id": None,
        "group_id": None,
    }
    with Session(city.engine) as session:
        rows = session.exec(select(Certificate).where(Certificate.volunteer_id == f"v-{a}")).all()
        assert [(c.kind, c.expires.isoformat()) for c in rows] == [("legal", "2028-01-31")]


def test_patch_beneficiary_and_need(city: City) -> None:
    """Beneficiaries and needs take partial changes too; a need may move to another beneficiary."""
    a = city.stations[0]
    paths = _people(city)[a]
    before = _get(city, a, paths["beneficiary"])
    r = _patch(city, a, paths["beneficiary"], {"priority": 5, "latitude": 39.5, "longitude": 98.5})
    assert r.status_code == 200, r.text
    assert r.json() == {**before, "priority": 5, "latitude": 39.5, "longitude": 98.5}
    need = _need(city, a, paths)
    r = _patch(city, a, paths["need"], {"hours": 2.0, "requires": ["first_aid"]})
    assert r.status_code == 200, r.text
    assert r.json() == {**need, "hours": 2.0, "requires": ["first_aid"]} == _need(city, a, paths)
    other = next(b["id"] for b in _get(city, a, f"/v1/stations/{a}/beneficiaries") if b["id"] != f"b-{a}")
    r = _patch(city, a, paths["need"], {"beneficiary_id": other})
    assert r.status_code == 200 and r.json()["beneficiary_id"] == other, r.text
    assert _get(city, a, paths["beneficiary"])["needs"] == []
    moved = f"/v1/stations/{a}/beneficiaries/{other}/needs/n-{a}"
    assert _patch(city, a, moved, {"sessions": 2}).json()["sessions"] == 2
    assert _patch(city, a, paths["need"], {"sessions": 2}).status_code == 404  # no longer under b


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("volunteer", {"colour": "red"}, "colour: unknown field"),
    ("volunteer", {"id": "v-other"}, "id: unknown field"),
    ("volunteer", {"max_hours": 500}, "max_hours: must be at most 168 (the hours in a week)"),
    ("volunteer", {"max_hours": "3"}, "max_hours: "),
    ("volunteer", {"max_hours": None}, "max_hours: "),
    ("volunteer", {"minor": 1}, "minor: "),
    ("volunteer", {"availability": ["mon-noon"]}, "availability[0]: unknown slot 'mon-noon'"),
    ("volunteer", {"district": "nowhere"}, "district: unknown district 'nowhere'"),
    ("volunteer", {"latitude": 30.0}, "longitude: required when latitude is given"),
    ("beneficiary", {"colour": "red"}, "colour: unknown field"),
    ("beneficiary", {"priority": 9}, "priority: must be at most 5 (5 is the most vulnerable)"),
    ("beneficiary", {"category": "cats"}, "category: unknown category 'cats'"),
    ("beneficiary", {"longitude": 98.0}, "latitude: required when longitude is given"),
    ("beneficiary", {"excluded_volunteers": ["nobody"]}, "excluded_volunteers[0]: unknown volunteer"),
    ("need", {"id": "n-other"}, "id: unknown field"),
    ("need", {"sessions": 8}, "sessions: must be at most 7 (one a day)"),
    ("need", {"service": "juggling"}, "service: unknown service code 'juggling'"),
    ("need", {"windows": ["mon-am", "mon-am"]}, "windows: 'mon-am' is listed twice"),
    ("need", {"beneficiary_id": "nobody"}, "beneficiary_id: unknown beneficiary 'nobody'"),
]


def test_patch_refuses_bad_values_naming_the_field(city: City) -> None:
    """Unknown fields, bad values, a merged record that is not whole: 422 naming the field, nothing
    changed."""
    a = city.stations[0]
    paths = _people(city)[a]
    before = {
        kind: _get(city, a, paths[kind].rsplit("/needs/", 1)[0]) for kind in ("volunteer", "beneficiary")
    }
    for kind, body, message in BAD:
        r = _patch(city, a, paths[kind], body)
        assert r.status_code == 422, (kind, body, r.text)
        assert r.json()["detail"].startswith(message), (kind, body, r.json())
    after = {
        kind: _get(city, a, paths[kind].rsplit("/needs/", 1)[0]) for kind in ("volunteer", "beneficiary")
    }
    assert after == before


def test_another_stations_records_are_404_like_missing_ones(city: City) -> None:
    """A PATCH or DELETE of another station's record answers as for an id that exists nowhere; its
    references (a team, a volunteer, a beneficiary of another station) are unknown ones."""
    a, b = city.stations
    people = _people(city)
    theirs = people[b]
    for kind, body in (
        ("volunteer", {"max_hours": 1}),
        ("beneficiary", {"priority": 1}),
        ("need", {"sessions": 1}),
    ):
        mine = people[a][kind]
        missing = mine.rsplit("/", 1)[0] + "/zz-nowhere"
        other = mine.rsplit("/", 1)[0] + "/" + theirs[kind].rsplit("/", 1)[1]
        for method in ("PATCH", "DELETE"):
            r_other = city.client.request(method, other, json=body, headers=city.headers(a))
            r_missing = city.client.request(method, missing, json=body, headers=city.headers(a))
            assert r_other.status_code == r_missing.status_code == 404, (kind, method, r_other.text)
            ident = theirs[kind].rsplit("/", 1)[1]
            assert r_other.json()["detail"].replace(ident, "<id>") == r_missing.json()["detail"].replace(
                "zz-nowhere", "<id>"
            )
    their_team = _station(city, b)["teams"][0]["id"]
    r = _patch(city, a, people[a]["volunteer"], {"team_id": their_team, "group_id": None})
    assert (r.status_code, r.json()["detail"]) == (422, f"team_id: unknown team '{their_team}'")
    r = _patch(city, a, people[a]["beneficiary"], {"excluded_volunteers": [f"v-{b}"]})
    assert (r.status_code, r.json()["detail"]) == (
        422,
        f"excluded_volunteers[0]: unknown volunteer 'v-{b}'",
    )
    r = _patch(city, a, people[a]["need"], {"beneficiary_id": f"b-{b}"})
    assert (r.status_code, r.json()["detail"]) == (422, f"beneficiary_id: unknown beneficiary 'b-{b}'")
    assert _get(city, b, theirs["volunteer"])["active"] is True
    assert _get(city, b, theirs["beneficiary"])["active"] is True


# ------------------------------------------------------------------------ soft DELETE


def _ids(city: City, station: str, route: str, **params: Any) -> set[str]:
    return {r["id"] for r in _get(city, station, f"/v1/stations/{station}/{route}", **params)}


def _csv_ids(city: City, station: str, name: str, **params: Any) -> dict[str, dict[str, str]]:
    text = city.client.get(
        f"/v1/stations/{station}/{name}.csv", params=params, headers=city.headers(station)
    ).text
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}


def test_delete_deactivates_and_patch_restores(city: City) -> None:
    """DELETE answers 200 with ``active`` false; lists and exports leave the record out unless
    ``include_inactive``; GET by id still shows it; PATCH ``{"active": true}`` restores it."""
    a = city.stations[0]
    paths = _people(city)[a]
    for kind, route in (("volunteer", "volunteers"), ("beneficiary", "beneficiaries")):
        ident = paths[kind].rsplit("/", 1)[1]
        r = city.client.delete(paths[kind], headers=city.headers(a))
        assert r.status_code == 200, r.text
        assert r.json() == {**_get(city, a, paths[kind]), "active": False}
        assert ident not in _ids(city, a, route)
        assert ident in _ids(city, a, route, include_inactive="true")
        assert ident not in _csv_ids(city, a, route)
        assert _csv_ids(city, a, route, include_inactive="true")[ident]["active"] == "false"
        xlsx = city.client.get(f"/v1/stations/{a}/{route}.xlsx", headers=city.headers(a))
        assert xlsx.status_code == 200
        assert city.client.delete(paths[kind], headers=city.headers(a)).status_code == 200  # again: same
        r = _patch(city, a, paths[kind], {"active": True})
        assert r.status_code == 200 and r.json()["active"] is True, r.text
        assert ident in _ids(city, a, route)
    # A deactivated beneficiary's needs leave needs.csv with it.
    city.client.delete(paths["beneficiary"], headers=city.headers(a))
    assert f"n-{a}" not in _csv_ids(city, a, "needs")
    assert f"n-{a}" in _csv_ids(city, a, "needs", include_inactive="true")
    _patch(city, a, paths["beneficiary"], {"active": True})
    # A need ends (active false) and stays listed with its beneficiary, as an ended need always was.
    r = city.client.delete(paths["need"], headers=city.headers(a))
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert _need(city, a, paths)["active"] is False
    assert _csv_ids(city, a, "needs")[f"n-{a}"]["active"] == "false"
    assert _patch(city, a, paths["need"], {"active": True}).json()["active"] is True


def test_the_weeks_problem_leaves_deactivated_people_out(city: City) -> None:
    """A deactivated volunteer or beneficiary (and its needs) is not in the next plan's problem; an
    exclusion naming a deactivated volunteer does not break it."""
    a = city.stations[0]
    h = city.headers(a)
    volunteers = sorted(_ids(city, a, "volunteers"))
    beneficiaries = _get(city, a, f"/v1/stations/{a}/beneficiaries")
    gone_vol = volunteers[0]
    gone_ben = next(b for b in beneficiaries if b["needs"])
    kept_ben = next(b for b in beneficiaries if b["id"] != gone_ben["id"])
    base = f"/v1/stations/{a}"
    r = _patch(city, a, f"{base}/beneficiaries/{kept_ben['id']}", {"excluded_volunteers": [gone_vol]})
    assert r.status_code == 200, r.text
    assert city.client.delete(f"{base}/volunteers/{gone_vol}", headers=h).status_code == 200
    assert city.client.delete(f"{base}/beneficiaries/{gone_ben['id']}", headers=h).status_code == 200
    r = city.client.post(f"{base}/plans", json={"week_start": WEEK}, headers=h)
    assert r.status_code == 202, r.text
    plan = city.wait(r.json()["id"], a)
    assert plan["state"] == "done", plan
    problem = city.client.get(f"/v1/plans/{plan['id']}/problem", headers=h).json()
    assert gone_vol not in {v["id"] for v in problem["volunteers"]}
    assert set(volunteers) - {gone_vol} >= {v["id"] for v in problem["volunteers"]}
    assert gone_ben["id"] not in {b["id"] for b in problem["beneficiaries"]}
    assert not {n["id"] for n in gone_ben["needs"]} & {n["id"] for n in problem["needs"]}
    kept = next(b for b in problem["beneficiaries"] if b["id"] == kept_ben["id"])
    assert gone_vol not in kept.get("excluded_volunteers", [])
    assert gone_vol not in {x["volunteer"] for x in plan["plan"]["assignments"]}


def test_a_resolve_drops_a_deactivated_volunteers_assignments(city: City) -> None:
    """A change set after a volunteer with assignments is deactivated: the next version is done and
    leaves them out (their needs are re-planned), the first version still names them."""
    a = city.stations[0]
    h = city.headers(a)
    r = city.client.post(f"/v1/stations/{a}/plans", json={"week_start": WEEK}, headers=h)
    first = city.wait(r.json()["id"], a)
    assert first["state"] == "done", first
    gone = first["plan"]["assignments"][0]["volunteer"]
    assert city.client.delete(f"/v1/stations/{a}/volunteers/{gone}", headers=h).status_code == 200
    r = city.client.post(f"/v1/plans/{first['id']}/changes", json={"format": 1}, headers=h)
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], a)
    assert second["state"] == "done", second
    assert gone not in {x["volunteer"] for x in second["plan"]["assignments"]}
    again = city.client.get(f"/v1/plans/{first['id']}", headers=h).json()
    assert gone in {x["volunteer"] for x in again["plan"]["assignments"]}


# ------------------------------------------------------------------------ CSV


def test_csv_round_trip_with_active(city: City) -> None:
    """The ``active`` column: exported, imported back unchanged; false deactivates; left out, the
    stored value stays; empty on a new row, true."""
    a = city.stations[0]
    h = {**city.headers(a), **CSV}
    paths = _people(city)[a]
    city.client.delete(paths["volunteer"], headers=city.headers(a))
    for route in ("volunteers", "beneficiaries"):
        url = f"/v1/stations/{a}/{route}.csv"
        exported = city.client.get(url, params={"include_inactive": "true"}, headers=h).text
        assert exported.removeprefix("\ufeff").splitlines()[0].split(",")[-1] == "active"
        before = _get(city, a, f"/v1/stations/{a}/{route}", include_inactive="true")
        r = city.client.put(url, content=exported.encode(), headers=h)
        assert r.status_code == 200 and r.json()["created"] == 0, r.text
        assert _get(city, a, f"/v1/stations/{a}/{route}", include_inactive="true") == before
    assert _get(city, a, paths["volunteer"])["active"] is False
    district = _station(city, a)["district"]
    text = (
        "id,district,skills,availability,max_hours,active\n"
        f"v-{a},{district},life_care,mon-am,6,\n"  # empty: the default, true
        f"v-csv,{district},life_care,mon-am,6,false\n"
    )
    r = city.client.put(f"/v1/stations/{a}/volunteers.csv", content=text, headers=h)
    assert r.json() == {"created": 1, "updated": 1}, r.text
    assert _get(city, a, paths["volunteer"])["active"] is True
    assert _get(city, a, f"/v1/stations/{a}/volunteers/v-csv")["active"] is False
    text = f"id,district,skills,availability,max_hours\nv-csv,{district},recreation,mon-am,6\n"
    r = city.client.put(f"/v1/stations/{a}/volunteers.csv", content=text, headers=h)
    assert r.json() == {"created": 0, "updated": 1}, r.text
    kept = _get(city, a, f"/v1/stations/{a}/volunteers/v-csv")
    assert (kept["active"], kept["skills"]) == (False, ["recreation"])
    r = city.client.put(
        f"/v1/stations/{a}/beneficiaries.csv",
        content=f"id,category,district,priority,active\nb-{a},elderly,{district},3,maybe\n",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"] == [
        "row 2: active: expected true or false, not 'maybe'"
    ]


# ------------------------------------------------------------------------ migration 0004


def _database_at_0003(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of ``backend`` migrated to revision 0003 only."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
        upgrade(url, "0003")
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
        upgrade(url, "0003")
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_migrations_make_the_models_tables(db_url: str) -> None:
    """A database migrated to head has the models' tables exactly (alembic autogenerate finds no
    difference, column types included): the models' request types map to the columns' types."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0004_keeps_existing_people_active(backend: str, tmp_path: Path) -> None:
    """Upgrading a 0003 database with people in it: each gets ``active`` true; the downgrade drops it."""
    for url in _database_at_0003(backend, tmp_path):
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
            },
            "beneficiary": {
                "id": "b",
                "station_id": "s",
                "name": "",
                "category": "elderly",
                "district": "d",
                "priority": 3,
                "excluded_volunteers": "[]",
            },
        }
        with engine.begin() as conn:
            for table, row in rows.items():
                names = ", ".join(row)
                conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES (:{', :'.join(row)})"), row)
        upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT active FROM volunteer")).scalars().all() == [True]
            assert conn.execute(sa.text("SELECT active FROM beneficiary")).scalars().all() == [True]
        command.downgrade(config(url), "0003")
        with engine.connect() as conn:
            assert "active" not in {c["name"] for c in sa.inspect(conn).get_columns("volunteer")}
        engine.dispose()

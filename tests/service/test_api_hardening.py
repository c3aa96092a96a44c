"""The service under hostile and careless use: versions, tokens, limits, strictness, a sick database."""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import City, seeded_city
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, create_engine, func, select

from api.main import create_app
from api.migrate import upgrade
from api.models import Volunteer
from api.settings import get_settings
from linli.cli import main as linli

WEEK = "2026-12-07"


def _generate(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done", plan
    return plan


def _change(city: City, station: str, plan_id: int, changes: dict[str, Any]) -> Any:
    return city.client.post(
        f"/v1/plans/{plan_id}/changes", json={"format": 1, **changes}, headers=city.headers(station)
    )


# ------------------------------------------------------------------------ one current version per week


def test_generating_again_supersedes_the_week(city: City) -> None:
    """Version 2 of a week is its current one; a change set on version 1 is 409, on version 2 202."""
    station = city.stations[0]
    first, second = _generate(city, station), _generate(city, station)
    h = city.headers(station)
    assert city.client.get(f"/v1/plans/{first['id']}", headers=h).json()["current"] is False
    assert city.client.get(f"/v1/plans/{second['id']}", headers=h).json()["current"] is True
    listed = city.client.get(f"/v1/stations/{station}/plans", params={"week_start": WEEK}, headers=h).json()
    assert [(p["id"], p["current"]) for p in listed] == [(second["id"], True), (first["id"], False)]
    r = _change(city, station, first["id"], {"needs_cancelled": []})
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (
        f"plan {first['id']} is superseded by version 2 (plan {second['id']}): "
        "apply the change set to the current version"
    )
    r = _change(city, station, second["id"], {"needs_cancelled": []})
    assert r.status_code == 202, r.text
    third = city.wait(r.json()["id"], station)
    assert third["state"] == "done" and third["current"] is True
    # Version 2 now has a successor: it is no longer current either.
    assert _change(city, station, second["id"], {}).status_code == 409


def test_a_change_set_plans_with_the_stations_people_as_they_are_now(city: City) -> None:
    """A volunteer registered and a need ended after generation: the re-solve sees both."""
    station = city.stations[0]
    h = city.headers(station)
    plan = _generate(city, station)
    district = city.client.get(f"/v1/stations/{station}", headers=h).json()["district"]
    newcomer = {
        "id": "v-newcomer",
        "district": district,
        "skills": ["life_care", "companionship", "tutoring", "health_care"],
        "availability": ["mon-am", "tue-am", "wed-am", "thu-am", "fri-am", "sat-am", "sun-am"],
        "max_hours": 20,
    }
    assert city.client.post(f"/v1/stations/{station}/volunteers", json=newcomer, headers=h).status_code == 201
    first = plan["plan"]["assignments"][0]
    ended = first["need"]
    rows = city.client.get(f"/v1/stations/{station}/needs.csv", headers=h).text.lstrip("\ufeff").splitlines()
    header = rows[0].split(",")
    row = next(line for line in rows[1:] if line.split(",")[0] == ended)
    cells = row.split(",")
    cells[header.index("active")] = "false"
    r = city.client.put(
        f"/v1/stations/{station}/needs.csv",
        content=rows[0] + "\n" + ",".join(cells) + "\n",
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    other = next(a for a in plan["plan"]["assignments"] if a["volunteer"] != first["volunteer"])
    r = _change(city, station, plan["id"], {"volunteers_withdrawn": [{"volunteer": other["volunteer"]}]})
    assert r.status_code == 202, r.text
    after = city.wait(r.json()["id"], station)
    assert after["state"] == "done", after
    problem = city.client.get(f"/v1/plans/{after['id']}/problem", headers=h).json()
    assert "v-newcomer" in {v["id"] for v in problem["volunteers"]}
    assert ended not in {n["id"] for n in problem["needs"]}
    # ``changed`` is reported against the version the change set was applied to.
    before = {a["need"]: (a["volunteer"], sorted(a["slots"])) for a in plan["plan"]["assignments"]}
    now = {a["need"]: (a["volunteer"], sorted(a["slots"])) for a in after["plan"]["assignments"]}
    expected = [n["id"] for n in problem["needs"] if before.get(n["id"]) != now.get(n["id"])]
    assert after["plan"]["changed"] == expected
    assert other["need"] in expected or other["need"] not in {n["id"] for n in problem["needs"]}


def test_a_station_change_set_may_not_bring_in_unregistered_volunteers(city: City) -> None:
    station = city.stations[0]
    plan = _generate(city, station)
    volunteer = {"id": "v-x", "district": "d0", "skills": [], "availability": [], "max_hours": 1}
    r = _change(city, station, plan["id"], {"volunteers_added": [volunteer]})
    assert r.status_code == 422
    assert r.json()["detail"].startswith(
        "volunteers_added[0]: a station's plan uses its registered volunteers"
    )


# ------------------------------------------------------------------------ tokens


def test_tokens_are_listed_revoked_and_their_use_recorded(city: City) -> None:
    a, b = city.stations
    c = city.client
    centre = c.get("/v1/tokens", headers=city.headers()).json()
    assert {t["station_id"] for t in centre} == {None, a, b}
    assert all("digest" not in t and "secret" not in t for t in centre)
    own = c.get("/v1/tokens", headers=city.headers(a)).json()
    assert {t["station_id"] for t in own} == {a}
    assert own[0]["last_used_at"] is not None  # this very request used it
    assert c.post("/v1/tokens", json={"station_id": a}, headers=city.headers(a)).status_code == 403
    r = c.post("/v1/tokens", json={"station_id": b, "label": "backup"}, headers=city.headers())
    assert r.status_code == 201, r.text
    created = r.json()
    fresh = {"Authorization": f"Bearer {created['secret']}"}
    assert c.get("/v1/stations", headers=fresh).json()[0]["id"] == b
    # Station A cannot see (so cannot revoke) station B's token.
    assert c.delete(f"/v1/tokens/{created['id']}", headers=city.headers(a)).status_code == 404
    revoked = c.delete(f"/v1/tokens/{created['id']}", headers=city.headers(b))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert c.get("/v1/stations", headers=fresh).status_code == 401
    assert c.post("/v1/tokens", json={"station_id": "nowhere"}, headers=city.headers()).status_code == 404


def test_token_cli_lists_and_revokes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert linli(["token", "create", "--centre", "--label", "desk"]) == 0
        secret = capsys.readouterr().out.strip()
        assert linli(["token", "list"]) == 0
        listed = capsys.readouterr().out
        assert "\tcentre\tdesk\t" in listed and secret not in listed
        assert linli(["token", "revoke", "1"]) == 0
        assert "token 1 revoked" in capsys.readouterr().out
        assert linli(["token", "revoke", "7"]) == 2
        assert capsys.readouterr().err.strip() == "error: id: no token 7"
    finally:
        get_settings.cache_clear()


def test_openapi_declares_the_bearer_scheme_and_docs_load_nothing_remote(city: City) -> None:
    schema = city.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["token"]["description"],
    }
    assert {"token": []} in schema["paths"]["/v1/stations"]["get"]["security"]
    page = city.client.get("/docs").text
    assert "cdn" not in page.lower() and "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static-offline-docs/{asset}" in page
        assert city.client.get(f"/static-offline-docs/{asset}").status_code == 200


# ------------------------------------------------------------------------ strictness and limits


def test_unknown_query_parameters_are_422(city: City) -> None:
    # `from` is a filter of /v1/records since issue 18; `since` is not
    r = city.client.get("/v1/records", params={"since": "2026-01-01"}, headers=city.headers())
    assert (r.status_code, r.json()) == (422, {"detail": "query.since: unknown query parameter"})
    station = city.stations[0]
    r = city.client.get(f"/v1/stations/{station}/plans", params={"week": WEEK}, headers=city.headers())
    assert r.status_code == 422


def test_stations_are_listed_with_their_teams(city: City) -> None:
    listed = city.client.get("/v1/stations", headers=city.headers()).json()
    assert all(s["teams"] and s["teams"][0]["groups"] for s in listed)
    one = city.client.get(f"/v1/stations/{listed[0]['id']}", headers=city.headers()).json()
    assert one == listed[0]


@pytest.fixture
def small_body_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    """A city whose service takes bodies of at most 4 KiB."""
    monkeypatch.setenv("LINLI_MAX_BODY_BYTES", "4096")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'linli.sqlite'}"
    upgrade(url)
    try:
        yield from seeded_city(url, volunteers=10, beneficiaries=8)
    finally:
        get_settings.cache_clear()


def test_a_body_over_the_limit_is_413_before_it_is_read(small_body_city: City) -> None:
    city = small_body_city
    station = city.stations[0]
    h = city.headers(station)
    big = "id,district,skills,availability,max_hours\n" + "v,d,life_care,mon-am,1\n" * 400
    for headers, content in (
        ({**h, "Content-Type": "text/csv"}, big.encode()),
        # No Content-Length: the body arrives in chunks and is cut off at the limit.
        (
            {**h, "Content-Type": "text/csv"},
            iter([big.encode()[i : i + 1000] for i in range(0, len(big), 1000)]),
        ),
    ):
        r = city.client.put(f"/v1/stations/{station}/volunteers.csv", content=content, headers=headers)
        assert (r.status_code, r.json()) == (
            413,
            {"detail": "body: larger than the limit of 4096 bytes (LINLI_MAX_BODY_BYTES)"},
        )
    small = city.client.get(f"/v1/stations/{station}/volunteers", headers=h)
    assert small.status_code == 200
    with Session(city.engine) as s:
        assert s.exec(select(func.count()).where(Volunteer.id == "v")).one() == 0


# ------------------------------------------------------------------------ a sick database


def _seeded(tmp_path: Path) -> tuple[str, str, dict[str, str], str]:
    """A small seeded city in an SQLite file: (url, station, its headers, its district)."""
    url = f"sqlite:///{tmp_path / 'sick.sqlite'}"
    upgrade(url)
    seeding: Generator[City] = seeded_city(url, volunteers=10, beneficiaries=8)  # type: ignore[assignment]
    city = next(seeding)
    station = city.stations[0]
    headers = city.headers(station)
    district = city.client.get(f"/v1/stations/{station}", headers=headers).json()["district"]
    seeding.close()
    return url, station, headers, district


def _serve(url: str, max_pages: int | None = None) -> TestClient:
    """The service on ``url`` with a 0.2 s busy timeout (and, given, a cap on the file's pages)."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 0.2})
    if max_pages is not None:

        @event.listens_for(engine, "connect")
        def _cap(conn: Any, _record: Any) -> None:
            conn.execute(f"PRAGMA max_page_count = {max_pages}")

    return TestClient(create_app(engine))


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM volunteer").fetchone()[0])


def test_a_locked_database_is_503_and_nothing_is_written(tmp_path: Path) -> None:
    url, station, headers, district = _seeded(tmp_path)
    path = tmp_path / "sick.sqlite"
    before = _count(path)
    with _serve(url) as client:
        client.get("/v1/stations", headers=headers)  # records the token's use before the lock
        holder = sqlite3.connect(path, timeout=0.1)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            body = {"id": "v-lock", "district": district, "skills": [], "availability": [], "max_hours": 1}
            r = client.post(f"/v1/stations/{station}/volunteers", json=body, headers=headers)
            assert r.status_code == 503, r.text
            assert r.json()["detail"].startswith("database: busy")
            assert r.headers["retry-after"] == "5"
        finally:
            holder.rollback()
            holder.close()
    assert _count(path) == before


def test_a_full_disk_is_507_and_nothing_is_half_written(tmp_path: Path) -> None:
    # SQLite's max_page_count makes the file "full" at its present size, as a full disk does.
    url, station, headers, district = _seeded(tmp_path)
    path = tmp_path / "sick.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    before = _count(path)
    rows = "".join(f"v-full-{i},{district},life_care,mon-am,3,{'x' * 90}\n" for i in range(300))
    with _serve(url, max_pages=pages) as client:
        r = client.put(
            f"/v1/stations/{station}/volunteers.csv",
            content="id,district,skills,availability,max_hours,name\n" + rows,
            headers={**headers, "Content-Type": "text/csv"},
        )
        assert r.status_code == 507, r.text
        assert r.json()["detail"] == "database: the disk is full; nothing was written, try again later"
    assert _count(path) == before

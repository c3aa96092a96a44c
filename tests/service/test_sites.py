"""Sites and group posts (多人岗位, issue 20) in the service: the site routes, a need at a site or
for several volunteers, needs.csv and sites.csv, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from api_support import City
from sqlmodel import Session, select

from api.models import AuditEntry, Need, Volunteer
from api.services.planning import build_problem
from matcher.format.schema import Problem2

CSV = {"Content-Type": "text/csv"}
NEED = {"id": "n-post", "service": "life_care", "hours": 2, "sessions": 1, "windows": ["sat-am", "sun-am"]}


def _district(city: City, station: str) -> str:
    with Session(city.engine) as session:
        volunteer = session.exec(select(Volunteer).where(Volunteer.station_id == station)).first()
        assert volunteer is not None
        return volunteer.district


def _site(city: City, station: str, **over: Any) -> dict[str, Any]:
    return {"id": "s-square", "name": "雄关广场", "district": _district(city, station), **over}


def _post_site(city: City, station: str, **over: Any) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/sites", json=_site(city, station, **over), headers=city.headers(station)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_site_crud_and_a_post_at_it(city: City) -> None:
    """POST a site, GET and list it, add a post (priority required), PATCH it, end it, deactivate the site."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    site = _post_site(city, station, address="东门")
    assert site == {
        **_site(city, station),
        "address": "东门",
        "latitude": None,
        "longitude": None,
        "active": True,
        "station_id": station,
        "needs": [],
    }
    assert c.get(f"/v1/stations/{station}/sites", headers=h).json() == [site]
    # A need at a site gives its priority.
    r = c.post(f"/v1/stations/{station}/sites/s-square/needs", json={**NEED, "volunteers_max": 5}, headers=h)
    assert r.status_code == 422 and "priority" in r.text, r.text
    post = {
        **NEED,
        "priority": 4,
        "volunteers_min": 2,
        "volunteers_max": 5,
        "lead_certifications": ["first_aid"],
    }
    r = c.post(f"/v1/stations/{station}/sites/s-square/needs", json=post, headers=h)
    assert r.status_code == 201, r.text
    assert r.json() == {
        **post,
        "requires": [],
        "minor_ok": False,
        "active": True,
        "lead_skills": [],
        "beneficiary_id": None,
        "site_id": "s-square",
    }
    assert [n["id"] for n in c.get(f"/v1/stations/{station}/sites/s-square", headers=h).json()["needs"]] == [
        "n-post"
    ]
    # min above max is refused, naming the field; a valid change is kept.
    r = c.patch(f"/v1/stations/{station}/sites/s-square/needs/n-post", json={"volunteers_min": 6}, headers=h)
    assert r.status_code == 422 and "volunteers_min" in r.text, r.text
    r = c.patch(f"/v1/stations/{station}/sites/s-square/needs/n-post", json={"volunteers_max": 8}, headers=h)
    assert (r.status_code, r.json()["volunteers_max"]) == (200, 8)
    r = c.delete(f"/v1/stations/{station}/sites/s-square/needs/n-post", headers=h)
    assert (r.status_code, r.json()["active"]) == (200, False)
    r = c.patch(f"/v1/stations/{station}/sites/s-square", json={"name": "雄关广场（东）"}, headers=h)
    assert (r.status_code, r.json()["name"]) == (200, "雄关广场（东）")
    r = c.delete(f"/v1/stations/{station}/sites/s-square", headers=h)
    assert (r.status_code, r.json()["active"]) == (200, False)
    assert c.get(f"/v1/stations/{station}/sites", headers=h).json() == []
    listed = c.get(f"/v1/stations/{station}/sites", params={"include_inactive": True}, headers=h).json()
    assert [s["id"] for s in listed] == ["s-square"]
    # A taken id is 409; an unknown district 422 naming it; an empty name 422.
    r = c.post(f"/v1/stations/{station}/sites", json=_site(city, station), headers=h)
    assert r.status_code == 409, r.text
    r = c.post(f"/v1/stations/{station}/sites", json=_site(city, station, id="s-2", district="zz"), headers=h)
    assert r.status_code == 422 and "district" in r.text, r.text
    r = c.post(f"/v1/stations/{station}/sites", json=_site(city, station, id="s-3", name=""), headers=h)
    assert r.status_code == 422 and "name" in r.text, r.text


def test_a_beneficiarys_need_refuses_a_priority_and_takes_several_volunteers(city: City) -> None:
    """A beneficiary's need takes the beneficiary's priority (422 if given), and may ask for 2 volunteers."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    with Session(city.engine) as session:
        need = session.exec(select(Need).where(Need.beneficiary_id.is_not(None))).first()  # type: ignore[union-attr]
        assert need is not None
    ben = str(need.beneficiary_id)
    stations = [
        s
        for s in city.stations
        if c.get(f"/v1/stations/{s}/beneficiaries/{ben}", headers=city.headers(s)).status_code == 200
    ]
    station, h = stations[0], city.headers(stations[0])
    r = c.post(f"/v1/stations/{station}/beneficiaries/{ben}/needs", json={**NEED, "priority": 3}, headers=h)
    assert r.status_code == 422 and "priority" in r.text, r.text
    r = c.post(
        f"/v1/stations/{station}/beneficiaries/{ben}/needs",
        json={**NEED, "volunteers_min": 2, "volunteers_max": 2},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["volunteers_min"], r.json()["volunteers_max"], r.json()["site_id"]) == (2, 2, None)
    r = c.post(
        f"/v1/stations/{station}/beneficiaries/{ben}/needs",
        json={**NEED, "id": "n-51", "volunteers_max": 51},
        headers=h,
    )
    assert r.status_code == 422 and "volunteers_max" in r.text, r.text


def test_a_site_id_may_not_be_a_beneficiarys(city: City) -> None:
    """Format 2 counts a site as a place beside the beneficiaries: the ids must differ."""
    station = city.stations[0]
    ben = city.client.get(f"/v1/stations/{station}/beneficiaries", headers=city.headers(station)).json()[0][
        "id"
    ]
    r = city.client.post(
        f"/v1/stations/{station}/sites", json=_site(city, station, id=ben), headers=city.headers(station)
    )
    assert r.status_code in (409, 422), r.text


def test_another_stations_site_is_404(city: City) -> None:
    """Station B's site answers 404 to station A's token, under either station's path."""
    a, b = city.stations
    _post_site(city, b)
    c = city.client
    assert c.get(f"/v1/stations/{b}/sites/s-square", headers=city.headers(a)).status_code == 404
    assert c.get(f"/v1/stations/{a}/sites/s-square", headers=city.headers(a)).status_code == 404
    r = c.post(
        f"/v1/stations/{a}/sites/s-square/needs", json={**NEED, "priority": 3}, headers=city.headers(a)
    )
    assert r.status_code == 404, r.text


def test_needs_csv_carries_posts_and_old_files_still_import(city: City) -> None:
    """needs.csv gains the posts' columns at its end; a post at a site imports and exports; a file
    with the old columns only still imports; a row naming both or neither place is refused."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    _post_site(city, station)
    text = c.get(f"/v1/stations/{station}/needs.csv", headers=h).text.lstrip("\ufeff")
    header = text.splitlines()[0].split(",")
    assert header[-7:] == [
        "active",
        "volunteers_min",
        "volunteers_max",
        "priority",
        "lead_certifications",
        "lead_skills",
        "site_id",
    ]
    ben = text.splitlines()[1].split(",")[1]
    rows = (
        "id,site_id,priority,service,hours,sessions,windows,volunteers_min,volunteers_max,lead_skills\n"
        "n-csv-post,s-square,5,life_care,2,1,sat-am,2,5,companionship\n"
    )
    r = c.put(f"/v1/stations/{station}/needs.csv", content=rows, headers={**h, **CSV})
    assert r.status_code == 200, r.text
    again = c.get(f"/v1/stations/{station}/needs.csv", headers=h).text
    line = next(x for x in again.splitlines() if x.startswith("n-csv-post,"))
    assert line.endswith(",2,5,5,,companionship,s-square"), line
    old = f"id,beneficiary_id,service,hours,sessions,windows\nn-csv-old,{ben},life_care,1,1,mon-am\n"
    r = c.put(f"/v1/stations/{station}/needs.csv", content=old, headers={**h, **CSV})
    assert r.status_code == 200, r.text
    both = (
        "id,beneficiary_id,site_id,priority,service,hours,sessions,windows\n"
        f"n-x,{ben},s-square,3,life_care,1,1,mon-am\n"
    )
    r = c.put(f"/v1/stations/{station}/needs.csv", content=both, headers={**h, **CSV})
    assert r.status_code == 422 and "site_id" in r.text, r.text
    neither = "id,service,hours,sessions,windows\nn-y,life_care,1,1,mon-am\n"
    r = c.put(f"/v1/stations/{station}/needs.csv", content=neither, headers={**h, **CSV})
    assert r.status_code == 422 and "site_id" in r.text, r.text


def test_sites_csv_round_trip(city: City) -> None:
    """sites.csv exports the station's sites and imports them back (an upsert by id), xlsx too."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    district = _district(city, station)
    rows = f"id,name,district,address\ns-river,滨河步道,{district},北岸\ns-gate,一中校门,{district},\n"
    r = c.put(f"/v1/stations/{station}/sites.csv", content=rows, headers={**h, **CSV})
    assert (r.status_code, r.json()) == (200, {"created": 2, "updated": 0}), r.text
    text = c.get(f"/v1/stations/{station}/sites.csv", headers=h).text.lstrip("\ufeff")
    assert text.splitlines()[0] == "id,name,district,address,latitude,longitude,active"
    assert [x.split(",")[:2] for x in text.splitlines()[1:]] == [
        ["s-gate", "一中校门"],
        ["s-river", "滨河步道"],
    ]
    r = c.put(f"/v1/stations/{station}/sites.csv", content=text, headers={**h, **CSV})
    assert (r.status_code, r.json()) == (200, {"created": 0, "updated": 2}), r.text
    xlsx = c.get(f"/v1/stations/{station}/sites.xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = "id,name,district\n=cmd,广场,zz\n"
    r = c.put(f"/v1/stations/{station}/sites.csv", content=bad, headers={**h, **CSV})
    assert r.status_code == 422, r.text


def test_a_post_write_is_audited_with_its_station(city: City) -> None:
    """A need at a site has no beneficiary: its audit entry still names the site's station."""
    station = city.stations[0]
    _post_site(city, station)
    r = city.client.post(
        f"/v1/stations/{station}/sites/s-square/needs",
        json={**NEED, "priority": 3},
        headers=city.headers(station),
    )
    assert r.status_code == 201, r.text
    with Session(city.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.entity == "need", AuditEntry.entity_id == "n-post")
        ).one()
    assert (entry.station_id, entry.action) == (station, "create")


def test_a_post_makes_the_week_format_2_and_a_site_alone_does_not(city: City) -> None:
    """A site without posts leaves the week's format-1 problem exactly as it was; a post at it makes
    the week a format-2 problem with the site (its district) and the post (priority, volunteers, lead),
    the station's other needs and people as before; the other station's week stays format 1."""
    station, other = city.stations
    week = dt.date(2026, 12, 7)
    with Session(city.engine) as session:
        before = build_problem(session, station, week, 5)
        before_other = build_problem(session, other, week, 5).model_dump_json()
    assert before.format == 1
    _post_site(city, station)
    with Session(city.engine) as session:
        assert build_problem(session, station, week, 5).model_dump_json() == before.model_dump_json()
    r = city.client.post(
        f"/v1/stations/{station}/sites/s-square/needs",
        json={
            **NEED,
            "priority": 3,
            "volunteers_min": 2,
            "volunteers_max": 3,
            "lead_certifications": ["first_aid"],
        },
        headers=city.headers(station),
    )
    assert r.status_code == 201, r.text
    with Session(city.engine) as session:
        after = build_problem(session, station, week, 5)
        assert build_problem(session, other, week, 5).model_dump_json() == before_other
    assert isinstance(after, Problem2)
    assert [(s.id, s.district) for s in after.sites] == [("s-square", _district(city, station))]
    post = next(n for n in after.needs if n.id == "n-post")
    assert (post.site, post.priority, post.volunteers.min, post.volunteers.max) == ("s-square", 3, 2, 3)
    assert post.lead is not None and post.lead.certifications == ["first_aid"]
    assert after.volunteers == before.volunteers and after.beneficiaries == before.beneficiaries
    assert {n.id for n in after.needs} == {n.id for n in before.needs} | {"n-post"}


def test_migration_0015_goes_down_and_up_again(db_url: str) -> None:
    """Down to 0014 drops the site table and the posts' columns (needs at sites deleted); up again
    gives stored needs one volunteer and no priority."""
    from alembic import command

    from api.migrate import config, upgrade

    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO centre (id, name) VALUES ('c', 'c')"))
            conn.execute(sa.text("INSERT INTO district (id, name, neighbors) VALUES ('d', '', '[]')"))
            conn.execute(
                sa.text("INSERT INTO station (id, centre_id, name, district) VALUES ('s', 'c', 's', 'd')")
            )
            conn.execute(
                sa.text(
                    "INSERT INTO site (id, name, district, address, active, station_id)"
                    " VALUES ('x', '广场', 'd', '', true, 's')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO need (id, service, hours, sessions, windows, requires, minor_ok, active,"
                    " volunteers_min, volunteers_max, priority, lead_certifications, lead_skills, site_id)"
                    " VALUES ('n', 'life_care', 1, 1, '[\"mon-am\"]', '[]', false, true,"
                    " 2, 3, 4, '[]', '[]', 'x')"
                )
            )
        command.downgrade(config(db_url), "0014")
        engine.dispose()
        with engine.connect() as conn:
            assert "site" not in sa.inspect(conn).get_table_names()
            assert "site_id" not in {c["name"] for c in sa.inspect(conn).get_columns("need")}
            assert conn.execute(sa.text("SELECT count(*) FROM need")).scalar_one() == 0
        upgrade(db_url)
        engine.dispose()
        with engine.connect() as conn:
            assert "site" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()

"""Volunteers, beneficiaries and needs: JSON routes and CSV import/export, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from api_support import City
from sqlmodel import Session, func, select

from api import csvio
from api.models import Beneficiary, Certificate, Need, Volunteer

WEEK = "2026-12-07"
CSV = {"Content-Type": "text/csv"}


def _station(city: City, station: str) -> dict[str, Any]:
    body: dict[str, Any] = city.client.get(f"/v1/stations/{station}", headers=city.headers(station)).json()
    return body


def _volunteer(city: City, station: str, **over: Any) -> dict[str, Any]:
    info = _station(city, station)
    team = info["teams"][0]
    return {
        "id": "v-new",
        "name": "王芳",
        "district": info["district"],
        "team_id": team["id"],
        "group_id": team["groups"][0]["id"],
        "skills": ["life_care", "companionship"],
        "availability": ["mon-am", "sat-pm"],
        "certificates": [{"kind": "first_aid", "expires": "2027-05-01"}],
        "max_hours": 6,
        "minor": True,
        "guardian_consent": True,
        "gender": "f",
        "latitude": 39.8,
        "longitude": 98.25,
        **over,
    }


def _beneficiary(city: City, station: str, **over: Any) -> dict[str, Any]:
    return {
        "id": "b-new",
        "name": "李奶奶",
        "category": "elderly",
        "district": _station(city, station)["district"],
        "priority": 4,
        "volunteer_gender": "f",
        **over,
    }


NEED = {"id": "n-new", "service": "life_care", "hours": 1.5, "sessions": 2, "windows": ["mon-am", "wed-am"]}


def _rows(text: str) -> list[list[str]]:
    # Exports start with a byte-order mark (for Excel), which the CSV reader would take as text.
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def _text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _snapshot(city: City, station: str) -> dict[str, Any]:
    """Everything the station's people routes show, JSON and CSV."""
    c, h = city.client, city.headers(station)
    return {
        name: c.get(f"/v1/stations/{station}/{name}", headers=h).json()
        if "." not in name
        else c.get(f"/v1/stations/{station}/{name}", headers=h).text
        for name in ("volunteers", "beneficiaries", "volunteers.csv", "beneficiaries.csv", "needs.csv")
    }


def test_create_get_list_volunteer(city: City) -> None:
    """POST a volunteer (a minor with consent) answers 201; GET and the list show it with certificates."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    sent = _volunteer(city, station)
    r = c.post(f"/v1/stations/{station}/volunteers", json=sent, headers=h)
    assert r.status_code == 201, r.text
    expected = {
        **sent,
        "max_hours": 6.0,
        "max_beneficiaries": 3,
        "hours_before": 0.0,
        "active": True,
        "phone": None,
        "wechat": None,
        "station_id": station,
    }
    assert r.json() == expected
    assert c.get(f"/v1/stations/{station}/volunteers/v-new", headers=h).json() == expected
    assert c.get(f"/v1/stations/{station}/volunteers/v-new", headers=city.headers()).json() == expected
    listed = c.get(f"/v1/stations/{station}/volunteers", headers=h).json()
    assert [v["id"] for v in listed] == sorted(v["id"] for v in listed)
    assert next(v for v in listed if v["id"] == "v-new") == expected
    with Session(city.engine) as session:
        assert (
            len(listed)
            == session.exec(
                select(func.count()).select_from(Volunteer).where(Volunteer.station_id == station)
            ).one()
        )
        certified = {row.volunteer_id for row in session.exec(select(Certificate))}
    assert any(v["certificates"] for v in listed if v["id"] != "v-new")
    assert all(bool(v["certificates"]) == (v["id"] in certified) for v in listed)
    again = c.post(f"/v1/stations/{station}/volunteers", json=sent, headers=h)
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "volunteer 'v-new' is already in use (ids are unique in the city)"},
    )


def test_create_get_list_beneficiary_and_need(city: City) -> None:
    """POST a beneficiary, then a need: GET and the list show both; a taken id is 409."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    volunteer = c.get(f"/v1/stations/{station}/volunteers", headers=h).json()[0]["id"]
    sent = _beneficiary(city, station, excluded_volunteers=[volunteer])
    r = c.post(f"/v1/stations/{station}/beneficiaries", json=sent, headers=h)
    assert r.status_code == 201, r.text
    expected = {
        **sent,
        "latitude": None,
        "longitude": None,
        "active": True,
        "address": "",
        "contact_name": "",
        "contact_phone": None,
        "station_id": station,
        "needs": [],
    }
    assert r.json() == expected
    r = c.post(f"/v1/stations/{station}/beneficiaries/b-new/needs", json=NEED, headers=h)
    assert r.status_code == 201, r.text
    need = {
        **NEED,
        "requires": [],
        "minor_ok": False,
        "active": True,
        "beneficiary_id": "b-new",
        # A group post's fields (format 2), at their defaults: one volunteer, no lead, no site.
        "volunteers_min": 1,
        "volunteers_max": 1,
        "priority": None,
        "lead_certifications": [],
        "lead_skills": [],
        "site_id": None,
    }
    assert r.json() == need
    expected["needs"] = [need]
    assert c.get(f"/v1/stations/{station}/beneficiaries/b-new", headers=h).json() == expected
    listed = c.get(f"/v1/stations/{station}/beneficiaries", headers=h).json()
    assert next(b for b in listed if b["id"] == "b-new") == expected
    assert sum(len(b["needs"]) for b in listed) > len(listed) // 2, "the demo beneficiaries have needs"
    assert c.post(f"/v1/stations/{station}/beneficiaries", json=sent, headers=h).status_code == 409
    again = c.post(f"/v1/stations/{station}/beneficiaries/b-new/needs", json=NEED, headers=h)
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "need 'n-new' is already in use (ids are unique in the city)"},
    )


def test_another_stations_token_gets_404_everywhere(city: City) -> None:
    """Every people route of station A answers 404 to station B's token; B's records are 404 under A."""
    a, b = city.stations
    c = city.client
    with Session(city.engine) as session:
        ben_a = session.exec(select(Beneficiary).where(Beneficiary.station_id == a)).first()
        vol_b = session.exec(select(Volunteer).where(Volunteer.station_id == b)).first()
        ben_b = session.exec(select(Beneficiary).where(Beneficiary.station_id == b)).first()
    assert ben_a and vol_b and ben_b
    exports = {
        name: c.get(f"/v1/stations/{a}/{name}.csv", headers=city.headers(a)).text
        for name in ("volunteers", "beneficiaries", "needs")
    }
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "volunteers", {}),
        ("POST", "volunteers", {"json": _volunteer(city, a)}),
        ("GET", "volunteers/v0001", {}),
        ("GET", "beneficiaries", {}),
        ("POST", "beneficiaries", {"json": _beneficiary(city, a)}),
        ("GET", f"beneficiaries/{ben_a.id}", {}),
        ("POST", f"beneficiaries/{ben_a.id}/needs", {"json": NEED}),
    ]
    for name, text in exports.items():
        calls += [("GET", f"{name}.csv", {}), ("PUT", f"{name}.csv", {"content": text, "headers": CSV})]
    for method, path, kwargs in calls:
        headers = {**kwargs.pop("headers", {}), **city.headers(b)}
        r = c.request(method, f"/v1/stations/{a}/{path}", headers=headers, **kwargs)
        assert (r.status_code, r.json()) == (404, {"detail": f"station '{a}' not found"}), (method, path)
    h = city.headers(a)
    r = c.get(f"/v1/stations/{a}/volunteers/{vol_b.id}", headers=h)
    assert (r.status_code, r.json()) == (404, {"detail": f"volunteer '{vol_b.id}' not found"})
    assert c.get(f"/v1/stations/{a}/beneficiaries/{ben_b.id}", headers=h).status_code == 404
    assert c.post(f"/v1/stations/{a}/beneficiaries/{ben_b.id}/needs", json=NEED, headers=h).status_code == 404
    assert _snapshot(city, a)["volunteers.csv"] == exports["volunteers"]


def test_bad_input_is_422_naming_the_field(city: City) -> None:
    """Values the exchange format refuses, and references outside the station, answer 422 naming the field."""
    a, b = city.stations
    c, h = city.client, city.headers(a)
    other_team = _station(city, b)["teams"][0]["id"]
    teams = _station(city, a)["teams"]
    team, group, team2 = teams[0]["id"], teams[0]["groups"][0]["id"], teams[1]["id"]
    volunteers = f"/v1/stations/{a}/volunteers"
    beneficiaries = f"/v1/stations/{a}/beneficiaries"
    ben = c.get(beneficiaries, headers=h).json()[0]["id"]
    needs = f"{beneficiaries}/{ben}/needs"
    cases: list[tuple[str, dict[str, Any], str]] = [
        (volunteers, _volunteer(city, a, skills=["flying"]), "skills[0]: unknown service code 'flying'"),
        (
            volunteers,
            _volunteer(city, a, availability=["mon-am", "mon-noon"]),
            "availability[1]: unknown slot 'mon-noon'",
        ),
        (
            volunteers,
            _volunteer(city, a, availability=["mon-am", "mon-am"]),
            "availability: 'mon-am' is listed twice",
        ),
        (
            volunteers,
            _volunteer(city, a, max_hours=-1),
            "max_hours: must be at least 0",
        ),
        (volunteers, _volunteer(city, a, max_hours="6"), "max_hours: Input should be a valid number"),
        (volunteers, _volunteer(city, a, minor="yes"), "minor: Input should be a valid boolean"),
        (volunteers, _volunteer(city, a, gender="x"), "gender: Input should be 'f' or 'm'"),
        (volunteers, _volunteer(city, a, district="nowhere"), "district: unknown district 'nowhere'"),
        (
            volunteers,
            _volunteer(city, a, team_id=other_team, group_id=None),
            f"team_id: unknown team '{other_team}'",
        ),
        (
            volunteers,
            _volunteer(city, a, certificates=[{"kind": "cpr", "expires": "2027-01-01"}]),
            "certificates[0].kind: unknown certification kind 'cpr'",
        ),
        (volunteers, _volunteer(city, a, longitude=None), "longitude: required when latitude is given"),
        (volunteers, _volunteer(city, a, nickname="x"), "nickname: unknown field"),
        (volunteers, _volunteer(city, a, name="a\x00b"), "name: must not contain NUL characters"),
        (
            volunteers,
            _volunteer(city, a, team_id=None),
            f"team_id: required with group_id (group '{group}' is in team '{team}')",
        ),
        (
            volunteers,
            _volunteer(city, a, team_id=team2),
            f"group_id: group '{group}' is in team '{team}', not in '{team2}'",
        ),
        (volunteers, _volunteer(city, a, id=""), "id: String should have at least 1 character"),
        (
            beneficiaries,
            _beneficiary(city, a, priority=6),
            "priority: must be at most 5 (5 is the most vulnerable)",
        ),
        (
            beneficiaries,
            _beneficiary(city, a, category="aged"),
            "category: unknown category 'aged'"
            " (expected one of: elderly, disabled, child, migrant_worker, community)",
        ),
        (
            beneficiaries,
            _beneficiary(city, a, excluded_volunteers=["v-nobody"]),
            "excluded_volunteers[0]: unknown volunteer 'v-nobody'",
        ),
        (
            beneficiaries,
            _beneficiary(city, a, volunteer_gender="w"),
            "volunteer_gender: Input should be 'f' or 'm'",
        ),
        (needs, {**NEED, "hours": 0}, "hours: must be greater than 0"),
        (needs, {**NEED, "sessions": 8}, "sessions: must be at most 7 (one a day)"),
        (needs, {**NEED, "windows": ["mon-noon"]}, "windows[0]: unknown slot 'mon-noon'"),
        (needs, {**NEED, "requires": ["cpr"]}, "requires[0]: unknown certification kind 'cpr'"),
        (needs, {**NEED, "service": "flying"}, "service: unknown service code 'flying'"),
    ]
    before = _snapshot(city, a)
    for path, body, detail in cases:
        r = c.post(path, json=body, headers=h)
        assert (r.status_code, r.json()) == (422, {"detail": detail}), body
    assert c.get(f"{volunteers}/v%00", headers=h).status_code == 404
    assert _snapshot(city, a) == before


@pytest.mark.parametrize("name", ["volunteers", "beneficiaries", "needs"])
def test_csv_round_trip(city: City, name: str) -> None:
    """Export then re-import unchanged: every row updated, the data exactly as before."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    tricky = _volunteer(city, station, name='=HYPERLINK("http://x")', max_hours=2.5, hours_before=0.1)
    assert c.post(f"/v1/stations/{station}/volunteers", json=tricky, headers=h).status_code == 201
    before = _snapshot(city, station)
    exported = c.get(f"/v1/stations/{station}/{name}.csv", headers=h)
    assert exported.status_code == 200 and exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = _rows(exported.text)
    columns = {"volunteers": csvio.VOLUNTEER_COLUMNS, "beneficiaries": csvio.BENEFICIARY_COLUMNS}
    assert rows[0] == [col.name for col in columns.get(name, csvio.NEED_COLUMNS)]
    assert len(rows) > 10
    if name == "volunteers":
        assert '\'=HYPERLINK("http://x")' in next(r for r in rows if r[0] == "v-new")
    r = c.put(f"/v1/stations/{station}/{name}.csv", content=exported.text.encode(), headers={**h, **CSV})
    assert (r.status_code, r.json()) == (200, {"created": 0, "updated": len(rows) - 1})
    assert _snapshot(city, station) == before


def test_csv_two_bad_rows_write_nothing(city: City) -> None:
    """A CSV with two bad rows answers 422 listing both rows; even its good rows are not written."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    before = _snapshot(city, station)
    rows = _rows(before["volunteers.csv"])
    header = rows[0]
    rows[1][header.index("name")] = "改过的名字"  # row 2: a good change
    rows[2][header.index("max_hours")] = "-1"  # row 3
    rows[6][header.index("skills")] = "life_care;flying"  # row 7
    rows.append(["v-added", "", rows[1][header.index("district")], "", "", "life_care", "mon-am", "", "4"])
    r = c.put(f"/v1/stations/{station}/volunteers.csv", content=_text(rows), headers={**h, **CSV})
    errors = [
        "row 3: max_hours: must be at least 0",
        "row 7: skills[1]: unknown service code 'flying'",
    ]
    assert (r.status_code, r.json()) == (422, {"detail": errors[0], "errors": errors})
    assert _snapshot(city, station) == before
    with Session(city.engine) as session:
        assert session.get(Volunteer, "v-added") is None


def test_csv_errors_name_row_and_column(city: City) -> None:
    """Unreadable cells, duplicate ids, another station's ids and unknown references are row errors."""
    a, b = city.stations
    c, h = city.client, {**city.headers(a), **CSV}
    with Session(city.engine) as session:
        vol_b = session.exec(select(Volunteer).where(Volunteer.station_id == b)).first()
        ben_b = session.exec(select(Beneficiary).where(Beneficiary.station_id == b)).first()
        ben_a = session.exec(select(Beneficiary).where(Beneficiary.station_id == a)).first()
    assert vol_b and ben_b and ben_a
    district = _station(city, a)["district"]
    text = (
        "id,district,skills,availability,max_hours,minor,certificates\n"
        f"{vol_b.id},{district},life_care,mon-am,3,,\n"
        f"v-x,{district},life_care,mon-am,three,maybe,first_aid\n"
        "\n"
        f"v-y,{district},life_care,mon-am,3,,first_aid:2027-13-01\n"
        f"v-y,{district},life_care,mon-am,3,,\n"
        "v-z,nowhere,,,,,\n"
    )
    r = c.put(f"/v1/stations/{a}/volunteers.csv", content=text, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        f"row 2: id: '{vol_b.id}' is already in use (ids are unique in the city)",
        "row 3: max_hours: not a number: 'three'",
        "row 3: minor: expected true or false, not 'maybe'",
        "row 3: certificates: certificate 1: expected kind:YYYY-MM-DD, not 'first_aid'",
        "row 5: certificates[0].expires: Input should be a valid date or datetime, month value is outside"
        " expected range of 1-12",
        "row 6: id: 'v-y' is already on row 5",
        "row 7: max_hours: required field is missing",
    ]
    r = c.put(f"/v1/stations/{a}/volunteers.csv", content="id,name,colour\n", headers=h)
    assert r.json()["errors"] == [
        "row 1: unknown column 'colour' (expected some of: "
        + ", ".join(col.name for col in csvio.VOLUNTEER_COLUMNS)
        + ")",
        "row 1: missing column 'district'",
        "row 1: missing column 'skills'",
        "row 1: missing column 'availability'",
        "row 1: missing column 'max_hours'",
    ]
    r = c.put(f"/v1/stations/{a}/volunteers.csv", content=b"id,name\n\x81\x00", headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("body: neither UTF-8 (byte 8) nor GBK")
    r = c.put(f"/v1/stations/{a}/volunteers.csv", content="id,name\nx,a\x00b\n", headers=h)
    assert r.json()["errors"] == ["body: contains a NUL character: not CSV text"]
    r = c.put(f"/v1/stations/{a}/volunteers.csv", json={"id": "x"}, headers=city.headers(a))
    assert r.status_code == 415
    needs = (
        "id,beneficiary_id,service,hours,sessions,windows\n"
        f"n-x,{ben_b.id},life_care,1,1,mon-am\n"
        f"n-y,{ben_a.id},life_care,1,1,mon-am;mon-noon\n"
    )
    r = c.put(f"/v1/stations/{a}/needs.csv", content=needs, headers=h)
    assert r.json()["errors"] == [
        f"row 2: beneficiary_id: unknown beneficiary '{ben_b.id}'",
        "row 3: windows[1]: unknown slot 'mon-noon'",
    ]


def test_csv_upsert_keeps_left_out_columns(city: City) -> None:
    """An empty cell clears an optional value; a column the header leaves out keeps the stored value."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    assert (
        c.post(f"/v1/stations/{station}/volunteers", json=_volunteer(city, station), headers=h).status_code
        == 201
    )
    district = _station(city, station)["district"]
    text = (
        "id,district,skills,availability,max_hours,gender,latitude,longitude\n"
        f"v-new,{district},recreation,sun-eve,2,,,\n"
    )
    r = c.put(f"/v1/stations/{station}/volunteers.csv", content=text, headers={**h, **CSV})
    assert r.json() == {"created": 0, "updated": 1}
    got = c.get(f"/v1/stations/{station}/volunteers/v-new", headers=h).json()
    assert got == {
        **_volunteer(city, station),
        "skills": ["recreation"],
        "availability": ["sun-eve"],
        "max_hours": 2.0,
        "gender": None,
        "latitude": None,
        "longitude": None,
        "max_beneficiaries": 3,
        "hours_before": 0.0,
        "active": True,
        "phone": None,
        "wechat": None,
        "station_id": station,
    }


def test_imported_volunteer_appears_in_the_plans_problem(city: City) -> None:
    """Imported volunteers and needs are in the next plan's problem (a minor without consent is not)."""
    station = city.stations[0]
    c, h = city.client, {**city.headers(station), **CSV}
    district = _station(city, station)["district"]
    volunteers = (
        "id,name,district,skills,availability,certificates,max_hours,minor,guardian_consent,gender\n"
        f"v-csv,赵强,{district},health_care;life_care,mon-am;tue-pm,first_aid:2027-05-01,5.5,false,,m\n"
        f"v-kid,小明,{district},recreation,sat-am,,2,true,false,\n"
    )
    r = c.put(f"/v1/stations/{station}/volunteers.csv", content=volunteers, headers=h)
    assert (r.status_code, r.json()) == (200, {"created": 2, "updated": 0}), r.text
    ben = c.get(f"/v1/stations/{station}/beneficiaries", headers=h).json()[0]["id"]
    needs = (
        "id,beneficiary_id,service,hours,sessions,windows,requires\n"
        f"n-csv,{ben},health_care,1,1,tue-pm,first_aid\n"
    )
    r = c.put(f"/v1/stations/{station}/needs.csv", content=needs, headers=h)
    assert (r.status_code, r.json()) == (200, {"created": 1, "updated": 0}), r.text
    r = c.post(f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station))
    assert r.status_code == 202, r.text
    assert city.wait(r.json()["id"], station)["state"] == "done"
    problem = c.get(f"/v1/plans/{r.json()['id']}/problem", headers=city.headers(station)).json()
    volunteer = next(v for v in problem["volunteers"] if v["id"] == "v-csv")
    assert volunteer == {
        "id": "v-csv",
        "district": district,
        "skills": ["health_care", "life_care"],
        "certifications": [{"kind": "first_aid", "expires": "2027-05-01"}],
        "availability": ["mon-am", "tue-pm"],
        "max_hours": 5.5,
        "max_beneficiaries": 3,
        "minor": False,
        "gender": "m",
    }
    assert "v-kid" not in {v["id"] for v in problem["volunteers"]}
    need = next(n for n in problem["needs"] if n["id"] == "n-csv")
    assert (need["beneficiary"], need["windows"], need["requires"]) == (ben, ["tue-pm"], ["first_aid"])
    with Session(city.engine) as session:
        assert session.get(Need, "n-csv") is not None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("=1+1", "text"),
        ("'quoted", "text"),
        ("-3", "text"),
        ('王芳, "阿芳"', "text"),
        (-73.25, "number"),
        (0.1, "number"),
        (20.0, "number"),
        (1e-7, "number"),
        (3, "integer"),
        (False, "flag"),
        (["mon-am", "tue-pm"], "list"),
        ([], "list"),
        ([{"kind": "first_aid", "expires": "2027-05-01"}], "certificates"),
    ],
)
def test_csv_cells_round_trip(value: Any, kind: csvio.Kind) -> None:
    """Every kind of cell reads back as written, formula-looking text included."""
    assert csvio.read_cell(csvio.write_cell(value, kind), kind) == value

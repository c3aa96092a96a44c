"""One boundary for people: every id a station sends is resolved inside its own scope.

``test_api_scoping`` covers ids in paths.  This module covers ids *inside request bodies*
(change sets, records, people, CSV rows): for every write route and every id-bearing
field, station A sending station B's real id gets exactly the answer it gets for an id
that exists nowhere (same status, same message but for the id), and B's data are
untouched.  The write routes and their id-bearing fields are read from the application's
OpenAPI schema and the CSV column lists, so a route or field added later fails this test
until it is given a case here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import BACKENDS, City, prepared_database_url, seeded_city
from sqlmodel import Session, col, func, select

from api import csvio
from api.models import (
    Beneficiary,
    Need,
    PlanAssignment,
    PlanVersion,
    ServiceRecord,
    Team,
    Volunteer,
    VolunteerGroup,
)

WEEK = "2026-12-07"
NOWHERE = "zz-nowhere"

Send = Callable[[City, str, "Ids", Any], httpx.Response]


@dataclass(frozen=True)
class Ids:
    """One station's real ids."""

    station: str
    district: str
    plan: int
    volunteer: str
    beneficiary: str
    need: str
    assignment: int
    team: str
    group: str
    site: str
    site_need: str


def _site(city: City, station: str, district: str) -> tuple[str, str]:
    """The station's site and a post at it (made on first use: the demo city has none)."""
    h = city.headers(station)
    site, need = f"s-{station}", f"n-s-{station}"
    if city.client.get(f"/v1/stations/{station}/sites/{site}", headers=h).status_code == 404:
        body = {"id": site, "name": "雄关广场", "district": district}
        r = city.client.post(f"/v1/stations/{station}/sites", json=body, headers=h)
        assert r.status_code == 201, r.text
        post = {**NEED, "id": need, "priority": 3, "volunteers_max": 3}
        r = city.client.post(f"/v1/stations/{station}/sites/{site}/needs", json=post, headers=h)
        assert r.status_code == 201, r.text
    return site, need


def _ids(city: City, station: str) -> Ids:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done", plan
    with Session(city.engine) as s:
        volunteer = s.exec(select(Volunteer).where(Volunteer.station_id == station)).first()
        beneficiary = s.exec(select(Beneficiary).where(Beneficiary.station_id == station)).first()
        assert volunteer is not None and beneficiary is not None
        need = s.exec(select(Need).where(Need.beneficiary_id == beneficiary.id)).first()
        assignment = s.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan["id"])).first()
        team = s.exec(select(Team).where(Team.station_id == station)).first()
        assert need is not None and assignment is not None and team is not None
        group = s.exec(select(VolunteerGroup).where(VolunteerGroup.team_id == team.id)).first()
        assert group is not None and assignment.id is not None
        site, site_need = _site(city, station, volunteer.district)
        return Ids(
            station,
            volunteer.district,
            plan["id"],
            volunteer.id,
            beneficiary.id,
            need.id,
            assignment.id,
            team.id,
            group.id,
            site,
            site_need,
        )


def _post(path: str, body: Callable[[Ids, Any], Any]) -> Send:
    def send(city: City, station: str, mine: Ids, x: Any) -> httpx.Response:
        response: httpx.Response = city.client.post(
            path.format(s=station, p=mine.plan), json=body(mine, x), headers=city.headers(station)
        )
        return response

    return send


def _patch(path: str, body: Callable[[Ids, Any], Any]) -> Send:
    """A PATCH of the station's own record (``{v}``, ``{b}``, ``{n}``, ``{t}``, ``{tn}``: its volunteer,
    beneficiary, need, site, need at the site)."""

    def send(city: City, station: str, mine: Ids, x: Any) -> httpx.Response:
        url = path.format(
            s=station, v=mine.volunteer, b=mine.beneficiary, n=mine.need, t=mine.site, tn=mine.site_need
        )
        response: httpx.Response = city.client.patch(url, json=body(mine, x), headers=city.headers(station))
        return response

    return send


def _csv(name: str, row: Callable[[Ids, Any], str]) -> Send:
    def send(city: City, station: str, mine: Ids, x: Any) -> httpx.Response:
        response: httpx.Response = city.client.put(
            f"/v1/stations/{station}/{name}.csv",
            content=row(mine, x),
            headers={**city.headers(station), "Content-Type": "text/csv"},
        )
        return response

    return send


def _volunteer(mine: Ids, **over: Any) -> dict[str, Any]:
    return {
        "id": "v-boundary",
        "district": mine.district,
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "max_hours": 4,
        **over,
    }


def _beneficiary(mine: Ids, **over: Any) -> dict[str, Any]:
    return {"id": "b-boundary", "category": "elderly", "district": mine.district, "priority": 3, **over}


NEED = {"id": "n-boundary", "service": "life_care", "hours": 1, "sessions": 1, "windows": ["mon-am"]}


@dataclass(frozen=True)
class Case:
    """An id-bearing field of a write route: how to send an id in it, and which kind of id."""

    method: str
    route: str
    field: str
    kind: str  # which of the other station's ids goes in: an attribute of Ids
    send: Send


CASES: tuple[Case, ...] = (
    Case(
        "post",
        "/v1/plans/{plan_id}/changes",
        "volunteers_withdrawn.volunteer",
        "volunteer",
        _post(
            "/v1/plans/{p}/changes", lambda m, x: {"format": 1, "volunteers_withdrawn": [{"volunteer": x}]}
        ),
    ),
    Case(
        "post",
        "/v1/plans/{plan_id}/changes",
        "needs_cancelled",
        "need",
        _post("/v1/plans/{p}/changes", lambda m, x: {"format": 1, "needs_cancelled": [x]}),
    ),
    Case(
        "post",
        "/v1/plans/{plan_id}/changes",
        "needs_added.beneficiary",
        "beneficiary",
        _post(
            "/v1/plans/{p}/changes",
            lambda m, x: {"format": 1, "needs_added": [{**NEED, "beneficiary": x}]},
        ),
    ),
    Case(
        "post",
        "/v1/plans/{plan_id}/changes",
        "volunteers_added",
        "volunteer",
        _post(
            "/v1/plans/{p}/changes",
            lambda m, x: {
                "format": 1,
                "volunteers_added": [{k: v for k, v in _volunteer(m, id=x).items()}],
            },
        ),
    ),
    Case(
        "post",
        "/v1/plans/{plan_id}/swap",
        "assignment_id",
        "assignment",
        _post("/v1/plans/{p}/swap", lambda m, x: {"assignment_id": x, "volunteer": m.volunteer}),
    ),
    Case(
        "post",
        "/v1/plans/{plan_id}/swap",
        "volunteer",
        "volunteer",
        _post("/v1/plans/{p}/swap", lambda m, x: {"assignment_id": m.assignment, "volunteer": x}),
    ),
    Case(
        "post",
        "/v1/records",
        "assignment_id",
        "assignment",
        _post("/v1/records", lambda m, x: {"assignment_id": x, "served_on": WEEK, "hours": 1}),
    ),
    Case(
        "post",
        "/v1/stations/{station_id}/volunteers",
        "team_id",
        "team",
        _post("/v1/stations/{s}/volunteers", lambda m, x: _volunteer(m, team_id=x)),
    ),
    Case(
        "post",
        "/v1/stations/{station_id}/volunteers",
        "group_id",
        "group",
        _post("/v1/stations/{s}/volunteers", lambda m, x: _volunteer(m, team_id=m.team, group_id=x)),
    ),
    Case(
        "post",
        "/v1/stations/{station_id}/beneficiaries",
        "excluded_volunteers",
        "volunteer",
        _post("/v1/stations/{s}/beneficiaries", lambda m, x: _beneficiary(m, excluded_volunteers=[x])),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/volunteers/{volunteer_id}",
        "team_id",
        "team",
        _patch("/v1/stations/{s}/volunteers/{v}", lambda m, x: {"team_id": x, "group_id": None}),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/volunteers/{volunteer_id}",
        "group_id",
        "group",
        _patch("/v1/stations/{s}/volunteers/{v}", lambda m, x: {"team_id": m.team, "group_id": x}),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}",
        "excluded_volunteers",
        "volunteer",
        _patch("/v1/stations/{s}/beneficiaries/{b}", lambda m, x: {"excluded_volunteers": [x]}),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}",
        "beneficiary_id",
        "beneficiary",
        _patch("/v1/stations/{s}/beneficiaries/{b}/needs/{n}", lambda m, x: {"beneficiary_id": x}),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}",
        "site_id",
        "site",
        _patch(
            "/v1/stations/{s}/beneficiaries/{b}/needs/{n}",
            lambda m, x: {"beneficiary_id": None, "site_id": x, "priority": 3},
        ),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/sites/{site_id}/needs/{need_id}",
        "site_id",
        "site",
        _patch("/v1/stations/{s}/sites/{t}/needs/{tn}", lambda m, x: {"site_id": x}),
    ),
    Case(
        "patch",
        "/v1/stations/{station_id}/sites/{site_id}/needs/{need_id}",
        "beneficiary_id",
        "beneficiary",
        _patch(
            "/v1/stations/{s}/sites/{t}/needs/{tn}",
            lambda m, x: {"site_id": None, "priority": None, "beneficiary_id": x},
        ),
    ),
    Case(
        "put",
        "/v1/stations/{station_id}/volunteers.csv",
        "team_id",
        "team",
        _csv(
            "volunteers",
            lambda m, x: (
                f"id,district,skills,availability,max_hours,team_id\nv-b,{m.district},life_care,mon-am,3,{x}\n"
            ),
        ),
    ),
    Case(
        "put",
        "/v1/stations/{station_id}/volunteers.csv",
        "group_id",
        "group",
        _csv(
            "volunteers",
            lambda m, x: (
                "id,district,skills,availability,max_hours,team_id,group_id\n"
                f"v-b,{m.district},life_care,mon-am,3,{m.team},{x}\n"
            ),
        ),
    ),
    Case(
        "put",
        "/v1/stations/{station_id}/beneficiaries.csv",
        "excluded_volunteers",
        "volunteer",
        _csv(
            "beneficiaries",
            lambda m, x: (
                f"id,category,district,priority,excluded_volunteers\nb-b,elderly,{m.district},3,{x}\n"
            ),
        ),
    ),
    Case(
        "put",
        "/v1/stations/{station_id}/needs.csv",
        "beneficiary_id",
        "beneficiary",
        _csv(
            "needs",
            lambda m, x: f"id,beneficiary_id,service,hours,sessions,windows\nn-b,{x},life_care,1,1,mon-am\n",
        ),
    ),
    Case(
        "put",
        "/v1/stations/{station_id}/needs.csv",
        "site_id",
        "site",
        _csv(
            "needs",
            lambda m, x: (
                f"id,site_id,priority,service,hours,sessions,windows\nn-b,{x},3,life_care,1,1,mon-am\n"
            ),
        ),
    ),
)

NO_BODY_IDS: dict[tuple[str, str], str] = {
    ("post", "/v1/stations/{station_id}/plans"): "body: week_start only",
    ("post", "/v1/solve"): "an integrator's own problem: its ids name nothing stored",
    (
        "post",
        "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs",
    ): "the beneficiary is in the path",
    ("post", "/v1/tokens"): "the centre only (a station gets 403 whatever it sends)",
    ("delete", "/v1/plans/{plan_id}"): "path only",
    ("post", "/v1/plans/{plan_id}/revert"): "path only (no body)",
    ("post", "/v1/plans/{plan_id}/publish"): "path only (no body)",
    ("delete", "/v1/stations/{station_id}/volunteers/{volunteer_id}"): "path only (soft delete)",
    ("delete", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}"): "path only (soft delete)",
    (
        "delete",
        "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}",
    ): "path only (soft delete)",
    ("delete", "/v1/tokens/{token_id}"): "path only",
    ("post", "/v1/stations/{station_id}/sites"): "a site's own fields (its district is the city's)",
    ("put", "/v1/stations/{station_id}/sites.csv"): "sites' own fields (districts are the city's)",
    (
        "patch",
        "/v1/stations/{station_id}/sites/{site_id}",
    ): "a site's own fields (its district is the city's)",
    ("delete", "/v1/stations/{station_id}/sites/{site_id}"): "path only (soft delete)",
    ("post", "/v1/stations/{station_id}/sites/{site_id}/needs"): "the site is in the path",
    ("delete", "/v1/stations/{station_id}/sites/{site_id}/needs/{need_id}"): "path only (soft delete)",
    (
        "post",
        "/v1/stations/{station_id}/simulations",
    ): "a scenario (its districts are the city's, not a station's), runs, week_start",
    ("delete", "/v1/simulations/{simulation_id}"): "path only",
    ("post", "/v1/stations/{station_id}/webhooks"): "a receiver's name, URL and description",
    ("delete", "/v1/webhooks/{webhook_id}"): "path only (deactivates)",
    ("post", "/v1/deliveries/{delivery_id}/retry"): "path only (no body)",
    ("post", "/v1/volunteers/{volunteer_id}/calendar"): "path only (no body)",
    ("delete", "/v1/volunteers/{volunteer_id}/calendar"): "path only",
}
"""Write routes whose bodies carry no id of a stored person (their path ids: test_api_scoping)."""

_REFERENCES = frozenset(
    {"volunteer", "beneficiary", "excluded_volunteers", "needs_cancelled", "volunteers_added"}
)
"""Fields that name stored people (besides every ``…_id``); ``volunteers_added`` brings people in."""


def _is_reference(field: str) -> bool:
    # A body's own ``id`` (and an added need's) names the record being created, not a reference.
    last = field.rsplit(".", 1)[-1]
    return last.endswith("_id") or last in _REFERENCES


def _schema_fields(schema: dict[str, Any], components: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted names of every property under ``schema`` (through $refs, arrays and unions)."""
    if "$ref" in schema:
        return _schema_fields(components[schema["$ref"].rsplit("/", 1)[1]], components, prefix)
    out: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            out |= _schema_fields(option, components, prefix)
    if "items" in schema:
        out |= _schema_fields(schema["items"], components, prefix)
    for name, sub in schema.get("properties", {}).items():
        out.add(prefix + name)
        out |= _schema_fields(sub, components, prefix + name + ".")
    return out


def _id_fields(fields: set[str]) -> set[str]:
    # Inside an added person, only the whole list counts (a station may not add people here).
    return {f for f in fields if _is_reference(f) and not f.startswith("volunteers_added.")}


def _csv_id_columns(route: str) -> set[str]:
    columns = {
        "volunteers": csvio.VOLUNTEER_COLUMNS,
        "beneficiaries": csvio.BENEFICIARY_COLUMNS,
        "needs": csvio.NEED_COLUMNS,
        "sites": csvio.SITE_COLUMNS,
    }[route.rsplit("/", 1)[1].removesuffix(".csv")]
    return {c.name for c in columns if _is_reference(c.name)}


def test_every_write_route_and_id_field_has_a_case(city: City) -> None:
    """Each write route of the schema is classified, and each id-bearing body field has a case."""
    schema = city.client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    covered = {(c.method, c.route, c.field) for c in CASES}
    missing: list[str] = []
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch", "delete") or not route.startswith("/v1/"):
                continue
            if (method, route) in NO_BODY_IDS:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "text/csv" in content:
                fields = _csv_id_columns(route)
            elif "application/json" in content:
                fields = _id_fields(_schema_fields(content["application/json"]["schema"], components))
            else:
                fields = set()
            if not fields and not any(c.method == method and c.route == route for c in CASES):
                missing.append(f"{method} {route}: no id-bearing field and no entry in NO_BODY_IDS")
            missing += [f"{method} {route} {f}" for f in sorted(fields) if (method, route, f) not in covered]
    assert not missing, "write routes/fields without a boundary case:\n" + "\n".join(missing)


def _snapshot(city: City, station: str) -> dict[str, Any]:
    """Counts of a station's people, plan versions and records, to check nothing changed."""
    with Session(city.engine) as s:
        return {
            "volunteers": s.exec(select(func.count()).where(Volunteer.station_id == station)).one(),
            "beneficiaries": s.exec(select(func.count()).where(Beneficiary.station_id == station)).one(),
            "versions": s.exec(select(func.count()).where(PlanVersion.station_id == station)).one(),
            "records": s.exec(
                select(func.count())
                .select_from(ServiceRecord)
                .join(Volunteer, col(ServiceRecord.volunteer_id) == col(Volunteer.id))
                .where(Volunteer.station_id == station)
            ).one(),
        }


def _message(r: httpx.Response, ident: Any) -> str:
    body = r.json()
    text = "\n".join(body["errors"]) if "errors" in body else str(body["detail"])
    return text.replace(str(ident), "<id>")


def _both_ids(city: City) -> dict[str, Ids]:
    """Each station's :func:`_ids` (a finished plan each, a site each)."""
    return {station: _ids(city, station) for station in city.stations}


@pytest.fixture(params=BACKENDS)
def planned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[City, dict[str, Ids]]]:
    """A fresh database per test holding the demo city with a finished plan and a site at each
    station, and their ids: a copy of a database on which :func:`_both_ids` ran once per test
    process (each test solved both stations' plans again before, ~10-40 s a test under load)."""
    for url, ids in prepared_database_url(request.param, tmp_path, "boundary", _both_ids):
        for city in seeded_city(url):
            yield city, ids


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route} {c.field}")
def test_another_stations_id_in_a_body_is_answered_as_a_missing_one(
    planned: tuple[City, dict[str, Ids]], case: Case
) -> None:
    """B's real id in A's request: refused exactly like an id that exists nowhere; B unchanged."""
    city, ids = planned
    a, b = city.stations
    mine, theirs = ids[a], ids[b]
    other: Any = getattr(theirs, case.kind)
    missing: Any = 2**31 - 2 if isinstance(other, int) else NOWHERE
    before = _snapshot(city, b)
    r_other = case.send(city, a, mine, other)
    r_missing = case.send(city, a, mine, missing)
    assert r_other.status_code in (404, 422), r_other.text
    assert (r_other.status_code, _message(r_other, other)) == (
        r_missing.status_code,
        _message(r_missing, missing),
    )
    assert _snapshot(city, b) == before

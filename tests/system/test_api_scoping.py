"""Every station-scoped route refuses another station's token with 404, on both databases.

The routes are read from the application itself, so a route added later is covered
without editing this test; a route whose path names something this test cannot fill in
fails the test instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_support import BACKENDS, DEMO, City, database_url, seeded_city
from sqlmodel import Session, select
from webhook_support import write_messages_like_publication

from api.delivery import fan_out
from api.models import Beneficiary, Delivery, Need, PlanAssignment, Token, Volunteer

WEEK = "2026-12-07"

PUBLIC: dict[str, str] = {
    "/v1/certificates/{code}": "a 志愿服务证明's check: a school holding the paper has no token; it answers "
    "anyone with the unguessable code (80 random bits) and shows only the masked name, station, period "
    "and hours (test_api_certificates)",
    "/cal/{secret}.ics": "a volunteer's calendar feed: the phone's calendar app has no token; the secret "
    "in the path (256 random bits, only its digest stored) is the key, and an unknown or revoked one is 404 "
    "(test_calendars)",
}
"""Routes answering without a token, so scoped by nothing: each with its reason (checked below)."""


def _ids_of_station(city: City, station: str) -> dict[str, Any]:
    """Real ids of one station for every path parameter the routes use."""
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done", plan
    simulation = city.client.post(
        f"/v1/stations/{station}/simulations",
        json={"scenario": "baseline", "runs": 1, "week_start": WEEK},
        headers=city.headers(station),
    )
    assert simulation.status_code == 202, simulation.text
    webhook = city.client.post(
        f"/v1/stations/{station}/webhooks",
        json={"name": "短信网关", "url": "http://127.0.0.1:9/linli"},
        headers=city.headers(station),
    )
    assert webhook.status_code == 201, webhook.text
    # A site of group posts (the demo city has none).
    site = city.client.post(
        f"/v1/stations/{station}/sites",
        json={"id": f"s-{station}", "name": "雄关广场", "district": _district(city, station)},
        headers=city.headers(station),
    )
    assert site.status_code == 201, site.text
    # A message as a publication writes it, and its delivery to the station's endpoint.
    write_messages_like_publication(city.engine, station, 1, plan_id=plan["id"], tag=f"-{station}")
    fan_out(city.engine)
    with Session(city.engine) as session:
        delivery = session.exec(select(Delivery).where(Delivery.station_id == station)).first()
        assert delivery is not None
        volunteer = session.exec(select(Volunteer).where(Volunteer.station_id == station)).first()
        beneficiary = session.exec(select(Beneficiary).where(Beneficiary.station_id == station)).first()
        assert volunteer is not None and beneficiary is not None
        need = session.exec(select(Need).where(Need.beneficiary_id == beneficiary.id)).first()
        assignment = session.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan["id"])).first()
        token = session.exec(select(Token).where(Token.station_id == station)).first()
        assert need is not None and assignment is not None and token is not None
        return {
            "token_id": token.id,
            "station_id": station,
            "plan_id": plan["id"],
            "volunteer_id": volunteer.id,
            "beneficiary_id": beneficiary.id,
            "need_id": need.id,
            "assignment_id": assignment.id,
            "against": plan["id"],
            "simulation_id": simulation.json()["id"],
            "webhook_id": webhook.json()["id"],
            "delivery_id": delivery.id,
            "site_id": site.json()["id"],
        }


def _district(city: City, station: str) -> str:
    with Session(city.engine) as session:
        volunteer = session.exec(select(Volunteer).where(Volunteer.station_id == station)).first()
        assert volunteer is not None
        return volunteer.district


@dataclass(frozen=True)
class Scoped:
    """A seeded city whose two stations each hold a finished plan, a simulation, a webhook, a site
    and a delivery, with the ids of each station's (:func:`_ids_of_station`)."""

    city: City
    ids: dict[str, dict[str, Any]]


@pytest.fixture(scope="module", params=BACKENDS)
def scoped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scoped]:
    """One such city per backend, shared by this module's tests: they only read it (another
    station's token is refused with 404 before anything is written, and the station's own token
    only reads), so each test sees it as made; its plans are solved once, not once per test."""
    for url in database_url(request.param, tmp_path_factory.mktemp("scoping"), DEMO):
        for city in seeded_city(url):
            yield Scoped(city, {station: _ids_of_station(city, station) for station in city.stations})


def test_every_station_scoped_route_refuses_another_station(scoped: Scoped) -> None:
    """Station A's token gets 404 for station B's station, plans, volunteers and beneficiaries."""
    city = scoped.city
    a, b = city.stations
    theirs = scoped.ids[b]
    checked = []
    # Every route the application publishes in its OpenAPI schema.
    paths: dict[str, dict[str, Any]] = city.client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        params = re.findall(r"{(\w+)}", template)
        if not template.startswith("/v1/") and template not in PUBLIC:
            continue
        if template in PUBLIC:
            # Public on purpose: no station to scope by.  It declares no security, and a token
            # changes nothing (an unknown code is 404 for everyone).
            for method, operation in operations.items():
                assert not operation.get("security"), f"{method} {template} is public yet declares security"
                r = city.client.request(
                    method.upper(), template.format(code="A" * 16, secret="A" * 43), headers=city.headers(a)
                )
                assert r.status_code == 404, r.text
            checked.append(f"public {template}")
            continue
        if not params:
            # A list route filtered by ids in its query (GET /v1/records?station_id=…): those
            # ids are resolved in the caller's scope too.
            get = operations.get("get", {})
            declared = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
            for name in sorted(declared & set(theirs)):
                r = city.client.get(template, params={name: theirs[name]}, headers=city.headers(a))
                assert r.status_code == 404, (
                    f"GET {template}?{name}= another station's: {r.status_code} {r.text}"
                )
                checked.append(f"get {template}?{name}")
            continue
        missing = [p for p in params if p not in theirs]
        assert not missing, f"{template}: the scoping test cannot fill {missing}"
        path = template.format(**theirs)
        for method in sorted(operations):
            # Query parameters the route declares, filled with the other station's ids
            # (an undeclared one would be 422 before the scope is looked at).
            declared = {p["name"] for p in operations[method].get("parameters", []) if p["in"] == "query"}
            query = {name: theirs[name] for name in declared if name in theirs}
            r = city.client.request(method.upper(), path, params=query, headers=city.headers(a))
            assert r.status_code == 404, (
                f"{method} {template} with another station's token: {r.status_code} {r.text}"
            )
            checked.append(f"{method} {template}")
            # The ids are real: the station's own token is not refused with 404 on read routes.
            if method == "get":
                own = city.client.get(path, params=query, headers=city.headers(b))
                assert own.status_code != 404, f"GET {template} with the station's own token: {own.text}"
    assert len(checked) >= 8, checked
    # the 台账's routes (issue 18) are among them
    for route in (
        "get /v1/volunteers/{volunteer_id}/reliability",
        "get /v1/records?station_id",
        "get /v1/records?volunteer_id",
        "get /v1/records?plan_id",
        "get /v1/volunteers/{volunteer_id}/certificate.pdf",
        "public /v1/certificates/{code}",
        # the year ledger (年度台账) and its workbook
        "get /v1/stations/{station_id}/ledger",
        "get /v1/stations/{station_id}/ledger.xlsx",
        # the webhooks and the delivery log (issue 19)
        "post /v1/stations/{station_id}/webhooks",
        "get /v1/stations/{station_id}/deliveries",
        "delete /v1/webhooks/{webhook_id}",
        "post /v1/deliveries/{delivery_id}/retry",
        # a volunteer's calendar link (issue 19) and its public feed
        "post /v1/volunteers/{volunteer_id}/calendar",
        "get /v1/volunteers/{volunteer_id}/calendar",
        "delete /v1/volunteers/{volunteer_id}/calendar",
        "public /cal/{secret}.ics",
        # publication and its messages (issue 19)
        "post /v1/plans/{plan_id}/publish",
        "get /v1/plans/{plan_id}/messages",
        "get /v1/plans/{plan_id}/messages.csv",
        "get /v1/plans/{plan_id}/messages.txt",
        # issue 19's swap of a stand-in
        "post /v1/plans/{plan_id}/swap",
        # sites of group posts (issue 20)
        "get /v1/stations/{station_id}/sites/{site_id}",
        "patch /v1/stations/{station_id}/sites/{site_id}",
        "delete /v1/stations/{station_id}/sites/{site_id}",
        "post /v1/stations/{station_id}/sites/{site_id}/needs",
        "patch /v1/stations/{station_id}/sites/{site_id}/needs/{need_id}",
        "delete /v1/stations/{station_id}/sites/{site_id}/needs/{need_id}",
        "put /v1/stations/{station_id}/sites.csv",
    ):
        assert route in checked, (route, checked)


def test_station_token_cannot_reach_another_station_through_plan_ids(scoped: Scoped) -> None:
    """A change set or diff naming another station's plan version answers 404."""
    city = scoped.city
    a, b = city.stations
    mine = scoped.ids[a]["plan_id"]
    theirs = scoped.ids[b]["plan_id"]
    r = city.client.get(f"/v1/plans/{mine}/diff", params={"against": theirs}, headers=city.headers(a))
    assert r.status_code == 404
    r = city.client.post(f"/v1/plans/{theirs}/changes", json={"format": 1}, headers=city.headers(a))
    assert r.status_code == 404
    r = city.client.post(
        f"/v1/plans/{theirs}/swap", json={"assignment_id": 1, "volunteer": "v1"}, headers=city.headers(a)
    )
    assert r.status_code == 404

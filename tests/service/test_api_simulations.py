"""情景模拟 over the API (api/routers/simulations.py, api/services/simulations.py): a scenario run on a
station's own week as a job, its progress and report, cancel, bad input, another station's ids.

Tiny: the seeded city's stations have some thirty volunteers each, and 2 runs.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from api_support import City
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from api.main import create_app
from api.models import Simulation
from api.services.planning import build_problem
from api.services.simulations import ADVICE_CANDIDATES_MAX, ADVICE_RUNS_MAX, MAX_RUN_SECONDS, shipped

WEEK = "2026-12-07"
WEEK_DATE = dt.date.fromisoformat(WEEK)


def wait(city: City, simulation_id: int, station: str, timeout: float = 120) -> dict[str, Any]:
    """Poll a simulation until it leaves queued/solving; returns its JSON."""
    end = time.monotonic() + timeout
    while True:
        r = city.client.get(f"/v1/simulations/{simulation_id}", headers=city.headers(station))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["state"] not in ("queued", "solving") or time.monotonic() > end:
            return body
        time.sleep(0.1)


def start(city: City, station: str, **body: Any) -> Any:
    return city.client.post(
        f"/v1/stations/{station}/simulations",
        json={"week_start": WEEK, **body},
        headers=city.headers(station),
    )


def count(city: City) -> int:
    with Session(city.engine) as session:
        return session.exec(select(func.count(col(Simulation.id)))).one()


def test_a_shipped_scenario_runs_on_the_station_s_week(city: City) -> None:
    station = city.stations[0]
    r = start(city, station, scenario="winter-attrition", runs=2)
    assert r.status_code == 202, r.text
    queued = r.json()
    assert (queued["state"], queued["name"], queued["runs"], queued["report"]) == (
        "queued",
        "winter-attrition",
        2,
        None,
    )
    done = wait(city, queued["id"], station)
    assert done["state"] == "done", done
    # progress: the last phase written with all its solves
    assert done["progress"]["phase"] == "done" and done["progress"]["done"] == done["progress"]["total"] > 0
    assert done["progress"]["elapsed_s"] > 0
    report = done["report"]
    # the station's own week replaced the scenario's generated base
    assert report["scenario"]["base"] == {"station": station, "week_start": WEEK}
    with Session(city.engine) as session:
        week = build_problem(session, station, WEEK_DATE, 5)
    assert report["base"]["volunteers"] == sum(
        1 for v in week.volunteers if v.availability and v.max_hours > 0
    )
    assert report["base"]["needs"] == len(week.needs)
    assert report["runs"]["count"] == 2 and len(report["per_run"]) == 2
    # capped for a station: short solves, small advice
    assert report["scenario"]["time_limit"] <= MAX_RUN_SECONDS
    assert 0 < len(report["recruit_first"]) <= ADVICE_CANDIDATES_MAX
    assert all(item["runs"] <= ADVICE_RUNS_MAX for item in report["recruit_first"])
    assert report["total"]["coverage_pct"]["base"] is not None
    assert report["unmet_reasons"], "the small station leaves needs unmet"
    # the station's list shows it, without the report
    listed = city.client.get(f"/v1/stations/{station}/simulations", headers=city.headers(station)).json()
    assert [(s["id"], s["state"], s["report"]) for s in listed] == [(queued["id"], "done", None)]
    # a finished simulation has nothing to cancel
    again = city.client.delete(f"/v1/simulations/{queued['id']}", headers=city.headers(station))
    assert again.status_code == 409


def test_yaml_text_is_run_without_a_base(city: City) -> None:
    """A scenario sent as YAML may leave out its base: the station's week is the base."""
    station = city.stations[0]
    text = "name: 'mine <b>'\nruns: 50\ntime_limit: 60\nperturbations:\n  - kind: attrition\n    rate: 0.3\n"
    r = start(city, station, yaml=text, runs=1)
    assert r.status_code == 202, r.text
    done = wait(city, r.json()["id"], station)
    assert done["state"] == "done", done
    assert done["name"] == "mine <b>" and done["runs"] == 1
    assert done["report"]["runs"]["count"] == 1
    assert done["report"]["scenario"]["time_limit"] == MAX_RUN_SECONDS
    with Session(city.engine) as session:
        row = session.get(Simulation, r.json()["id"])
        assert row is not None and row.scenario_text == text


BAD: list[tuple[dict[str, Any], str]] = [
    ({"yaml": "name: x\nruns: [1, 2\n"}, "yaml: invalid YAML (line 3, column 1"),
    ({"yaml": "name: x\nperturbations:\n  - kind: attrition\n    rate: 2\n"}, "yaml.perturbations[0].rate: "),
    ({"yaml": "name: x\nperturbations:\n  - kind: melt\n"}, "yaml.perturbations[0].kind: unknown kind"),
    ({"yaml": "- a list\n"}, "yaml: expected a mapping"),
    (
        {"yaml": "name: x\nperturbations:\n  - kind: closure\n    district: atlantis\n"},
        "yaml.perturbations[0].district: unknown district 'atlantis'",
    ),
    ({"yaml": "name: x\n" + "#" * 20_001}, "yaml: must have at most 20000 characters"),
    ({"scenario": "no-such-scenario"}, "scenario: unknown scenario 'no-such-scenario'"),
    ({"scenario": "baseline", "yaml": "name: x\n"}, "scenario: give either"),
    ({}, "scenario: give either"),
    ({"scenario": "baseline", "runs": 11}, "runs: "),
    ({"scenario": "baseline", "runs": 0}, "runs: "),
    ({"scenario": "baseline", "week_start": "2026-12-08"}, "week_start: "),
]
"""Bad requests and the start of their 422's detail."""


def test_bad_input_is_422_naming_the_field_and_nothing_is_queued(city: City) -> None:
    station = city.stations[0]
    for body, detail in BAD:
        r = start(city, station, **body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"].startswith(detail), (body, r.json()["detail"])
    assert count(city) == 0


def test_another_station_s_simulations_are_404(city: City) -> None:
    mine, theirs = city.stations
    r = start(city, theirs, scenario="baseline", runs=1)
    assert r.status_code == 202
    their_id = r.json()["id"]
    for method in ("GET", "DELETE"):
        other = city.client.request(method, f"/v1/simulations/{their_id}", headers=city.headers(mine))
        assert other.status_code == 404 and other.json()["detail"] == f"simulation '{their_id}' not found"
        missing = city.client.request(method, "/v1/simulations/999999", headers=city.headers(mine))
        assert missing.status_code == 404
    r = city.client.post(
        f"/v1/stations/{theirs}/simulations",
        json={"scenario": "baseline", "week_start": WEEK},
        headers=city.headers(mine),
    )
    assert r.status_code == 404
    assert (
        city.client.get(f"/v1/stations/{theirs}/simulations", headers=city.headers(mine)).status_code == 404
    )
    # the centre sees it
    assert city.client.get(f"/v1/simulations/{their_id}", headers=city.headers(None)).status_code == 200
    wait(city, their_id, theirs)


def test_a_queued_simulation_is_cancelled_at_once(city: City) -> None:
    """Without a worker the simulation stays queued; DELETE cancels it, a second DELETE is 409."""
    station = city.stations[0]
    app: Any = city.client.app
    app.state.jobs.shutdown()  # the city's own worker would claim it (it polls the table)
    with TestClient(create_app(city.engine, workers=False)) as client:
        headers = city.headers(station)
        r = client.post(
            f"/v1/stations/{station}/simulations",
            json={"scenario": "baseline", "runs": 2, "week_start": WEEK},
            headers=headers,
        )
        assert r.status_code == 202 and r.json()["state"] == "queued"
        sim_id = r.json()["id"]
        cancelled = client.delete(f"/v1/simulations/{sim_id}", headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["state"] == "cancelled"
        assert cancelled.json()["error"] == "cancelled before it started"
        assert client.delete(f"/v1/simulations/{sim_id}", headers=headers).status_code == 409


def test_the_shipped_scenarios_are_listed(city: City) -> None:
    r = city.client.get("/v1/scenarios", headers=city.headers(city.stations[0]))
    assert r.status_code == 200
    names = [s["name"] for s in r.json()]
    assert names == sorted(shipped()) and "winter-attrition" in names
    assert all(s["yaml"] == shipped()[s["name"]] and s["description"] for s in r.json())
    assert city.client.get("/v1/scenarios").status_code == 401

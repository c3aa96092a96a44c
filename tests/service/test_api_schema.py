"""Schema-driven fuzzing of the service: no request its OpenAPI schema describes gets a 5xx.

schemathesis generates requests from the app's OpenAPI schema and sends them in-process,
with the centre's token, to a seeded city that holds a finished station plan.  The only
check is ``not_a_server_error``: most generated requests should be refused, with a 4xx.

* Every operation gets schemathesis's coverage phase: boundary values (ids of 2**63, empty
  strings, ...), every way to violate the schema, and methods the path does not allow.
* Generated ids are almost never real, and a path id that is not found answers 404 before
  the body is even validated, so the operations on a station's, plan's, volunteer's or
  beneficiary's data are fuzzed again with random cases and their path ids pinned to real
  ones: there bodies and queries reach the handlers' own code.  This part runs on SQLite
  and on PostgreSQL, which is stricter about types (a string compared with a date column
  is an error there, not an empty result).

The schema is the app's at run time, so routes added later are fuzzed too.  Solves the
fuzzing starts run in spawned processes: the city's TestClient owns the app's lifespan,
whose shutdown terminates them, and the module checks that no solve process outlives it.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import BACKENDS, DEMO, City, database_url, seeded_city
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import Session, col, select

from api.main import create_app
from api.models import Beneficiary, PlanVersion, Volunteer

WEEK = "2026-12-07"
BOUNDED = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
"""Random cases per operation (the coverage phase's count is its own: a few per parameter)."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SPEC = create_app().openapi()
"""The app's OpenAPI schema, with every router it includes at run time."""

everything = schemathesis.openapi.from_dict(
    SPEC, config=schemathesis.Config.from_dict({"phases": {"fuzzing": {"enabled": False}}})
)
"""Every operation, by the coverage phase: boundary values and each way to break the schema."""

on_real_data = schemathesis.openapi.from_dict(
    SPEC, config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
).include(path_regex=r"\{(station|plan|volunteer|beneficiary)_id\}")
"""The operations on a station's, plan's, volunteer's or beneficiary's data, by random cases."""


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app for schemathesis: HTTP only, its lifespan left to the TestClient that owns it.

    Parameters
    ----------
    app
        The ASGI application.

    Returns
    -------
    ASGIApp
        The same application, declining the ``lifespan`` scope: schemathesis would
        otherwise start a second lifespan (a second job runner) and keep it until the
        interpreter exits.
    """

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)

    return served


def _solve_processes() -> list[str]:
    return [p.name for p in mp.active_children() if p.name.startswith("linli-solve-")]


def serve(backend: str, tmp_path: Path) -> Iterator[City]:
    """A seeded city on ``backend`` with a finished plan, served until the generator closes.

    Parameters
    ----------
    backend
        ``sqlite`` or ``postgresql`` (skipped when the test server does not answer).
    tmp_path
        Where the SQLite file goes.

    Yields
    ------
    City
        The city, its TestClient inside the app's lifespan; once it is closed, no solve
        process may be left.
    """
    # One URL (a copy of the process's seeded city); the loop ends by dropping the database.
    for url in database_url(backend, tmp_path, DEMO):
        for city in seeded_city(url):
            station = city.stations[0]
            r = city.client.post(
                f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
            )
            assert r.status_code == 202, r.text
            plan = city.wait(r.json()["id"], station)
            assert plan["state"] == "done", plan
            yield city
    assert _solve_processes() == [], "the app's shutdown left solve processes running"


@pytest.fixture(scope="module")
def sqlite_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """A seeded SQLite city with a finished station plan."""
    yield from serve("sqlite", tmp_path_factory.mktemp("schema"))


@pytest.fixture(scope="module", params=BACKENDS)
def any_city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """The same on SQLite (the same city) and on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_city")
    else:
        yield from serve(request.param, tmp_path_factory.mktemp("schema"))


def real_ids(city: City) -> dict[str, Any]:
    """Path ids of real data in the city's first station.

    Parameters
    ----------
    city
        A city from ``serve``.

    Returns
    -------
    dict
        ``station_id``, ``plan_id`` (its first version: the finished plan ``serve``
        made), ``volunteer_id`` and ``beneficiary_id`` (its first of each).
    """
    station = city.stations[0]
    with Session(city.engine) as session:
        plan = session.exec(
            select(PlanVersion.id).where(PlanVersion.station_id == station).order_by(col(PlanVersion.id))
        ).first()
        volunteer = session.exec(
            select(Volunteer.id).where(Volunteer.station_id == station).order_by(col(Volunteer.id))
        ).first()
        beneficiary = session.exec(
            select(Beneficiary.id).where(Beneficiary.station_id == station).order_by(col(Beneficiary.id))
        ).first()
    return {
        "station_id": station,
        "plan_id": plan,
        "volunteer_id": volunteer,
        "beneficiary_id": beneficiary,
    }


@pytest.fixture(scope="module")
def sqlite_ids(sqlite_city: City) -> dict[str, Any]:
    """Real path ids of the SQLite city."""
    return real_ids(sqlite_city)


@pytest.fixture(scope="module")
def pinned(any_city: City) -> dict[str, Any]:
    """Real path ids of the city of each backend."""
    return real_ids(any_city)


def pin(case: Any, ids: dict[str, Any]) -> None:
    """Replace the case's path ids that have a real counterpart in ``ids``.

    Parameters
    ----------
    case
        A generated schemathesis case.
    ids
        Real ids by path parameter name (see ``pinned``).
    """
    for name in case.path_parameters or {}:
        if ids.get(name) is not None:
            case.path_parameters[name] = ids[name]


@everything.parametrize()
@BOUNDED
def test_no_server_errors(case: Any, sqlite_city: City, sqlite_ids: dict[str, Any]) -> None:
    """No boundary or schema-violating request makes any operation answer 5xx."""
    if case.operation.body:
        pin(case, sqlite_ids)
    app = without_lifespan(sqlite_city.client.app)
    case.call_and_validate(app=app, headers=sqlite_city.headers(), checks=[not_a_server_error])


@on_real_data.parametrize()
@BOUNDED
def test_no_server_errors_on_real_data(case: Any, any_city: City, pinned: dict[str, Any]) -> None:
    """No random request on real data makes an operation answer 5xx, on SQLite and PostgreSQL."""
    pin(case, pinned)
    app = without_lifespan(any_city.client.app)
    case.call_and_validate(app=app, headers=any_city.headers(), checks=[not_a_server_error])


stateful = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": ["dependency-analysis"]}}}}
    ),
)
"""The schema with links between operations, inferred from their parameters and responses
(a station's id from ``GET /v1/stations`` into ``POST /v1/stations/{station_id}/volunteers``,
a created plan's id into ``GET /v1/plans/{plan_id}`` …)."""


def test_no_server_errors_along_links(sqlite_city: City) -> None:
    """Sequences of calls, each fed ids that earlier responses returned, never answer 5xx."""
    app = without_lifespan(sqlite_city.client.app)
    headers = sqlite_city.headers()
    workflow = stateful.as_state_machine()
    links = [name for name in dir(workflow) if "__" in name and name.isidentifier() and name[0].isupper()]
    assert len(links) >= 20, "the links between create and read were not inferred"

    class Linked(workflow):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app, "headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=[not_a_server_error], transport_kwargs=kwargs)

    Linked.run(
        settings=settings(
            max_examples=15, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )

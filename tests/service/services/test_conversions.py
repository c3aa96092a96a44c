"""How often a request converts the week's documents, from the POST to the stored version.

Each conversion costs time on a city's problem (megabytes of JSON): building a
:class:`~matcher.format.schema.Problem` or :class:`~matcher.format.schema.Plan` validates
it, dumping it walks it again, :func:`~matcher.format.changes.apply_changes` copies
the problem and :func:`~matcher.format.validate.validate_plan` re-checks a whole plan.
The counts below are the service's budget (issue 16, point 5); the engine's own work
inside ``solve``/``resolve`` is counted too, and does not change with the service.

The job runs in this process (no worker), so the counters see both sides of the queue.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_support import City, seeded_city
from sqlalchemy import update
from sqlmodel import col

from api.models import PlanVersion
from matcher.format import changes as changes_module
from matcher.format import validate as validate_module
from matcher.format.schema import ChangeSet, Plan, Problem

WEEK = "2026-12-07"


@pytest.fixture
def city(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    """A seeded city on SQLite whose app runs no worker (the test runs each job itself)."""
    from api.settings import get_settings

    monkeypatch.setenv("LINLI_WORKERS", "0")
    monkeypatch.setenv("LINLI_SOLVE_TIME_LIMIT", "2")
    get_settings.cache_clear()
    from api_support import database_url

    for url in database_url("sqlite", tmp_path):
        yield from seeded_city(url, volunteers=30, beneficiaries=20)
    get_settings.cache_clear()


def _counting(counts: Counter[str], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[key] += 1
        return fn(*args, **kwargs)

    return wrapper


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counters of document conversions: ``Problem built``, ``Plan dumped``, ``apply_changes``,
    ``validate_plan`` …"""
    import matcher.resolve
    import matcher.solve  # noqa: F401  (imported before patching: the job process has them preloaded)

    found: Counter[str] = Counter()
    for model in (Problem, Plan, ChangeSet):
        name = model.__name__
        for method in ("model_validate", "model_validate_json"):
            original = getattr(model, method).__func__
            counted = _counting(found, f"{name} built", original)
            monkeypatch.setattr(model, method, classmethod(lambda cls, *a, _f=counted, **k: _f(cls, *a, **k)))
        init = model.__init__
        monkeypatch.setattr(model, "__init__", _counting(found, f"{name} built", init))
        for method in ("model_dump", "model_dump_json"):
            monkeypatch.setattr(model, method, _counting(found, f"{name} dumped", getattr(model, method)))
    for module_of, name in ((changes_module, "apply_changes"), (validate_module, "validate_plan")):
        original = getattr(module_of, name)
        counted = _counting(found, name, original)
        patched = 0
        for module in list(sys.modules.values()):  # every module that imported it by name
            if getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, counted)
                patched += 1
        assert patched >= 2, f"{name}: only its own module has it, the counts would miss every call"
    return found


def _run_job(city: City, plan_id: int) -> None:
    """Run a queued job here, as a worker's job process would."""
    from api import jobs

    with city.engine.begin() as conn:
        conn.execute(
            update(PlanVersion)
            .where(col(PlanVersion.id) == plan_id)
            .values(state="solving", claimed_by="test", attempts=1)
        )
    jobs.run_job(city.engine, plan_id, "test", 1)


def _generate(city: City, station: str) -> int:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    plan_id: int = r.json()["id"]
    return plan_id


def _service_only(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items()))


def test_a_solve_request_converts_each_document_once(city: City, counts: Counter[str]) -> None:
    station = city.stations[0]
    counts.clear()
    plan_id = _generate(city, station)
    _run_job(city, plan_id)
    found = _service_only(counts)
    assert city.wait(plan_id, station)["state"] == "done"
    # Main before issue 16: Plan built 2, dumped 2 (the job's plan went to JSON and back
    # before it was stored).  The problem is built once in the request (to validate it) and
    # once in the job process (which reads it by the version's id).
    assert found == {"Plan built": 1, "Plan dumped": 1, "Problem built": 2, "Problem dumped": 1}


def test_a_change_set_converts_each_document_once(city: City, counts: Counter[str]) -> None:
    station = city.stations[0]
    plan_id = _generate(city, station)
    _run_job(city, plan_id)
    done = city.wait(plan_id, station)
    need = done["plan"]["assignments"][0]["need"]
    counts.clear()
    r = city.client.post(
        f"/v1/plans/{plan_id}/changes",
        json={"format": 1, "needs_cancelled": [need]},
        headers=city.headers(station),
    )
    assert r.status_code == 202, r.text
    _run_job(city, r.json()["id"])
    found = _service_only(counts)
    assert city.wait(r.json()["id"], station)["state"] == "done"
    # Main before issue 16: Plan built 6, dumped 3.  Before the service layer (issue 16,
    # point 5): ChangeSet built 1 (the job parsed the stored change set again), Problem
    # dumped 2 (the station's problem before the changes was stored beside the changed
    # one), apply_changes 2 and validate_plan 2 (the request applied the change set and
    # checked the carried plan, then the job's resolve did both again).  Now the request
    # applies it once and stores the changed problem, which the job re-solves as it is.
    # The problem is still built twice, once on each side of the queue: the request
    # validates it (a 422 naming the field) and the job parses the row like input.
    assert found == {
        "ChangeSet dumped": 1,
        "Plan built": 5,
        "Plan dumped": 2,
        "Problem built": 2,
        "Problem dumped": 1,
        "apply_changes": 1,
        "validate_plan": 1,
    }

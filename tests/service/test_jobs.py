"""The job queue's rules, in-process, on SQLite and PostgreSQL: claims, leases, attempts, fairness, cancel.

Rows are written straight into the database and workers are asked to claim without
running anything (``Worker._claim_one``), so each rule is seen on its own; the
subprocess tests of the same machinery are in ``test_faults.py``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from api_support import seeded_city
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import create_token
from api.db import make_engine
from api.jobs import PLAN, Claim, ProgressStore, Worker, claimer_is_dead, worker_name
from api.main import create_app
from api.models import PlanVersion, utcnow
from api.seed import seed_demo
from api.services.versions import progress_of
from api.settings import Settings
from matcher.progress import Progress

WEEK = dt.date(2026, 12, 7)


@pytest.fixture
def stations(db_url: str) -> Iterator[tuple[Engine, list[str]]]:
    """A seeded database (no service running) and its station ids."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        ids = seed_demo(session, 20, 15, 2, seed=3)
    yield engine, ids
    engine.dispose()


def add(engine: Engine, station: str | None = None, token: int | None = None, **fields: Any) -> int:
    """Insert a job row (queued unless ``fields`` say otherwise); returns its id."""
    with Session(engine) as session:
        version = PlanVersion(station_id=station, token_id=token, week_start=WEEK, problem={}, **fields)
        session.add(version)
        session.commit()
        assert version.id is not None
        return version.id


def get(engine: Engine, plan_id: int) -> PlanVersion:
    """A row as stored now."""
    with Session(engine) as session:
        version = session.get(PlanVersion, plan_id)
        assert version is not None
        return version


def test_a_queued_job_is_claimed_once(stations: tuple[Engine, list[str]]) -> None:
    """Workers racing for one queued job: exactly one claim succeeds (the conditional UPDATE)."""
    engine, ids = stations
    plan_id = add(engine, ids[0])
    workers = [Worker(engine, 2) for _ in range(4)]
    barrier = threading.Barrier(len(workers))
    got: list[Claim | None] = []

    def claim(worker: Worker) -> None:
        barrier.wait()
        got.append(worker._claim_one())

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=str) == [(PLAN, plan_id, 1, False), None, None, None]
    row = get(engine, plan_id)
    assert (row.state, row.attempts) == ("solving", 1)
    assert row.claimed_by in {w.name for w in workers}
    assert row.lease_until is not None and row.lease_until > utcnow()


def test_an_expired_lease_is_claimed_again_until_attempts_run_out(stations: tuple[Engine, list[str]]) -> None:
    """A job whose worker stopped renewing is run again; after the last attempt it fails, saying why."""
    engine, ids = stations
    past = utcnow() - dt.timedelta(seconds=1)
    elsewhere = "another-host:4242:abcd1234"
    renewed = utcnow() + dt.timedelta(seconds=60)
    live = add(engine, ids[0], state="solving", claimed_by=elsewhere, attempts=1, lease_until=renewed)
    expired = add(engine, ids[1], state="solving", claimed_by=elsewhere, attempts=1, lease_until=past)
    spent = add(engine, None, state="solving", claimed_by=elsewhere, attempts=3, lease_until=past)
    worker = Worker(engine, 4, attempts=3)
    assert worker._claim_one() == (PLAN, expired, 2, False)
    assert worker._claim_one() is None
    assert (get(engine, live).state, get(engine, live).claimed_by) == ("solving", elsewhere)
    failed = get(engine, spent)
    assert failed.state == "failed" and "3 attempts" in (failed.error or "")


def test_a_dead_worker_on_this_host_is_not_waited_for(stations: tuple[Engine, list[str]]) -> None:
    """A job claimed by a process of this host that is gone is claimed at once, lease or not."""
    engine, ids = stations
    dead = worker_name().rsplit(":", 2)[0] + ":999999999:deadbeef"
    assert claimer_is_dead(dead) and not claimer_is_dead(worker_name())
    plan_id = add(
        engine,
        ids[0],
        state="solving",
        claimed_by=dead,
        attempts=1,
        lease_until=utcnow() + dt.timedelta(seconds=60),
    )
    assert Worker(engine, 1)._claim_one() == (PLAN, plan_id, 2, False)


def test_owners_with_nothing_running_go_first(stations: tuple[Engine, list[str]]) -> None:
    """The oldest job of an owner with nothing running is claimed before an older one of a busy owner;
    a worker keeps one slot for station plans."""
    engine, ids = stations
    with Session(engine) as session:
        create_token(session, None, "integrator")
    lease = utcnow() + dt.timedelta(seconds=60)
    add(engine, None, 1, state="solving", claimed_by="another-host:1:x", attempts=1, lease_until=lease)
    busy = add(engine, None, 1)  # the same integrator's next job
    station = add(engine, ids[0])
    worker = Worker(engine, 2)
    assert worker._claim_one() == (PLAN, station, 1, False)
    assert worker._claim_one() == (PLAN, busy, 1, True)  # nobody else waits: a busy owner's job runs
    other = add(engine, None, 1)
    full = Worker(engine, 2)
    full._running[PLAN, busy] = _fake_integrator()
    assert full._claim_one() is None, "an integrator's job took the slot kept for station plans"
    assert get(engine, other).state == "queued"


def _fake_integrator() -> Any:
    """A stand-in for a running integrator job (only its kind is read when claiming)."""
    from api.jobs import _Running

    return _Running(proc=None, attempt=1, background=True)  # type: ignore[arg-type]


def test_cancel_of_a_queued_job_answers_at_once(db_url: str) -> None:
    """With no worker running, a queued job is cancelled by one UPDATE: 200, cancelled, at once."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        stations = seed_demo(session, 20, 15, 2, seed=3)
        token = create_token(session, None, "centre")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(engine, workers=False)) as client:
        r = client.post(f"/v1/stations/{stations[0]}/plans", json={"week_start": str(WEEK)}, headers=headers)
        assert r.status_code == 202 and r.json()["state"] == "queued"
        began = time.monotonic()
        cancelled = client.delete(f"/v1/plans/{r.json()['id']}", headers=headers)
        assert time.monotonic() - began < 0.5
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert client.delete(f"/v1/plans/{r.json()['id']}", headers=headers).status_code == 409
    engine.dispose()


def test_time_limit_above_the_maximum_is_refused(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A /v1/solve problem asking more than LINLI_MAX_TIME_LIMIT: 422 naming time_limit_s and the limit."""
    from api_support import database_url

    from api.settings import get_settings

    monkeypatch.setenv("LINLI_MAX_TIME_LIMIT", "60")
    get_settings.cache_clear()
    try:
        for url in database_url("sqlite", tmp_path):
            for city in seeded_city(url, 20, 15, 2):
                doc = _tiny_problem()
                doc["time_limit_s"] = 86400
                r = city.client.post("/v1/solve", json=doc, headers=city.headers())
                assert (r.status_code, r.json()) == (
                    422,
                    {"detail": "time_limit_s: 86400 s exceeds the service's maximum of 60 s"},
                )
                doc["time_limit_s"] = 60
                assert city.client.post("/v1/solve", json=doc, headers=city.headers()).status_code == 202
    finally:
        get_settings.cache_clear()


def _tiny_problem() -> dict[str, Any]:
    from helpers import make_problem

    doc: dict[str, Any] = make_problem()
    return doc


def test_station_time_limit_may_not_exceed_the_maximum() -> None:
    """LINLI_SOLVE_TIME_LIMIT above LINLI_MAX_TIME_LIMIT is a configuration error."""
    with pytest.raises(ValidationError, match="exceeds LINLI_MAX_TIME_LIMIT"):
        Settings(LINLI_SOLVE_TIME_LIMIT=400, LINLI_MAX_TIME_LIMIT=300)
    assert Settings(LINLI_SOLVE_TIME_LIMIT=20).max_time_limit == 300


def _report(stage: str, coverage: int, bound: int | None, demand: int = 10) -> Progress:
    return Progress(
        elapsed_s=0.5,
        stage=stage,
        coverage=Fraction(coverage),
        bound=None if bound is None else Fraction(bound),
        proved=bound == coverage,
        demand=Fraction(demand),
    )


def test_progress_is_stored_while_the_claim_holds_and_throttled(stations: tuple[Engine, list[str]]) -> None:
    """The job process's progress writes: the first at once, then at most one per interval
    (the last, ``done``, always), only on a row this claim still runs."""
    engine, ids = stations
    plan_id = add(engine, ids[0], state="solving", claimed_by="w1", attempts=1)
    store = ProgressStore(engine, plan_id, "w1", 1, every_s=3600)
    store(_report("start", 2, None))
    assert get(engine, plan_id).progress == {
        "elapsed_s": 0.5,
        "stage": "start",
        "coverage": 0.2,
        "bound": None,
        "gap": None,
        "proved": False,
    }
    store(_report("columns", 5, 8))  # within the interval: skipped
    assert (get(engine, plan_id).progress or {}).get("stage") == "start"
    store(_report("done", 6, 8))
    stored = progress_of(get(engine, plan_id))
    assert stored is not None and (stored.stage, stored.coverage, stored.bound) == ("done", 0.6, 0.8)
    assert stored.gap == pytest.approx(0.25)
    assert store.written == 2

    stale = ProgressStore(engine, plan_id, "w1", 2)  # an earlier attempt's run, claimed again since
    other = ProgressStore(engine, plan_id, "w2", 1)  # another worker's
    for s in (stale, other):
        s(_report("start", 1, None))
    assert (get(engine, plan_id).progress or {}).get("stage") == "done"


def test_progress_of_a_row_that_holds_no_report_is_none(stations: tuple[Engine, list[str]]) -> None:
    """A row whose progress is not a report (written by another release) shows none, not a 500."""
    engine, ids = stations
    plan_id = add(engine, ids[0], progress={"stage": "start", "coverage": "most"})
    assert progress_of(get(engine, plan_id)) is None
    assert progress_of(get(engine, add(engine, ids[0]))) is None

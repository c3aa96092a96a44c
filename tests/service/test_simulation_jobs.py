"""Simulations in the job queue (api/jobs.py, api/simulation_job.py): the worker that runs plan jobs
claims them too, as background jobs; leases, attempts and cancel work as for plans; the job
writes its progress and report only while its claim holds.

On both databases; tiny stations (ten volunteers) so each run solves in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from test_jobs import add as add_plan

from api import simulation_job
from api.db import make_engine
from api.jobs import PLAN, SIMULATION, Claim, JobRunner, Worker, _Running
from api.models import Simulation, utcnow
from api.seed import seed_demo
from api.services.simulations import for_station, shipped

WEEK = dt.date(2026, 12, 7)
ELSEWHERE = "another-host:4242:abcd1234"


@pytest.fixture
def stations(db_url: str) -> Iterator[tuple[Engine, list[str]]]:
    """A seeded database (no service running) and its station ids."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        ids = seed_demo(session, 20, 15, 2, seed=3)
    yield engine, ids
    engine.dispose()


def add_simulation(engine: Engine, station: str, runs: int = 2, **fields: Any) -> int:
    """Insert a simulation row of the winter-attrition scenario (queued unless ``fields`` say otherwise)."""
    scenario = for_station(shipped()["winter-attrition"], min(runs, 10))
    with Session(engine) as session:
        row = Simulation(
            station_id=station,
            week_start=WEEK,
            name=scenario.name,
            scenario=scenario.model_dump(mode="json"),
            scenario_text=shipped()["winter-attrition"],
            runs=runs,
            **fields,
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def get(engine: Engine, simulation_id: int) -> Simulation:
    with Session(engine) as session:
        row = session.get(Simulation, simulation_id)
        assert row is not None
        return row


def _fake(background: bool) -> _Running:
    """A stand-in for a running job (only its kind is read when claiming)."""
    return _Running(proc=None, attempt=1, background=background)  # type: ignore[arg-type]


def test_simulations_are_claimed_beside_plans_as_background_jobs(stations: tuple[Engine, list[str]]) -> None:
    """The oldest job first, of either kind; a simulation never takes the slot kept for station plans."""
    engine, ids = stations
    first = add_simulation(engine, ids[0])
    plan = add_plan(engine, ids[1])  # a queued station plan (test_jobs' row builder)
    second = add_simulation(engine, ids[1])
    worker = Worker(engine, 2)
    assert worker._claim_one() == Claim(SIMULATION, first, 1, True)
    worker._running[SIMULATION, first] = _fake(True)
    assert worker._claim_one() == Claim(PLAN, plan, 1, False)
    worker._running[PLAN, plan] = _fake(False)
    assert worker._claim_one() is None  # both slots taken
    del worker._running[PLAN, plan]
    assert worker._claim_one() is None, "a simulation took the slot kept for station plans"
    assert get(engine, second).state == "queued"
    row = get(engine, first)
    assert (row.state, row.attempts, row.claimed_by) == ("solving", 1, worker.name)


def test_an_expired_simulation_is_claimed_again_until_attempts_run_out(
    stations: tuple[Engine, list[str]],
) -> None:
    engine, ids = stations
    past = utcnow() - dt.timedelta(seconds=1)
    expired = add_simulation(
        engine, ids[0], state="solving", claimed_by=ELSEWHERE, attempts=1, lease_until=past
    )
    spent = add_simulation(
        engine, ids[1], state="solving", claimed_by=ELSEWHERE, attempts=3, lease_until=past
    )
    worker = Worker(engine, 4, attempts=3)
    assert worker._claim_one() == Claim(SIMULATION, expired, 2, True)
    assert worker._claim_one() is None
    failed = get(engine, spent)
    assert (
        failed.state == "failed" and "3 attempts" in (failed.error or "") and failed.finished_at is not None
    )


def test_the_job_writes_progress_and_report_only_while_its_claim_holds(
    stations: tuple[Engine, list[str]],
) -> None:
    """Run in this process (as a worker's job process would): the report is stored; a run whose claim
    was lost writes nothing."""
    engine, ids = stations
    sim_id = add_simulation(engine, ids[0])
    worker = Worker(engine, 1)
    assert worker._claim_one() == Claim(SIMULATION, sim_id, 1, True)
    simulation_job.run_job(engine, sim_id, "someone-else", 1)  # not this claim's: nothing is written
    row = get(engine, sim_id)
    assert (row.state, row.progress, row.report) == ("solving", None, None)
    simulation_job.run_job(engine, sim_id, worker.name, 1)
    row = get(engine, sim_id)
    assert row.state == "done" and row.error is None and row.lease_until is None and row.report is not None
    assert row.report["runs"]["count"] == 2
    assert row.report["scenario"]["base"] == {"station": ids[0], "week_start": WEEK.isoformat()}
    assert row.progress is not None and row.progress["phase"] == "done"
    assert row.progress["done"] == row.progress["total"] > 0


def test_progress_is_throttled_but_each_phase_s_start_and_end_written(
    stations: tuple[Engine, list[str]],
) -> None:
    engine, ids = stations
    sim_id = add_simulation(engine, ids[0])
    worker = Worker(engine, 1)
    assert worker._claim_one() is not None
    progress = simulation_job.ProgressWriter(engine, sim_id, worker.name, 1, every_s=3600)
    progress.start("runs", 5)
    for _ in range(4):
        progress.advance()
    stored = get(engine, sim_id).progress
    assert progress.written == 1  # the phase's start; the next four within the throttle's second
    assert stored is not None and (stored["phase"], stored["done"], stored["total"]) == ("runs", 0, 5)
    progress.advance()  # the phase's last solve
    assert progress.written == 2
    stored = get(engine, sim_id).progress
    assert stored is not None and (stored["phase"], stored["done"], stored["total"]) == ("runs", 5, 5)
    progress.start("advice", 2)
    stored = get(engine, sim_id).progress
    assert stored is not None and (stored["phase"], stored["done"], stored["total"]) == ("advice", 0, 2)


def test_cancel_kills_a_running_simulation_s_process(stations: tuple[Engine, list[str]]) -> None:
    """A real worker runs a long simulation in its own process; DELETE's cancel ends it."""
    engine, ids = stations
    sim_id = add_simulation(engine, ids[0], runs=100_000)  # past the service's cap: it runs until cancelled
    worker = Worker(engine, 1)
    worker.start()
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            progress = get(engine, sim_id).progress or {}
            if progress.get("phase") == "runs":
                break
            time.sleep(0.1)
        assert get(engine, sim_id).progress is not None, "the job never reported progress"
        assert get(engine, sim_id).state == "solving"
        pid = worker._running[SIMULATION, sim_id].proc.pid
        assert pid is not None
        assert Path(f"/proc/{pid}/comm").read_text().strip() == f"linli-sim-{sim_id}"
        assert JobRunner(engine).cancel(sim_id, kind=SIMULATION)
        row = get(engine, sim_id)
        assert (row.state, row.error, row.report) == ("cancelled", "cancelled while solving", None)
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # gone, or a zombie
        assert not JobRunner(engine).cancel(sim_id, kind=SIMULATION)  # nothing left to cancel
    finally:
        worker.stop()

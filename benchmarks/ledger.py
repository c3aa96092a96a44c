"""Year ledger (年度台账) generation time: a station of 300 volunteers and a centre of 4,000.

Run ``python -m benchmarks.ledger`` from the repository root (about ten minutes for both
sizes on two cores).  For each size it seeds an SQLite database in a temporary directory
with the demo city of ``linli seed`` (``station``: 300 volunteers, 225 beneficiaries, one
station; ``centre``: 4,000 volunteers, 3,000 beneficiaries, 20 stations), then fills a year
of service, by bulk insert, as a year of use would leave it:

* for each station, each of the 52 weeks of 2026 has a finished plan version (its problem
  built from the station's data by :func:`api.services.planning.build_problem`, assigned by the
  independent greedy baseline, :func:`benchmarks.greedy_baseline.greedy_plan`); every fourth
  week was re-solved once, so it has a second, current version;
* every session of each week's current version has a record: 88% served (the need's hours),
  5% no-shows, 4% cancelled by the volunteer, 3% by the beneficiary; one served record in a
  hundred was corrected (its first row superseded).

Then it times, best of ``--repeat`` runs (default one: a centre's run is minutes), in process against
the database:

* ``records rows`` (the baseline): reading the year's current record rows of the ledger's
  stations alone, one query joined to the plans for the station scope, as ``GET /v1/records``
  does, without building anything;
* ``ledger figures``: :func:`api.services.ledger.build_ledger` (what ``GET …/ledger`` returns);
* ``workbook``: writing the .xlsx from those figures (:func:`api.services.ledger_book.workbook`);
* ``ledger.xlsx``: both, what ``linli ledger`` and ``GET …/ledger.xlsx`` do.

``x`` is the time over the baseline's in the same run.  The result goes to
``benchmarks/results/ledger-<date>.json`` (:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.db import make_engine
from api.migrate import upgrade
from api.models import PlanAssignment, PlanVersion, ServiceRecord, Station
from api.services.ledger import CENTRE, build_ledger, year_bounds
from api.services.ledger_book import workbook
from api.services.planning import build_problem, sessions_of
from api.settings import get_settings
from benchmarks.greedy_baseline import greedy_plan
from benchmarks.results import Table, command_line, write_result
from matcher.format.schema import Problem

YEAR = 2026
SIZES: dict[str, tuple[int, int, int]] = {"station": (300, 225, 1), "centre": (4000, 3000, 20)}
"""Size name -> (volunteers, beneficiaries, districts) of the demo city (a station a district)."""
COLUMNS = ("size", "stations", "volunteers", "versions", "records", "step", "best s", "x")
OUTCOMES = (("served", 0.88), ("no_show", 0.05), ("cancelled_by_volunteer", 0.04))
"""Outcome shares; the rest is cancelled_by_beneficiary."""
CORRECTED = 0.01
"""Share of served records corrected once."""


def mondays(year: int) -> list[dt.date]:
    """The Mondays of ``year``."""
    day = dt.date(year, 1, 1)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    out = []
    while day.year == year:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def _outcome(rng: random.Random) -> str:
    roll = rng.random()
    for outcome, share in OUTCOMES:
        if roll < share:
            return outcome
        roll -= share
    return "cancelled_by_beneficiary"


def _station_week(session: Session, station: str, week: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """A station's week as stored: its problem, and a finished plan of it (greedy assignments)."""
    problem = build_problem(session, station, week, 10.0)
    # The ledger's demo city has no group posts, so its weeks are format 1.
    assert isinstance(problem, Problem), "the ledger benchmark's city has no posts"
    assignments = greedy_plan(problem)
    priority = {b.id: b.priority for b in problem.beneficiaries}
    need = {n.id: n for n in problem.needs}
    demand = math.fsum(priority[n.beneficiary] * float(n.hours) * n.sessions for n in problem.needs)
    covered = math.fsum(
        priority[need[a.need].beneficiary] * float(need[a.need].hours) * len(a.slots) for a in assignments
    )
    plan = {
        "format": 1,
        "status": "feasible",
        "assignments": [a.model_dump(mode="json") for a in assignments],
        "unmet": [],
        "objective": {"coverage": covered, "coverage_bound": demand, "continuity": 0},
        "solve_seconds": 0.0,
    }
    return problem.model_dump(mode="json", exclude_none=True), plan


def seed_year(url: str, size: str, seed: int = 7) -> tuple[int, int]:
    """Seed the demo city of ``size`` and a year of plans and records; returns (versions, records)."""
    from api.seed import seed_demo

    volunteers, beneficiaries, districts = SIZES[size]
    rng = random.Random(seed)
    engine = make_engine(url)
    versions: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    corrected: list[dict[str, int]] = []
    with Session(engine) as session:
        stations = seed_demo(session, volunteers, beneficiaries, districts, seed)
        weeks = mondays(YEAR)
        for station in stations:
            # One problem and plan per station, stored for each week: the figures read the
            # stored documents, and building 52 x 20 problems would only time the seeding.
            problem, plan = _station_week(session, station, weeks[0])
            hours = {n["id"]: float(n["hours"]) for n in problem["needs"]}
            for i, week in enumerate(weeks):
                chain = 2 if i % 4 == 3 else 1  # every fourth week was re-solved once
                for version in range(1, chain + 1):
                    plan_id = len(versions) + 1
                    versions.append(
                        {
                            "id": plan_id,
                            "station_id": station,
                            "week_start": week,
                            "version": version,
                            "parent_id": plan_id - 1 if version > 1 else None,
                            "state": "done",
                            "problem": problem,
                            "plan": plan,
                            "attempts": 1,
                            "cancel_requested": False,
                            "created_at": dt.datetime.combine(week, dt.time(8), tzinfo=dt.UTC),
                        }
                    )
                    for a in plan["assignments"]:
                        assignments.append(
                            {
                                "id": len(assignments) + 1,
                                "plan_id": plan_id,
                                "need_id": a["need"],
                                "volunteer_id": a["volunteer"],
                                "slots": a["slots"],
                            }
                        )
                        if version < chain:
                            continue  # sessions are recorded against the current version
                        for day, slot in sessions_of(week, a["slots"]):
                            outcome = _outcome(rng)
                            row = {
                                "id": len(records) + 1,
                                "assignment_id": len(assignments),
                                "volunteer_id": a["volunteer"],
                                "served_on": day,
                                "slot": slot,
                                "hours": hours[a["need"]] if outcome == "served" else 0.0,
                                "outcome": outcome,
                                "rating": rng.randint(3, 5) if outcome == "served" else None,
                                "correction_reason": None,
                                "created_at": dt.datetime.combine(day, dt.time(20), tzinfo=dt.UTC),
                            }
                            records.append(row)
                            if outcome == "served" and rng.random() < CORRECTED:
                                corrected.append({"old": row["id"], "new": row["id"] + 1})
                                fix = {
                                    "id": row["id"] + 1,
                                    "hours": row["hours"] / 2,
                                    "correction_reason": "签到表更正",
                                }
                                records.append(row | fix)
        for table, rows in ((PlanVersion, versions), (PlanAssignment, assignments), (ServiceRecord, records)):
            for first in range(0, len(rows), 20_000):
                session.execute(sa.insert(table), rows[first : first + 20_000])
        # The superseded rows point at their corrections once both are stored (a foreign key).
        superseded = sa.update(ServiceRecord).where(col(ServiceRecord.id) == sa.bindparam("old"))
        session.connection().execute(superseded.values(superseded_by=sa.bindparam("new")), corrected)
        session.commit()
    engine.dispose()
    return len(versions), len(records)


def best(run: Callable[[], object], repeat: int) -> float:
    """The shortest of ``repeat`` timed runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(size: str, repeat: int) -> list[list[Any]]:
    """Seed ``size`` in a temporary database and time the ledger's steps; the table's rows."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ledger.sqlite'}"
        upgrade(url)
        started = time.perf_counter()
        versions, records = seed_year(url, size)
        print(
            f"{size}: seeded {versions} versions, {records} records in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        thresholds = get_settings().star_hours
        with Session(engine) as session:
            stations = list(session.exec(select(Station).order_by(col(Station.id))))
            ids = [s.id for s in stations]
            scope = ids[0] if len(ids) == 1 else CENTRE
            start, end = year_bounds(YEAR)

            def rows() -> int:
                query = (
                    select(ServiceRecord)
                    .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
                    .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
                    .where(
                        col(PlanVersion.station_id).in_(ids),
                        col(ServiceRecord.served_on) >= start,
                        col(ServiceRecord.served_on) <= end,
                        col(ServiceRecord.superseded_by).is_(None),
                    )
                )
                found = len(session.exec(query).all())
                session.expunge_all()  # each run reads from the database, not the identity map
                return found

            def figures() -> Any:
                ledger = build_ledger(session, stations, YEAR, thresholds, scope)
                session.expunge_all()
                return ledger

            ledger = figures()
            volunteers = len(ledger.volunteers)
            current = rows()
            assert current == len(ledger.sessions) == ledger.total.sessions
            steps = [
                ("records rows (baseline)", lambda: rows()),
                ("ledger figures", figures),
                ("workbook", lambda: workbook(ledger)),
                ("ledger.xlsx", lambda: workbook(figures())),
            ]
            timed = [(name, best(run, repeat)) for name, run in steps]
        engine.dispose()
    base = timed[0][1]
    out = []
    for name, seconds in timed:
        out.append(
            [size, len(ids), volunteers, versions, current, name, f"{seconds:.3f}", f"{seconds / base:.1f}"]
        )
        print(f"{size:8} {name:24} {seconds:8.3f} s  x{seconds / base:.1f}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    """Seed each size, time the ledger, print the table and write the result file."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--sizes", default="station,centre", help="comma-separated: station, centre")
    args.add_argument("--repeat", type=int, default=1, help="timed runs of each step (the best counts)")
    opts = args.parse_args(argv)
    rows: list[list[Any]] = []
    for size in opts.sizes.split(","):
        if size not in SIZES:
            raise SystemExit(f"error: --sizes: unknown size {size!r} (station, centre)")
        rows += measure(size, opts.repeat)
    notes = [
        "SQLite in a temporary directory; 52 weeks of 2026 a station, every fourth week with a second "
        "(current) version; records: 88% served, 5% no-shows, 4% cancelled by the volunteer, 3% by the "
        "beneficiary, 1% of served ones corrected.",
        "`records` counts the year's current records; `x` is the step's time over reading those rows "
        "alone (the baseline) in the same run; best of --repeat runs.",
    ]
    write_result("ledger", command_line("benchmarks.ledger"), [Table(COLUMNS, rows)], notes)


if __name__ == "__main__":
    main()

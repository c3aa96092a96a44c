"""Stand-ins (备选志愿者): the time to list them against the solve's, and how often the first one covers
a cancellation.

Run ``python -m benchmarks.standins`` from the repository root (a few minutes: it solves a
4,000-volunteer city).  For each size it generates a city (:func:`matcher.synth.generate.generate_city`,
as ``benchmarks.city`` does: ``station`` 300 volunteers and 225 beneficiaries, ``4000`` 4,000 and
3,000 in 8 districts), solves it with :func:`matcher.solve.solve` (the baseline of the run:
wall seconds of the whole call), then times :func:`matcher.standins.standins` on that plan
(3 per session and per assignment, everything included: compiling the problem, the plan's
state, every assignment's lists), ``--repeat`` times, median.  The issue's bounds: at
station size within 10% of the solve's time, at 4,000 volunteers within 2 s.

Then the cancellations: ``--cancellations`` random single sessions of the city's plan (a
random assignment, a random one of its slots; seeded) are cancelled one at a time; a
cancellation is **covered** when the session has a first-ranked stand-in and the plan with
that stand-in swapped in (:func:`matcher.standins.swap`) passes the independent validator
against the changed problem.

Last, the service's cost: ``GET /v1/plans/{id}`` on the demo station (an SQLite database seeded
as ``linli seed``: 250 volunteers), what :func:`api.services.versions.describe` answered before
stand-ins (the baseline) and :func:`api.services.standins.describe` now, with the volunteers'
reliability read from the records; and a swap's (:func:`api.services.standins.swap_version`, as
``POST /v1/plans/{id}/swap``: the next version validated and stored, no solve), one after another.

It prints the tables and writes ``benchmarks/results/standins-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import time
from collections.abc import Callable

from sqlmodel import Session, select

from api.models import PlanVersion, Station, SwapRequest
from api.services import planning, versions
from api.services import standins as service
from benchmarks.results import Table, command_line, write_result
from benchmarks.service_setup import demo_database, freeze_collector, seed_city
from matcher.format.changes import apply_changes
from matcher.format.schema import Plan, Problem
from matcher.format.validate import validate_plan
from matcher.solve import solve
from matcher.standins import standins, swap
from matcher.synth.generate import generate_city

SIZES: dict[str, tuple[int, int, int | None, float]] = {
    "station": (300, 225, None, 10.0),
    "4000": (4000, 3000, 8, 60.0),
}
"""Name -> volunteers, beneficiaries, districts, solve time limit (benchmarks.city's sizes and limits)."""

BOUND = {"station": "<= 10% of the solve", "4000": "<= 2 s"}
WEEK = dt.date(2026, 12, 7)


def _median(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and max wall seconds, and median CPU seconds of this process, of ``repeat`` calls
    after one warm-up call.  On a shared machine the wall time grows with the load; the CPU
    time is what the call itself costs one core."""
    fn()
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(times), max(times), statistics.median(cpu)


def _cpu() -> float:
    """CPU seconds of this process's threads and its finished helper processes (the solve's portfolio)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _call(problem: Problem, plan: Plan) -> Callable[[], object]:
    """The timed call: every assignment's stand-ins, 3 per session and per assignment."""
    return lambda: standins(problem, plan)


def cancellations(problem: Problem, plan: Plan, n: int, seed: int) -> tuple[int, int, int]:
    """``n`` random single-session cancellations: (with a first stand-in, covered and valid, total)."""
    found = standins(problem, plan, 1)
    rng = random.Random(seed)
    listed = covered = 0
    for _ in range(n):
        i = rng.randrange(len(plan.assignments))
        a = plan.assignments[i]
        slot = rng.choice(a.slots)
        first = found[i].sessions[slot]
        if not first:
            continue
        listed += 1
        changes, new = swap(problem, plan, a.need, first[0].volunteer, slot)
        if validate_plan(apply_changes(problem, changes), new) == []:
            covered += 1
    return listed, covered, n


SWAPS = 5
"""Swaps timed one after another (each one takes a stand-in out of the station's lists)."""

Timing = tuple[float, float, float]
"""Median wall, max wall and median CPU seconds."""


def _swaps(session: Session, version: PlanVersion, repeat: int) -> Timing:
    """``repeat`` swaps one after another, each on the newest version with its first listed stand-in:
    :func:`api.services.standins.swap_version`'s work (the stand-ins are looked up untimed)."""
    walls, cpus = [], []
    for _ in range(repeat):
        found = service.plan_standins(session, version) or []
        rows = {a.need_id: a.id for a in versions.assignment_rows(session, version)}
        pick = next(((f.need, f.whole[0]) for f in found if f.whole), None)
        if pick is None:
            break  # the station has run out of stand-ins for whole assignments
        need, first = pick
        body = SwapRequest(assignment_id=rows[need], volunteer=first.volunteer)
        started, used = time.perf_counter(), time.process_time()
        version = service.swap_version(session, version, body)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - used)
    return statistics.median(walls), max(walls), statistics.median(cpus)


def service_get(repeat: int) -> tuple[Timing, Timing, Timing, int]:
    """On the demo station: ``GET /v1/plans/{id}``'s work without and with stand-ins, and a swap's."""
    with demo_database() as engine, Session(engine) as session:
        seed_city(session)
        station = session.exec(select(Station).order_by(Station.id)).first()
        assert station is not None
        problem = planning.build_problem(session, station.id, WEEK, 10)
        # The demo city is seeded without group posts: its weeks are format 1, stand-ins' ground.
        assert isinstance(problem, Problem), "the stand-ins benchmark's city has no posts"
        plan = solve(problem, 10.0).plan
        version = PlanVersion(
            station_id=station.id,
            week_start=WEEK,
            state="done",
            problem=problem.model_dump(mode="json", exclude_none=True),
        )
        session.add(version)
        session.flush()
        planning.store_plan(session, version, plan)
        session.commit()
        freeze_collector()
        before = _median(lambda: versions.describe(session, version), repeat)
        after = _median(lambda: service.describe(session, version), repeat)
        swapped = _swaps(session, version, SWAPS)
        volunteers = len(problem.volunteers)
    return before, after, swapped, volunteers


def main(argv: list[str] | None = None) -> None:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="station,4000", help="comma-separated: station, 4000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cancellations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, help="the solve's limit (default: benchmarks.city's)")
    args = parser.parse_args(argv)
    rows: list[list[str | float | int | None]] = []
    notes: list[str] = []
    cover_rows: list[list[str | float | int | None]] = []
    for name in args.sizes.split(","):
        vols, bens, districts, limit = SIZES[name]
        problem = generate_city(vols, bens, districts=districts, seed=args.seed)
        started, used = time.perf_counter(), _cpu()
        plan = solve(problem, args.time_limit or limit).plan
        solve_s, solve_cpu = time.perf_counter() - started, _cpu() - used
        median, worst, cpu = _median(_call(problem, plan), args.repeat)
        sessions = sum(len(a.slots) for a in plan.assignments)
        print(
            f"{name}: {vols} volunteers, {len(plan.assignments)} assignments ({sessions} sessions); "
            f"solve {solve_s:.1f} s (CPU {solve_cpu:.1f}), stand-ins median {median:.3f} s (max {worst:.3f}, "
            f"CPU {cpu:.3f}) = {median / solve_s:.1%} of the solve's wall time, {cpu / solve_cpu:.1%} of its "
            f"CPU; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        rows.append(
            [
                name,
                vols,
                len(plan.assignments),
                sessions,
                round(solve_s, 2),
                round(solve_cpu, 2),
                round(median, 3),
                round(worst, 3),
                round(cpu, 3),
                f"{median / solve_s:.1%}",
                f"{cpu / solve_cpu:.1%}",
                BOUND[name],
                round(os.getloadavg()[0], 1),
            ]
        )
        listed, covered, total = cancellations(problem, plan, args.cancellations, args.seed)
        print(
            f"{name}: {total} random cancellations: {listed} with a first stand-in, {covered} covered",
            flush=True,
        )
        cover_rows.append([name, total, listed, covered, f"{covered / total:.0%}" if total else None])
    before, after, swapped, volunteers = service_get(args.repeat * 4)
    print(
        f"GET /v1/plans/{{id}} on the demo station ({volunteers} volunteers): {before[0] * 1000:.1f} ms "
        f"before, {after[0] * 1000:.1f} ms with stand-ins ({after[0] / before[0]:.1f}x)",
        flush=True,
    )
    service_rows: list[list[str | float | int | None]] = [
        [
            "versions.describe (before)",
            round(before[0] * 1000, 1),
            round(before[1] * 1000, 1),
            round(before[2] * 1000, 1),
            1.0,
        ],
        [
            "standins.describe (now)",
            round(after[0] * 1000, 1),
            round(after[1] * 1000, 1),
            round(after[2] * 1000, 1),
            round(after[0] / before[0], 1),
        ],
        [
            "POST /v1/plans/{id}/swap (swap_version)",
            round(swapped[0] * 1000, 1),
            round(swapped[1] * 1000, 1),
            round(swapped[2] * 1000, 1),
            None,
        ],
    ]
    print(f"a swap: {swapped[0] * 1000:.1f} ms (max {swapped[1] * 1000:.1f})", flush=True)
    notes.append(
        f"stand-ins: 3 per session and per assignment, median of {args.repeat} calls after a warm-up; "
        f"solve: one call of matcher.solve.solve (time limit {args.time_limit or 'as benchmarks.city'}); "
        f"cancellations: seed {args.seed}. `stand-ins s` is wall time, which on a shared machine grows "
        "with the load average (`load`, 1 minute, 2 cores here); `CPU s` is this process's CPU time "
        "for the same call, what it costs one core; `solve CPU s` the solve's (its threads and helper "
        "processes that have ended: a pool still alive is not counted, so the solve's CPU is a lower "
        "bound and `CPU of solve's` an upper bound on the stand-ins' share)"
    )
    write_result(
        "standins",
        command_line("benchmarks.standins", argv),
        [
            Table(
                [
                    "size",
                    "volunteers",
                    "assignments",
                    "sessions",
                    "solve s",
                    "solve CPU s",
                    "stand-ins s",
                    "max s",
                    "CPU s",
                    "of solve",
                    "CPU of solve's",
                    "bound",
                    "load",
                ],
                rows,
                title="Stand-in computation against the solve",
            ),
            Table(
                ["size", "cancellations", "with a first stand-in", "covered (swap validates)", "covered"],
                cover_rows,
                title="Random single-session cancellations covered by the first-ranked stand-in",
            ),
            Table(
                ["request's work", "median ms", "max ms", "CPU ms", "x before"],
                service_rows,
                title=f"The plan's response and a swap on the demo station ({volunteers} volunteers)",
            ),
        ],
        notes,
    )


if __name__ == "__main__":
    main()

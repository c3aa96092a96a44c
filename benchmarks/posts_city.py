"""Group posts (format 2) at city size: coverage against an independent bound, in the time limit.

Run ``python -m benchmarks.posts_city`` (part of ``make bench``; ``--sizes 4000`` skips the
20,000-volunteer city).  For each size and seed it generates the city of
:func:`matcher.synth.generate.generate_city_with_posts` (the sizes of :mod:`benchmarks.city`, a
tenth of the needs posts of 2-8 volunteers), solves it with :func:`matcher.solve.solve_any` (the
city route, :mod:`matcher.search.posts_city`) at the size's time limit, checks the plan with
:func:`matcher.format.validate2.validate_plan2`, and solves the same city without posts
(:func:`~matcher.synth.generate.generate_city`) with :func:`matcher.solve.solve` in the same run,
the baseline.

**The bound.**  The LP of the natural model with posts (:func:`benchmarks.posts.lp_bound`: a variable
per volunteer on a need, per post and window chosen, per volunteer at a window) is too large to solve
at city size (half a million pairs at 4,000 volunteers).  The ``natural LP bound (Lagrangian)``
column is an upper bound on that LP's optimum, computed by :mod:`benchmarks.posts_lagrange`
independently of the engine's solvers (only its eligibility, :class:`PostInstance`, as
:mod:`benchmarks.posts` uses): the least value of the Lagrangian dual (the rows coupling needs and
volunteers dualised, each need's and each volunteer-place's subproblem solved exactly in closed
form) over a deflected subgradient run of at most the size's ``bound s`` (``--bound-seconds``).
Every value of that function is an upper bound on the natural LP optimum (weak duality; the proof
is in :mod:`benchmarks.posts_lagrange`), hence on the optimum with posts: so ``coverage / bound`` is
conservative, by however far the run stopped above the LP.  At station size the benchmark also
solves the natural LP exactly (``exact LP``, HiGHS, :func:`benchmarks.posts.lp_bound`) and gives the
bound's excess over it.

Prints the table and writes ``benchmarks/results/posts_city-<date>.json``.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.city import SIZES
from benchmarks.posts import lp_bound
from benchmarks.posts_lagrange import lagrangian_bound
from benchmarks.results import Table, add_seeds, command_line, seed_list, write_result
from matcher.format.schema import Plan, Plan2
from matcher.format.validate import validate_plan
from matcher.format.validate2 import validate_plan2
from matcher.solve import solve, solve_any
from matcher.synth.generate import generate_city, generate_city_with_posts

COLUMNS = [
    "size",
    "seed",
    "volunteers",
    "needs",
    "posts",
    "limit s",
    "route",
    "seconds",
    "coverage",
    "natural LP bound (Lagrangian)",
    "coverage / bound",
    "bound s",
    "bound iterations",
    "exact LP",
    "bound / exact LP",
    "posts run",
    "volunteers on posts",
    "demand bound",
    "baseline s",
    "baseline coverage",
]


BOUND_SECONDS = {"station": 20.0, "4000": 360.0, "20000": 900.0}
"""Seconds for the Lagrangian bound by size (the build included), unless ``--bound-seconds``."""
BOUND_ITERATIONS = 3000
"""At most this many subgradient iterations."""


def measure(size_name: str, seed: int, bound_seconds: float | None, exact_max: int) -> list[object]:
    """One city: the posts city by solve_any, its Lagrangian bound on the natural LP (and the exact LP
    up to ``exact_max`` volunteers), the city without posts by solve."""
    size = SIZES[size_name]
    problem = generate_city_with_posts(
        size.volunteers, size.beneficiaries, size.districts, seed=seed, time_limit_s=size.time_limit
    )
    started = time.perf_counter()
    result = solve_any(problem, size.time_limit)
    seconds = time.perf_counter() - started
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == [], "posts plan invalid"
    posts = {n.id for n in problem.needs if n.is_post}
    run = [a for a in result.plan.assignments if a.need in posts]
    limit = bound_seconds if bound_seconds is not None else BOUND_SECONDS.get(size_name, 600.0)
    report = lagrangian_bound(problem, iterations=BOUND_ITERATIONS, time_limit=limit)
    print(report.summary(), flush=True)
    bound = report.bound
    exact = float(lp_bound(problem)) if size.volunteers <= exact_max else None
    baseline = generate_city(
        size.volunteers, size.beneficiaries, size.districts, seed, time_limit_s=size.time_limit
    )
    started = time.perf_counter()
    base = solve(baseline, size.time_limit)
    base_s = time.perf_counter() - started
    assert isinstance(base.plan, Plan)
    assert validate_plan(baseline, base.plan) == [], "baseline plan invalid"
    return [
        size_name,
        seed,
        size.volunteers,
        len(problem.needs),
        len(posts),
        size.time_limit,
        result.route,
        round(seconds, 1),
        round(float(result.coverage), 1),
        round(bound, 1),
        round(float(result.coverage) / bound, 4) if bound else None,
        round(report.seconds, 1),
        report.iterations,
        round(exact, 1) if exact is not None else None,
        round(bound / exact, 4) if exact else None,
        f"{len(run)} / {len(posts)}",
        sum(len(a.volunteers) for a in run),
        round(float(result.coverage_bound), 1),
        round(base_s, 1),
        round(float(base.coverage), 1),
    ]


def main(argv: list[str] | None = None) -> None:
    """Measure each size and seed, print the table and write the result file."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument(
        "--sizes",
        default="station,4000,20000",
        help="comma-separated sizes of benchmarks.city (station: the station route, for comparison)",
    )
    add_seeds(args, "1")
    args.add_argument("--big-seeds", default="1", help="seeds of the 20,000-volunteer city")
    args.add_argument(
        "--bound-seconds", type=float, default=None, help=f"seconds for the bound (by size: {BOUND_SECONDS})"
    )
    args.add_argument(
        "--exact-lp-max-volunteers", type=int, default=300, help="largest city also given the exact LP"
    )
    opts = args.parse_args(argv)
    rows = []
    for size_name in opts.sizes.split(","):
        big = SIZES[size_name].volunteers > 4000
        for seed in seed_list(opts.big_seeds if big else opts.seeds):
            row = measure(size_name, seed, opts.bound_seconds, opts.exact_lp_max_volunteers)
            print(*row, sep="\t", flush=True)
            rows.append(row)
    notes = [
        "Posts city solved by solve_any (route posts-city: seats, today's pipeline, repair) at the size's "
        "limit; every plan passes validate_plan2. 'natural LP bound (Lagrangian)': an upper bound on the "
        "optimum of the LP relaxation of the natural model with posts (a variable per volunteer on a need, "
        "per post and window chosen, per volunteer at a window), the least Lagrangian dual value of a "
        "subgradient run (benchmarks/posts_lagrange.py; 'bound s' its seconds, build included), valid at "
        "every iterate, so 'coverage / bound' is at most coverage over the natural LP. 'exact LP': that LP "
        "solved by HiGHS (benchmarks.posts.lp_bound), at station size only. 'demand bound': Linli's own "
        "bound at city size (each need at its most volunteers).",
        "Baseline: the same city without posts (generate_city, format 1) by solve() in the same run.",
        "Station rows (route posts: column generation then the compact model, at the station's 10 s) "
        "give the same ratio on the station route, for comparison.",
    ]
    for line in notes:
        print(line)
    write_result("posts_city", command_line("benchmarks.posts_city", argv), [Table(COLUMNS, rows)], notes)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

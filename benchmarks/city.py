"""City-scale benchmark: Linli and the greedy baseline against the natural model's LP bound.

Run ``python -m benchmarks.city`` (``--sizes station,4000`` skips the 20,000-volunteer city).
For each size it generates one city, then runs, each in a fresh process (``multiprocessing``
with the 'spawn' context, so one size's memory cannot leak into another's figures):

* Linli, :func:`matcher.solve.solve` with the size's time limit (10, 60 and 300 s by default);
  its plan is checked by :func:`matcher.format.validate.validate_plan` before anything is reported;
* the first-fit greedy baseline (:mod:`benchmarks.greedy_baseline`);
* the LP relaxation of the natural model (:mod:`benchmarks.lp_bound`).

One table, a row per method and size: wall time of the whole call (reading the problem file
included), peak memory (``ru_maxrss`` of the solving process plus the largest of its forked
helpers', read when the call returns: the city bound's, or at station size the model
builder's or the search's), coverage, the LP bound, Linli's own bound
(``coverage_bound``) and the two ratios.  The greedy row shares its size's LP bound and
Linli bound as yardsticks.  The LP's sizes and times follow the table.

The parent process imports nothing heavy and never holds a problem: on Linux a child's
``ru_maxrss`` starts from its parent's high-water mark at ``fork``, so a small parent keeps
the children's figures their own.  Each child runs under an address-space limit
(``--memory-gb``); one that runs out is reported as such instead of stopping the benchmark.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.results import Table, command_line, write_result


@dataclass(frozen=True)
class Size:
    """One benchmark city."""

    name: str
    volunteers: int
    beneficiaries: int
    districts: int | None
    time_limit: float


SIZES: dict[str, Size] = {
    s.name: s
    for s in (
        Size("station", 300, 225, None, 10.0),
        Size("4000", 4000, 3000, 8, 60.0),
        Size("20000", 20_000, 15_000, 20, 300.0),
    )
}
"""The sizes of issue 3, with Linli's default time limits."""


@dataclass
class Run:
    """What one solving process measured."""

    read_s: float
    wall_s: float
    """Whole call: reading the problem file, then solving (building included)."""
    peak_mb: float
    coverage: float
    status: str = "-"
    bound: float = math.nan
    """Linli's ``coverage_bound``."""
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class LpRun:
    """What the LP process measured."""

    wall_s: float
    peak_mb: float
    bound: float | None
    lagrangian: float
    summary: str


def peak_mb() -> float:
    """Peak resident memory of this process plus that of its largest finished child, in MB.

    The child is the city bound's forked process (:class:`matcher.search.citybound.Beside`); the
    sum overstates the peak a little, since a forked child shares its parent's pages.
    (Linux reports KiB.)
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def limit_memory(gb: float) -> None:
    """Cap this process's address space at ``gb`` GiB (0: no cap)."""
    if gb > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = int(gb * 2**30)
        resource.setrlimit(
            resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
        )


# --------------------------------------------------------------- children (fresh processes)


def generate_child(size: Size, seed: int, path: str) -> int:
    """Write the city of ``size`` to ``path``; return its number of needs."""
    # Here and in the other children the heavy imports happen in the child only.
    from matcher.synth.generate import generate_city

    problem = generate_city(size.volunteers, size.beneficiaries, districts=size.districts, seed=seed)
    Path(path).write_text(problem.model_dump_json(exclude_none=True), encoding="utf-8")
    return len(problem.needs)


def linli_child(path: str, time_limit: float, workers: int | None, seed: int, memory_gb: float) -> Run:
    """Read the problem, solve it with Linli, then validate the plan (not timed)."""
    limit_memory(memory_gb)
    from matcher.format.io import load_problem
    from matcher.format.validate import validate_plan
    from matcher.solve import solve

    start = time.perf_counter()
    problem = load_problem(path)
    read = time.perf_counter() - start
    # As `linli solve --time-limit` does: the limit covers reading the problem too.
    result = solve(problem, max(0.05, time_limit - read), workers=workers, seed=seed)
    wall = time.perf_counter() - start
    peak = peak_mb()
    violations = validate_plan(problem, result.plan)
    assert not violations, violations[:5]
    return Run(
        read_s=read,
        wall_s=wall,
        peak_mb=peak,
        coverage=float(result.coverage),
        status=result.status,
        bound=float(result.coverage_bound),
        notes={"pairs": result.pairs, "build_s": result.build_seconds},
    )


def greedy_child(path: str, memory_gb: float) -> Run:
    """Read the problem and run the greedy baseline."""
    limit_memory(memory_gb)
    from benchmarks.greedy_baseline import greedy_plan
    from matcher.format.io import load_problem
    from matcher.format.validate import coverage_of

    start = time.perf_counter()
    problem = load_problem(path)
    read = time.perf_counter() - start
    assignments = greedy_plan(problem)
    wall = time.perf_counter() - start
    peak = peak_mb()
    return Run(
        read_s=read,
        wall_s=wall,
        peak_mb=peak,
        coverage=float(coverage_of(problem, (a.need for a in assignments))),
    )


def lp_child(path: str, time_limit: float, memory_gb: float) -> LpRun:
    """Read the problem and compute the natural model's LP bound (its log on stderr)."""
    limit_memory(memory_gb)
    os.dup2(2, 1)  # HiGHS prints its banner on stdout: keep stdout for the table
    logging.basicConfig(level=logging.INFO, format="    %(message)s", stream=sys.stderr)
    from benchmarks.lp_bound import lp_bound_report
    from matcher.format.io import load_problem

    start = time.perf_counter()
    report = lp_bound_report(load_problem(path), time_limit)
    return LpRun(time.perf_counter() - start, peak_mb(), report.bound, report.lagrangian, report.summary())


def in_fresh_process(fn: Any, *args: Any) -> Any:
    """Call ``fn(*args)`` in a new 'spawn' process and return its result.

    Raises
    ------
    RuntimeError
        If the process died (killed, out of memory in native code ...).
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool as exc:
            raise RuntimeError("the process died (out of memory?)") from exc


# ------------------------------------------------------------------------------- table


HEADER = (
    f"{'size':<8}{'vols':>6} {'needs':>6} {'method':<7}{'limit s':>8} {'wall s':>8} {'read s':>7} "
    f"{'peak MB':>8} {'status':<9}{'coverage':>10} {'LP bound':>10} {'Linli bnd':>10} "
    f"{'cov/LP':>7} {'cov/Linli':>9}"
)


def ratio(num: float, den: float | None) -> str:
    """``num / den`` to three places, or ``-``."""
    if den is None or not math.isfinite(den) or den <= 0:
        return "-"
    return f"{num / den:.3f}"


def number(x: float | None, width: int, places: int = 1) -> str:
    """A right-aligned number, or ``-``."""
    if x is None or not math.isfinite(x):
        return f"{'-':>{width}}"
    return f"{x:>{width}.{places}f}"


def row(
    size: Size,
    needs: int,
    method: str,
    limit: float | None,
    run: Run | str,
    lp: float | None,
    linli: float,
    lp_solved: bool = True,
) -> str:
    """One table row; ``run`` is a :class:`Run` or why there is none.

    ``lp_solved`` false marks the LP column and its ratio with ``*``: the bound from the duals
    of an LP that was not solved (time limit ...; valid, but above the LP optimum).
    """
    head = f"{size.name:<8}{size.volunteers:>6} {needs:>6} {method:<7}{number(limit, 8, 0)} "
    if isinstance(run, str):
        return head + run
    star = "" if lp_solved or lp is None or not math.isfinite(lp) else "*"
    lp_cell = number(lp, 10 - len(star)) + star
    lp_ratio = ratio(run.coverage, lp) + (star if ratio(run.coverage, lp) != "-" else "")
    return (
        head
        + f"{run.wall_s:8.2f} {run.read_s:7.2f} {run.peak_mb:8.0f} {run.status:<9}{run.coverage:10.1f} "
        + f"{lp_cell} {number(linli, 10)} {lp_ratio:>7} {ratio(run.coverage, linli):>9}"
    )


COLUMNS = [
    "size", "vols", "needs", "method", "limit s", "wall s", "read s", "peak MB", "status",
    "coverage", "LP bound", "Linli bnd", "cov/LP", "cov/Linli",
]  # fmt: skip


def cells(
    size: Size,
    needs: int,
    method: str,
    limit: float | None,
    run: Run | str,
    lp: float | None,
    linli: float,
    lp_solved: bool = True,
) -> list[str | None]:
    """The cells of :func:`row` (for the result file); a missing run's reason fills the status."""
    head: list[str | None] = [size.name, str(size.volunteers), str(needs), method]
    head.append(None if limit is None else f"{limit:.0f}")
    if isinstance(run, str):
        return [*head, None, None, None, run, None, None, None, None, None]
    star = "" if lp_solved or lp is None or not math.isfinite(lp) else "*"
    lp_cell = None if lp is None or not math.isfinite(lp) else f"{lp:.1f}{star}"
    lp_ratio = ratio(run.coverage, lp)
    return [
        *head,
        f"{run.wall_s:.2f}",
        f"{run.read_s:.2f}",
        f"{run.peak_mb:.0f}",
        run.status,
        f"{run.coverage:.1f}",
        lp_cell,
        None if not math.isfinite(linli) else f"{linli:.1f}",
        None if lp_ratio == "-" else lp_ratio + star,
        None if ratio(run.coverage, linli) == "-" else ratio(run.coverage, linli),
    ]


def attempt(fn: Any, *args: Any) -> Any:
    """Run ``fn`` in a fresh process; on failure, a one-line reason (str) instead of a result."""
    try:
        return in_fresh_process(fn, *args)
    except MemoryError:
        return "out of memory (--memory-gb cap)"
    except RuntimeError as exc:
        return str(exc)
    except AssertionError:
        raise  # an invalid plan is a bug, never a table entry
    except Exception as exc:
        return f"failed: {exc!r}"


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(SIZES), help=f"comma-separated, of {', '.join(SIZES)}")
    ap.add_argument(
        "--time-limits",
        default=None,
        help="Linli's limits in s, one per size in --sizes or one for all (default 10,60,300 by size)",
    )
    ap.add_argument("--lp-time-limit", type=float, default=600.0, help="seconds HiGHS may take per LP")
    ap.add_argument("--no-lp", action="store_true", help="skip the LP bound")
    ap.add_argument("--memory-gb", type=float, default=16.0, help="address-space cap per process (0: none)")
    ap.add_argument("--seed", type=int, default=1, help="city generator seed (CP-SAT's is 0)")
    ap.add_argument("--workers", type=int, default=None, help="CP-SAT workers (default: Linli's)")
    args = ap.parse_args(argv)

    sizes = [SIZES[s.strip()] for s in args.sizes.split(",") if s.strip()]
    if args.time_limits is None:
        limits = [s.time_limit for s in sizes]
    else:
        given = [float(t) for t in args.time_limits.split(",")]
        if len(given) not in (1, len(sizes)):
            ap.error("--time-limits: give one value, or one per size")
        limits = given * len(sizes) if len(given) == 1 else given

    lines: list[str] = []
    table: list[list[str | None]] = []
    notes: list[str] = []
    starred = False
    with tempfile.TemporaryDirectory(prefix="linli-city-") as tmp:
        for size, limit in zip(sizes, limits, strict=True):
            path = str(Path(tmp) / f"{size.name}.json")
            needs = in_fresh_process(generate_child, size, args.seed, path)
            progress(f"{size.name}: {size.volunteers} volunteers, {needs} needs; Linli ({limit:g} s) ...")
            linli = attempt(linli_child, path, limit, args.workers, 0, args.memory_gb)
            got = linli if isinstance(linli, str) else f"coverage {linli.coverage:.1f}"
            progress(f"{size.name}: Linli {got}; greedy ...")
            greedy = attempt(greedy_child, path, args.memory_gb)
            lp: LpRun | str = "skipped (--no-lp)"
            if not args.no_lp:
                progress(f"{size.name}: LP bound (HiGHS, at most {args.lp_time_limit:g} s) ...")
                lp = attempt(lp_child, path, args.lp_time_limit, args.memory_gb)
            lp_solved = not isinstance(lp, LpRun) or lp.bound is not None
            lp_bound = lp.lagrangian if isinstance(lp, LpRun) else None
            starred = starred or not lp_solved
            linli_bound = linli.bound if isinstance(linli, Run) else math.nan
            lines.append(row(size, needs, "linli", limit, linli, lp_bound, linli_bound, lp_solved))
            lines.append(row(size, needs, "greedy", None, greedy, lp_bound, linli_bound, lp_solved))
            table.append(cells(size, needs, "linli", limit, linli, lp_bound, linli_bound, lp_solved))
            table.append(cells(size, needs, "greedy", None, greedy, lp_bound, linli_bound, lp_solved))
            if isinstance(lp, str):
                notes.append(f"{size.name}: LP {lp}")
            else:
                notes.append(
                    f"{size.name}: {lp.summary}; whole call {lp.wall_s:.1f} s, peak {lp.peak_mb:.0f} MB"
                )
            if isinstance(linli, Run):
                notes.append(
                    f"{size.name}: Linli {linli.notes['pairs']:,} eligible pairs, "
                    f"built in {linli.notes['build_s']:.1f} s, plan validated"
                )
            progress(f"{size.name}: done")

    print(
        f"seed {args.seed}; wall s = whole call (reading the problem file included); "
        "peak MB = ru_maxrss of the solving process + its largest helper process"
    )
    print(HEADER)
    print("\n".join(lines))
    if starred:
        print(
            f"* LP not solved to optimality (limit {args.lp_time_limit:g} s; HiGHS's status below): the "
            "bound from its last duals (valid, but above the LP optimum)"
        )
    print()
    print("\n".join(notes))
    head = (
        f"seed {args.seed}; wall s = whole call (reading the problem file included); "
        "peak MB = ru_maxrss of the solving process + its largest helper process"
    )
    if starred:
        notes.insert(
            0,
            f"`*`: LP not solved to optimality (limit {args.lp_time_limit:g} s): the bound from its last "
            "duals (valid, but above the LP optimum).",
        )
    write_result("city", command_line("benchmarks.city", argv), [Table(COLUMNS, table, head)], notes)


if __name__ == "__main__":
    main()

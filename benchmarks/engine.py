"""Engine benchmark: Linli against the greedy baseline on generated cities.

Run ``python -m benchmarks.engine`` (or ``make bench``).  For each city size it prints
model build time, solve time, status, coverage, bound, coverage/bound and the time at
which coverage was proved optimal, for Linli and for the greedy baseline, side by side in
one run; then it solves station-size cities with a long limit to time the proof, with
HiGHS proving (Linli's default, ``linli``) and with CP-SAT proving (``cp-sat``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from benchmarks.greedy_baseline import greedy_plan
from benchmarks.results import Table, command_line, write_result
from matcher.format.validate import coverage_of, validate_plan
from matcher.solve import solve
from matcher.synth.generate import generate_city

Method = Literal["linli", "full-model", "cp-sat"]
"""Linli as shipped (column generation, HiGHS fallback); HiGHS on the full model; CP-SAT proving."""


@dataclass
class Row:
    """One line of the table."""

    volunteers: int
    needs: int
    method: str
    build_s: float
    solve_s: float
    status: str
    coverage: Fraction
    bound: Fraction
    proved_s: float | None = None

    def cells(self) -> list[str | None]:
        """The row's cells, as printed (``None``: not proved)."""
        ratio = float(self.coverage / self.bound) if self.bound else 1.0
        return [
            str(self.volunteers),
            str(self.needs),
            self.method,
            f"{self.build_s:.2f}",
            f"{self.solve_s:.2f}",
            self.status,
            f"{float(self.coverage):.1f}",
            f"{float(self.bound):.1f}",
            f"{ratio:.3f}",
            None if self.proved_s is None else f"{self.proved_s:.2f}",
        ]

    def render(self) -> str:
        """Format as a table row."""
        ratio = float(self.coverage / self.bound) if self.bound else 1.0
        return (
            f"{self.volunteers:>6} {self.needs:>6} {self.method:<8} {self.build_s:8.2f} {self.solve_s:8.2f} "
            f"{self.status:<9} {float(self.coverage):10.1f} {float(self.bound):10.1f} {ratio:8.3f} "
            f"{'-' if self.proved_s is None else f'{self.proved_s:.2f}':>9}"
        )


COLUMNS = [
    "vols",
    "needs",
    "method",
    "build s",
    "solve s",
    "status",
    "coverage",
    "bound",
    "cov/bnd",
    "proved s",
]

HEADER = (
    f"{'vols':>6} {'needs':>6} {'method':<8} {'build s':>8} {'solve s':>8} "
    f"{'status':<9} {'coverage':>10} {'bound':>10} {'cov/bnd':>8} {'proved s':>9}"
)


def run(
    volunteers: int, time_limit: float, seed: int, workers: int | None, method: Method = "linli"
) -> list[Row]:
    """Benchmark one city size; every plan is validated before it is reported."""
    problem = generate_city(volunteers, volunteers * 3 // 4, seed=seed)
    n_needs = len(problem.needs)

    prover: Literal["highs", "cpsat"] = "cpsat" if method == "cp-sat" else "highs"
    result = solve(problem, time_limit, workers=workers, prover=prover, columns=method == "linli")
    problems = validate_plan(problem, result.plan)
    assert not problems, problems[:3]
    linli = Row(
        volunteers,
        n_needs,
        method,
        result.build_seconds,
        result.solve_seconds - result.build_seconds,
        result.status,
        result.coverage,
        result.coverage_bound,
        result.proved_seconds,
    )

    t = time.perf_counter()
    assignments = greedy_plan(problem)
    greedy_s = time.perf_counter() - t
    cover = coverage_of(problem, (a.need for a in assignments))
    greedy = Row(volunteers, n_needs, "greedy", 0.0, greedy_s, "-", cover, result.coverage_bound)
    return [linli, greedy]


def main() -> None:
    """Print the benchmark table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="300,1000,4000", help="volunteer counts, comma-separated")
    ap.add_argument(
        "--time-limits", default="10,30,60", help="seconds per size (the last repeats for more sizes)"
    )
    ap.add_argument(
        "--prove-sizes", default="100,200,300", help="station sizes solved again to time the proof ('' skips)"
    )
    ap.add_argument("--prove-limit", type=float, default=30.0, help="time limit for those solves")
    ap.add_argument("--prove-seeds", default="1,2,3,4,5", help="cities per station size in the proof table")
    ap.add_argument(
        "--prove-methods",
        default="linli,full-model,cp-sat",
        help="methods in the proof table",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    limits = [float(s) for s in args.time_limits.split(",")]
    same = "greedy's bound column is Linli's proved bound, so both ratios share one yardstick"
    print(same)
    print(HEADER)
    tables: list[Table] = []
    notes: list[str] = []
    rows: list[list[str | None]] = []
    for i, size in enumerate(sizes):
        for row in run(size, limits[min(i, len(limits) - 1)], args.seed, args.workers):
            print(row.render(), flush=True)
            rows.append(row.cells())
    if rows:
        tables.append(Table(COLUMNS, list(rows), f"seed {args.seed}, time limits {args.time_limits} s"))
        notes.append(f"`bound`: {same}.")
    if args.prove_sizes:
        tables += prove_table(
            [int(s) for s in args.prove_sizes.split(",")],
            [int(s) for s in args.prove_seeds.split(",")],
            args.prove_limit,
            args.workers,
            tuple(m for m in args.prove_methods.split(",") if m in ("linli", "full-model", "cp-sat")),
        )
    write_result("engine", command_line("benchmarks.engine"), tables, notes)


def prove_table(
    sizes: list[int],
    seeds: list[int],
    limit: float,
    workers: int | None,
    methods: tuple[Method, ...] = ("linli", "full-model", "cp-sat"),
) -> list[Table]:
    """Seconds until coverage was proved optimal, per city (seed), for each method, and the median.

    ``-`` means not proved within ``limit``; the median then counts it as ``limit``.  With
    Linli alone, also how many cities were proved within one and two seconds, the slowest
    and the sum.  Returns the tables printed (proof times; median ratios to Linli).
    """
    print(
        f"\nseconds to prove coverage optimal (limit {limit:g} s), cities of `linli generate` seeds {seeds}:"
    )
    print(f"{'vols':>6} {'method':<11} " + " ".join(f"{'s' + str(s):>6}" for s in seeds) + f" {'median':>7}")
    medians: dict[tuple[int, str], float] = {}
    columns = [
        "vols",
        "method",
        *(f"s{s}" for s in seeds),
        "median",
        "within 1 s",
        "within 2 s",
        "slowest",
        "sum",
    ]
    rows: list[list[str | None]] = []
    for size in sizes:
        for method in methods:
            times = [run(size, limit, seed, workers, method)[0].proved_s for seed in seeds]
            cells = " ".join(f"{'-' if t is None else f'{t:.2f}':>6}" for t in times)
            median = statistics.median(limit if t is None else t for t in times)
            medians[(size, method)] = median
            print(f"{size:>6} {method:<11} {cells} {median:7.2f}", flush=True)
            row: list[str | None] = [str(size), method, *(None if t is None else f"{t:.2f}" for t in times)]
            row += [f"{median:.2f}", None, None, None, None]
            rows.append(row)
            if method == "linli":
                got = [limit if t is None else t for t in times]
                row[-4:] = [
                    str(sum(t <= 1 for t in got)),
                    str(sum(t <= 2 for t in got)),
                    f"{max(got):.2f}",
                    f"{sum(got):.1f}",
                ]
                print(
                    f"{'':>6} {'':<11} within 1 s: {sum(t <= 1 for t in got)}, within 2 s: "
                    f"{sum(t <= 2 for t in got)}, slowest {max(got):.2f} s, sum {sum(got):.1f} s"
                )
    title = f"seconds to prove coverage optimal (limit {limit:g} s; `-`: not proved, counted as the limit)"
    tables = [Table(columns, rows, title)]
    if "linli" in methods and len(methods) > 1:
        print("\nmedian proof time, ratio to linli in the same run:")
        others = [m for m in methods if m != "linli"]
        ratio_rows: list[list[str | None]] = []
        for size in sizes:
            base = medians[(size, "linli")]
            ratios = "  ".join(f"{m} {medians[(size, m)] / base:5.1f}x" for m in others)
            print(f"{size:>6} linli {base:.2f} s   {ratios}")
            ratio_rows.append(
                [str(size), f"{base:.2f}", *(f"{medians[(size, m)] / base:.1f}x" for m in others)]
            )
        tables.append(
            Table(
                ["vols", "linli median s", *others],
                ratio_rows,
                "median proof time, ratio to linli in the same run",
            )
        )
    return tables


if __name__ == "__main__":
    main()

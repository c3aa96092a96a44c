"""Scenario throughput: Monte Carlo runs per minute with 1 and 2 local workers.

Run ``python -m benchmarks.scenarios``.  For each size it simulates a winter-attrition scenario
(20% attrition, a third of evening slots lost) on a generated base, with the advice off, once
with one worker (in process) and once with two worker processes, and reports wall time
(pool start-up and the base solve included), runs per minute, how many runs were settled
(proved optimal, every phase done) and whether the two reports are identical.

Sizes: ``station`` is a 300-volunteer, three-district station (the station size of docs/engine.md);
``district`` a 500-volunteer single district (the generator's default district size).

A second table (same run) simulates shipped scenarios at their own station size (300 volunteers),
one worker, advice off: the one-to-one ``baseline`` and ``elderly-surge`` beside the post-heavy
``civility-weekend`` (文明劝导周末) and ``tree-planting`` (植树节), with coverage mean and p5-p95
over the runs, the posts held and run (means), the settled runs and the mean solver seconds per run
(posts are solved by the exact posts model within each run's time limit, not always proved).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.results import Table, command_line, write_result
from scenarios.model import SHIPPED_DIR, Advice, load_scenario, parse_scenario
from scenarios.simulate import simulate

SIZES: dict[str, tuple[int, int, int, float]] = {
    "station": (300, 225, 3, 8.0),
    "district": (500, 375, 1, 20.0),
}
"""Name -> (volunteers, beneficiaries, districts, per-run time limit)."""


def bench(size: str, runs: int, workers: int) -> tuple[float, dict[str, object]]:
    """Simulate the benchmark scenario at one size; return wall seconds and the report."""
    volunteers, beneficiaries, districts, limit = SIZES[size]
    scenario = parse_scenario(
        {
            "name": f"bench-{size}",
            "base": {
                "generate": {
                    "volunteers": volunteers,
                    "beneficiaries": beneficiaries,
                    "districts": districts,
                    "seed": 12,
                }
            },
            "runs": runs,
            "seed": 1,
            "time_limit": limit,
            "perturbations": [
                {"kind": "attrition", "rate": 0.2},
                {"kind": "availability_shrink", "rate": 0.33, "periods": ["eve"]},
            ],
            "advice": {"candidates": 0},
        }
    )
    started = time.perf_counter()
    sim = simulate(scenario, Path("."), workers=workers)
    return time.perf_counter() - started, sim.report


SHIPPED = ("baseline", "elderly-surge", "civility-weekend", "tree-planting")
"""Shipped scenarios of the second table: two one-to-one, two with posts."""


def bench_shipped(name: str, runs: int) -> tuple[float, dict[str, Any], list[float]]:
    """Simulate a shipped scenario (advice off); return wall seconds, the report and solver s/run."""
    scenario, root = load_scenario(SHIPPED_DIR / f"{name}.yaml")
    scenario = scenario.model_copy(update={"advice": Advice(candidates=0)})
    started = time.perf_counter()
    sim = simulate(scenario, root, runs=runs)
    return time.perf_counter() - started, sim.report, [r.seconds for r in sim.runs]


def shipped_table(names: list[str], runs: int) -> Table:
    """The shipped scenarios' table (printed as it goes)."""
    columns = [
        "scenario",
        "runs",
        "coverage % mean",
        "p5-p95",
        "posts run / held",
        "settled",
        "solve s/run",
        "wall s",
    ]
    print(" | ".join(columns))
    rows: list[list[str | None]] = []
    for name in names:
        seconds, report, per_run = bench_shipped(name, runs)
        pct = report["total"]["coverage_pct"]
        posts = report.get("posts")
        run_held = "-" if posts is None else f"{posts['run']['mean']:.1f} / {posts['posts']['mean']:.1f}"
        row: list[str | None] = [
            name,
            str(runs),
            f"{pct['mean']:.1f}",
            f"{pct['p5']:.1f}-{pct['p95']:.1f}",
            run_held,
            f"{report['runs']['settled']}/{report['runs']['count']}",
            f"{sum(per_run) / len(per_run):.1f}",
            f"{seconds:.1f}",
        ]
        print(" | ".join(str(c) for c in row), flush=True)
        rows.append(row)
    title = "shipped scenarios at station size (300 volunteers), one worker, advice off"
    return Table(columns, rows, title)


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="station,district", help="comma-separated: station, district")
    ap.add_argument("--runs", type=int, default=8, help="runs per simulation (default 8)")
    ap.add_argument(
        "--shipped",
        default=",".join(SHIPPED),
        help="comma-separated shipped scenarios for the second table ('' for none)",
    )
    ap.add_argument("--shipped-runs", type=int, default=5, help="runs per shipped scenario (default 5)")
    args = ap.parse_args()
    print(
        f"{'size':<9} {'volunteers':>10} {'workers':>7} {'runs':>5} {'wall s':>8} {'runs/min':>9} "
        f"{'settled':>8} {'same':>5}"
    )
    rows: list[list[str | None]] = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        reports = []
        for workers in (1, 2):
            seconds, report = bench(size, args.runs, workers)
            reports.append(json.dumps(report, sort_keys=True))
            runs = report["runs"]
            assert isinstance(runs, dict)
            same = "-" if workers == 1 else ("yes" if reports[0] == reports[1] else "no")
            print(
                f"{size:<9} {SIZES[size][0]:>10} {workers:>7} {args.runs:>5} {seconds:8.1f} "
                f"{60 * args.runs / seconds:9.1f} {runs['settled']:>4}/{runs['count']:<3} {same:>5}",
                flush=True,
            )
            rows.append(
                [
                    size,
                    str(SIZES[size][0]),
                    str(workers),
                    str(args.runs),
                    f"{seconds:.1f}",
                    f"{60 * args.runs / seconds:.1f}",
                    f"{runs['settled']}/{runs['count']}",
                    None if workers == 1 else same,
                ]
            )
    columns = ["size", "volunteers", "workers", "runs", "wall s", "runs/min", "settled", "same"]
    title = "20% attrition and a third of evening slots lost; wall time includes pool start-up and base solve"
    tables = [Table(columns, rows, title)]
    shipped = [s.strip() for s in args.shipped.split(",") if s.strip()]
    if shipped:
        tables.append(shipped_table(shipped, args.shipped_runs))
    write_result("scenarios", command_line("benchmarks.scenarios"), tables)


if __name__ == "__main__":
    main()

"""Scenario throughput: Monte Carlo runs per minute with 1 and 2 local workers.

Run ``python -m benchmarks.scenarios``.  For each size it simulates a winter-attrition scenario
(20% attrition, a third of evening slots lost) on a generated base, with the advice off, once
with one worker (in process) and once with two worker processes, and reports wall time
(pool start-up and the base solve included), runs per minute, how many runs were settled
(proved optimal, every phase done) and whether the two reports are identical.

Sizes: ``station`` is a 300-volunteer, three-district station (the station size of docs/engine.md);
``district`` a 500-volunteer single district (the generator's default district size).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.results import Table, command_line, write_result
from scenarios.model import parse_scenario
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


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="station,district", help="comma-separated: station, district")
    ap.add_argument("--runs", type=int, default=8, help="runs per simulation (default 8)")
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
    write_result("scenarios", command_line("benchmarks.scenarios"), [Table(columns, rows, title)])


if __name__ == "__main__":
    main()

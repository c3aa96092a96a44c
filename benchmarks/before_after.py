"""One-to-one cities before and after a change, interleaved in one run on one machine.

Run ``python -m benchmarks.before_after --before DIR`` with ``DIR`` a checkout of older code (``git
worktree add --detach DIR <commit>``).  For each generated city (``generate_city``, beneficiaries
three quarters of the volunteers) it solves the city with the older code and with this checkout,
each in a fresh process, alternating which goes first, so that whatever else loads the machine
loads both sides alike: a time-limited solve on a loaded machine proves less, and two runs one
after the other would compare loads, not code.  Issue 20 asks that pure one-to-one cities get no
slower and no worse for format 2 (posts): the table gives, per city, status, coverage, bound and
the seconds to the proof on both sides, and the summary the medians and their ratio.

Prints the tables and writes ``benchmarks/results/before_after-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.results import ROOT, Table, command_line, write_result

ONE_SOLVE = """
import json, sys, time
from matcher.solve import solve
from matcher.synth.generate import generate_city
volunteers, seed, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
problem = generate_city(volunteers, volunteers * 3 // 4, seed=seed)
t = time.perf_counter()
r = solve(problem, limit)
print(json.dumps({"status": r.status, "coverage": float(r.coverage), "bound": float(r.coverage_bound),
                  "seconds": time.perf_counter() - t,
                  "proved_s": None if r.proved_seconds is None else r.proved_seconds}))
"""
"""One solve in a fresh process, on whichever ``matcher`` its ``PYTHONPATH`` finds first."""


def solve_with(code: Path, volunteers: int, seed: int, limit: float) -> dict[str, Any]:
    """Solve one generated city with the code at ``code``, in a fresh process (its figures)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    # cwd elsewhere: "" on sys.path would otherwise find the checkout the command runs in.
    out = subprocess.run(
        [sys.executable, "-c", ONE_SOLVE, str(volunteers), str(seed), str(limit)],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Solve each city on both sides, interleaved; print and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="checkout of the older code")
    parser.add_argument("--label", default="", help="what the older code is (e.g. its commit)")
    parser.add_argument("--sizes", default="150,300", help="volunteer counts, comma-separated")
    parser.add_argument("--seeds", default="1,2,3,4,5", help="generator seeds, comma-separated")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    label = (
        args.label
        or subprocess.run(
            ["git", "-C", str(args.before), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    )
    rows: list[list[Any]] = []
    summary: list[list[Any]] = []
    for volunteers in (int(s) for s in args.sizes.split(",")):
        proved: dict[str, list[float]] = {"before": [], "after": []}
        same = 0
        seeds = [int(s) for s in args.seeds.split(",")]
        for i, seed in enumerate(seeds):
            sides = [("before", args.before), ("after", ROOT)]
            if i % 2:
                sides.reverse()  # each side goes first on every other city
            got = {name: solve_with(code, volunteers, seed, args.time_limit) for name, code in sides}
            for name in ("before", "after"):
                f = got[name]
                took = f["proved_s"] if f["proved_s"] is not None else args.time_limit
                proved[name].append(took)
                proof = None if f["proved_s"] is None else round(f["proved_s"], 2)
                seconds = round(f["seconds"], 2)
                rows.append([volunteers, seed, name, f["status"], f["coverage"], f["bound"], seconds, proof])
                print(rows[-1], flush=True)
            same += got["before"]["coverage"] == got["after"]["coverage"]
        before, after = statistics.median(proved["before"]), statistics.median(proved["after"])
        summary.append(
            [
                volunteers,
                len(seeds),
                sum(p < args.time_limit for p in proved["before"]),
                sum(p < args.time_limit for p in proved["after"]),
                round(before, 2),
                round(after, 2),
                round(after / before, 2) if before else None,
                same,
            ]
        )
    tables = [
        Table(
            ["vols", "seed", "code", "status", "coverage", "bound", "seconds", "proved s"],
            rows,
            title=f"each city on the older code ({label}) and on this one, interleaved, limit "
            f"{args.time_limit:g} s",
        ),
        Table(
            [
                "vols",
                "cities",
                "proved before",
                "proved after",
                "median proof s before",
                "median proof s after",
                "after / before",
                "same coverage",
            ],
            summary,
            title="summary (an unproved solve counts as the limit)",
        ),
    ]
    for table in tables:
        print(table.title)
        for row in table.rows:
            print(row)
    path = write_result("before_after", command_line("benchmarks.before_after"), tables)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

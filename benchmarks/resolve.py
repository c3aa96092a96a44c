"""Re-solve benchmark: a day's cancellations at station and city size.

Run ``python -m benchmarks.resolve`` (part of ``make bench``).  For each size it solves a
generated city to get the plan in force, draws a change set (by default 5% of volunteers
withdrawn for the week), and then, in the same run:

* ``resolve``: ``linli resolve`` (kept assignments fixed) — wall time including checking
  the plan in force and applying the change set, status, coverage, and how many needs
  changed;
* ``resolve+K``: the same with ``--allow-moves K``;
* ``fresh``: solving the changed problem from scratch with the original time limit, and
  its churn — how many needs a fresh plan moves relative to the plan in force (same
  definition as ``changed``).

The ratios compare the re-solve with the fresh solve: time and churn.  Every plan is
validated on the changed problem before it is reported.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from fractions import Fraction

from benchmarks.results import Table, command_line, write_result
from matcher.format.changes import apply_changes
from matcher.format.schema import Plan, Problem
from matcher.format.validate import coverage_of, validate_plan
from matcher.model.instance import Instance
from matcher.resolve import resolve, still_valid
from matcher.solve import solve
from matcher.synth.generate import generate_changes, generate_city

SIZES: dict[str, tuple[int, float]] = {"station": (300, 10.0), "city": (4000, 60.0)}
"""Name -> (volunteers, time limit of the original and the fresh solve)."""


@dataclass
class Row:
    """One line of the table."""

    size: str
    method: str
    seconds: float
    status: str
    coverage: Fraction
    bound: Fraction
    changed: int
    moved: int | None = None

    def cells(self) -> list[str | None]:
        """The row's cells, as printed."""
        return [
            self.size,
            self.method,
            f"{self.seconds:.2f}",
            self.status,
            f"{float(self.coverage):.1f}",
            f"{float(self.bound):.1f}",
            str(self.changed),
            None if self.moved is None else str(self.moved),
        ]

    def render(self) -> str:
        """Format as a table row."""
        moved = "-" if self.moved is None else str(self.moved)
        return (
            f"{self.size:<8} {self.method:<11} {self.seconds:8.2f} {self.status:<9} "
            f"{float(self.coverage):10.1f} {float(self.bound):10.1f} {self.changed:>8} {moved:>6}"
        )


COLUMNS = ["size", "method", "wall s", "status", "coverage", "bound", "changed", "moved"]

HEADER = (
    f"{'size':<8} {'method':<11} {'wall s':>8} {'status':<9} {'coverage':>10} {'bound':>10} "
    f"{'changed':>8} {'moved':>6}"
)


def churn(changed: Problem, before: Plan, after: Plan) -> int:
    """Needs of the changed problem whose volunteer or slots differ between two plans."""
    old = {a.need: (a.volunteer, frozenset(a.slots)) for a in before.assignments}
    new = {a.need: (a.volunteer, frozenset(a.slots)) for a in after.assignments}
    return sum(1 for n in changed.needs if old.get(n.id) != new.get(n.id))


def run(size: str, seed: int, withdraw: float, moves: int, workers: int | None) -> tuple[list[Row], str]:
    """Benchmark one size: re-solve, re-solve with moves, fresh solve of the changed problem.

    Returns the rows and a line saying what the size's city and change set were.
    """
    volunteers, limit = SIZES[size]
    problem = generate_city(volunteers, volunteers * 3 // 4, seed=seed)
    in_force = solve(problem, limit, workers=workers).plan
    changes = generate_changes(problem, withdraw=withdraw, seed=seed + 1)
    changed = apply_changes(problem, changes)
    rows = []
    for k in (0, moves):
        t = time.perf_counter()
        result = resolve(problem, in_force, changes, limit, allow_moves=k, workers=workers)
        wall = time.perf_counter() - t
        assert validate_plan(changed, result.plan) == []
        rows.append(
            Row(
                size,
                "resolve" if k == 0 else f"resolve+{k}",
                wall,
                result.status,
                result.coverage,
                result.coverage_bound,
                len(result.plan.changed or []),
                len(result.moved),
            )
        )
    t = time.perf_counter()
    fresh = solve(changed, limit, workers=workers)
    wall = time.perf_counter() - t
    assert validate_plan(changed, fresh.plan) == []
    rows.append(
        Row(
            size,
            "fresh",
            wall,
            fresh.status,
            fresh.coverage,
            fresh.coverage_bound,
            churn(changed, in_force, fresh.plan),
        )
    )
    # What the plan in force still delivers before any refill: its still-valid assignments.
    inst = Instance.from_problem(changed)
    _, kept = still_valid(inst, in_force)
    still = [changed.needs[n].id for n in kept]
    note = (
        f"{size}: {volunteers} volunteers, {len(problem.needs)} needs, "
        f"{len(changes.volunteers_withdrawn)} withdrawn; still-valid assignments alone cover "
        f"{float(coverage_of(changed, still)):.1f}"
    )
    print(f"# {note}", flush=True)
    return rows, note


def main() -> None:
    """Print the re-solve table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="station,city", help="comma-separated: station, city")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--withdraw", type=float, default=0.05, help="fraction of volunteers withdrawn")
    parser.add_argument("--moves", type=int, default=5, help="K of the --allow-moves row")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    rows: list[Row] = []
    notes: list[str] = []
    for size in args.sizes.split(","):
        got, note = run(size.strip(), args.seed, args.withdraw, args.moves, args.workers)
        rows += got
        notes.append(note)
    print(HEADER)
    for row in rows:
        print(row.render())
    print("\nratios against the fresh solve of the changed problem (same run):")
    ratios: list[list[str | None]] = []
    for size in dict.fromkeys(r.size for r in rows):
        kept = next(r for r in rows if r.size == size and r.method == "resolve")
        fresh = next(r for r in rows if r.size == size and r.method == "fresh")
        churn_ratio = kept.changed / max(1, fresh.changed)
        print(
            f"{size:<8} time {kept.seconds / fresh.seconds:6.3f}   churn {kept.changed}/{fresh.changed}"
            f" = {churn_ratio:5.3f}"
            f"   coverage {float(kept.coverage / fresh.coverage):6.4f}"
        )
        ratios.append(
            [
                size,
                f"{kept.seconds / fresh.seconds:.3f}",
                f"{kept.changed}/{fresh.changed} = {churn_ratio:.3f}",
                f"{float(kept.coverage / fresh.coverage):.4f}",
            ]
        )
    tables = [
        Table(
            COLUMNS,
            [r.cells() for r in rows],
            f"seed {args.seed}, {args.withdraw:.0%} of volunteers withdrawn",
        ),
        Table(["size", "time", "churn", "coverage"], ratios, "resolve against fresh (same run)"),
    ]
    write_result("resolve", command_line("benchmarks.resolve"), tables, notes)


if __name__ == "__main__":
    main()
